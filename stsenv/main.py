"""The console script: `serve` and a plain `use` are dispatched before argparse or boto3 are imported.

Errors become one `stsenv:` line on stderr and their exit code (stsenv.errors), never a traceback (the
traceback of a bug only under --debug).
"""

import os
import sys

from stsenv.errors import StsenvError

USE_FLAGS_WITH_VALUE = {"--shell": "shell", "--format": "fmt"}
# The values argparse allows for them (exports.SHELLS, exports.FORMATS; tests/test_fast_path.py keeps them equal).
USE_CHOICES = {"shell": ("bash", "zsh", "fish"), "fmt": ("shell", "json", "dotenv")}
# The prompt hook's `use --refresh=PROFILE`: the name is part of the word, so no name is ever read as a flag.
REFRESH_FLAG = "--refresh="
# Commands run on every AWS call or prompt refresh, whose exit skips the interpreter's teardown (see run()).
FAST_EXIT_COMMANDS = ("serve", "use")


def run():
    """The console script (bin/stsenv): main(), then for `serve` and `use` an exit without the interpreter's
    teardown. Freeing every module and object one by one costs about 1 ms on the warm path (more than a
    warm `serve` does in all) and about 40 ms once boto3 is loaded. The rest of an exit is done here:
    output flushed, atexit callbacks run; it is skipped when a thread still runs or a tracer or profiler
    is watching."""
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:  # e.g. a closed pipe: the usual exit reports it
        sys.exit(code)
    if not _can_skip_teardown():
        sys.exit(code)
    import atexit

    atexit._run_exitfuncs()  # logging's shutdown (imported by boto3), temporary-file finalizers, ...
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _can_skip_teardown():
    import atexit

    command = next(iter(without_debug_flag(sys.argv[1:])[0]), None)
    threading = sys.modules.get("threading")
    return (
        command in FAST_EXIT_COMMANDS
        and hasattr(atexit, "_run_exitfuncs")
        and (threading is None or threading.active_count() == 1)
        and sys.gettrace() is None
        and sys.getprofile() is None
    )


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    argv, debug = without_debug_flag(argv)
    if debug:
        os.environ["STSENV_DEBUG"] = "1"
    try:
        return _dispatch(argv)
    except StsenvError as error:
        return _report(error.lines(), error.exit_code)
    except KeyboardInterrupt:
        return _report("interrupted", 130)
    except BrokenPipeError:
        return 141
    except Exception as error:  # a bug: say so in one line, with the traceback only under --debug
        if os.environ.get("STSENV_DEBUG") == "1":
            import traceback

            from stsenv.oneline import LINE_MAX, oneline

            sys.stderr.writelines(oneline(line, LINE_MAX) + "\n" for line in traceback.format_exc().splitlines())
        return _report(f"internal error ({type(error).__name__}); run with --debug for details and report it", 70)


def without_debug_flag(argv):
    """(argv without --debug, whether it was there): stsenv's --debug goes anywhere among its own words, but
    what follows `--` is another command's (`stsenv exec prod -- terraform plan --debug`), left as it is."""
    end = argv.index("--") if "--" in argv else len(argv)
    own = [word for word in argv[:end] if word != "--debug"]
    return own + argv[end:], len(own) < end


def _dispatch(argv):
    if len(argv) == 2 and argv[0] == "serve" and not argv[1].startswith("-"):
        from stsenv.commands.serve import serve

        return serve(argv[1])
    simple_use = _simple_use(argv)
    if simple_use is not None and "refresh" in simple_use:
        from stsenv.commands.use import refresh

        return refresh(simple_use.pop("refresh"), **simple_use)
    if simple_use is not None:
        from stsenv.commands.use import use

        return use(simple_use.pop("profile"), **simple_use)
    from stsenv.cli import run

    return run(argv)


def _simple_use(argv):
    """`use PROFILE [--shell S] [--format F] [--non-interactive]`, and the prompt hook's
    `use --refresh=PROFILE [--shell S] [--format F]`, without argparse: the options before or after the
    profile, a repeated one's last value winning, as argparse takes them. None for anything else (argparse
    then parses it, with its help and errors); what this takes, argparse takes the same way."""
    if not argv or argv[0] != "use":
        return None
    options = {}
    words = iter(argv[1:])
    for word in words:
        if word == "--non-interactive":
            options["interactive"] = False
        elif word in USE_FLAGS_WITH_VALUE:
            name = USE_FLAGS_WITH_VALUE[word]
            value = next(words, None)
            if value not in USE_CHOICES[name]:
                return None
            options[name] = value
        elif word.startswith(REFRESH_FLAG):
            options["refresh"] = word[len(REFRESH_FLAG) :]
        elif "profile" not in options and (word == "-" or not word.startswith("-")):
            options["profile"] = word
        else:
            return None
    if "refresh" in options:  # the profile is the flag's; the run never asks anyone (argparse says what else is wrong)
        return None if "profile" in options or "interactive" in options else options
    return options if "profile" in options else None


def _report(message, code):
    """`message` (or each of a list of them) as one `stsenv:` line on stderr: whatever it carries, it
    cannot become a second line or a terminal control sequence."""
    from stsenv.oneline import LINE_MAX, oneline

    lines = [message] if isinstance(message, str) else message
    sys.stderr.writelines(f"stsenv: {oneline(line, LINE_MAX)}\n" for line in lines)
    return code

"""`stsenv use PROFILE`: the block of statements that puts a profile's credentials into a shell.

A plain `use PROFILE [--shell S] [--format F] [--non-interactive]` is run by stsenv.main without argparse;
the flags of an ad-hoc role (stsenv.adhoc) and the rest come through register()'s parser.
"""

import os
import sys

from stsenv import exports, history, kinds
from stsenv.broker import Broker, Options
from stsenv.config import AwsConfig
from stsenv.endpoints import user_regions
from stsenv.errors import ConfigError
from stsenv.resolution import region_in_use, resolve


def register(commands):
    from stsenv import adhoc

    parser = commands.add_parser("use", help="print the export block that puts a profile into a shell")
    parser.add_argument("profile", nargs="?", help="profile name, or - for the previous one")
    parser.add_argument("--shell", choices=exports.SHELLS, help="default: $STSENV_SHELL, else $SHELL's name, else bash")
    parser.add_argument("--format", dest="fmt", choices=exports.FORMATS, default="shell")
    parser.add_argument("--clear", action="store_true", help="unset every variable `use` sets")
    parser.add_argument("--non-interactive", dest="interactive", action="store_false", help="never ask for an MFA code (exit 3 instead)")
    parser.add_argument("--token-code", help="the MFA code, when one is needed; - reads it from stdin")
    parser.add_argument(
        "--refresh",
        metavar="PROFILE",
        help="what the prompt hook runs (write --refresh=PROFILE): never asks or waits for a person, gives up after "
        "$STSENV_REFRESH_TIMEOUT seconds (5), and says why in one line",
    )
    adhoc.add_override_arguments(parser)
    adhoc.add_use_arguments(parser)
    parser.set_defaults(func=run)


def run(args):
    from stsenv import adhoc

    if args.clear and args.profile:
        raise ConfigError("use either a profile or --clear")
    if args.refresh is not None:
        if args.profile or args.clear or args.token_code or args.saml_assertion_file or adhoc.wanted(args) or args.region or args.duration_seconds is not None:
            raise ConfigError("--refresh=PROFILE names the profile itself, and takes only --shell and --format beside it")
        return refresh(args.refresh, shell=args.shell, fmt=args.fmt)
    if not args.clear:
        refuse_terminal(args.shell, args.fmt)  # now, before a SAML assertion is read from stdin (use() checks again)
    config = profile = overrides = None
    if adhoc.wanted(args):
        config = AwsConfig()
        profile = adhoc.use_profile(config, args)
    elif args.duration_seconds is not None or args.region is not None:
        overrides = adhoc.Overrides(duration=args.duration_seconds, region=args.region)
    assertion = read_input_file(args.saml_assertion_file, "--saml-assertion-file") if args.saml_assertion_file else None
    return use(
        profile or args.profile,
        shell=args.shell,
        fmt=args.fmt,
        interactive=args.interactive,
        token_code=args.token_code,
        clear=args.clear,
        config=config,
        saml_assertion=assertion,
        overrides=overrides,
    )


def read_input_file(path, flag):
    """The text of a file named on the command line (- for stdin); ConfigError that names the flag."""
    if path == "-":
        return sys.stdin.read()
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as error:
        raise ConfigError(f"{flag} {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{flag} {path}: not text") from None


def default_shell(environ):
    """STSENV_SHELL, else the basename of $SHELL when it is one we speak, else bash."""
    for candidate in (environ.get("STSENV_SHELL"), os.path.basename(environ.get("SHELL") or "")):
        if candidate in exports.SHELLS:
            return candidate
    return "bash"


def refuse_terminal(shell=None, fmt="shell"):
    """ConfigError when stdout is a terminal: credentials printed there change nothing and stay on the screen.

    Called before anything is resolved or fetched (no STS call, no MFA prompt): one isatty(2) call, no import.
    The shell integration, `eval "$(...)"`, a pipe and a file all give stdout another home.
    """
    if not os.isatty(1):
        return
    shell = shell or default_shell(os.environ)
    command = _as_typed(shell)
    if fmt != "shell":
        hint = f"send it to a file or a pipe: {command} > FILE"
    elif shell == "fish":
        hint = f"run `{command} | source`, or add `stsenv init fish | source` to ~/.config/fish/config.fish to make `stsenv use` work in place"
    else:
        hint = f'run `eval "$({command})"`, or add `eval "$(stsenv init {shell})"` to ~/.{shell}rc to make `stsenv use` work in place'
    raise ConfigError("not printing credentials to a terminal, where they would change nothing", hint)


def _as_typed(shell):
    """This command line as the user could type it again (an MFA code given on it left out)."""
    quote = exports.fish_quote if shell == "fish" else exports.posix_quote
    words = []
    hide = False
    for word in sys.argv[1:]:
        if word == "--debug":
            continue
        if hide or word.startswith("--token-code="):
            word = "CODE" if hide else "--token-code=CODE"
        hide = word == "--token-code"
        words.append(word if word and all(c.isalnum() or c in "-_./:=@,+%" for c in word) else quote(word))
    return " ".join(["stsenv", *words])


def refresh(profile, *, shell=None, fmt="shell"):
    """`use --refresh=PROFILE`, the prompt hook's renewal: the block, or one sentence (stsenv.refresh)."""
    from stsenv.refresh import renew

    return renew(profile, lambda options: use(profile, shell=shell, fmt=fmt, options=options))


def use(profile, *, shell=None, fmt="shell", interactive=True, token_code=None, clear=False, config=None, saml_assertion=None, options=None, overrides=None):
    """Print the block for `profile`; `config` may carry profiles made from flags (stsenv.adhoc); `options`
    (broker.Options) replaces those made of `interactive` and `token_code` (stsenv.refresh); `overrides`
    (stsenv.adhoc.Overrides) what --duration-seconds and --region change in a profile."""
    environ = os.environ
    shell = shell or default_shell(environ)
    if not clear:
        refuse_terminal(shell, fmt)
    own_regions = user_regions(environ) if fmt == "shell" else None  # a file or JSON has no region of the user's to give back
    if clear:
        values, unset = exports.clear_environment(environ.get("STSENV_PROFILE"), own_regions)
    else:
        if profile == "-":
            profile = environ.get("STSENV_PREVIOUS_PROFILE")
            if not profile:
                raise ConfigError("no previous profile in this shell", "`stsenv use -` switches back after a second `stsenv use`")
        config = config or AwsConfig(environ)
        if not profile:
            from stsenv import picker

            profile = picker.choose(config, "use", interactive)  # on /dev/tty; exit 2 without one, as before
        source = resolve(config, profile, overrides=overrides)
        if saml_assertion is not None and not any(node.kind is kinds.SAML for node in source.chain()):
            raise ConfigError(f"--saml-assertion-file is for SAML profiles, and {profile!r} is not one ({source.kind.name})", "leave the flag out")
        options = options or Options(interactive, token_code, environ, saml_assertion=saml_assertion)
        credentials = Broker(options).credentials(source)
        region = region_in_use(config, profile, overrides)
        values, unset = exports.environment(credentials, profile, region, environ.get("STSENV_PROFILE"), own_regions)
        history.remember(environ, profile)  # for the picker: most recently used first
    if own_regions is not None:  # a region variable not in the environment is none of stsenv's (and fish's `set -e` of one fails)
        unset = [name for name in unset if name in environ or name not in exports.REGION_NAMES]
    sys.stdout.write(exports.block(values, unset, shell, fmt))
    return 0

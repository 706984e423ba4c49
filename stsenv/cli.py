"""argparse for every command; `stsenv.entry` has already taken `serve` and a plain `use` on the fast path."""

import argparse
from importlib import import_module

from stsenv import __version__, adhoc, render
from stsenv.errors import ConfigError

# One module per command (or pair of commands) under stsenv/commands/, each with register(subparsers).
COMMAND_MODULES = ("configure", "ls", "login", "shell", "lookup", "federate", "doctor")

EPILOG = """exit codes: 0 success, 1 AWS or the network refused or failed, 2 bad usage or configuration,
3 an MFA code was needed and none could be had, 4 waiting for another stsenv ran out of time.
--debug (anywhere on the command line) prints what stsenv does, with secrets redacted."""


class _Parser(argparse.ArgumentParser):
    """Usage errors become stsenv's one-line error with exit code 2."""

    def error(self, message):
        raise ConfigError(message, f"see `{self.prog} --help`")


def build_parser():
    parser = _Parser(prog="stsenv", description="AWS temporary credentials for terminals and SDKs, cached and shared.", epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"stsenv {__version__}")
    parser.add_argument("--debug", action="store_true", help="print what stsenv does, secrets redacted")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    serve = commands.add_parser("serve", help="print credential_process JSON (use in ~/.aws/config)")
    serve.add_argument("profile")
    serve.set_defaults(func=_run_serve)

    use = commands.add_parser("use", help="print the export block that puts a profile into a shell")
    use.add_argument("profile", nargs="?", help="profile name, or - for the previous one")
    use.add_argument("--shell", choices=render.SHELLS, help="default: $STSENV_SHELL, else $SHELL's name, else bash")
    use.add_argument("--format", dest="fmt", choices=render.FORMATS, default="shell")
    use.add_argument("--clear", action="store_true", help="unset every variable `use` sets")
    use.add_argument("--non-interactive", dest="interactive", action="store_false", help="never ask for an MFA code (exit 3 instead)")
    use.add_argument("--token-code", help="the MFA code, when one is needed; - reads it from stdin")
    adhoc.add_use_arguments(use)
    use.set_defaults(func=_run_use)

    for name in COMMAND_MODULES:
        import_module(f"stsenv.commands.{name}").register(commands)
    return parser


def _run_serve(args):
    from stsenv.serve import serve

    return serve(args.profile)


def _run_use(args):
    from stsenv.use import refuse_terminal, use

    if args.clear and args.profile:
        raise ConfigError("use either a profile or --clear")
    if not args.clear:
        refuse_terminal(args.shell, args.fmt)  # now, before a SAML assertion is read from stdin (use() checks again)
    config = profile = None
    if adhoc.wanted(args):
        from stsenv.config import AwsConfig

        config = AwsConfig()
        profile = adhoc.use_profile(config, args)
    assertion = read_input_file(args.saml_assertion_file, "--saml-assertion-file") if args.saml_assertion_file else None
    return use(profile or args.profile, args.shell, args.fmt, args.interactive, args.token_code, args.clear, config, assertion)


def read_input_file(path, flag):
    """The text of a file named on the command line (- for stdin); ConfigError that names the flag."""
    import sys

    if path == "-":
        return sys.stdin.read()
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as error:
        raise ConfigError(f"{flag} {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{flag} {path}: not text") from None


def run(argv):
    args = build_parser().parse_args(argv)
    return args.func(args)

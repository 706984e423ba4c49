"""argparse for every command; stsenv.main has already taken `serve` and a plain `use` on the fast path."""

import argparse
from importlib import import_module

from stsenv import __version__
from stsenv.errors import ConfigError

# The modules of stsenv/commands/, in the order `stsenv --help` lists them; each has register(subparsers).
COMMANDS = (
    "serve",
    "use",
    "configure",
    "ls",
    "login",
    "logout",
    "init",
    "completion",
    "whoami",
    "key_info",
    "decode",
    "web_identity_token",
    "federate",
    "doctor",
    "sso",
    "exec",
    "console",
)

EPILOG = """exit codes: 0 success, 1 AWS or the network refused or failed, 2 bad usage or configuration,
3 an MFA code or an IAM Identity Center sign-in was needed and none could be had, 4 waiting for another
stsenv ran out of time.
--debug (anywhere among stsenv's own words, before any `--`) prints what stsenv does, with secrets redacted."""


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
    for name in COMMANDS:
        import_module(f"stsenv.commands.{name}").register(commands)
    return parser


def run(argv):
    argv, command_line = split_command_line(argv)
    args = build_parser().parse_args(argv)
    if command_line is not None:
        args.command_line = command_line
    return args.func(args)


def split_command_line(argv):
    """(stsenv's words, the command's words) for `exec ... -- COMMAND ARGS`: everything after the first `--`
    is the command's, whatever it looks like (argparse would read its flags as stsenv's, and Python versions
    differ in how). None for any other command line."""
    if argv[:1] != ["exec"] or "--" not in argv:
        return argv, None
    at = argv.index("--")
    return argv[:at], argv[at + 1 :]

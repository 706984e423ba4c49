"""`stsenv completion SHELL`: print the completion script of a shell (for a completions directory)."""

import sys

from stsenv import exports, shellfiles


def register(commands):
    parser = commands.add_parser("completion", help="print the completion script for a shell")
    parser.add_argument("shell", choices=exports.SHELLS)
    parser.set_defaults(func=run)


def run(args):
    sys.stdout.write(shellfiles.completion(args.shell))
    return 0

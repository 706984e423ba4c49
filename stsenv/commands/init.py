"""`stsenv init SHELL [--prompt]`: print the shell integration, with its completions, for the rc file's eval."""

import sys

from stsenv import exports, shellfiles


def register(commands):
    parser = commands.add_parser("init", help="print the shell integration: eval \"$(stsenv init bash)\"")
    parser.add_argument("shell", choices=exports.SHELLS)
    parser.add_argument("--prompt", action="store_true", help="also put the stsenv segment in front of the prompt")
    parser.set_defaults(func=run)


def run(args):
    sys.stdout.write(shellfiles.integration(args.shell) + "\n" + shellfiles.completion_for_init(args.shell))
    if args.prompt:
        sys.stdout.write("\nstsenv_enable_prompt\n")
    return 0

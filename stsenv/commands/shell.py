"""`stsenv init SHELL` prints the shell integration; `stsenv completion SHELL` prints completions."""

import os
import sys

from stsenv import render
from stsenv.errors import ConfigError

COMPLETION_FILES = {"bash": "stsenv.bash", "zsh": "_stsenv", "fish": "stsenv.fish"}


def register(commands):
    init = commands.add_parser("init", help="print the shell integration: eval \"$(stsenv init bash)\"")
    init.add_argument("shell", choices=render.SHELLS)
    init.add_argument("--prompt", action="store_true", help="also put the stsenv segment in front of the prompt")
    init.set_defaults(func=run_init)
    completion = commands.add_parser("completion", help="print the completion script for a shell")
    completion.add_argument("shell", choices=render.SHELLS)
    completion.set_defaults(func=run_completion)


def data_file(folder, name):
    """A file of shell/ or completions/: inside the installed package, or at the top of a source checkout."""
    here = os.path.dirname(os.path.abspath(__file__))
    package = os.path.dirname(here)
    for candidate in (os.path.join(package, folder, name), os.path.join(os.path.dirname(package), folder, name)):
        if os.path.isfile(candidate):
            with open(candidate, encoding="utf-8") as handle:
                return handle.read()
    raise ConfigError(f"{folder}/{name} is missing from this installation", "reinstall stsenv")


def run_init(args):
    script = data_file("shell", f"stsenv.{args.shell}")
    sys.stdout.write(script + "\n" + completion_for_init(args.shell))
    if args.prompt:
        sys.stdout.write("\nstsenv_enable_prompt\n")
    return 0


def completion_for_init(shell):
    """The completion file as `init` includes it. A zsh `#compdef` file is the body of a function that
    compinit autoloads: here it becomes that function, registered with compdef when compinit has run."""
    text = data_file("completions", COMPLETION_FILES[shell])
    if shell != "zsh":
        return text
    return (
        "_stsenv() {\n" + text.rstrip("\n") + "\n}\n"
        "if (( ${+functions[compdef]} )); then\n    compdef _stsenv stsenv\nfi\n"
    )


def run_completion(args):
    sys.stdout.write(data_file("completions", COMPLETION_FILES[args.shell]))
    return 0

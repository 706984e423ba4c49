"""The shell integration (shell/) and completion files (completions/) stsenv ships, as `init` and
`completion` print them."""

import os

from stsenv.errors import ConfigError

COMPLETION_FILES = {"bash": "stsenv.bash", "zsh": "_stsenv", "fish": "stsenv.fish"}


def data_file(folder, name):
    """A file of shell/ or completions/: inside the installed package, or at the top of a source checkout."""
    package = os.path.dirname(os.path.abspath(__file__))
    for candidate in (os.path.join(package, folder, name), os.path.join(os.path.dirname(package), folder, name)):
        if os.path.isfile(candidate):
            with open(candidate, encoding="utf-8") as handle:
                return handle.read()
    raise ConfigError(f"{folder}/{name} is missing from this installation", "reinstall stsenv")


def integration(shell):
    """shell/stsenv.SHELL: the integration `stsenv init SHELL` prints."""
    return data_file("shell", f"stsenv.{shell}")


def completion(shell):
    """The completion file of `shell`, as `stsenv completion SHELL` prints it."""
    return data_file("completions", COMPLETION_FILES[shell])


def completion_for_init(shell):
    """The completion file as `init` includes it. A zsh `#compdef` file is the body of a function that
    compinit autoloads: here it becomes that function, registered with compdef when compinit has run."""
    text = completion(shell)
    if shell != "zsh":
        return text
    return (
        "_stsenv() {\n" + text.rstrip("\n") + "\n}\n"
        "if (( ${+functions[compdef]} )); then\n    compdef _stsenv stsenv\nfi\n"
    )

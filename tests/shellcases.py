"""Expectations and helpers shared by the shell-integration tests (test_shell_*.py) and test_use.py."""

from __future__ import annotations

import re
import socket
import time

from shellkit import export

IDENTITY = "Admin@123456789012"
CONTRACT = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SESSION_EXPIRES",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_SESSION_EXPIRATION",
    "STSENV_PROFILE",
    "STSENV_IDENTITY",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "STSENV_REGION",  # the region `use` set, beside the user's own values (none here: STSENV_USER_* stay unset)
)
# The segment right after `stsenv use prod`: an hour-long session, drawn within the same hour.
FRESH_PROD = re.compile(rf"^\[prod {IDENTITY} (59m|1h00m)\] $")


def refreshes(shell):
    """The runs of the program that were refreshes by the hook."""
    return [line for line in shell.stsenv_runs() if line.startswith("use --refresh=")]


def expiring(kind, seconds=100, **variables):
    """The statement that sets `variables` and makes the shell's credentials expire `seconds` from now:
    by default inside the hook's refresh window (600 s), so the next prompt refreshes."""
    return export(kind, **variables, AWS_SESSION_EXPIRES=int(time.time()) + seconds)


def closed_port_url():
    """An http URL on 127.0.0.1 where nothing listens: a refresh there fails at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def use_prod(shell):
    output = shell.run("stsenv use prod")
    assert shell.status == 0, output
    return output


# -- the behaviours ----------------------------------------------------------------------------------------


def completion_flags(kind, text):
    """{command: the flags this completion file offers after it}, read from the file's own structure."""
    flags = {}
    if kind == "bash":  # the arms of _stsenv_command_flags: `use) __stsenv_flags='--shell ...' ;;`
        for names, words in re.findall(r"^\s*([\w| -]+)\) __stsenv_flags='([^']*)'", text, re.M):
            for name in names.split("|"):
                flags.setdefault(name.strip(), set()).update(re.findall(r"--[\w-]+", words))
    elif kind == "zsh":  # the arms of `case $words[1]`, with the shared specs ($profile, $output...) put in
        shared = dict(re.findall(r"^local (\w+)='([^']*)'", text, re.M))
        body = text[text.index("case $words[1] in"):]
        for name, arm in re.findall(r"^    ([\w-]+)\)\n(.*?)\n        ;;", body, re.M | re.S):
            arm = re.sub(r"\$(\w+)", lambda m: shared.get(m.group(1), m.group(0)), arm)
            flags[name] = set(re.findall(r"--[\w-]+", arm))
    else:  # `complete -c stsenv -n "__fish_seen_subcommand_from use login" -l token-code ...`
        for names, flag in re.findall(r'__fish_seen_subcommand_from ([\w -]+)" (?:-s \w )?-l ([\w-]+)', text):
            for name in names.split():
                flags.setdefault(name, set()).add("--" + flag)
    return flags


# How a user installs the completion file alone (without `stsenv init`), per shell.
STANDALONE_COMPLETION = {
    "bash": 'source <(stsenv completion bash)\n',
    "zsh": 'mkdir -p ~/.zfunc && stsenv completion zsh > ~/.zfunc/_stsenv\nfpath=(~/.zfunc $fpath)\ncompinit -u -D\n',
    "fish": "stsenv completion fish | source\n",
}



"""Drive a real interactive bash, zsh or fish with pexpect, the way a person at a terminal does.

Every command is typed after a sentinel command (`printf '@S7@\\n'`), so its output is what lies between
the sentinel's output and the next prompt: echoes, redraws and prompts repainted by the shell never
confuse two commands. Variables are read back through a file written by the shell's own builtins, and a
PATH shim logs every run of the `stsenv` program, so tests count refreshes instead of guessing them.
"""

from __future__ import annotations

import os
import re
import stat
import sys

import pexpect

BIN = os.path.dirname(sys.executable)
REAL_STSENV = os.path.join(BIN, "stsenv")
# The user's own prompt in every test shell: a marker no typed command contains, and the last exit status.
PROMPT_PATTERN = re.compile(r"@P@(\d+)@ ")
ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][A-Za-z0-9]|[=>78cDEHMNOZ])")
TIMEOUT = 60

# The rc file each test shell sources first: the marker prompt, and for zsh the completion system, which
# (as in a user's ~/.zshrc) is loaded before stsenv's init registers its completion.
RC = {
    "bash": "PS1='@P@$?@ '\n",
    "zsh": "PS1='@P@%?@ '\nunsetopt prompt_sp\nautoload -Uz compinit && compinit -u -D\n",
    "fish": "function fish_prompt; printf '@P@%s@ ' $status; end\n",
}
INIT = {
    "bash": 'eval "$(stsenv init bash{flags})"\n',
    "zsh": 'eval "$(stsenv init zsh{flags})"\n',
    "fish": "stsenv init fish{flags} | source\n",
}
# Each shell starts with no configuration of its own; the test's rc file is then sourced like a typed command.
ARGV = {
    "bash": ["bash", "--norc", "--noprofile", "-i"],
    "zsh": ["zsh", "-f", "-i"],
    "fish": ["fish", "--no-config", "-i"],
}
SOURCE = {"bash": ".", "zsh": ".", "fish": "source"}


def strip(text):
    """Terminal output as the lines a person sees: no escape sequences, and on each line only what follows
    its last carriage return (fish and zsh go back to the start of a line to draw the prompt over a mark)."""
    lines = ANSI.sub("", text).replace("\r\n", "\n").split("\n")
    return "\n".join(line.rsplit("\r", 1)[-1] for line in lines)


def install_shim(home):
    """A directory for the front of PATH whose `stsenv` logs each run (its arguments, a tab, and
    $STSENV_SHELL_INTEGRATION) and then runs the real program. Returns (directory, log file)."""
    shims = home.root / "shims"
    shims.mkdir(exist_ok=True)
    log = home.root / "stsenv-runs.log"
    shim = shims / "stsenv"
    shim.write_text(
        f'#!/bin/sh\nprintf \'%s\\t%s\\n\' "$*" "${{STSENV_SHELL_INTEGRATION-}}" >> {log}\nexec {REAL_STSENV} "$@"\n'
    )
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return shims, log


class Shell:
    """One interactive shell in a pseudo-terminal, in the test's HOME, with stsenv's integration loaded."""

    def __init__(self, kind, home, *, rc_before="", rc_after="", init=True, init_flags=""):
        """Start `kind` and source an rc file of `rc_before`, the init line (with `init_flags`, unless
        init=False) and `rc_after`, after the marker prompt of RC."""
        self.kind = kind
        self.home = home
        self.count = 0
        self.shims, self.runs_log = install_shim(home)
        self.scratch = home.root / f"{kind}-vars.out"
        rc = home.path / f".stsenv-test-{kind}rc"
        init_line = self.init_line(kind, init_flags) if init else ""
        rc.write_text(RC[kind] + rc_before + init_line + rc_after)
        environment = {**home.env, "TERM": "xterm", "PATH": f"{self.shims}:{home.env['PATH']}"}
        argv = ARGV[kind]
        self.child = pexpect.spawn(
            argv[0],
            argv[1:],
            env=environment,
            cwd=str(home.path),
            encoding="utf-8",
            codec_errors="replace",
            timeout=TIMEOUT,
            dimensions=(50, 400),
        )
        self.transcript = []
        self.run(f"{SOURCE[kind]} {rc}")

    @staticmethod
    def init_line(kind, flags=""):
        """The line of the rc file that loads stsenv's integration."""
        return INIT[kind].format(flags=flags)

    # -- typing --------------------------------------------------------------------------------------

    def printf(self):
        """printf as the builtin, whatever the user's aliases or functions are called."""
        return "builtin printf" if self.kind == "fish" else "\\builtin printf"

    def sentinel(self):
        self.count += 1
        return self.count, f"{self.printf()} '@S%s@\\n' {self.count}"

    def run(self, command, timeout=TIMEOUT):
        """Type `command` and wait for the prompt after it; its output (and whatever the hook printed before
        the prompt), as text.

        Then self.prompt is what the prompt's line shows before the user's marker (the stsenv segment, when
        the prompt has one) and self.status the exit status the prompt shows.
        """
        number, sentinel = self.sentinel()
        self.child.sendline(f"{sentinel}; {command}" if command else sentinel)
        self.child.expect_exact(f"@S{number}@", timeout=timeout)
        self.child.expect(PROMPT_PATTERN, timeout=timeout)
        self.status = int(self.child.match.group(1))
        raw = strip(self.child.before)
        self.transcript.append((command, raw))
        lines = raw.split("\n")
        self.prompt = lines[-1]
        output = "\n".join(lines[1:-1]) if len(lines) > 1 else ""
        return output

    def vars(self, *names):
        """{name: value, or None when unset}, read by the shell's builtins into a file."""
        if self.kind == "fish":
            parts = [f"if set -q {n}; {self.printf()} '%s=%s\\0' {n} \"${n}\"; end" for n in names]
            command = "begin; " + "; ".join(parts) + f"; end > {self.scratch}"
        else:
            parts = [f"if [[ -n ${{{n}+x}} ]]; then {self.printf()} '%s=%s\\0' {n} \"${{{n}}}\"; fi" for n in names]
            command = "{ " + "; ".join(parts) + f"; }} > {self.scratch}"
        self.run(command)
        found = dict(item.split("=", 1) for item in self.scratch.read_text().split("\0") if item)
        return {name: found.get(name) for name in names}

    def var(self, name):
        return self.vars(name)[name]

    def reaped_children_faults(self):
        """The minor page faults of every child process the shell has started and reaped (cminflt in
        /proc/PID/stat). Any process, even a fork that execs nothing, faults at least once, while threads
        (fish starts some for highlighting) count elsewhere: the number stays put only while the shell
        starts no process."""
        with open(f"/proc/{self.child.pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return int(fields[8])  # field 11 of the line: fields[0] here is field 3, the state

    def stsenv_runs(self, integration=False):
        """The arguments of every run of the stsenv program so far, one string each; with integration=True,
        (arguments, the STSENV_SHELL_INTEGRATION it ran with) pairs."""
        lines = self.runs_log.read_text().splitlines() if self.runs_log.exists() else []
        pairs = [tuple(line.split("\t", 1)) for line in lines]
        return pairs if integration else [arguments for arguments, _ in pairs]

    def complete(self, typed, expect, timeout=TIMEOUT):
        """Type `typed` and press TAB until `expect` shows on the screen (bash inserts the common prefix on
        the first TAB and lists the candidates on a later one), then throw the line away. Returns the
        screen text up to `expect`."""
        self.child.send(typed)
        for _ in range(3):
            self.child.send("\t")
            if self.child.expect_exact([expect, pexpect.TIMEOUT], timeout=2) == 0:
                break
        else:
            self.child.send("\t")
            self.child.expect_exact(expect, timeout=timeout)
        seen = strip(self.child.before) + expect
        # Throw the line away with Ctrl-U, a key each shell handles in turn after the completion (Ctrl-C is a
        # signal, and fish may take it in the middle of drawing its completion pager).
        self.child.sendcontrol("u")
        self.run("true")
        return seen

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        if self.child.isalive():
            self.child.sendline("exit")
            try:
                self.child.expect(pexpect.EOF, timeout=10)
            except pexpect.TIMEOUT:
                pass
        self.child.close(force=True)


# -- shell syntax for what tests type --------------------------------------------------------------------


def quote(kind, value):
    if kind == "fish":
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return "'" + value.replace("'", "'\\''") + "'"


def export(kind, **values):
    """A command that exports each NAME=value."""
    if kind == "fish":
        return "; ".join(f"set -gx {name} {quote(kind, str(value))}" for name, value in values.items())
    return "export " + " ".join(f"{name}={quote(kind, str(value))}" for name, value in values.items())


def unset(kind, *names):
    return ("set -e " if kind == "fish" else "unset ") + " ".join(names)


def set_path(kind, *directories):
    if kind == "fish":
        return "set -gx PATH " + " ".join(quote(kind, d) for d in directories)
    return "PATH=" + quote(kind, ":".join(directories))

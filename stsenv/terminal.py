"""Talking to the person at the terminal, even when stdin and stdout are pipes (as under credential_process).

SDKs capture a credential_process's stdout and stderr, so messages and questions go to /dev/tty when
there is one, and to stderr otherwise.
"""

import os
import sys

from stsenv.oneline import LINE_MAX, oneline


def _open_tty(mode):
    try:
        return open("/dev/tty", mode, encoding="utf-8")
    except OSError:
        return None


def has_tty():
    """Whether there is a controlling terminal to ask a person on."""
    handle = _open_tty("r")
    if handle is None:
        return False
    handle.close()
    return True


def tell(message):
    """One line for the person: on the terminal if there is one, else stderr. Secrets are scrubbed, and
    whatever `message` carries stays one printable line (stsenv.oneline)."""
    line = oneline(message, LINE_MAX) + "\n"
    handle = _open_tty("w")
    if handle is None:
        sys.stderr.write(line)
        sys.stderr.flush()
        return
    with handle:
        handle.write(line)


def ask(question, secret=False):
    """Ask the person at the terminal; None when there is no terminal. The answer is not echoed if secret."""
    if not has_tty():
        return None
    if secret:
        import getpass

        try:
            return getpass.getpass(question)  # getpass opens /dev/tty itself
        except (EOFError, getpass.GetPassWarning):
            return None
    with open("/dev/tty", "w", encoding="utf-8") as screen, open("/dev/tty", encoding="utf-8") as keyboard:
        screen.write(question)
        screen.flush()
        answer = keyboard.readline()
    return answer.rstrip("\n") if answer else None


def debug_enabled():
    return os.environ.get("STSENV_DEBUG") == "1"


def debug(message):
    """A --debug line on stderr, secrets scrubbed, one printable line."""
    if debug_enabled():
        sys.stderr.write("stsenv[debug]: " + oneline(message, LINE_MAX) + "\n")

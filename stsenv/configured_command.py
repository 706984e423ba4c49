"""Running a command the config names (a source profile's credential_process, mfa_process, a TOTP secret
or SAML assertion process): split like a shell but run without one, as botocore runs credential_process.

Its stdout is what it hands over, a secret: never part of a message. Its stderr is read, not passed on
(only its last STDERR_KEPT bytes are kept): when the command fails, the message ends with the last line it
wrote there, made one safe line; when it succeeds, that text is dropped, as botocore drops a
credential_process's stderr (--debug shows its last lines). A command that talks to the person (a
prompt, "touch your key") must write to /dev/tty.
"""

import os
import selectors
import shlex
import subprocess
import time

from stsenv import redact, terminal
from stsenv.errors import AwsError, ConfigError
from stsenv.oneline import oneline

STDOUT_MAX = 1 << 20  # credential JSON, a code, a TOTP secret, a SAML assertion (AWS takes 100,000 characters)
STDERR_KEPT = 8192
DEBUG_LINES = 5


class _TooMuch(Exception):
    pass


def run_configured(command, setting, timeout, unrunnable=ConfigError, failed=AwsError, stdin=subprocess.DEVNULL):
    """The stdout of `command`, registered as a secret. `setting` names it in messages; a command that
    cannot start raises `unrunnable`, one that times out, prints too much or fails raises `failed`."""
    shown = f"{setting} `{oneline(command)}`"
    try:
        process = subprocess.Popen(shlex.split(command), stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except (OSError, ValueError) as error:
        raise unrunnable(f"cannot run {shown}: {oneline(getattr(error, 'strerror', None) or error)}") from None
    stdout, stderr = bytearray(), bytearray()
    with process:
        try:
            _read(process, timeout, stdout, stderr)
        except subprocess.TimeoutExpired:
            process.kill()
            raise failed(f"{shown} did not finish within {timeout}s{_last_line(stderr)}") from None
        except _TooMuch:
            process.kill()
            raise failed(f"{shown} printed more than {STDOUT_MAX} bytes") from None
        except BaseException:  # an interrupt, or the deadline of `use --refresh`: `with` would wait for the command
            process.kill()
            raise
    output = stdout.decode("utf-8", "replace")
    redact.remember(output.strip())
    if process.returncode != 0:
        raise failed(f"{shown} exited with status {process.returncode}{_last_line(stderr)}")
    for line in _lines(stderr)[-DEBUG_LINES:]:
        terminal.debug(f"{setting} wrote on stderr: {line}")
    return output


def _read(process, timeout, stdout, stderr):
    """Fill `stdout` and `stderr` (its last STDERR_KEPT bytes) until both pipes close and the command exits."""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ, stdout)
        selector.register(process.stderr, selectors.EVENT_READ, stderr)
        while selector.get_map():
            ready = selector.select(max(0, deadline - time.monotonic()))
            if not ready and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(process.args, timeout)
            for key, _ in ready:
                chunk = os.read(key.fd, 65536)
                if chunk:
                    key.data.extend(chunk)
                else:
                    selector.unregister(key.fileobj)
            if len(stdout) > STDOUT_MAX:
                raise _TooMuch()
            del stderr[:-STDERR_KEPT]
    process.wait(max(0, deadline - time.monotonic()))


def _lines(stderr):
    """Its lines, as ended by newlines (a line separator or form feed inside one is escaped, not a break)."""
    return [line.strip() for line in stderr.decode("utf-8", "replace").split("\n") if line.strip()]


def _last_line(stderr):
    """`: <the last non-empty line of stderr>`, one safe line; empty when it wrote nothing."""
    lines = _lines(stderr)
    return f": {oneline(lines[-1])}" if lines else ""

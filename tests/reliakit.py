"""Helpers for the reliability suite (tests/test_reliability_*.py): runs without a terminal, processes paused
at a named point (tests/pausepoints/sitecustomize.py) and then killed, and cache entries edited the way a crash or an
attacker would leave them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from stsenv.cache import CredentialCache
from stsenv.config import AwsConfig
from stsenv.credentials import iso_utc
from stsenv.resolution import resolve


# Every run() of the suite, for test_reliability_secrets.py's last test: (argv, stdout, stderr, secrets
# the test's HOME held then).
RUNS = []


def run(home, *args, env=None, timeout=120):
    """`stsenv ARGS` with no controlling terminal and stdin closed, so every message it has for a person
    goes to stderr, where the test reads it (as under an SDK's credential_process)."""
    result = subprocess.run(
        ["stsenv", *args],
        capture_output=True,
        text=True,
        env={**home.env, **(env or {})},
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    RUNS.append((args, result.stdout, result.stderr, _long_lived_secrets(home)))
    return result


def _long_lived_secrets(home):
    try:
        text = home.credentials.read_text(errors="replace")
    except OSError:
        return set()
    return {line.split("=", 1)[1].strip() for line in text.splitlines() if line.strip().lower().startswith(("aws_secret_access_key", "aws_session_token")) and "=" in line}


def start(home, *args, env=None):
    return subprocess.Popen(
        ["stsenv", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**home.env, **(env or {})},
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


def served(result):
    """The credential_process JSON of a successful `serve`."""
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def one_line(result, code):
    """The single `stsenv:` line of a run that failed with `code`; nothing on stdout, no traceback."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("stsenv: "), result.stderr
    return lines[0]


# On the PYTHONPATH of a paused process: its sitecustomize.py wraps stsenv's functions at the pause points.
PAUSE_POINTS = str(Path(__file__).parent / "pausepoints")


class Paused:
    """`stsenv ARGS` run with STSENV_TEST_PAUSE_AT=point (tests/pausepoints/sitecustomize.py), returned once
    it says it is paused there."""

    def __init__(self, home, point, *args, env=None, timeout=60):
        self.point = point
        self.process = subprocess.Popen(
            ["stsenv", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**home.env, **(env or {}), "STSENV_TEST_PAUSE_AT": point, "PYTHONPATH": PAUSE_POINTS},
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.pid = self.process.pid
        seen = b""
        deadline = time.monotonic() + timeout
        fd = self.process.stderr.fileno()
        while f"paused at {point}".encode() not in seen:
            assert time.monotonic() < deadline, f"never paused at {point}: {seen!r}"
            chunk = os.read(fd, 4096)
            if not chunk:
                self.process.wait()
                raise AssertionError(f"exited {self.process.returncode} before pausing at {point}: {seen!r}")
            seen += chunk
        self.stderr_seen = seen.decode()

    def kill(self):
        os.kill(self.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process.stdout.close()
        self.process.stderr.close()


def source_of(home, profile="prod"):
    return resolve(AwsConfig(home.env), profile)


def entry_path(home, profile="prod"):
    return Path(CredentialCache(str(home.cache)).path(source_of(home, profile)))


def lock_path(home, profile="prod"):
    return entry_path(home, profile).with_suffix(".lock")


def replace_entry(path, entry, mode=0o600):
    """Write `entry` (a dict, or text) over `path` atomically, as stsenv itself would."""
    text = entry if isinstance(entry, str) else json.dumps(entry)
    fd, temporary = tempfile.mkstemp(dir=str(Path(path).parent), prefix=".test-")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(temporary, mode)
    os.replace(temporary, path)


def set_remaining(path, seconds):
    """Make the entry at `path` expire `seconds` from now (its credentials stay the ones STS issued)."""
    entry = json.loads(Path(path).read_text())
    entry["Expires"] = int(time.time() + seconds)
    entry["Expiration"] = iso_utc(entry["Expires"])
    replace_entry(path, entry)
    return entry


def files_under(root):
    for directory, _, names in os.walk(root):
        for name in names:
            yield Path(directory) / name


def dead_pid():
    """The pid of a process that has exited."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid

"""The per-key lock that makes a refresh single-flight across processes.

The lock itself is filelock's (flock on POSIX: the kernel drops it when its holder dies, so a stale lock
file never blocks anyone). Beside it, the holder writes `<key>.holder` saying who it is and what it is
doing, so that a waiter can tell its user which process it waits for and why, and wait longer while that
process is waiting for a person to type an MFA code.
"""

import json
import os
import time

from stsenv.errors import LockTimeout

# Locks this process holds: while it waits behind someone typing an MFA code, its own waiters must
# know that too, or they would give up after the plain timeout.
_HELD = []
POLL_SECONDS = 0.005  # waiters poll often: a refresh takes one STS round trip, and they should follow at once
SAY_AFTER_SECONDS = 1.0  # a plain refresh is usually over before a waiter would need to say anything


class KeyLock:
    """`with KeyLock(base, purpose, tell, timeout):` holds `<base>.lock`, or raises LockTimeout.

    `timeout` is (plain, mfa): how long to wait for a holder that refreshes, and for one that asks a
    person for an MFA code.
    """

    def __init__(self, base, purpose, tell, timeout):
        from filelock import FileLock

        self._lock = FileLock(base + ".lock", mode=0o600)
        self._holder_path = base + ".holder"
        self._purpose = purpose
        self._tell = tell
        self._plain_timeout, self._mfa_timeout = timeout

    def __enter__(self):
        from filelock import Timeout

        started = time.monotonic()
        said = None
        behind_a_person = False
        while True:
            try:
                self._lock.acquire(timeout=0.25, poll_interval=POLL_SECONDS)
                break
            except Timeout:
                pass
            holder = self._read_holder()
            waited = time.monotonic() - started
            asking = holder.get("asking_for_mfa", False)
            if asking != behind_a_person:
                behind_a_person = asking
                for held in _HELD:
                    held.update(asking_for_mfa=asking)
            limit = self._mfa_timeout if asking else self._plain_timeout
            if waited >= limit:
                raise LockTimeout(
                    f"gave up after {waited:.0f}s waiting for {_describe(holder)}",
                    "set STSENV_LOCK_TIMEOUT to wait longer, or end that process",
                )
            message = f"stsenv: waiting for {_describe(holder)}"
            if message != said and (asking or waited >= SAY_AFTER_SECONDS):
                self._tell(message)
                said = message
        if behind_a_person:
            for held in _HELD:
                held.update(asking_for_mfa=False)
        self.update(asking_for_mfa=False)
        _HELD.append(self)
        return self

    def update(self, asking_for_mfa):
        """Tell waiters what the holder is doing now (atomic replace of the holder file)."""
        holder = {"pid": os.getpid(), "purpose": self._purpose, "asking_for_mfa": asking_for_mfa, "since": time.time()}
        temporary = f"{self._holder_path}.{os.getpid()}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(holder, handle)
        os.replace(temporary, self._holder_path)

    def __exit__(self, *exc_info):
        _HELD.remove(self)
        try:
            os.unlink(self._holder_path)
        except FileNotFoundError:
            pass
        self._lock.release()

    def _read_holder(self):
        try:
            with open(self._holder_path, encoding="utf-8") as handle:
                holder = json.load(handle)
            return holder if isinstance(holder, dict) else {}
        except (OSError, ValueError):
            return {}


def _describe(holder):
    pid = holder.get("pid")
    purpose = holder.get("purpose") or "a refresh"
    if holder.get("asking_for_mfa"):
        purpose = f"{purpose}, asking for an MFA code"
    return f"another stsenv (pid {pid}) {purpose}" if pid else f"another stsenv: {purpose}"

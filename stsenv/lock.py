"""The per-key lock that makes a refresh single-flight across processes.

The lock itself is flock(2) on `<key>.lock`: the kernel drops it when its holder dies, so a stale lock file
never blocks anyone. (filelock does the same on POSIX, but importing it costs about 30 ms, paid by every
waiting process of a cold start; stsenv is POSIX-only anyway: /dev/tty, the shells.) Beside it, the holder writes `<key>.holder`
saying who it is and what it is doing, so that a waiter can tell its user which process it waits for and
why, and wait longer while that process is waiting for a person to type an MFA code.
"""

import os
import time

from stsenv import jsonfast
from stsenv.errors import LockTimeout, MfaAskedElsewhere

# Locks this process holds: while it waits behind someone typing an MFA code, its own waiters must
# know that too, or they would give up after the plain timeout.
_HELD = []
POLL_SECONDS = 0.005  # waiters poll often: a refresh takes one STS round trip, and they should follow at once
SAY_AFTER_SECONDS = 1.0  # a plain refresh is usually over before a waiter would need to say anything


class KeyLock:
    """`with KeyLock(base, purpose, tell, timeout):` holds `<base>.lock`, or raises LockTimeout.

    `timeout` is (plain, mfa): how long to wait for a holder that refreshes, and for one that asks a
    person for an MFA code (None: wait for no person, MfaAskedElsewhere at once). `answered`, if given, is
    asked between attempts for what the holder has made meanwhile: once it returns something, the waiting
    ends without the lock, with that in `answer`.
    """

    def __init__(self, base, purpose, tell, timeout, answered=None):
        self._lock = _Flock(base + ".lock")
        self._answered = answered
        self._held = False
        self.answer = None
        self._holder_path = base + ".holder"
        self._purpose = purpose
        self._tell = tell
        self._plain_timeout, self._mfa_timeout = timeout

    def __enter__(self):
        started = time.monotonic()
        said = None
        behind_a_person = False
        while True:
            try:
                self._held = self._lock.acquire(timeout=0.25, poll_interval=POLL_SECONDS, stop=self._answered_meanwhile)
                break
            except _Busy:
                pass
            except OSError as error:  # a symlink or a directory in the lock file's place
                from stsenv.errors import ConfigError

                raise ConfigError(
                    f"cannot lock {self._lock.lock_file}: {error.strerror or error}", "remove that file; stsenv makes a new one"
                ) from None
            holder = self._read_holder()
            waited = time.monotonic() - started
            asking = holder.get("asking_for_mfa", False)
            if asking and self._mfa_timeout is None:
                pid = holder.get("pid")
                raise MfaAskedElsewhere("another terminal is asking for the MFA code" + (f" (stsenv pid {pid})" if pid else ""))
            if asking != behind_a_person:
                behind_a_person = asking
                tell_waiters(asking_for_mfa=asking)
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
            tell_waiters(asking_for_mfa=False)
        if not self._held:  # answered while waiting: nothing to hold
            return self
        self.update(asking_for_mfa=False)
        _HELD.append(self)
        return self

    def update(self, asking_for_mfa):
        """Tell waiters what the holder is doing now (atomic replace of the holder file). Best effort: on a
        full disk waiters only say less about whom they wait for, and the temporary file is removed."""
        holder = {"pid": os.getpid(), "purpose": self._purpose, "asking_for_mfa": asking_for_mfa, "since": time.time()}
        temporary = f"{self._holder_path}.{os.getpid()}"
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(jsonfast.dumps_flat(holder))
            os.replace(temporary, self._holder_path)
        except OSError:
            _remove(temporary)
        except BaseException:  # an interrupt, or the deadline of `use --refresh`: no file left behind
            _remove(temporary)
            raise

    def _answered_meanwhile(self):
        if self._answered is not None:
            self.answer = self._answered()
        return self.answer is not None

    def __exit__(self, *exc_info):
        if not self._held:
            return
        _HELD.remove(self)
        try:
            os.unlink(self._holder_path)
        except FileNotFoundError:
            pass
        self._lock.release()

    def _read_holder(self):
        try:  # never a symlink, never wait on a FIFO, never trust what is in it beyond a flat dict
            fd = os.open(self._holder_path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
            with os.fdopen(fd, encoding="utf-8") as handle:
                holder = jsonfast.loads(handle.read(4096))
            return holder if isinstance(holder, dict) else {}
        except (OSError, ValueError, RecursionError):
            return {}


def _remove(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def tell_waiters(asking_for_mfa):
    """Mark every lock this process holds: waiting for a person (or not). A process asking for an MFA code
    holds the lock of the role it refreshes too, and that role's waiters must wait as long."""
    for held in _HELD:
        held.update(asking_for_mfa)


def _describe(holder):
    pid = holder.get("pid")
    purpose = holder.get("purpose") or "a refresh"
    if holder.get("asking_for_mfa"):
        purpose = f"{purpose}, asking for an MFA code"
    return f"another stsenv (pid {pid}) {purpose}" if pid else f"another stsenv: {purpose}"


class _Busy(Exception):
    """Another process still held the lock when one acquire() gave up."""


class _Flock:
    """flock(2) on the lock file, re-opened when the file was replaced while we opened it."""

    def __init__(self, path):
        self.lock_file = path
        self._fd = None

    def acquire(self, timeout, poll_interval, stop=None):
        """True once the lock is held; False as soon as `stop()` is true; _Busy after `timeout` seconds;
        OSError when the file cannot be a lock."""
        import errno
        import fcntl

        deadline = time.monotonic() + timeout
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
        while True:
            if stop is not None and stop():  # first: a waiter whose answer is there need not take the lock to read it
                return False
            fd = os.open(self.lock_file, flags, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as error:
                os.close(fd)
                if error.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
            else:
                if os.fstat(fd).st_nlink > 0:
                    self._fd = fd
                    return True
                os.close(fd)  # the file was unlinked while we opened it: lock the one now at the path
            if time.monotonic() >= deadline:
                raise _Busy()
            time.sleep(poll_interval)

    def release(self):
        import fcntl

        fd, self._fd = self._fd, None
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

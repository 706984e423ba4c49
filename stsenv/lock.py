"""The per-key lock that makes a refresh single-flight across processes, and the note its holder leaves.

The lock itself is flock(2) on `<key>.lock`: the kernel drops it when its holder dies, so a stale lock file
never blocks anyone. (filelock does the same on POSIX, but importing it costs about 22 ms, paid by every
waiting process of a cold start; stsenv is POSIX-only anyway: /dev/tty, the shells.) Beside it, the holder
writes `<key>.holder` saying who it is and what it is doing, so that a waiter can tell its user which
process it waits for and why, and wait longer while that process is waiting for a person to type an MFA
code. How long to wait, and what to look at meanwhile, is the waiter's business (stsenv.broker).
"""

import os
import time

from stsenv import jsonfast
from stsenv.errors import ConfigError

# Locks this process holds: while it waits behind someone typing an MFA code, its own waiters must
# know that too, or they would give up after the plain timeout.
_HELD = []


class KeyLock:
    """`<base>.lock`, taken without blocking (try_acquire) and released on leaving a `with` block, and the
    holder file `<base>.holder` beside it."""

    def __init__(self, base, purpose):
        self.lock_file = base + ".lock"
        self._holder_path = base + ".holder"
        self._purpose = purpose
        self._fd = None

    def try_acquire(self):
        """True once the lock is held; False while another process holds it. ConfigError when the file
        cannot be a lock (a symlink or a directory in its place)."""
        import errno
        import fcntl

        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(self.lock_file, flags, 0o600)
        except OSError as error:
            raise ConfigError(f"cannot lock {self.lock_file}: {error.strerror or error}", "remove that file; stsenv makes a new one") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            os.close(fd)
            if error.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise ConfigError(f"cannot lock {self.lock_file}: {error.strerror or error}", "remove that file; stsenv makes a new one") from None
            return False
        if os.fstat(fd).st_nlink == 0:  # the file was unlinked while we opened it: lock the one now at the path
            os.close(fd)
            return False
        self._fd = fd
        self.update(asking_for_mfa=False)
        _HELD.append(self)
        return True

    def update(self, asking_for_mfa, waiting_for=None):
        """Tell waiters what the holder is doing now (atomic replace of the holder file). Best effort: on a
        full disk waiters only say less about whom they wait for, and the temporary file is removed.
        `asking_for_mfa` marks a holder waiting for a person; `waiting_for` says for what, when it is not an
        MFA code (`waiting for a person to sign in`)."""
        holder = {"pid": os.getpid(), "purpose": self._purpose, "asking_for_mfa": asking_for_mfa, "since": time.time()}
        if asking_for_mfa and waiting_for:
            holder["waiting_for"] = waiting_for
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

    def holder(self):
        """What the holder wrote about itself: {"pid", "purpose", "asking_for_mfa", "since"} (and "waiting_for"), or {}."""
        try:  # never a symlink, never wait on a FIFO, never trust what is in it beyond a flat dict
            fd = os.open(self._holder_path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
            with os.fdopen(fd, encoding="utf-8") as handle:
                holder = jsonfast.loads(handle.read(4096))
            return holder if isinstance(holder, dict) else {}
        except (OSError, ValueError, RecursionError):
            return {}

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        if self._fd is None:
            return
        import fcntl

        _HELD.remove(self)
        try:
            os.unlink(self._holder_path)
        except FileNotFoundError:
            pass
        fd, self._fd = self._fd, None
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def _remove(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def tell_waiters(asking_for_mfa, waiting_for=None):
    """Mark every lock this process holds: waiting for a person (or not), and for what when it is not an MFA
    code (see KeyLock.update). A process asking for an MFA code holds the lock of the role it refreshes too,
    and that role's waiters must wait as long."""
    for held in _HELD:
        held.update(asking_for_mfa, waiting_for)


def waiting_for(holder):
    """What a holder waiting for a person said it waits for (`waiting for a person to sign in`); None for an MFA code."""
    said = holder.get("waiting_for")
    return said if isinstance(said, str) and said else None


def describe(holder):
    """Whom a waiter waits for, from the holder file: `another stsenv (pid 42) refreshing prod`."""
    pid = holder.get("pid")
    purpose = holder.get("purpose") or "a refresh"
    if holder.get("asking_for_mfa"):
        purpose = f"{purpose}, {waiting_for(holder) or 'asking for an MFA code'}"
    return f"another stsenv (pid {pid}) {purpose}" if pid else f"another stsenv: {purpose}"

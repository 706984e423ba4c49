"""The profiles a person used last (`use`, `exec`, `console`), most recent first, for the profile picker.

A small text file `history` in the cache directory: one profile name a line, at most MAX_PROFILES lines,
0600, replaced atomically (a temporary file in the same directory, then os.replace). It holds profile
names only, never a secret, and is best effort both ways: a missing, unreadable or odd file is an empty
history, and a write that fails changes nothing else. Run by a warm `use`, so it imports nothing and
writes only when the order changes.
"""

import os

from stsenv.cache import cache_dir
from stsenv.config import ADHOC_PREFIX, PROFILE_NAME_CHARS, PROFILE_NAME_MAX

FILE_NAME = "history"
MAX_PROFILES = 50
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def path(environ):
    return os.path.join(cache_dir(environ), FILE_NAME)


def recent(environ):
    """Profile names, most recently used first; [] when there is no history to read."""
    try:
        fd = os.open(path(environ), os.O_RDONLY | os.O_NONBLOCK | _NOFOLLOW)
    except OSError:
        return []
    try:
        info = os.fstat(fd)
        if not (info.st_mode & 0o170000 == 0o100000 and info.st_uid == os.geteuid()):  # a regular file of ours
            return []
        with os.fdopen(fd, "rb", closefd=False) as handle:
            text = handle.read(MAX_PROFILES * (PROFILE_NAME_MAX + 1)).decode("utf-8", "replace")
    except OSError:
        return []
    finally:
        os.close(fd)
    names = []
    for name in text.splitlines():
        if name and len(name) <= PROFILE_NAME_MAX and PROFILE_NAME_CHARS.issuperset(name) and name not in names:
            names.append(name)
    return names[:MAX_PROFILES]


def remember(environ, profile):
    """Put `profile` first. Profiles made from flags (adhoc:) are not kept: there is nothing to pick again."""
    if profile.startswith(ADHOC_PREFIX):
        return
    names = recent(environ)
    if names[:1] == [profile]:
        return
    names = [profile] + [name for name in names if name != profile][: MAX_PROFILES - 1]
    _write(path(environ), "".join(name + "\n" for name in names))


def forget(environ):
    """Remove the history (`logout --all`: the cache directory is left empty)."""
    try:
        os.unlink(path(environ))
    except OSError:
        pass


def _write(target, text):
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        from stsenv.cache import CredentialCache

        try:
            CredentialCache(directory).ensure_directory()  # 0700, as for credentials
        except Exception:  # noqa: BLE001 - best effort: a history is not worth failing a command for
            return
    temporary = os.path.join(directory, f".tmp-{FILE_NAME}.{os.getpid()}")  # left by a crash: the cache's cleanup removes it
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, target)
    except OSError:
        try:
            os.unlink(temporary)
        except OSError:
            pass

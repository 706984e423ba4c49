"""The on-disk credential cache shared by every stsenv process of the user.

One JSON file per cache key in a 0700 directory, written 0600 to a temporary name and `os.replace`d, so a
reader sees the old file or the new one and needs no lock. Anything odd about a file (not ours, open
modes, a symlink, not JSON, wrong fields, another key) is a miss, said once on stderr, never used.
"""

import os
import stat
import sys
import time

from stsenv import jsonfast, kinds
from stsenv.credentials import Credentials
from stsenv.errors import ConfigError

ENTRY_VERSION = 1
CLOCK_TOLERANCE = 300  # how far STS's clock may run ahead of ours (AWS refuses requests 5 minutes off)
ORPHAN_AGE = 600  # a temporary file this old was left by a writer killed between mkstemp and os.replace
# Files beside an entry `<name>.json`: the lock, who holds it (stsenv.lock), and the last failed refresh (stsenv.broker).
COMPANION_SUFFIXES = (".lock", ".holder", ".failed")
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_TEXT_FIELDS = ("key", "profile", "kind", "AccessKeyId", "SecretAccessKey")


def cache_dir(environ):
    """STSENV_CACHE_DIR, else the platform's user cache dir + `stsenv`.

    On Linux this is platformdirs' rule (XDG_CACHE_HOME, else ~/.cache) written out, because importing
    platformdirs would cost the warm path more than all the rest of its work.
    """
    override = environ.get("STSENV_CACHE_DIR")
    if override:
        return os.path.abspath(os.path.expanduser(override))
    if sys.platform.startswith("linux"):
        base = environ.get("XDG_CACHE_HOME", "").strip() or os.path.expanduser("~/.cache")
        return os.path.join(base, "stsenv")
    import platformdirs

    return platformdirs.user_cache_dir("stsenv", appauthor=False)


def entry_name(profile, key):
    """File name for a cache key: the profile (readable, for `ls` and `logout`) and a 64-bit FNV-1a of the key.

    The full key is stored inside the entry and compared on read, so the hash only has to spread names,
    and a pure-Python FNV costs less than importing hashlib.
    """
    digest = 0xCBF29CE484222325
    for byte in key.encode():
        digest = ((digest ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{_safe_profile(profile)}.{digest:016x}.json"


def _safe_profile(profile):
    safe = "".join(c if c.isalnum() or c in "-_.@+=," else f"%{ord(c):02X}" for c in profile)
    if safe.startswith("."):  # a dot file would be taken for a temporary file, and skipped by `ls` and `logout`
        safe = "%2E" + safe[1:]
    return safe


class CacheWriteError(ConfigError):
    """The cache could not take an entry (a full disk, a directory in its place): the credentials are still good."""


class CredentialCache:
    """The cache directory: lock-free reads, atomic writes, and the per-key lock."""

    def __init__(self, directory, warn=None):
        self.directory = directory
        self._warn = warn or _stderr_once

    def path(self, source):
        return os.path.join(self.directory, entry_name(source.profile, source.cache_key()))

    # ---- reading (the warm path) ------------------------------------------------------------------

    def read(self, source):
        """The cached Credentials for `source`, or None: a miss for anything that is not exactly right.

        The directory is opened without following a symlink and must be ours and 0700 (else a silent
        miss: the refresh that follows repairs its mode or refuses it, in one line); the file is opened
        relative to it, without following a symlink, and without blocking on a FIFO.
        """
        name = entry_name(source.profile, source.cache_key())
        path = os.path.join(self.directory, name)
        try:
            directory = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW)
        except OSError:
            return None
        try:
            if _ownership_problem(os.fstat(directory), stat.S_ISDIR):
                return None
            fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | _NOFOLLOW, dir_fd=directory)
        except FileNotFoundError:
            return None
        except OSError as error:
            return self._refuse(path, "it cannot be opened (a symlink?)" if error.errno == 40 else error.strerror)
        finally:
            os.close(directory)
        try:
            problem = _ownership_problem(os.fstat(fd))
            if problem:
                return self._refuse(path, problem)
            with os.fdopen(fd, "rb", closefd=False) as handle:
                data = handle.read(1 << 20)
        finally:
            os.close(fd)
        try:
            entry = jsonfast.loads(data.decode())
        except (ValueError, UnicodeDecodeError, RecursionError):
            return self._refuse(path, "it is not JSON")
        problem = _entry_problem(entry, source.cache_key())
        if problem:
            return self._refuse(path, problem)
        return Credentials(
            entry["AccessKeyId"],
            entry["SecretAccessKey"],
            entry.get("SessionToken"),
            entry.get("Expires"),
            entry.get("Arn"),
            entry.get("Account"),
            entry.get("RetryAfter"),
        )

    def _refuse(self, path, why):
        self._warn(f"stsenv: ignoring cache file {path}: {why}")
        return None

    # ---- writing (the cold path) ---------------------------------------------------------------------

    def ensure_directory(self):
        """Create the directory 0700 (whatever the umask), or repair its mode; refuse one that is not ours."""
        umask = os.umask(0o022)  # parents made on the way (~/.cache) are never group or world writable
        os.umask(umask | 0o022)
        try:
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
            info = os.lstat(self.directory)
        except OSError as error:
            raise ConfigError(f"cannot create the cache directory {self.directory}: {error.strerror}", "set STSENV_CACHE_DIR") from None
        finally:
            os.umask(umask)
        if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
            raise ConfigError(f"cache directory {self.directory} is not a plain directory (a symlink?)", "remove it or set STSENV_CACHE_DIR")
        if info.st_uid != os.geteuid():
            raise ConfigError(f"cache directory {self.directory} belongs to another user", "remove it or set STSENV_CACHE_DIR")
        if stat.S_IMODE(info.st_mode) != 0o700:
            os.chmod(self.directory, 0o700)
            self._warn(f"stsenv: cache directory {self.directory} was mode {stat.S_IMODE(info.st_mode):04o}; set it to 0700")

    def write(self, source, credentials, retry_after=None):
        """Atomically replace the entry for `source` (mkstemp in the same directory, fsync, os.replace).

        `retry_after` (epoch seconds) marks credentials kept after a failed refresh: see Broker.

        A failure (a directory in the entry's place, a full disk) is a ConfigError naming the file.
        """
        import errno
        import json
        import tempfile

        entry = {
            "version": ENTRY_VERSION,
            "key": source.cache_key(),
            "profile": source.profile,
            "kind": source.kind.name,
            "AccessKeyId": credentials.access_key_id,
            "SecretAccessKey": credentials.secret_access_key,
            "SessionToken": credentials.session_token,
            "Expiration": credentials.expiry_iso,
            "Expires": credentials.expiry_epoch,
            "Arn": credentials.arn,
            "Account": credentials.account,
            "Written": int(time.time()),
        }
        if retry_after is not None:
            entry["RetryAfter"] = retry_after
        self.ensure_directory()
        self._remove_orphans()
        path = self.path(source)
        temporary = None
        try:
            fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".json")
            text = json.dumps(entry, indent=1)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except OSError as error:
            _remove_quietly(temporary)
            full = error.errno in (errno.ENOSPC, errno.EDQUOT)
            hint = "free some space there, or set STSENV_CACHE_DIR" if full else "remove what is in its place, or set STSENV_CACHE_DIR"
            raise CacheWriteError(f"cannot write the cache file {path}: {error.strerror}", hint) from None
        except BaseException:
            _remove_quietly(temporary)
            raise

    def _remove_orphans(self):
        """Remove temporary files that writers killed mid-write left behind: they may hold live credentials."""
        now = time.time()
        try:
            names = [name for name in os.listdir(self.directory) if name.startswith(".tmp-")]
        except OSError:
            return
        for name in names:
            path = os.path.join(self.directory, name)
            try:
                if now - os.lstat(path).st_mtime > ORPHAN_AGE:
                    _remove_quietly(path)
            except OSError:
                pass

    def remove(self, path):
        _remove_quietly(path)

    def remove_files_of(self, profiles=None):
        """Remove every file stsenv names here for `profiles` (all profiles when None), whatever it holds:
        entries (also unreadable ones), lock, holder and failure files, and temporary files when all go.
        A process holding a lock removed here keeps it; the next one makes a new file (stsenv.lock re-opens
        a lock file that was unlinked while it opened it)."""
        safe = None if profiles is None else {_safe_profile(profile) for profile in profiles}
        try:
            names = os.listdir(self.directory)
        except OSError:
            return
        for name in names:
            if _made_by_stsenv(name, safe):
                _remove_quietly(os.path.join(self.directory, name), quiet=True)

    # ---- the failure of the last refresh, for the processes that waited for it (stsenv.broker) ---------------

    def record_failure(self, source, record):
        """Write `record` (a flat dict) 0600 beside the entry's lock; best effort: waiters then only try STS themselves."""
        path = self.failure_path(source)
        temporary = f"{path}.{os.getpid()}"
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _NOFOLLOW, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(jsonfast.dumps_flat(record))
            os.replace(temporary, path)
        except (OSError, ValueError):
            _remove_quietly(temporary)
        except BaseException:  # an interrupt, or the deadline of `use --refresh`: no file left behind
            _remove_quietly(temporary)
            raise

    def read_failure(self, source):
        """The flat dict record_failure wrote, or None (missing, odd, not ours, not JSON)."""
        try:
            fd = os.open(self.failure_path(source), os.O_RDONLY | os.O_NONBLOCK | _NOFOLLOW)
        except OSError:
            return None
        try:
            if _ownership_problem(os.fstat(fd)):
                return None
            with os.fdopen(fd, "rb", closefd=False) as handle:
                record = jsonfast.loads(handle.read(8192).decode())
        except (OSError, ValueError, UnicodeDecodeError, RecursionError):
            return None
        finally:
            os.close(fd)
        return record if isinstance(record, dict) else None

    def forget_failure(self, source):
        _remove_quietly(self.failure_path(source), quiet=True)

    def failure_path(self, source):
        return self.path(source)[: -len(".json")] + ".failed"

    def entries(self):
        """(path, entry dict) for every readable entry, for `ls` and `logout`; odd files are skipped."""
        import json

        try:
            names = sorted(os.listdir(self.directory))
        except FileNotFoundError:
            return []
        found = []
        for name in names:
            path = os.path.join(self.directory, name)
            if not name.endswith(".json") or name.startswith("."):
                continue
            try:
                fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | _NOFOLLOW)  # never a symlink, never wait on a FIFO
                with os.fdopen(fd, encoding="utf-8") as handle:
                    if not stat.S_ISREG(os.fstat(fd).st_mode):
                        continue
                    entry = json.load(handle)
            except (OSError, ValueError, RecursionError):
                continue
            if isinstance(entry, dict) and entry.get("version") == ENTRY_VERSION:
                found.append((path, entry))
        return found

    def lock(self, source, purpose):
        """The per-key lock that makes refresh single-flight (stsenv.lock), not yet taken."""
        from stsenv.lock import KeyLock

        self.ensure_directory()
        return KeyLock(self.path(source)[: -len(".json")], purpose)


def _ownership_problem(info, is_kind=stat.S_ISREG):
    if not is_kind(info.st_mode):
        return "it is not a regular file"
    if info.st_uid != os.geteuid():
        return "it belongs to another user"
    if info.st_mode & 0o077:
        return f"its mode is {stat.S_IMODE(info.st_mode):04o}, not 0600"
    return None


def _entry_problem(entry, key):
    if not isinstance(entry, dict) or entry.get("version") != ENTRY_VERSION:
        return "unknown format"
    for field in _TEXT_FIELDS:
        if not isinstance(entry.get(field), str) or not entry[field]:
            return f"field {field} is missing or not text"
    if entry["key"] != key:
        return "it holds credentials for another configuration"
    expires = entry.get("Expires")
    # only STS credentials are cached, and they all expire: an entry without an expiry would be used forever
    if type(expires) is not int or not isinstance(entry.get("Expiration"), str):
        return "its expiry is not valid"
    if expires > latest_expiry(time.time()):
        return "its expiry is further away than AWS ever grants"
    for field in ("SessionToken", "Arn", "Account"):
        if entry.get(field) is not None and not isinstance(entry[field], str):
            return f"field {field} is not text"
    if entry.get("RetryAfter") is not None and type(entry["RetryAfter"]) is not int:
        return "field RetryAfter is not a whole number"
    for field in _TEXT_FIELDS + ("SessionToken", "Arn", "Account"):
        if entry.get(field) is not None and not entry[field].isprintable():
            return f"field {field} holds characters no credential has"
    return None


def latest_expiry(now, duration=kinds.LONGEST_GRANT):
    """The furthest expiry that credentials issued `now` for `duration` seconds can have: the one rule of
    the reader above and of the answer's check before anything is written (stsenv.answers)."""
    return now + min(duration or kinds.LONGEST_GRANT, kinds.LONGEST_GRANT) + CLOCK_TOLERANCE


_said = set()


def _stderr_once(message):
    if message not in _said:
        from stsenv.oneline import LINE_MAX, oneline  # a path or reason from outside stays one line

        _said.add(message)
        sys.stderr.write(oneline(message, LINE_MAX) + "\n")


def _made_by_stsenv(name, profiles=None):
    """Whether stsenv gives files this name: `<profile>.<16 hex digits>.<json|lock|holder|failed>` for one of
    `profiles` (in their _safe_profile form; any when None), the temporary `.holder.PID` and `.failed.PID`
    beside those, and `.tmp-*` (only when `profiles` is None: it names no profile)."""
    if name.startswith(".tmp-"):
        return profiles is None
    stem, _, suffix = name.rpartition(".")
    if suffix.isdigit() and stem.endswith((".holder", ".failed")):
        stem, _, suffix = stem.rpartition(".")
    profile, _, digest = stem.rpartition(".")
    if "." + suffix not in (".json",) + COMPANION_SUFFIXES or len(digest) != 16 or not profile:
        return False
    if not set(digest) <= set("0123456789abcdef"):
        return False
    return profiles is None or profile in profiles


def _remove_quietly(path, quiet=False):
    """Unlink `path`; a missing file is fine, and with `quiet` any failure (best-effort cleanup)."""
    if path is None:
        return
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError:
        if not quiet:
            raise

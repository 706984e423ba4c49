"""Credentials for a Source: from the cache when fresh, else refreshed single-flight under the key's lock.

The warm path is `Broker.cached()` alone: one read of one file. Everything below `refresh()` (the lock,
providers, boto3) is imported only when the cache cannot answer.
"""

import os
import time

from stsenv.cache import CacheWriteError, CredentialCache, cache_dir
from stsenv.credentials import Credentials, SIGNING_MARGIN, required_remaining
from stsenv.errors import AwsError, ConfigError, LockTimeout, MfaAskedElsewhere

# A refresh that fails still serves the previous entry while it has at least this long left.
FALLBACK_MIN_REMAINING = 60
# ... and for this long every process hands that entry out without calling STS again: while STS is down,
# each AWS call would otherwise wait through all its attempts (up to a timeout each) before the fallback.
RETRY_AFTER_FAILURE = 60
# Waiters look for what the holder made every POLL_SECONDS (a refresh takes one STS round trip, and they
# should follow at once), read the holder file every HOLDER_SECONDS, and say whom they wait for once they
# have waited SAY_AFTER_SECONDS (a plain refresh is usually over before then) or at once for a person.
POLL_SECONDS = 0.005
HOLDER_SECONDS = 0.25
SAY_AFTER_SECONDS = 1.0


class SharedFailure(AwsError):
    """The failure of the refresh this process waited for, as the process that made it recorded it:
    its waiters end with its message and exit code instead of calling STS again one after another."""

    def __init__(self, message, exit_code):
        super().__init__(message)
        self.exit_code = exit_code


class Options:
    """How this invocation may get credentials: may it ask a person, and a code or SAML assertion given on the command line.

    `for_prompt` is `use --refresh` (stsenv.refresh): a shell's prompt renewing credentials it still holds. Such a
    run never waits behind a person typing an MFA code, and never falls back to an older entry (the shell keeps
    its own credentials, and the failure is said instead). `tell`, when given, takes the lines the broker would
    say on the way (whom it waits for, what it falls back to) instead of the terminal.
    """

    def __init__(self, interactive=True, token_code=None, environ=None, saml_assertion=None, for_prompt=False, tell=None):
        self.interactive = interactive
        self.token_code = token_code
        self.environ = os.environ if environ is None else environ
        self.saml_assertion = saml_assertion
        self.for_prompt = for_prompt
        self.tell = tell

    def lock_timeouts(self):
        """(plain, person): how long to wait for another process's refresh, and for one waiting for a person
        (stsenv.settings); a prompt's renewal waits for no person (None, see wait_for)."""
        from stsenv.settings import lock_timeouts

        plain, person = lock_timeouts(self.environ)
        return (plain, None) if self.for_prompt else (plain, person)


class Broker:
    def __init__(self, options):
        self.options = options
        self.cache = CredentialCache(cache_dir(options.environ))
        self._told_uncached = False
        self._uncached = {}  # cache key -> Credentials of a source the cache does not keep (see uncached)

    def credentials(self, source):
        """Fresh enough credentials for `source` as the credentials a user or SDK will hold."""
        needed = required_remaining(source.params.get("duration"))
        return self.cached(source) or self.refresh(source, needed, fall_back=not self.options.for_prompt)

    def cached(self, source):
        if not source.cacheable:
            return None
        found = self.cache.read(source)
        if found is None:
            return None
        if found.remaining() > required_remaining(source.params.get("duration")):
            if os.environ.get("STSENV_DEBUG") == "1":  # set by --debug (stsenv.main); stsenv.terminal stays off the warm path otherwise
                from stsenv import terminal

                terminal.debug(f"cache hit for {source.profile} ({int(found.remaining())}s left)")
            return found
        if _retry_pending(found):
            retry_in = int(found.retry_after - time.time())
            if self.options.for_prompt:  # the shell holds credentials of its own: no entry kept for others is news to it
                raise AwsError(f"refreshing {source.profile} failed less than {RETRY_AFTER_FAILURE}s ago", f"STS is tried again in {retry_in}s")
            self._tell(
                f"stsenv: refreshing {source.profile} failed less than {RETRY_AFTER_FAILURE}s ago; still using the cached "
                f"credentials ({int(found.remaining()) // 60} min left), trying again in {retry_in}s"
            )
            return found
        return None

    def _tell(self, message):
        """A line for the person, or for options.tell when the run has one."""
        if self.options.tell is not None:
            self.options.tell(message)
            return
        from stsenv import terminal

        terminal.tell(message)

    def refresh(self, source, needed, fall_back=True):
        """Credentials with more than `needed` seconds left; at most one process per key calls STS.

        When STS fails and `fall_back` is true, the previous entry is used while it is still valid. Without
        one, the failure is recorded beside the lock, and every process that waited for this refresh ends
        with it (SharedFailure); a process that starts later tries STS again.
        """
        from stsenv import providers, terminal

        if not source.cacheable:
            return self.uncached(source, needed)
        timeouts = self.options.lock_timeouts()
        _validate_chain(source)  # before any lock: a profile AWS would refuse leaves no lock file behind
        began = time.time()

        def good_enough(found):
            """Refreshed by another process meanwhile, or kept by one that failed a moment ago."""
            return found is not None and (found.remaining() > needed or fall_back and _retry_pending(found))

        meanwhile = self._refreshed_meanwhile(source, good_enough, began)
        with self.cache.lock(source, f"refreshing {source.profile}") as lock:
            answer = wait_for(lock, timeouts, meanwhile, self._tell)
            if isinstance(answer, Credentials):
                terminal.debug(f"{source.profile} was refreshed (or kept after a failed refresh) by another process while we waited")
                return answer
            previous = self.cache.read(source)
            if good_enough(previous):
                terminal.debug(f"{source.profile} was refreshed (or kept after a failed refresh) by another process while we waited")
                return previous
            shared = answer or self._failure_since(source, began)  # failed while we waited (for the lock, or just now)
            try:
                if shared is not None:
                    raise shared
                fresh = self._fetch(source)
            except AwsError as error:
                if fall_back and previous is not None and previous.remaining() > FALLBACK_MIN_REMAINING:
                    self._tell(f"stsenv: {error}; still using the cached credentials for {source.profile}")
                    self._hold_off(source, previous)
                    return previous
                if error is not shared:
                    self._record_failure(source, error)
                raise
            self._store(source, fresh)
            return fresh

    def _fetch(self, source):
        """New credentials from STS (or whatever the source is), with the parent's credentials to sign the call."""
        from stsenv import providers, terminal

        signer = self.refresh_parent(source.parent)
        terminal.debug(f"calling STS for {source.profile} ({source.kind.name})")
        return providers.fetch(source, signer, self.options)

    def _store(self, source, fresh):
        """Write the new entry. Credentials in hand are handed out even when the cache cannot take them
        (a full disk): one warning, and the next process calls STS again."""
        try:
            self.cache.write(source, fresh)
        except CacheWriteError as error:
            if not self._told_uncached:
                self._told_uncached = True
                self._tell(f"stsenv: {error}; the new credentials are used without being cached, so the next run asks STS again")
            return
        self.cache.forget_failure(source)

    def _record_failure(self, source, error):
        """For the processes waiting on the lock: the failure, one line without secrets, its exit code and time."""
        from stsenv import redact

        message = redact.scrub(str(error)).replace("\n", " ").replace("\r", " ")
        self.cache.record_failure(source, {"time": time.time(), "code": error.exit_code, "message": message})

    def _failure_since(self, source, began):
        """The SharedFailure recorded for `source` at or after `began` (and not in the future), or None."""
        record = self.cache.read_failure(source)
        if record is None:
            return None
        when, code, message = record.get("time"), record.get("code"), record.get("message")
        if type(when) not in (int, float) or not began <= when <= time.time() + 1:
            return None
        if type(code) is not int or not 1 <= code <= 4 or not isinstance(message, str) or not message or not message.isprintable():
            return None
        return SharedFailure(message, code)

    def _hold_off(self, source, previous):
        """Mark the kept entry so that for RETRY_AFTER_FAILURE seconds no process calls STS for it again
        (best effort: a cache that cannot be written only means the next process tries STS itself)."""
        try:
            self.cache.write(source, previous, retry_after=int(time.time()) + RETRY_AFTER_FAILURE)
        except ConfigError:
            pass

    def _refreshed_meanwhile(self, source, good_enough, began):
        """For the lock's waiting loop: the entry another process has written since, when `good_enough`, or
        the failure it recorded since `began`. Waiters then leave side by side as soon as it is there, instead
        of taking the lock one after another only to read it; a stat of each file per poll, a read only when
        the file has changed."""
        path, failure_path = self.cache.path(source), self.cache.failure_path(source)
        seen = failure_seen = None  # the first check reads whatever is there: it may have been written since our own read

        def check():
            nonlocal seen, failure_seen
            version = file_version(path)
            if version is not None and version != seen:
                seen = version
                found = self.cache.read(source)
                if good_enough(found):
                    return found
            version = file_version(failure_path)
            if version is not None and version != failure_seen:
                failure_seen = version
                return self._failure_since(source, began)
            return None

        return check

    def uncached(self, source, needed):
        """The credentials of a source the cache does not keep (a credential_process, keys in the files), asked
        for once per run while they have more than `needed` seconds left: a command that needs them twice
        (console looks at them, then they sign GetFederationToken) runs a credential_process once, and a
        long-lived `exec --server` asks again only when they run out."""
        from stsenv import providers

        key = source.cache_key()
        found = self._uncached.get(key)
        if found is None or found.remaining() <= needed:
            found = self._uncached[key] = providers.fetch(source, None, self.options)
        return found

    def refresh_parent(self, parent):
        """The credentials that sign the next STS call: they need only outlive that call."""
        if parent is None:
            return None
        if not parent.cacheable:
            return self.uncached(parent, SIGNING_MARGIN)
        found = self.cache.read(parent)
        if found is not None and found.remaining() > SIGNING_MARGIN:
            return found
        return self.refresh(parent, SIGNING_MARGIN)


def _retry_pending(found):
    """Whether `found` was kept after a failed refresh, a moment ago, and may still be handed out."""
    if found.retry_after is None:
        return False
    wait = found.retry_after - time.time()
    return 0 < wait <= RETRY_AFTER_FAILURE and found.remaining() > FALLBACK_MIN_REMAINING


def file_version(path):
    """What changes when a file is replaced or written: (inode, mtime, size), or None when there is none."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_ino, info.st_mtime_ns, info.st_size


def wait_for(lock, timeouts, answered, tell):
    """Wait until `lock` is ours (None), or until `answered()` gives what its holder made meanwhile (returned).

    `timeouts` is (plain, mfa): how long to wait for a holder that refreshes, and for one that waits for a
    person to type an MFA code or sign in (None: wait for no person, MfaAskedElsewhere at once); past it,
    LockTimeout. Whom we wait for is said with `tell`; while we wait for a person, the locks this process
    holds say so too, so that its own waiters wait as long.
    """
    from stsenv.lock import describe, tell_waiters, waiting_for

    plain_timeout, mfa_timeout = timeouts
    started = time.monotonic()
    next_look = started + HOLDER_SECONDS
    said = None
    behind_a_person = False
    try:
        while True:
            found = answered()  # first: a waiter whose answer is there need not take the lock to read it
            if found is not None:
                return found
            if lock.try_acquire():
                return None
            now = time.monotonic()
            if now >= next_look:
                next_look = now + HOLDER_SECONDS
                holder = lock.holder()
                asking = holder.get("asking_for_mfa", False)
                if asking and mfa_timeout is None:
                    raise _asked_elsewhere(holder)
                if asking != behind_a_person:
                    behind_a_person = asking
                    tell_waiters(asking_for_mfa=asking, waiting_for=waiting_for(holder))
                waited = now - started
                if waited >= (mfa_timeout if asking else plain_timeout):
                    raise LockTimeout(
                        f"gave up after {waited:.0f}s waiting for {describe(holder)}",
                        "set STSENV_LOCK_TIMEOUT to wait longer, or end that process",
                    )
                message = f"stsenv: waiting for {describe(holder)}"
                if message != said and (asking or waited >= SAY_AFTER_SECONDS):
                    tell(message)
                    said = message
            time.sleep(POLL_SECONDS)
    finally:
        if behind_a_person:
            tell_waiters(asking_for_mfa=False)


def _asked_elsewhere(holder):
    """MfaAskedElsewhere for a holder that waits for a person: for an MFA code, or for what it said."""
    from stsenv.lock import waiting_for

    pid = holder.get("pid")
    where = f" (stsenv pid {pid})" if pid else ""
    other = waiting_for(holder)
    if other:
        return MfaAskedElsewhere(f"another terminal is {other}{where}", "finish there")
    return MfaAskedElsewhere(f"another terminal is asking for the MFA code{where}", "type it there")


def _validate_chain(source):
    """AWS's limits on every STS call of the chain (stsenv.validate), before the first lock is taken."""
    from stsenv import validate

    for node in source.chain():
        validate.source(node)

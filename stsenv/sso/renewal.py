"""An access token that works now for an SSO session, renewed the way botocore renews it, once for all processes.

The aws CLI's token file is used as it is while it has more than botocore's 15 minutes left. Closer to its
expiry, when it holds a refresh token and a live client registration, it is renewed with OIDC CreateToken
(refresh_token grant) and written back in the CLI's format, so that the aws CLI and every SDK use the renewed
token too. Renewal is single-flight across processes: under a lock in stsenv's cache directory (stsenv.lock,
the same lock `stsenv login` holds for the session), the file is read again, and waiters leave as soon as
another process has written a fresh token; 8 processes with an expired token make 1 CreateToken.

Nothing here asks a person: without a usable token the answer is LoginNeeded (exit 3). The lock's waiting
loop (broker.wait_for) waits behind a `stsenv login` that waits for a person to sign in, as behind one typing
an MFA code, unless the timeouts say not to (the prompt's renewal). A renewal that fails for a passing reason
(network, throttling) falls back to the current token while it still has a minute left, as botocore does.
"""

import os
import time

from stsenv import terminal
from stsenv.credentials import iso_utc
from stsenv.errors import AwsError
from stsenv.sso import token_cache
from stsenv.sso.errors import LoginNeeded, login_hint

REFRESH_WINDOW = 900  # botocore's SSOTokenProvider renews a token this long before it expires
USABLE_MIN = 60  # a token with less left is not sent: it could expire on the way
# CreateToken refusals that a new sign-in fixes (a used, revoked or expired refresh token or registration).
REFUSALS_NEEDING_LOGIN = frozenset(
    {
        "InvalidGrantException",
        "InvalidClientException",
        "UnauthorizedClientException",
        "ExpiredTokenException",
        "AccessDeniedException",
        "InvalidRequestException",
        "InvalidScopeException",
    }
)


def access_token(settings, environ, rejected=None, timeouts=None, tell=None):
    """An access token of `settings`' session with more than a minute left, renewed when within 15 minutes
    of its expiry. `rejected` is a token the portal has just refused: it is renewed whatever its expiry says.
    `timeouts` are the lock's waits (broker.wait_for; default: stsenv.settings.lock_timeouts of `environ`);
    `tell` takes what is said on the way (default: the terminal), as broker.Options.tell."""
    from stsenv.broker import wait_for
    from stsenv.settings import lock_timeouts

    path = token_cache.token_path(settings, environ)
    token = _read(settings, path)
    usable = _usable_as_is(settings, token, rejected)
    if usable is not None:
        return usable
    tell = tell or terminal.tell
    purpose = f"renewing the IAM Identity Center token of {settings.described}"
    with session_lock(settings, environ, purpose) as lock:
        answer = wait_for(lock, timeouts or lock_timeouts(environ), written_meanwhile(path, rejected), tell)
        if answer is not None:
            terminal.debug(f"the token of {settings.described} was renewed by another process while we waited")
            return answer.access_token
        token = _read(settings, path)
        usable = _usable_as_is(settings, token, rejected)
        if usable is not None:
            return usable
        return _renew(settings, environ, path, token, rejected, tell)


def _usable_as_is(settings, token, rejected):
    """The token's access token when it needs no renewal (or cannot have one but still works); None when it
    is to be renewed; LoginNeeded when it neither works nor can be renewed."""
    now = time.time()
    if token.access_token != rejected and token.remaining(now) > REFRESH_WINDOW:
        return token.access_token
    reason = token.unrenewable_reason(now)
    if reason is None:
        return None
    if _still_works(token, rejected, now):
        return token.access_token
    if token.access_token == rejected:
        raise LoginNeeded(f"{_who(settings)}: IAM Identity Center no longer accepts the token of {settings.described}, and {reason}", login_hint(settings))
    raise LoginNeeded(
        f"{_who(settings)}: the IAM Identity Center token of {settings.described} expired at {iso_utc(token.expires)}, and {reason}",
        login_hint(settings),
    )


def _renew(settings, environ, path, token, rejected, tell):
    from stsenv.sso import oidc

    now = time.time()
    terminal.debug(f"renewing the IAM Identity Center token of {settings.described} ({int(token.remaining(now))}s left)")
    try:
        answer = oidc.refresh_token(settings, environ, token.client_id, token.client_secret, token.refresh_token)
    except AwsError as error:
        if _still_works(token, rejected, now):
            tell(f"stsenv: {error}; still using the current token of {settings.described}")
            return token.access_token
        if error.code in REFUSALS_NEEDING_LOGIN:
            raise LoginNeeded(f"{_who(settings)}: IAM Identity Center would not renew the token of {settings.described} ({error.message})", login_hint(settings)) from None
        raise
    token_cache.write(path, token_cache.renewed_token(token, answer, now))
    return answer["accessToken"]


def _still_works(token, rejected, now):
    return token.access_token != rejected and token.remaining(now) > USABLE_MIN


def _read(settings, path):
    try:
        token = token_cache.read_token(path)
    except token_cache.TokenFileProblem as problem:
        raise LoginNeeded(f"{_who(settings)}: the IAM Identity Center token file {problem.path} {problem.reason}", login_hint(settings)) from None
    if token is None:
        raise LoginNeeded(f"{_who(settings)}: not signed in to IAM Identity Center (no token for {settings.described} in {path})", login_hint(settings))
    return token


def written_meanwhile(path, rejected=None):
    """For the lock's waiting loop: the Token another process has written to `path` since, once it needs no
    renewal (and is not `rejected`). A stat per poll; the file is read only when it has changed."""
    from stsenv.broker import file_version

    seen = None

    def check():
        nonlocal seen
        version = file_version(path)
        if version is None or version == seen:
            return None
        seen = version
        try:
            token = token_cache.read_token(path)
        except token_cache.TokenFileProblem:
            return None
        if token is not None and token.access_token != rejected and token.remaining() > REFRESH_WINDOW:
            return token
        return None

    return check


def session_lock(settings, environ, purpose):
    """The lock of `settings`' session in stsenv's cache directory (stsenv.lock, not yet taken: wait for it
    with broker.wait_for): held to renew its token, and by `stsenv login` for the whole sign-in (marked as
    waiting for a person, so waiters wait that long)."""
    from stsenv.cache import CredentialCache, cache_dir, entry_name
    from stsenv.lock import KeyLock

    directory = cache_dir(environ)
    CredentialCache(directory).ensure_directory()
    name = entry_name("sso-token", token_cache.token_path(settings, environ))  # `logout --all` removes it with the rest
    return KeyLock(os.path.join(directory, name)[: -len(".json")], purpose)


def _who(settings):
    return f"profile {settings.profile!r}" if settings.profile else settings.described

"""Signing in to IAM Identity Center from the terminal: the OAuth device authorization flow (RFC 8628), as
`aws sso login --use-device-code` does it, the token written where the aws CLI reads it.

RegisterClient once, its registration kept in the aws CLI's registration file and reused until 15 minutes
before it expires (and made anew when IAM Identity Center no longer knows it); StartDeviceAuthorization;
the verification URL and user code shown on stderr (on /dev/tty when stderr is captured); CreateToken
polled at the interval given: authorization_pending goes on polling, slow_down adds 5 seconds, expired_token
and access_denied end the sign-in (LoginNeeded, exit 3). A browser is opened only where one can be: never
with no_browser, never on Linux without DISPLAY or WAYLAND_DISPLAY, and only for an https URL (or http on
the loopback).

One sign-in serves every profile of a session. It holds the session's lock (renewal.session_lock) and marks
it as waiting for a person to sign in (stsenv.lock.tell_waiters), so that a second `stsenv login` of the
session, or a renewal, waits for it and then uses its token instead of starting a flow of its own.
"""

import os
import sys
import time

from stsenv import terminal
from stsenv.credentials import iso_utc
from stsenv.errors import AwsError
from stsenv.oneline import oneline
from stsenv.sso import oidc, renewal, token_cache
from stsenv.sso.errors import LoginNeeded, login_hint

SLOW_DOWN_STEP = 5  # RFC 8628 section 3.5
# What a session without sso_registration_scopes registers for (the aws CLI's own default in its
# authorization-code flow), so that its token comes with a refresh token. A legacy profile registers without.
DEFAULT_SCOPES = ("sso:account:access",)
# What the holder file tells waiters while the person signs in (stsenv.lock.describe).
SIGNING_IN = "waiting for a person to sign in"
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class LoginResult:
    """Where the token is, until when it is valid, and whether this call signed in (False: it was valid,
    or another process signed in while this one waited)."""

    __slots__ = ("path", "expires", "signed_in")

    def __init__(self, path, expires, signed_in):
        self.path = path
        self.expires = expires
        self.signed_in = signed_in

    @property
    def expiration(self):
        return iso_utc(self.expires)


def login(settings, environ=None, no_browser=False, force=False):
    """Sign in to `settings`' session (a profile's or a session's SsoSettings) unless its token is valid for
    more than 15 minutes (or `force`); the LoginResult."""
    environ = os.environ if environ is None else environ
    path = token_cache.token_path(settings, environ)
    if not force:
        valid = _valid_token(path)
        if valid is not None:
            return LoginResult(path, valid.expires, False)
    from stsenv.broker import wait_for
    from stsenv.lock import tell_waiters
    from stsenv.settings import lock_timeouts

    purpose = f"signing in to IAM Identity Center ({settings.described})"
    answered = (lambda: None) if force else renewal.written_meanwhile(path)
    with renewal.session_lock(settings, environ, purpose) as lock:
        answer = wait_for(lock, lock_timeouts(environ), answered, terminal.tell)
        if answer is not None:
            return LoginResult(path, answer.expires, False)
        if not force:
            valid = _valid_token(path)
            if valid is not None:
                return LoginResult(path, valid.expires, False)
        registration, device = _authorize(settings, environ)
        tell_waiters(asking_for_mfa=True, waiting_for=SIGNING_IN)  # waiters now wait as long as for a person typing an MFA code
        try:
            answer = _poll(settings, registration, device, environ, no_browser)
        finally:
            tell_waiters(asking_for_mfa=False)
        now = time.time()
        token_cache.write(path, token_cache.new_token(settings, answer, registration, now))
        return LoginResult(path, now + answer["expiresIn"], True)


def _valid_token(path):
    try:
        token = token_cache.read_token(path)
    except token_cache.TokenFileProblem:
        return None
    return token if token is not None and token.remaining() > renewal.REFRESH_WINDOW else None


def _authorize(settings, environ):
    """(registration, device authorization): the cached registration when it is still good for the device
    flow, a new one when there is none or IAM Identity Center no longer knows it."""
    path = token_cache.registration_path(settings, environ)
    cached = token_cache.read_registration(path)
    if cached is not None and cached.usable_for_device_flow():
        try:
            return cached, oidc.start_device_authorization(settings, environ, cached)
        except AwsError as error:
            if error.code != "InvalidClientException":
                raise
            terminal.debug("the cached client registration was refused; registering again")
    scopes = (settings.scopes or DEFAULT_SCOPES) if settings.session else None
    name = f"stsenv-{settings.session}" if settings.session else f"stsenv-{int(time.time())}"
    registration = oidc.register_client(settings, environ, name, scopes)
    token_cache.write(path, token_cache.registration_data(registration, scopes))
    return registration, oidc.start_device_authorization(settings, environ, registration)


def _poll(settings, registration, device, environ, no_browser):
    """CreateToken at the interval until the person approves; the first attempt before anything is shown,
    as the aws CLI makes it (a client may be approved already)."""
    interval = device["interval"]
    deadline = time.monotonic() + device["expiresIn"]
    shown = False
    while True:
        try:
            return oidc.device_token(settings, environ, registration, device["deviceCode"])
        except AwsError as error:
            if error.code == "SlowDownException":
                interval += SLOW_DOWN_STEP
            elif error.code == "ExpiredTokenException":
                raise _not_signed_in(settings, f"the code {device['userCode']} expired before it was approved") from None
            elif error.code == "AccessDeniedException":
                raise _not_signed_in(settings, f"the sign-in with code {device['userCode']} was denied") from None
            elif error.code != "AuthorizationPendingException":
                raise
        if not shown:
            _show(settings, device, environ, no_browser)
            shown = True
        if time.monotonic() + interval > deadline:
            raise _not_signed_in(settings, f"the code {device['userCode']} expired before it was approved")
        time.sleep(interval)


def _not_signed_in(settings, what):
    return LoginNeeded(f"not signed in to IAM Identity Center ({settings.described}): {what}", login_hint(settings))


def _show(settings, device, environ, no_browser):
    minutes = max(1, device["expiresIn"] // 60)
    _say(f"stsenv: to sign in to IAM Identity Center ({settings.described}), open {device['verificationUri']} and enter the code {device['userCode']}")
    _say(f"stsenv: or open {device['verificationUriComplete']} (the code expires in {minutes} min)")
    url = device["verificationUriComplete"]
    if may_open_browser(environ, no_browser) and _openable(url):
        opened = False
        try:
            import webbrowser

            opened = webbrowser.open_new_tab(url)
        except Exception as error:  # webbrowser runs whatever BROWSER names
            terminal.debug(f"opening a browser failed: {type(error).__name__}")
        _say("stsenv: opened it in your browser; waiting for the approval" if opened else "stsenv: no browser could be opened; waiting for the approval")
    else:
        _say("stsenv: waiting for the approval")


def may_open_browser(environ, no_browser):
    """Whether a browser may be opened: not with no_browser, and on Linux (any system but macOS) only with a display."""
    if no_browser:
        return False
    if sys.platform == "darwin":
        return True
    return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


def _openable(url):
    """An https URL, or http on the loopback: an endpoint that is not AWS's may send anything (file:, javascript:)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    if parts.scheme == "https":
        return bool(host)
    return parts.scheme == "http" and host in _LOOPBACK_HOSTS


def _say(line):
    """A line for the person signing in: on stderr when it is a terminal, else on /dev/tty (stderr without one)."""
    if sys.stderr.isatty():
        sys.stderr.write(oneline(line, 2000) + "\n")
        sys.stderr.flush()
    else:
        terminal.tell(line)

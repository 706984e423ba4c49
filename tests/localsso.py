"""IAM Identity Center on 127.0.0.1 for tests: its OIDC service (sso-oidc) and its access portal (sso).

moto has no model of either, so `LocalSSO` implements both wire protocols as botocore's service models
(botocore/data/sso-oidc, botocore/data/sso) describe them: REST-JSON, the models' paths, query strings
and headers, AWS's status codes, and errors shaped the way botocore's rest-json parser reads them (the
code from `x-amzn-ErrorType`, "Code:namespace/"), so a client raises the exception class a real answer
would raise (AuthorizationPendingException, SlowDownException, ExpiredTokenException, ...). OIDC error
bodies are OAuth's `{"error": "authorization_pending", "error_description": ...}`, portal ones
`{"message": ..., "__type": "com.amazonaws.switchboard.portal#UnauthorizedException"}`, as AWS sends them
(debug logs in aws/aws-cli#5878 and synfinatic/aws-sso-cli#279).

    sts = LocalSTS().start()
    sso = LocalSSO(sts).start()
    sso.assign("123456789012", "Developer", account_name="Development")
    env = sso.endpoint_env()            # AWS_ENDPOINT_URL_SSO_OIDC and AWS_ENDPOINT_URL_SSO

Two servers, one per API (`oidc_url`, `portal_url`), so a client that sends a portal call to the OIDC
endpoint (or the other way round) gets 404 UnknownOperationException instead of passing by luck.

OIDC (oidc_url): RegisterClient (public clients only; scopes, grant types, loopback or https redirect URIs,
and the issuer URL the auth-code flow needs, each checked; the secret expires `registration_lifetime` s
after registration, 90 days by default), StartDeviceAuthorization (a known, unexpired client of the
device grant, for this instance's start URL; device and user codes, verificationUri on this server,
expiresIn, interval), CreateToken with the three grants the aws CLI uses:
- device_code: authorization_pending until the test calls approve(user_code); slow_down when polled
  sooner than the interval after the previous poll (and, as RFC 8628 section 3.5 says, 5 s more for each
  slow_down), except for the first two polls: the aws CLI tries once before it shows the code and once
  right after, and AWS answers both with authorization_pending; expired_token after expiresIn;
  access_denied after deny(user_code); the code must belong to the client asking, and is exchanged once
  (invalid_grant after that).
- authorization_code with PKCE (S256), the default flow of `aws sso login` (AWS CLI v2) for sso-session
  profiles: GET /authorize checks the client, the redirect URI (a registered loopback URI matches on any
  port, RFC 8252 section 7.3), the challenge and the scopes, then redirects to the client's callback with
  a code (or error=access_denied after set_authorization_answer(False)); CreateToken checks code, client,
  redirect URI and the verifier; a code is exchanged once and lives `authorization_code_lifetime` s.
- refresh_token: a new access token and a new refresh token; the used one is void (rotation). AWS does not
  document rotation or reuse (only that the refresh flow needs a scoped sso-session registration, CLI
  1.27.10 / 2.9.0: "Considerations for using this guide", OIDC API Reference); single use is the strict
  reading of RFC 9700 section 4.14.2 for public clients, and it makes two processes refreshing with one
  token fail the way single-flight must prevent. configure(refresh_token_reuse=True) allows reuse.
Refresh tokens are issued only to clients registered with scopes (the sso-session shape); access tokens
of scoped clients live `access_token_lifetime` s, those of unscoped (legacy) ones the rest of the portal
session; no token outlives its session (`session_duration`, 8 h by default, like the portal's default),
and a refresh after the session ended is invalid_grant (aws/aws-cli#8561).

Portal (portal_url): GetRoleCredentials, ListAccounts, ListAccountRoles (max_result 1-100, next_token,
20 a page by default) and Logout, all with the access token in `x-amz-sso_bearer_token`. A missing,
unknown, expired or logged-out token (or one of an ended session) is 401 UnauthorizedException "Session
token not found or invalid"; an account or role the user has no assignment for is 403 ForbiddenException
"No access" (AWS's answer for GetRoleCredentials, e.g. ministryofjustice/modernisation-platform#10161;
ForbiddenException is not in botocore's model, so clients see a ClientError with that code; for
ListAccountRoles of an unassigned account the same answer is this emulator's choice, unverified).
GetRoleCredentials returns real credentials of the local STS (LocalSTS.issue_role_session):
GetCallerIdentity says `arn:aws:sts::ACCOUNT:assumed-role/AWSReservedSSO_ROLE_<16 hex>/USER`, and
AssumeRole with them is role chaining (the STS's one-hour limit applies). Expiration is in epoch
milliseconds; they last `role_credential_duration` s. Logout ends the whole portal session.

Not checked: the CreateTokenWithIAM and other IAM-signed operations (404), region-specific endpoints or
regional role paths, client names, idToken (never issued), the user signing in (there is one user,
set_user), MFA (role sessions carry no aws:MultiFactorAuthPresent), throttling unless injected.

Clock: expiries (tokens, codes, registrations, role credentials) follow the local STS's server clock
(LocalSTS.clock_offset), so one offset ages everything; polling intervals use real (monotonic) time.

Run it alone (``python tests/localsso.py [--auto-approve]``) for a demo: it starts a local STS too,
assigns account 123456789012 role Developer to user `demo`, prints one JSON line (the endpoints, the start
URL) and serves until SIGTERM or SIGINT; with --auto-approve every device code is approved on its first
poll, so a person can run `aws sso login --use-device-code` against it.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import hmac
import json
import secrets
import signal
import string
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).parent))
from localsts import ACCOUNT_ID, LocalSTS, _quiet_handler  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

START_URL = "https://d-9067c0ffee.awsapps.com/start"
REGION = "us-east-1"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
REFRESH_GRANT = "refresh_token"
CODE_GRANT = "authorization_code"
DEFAULT_SCOPE = "sso:account:access"

DEFAULT_SETTINGS = {
    "access_token_lifetime": 3600,
    "session_duration": 8 * 3600,
    "role_credential_duration": 3600,
    "device_code_lifetime": 600,
    "poll_interval": 1,
    "slow_down_increment": 5,
    "registration_lifetime": 90 * 86400,
    "authorization_code_lifetime": 300,
    "refresh_token_reuse": False,
    "auto_approve": False,
}

_OIDC_NAMESPACE = "http://internal.amazon.com/coral/com.amazonaws.sso.oidc/"
_PORTAL_NAMESPACE = "http://internal.amazon.com/coral/com.amazonaws.switchboard.portal/"
_FAULT_KINDS = frozenset({"401", "429", "500", "503", "malformed"})
_SECRET_MEMBERS = frozenset({"clientSecret", "deviceCode", "code", "codeVerifier", "refreshToken"})
_USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"  # RFC 8628 section 6.1: no vowels, no look-alikes
_PAGE_SIZE = 20
_GRANT_TYPES = frozenset({DEVICE_GRANT, REFRESH_GRANT, CODE_GRANT})
_NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# ---------------------------------------------------------------------------------------
# Errors and replies


@dataclass(frozen=True)
class _Reply:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),)

    def __call__(self, start_response: Callable) -> list[bytes]:
        headers = [*self.headers, ("Content-Length", str(len(self.body))), ("x-amzn-RequestId", str(uuid.uuid4()))]
        start_response(f"{self.status} {HTTPStatus(self.status).phrase}", headers)
        return [self.body]


def _json_reply(document: dict | None, status: int = 200) -> _Reply:
    return _Reply(status, b"" if document is None else json.dumps(document).encode())


class _ApiError(Exception):
    """An error answer of either API, in the shape botocore's rest-json parser reads."""

    _OAUTH_ERRORS = {
        "AccessDeniedException": (400, "access_denied"),
        "AuthorizationPendingException": (400, "authorization_pending"),
        "ExpiredTokenException": (400, "expired_token"),
        "InternalServerException": (500, "server_error"),
        "InvalidClientException": (401, "invalid_client"),
        "InvalidClientMetadataException": (400, "invalid_client_metadata"),
        "InvalidGrantException": (400, "invalid_grant"),
        "InvalidRedirectUriException": (400, "invalid_redirect_uri"),
        "InvalidRequestException": (400, "invalid_request"),
        "InvalidScopeException": (400, "invalid_scope"),
        "SlowDownException": (400, "slow_down"),
        "UnauthorizedClientException": (400, "unauthorized_client"),
        "UnsupportedGrantTypeException": (400, "unsupported_grant_type"),
    }
    _PORTAL_STATUS = {
        "ForbiddenException": 403,
        "InvalidRequestException": 400,
        "ResourceNotFoundException": 404,
        "TooManyRequestsException": 429,
        "UnauthorizedException": 401,
        "InternalServerException": 500,
    }

    def __init__(self, code: str, message: str, status: int | None = None):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status

    def reply(self, api: str) -> _Reply:
        if api == "oidc":
            status, oauth_error = self._OAUTH_ERRORS.get(self.code, (400, self.code))
            body = {"error": oauth_error, "error_description": self.message}
            namespace = _OIDC_NAMESPACE
        else:
            status = self._PORTAL_STATUS.get(self.code, 400)
            body = {"message": self.message, "__type": f"com.amazonaws.switchboard.portal#{self.code}"}
            namespace = _PORTAL_NAMESPACE
        headers = (("Content-Type", "application/json"), ("x-amzn-ErrorType", f"{self.code}:{namespace}"))
        return _Reply(self.status or status, json.dumps(body).encode(), headers)


def _unauthorized() -> _ApiError:
    return _ApiError("UnauthorizedException", "Session token not found or invalid")


def _no_access() -> _ApiError:
    return _ApiError("ForbiddenException", "No access")


def _invalid_client() -> _ApiError:
    return _ApiError("InvalidClientException", "Invalid client provided")


def _invalid_grant(what: str) -> _ApiError:
    return _ApiError("InvalidGrantException", f"Invalid {what} provided")


# ---------------------------------------------------------------------------------------
# State


@dataclass
class _Client:
    client_id: str
    client_secret: str
    scopes: tuple[str, ...]
    grant_types: tuple[str, ...] | None  # None: registered without grantTypes (device code and refresh)
    redirect_uris: tuple[str, ...]
    issued_at: int
    expires_at: int

    def allows(self, grant: str) -> bool:
        return grant in (self.grant_types or (DEVICE_GRANT, REFRESH_GRANT))


@dataclass
class _PortalSession:
    user: str
    expires_at: float
    ended: bool = False  # logged out, or ended by the test


@dataclass
class _DeviceAuthorization:
    device_code: str
    user_code: str
    client_id: str
    expires_at: float
    interval: float
    state: str = "pending"  # pending | approved | denied | exchanged
    last_poll: float = 0.0  # time.monotonic() of the previous CreateToken for this code
    polls: int = 0
    session: _PortalSession | None = None


@dataclass
class _AuthorizationCode:
    client_id: str
    redirect_uri: str
    challenge: str
    scopes: tuple[str, ...]
    expires_at: float
    session: _PortalSession
    used: bool = False


@dataclass
class _Token:
    client_id: str
    session: _PortalSession
    expires_at: float | None  # None for refresh tokens, which last as long as their session
    void: bool = False  # rotated away, revoked or expired by the test


@dataclass
class _Calls:
    """Requests seen per operation, and the faults waiting for the next ones."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    log: list[dict] = field(default_factory=list)
    faults: list[list] = field(default_factory=list)  # [operation, kind, remaining], in injection order

    def take_fault(self, operation: str):
        with self.lock:
            pending = [f for f in self.faults if f[0] == operation] + [f for f in self.faults if f[0] == "*"]
            if not pending:
                return None
            fault = pending[0]
            fault[2] -= 1
            if fault[2] <= 0:
                self.faults.remove(fault)
            return fault[1]


def _new_secret(prefix: str, size: int = 48) -> str:
    return prefix + base64.urlsafe_b64encode(secrets.token_bytes(size)).decode().rstrip("=")


def _pkce_challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def _is_loopback_redirect(uri: str) -> bool:
    parts = urlsplit(uri)
    return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")


def _redirect_matches(registered: str, used: str) -> bool:
    """Exact match, or a loopback URI on any port (RFC 8252 section 7.3), which the aws CLI relies on."""
    if registered == used:
        return True
    a, b = urlsplit(registered), urlsplit(used)
    return _is_loopback_redirect(registered) and (a.scheme, a.hostname, a.path) == (b.scheme, b.hostname, b.path)


def _valid_scope(scope: str) -> bool:
    parts = scope.split(":")
    return scope == "openid" or (len(parts) >= 2 and all(p and set(p) <= set(string.ascii_lowercase + string.digits + "-_.*") for p in parts))


# ---------------------------------------------------------------------------------------
# The emulator


class LocalSSO:
    """IAM Identity Center's OIDC service and access portal on 127.0.0.1 (see the module docstring)."""

    def __init__(self, sts: LocalSTS):
        self._sts = sts
        self._lock = threading.RLock()
        self._calls = _Calls()
        self._servers: list = []
        self.oidc_url = self.portal_url = ""
        self.start_url = START_URL
        self.region = REGION
        self._clear_state()

    # -- lifecycle -----------------------------------------------------------------------

    def start(self, oidc_port: int = 0, portal_port: int = 0) -> LocalSSO:
        for port, api in ((oidc_port, "oidc"), (portal_port, "portal")):
            server = make_server(
                "127.0.0.1", port, self._app(api), threaded=True, request_handler=_raw_headers_handler(self._sts.server_time)
            )
            thread = threading.Thread(target=server.serve_forever, name=f"localsso-{api}", daemon=True)
            thread.start()
            self._servers.append((server, thread))
            url = f"http://127.0.0.1:{server.server_port}"
            if api == "oidc":
                self.oidc_url = url
            else:
                self.portal_url = url
        return self

    def stop(self) -> None:
        for server, thread in self._servers:
            server.shutdown()
            server.server_close()
            thread.join()
        self._servers.clear()

    def reset(self) -> None:
        """Forget clients, codes, tokens, sessions, assignments, calls and faults; default settings, user `tester`."""
        with self._lock:
            self._clear_state()
        self.reset_calls()
        self.clear_faults()

    def _clear_state(self) -> None:
        self.settings = dict(DEFAULT_SETTINGS)
        self.user = "tester"
        self._accounts: dict[str, dict] = {}  # id -> {"name", "email", "roles": [..]}
        self._clients: dict[str, _Client] = {}
        self._devices: dict[str, _DeviceAuthorization] = {}  # by device code
        self._codes: dict[str, _AuthorizationCode] = {}
        self._access_tokens: dict[str, _Token] = {}
        self._refresh_tokens: dict[str, _Token] = {}
        self._sessions: list[_PortalSession] = []
        self._authorization_allowed = True

    def endpoint_env(self) -> dict[str, str]:
        """The environment that points botocore (and the aws CLI) at these two servers."""
        return {"AWS_ENDPOINT_URL_SSO_OIDC": self.oidc_url, "AWS_ENDPOINT_URL_SSO": self.portal_url}

    def configure(self, **settings) -> None:
        """Change settings (DEFAULT_SETTINGS names them; lifetimes and intervals in seconds) until reset."""
        unknown = set(settings) - set(DEFAULT_SETTINGS)
        if unknown:
            raise ValueError(f"unknown settings: {sorted(unknown)}")
        with self._lock:
            self.settings.update(settings)

    # -- assignments ---------------------------------------------------------------------

    def set_user(self, name: str) -> None:
        """The user who signs in from now on; role sessions are named after them."""
        self.user = name

    def assign(self, account_id: str, role_name: str, *, account_name: str | None = None, email: str | None = None) -> None:
        """Give the user `role_name` (a permission set) in `account_id`."""
        with self._lock:
            account = self._accounts.setdefault(
                account_id, {"name": account_name or f"account-{account_id}", "email": email or f"aws+{account_id}@example.com", "roles": []}
            )
            if account_name:
                account["name"] = account_name
            if role_name not in account["roles"]:
                account["roles"].append(role_name)

    def unassign(self, account_id: str, role_name: str) -> None:
        with self._lock:
            account = self._accounts.get(account_id)
            if account and role_name in account["roles"]:
                account["roles"].remove(role_name)

    @staticmethod
    def role_name_in_account(role_name: str, account_id: str) -> str:
        """The IAM role Identity Center provisions for a permission set: AWSReservedSSO_NAME_<16 hex>."""
        return f"AWSReservedSSO_{role_name}_{hashlib.sha256(f'{account_id}/{role_name}'.encode()).hexdigest()[:16]}"

    def assumed_role_arn(self, account_id: str, role_name: str, user: str | None = None) -> str:
        """What GetCallerIdentity answers for this assignment's role credentials."""
        return f"arn:aws:sts::{account_id}:assumed-role/{self.role_name_in_account(role_name, account_id)}/{user or self.user}"

    def iam_role_arn(self, account_id: str, role_name: str) -> str:
        """The provisioned role's IAM ARN (its path is /aws-reserved/sso.amazonaws.com/), for trust policies."""
        return f"arn:aws:iam::{account_id}:role/aws-reserved/sso.amazonaws.com/{self.role_name_in_account(role_name, account_id)}"

    # -- the person at the browser -------------------------------------------------------

    def pending_user_codes(self) -> list[str]:
        with self._lock:
            now = self._now()
            return [d.user_code for d in self._devices.values() if d.state == "pending" and d.expires_at > now]

    def approve(self, user_code: str) -> None:
        """The user signs in and allows the device with this code (as typed: case and dash do not matter)."""
        with self._lock:
            device = self._device_by_user_code(user_code)
            device.state = "approved"
            device.session = self._new_session()

    def deny(self, user_code: str) -> None:
        with self._lock:
            self._device_by_user_code(user_code).state = "denied"

    def set_authorization_answer(self, allow: bool) -> None:
        """What the user answers on the /authorize page (authorization-code flow) from now on."""
        self._authorization_allowed = allow

    def complete_authorization(self, authorize_url: str) -> str:
        """Play the browser for the authorization-code flow: open `authorize_url` (on this server), follow its
        redirect to the client's loopback callback, and return that callback URL (with code or error)."""
        if not authorize_url.startswith(self.oidc_url + "/authorize?"):
            raise ValueError(f"not this emulator's authorize URL: {authorize_url!r}")

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect())
        try:
            opener.open(authorize_url, timeout=10).close()
            raise AssertionError("the authorize page did not redirect")
        except urllib.error.HTTPError as answer:
            if answer.code != 302:
                raise AssertionError(f"the authorize page answered {answer.code}: {answer.read().decode()}") from None
            location = answer.headers["Location"]
        _NO_PROXY_OPENER.open(location, timeout=10).close()
        return location

    # -- tokens, sessions, registrations --------------------------------------------------

    def login(self, scopes: Iterable[str] = (DEFAULT_SCOPE,)) -> dict:
        """A signed-in user without the dance: a client registered with `scopes` and its tokens, as the
        JSON the aws CLI writes to ~/.aws/sso/cache/<sha1>.json (see token_cache_path). No scopes: a
        legacy (unscoped) client, so no refresh token."""
        scopes = tuple(scopes)
        with self._lock:
            client = self._register(scopes, None, (), issuer_url=None)
            token = self._issue_tokens(client, self._new_session())
        cached = {
            "startUrl": self.start_url,
            "region": self.region,
            "accessToken": token["accessToken"],
            "expiresAt": _iso(self._now() + token["expiresIn"]),
            "clientId": client.client_id,
            "clientSecret": client.client_secret,
            "registrationExpiresAt": _iso(client.expires_at),
        }
        if "refreshToken" in token:
            cached["refreshToken"] = token["refreshToken"]
        return cached

    def expire_access_tokens(self) -> None:
        """Every access token issued so far expires now (refresh tokens stay valid)."""
        with self._lock:
            now = self._now()
            for token in self._access_tokens.values():
                token.expires_at = min(token.expires_at, now)

    def revoke_refresh_token(self, refresh_token: str | None = None) -> None:
        """Void one refresh token (or all of them): CreateToken with it is invalid_grant."""
        with self._lock:
            for value, token in self._refresh_tokens.items():
                if refresh_token in (None, value):
                    token.void = True

    def end_sessions(self) -> None:
        """End every portal session, as an administrator revoking them would: their access tokens are
        unauthorized and their refresh tokens invalid_grant."""
        with self._lock:
            for session in self._sessions:
                session.ended = True

    def expire_registrations(self) -> None:
        """Every client secret expires now: the client must register again (InvalidClientException)."""
        with self._lock:
            for client in self._clients.values():
                client.expires_at = min(client.expires_at, int(self._now()))

    def access_token_valid(self, access_token: str) -> bool:
        with self._lock:
            return self._live_access_token(access_token) is not None

    # -- calls and faults ----------------------------------------------------------------

    def calls(self, operation: str | None = None) -> int:
        """Requests received for `operation` (RegisterClient, StartDeviceAuthorization, CreateToken,
        Authorize, GetRoleCredentials, ListAccounts, ListAccountRoles, Logout), or for all."""
        with self._calls.lock:
            return sum(1 for entry in self._calls.log if operation in (None, entry["operation"]))

    def call_log(self) -> list[dict]:
        """One entry per request: operation, params (secrets as "<redacted>"), grant (CreateToken),
        bearer (whether the portal call carried a token), status, error (the code, or None)."""
        with self._calls.lock:
            return [dict(entry, params=dict(entry["params"])) for entry in self._calls.log]

    def reset_calls(self) -> None:
        with self._calls.lock:
            self._calls.log.clear()

    def inject_fault(self, operation: str, kind: str, times: int = 1) -> None:
        """Make the next `times` requests for `operation` ("*" for any) go wrong: "401" (the API's own
        401: InvalidClientException or UnauthorizedException), "429" (TooManyRequestsException), "500",
        "503", "malformed" (HTTP 200, not JSON), or "slow:SECONDS" (answer normally after the delay)."""
        if kind.startswith("slow:"):
            float(kind.split(":", 1)[1])
        elif kind not in _FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        with self._calls.lock:
            self._calls.faults.append([operation, kind, times])

    def inject_error(self, operation: str, code: str, message: str, status: int | None = None, times: int = 1) -> None:
        """Refuse the next `times` requests for `operation` with error `code` and `message` as given, in
        the API's error shape (status: the code's usual one unless given)."""
        with self._calls.lock:
            self._calls.faults.append([operation, _ApiError(code, message, status), times])

    def inject_reply(self, operation: str, body: str, status: int = 200, times: int = 1) -> None:
        """Answer the next `times` requests for `operation` with exactly `body` (application/json) and `status`."""
        with self._calls.lock:
            self._calls.faults.append([operation, _Reply(status, body.encode()), times])

    def clear_faults(self) -> None:
        with self._calls.lock:
            self._calls.faults.clear()

    # -- internals: clock, lookups -------------------------------------------------------

    def _now(self) -> float:
        return self._sts.server_time()

    def _new_session(self) -> _PortalSession:
        session = _PortalSession(self.user, self._now() + self.settings["session_duration"])
        self._sessions.append(session)
        return session

    def _device_by_user_code(self, user_code: str) -> _DeviceAuthorization:
        wanted = user_code.upper().replace("-", "").strip()
        for device in self._devices.values():
            if device.user_code.replace("-", "") == wanted:
                return device
        raise KeyError(f"no device authorization with user code {user_code!r}")

    def _live_access_token(self, value: str) -> _Token | None:
        token = self._access_tokens.get(value)
        now = self._now()
        if token is None or token.void or token.expires_at <= now or token.session.ended or token.session.expires_at <= now:
            return None
        return token

    # -- the WSGI side -------------------------------------------------------------------

    def _app(self, api: str) -> Callable:
        routes = _OIDC_ROUTES if api == "oidc" else _PORTAL_ROUTES

        def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
            route = routes.get((environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")))
            query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
            if route is None:
                if environ.get("PATH_INFO") == "/device" and api == "oidc":
                    return _Reply(200, b"<html><body>Enter the code shown by your device.</body></html>", (("Content-Type", "text/html"),))(start_response)
                error = _ApiError("UnknownOperationException", "Unknown operation", 404)
                return error.reply(api)(start_response)
            operation, handler = route
            body = _read_json(environ) if environ["REQUEST_METHOD"] == "POST" and operation != "Logout" else {}
            bearer = environ.get("localsso.headers", {}).get("x-amz-sso_bearer_token")
            entry = {
                "operation": operation,
                "params": {k: ("<redacted>" if k in _SECRET_MEMBERS else v) for k, v in {**query, **(body if isinstance(body, dict) else {})}.items()},
                "grant": body.get("grantType") if isinstance(body, dict) else None,
                "bearer": bearer is not None,
                "status": None,
                "error": None,
            }
            with self._calls.lock:
                self._calls.log.append(entry)
            reply = self._answer(api, operation, handler, body, query, bearer)
            entry["status"] = reply.status
            if reply.status >= 300 and reply.status != 302:
                entry["error"] = dict(reply.headers).get("x-amzn-ErrorType", "").split(":", 1)[0] or str(reply.status)
            return reply(start_response)

        return app

    def _answer(self, api: str, operation: str, handler: Callable, body, query: dict, bearer: str | None) -> _Reply:
        fault = self._calls.take_fault(operation)
        if isinstance(fault, _Reply):
            return fault
        if isinstance(fault, _ApiError):
            return fault.reply(api)
        if fault is not None:
            if fault.startswith("slow:"):
                time.sleep(float(fault.split(":", 1)[1]))
            elif fault == "malformed":
                return _Reply(200, b"<html><body>this is not a JSON answer</body></html>")
            else:
                return _fault_error(api, fault).reply(api)
        if not isinstance(body, dict):
            return _ApiError("InvalidRequestException", "The request body must be a JSON object").reply(api)
        try:
            with self._lock:
                return handler(self, body, query, bearer)
        except _ApiError as error:
            return error.reply(api)

    # -- OIDC operations -----------------------------------------------------------------

    def _register(self, scopes: tuple, grant_types: tuple | None, redirect_uris: tuple, issuer_url: str | None) -> _Client:
        now = int(self._now())
        client = _Client(
            client_id=_new_secret("", 24),
            client_secret=_new_secret("", 96),
            scopes=scopes,
            grant_types=grant_types,
            redirect_uris=redirect_uris,
            issued_at=now,
            expires_at=now + int(self.settings["registration_lifetime"]),
        )
        self._clients[client.client_id] = client
        return client

    def _register_client(self, body: dict, query: dict, bearer) -> _Reply:
        for member in ("clientName", "clientType"):
            if not isinstance(body.get(member), str) or not body[member]:
                raise _ApiError("InvalidRequestException", f"{member} is required")
        if body["clientType"] != "public":
            raise _ApiError("InvalidClientMetadataException", f"Invalid client type: {body['clientType']}")
        scopes = tuple(body.get("scopes") or ())
        if not all(isinstance(s, str) and _valid_scope(s) for s in scopes):
            raise _ApiError("InvalidScopeException", "Invalid scope requested")
        grant_types = body.get("grantTypes")
        if grant_types is not None:
            grant_types = tuple(grant_types)
            if not grant_types or not set(grant_types) <= _GRANT_TYPES:
                raise _ApiError("UnsupportedGrantTypeException", "Unsupported grant type")
        redirect_uris = tuple(body.get("redirectUris") or ())
        for uri in redirect_uris:
            if not (isinstance(uri, str) and (_is_loopback_redirect(uri) or uri.startswith("https://"))):
                raise _ApiError("InvalidRedirectUriException", f"Invalid redirect URI: {uri}")
        issuer_url = body.get("issuerUrl")
        if grant_types and CODE_GRANT in grant_types:
            if not redirect_uris:
                raise _ApiError("InvalidRequestException", "redirectUris are required for the authorization_code grant")
            if issuer_url != self.start_url:
                raise _ApiError("InvalidRequestException", "issuerUrl must be the start URL of an IAM Identity Center instance")
        client = self._register(scopes, grant_types, redirect_uris, issuer_url)
        return _json_reply(
            {
                "clientId": client.client_id,
                "clientSecret": client.client_secret,
                "clientIdIssuedAt": client.issued_at,
                "clientSecretExpiresAt": client.expires_at,
            }
        )

    def _authenticated_client(self, body: dict) -> _Client:
        client = self._clients.get(body.get("clientId") or "")
        if (
            client is None
            or not hmac.compare_digest(str(body.get("clientSecret") or ""), client.client_secret)
            or client.expires_at <= self._now()
        ):
            raise _invalid_client()
        return client

    def _start_device_authorization(self, body: dict, query: dict, bearer) -> _Reply:
        client = self._authenticated_client(body)
        if not client.allows(DEVICE_GRANT):
            raise _ApiError("UnauthorizedClientException", "Client is not authorized for the device code grant")
        if body.get("startUrl") != self.start_url:
            raise _ApiError("InvalidRequestException", f"Invalid start URL: {body.get('startUrl')}")
        user_code = "".join(secrets.choice(_USER_CODE_ALPHABET) for _ in range(8))
        user_code = f"{user_code[:4]}-{user_code[4:]}"
        device = _DeviceAuthorization(
            device_code=_new_secret("", 64),
            user_code=user_code,
            client_id=client.client_id,
            expires_at=self._now() + self.settings["device_code_lifetime"],
            interval=self.settings["poll_interval"],
        )
        self._devices[device.device_code] = device
        return _json_reply(
            {
                "deviceCode": device.device_code,
                "userCode": user_code,
                "verificationUri": f"{self.oidc_url}/device",
                "verificationUriComplete": f"{self.oidc_url}/device?user_code={user_code}",
                "expiresIn": int(self.settings["device_code_lifetime"]),
                "interval": int(self.settings["poll_interval"]),
            }
        )

    def _create_token(self, body: dict, query: dict, bearer) -> _Reply:
        client = self._authenticated_client(body)
        grant = body.get("grantType")
        if grant not in _GRANT_TYPES:
            raise _ApiError("UnsupportedGrantTypeException", f"Unsupported grant type: {grant}")
        if not client.allows(grant):
            raise _ApiError("UnauthorizedClientException", f"Client is not authorized for the {grant} grant")
        session = {DEVICE_GRANT: self._device_grant, CODE_GRANT: self._code_grant, REFRESH_GRANT: self._refresh_grant}[grant](client, body)
        return _json_reply(self._issue_tokens(client, session))

    def _device_grant(self, client: _Client, body: dict) -> _PortalSession:
        device = self._devices.get(body.get("deviceCode") or "")
        if device is None or device.client_id != client.client_id or device.state == "exchanged":
            raise _invalid_grant("device code")
        if device.expires_at <= self._now():
            raise _ApiError("ExpiredTokenException", "Device code has expired")
        polled_at, previous = time.monotonic(), device.last_poll
        device.last_poll, device.polls = polled_at, device.polls + 1
        if device.polls > 2 and polled_at - previous < device.interval:
            device.interval += self.settings["slow_down_increment"]
            raise _ApiError("SlowDownException", "Client is polling too fast")
        if device.state == "pending" and self.settings["auto_approve"]:
            device.state, device.session = "approved", self._new_session()
        if device.state == "denied":
            raise _ApiError("AccessDeniedException", "Access denied by the user")
        if device.state == "pending":
            raise _ApiError("AuthorizationPendingException", "Authorization is still pending")
        device.state = "exchanged"
        return device.session

    def _code_grant(self, client: _Client, body: dict) -> _PortalSession:
        code = self._codes.get(body.get("code") or "")
        if code is None or code.used or code.client_id != client.client_id or code.expires_at <= self._now():
            raise _invalid_grant("authorization code")
        if body.get("redirectUri") != code.redirect_uri:
            raise _invalid_grant("redirect URI")
        verifier = body.get("codeVerifier")
        if not isinstance(verifier, str) or not hmac.compare_digest(_pkce_challenge(verifier), code.challenge):
            raise _invalid_grant("code verifier")
        code.used = True
        return code.session

    def _refresh_grant(self, client: _Client, body: dict) -> _PortalSession:
        token = self._refresh_tokens.get(body.get("refreshToken") or "")
        if token is None or token.void or token.client_id != client.client_id:
            raise _invalid_grant("refresh token")
        if token.session.ended or token.session.expires_at <= self._now():
            raise _invalid_grant("refresh token")  # the portal session is over: sign in again
        if not self.settings["refresh_token_reuse"]:
            token.void = True
        return token.session

    def _issue_tokens(self, client: _Client, session: _PortalSession) -> dict:
        now = self._now()
        refreshable = bool(client.scopes)
        lifetime = self.settings["access_token_lifetime"] if refreshable else session.expires_at - now
        lifetime = round(max(0, min(lifetime, session.expires_at - now)))
        access_token = _new_secret("aoa", 96)
        self._access_tokens[access_token] = _Token(client.client_id, session, now + lifetime)
        answer = {"accessToken": access_token, "tokenType": "Bearer", "expiresIn": lifetime}
        if refreshable:
            refresh_token = _new_secret("aor", 96)
            self._refresh_tokens[refresh_token] = _Token(client.client_id, session, None)
            answer["refreshToken"] = refresh_token
        return answer

    def _authorize(self, query: dict) -> _Reply:
        """GET /authorize: the page a browser opens in the authorization-code flow."""
        client = self._clients.get(query.get("client_id", ""))
        redirect_uri = query.get("redirect_uri", "")
        if client is None or not client.allows(CODE_GRANT) or client.expires_at <= self._now():
            return _page(400, "Invalid client")
        if not any(_redirect_matches(registered, redirect_uri) for registered in client.redirect_uris):
            return _page(400, "Invalid redirect URI")  # never redirect to a URI the client did not register
        state = query.get("state")

        def redirect(**params) -> _Reply:
            if state is not None:
                params["state"] = state
            separator = "&" if "?" in redirect_uri else "?"
            return _Reply(302, b"", (("Location", f"{redirect_uri}{separator}{urlencode(params)}"),))

        scopes = tuple((query.get("scopes") or query.get("scope") or "").split())
        if query.get("response_type") != "code":
            return redirect(error="unsupported_response_type")
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return redirect(error="invalid_request", error_description="PKCE with S256 is required")
        if not scopes or not set(scopes) <= set(client.scopes):
            return redirect(error="invalid_scope")
        if not self._authorization_allowed:
            return redirect(error="access_denied")
        code = _new_secret("", 48)
        self._codes[code] = _AuthorizationCode(
            client_id=client.client_id,
            redirect_uri=redirect_uri,
            challenge=query["code_challenge"].rstrip("="),
            scopes=scopes,
            expires_at=self._now() + self.settings["authorization_code_lifetime"],
            session=self._new_session(),
        )
        return redirect(code=code)

    # -- portal operations ---------------------------------------------------------------

    def _session_of(self, bearer: str | None) -> _PortalSession:
        token = self._live_access_token(bearer or "")
        if token is None:
            raise _unauthorized()
        return token.session

    def _get_role_credentials(self, body: dict, query: dict, bearer) -> _Reply:
        session = self._session_of(bearer)
        account_id, role_name = _required(query, "account_id", "accountId"), _required(query, "role_name", "roleName")
        account = self._accounts.get(account_id)
        if account is None or role_name not in account["roles"]:
            raise _no_access()
        credentials = self._sts.issue_role_session(
            account_id,
            self.role_name_in_account(role_name, account_id),
            session.user,
            int(self.settings["role_credential_duration"]),
            role_path="/aws-reserved/sso.amazonaws.com/",
        )
        return _json_reply(
            {
                "roleCredentials": {
                    "accessKeyId": credentials["AccessKeyId"],
                    "secretAccessKey": credentials["SecretAccessKey"],
                    "sessionToken": credentials["SessionToken"],
                    "expiration": int(credentials["Expiration"].timestamp() * 1000),
                }
            }
        )

    def _list_accounts(self, body: dict, query: dict, bearer) -> _Reply:
        self._session_of(bearer)
        accounts = [
            {"accountId": account_id, "accountName": account["name"], "emailAddress": account["email"]}
            for account_id, account in sorted(self._accounts.items())
            if account["roles"]
        ]
        page, next_token = _paginate(accounts, query, "accounts")
        return _json_reply({"accountList": page, **({"nextToken": next_token} if next_token else {})})

    def _list_account_roles(self, body: dict, query: dict, bearer) -> _Reply:
        self._session_of(bearer)
        account_id = _required(query, "account_id", "accountId")
        account = self._accounts.get(account_id)
        if account is None or not account["roles"]:
            raise _no_access()
        roles = [{"roleName": role, "accountId": account_id} for role in account["roles"]]
        page, next_token = _paginate(roles, query, f"roles/{account_id}")
        return _json_reply({"roleList": page, **({"nextToken": next_token} if next_token else {})})

    def _logout(self, body: dict, query: dict, bearer) -> _Reply:
        self._session_of(bearer).ended = True
        return _json_reply(None)


def _required(query: dict, name: str, member: str) -> str:
    value = query.get(name)
    if not value:
        raise _ApiError("InvalidRequestException", f"{member} is required")
    return value


def _paginate(items: list, query: dict, listing: str) -> tuple[list, str | None]:
    raw_size = query.get("max_result")
    if raw_size is None:
        size = _PAGE_SIZE
    elif not raw_size.isdigit() or not 1 <= int(raw_size) <= 100:
        raise _ApiError("InvalidRequestException", "maxResults must be between 1 and 100")
    else:
        size = int(raw_size)
    start = 0
    if "next_token" in query:
        try:
            decoded = json.loads(base64.urlsafe_b64decode(query["next_token"].encode()))
            start, token_listing = int(decoded["offset"]), decoded["listing"]
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise _ApiError("InvalidRequestException", "Invalid nextToken") from None
        if token_listing != listing or not 0 <= start <= len(items):
            raise _ApiError("InvalidRequestException", "Invalid nextToken")
    end = start + size
    next_token = None
    if end < len(items):
        next_token = base64.urlsafe_b64encode(json.dumps({"offset": end, "listing": listing}).encode()).decode()
    return items[start:end], next_token


def _fault_error(api: str, kind: str) -> _ApiError:
    if kind == "401":
        return _invalid_client() if api == "oidc" else _unauthorized()
    if kind == "429":
        return _ApiError("TooManyRequestsException", "Rate exceeded", 429)
    if kind == "503":
        return _ApiError("ServiceUnavailableException", "Service is unavailable", 503)
    return _ApiError("InternalServerException", "An internal error occurred", 500)


def _page(status: int, message: str) -> _Reply:
    return _Reply(status, f"<html><body>{message}</body></html>".encode(), (("Content-Type", "text/html"),))


def _read_json(environ: dict):
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    raw = environ["wsgi.input"].read(length) if length > 0 else b""
    try:
        return json.loads(raw) if raw else {}
    except ValueError:
        return None


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _raw_headers_handler(clock: Callable[[], float]):
    """The local STS's quiet handler, keeping the raw headers: werkzeug drops every header whose name has
    an underscore, and the portal's bearer token comes in `x-amz-sso_bearer_token`."""

    class Handler(_quiet_handler(clock)):
        def make_environ(self) -> dict:
            environ = super().make_environ()
            environ["localsso.headers"] = {name.lower(): value for name, value in self.headers.items()}
            return environ

    return Handler


_OIDC_ROUTES = {
    ("POST", "/client/register"): ("RegisterClient", LocalSSO._register_client),
    ("POST", "/device_authorization"): ("StartDeviceAuthorization", LocalSSO._start_device_authorization),
    ("POST", "/token"): ("CreateToken", LocalSSO._create_token),
    ("GET", "/authorize"): ("Authorize", lambda self, body, query, bearer: self._authorize(query)),
}
_PORTAL_ROUTES = {
    ("GET", "/federation/credentials"): ("GetRoleCredentials", LocalSSO._get_role_credentials),
    ("GET", "/assignment/accounts"): ("ListAccounts", LocalSSO._list_accounts),
    ("GET", "/assignment/roles"): ("ListAccountRoles", LocalSSO._list_account_roles),
    ("POST", "/logout"): ("Logout", LocalSSO._logout),
}


def token_cache_path(home: str | Path, session_name_or_start_url: str) -> Path:
    """Where the aws CLI keeps the token: ~/.aws/sso/cache/<sha1 of the sso-session name, or of the start
    URL for a legacy profile>.json."""
    digest = hashlib.sha1(session_name_or_start_url.encode()).hexdigest()
    return Path(home) / ".aws" / "sso" / "cache" / f"{digest}.json"


# ---------------------------------------------------------------------------------------
# Standalone


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve IAM Identity Center's OIDC and portal APIs and a local STS on 127.0.0.1.")
    parser.add_argument("--auto-approve", action="store_true", help="approve every device code on its first poll")
    args = parser.parse_args(argv)
    stop_requested = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop_requested.set())
    sts = LocalSTS().start()
    sso = LocalSSO(sts).start()
    sso.set_user("demo")
    sso.assign(ACCOUNT_ID, "Developer", account_name="Development")
    sso.configure(auto_approve=args.auto_approve)
    print(
        json.dumps(
            {
                "sts_url": sts.url,
                **sso.endpoint_env(),
                "sso_start_url": sso.start_url,
                "sso_region": sso.region,
                "sso_account_id": ACCOUNT_ID,
                "sso_role_name": "Developer",
            }
        ),
        flush=True,
    )
    stop_requested.wait()
    sso.stop()
    sts.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The AWS console federation endpoint (https://signin.aws.amazon.com/federation) on 127.0.0.1 for tests.

`LocalSignin` answers the two actions a custom identity broker uses ("Enable custom identity broker access
to the AWS console", IAM User Guide, id_roles_providers_enable-console-custom-url), for credentials of a
LocalSTS, which it asks to verify each triple and tell its kind (LocalSTS.credential_info):

    sts = LocalSTS().start()
    signin = LocalSignin(sts).start()
    signin.federation_url               # http://127.0.0.1:PORT/federation

`GET /federation?Action=getSigninToken&Session=JSON[&SessionDuration=N]` (a form POST works too), where
Session is `{"sessionId": KEY, "sessionKey": SECRET, "sessionToken": TOKEN}`, answers
`{"SigninToken": "..."}` for unexpired role sessions (AssumeRole, AssumeRoleWithSAML, ...WithWebIdentity,
IAM Identity Center role credentials) and federated users (GetFederationToken). It refuses, with HTTP 400
and an HTML page saying "Invalid credentials parameter" (the answer AWS documents in the knowledge-center
article "invalid-credentials-parameter"):
- a Session that is missing, not JSON, or lacks one of the three fields;
- credentials the STS does not know or would not accept, and expired ones;
- long-term IAM user or root keys (aws-vault needed GetFederationToken for them: "it fails with Bad
  Request", 99designs/aws-vault#106), GetSessionToken sessions ("Only federation tokens or assume role
  tokens may be used for federated login", aws-vault#1191) and AssumeRoot sessions: AWS may refuse the
  last two only at login; refusing them here is this emulator's stricter choice;
- SessionDuration that is not a whole number from 900 to 43200 (the guide: "from 900 seconds (15
  minutes) to 43200 seconds (12 hours)");
- SessionDuration with GetFederationToken credentials (the guide: "Do not use the SessionDuration HTTP
  parameter if you got the temporary credentials with GetFederationToken. Doing so will cause the
  operation to fail.");
- SessionDuration with a role session that temporary credentials asked for (role chaining, or AssumeRole
  signed by a GetSessionToken session): the guide says AssumeRole* must be called "as an IAM user with
  long-term credentials. Otherwise, the call to the federation endpoint in step 3 fails", and the
  knowledge-center article narrows it to a SessionDuration given with role-chained credentials. When the
  STS's call log no longer tells how a role session was asked for (credential_info's origin "unknown"),
  SessionDuration is accepted.

`GET /federation?Action=login&Issuer=URL&Destination=URL&SigninToken=T` answers 302 to Destination for a
token this endpoint issued, used once (this emulator's choice: the guide only says the URL "is valid for
15 minutes after it is created") and within 15 minutes on the STS's server clock; Destination must be an
https console URL of a partition (console.aws.amazon.com, console.amazonaws-us-gov.com,
console.amazonaws.cn, or a subdomain of one); Issuer is optional. Anything else is 400.

Every request is counted per action (calls("getSigninToken"), calls("login")) and recorded field by field
(call_log: the query or form fields as sent, with Session parsed and its secret key and token redacted,
the answer's status and the reason for a refusal); issued_tokens() tells what each token stands for
(credential kind, ARN, SessionDuration). Faults and lies are injected per action as in the local STS.

Not checked: the console session itself (no console here), partitions of the credentials (the STS issues
`aws` ARNs only), the Issuer's form, rate limits, and the SAML sign-in endpoint (/saml).

Run it alone (``python tests/localsignin.py``) for a demo: it starts a local STS too, prints one JSON line
with both URLs and serves until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import json
import secrets
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from html import escape
from http import HTTPStatus
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

sys.path.insert(0, str(Path(__file__).parent))
from localsts import LocalSTS, _quiet_handler  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

SIGNIN_TOKEN_LIFETIME = 900  # "The URL that the federation endpoint provides is valid for 15 minutes"
SESSION_DURATION_RANGE = (900, 43200)
CONSOLE_DOMAINS = ("console.aws.amazon.com", "console.amazonaws-us-gov.com", "console.amazonaws.cn")
_SIGNIN_KINDS = frozenset({"assumed-role", "federated"})
_FAULT_KINDS = frozenset({"500", "503", "malformed"})
_INVALID_CREDENTIALS = "Invalid credentials parameter"


@dataclass(frozen=True)
class _Reply:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),)

    def __call__(self, start_response: Callable) -> list[bytes]:
        start_response(f"{self.status} {HTTPStatus(self.status).phrase}", [*self.headers, ("Content-Length", str(len(self.body)))])
        return [self.body]


class _Refusal(Exception):
    def __init__(self, reason: str, status: int = 400):
        super().__init__(reason)
        self.reason, self.status = reason, status

    def reply(self) -> _Reply:
        page = f"<html><body><h1>HTTP Status {self.status} - {escape(self.reason)}</h1></body></html>"
        return _Reply(self.status, page.encode(), (("Content-Type", "text/html;charset=utf-8"),))


@dataclass
class _SigninToken:
    token: str
    kind: str
    arn: str
    access_key_id: str
    session_duration: int | None
    expires_at: float
    used: bool = False


def _console_destination(url: str) -> bool:
    parts = urlsplit(url)
    host = parts.hostname or ""
    return parts.scheme == "https" and any(host == domain or host.endswith("." + domain) for domain in CONSOLE_DOMAINS)


class LocalSignin:
    """The console federation endpoint on 127.0.0.1 (see the module docstring)."""

    def __init__(self, sts: LocalSTS):
        self._sts = sts
        self._lock = threading.Lock()
        self._tokens: dict[str, _SigninToken] = {}
        self._log: list[dict] = []
        self._faults: list[list] = []
        self._server = None
        self._thread: threading.Thread | None = None
        self.url = self.federation_url = ""

    def start(self, port: int = 0) -> LocalSignin:
        self._server = make_server("127.0.0.1", port, self._app, threaded=True, request_handler=_quiet_handler(self._sts.server_time))
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self.federation_url = f"{self.url}/federation"
        self._thread = threading.Thread(target=self._server.serve_forever, name="localsignin", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._server = self._thread = None

    def reset(self) -> None:
        """Forget issued tokens, calls and faults."""
        with self._lock:
            self._tokens.clear()
            self._log.clear()
            self._faults.clear()

    def calls(self, action: str | None = None) -> int:
        with self._lock:
            return sum(1 for entry in self._log if action in (None, entry["action"]))

    def call_log(self) -> list[dict]:
        """One entry per request: action, method, params (as sent; Session parsed, sessionKey and
        sessionToken "<redacted>"), status, reason (why it was refused, or None), location (of a 302)."""
        with self._lock:
            return [dict(entry, params=dict(entry["params"])) for entry in self._log]

    def reset_calls(self) -> None:
        with self._lock:
            self._log.clear()

    def issued_tokens(self) -> list[dict]:
        """Every sign-in token handed out: token, kind, arn, access_key_id, session_duration, expires_at, used."""
        with self._lock:
            return [dict(vars(token)) for token in self._tokens.values()]

    def expire_tokens(self) -> None:
        """Every sign-in token handed out so far expires now."""
        with self._lock:
            for token in self._tokens.values():
                token.expires_at = min(token.expires_at, self._sts.server_time())

    def inject_fault(self, action: str, kind: str, times: int = 1) -> None:
        """Make the next `times` requests for `action` ("*" for any) go wrong: "500", "503", "malformed"
        (HTTP 200, not JSON), or "slow:SECONDS" (answer normally after the delay)."""
        if kind.startswith("slow:"):
            float(kind.split(":", 1)[1])
        elif kind not in _FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        with self._lock:
            self._faults.append([action, kind, times])

    def inject_reply(self, action: str, body: str, status: int = 200, times: int = 1) -> None:
        """Answer the next `times` requests for `action` with exactly `body` (application/json) and `status`."""
        with self._lock:
            self._faults.append([action, _Reply(status, body.encode()), times])

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    # -- the WSGI side -------------------------------------------------------------------

    def _app(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        params = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        if environ["REQUEST_METHOD"] == "POST" and environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            params.update(parse_qsl(environ["wsgi.input"].read(length).decode("utf-8", "replace"), keep_blank_values=True))
        action = params.get("Action", "")
        entry = {"action": action, "method": environ["REQUEST_METHOD"], "params": _recorded(params), "status": None, "reason": None, "location": None}
        with self._lock:
            self._log.append(entry)
        reply = self._answer(environ, action, params)
        entry["status"] = reply.status
        headers = dict(reply.headers)
        entry["location"] = headers.get("Location")
        entry["reason"] = headers.get("X-Localsignin-Reason")
        return reply(start_response)

    def _answer(self, environ: dict, action: str, params: dict) -> _Reply:
        fault = self._take_fault(action)
        if isinstance(fault, _Reply):
            return fault
        if fault is not None:
            if fault.startswith("slow:"):
                time.sleep(float(fault.split(":", 1)[1]))
            elif fault == "malformed":
                return _Reply(200, b"<html><body>this is not a sign-in token</body></html>", (("Content-Type", "text/html"),))
            else:
                return _Refusal("Service unavailable" if fault == "503" else "Internal error", int(fault)).reply()
        try:
            if environ.get("PATH_INFO") != "/federation":
                raise _Refusal("Not found", 404)
            if environ["REQUEST_METHOD"] not in ("GET", "POST"):
                raise _Refusal("Method not allowed", 405)
            if action == "getSigninToken":
                return self._get_signin_token(params)
            if action == "login":
                return self._login(params)
            raise _Refusal("Invalid action")
        except _Refusal as refusal:
            reply = refusal.reply()
            return _Reply(reply.status, reply.body, (*reply.headers, ("X-Localsignin-Reason", refusal.reason)))

    def _take_fault(self, action: str):
        with self._lock:
            pending = [f for f in self._faults if f[0] == action] + [f for f in self._faults if f[0] == "*"]
            if not pending:
                return None
            fault = pending[0]
            fault[2] -= 1
            if fault[2] <= 0:
                self._faults.remove(fault)
            return fault[1]

    def _get_signin_token(self, params: dict) -> _Reply:
        session = _parse_session(params.get("Session"))
        info = self._sts.credential_info(session["sessionId"], session["sessionKey"], session["sessionToken"])
        if info is None:
            raise _Refusal(_INVALID_CREDENTIALS)
        if info["expired"]:
            raise _Refusal(f"{_INVALID_CREDENTIALS}: the credentials have expired")
        if info["kind"] not in _SIGNIN_KINDS:
            raise _Refusal(f"{_INVALID_CREDENTIALS}: {info['kind']} credentials cannot sign in to the console")
        duration = None
        if "SessionDuration" in params:
            raw = params["SessionDuration"]
            low, high = SESSION_DURATION_RANGE
            if not raw.isdigit() or not low <= int(raw) <= high:
                raise _Refusal(f"Invalid SessionDuration: {raw} (from {low} to {high} seconds)")
            if info["kind"] == "federated":
                raise _Refusal("SessionDuration cannot be used with GetFederationToken credentials")
            if info.get("origin") == "temporary":
                raise _Refusal("SessionDuration cannot be used with a role session that temporary credentials asked for")
            duration = int(raw)
        token = _SigninToken(
            token=secrets.token_urlsafe(384),
            kind=info["kind"],
            arn=info["arn"],
            access_key_id=session["sessionId"],
            session_duration=duration,
            expires_at=self._sts.server_time() + SIGNIN_TOKEN_LIFETIME,
        )
        with self._lock:
            self._tokens[token.token] = token
        return _Reply(200, json.dumps({"SigninToken": token.token}).encode())

    def _login(self, params: dict) -> _Reply:
        destination = params.get("Destination")
        if not destination or not _console_destination(destination):
            raise _Refusal(f"Invalid Destination: {destination!r} is not an AWS console URL")
        with self._lock:
            token = self._tokens.get(params.get("SigninToken") or "")
            if token is None:
                raise _Refusal("Invalid SigninToken")
            if token.used:
                raise _Refusal("SigninToken already used")
            if token.expires_at <= self._sts.server_time():
                raise _Refusal("SigninToken expired")
            token.used = True
        return _Reply(302, b"", (("Location", destination),))


def _parse_session(raw: str | None) -> dict:
    try:
        session = json.loads(raw or "")
    except ValueError:
        raise _Refusal(_INVALID_CREDENTIALS) from None
    if not isinstance(session, dict) or not all(isinstance(session.get(k), str) and session[k] for k in ("sessionId", "sessionKey", "sessionToken")):
        raise _Refusal(_INVALID_CREDENTIALS)
    return session


def _recorded(params: dict) -> dict:
    recorded = dict(params)
    if "Session" in params:
        try:
            session = json.loads(params["Session"])
        except ValueError:
            return recorded
        if isinstance(session, dict):
            recorded["Session"] = {k: ("<redacted>" if k in ("sessionKey", "sessionToken") else v) for k, v in session.items()}
    return recorded


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description="Serve the console federation endpoint and a local STS on 127.0.0.1.").parse_args(argv)
    stop_requested = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop_requested.set())
    sts = LocalSTS().start()
    signin = LocalSignin(sts).start()
    print(json.dumps({"sts_url": sts.url, "federation_url": signin.federation_url}), flush=True)
    stop_requested.wait()
    signin.stop()
    sts.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A strict local AWS STS endpoint for tests, built on moto's server.

moto answers IAM and most of STS, but it checks almost nothing: any key works, a session
credential from GetSessionToken loses its user, MFA codes and trust policies are ignored.
`LocalSTS` serves moto behind a WSGI gate that makes the checks AWS makes and answers the
way AWS does, so code under test meets the same refusals it would meet in production.

    sts = LocalSTS().start()
    user = sts.create_user("alice")
    role_arn = sts.create_role("Admin", require_mfa=True)

What the gate refuses, with AWS's codes: unknown or inactive keys, issued keys without
their session token and long-term keys with one (InvalidClientTokenId); expired issued
credentials (ExpiredToken); requests dated more than 5 minutes off the server's clock
(SignatureDoesNotMatch); bad parameters (ValidationError); AssumeRole without an existing
role and a trust policy that allows the caller, its ExternalId and MFA context, over
MaxSessionDuration or over an hour when chaining; bad, unknown or reused MFA codes; STS
token calls made with session credentials. It answers GetCallerIdentity, GetSessionToken,
GetFederationToken, GetAccessKeyInfo, DecodeAuthorizationMessage and AssumeRoot itself;
moto issues role credentials, which the gate records. Trust policies: Allow statements,
AWS principals, StringEquals and Bool conditions; anything else fails closed.

Run it alone (``python tests/localsts.py [--port N] [--state-file PATH]``) for a demo
endpoint with a user ``demo`` and a role ``Admin``; it prints one JSON line and serves
until SIGTERM or SIGINT.

Clocks: issued credentials expire and requests are dated by the server's clock, which runs
``clock_offset`` seconds ahead of real time. MFA codes are checked against real time, the
clock of the user's device.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import dataclasses
import datetime as dt
import email.utils
import fnmatch
import hmac
import io
import json
import os
import re
import secrets
import signal
import string
import sys
import threading
import time
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

import boto3
import pyotp
from botocore.config import Config
from moto.core import DEFAULT_ACCOUNT_ID
from moto.iam.models import get_account_id_from, iam_backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import WSGIRequestHandler, make_server

ADMIN_ACCESS_KEY_ID = "AKIAADMINADMINADMIN0"
ADMIN_SECRET_ACCESS_KEY = "localsts/admin/secret/key/not/a/real/one"
ACCOUNT_ID = DEFAULT_ACCOUNT_ID
REGION = "us-east-1"
_STS_API_VERSION = "2011-06-15"
_STS_NAMESPACE = f"https://sts.amazonaws.com/doc/{_STS_API_VERSION}/"

_MAX_CLOCK_SKEW = 300
_ROLE_CHAINING_LIMIT = 3600
_ROOT_SESSION_LIMIT = 3600
_TOTP_STEP = 30
_UNSIGNED_ACTIONS = frozenset({"AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"})
_REDACTED_PARAMS = frozenset({"TokenCode", "WebIdentityToken", "SAMLAssertion"})
_FAULT_KINDS = frozenset({"throttle", "500", "503", "expired_token", "access_denied", "malformed"})
_AUTHORIZATION_MESSAGE_MARKER = b"localsts-authorization-message:"
_IDENTITY_SIGNING_KEY = secrets.token_bytes(32)  # signs the web identity tokens this server hands out

_ARN_TEXT_PATTERN = r"[\u0009\u000A\u000D\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]+"
_NAME_PATTERN = r"[\w+=,.@-]*"
_EXTERNAL_ID_PATTERN = r"[\w+=,.@:/-]*"
_SERIAL_NUMBER_PATTERN = r"[\w+=/:,.@-]*"
_TOKEN_CODE_PATTERN = r"[\d]*"
_ROLE_ARN = re.compile(r"arn:aws:iam::(\d{12}):role/(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}")
_TASK_POLICY_ARN = re.compile(r"arn:aws:iam::aws:policy/root-task/[\w+=,.@-]+")
_CREDENTIAL_SCOPE = re.compile(r"(?:Credential=)?([^/\s,=]+)/\d{8}/[^/]+/([^/]+)/aws4_request")

_NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # 127.0.0.1 only, never a proxy

_MFA_DEVICE_UNKNOWN = (
    "MultiFactorAuthentication failed, unable to validate MFA code. "
    "Please verify your MFA serial number is valid and associated with this user."
)
_MFA_CODE_INVALID = "MultiFactorAuthentication failed with invalid MFA one time pass code."


# ---------------------------------------------------------------------------------------
# Values


@dataclass(frozen=True)
class _Identity:
    """Who a credential speaks for."""

    arn: str  # what GetCallerIdentity answers
    user_id: str
    account: str
    principal_arn: str  # what a trust policy names: a user, a role or an account root
    moto_access_key_id: str  # the key moto knows this identity by


@dataclass(frozen=True)
class _IssuedCredential:
    access_key_id: str
    secret_access_key: str
    session_token: str
    kind: str  # "session" | "assumed-role" | "federated" | "root-task"
    expiration: dt.datetime
    mfa_present: bool
    identity: _Identity


@dataclass(frozen=True)
class _Caller:
    identity: _Identity
    issued: _IssuedCredential | None = None

    @property
    def mfa_present(self) -> bool:
        return bool(self.issued and self.issued.mfa_present)

    @property
    def is_account_root(self) -> bool:
        return self.issued is None and self.identity.arn.endswith(":root")


@dataclass(frozen=True)
class _StsRequest:
    action: str
    params: dict[str, str]
    access_key_id: str | None
    amz_date: str | None
    security_token: str | None


@dataclass
class _MfaDevice:
    secret: str
    user_arn: str
    used_steps: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class _Reply:
    """A complete STS answer made here rather than by moto."""

    status: int
    body: str | bytes  # bytes: exactly these bytes, UTF-8 or not

    def __call__(self, start_response: Callable) -> list[bytes]:
        payload = self.body if isinstance(self.body, bytes) else self.body.encode()
        headers = [("Content-Type", "text/xml"), ("Content-Length", str(len(payload)))]
        start_response(f"{self.status} {HTTPStatus(self.status).phrase}", headers)
        return [payload]


@dataclass(frozen=True)
class _Forward:
    """Pass the request on to moto; record the role credentials it answers with, if any."""

    issues_role_credentials: bool = False
    mfa_present: bool = False


class _StsError(Exception):
    def __init__(self, status: int, code: str, message: str, fault_type: str = "Sender"):
        super().__init__(message)
        self.status, self.code, self.message, self.fault_type = status, code, message, fault_type

    def reply(self) -> _Reply:
        return _Reply(
            self.status,
            f'<ErrorResponse xmlns="{_STS_NAMESPACE}"><Error><Type>{self.fault_type}</Type>'
            f"<Code>{escape(self.code)}</Code><Message>{escape(self.message)}</Message></Error>"
            f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>",
        )


def _validation_error(message: str) -> _StsError:
    return _StsError(400, "ValidationError", message)


def _access_denied(message: str) -> _StsError:
    return _StsError(403, "AccessDenied", message)


def _invalid_client_token() -> _StsError:
    return _StsError(403, "InvalidClientTokenId", "The security token included in the request is invalid.")


def _expired_token() -> _StsError:
    return _StsError(400, "ExpiredToken", "The security token included in the request is expired")


def _not_authorized(caller_arn: str, action: str, resource: str | None = None) -> _StsError:
    on_resource = f" on resource: {resource}" if resource else ""
    return _access_denied(f"User: {caller_arn} is not authorized to perform: sts:{action}{on_resource}")


# ---------------------------------------------------------------------------------------
# XML and parameters


def _to_xml(value: dict) -> str:
    return "".join(
        f"<{key}>{_to_xml(item) if isinstance(item, dict) else escape(str(item))}</{key}>"
        for key, item in value.items()
    )


def _result_reply(action: str, result: dict) -> _Reply:
    return _Reply(
        200,
        f'<{action}Response xmlns="{_STS_NAMESPACE}"><{action}Result>{_to_xml(result)}</{action}Result>'
        f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></{action}Response>",
    )


def _format_time(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _credentials_xml(credential: _IssuedCredential) -> dict:
    return {
        "AccessKeyId": credential.access_key_id,
        "SecretAccessKey": credential.secret_access_key,
        "SessionToken": credential.session_token,
        "Expiration": _format_time(credential.expiration),
    }


def _required(params: dict[str, str], name: str, member: str) -> str:
    if name not in params:
        raise _validation_error(
            f"1 validation error detected: Value null at '{member}' failed to satisfy constraint: "
            "Member must not be null"
        )
    return params[name]


def _check_text(value: str, member: str, pattern: str, low: int, high: int) -> str:
    """Apply an API model string constraint, refusing with AWS's wording."""
    if len(value) < low:
        constraint = f"Member must have length greater than or equal to {low}"
    elif len(value) > high:
        constraint = f"Member must have length less than or equal to {high}"
    elif not re.fullmatch(pattern, value):
        constraint = f"Member must satisfy regular expression pattern: {pattern}"
    else:
        return value
    raise _validation_error(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
    )


def _int_param(params: dict[str, str], name: str, member: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    prefix = f"1 validation error detected: Value '{raw}' at '{member}' failed to satisfy constraint: "
    if not re.fullmatch(r"-?\d+", raw):
        raise _validation_error(prefix + "Member must be a number")
    value = int(raw)
    if value < low:
        raise _validation_error(prefix + f"Member must have value greater than or equal to {low}")
    if value > high:
        raise _validation_error(prefix + f"Member must have value less than or equal to {high}")
    return value


# ---------------------------------------------------------------------------------------
# Reading requests


def _read_body(environ: dict) -> bytes:
    """Read the request body and hand the wrapped app a fresh stream with the same bytes."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def _credential_scope(text: str | None) -> tuple[str | None, str | None]:
    """(access key id, service) from a SigV4 Authorization header or X-Amz-Credential."""
    match = _CREDENTIAL_SCOPE.search(text or "")
    return (match.group(1), match.group(2)) if match else (None, None)


def _read_sts_request(environ: dict) -> _StsRequest | None:
    """The STS request in environ, or None when it is for another service."""
    access_key_id, service = _credential_scope(environ.get("HTTP_AUTHORIZATION"))
    if service not in (None, "sts"):
        return None
    params = dict(parse_qsl(environ.get("QUERY_STRING", "")))
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        params.update(parse_qsl(_read_body(environ).decode("utf-8", "replace")))
    if service is None:
        access_key_id, service = _credential_scope(params.get("X-Amz-Credential"))
    action = params.get("Action")
    unsigned_sts = service is None and params.get("Version") == _STS_API_VERSION
    if action is None or not (service == "sts" or unsigned_sts):
        return None
    return _StsRequest(
        action=action,
        params=params,
        access_key_id=access_key_id,
        amz_date=environ.get("HTTP_X_AMZ_DATE") or params.get("X-Amz-Date"),
        security_token=environ.get("HTTP_X_AMZ_SECURITY_TOKEN") or params.get("X-Amz-Security-Token"),
    )


def _sign_as(environ: dict, access_key_id: str, moto_access_key_id: str) -> None:
    """Name in the Authorization header the key moto knows, so moto sees the caller we see."""
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    environ["HTTP_AUTHORIZATION"] = authorization.replace(
        f"Credential={access_key_id}/", f"Credential={moto_access_key_id}/", 1
    )


def _call_app(app: Callable, environ: dict) -> tuple[str, list[tuple[str, str]], bytes]:
    captured: list = []
    chunks = app(environ, lambda status, headers, exc_info=None: captured.extend([status, headers]))
    try:
        body = b"".join(chunks)
    finally:
        getattr(chunks, "close", lambda: None)()
    return captured[0], list(captured[1]), body


# ---------------------------------------------------------------------------------------
# Identities and trust


def _iam_backend(account: str):
    return iam_backends[account]["aws"]


def _root_identity(account: str, moto_access_key_id: str) -> _Identity:
    arn = f"arn:aws:iam::{account}:root"
    return _Identity(arn, account, account, arn, moto_access_key_id)


def _long_term_identity(access_key_id: str) -> _Identity | None:
    """The admin root or the moto IAM user owning this active access key."""
    if access_key_id == ADMIN_ACCESS_KEY_ID:
        return _root_identity(ACCOUNT_ID, access_key_id)
    account = get_account_id_from(access_key_id)
    key = _iam_backend(account).access_keys.get(access_key_id)
    if key is None or key.user_name is None or key.status != "Active":
        return None
    user = _iam_backend(account).get_user(key.user_name)
    return _Identity(user.arn, user.id, account, user.arn, access_key_id)


def _find_role(account: str, role_arn: str):
    return next((role for role in _iam_backend(account).get_roles() if role.arn == role_arn), None)


def _listify(value) -> list:
    return value if isinstance(value, list) else [value]


def _principal_matches(principal, identity: _Identity) -> bool:
    """Account root (or bare account id) trusts everyone in the account; an ARN trusts itself."""
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    names = {identity.principal_arn, identity.arn, identity.account, f"arn:aws:iam::{identity.account}:root", "*"}
    return any(name in names for name in _listify(principal.get("AWS", [])))


def _conditions_hold(conditions: dict, context: dict[str, str]) -> bool:
    """StringEquals and Bool only; any other operator fails closed."""
    for operator, tests in conditions.items():
        if operator not in ("StringEquals", "Bool"):
            return False
        for key, expected in tests.items():
            actual = context.get(key.lower())
            if actual is None:
                return False
            wanted = [str(item) for item in _listify(expected)]
            if operator == "Bool":
                actual, wanted = actual.lower(), [item.lower() for item in wanted]
            if actual not in wanted:
                return False
    return True


def _trust_allows(policy_document: str, identity: _Identity, context: dict[str, str]) -> bool:
    statements = _listify(json.loads(policy_document).get("Statement", []))
    return any(
        statement.get("Effect") == "Allow"
        and any(fnmatch.fnmatchcase("sts:assumerole", item.lower()) for item in _listify(statement.get("Action", [])))
        and _principal_matches(statement.get("Principal"), identity)
        and _conditions_hold(statement.get("Condition", {}), context)
        for statement in statements
    )


def _trust_policy(principal: str, external_id: str | None, require_mfa: bool) -> str:
    statement: dict = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
    conditions: dict = {}
    if external_id is not None:
        conditions["StringEquals"] = {"sts:ExternalId": external_id}
    if require_mfa:
        conditions["Bool"] = {"aws:MultiFactorAuthPresent": "true"}
    if conditions:
        statement["Condition"] = conditions
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _federated_action(provider_arn: str) -> str:
    return "sts:AssumeRoleWithSAML" if ":saml-provider/" in provider_arn else "sts:AssumeRoleWithWebIdentity"


def _federated_trust_policy(provider_arn: str) -> str:
    statement = {"Effect": "Allow", "Principal": {"Federated": provider_arn}, "Action": _federated_action(provider_arn)}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _trust_allows_federated(policy_document: str, provider_arn: str, context: dict[str, str]) -> bool:
    """A statement that names this identity provider as a Federated principal for its action."""
    action = _federated_action(provider_arn).lower()
    statements = _listify(json.loads(policy_document).get("Statement", []))
    return any(
        statement.get("Effect") == "Allow"
        and any(fnmatch.fnmatchcase(action, item.lower()) for item in _listify(statement.get("Action", [])))
        and isinstance(statement.get("Principal"), dict)
        and provider_arn in _listify(statement["Principal"].get("Federated", []))
        and _conditions_hold(statement.get("Condition", {}), context)
        for statement in statements
    )


# ---------------------------------------------------------------------------------------
# Web identity tokens and SAML assertions this server issues and checks


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign_jwt(claims: dict) -> str:
    signing_input = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." + _b64url(json.dumps(claims).encode())
    signature = hmac.new(_IDENTITY_SIGNING_KEY, signing_input.encode(), "sha256").digest()
    return signing_input + "." + _b64url(signature)


def _verified_jwt_claims(token: str) -> dict:
    """The claims of a token this server signed; InvalidIdentityToken for anything else."""
    parts = token.split(".")
    try:
        expected = hmac.new(_IDENTITY_SIGNING_KEY, f"{parts[0]}.{parts[1]}".encode(), "sha256").digest()
        if len(parts) != 3 or not hmac.compare_digest(_b64url_decode(parts[2]), expected):
            raise ValueError("bad signature")
        claims = json.loads(_b64url_decode(parts[1]))
    except (IndexError, ValueError, binascii.Error):
        raise _StsError(400, "InvalidIdentityToken", "The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request.")
    return claims


_SAML_ROLE_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/Role"
_SAML_SESSION_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
_SAML_NS = {"samlp": "urn:oasis:names:tc:SAML:2.0:protocol", "saml": "urn:oasis:names:tc:SAML:2.0:assertion"}


def _saml_response(role_arn: str, provider_arn: str, subject: str, session_name: str, not_on_or_after: dt.datetime) -> str:
    """A base64 SAMLResponse as an IdP posts it to AWS (unsigned: this server trusts what it made)."""
    stamp = _format_time(not_on_or_after)
    attribute = '<saml:Attribute Name="{}"><saml:AttributeValue>{}</saml:AttributeValue></saml:Attribute>'
    document = (
        f'<samlp:Response xmlns:samlp="{_SAML_NS["samlp"]}" xmlns:saml="{_SAML_NS["saml"]}" ID="_{uuid.uuid4().hex}" Version="2.0">'
        f"<saml:Issuer>http://idp.localsts.example</saml:Issuer>"
        f"<saml:Assertion><saml:Issuer>http://idp.localsts.example</saml:Issuer>"
        f'<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">{escape(subject)}</saml:NameID>'
        f'<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">'
        f'<saml:SubjectConfirmationData NotOnOrAfter="{stamp}" Recipient="https://signin.aws.amazon.com/saml"/>'
        f"</saml:SubjectConfirmation></saml:Subject>"
        f'<saml:Conditions NotOnOrAfter="{stamp}"><saml:AudienceRestriction><saml:Audience>https://signin.aws.amazon.com/saml</saml:Audience>'
        f"</saml:AudienceRestriction></saml:Conditions><saml:AttributeStatement>"
        + attribute.format(_SAML_ROLE_ATTRIBUTE, escape(f"{role_arn},{provider_arn}"))
        + attribute.format(_SAML_SESSION_ATTRIBUTE, escape(session_name))
        + "</saml:AttributeStatement></saml:Assertion></samlp:Response>"
    )
    return base64.b64encode(document.encode()).decode()


def _saml_claims(assertion: str) -> tuple[set[tuple[str, str]], dt.datetime]:
    """({(role, provider)} the assertion grants, when it expires); InvalidIdentityToken when it is no SAMLResponse."""
    try:
        root = ET.fromstring(base64.b64decode(assertion, validate=True))
        stamps = [element.get("NotOnOrAfter") for element in root.iter() if element.get("NotOnOrAfter")]
        expires = min(dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc) for stamp in stamps)
    except (binascii.Error, ValueError, ET.ParseError):
        raise _StsError(400, "InvalidIdentityToken", "Invalid SAML response: not a base64-encoded SAML 2.0 response.")
    pairs = set()
    for attribute in root.iter(f"{{{_SAML_NS['saml']}}}Attribute"):
        if attribute.get("Name") == _SAML_ROLE_ATTRIBUTE:
            for value in attribute.iter(f"{{{_SAML_NS['saml']}}}AttributeValue"):
                role, _, provider = (value.text or "").partition(",")
                pairs.add((role.strip(), provider.strip()))
    return pairs, expires


# ---------------------------------------------------------------------------------------
# State


class _Ledger:
    """Every STS request seen, and the faults waiting for the next ones."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._log: list[dict] = []
        self._faults: list[list] = []  # [action, kind, remaining], in injection order

    def record(self, request: _StsRequest) -> None:
        params = {
            name: "<redacted>" if name in _REDACTED_PARAMS else value
            for name, value in request.params.items()
            if name not in ("Action", "Version")
        }
        with self._lock:
            self._log.append({"action": request.action, "access_key_id": request.access_key_id, "params": params})

    def calls(self, action: str | None) -> int:
        with self._lock:
            return sum(1 for entry in self._log if action in (None, entry["action"]))

    def log(self) -> list[dict]:
        with self._lock:
            return [dict(entry, params=dict(entry["params"])) for entry in self._log]

    def clear_calls(self) -> None:
        with self._lock:
            self._log.clear()

    def add_fault(self, action: str, kind: str, times: int) -> None:
        with self._lock:
            self._faults.append([action, kind, times])

    def take_fault(self, action: str) -> str | None:
        """The kind of the first pending fault for this action (a named one before "*")."""
        with self._lock:
            pending = [f for f in self._faults if f[0] == action] + [f for f in self._faults if f[0] == "*"]
            if not pending:
                return None
            fault = pending[0]
            fault[2] -= 1
            if fault[2] <= 0:
                self._faults.remove(fault)
            return fault[1]

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()


class _Vault:
    """Credentials this server issued and the MFA devices it made, with their used codes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._issued: dict[str, _IssuedCredential] = {}
        self._devices: dict[str, _MfaDevice] = {}

    def issue(self, kind: str, identity: _Identity, expiration: dt.datetime, mfa_present: bool) -> _IssuedCredential:
        alphabet = string.ascii_uppercase + string.digits
        credential = _IssuedCredential(
            access_key_id="ASIA" + "".join(secrets.choice(alphabet) for _ in range(16)),
            secret_access_key=base64.b64encode(secrets.token_bytes(30)).decode(),
            session_token=base64.b64encode(secrets.token_bytes(180)).decode(),
            kind=kind,
            expiration=expiration,
            mfa_present=mfa_present,
            identity=identity,
        )
        self.keep(credential)
        return credential

    def keep(self, credential: _IssuedCredential) -> None:
        with self._lock:
            self._issued[credential.access_key_id] = credential

    def issued(self, access_key_id: str) -> _IssuedCredential | None:
        with self._lock:
            return self._issued.get(access_key_id)

    def add_device(self, serial: str, secret: str, user_arn: str) -> None:
        with self._lock:
            self._devices[serial] = _MfaDevice(secret, user_arn)

    def consume_code(self, serial: str, code: str, user_arn: str) -> None:
        """Accept a TOTP code once (one step either side of now), or refuse like AWS."""
        with self._lock:
            device = self._devices.get(serial)
            if device is None or device.user_arn != user_arn:
                raise _access_denied(_MFA_DEVICE_UNKNOWN)
            step = _matching_step(device.secret, code)
            if step is None or step in device.used_steps:
                raise _access_denied(_MFA_CODE_INVALID)
            device.used_steps.add(step)

    def clear(self) -> None:
        with self._lock:
            self._issued.clear()
            self._devices.clear()


def _matching_step(secret: str, code: str) -> int | None:
    totp = pyotp.TOTP(secret, interval=_TOTP_STEP)
    now_step = int(time.time() // _TOTP_STEP)
    for step in (now_step - 1, now_step, now_step + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _encode_message(document: dict) -> str:
    return base64.urlsafe_b64encode(_AUTHORIZATION_MESSAGE_MARKER + json.dumps(document).encode()).decode()


def _decode_message(encoded: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(encoded.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raw = b""
    if not raw.startswith(_AUTHORIZATION_MESSAGE_MARKER):
        raise _StsError(400, "InvalidAuthorizationMessageException", "The encoded authorization message is invalid.")
    return raw[len(_AUTHORIZATION_MESSAGE_MARKER) :].decode()


# ---------------------------------------------------------------------------------------
# The gate in front of moto


class _StsGate:
    """WSGI middleware: counts STS calls, injects faults, enforces AWS's checks, fills moto's gaps."""

    def __init__(self, moto_app: Callable, ledger: _Ledger, vault: _Vault, clock: Callable[[], float]):
        self.moto_app, self.ledger, self.vault, self.clock = moto_app, ledger, vault, clock
        self.handlers: dict[str, Callable[[_StsRequest, _Caller | None], _Reply | _Forward]] = {
            "AssumeRole": self.assume_role,
            "AssumeRoleWithSAML": self.assume_role_with_saml,
            "AssumeRoleWithWebIdentity": self.assume_role_with_web_identity,
            "AssumeRoot": self.assume_root,
            "DecodeAuthorizationMessage": self.decode_authorization_message,
            "GetAccessKeyInfo": self.get_access_key_info,
            "GetCallerIdentity": self.get_caller_identity,
            "GetFederationToken": self.get_federation_token,
            "GetSessionToken": self.get_session_token,
            "GetWebIdentityToken": self.get_web_identity_token,
        }

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = _read_sts_request(environ)
        if request is None:
            return self.moto_app(environ, start_response)
        self.ledger.record(request)
        try:
            outcome = self.outcome(request, environ)
        except _StsError as error:
            outcome = error.reply()
        if isinstance(outcome, _Reply):
            return outcome(start_response)
        return self.forward(environ, start_response, request, outcome)

    def outcome(self, request: _StsRequest, environ: dict) -> _Reply | _Forward:
        fault = self.ledger.take_fault(request.action)
        if fault is not None:
            reply = self.apply_fault(fault, request)
            if reply is not None:
                return reply
        caller = self.authenticate(request)
        if caller is not None:
            _sign_as(environ, request.access_key_id, caller.identity.moto_access_key_id)
        handler = self.handlers.get(request.action)
        if handler is not None:
            return handler(request, caller)
        return _Forward(issues_role_credentials=request.action in _UNSIGNED_ACTIONS)

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(int(self.clock()), dt.timezone.utc)

    # -- faults --------------------------------------------------------------------------

    def apply_fault(self, kind, request: _StsRequest) -> _Reply | None:
        if isinstance(kind, _Reply):  # a reply the test wrote itself (inject_reply, inject_error)
            return kind
        if kind.startswith("slow:"):
            time.sleep(float(kind.split(":", 1)[1]))
            return None
        if kind == "malformed":
            return _Reply(200, "<html><body>this is not an STS response</body>")
        caller_arn = self.best_effort_arn(request.access_key_id)
        error = {
            "throttle": _StsError(400, "Throttling", "Rate exceeded"),
            "500": _StsError(500, "InternalFailure", "An internal error occurred.", "Receiver"),
            "503": _StsError(503, "ServiceUnavailable", "Service is unavailable. Please try again.", "Receiver"),
            "expired_token": _expired_token(),
            "access_denied": _not_authorized(caller_arn, request.action),
        }[kind]
        return error.reply()

    def best_effort_arn(self, access_key_id: str | None) -> str:
        issued = self.vault.issued(access_key_id or "")
        identity = issued.identity if issued else _long_term_identity(access_key_id or "")
        return identity.arn if identity else "anonymous"

    # -- authentication ------------------------------------------------------------------

    def authenticate(self, request: _StsRequest) -> _Caller | None:
        """The caller, after the key, clock and expiry checks; None for unsigned web identity/SAML."""
        if request.access_key_id is None:
            if request.action in _UNSIGNED_ACTIONS:
                return None
            raise _StsError(403, "MissingAuthenticationToken", "Request is missing Authentication Token")
        caller = self.identify(request)
        self.check_clock(request.amz_date)
        if caller.issued is not None and caller.issued.expiration <= self.now():
            raise _expired_token()
        return caller

    def identify(self, request: _StsRequest) -> _Caller:
        """Issued keys need their own session token; long-term keys must come without one."""
        issued = self.vault.issued(request.access_key_id)
        if issued is not None:
            if not hmac.compare_digest(request.security_token or "", issued.session_token):
                raise _invalid_client_token()
            return _Caller(issued.identity, issued)
        identity = _long_term_identity(request.access_key_id)
        if identity is None or request.security_token:
            raise _invalid_client_token()
        return _Caller(identity)

    def check_clock(self, amz_date: str | None) -> None:
        if amz_date is None:
            return
        try:
            signed = dt.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc)
        except ValueError:
            raise _StsError(400, "IncompleteSignature", f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'.")
        now = self.now()
        window = dt.timedelta(seconds=_MAX_CLOCK_SKEW)
        stamp = "%Y%m%dT%H%M%SZ"
        if signed < now - window:
            message = (
                f"Signature expired: {amz_date} is now earlier than {(now - window).strftime(stamp)} "
                f"({now.strftime(stamp)} - 5 min.)"
            )
        elif signed > now + window:
            message = (
                f"Signature not yet current: {amz_date} is still later than {(now + window).strftime(stamp)} "
                f"({now.strftime(stamp)} + 5 min.)"
            )
        else:
            return
        raise _StsError(403, "SignatureDoesNotMatch", message)

    def mfa_in_call(self, params: dict[str, str], caller: _Caller) -> bool:
        """Verify SerialNumber + TokenCode when either is given; True when they proved MFA."""
        serial, code = params.get("SerialNumber"), params.get("TokenCode")
        if serial is None and code is None:
            return False
        if serial is None:
            raise _access_denied(_MFA_DEVICE_UNKNOWN)
        if code is None:
            raise _access_denied(_MFA_CODE_INVALID)
        _check_text(serial, "serialNumber", _SERIAL_NUMBER_PATTERN, 9, 256)
        _check_text(code, "tokenCode", _TOKEN_CODE_PATTERN, 6, 6)
        self.vault.consume_code(serial, code, caller.identity.principal_arn)
        return True

    # -- actions -------------------------------------------------------------------------

    def get_caller_identity(self, request: _StsRequest, caller: _Caller) -> _Reply:
        identity = caller.identity
        result = {"UserId": identity.user_id, "Account": identity.account, "Arn": identity.arn}
        return _result_reply("GetCallerIdentity", result)

    def get_access_key_info(self, request: _StsRequest, caller: _Caller) -> _Reply:
        access_key_id = _required(request.params, "AccessKeyId", "accessKeyId")
        issued = self.vault.issued(access_key_id)
        account = issued.identity.account if issued else get_account_id_from(access_key_id)
        return _result_reply("GetAccessKeyInfo", {"Account": account})

    def get_session_token(self, request: _StsRequest, caller: _Caller) -> _Reply:
        duration = _int_param(request.params, "DurationSeconds", "durationSeconds", 43200, 900, 129600)
        if caller.issued is not None:
            raise _access_denied("Cannot call GetSessionToken with session credentials")
        if caller.is_account_root:
            duration = min(duration, _ROOT_SESSION_LIMIT)
        mfa_present = self.mfa_in_call(request.params, caller)
        credential = self.issue("session", caller.identity, duration, mfa_present)
        return _result_reply("GetSessionToken", {"Credentials": _credentials_xml(credential)})

    def get_federation_token(self, request: _StsRequest, caller: _Caller) -> _Reply:
        name = _check_text(_required(request.params, "Name", "name"), "name", _NAME_PATTERN, 2, 32)
        duration = _int_param(request.params, "DurationSeconds", "durationSeconds", 43200, 900, 129600)
        if caller.issued is not None:
            raise _access_denied("Cannot call GetFederationToken with session credentials")
        if caller.is_account_root:
            duration = min(duration, _ROOT_SESSION_LIMIT)
        account = caller.identity.account
        arn = f"arn:aws:sts::{account}:federated-user/{name}"
        identity = _Identity(arn, f"{account}:{name}", account, arn, caller.identity.moto_access_key_id)
        credential = self.issue("federated", identity, duration, mfa_present=False)
        federated_user = {"FederatedUserId": identity.user_id, "Arn": arn}
        return _result_reply(
            "GetFederationToken", {"Credentials": _credentials_xml(credential), "FederatedUser": federated_user}
        )

    def assume_role(self, request: _StsRequest, caller: _Caller) -> _Forward:
        params = request.params
        role_arn = _check_text(_required(params, "RoleArn", "roleArn"), "roleArn", _ARN_TEXT_PATTERN, 20, 2048)
        _check_text(_required(params, "RoleSessionName", "roleSessionName"), "roleSessionName", _NAME_PATTERN, 2, 64)
        external_id = params.get("ExternalId")
        if external_id is not None:
            _check_text(external_id, "externalId", _EXTERNAL_ID_PATTERN, 2, 1224)
        duration = _int_param(params, "DurationSeconds", "durationSeconds", 3600, 900, 43200)
        arn_match = _ROLE_ARN.fullmatch(role_arn)
        if arn_match is None:
            raise _validation_error("Request ARN is invalid")
        mfa_present = self.mfa_in_call(params, caller) or caller.mfa_present
        role = _find_role(arn_match.group(1), role_arn)
        context = {"sts:externalid": external_id, "aws:multifactorauthpresent": "true" if mfa_present else None}
        context = {key: value for key, value in context.items() if value is not None}
        if role is None or not _trust_allows(role.assume_role_policy_document, caller.identity, context):
            raise _not_authorized(caller.identity.arn, "AssumeRole", role_arn)
        chaining = caller.issued is not None and caller.issued.kind == "assumed-role"
        if chaining and duration > _ROLE_CHAINING_LIMIT:
            raise _validation_error(
                "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
            )
        if duration > int(role.max_session_duration or 3600):
            raise _validation_error("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
        return _Forward(issues_role_credentials=True, mfa_present=mfa_present)

    def assume_role_with_web_identity(self, request: _StsRequest, caller: None) -> _Forward:
        """A token this server signed, from a registered OIDC provider and audience, for a role that trusts it."""
        params = request.params
        _check_text(_required(params, "RoleSessionName", "roleSessionName"), "roleSessionName", _NAME_PATTERN, 2, 64)
        token = _check_text(_required(params, "WebIdentityToken", "webIdentityToken"), "webIdentityToken", r"[\s\S]*", 4, 20000)
        claims = _verified_jwt_claims(token)
        if claims.get("exp", 0) <= self.clock():
            raise _StsError(400, "ExpiredTokenException", "Token expired: current date/time must be before the expiration date/time.")
        host = str(claims.get("iss", "")).removeprefix("https://")
        provider = next((p for p in _iam_backend(ACCOUNT_ID).open_id_providers.values() if p.url == host), None)
        if provider is None:
            raise _StsError(400, "InvalidIdentityToken", f"No OpenIDConnect provider found in your account for {claims.get('iss')}")
        if claims.get("aud") not in provider.client_id_list:
            raise _StsError(400, "InvalidIdentityToken", "Incorrect token audience")
        context = {f"{host}:aud": str(claims["aud"]).lower(), f"{host}:sub": str(claims.get("sub", "")).lower()}
        return self.federated_role(params, provider.arn, context, "AssumeRoleWithWebIdentity")

    def assume_role_with_saml(self, request: _StsRequest, caller: None) -> _Forward:
        """An unexpired SAMLResponse that grants this role through a registered SAML provider that the role trusts."""
        params = request.params
        provider_arn = _check_text(_required(params, "PrincipalArn", "principalArn"), "principalArn", _ARN_TEXT_PATTERN, 20, 2048)
        assertion = _check_text(_required(params, "SAMLAssertion", "sAMLAssertion"), "sAMLAssertion", r"[\s\S]*", 4, 100000)
        granted, expires = _saml_claims(assertion)
        if expires <= self.now():
            raise _StsError(400, "ExpiredTokenException", "Token must be redeemed within 5 minutes of issuance")
        if provider_arn not in {provider.arn for provider in _iam_backend(ACCOUNT_ID).list_saml_providers()}:
            raise _StsError(400, "InvalidIdentityToken", f"No SAML provider found for {provider_arn}")
        if (params.get("RoleArn"), provider_arn) not in granted:
            raise _access_denied("Not authorized to perform sts:AssumeRoleWithSAML")
        return self.federated_role(params, provider_arn, {"saml:aud": "https://signin.aws.amazon.com/saml"}, "AssumeRoleWithSAML")

    def federated_role(self, params: dict[str, str], provider_arn: str, context: dict[str, str], action: str) -> _Forward:
        """The checks web identity and SAML share: the role, its trust in the provider, the duration."""
        role_arn = _check_text(_required(params, "RoleArn", "roleArn"), "roleArn", _ARN_TEXT_PATTERN, 20, 2048)
        duration = _int_param(params, "DurationSeconds", "durationSeconds", 3600, 900, 43200)
        arn_match = _ROLE_ARN.fullmatch(role_arn)
        if arn_match is None:
            raise _validation_error("Request ARN is invalid")
        role = _find_role(arn_match.group(1), role_arn)
        if role is None or not _trust_allows_federated(role.assume_role_policy_document, provider_arn, context):
            raise _access_denied(f"Not authorized to perform sts:{action}")
        if duration > int(role.max_session_duration or 3600):
            raise _validation_error("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
        return _Forward(issues_role_credentials=True)

    def assume_root(self, request: _StsRequest, caller: _Caller) -> _Reply:
        params = request.params
        target = _required(params, "TargetPrincipal", "targetPrincipal")
        policy_arn = _required(params, "TaskPolicyArn.arn", "taskPolicyArn.arn")
        duration = _int_param(params, "DurationSeconds", "durationSeconds", 900, 0, 900)
        if not re.fullmatch(r"\d{12}", target):
            raise _validation_error(f"Invalid TargetPrincipal: {target} is not an AWS account ID")
        if not _TASK_POLICY_ARN.fullmatch(policy_arn):
            raise _validation_error(f"Invalid TaskPolicyArn: {policy_arn} is not a root-task policy")
        if caller.identity.account != ACCOUNT_ID:
            raise _not_authorized(caller.identity.arn, "AssumeRoot", f"arn:aws:iam::{target}:root")
        identity = _root_identity(target, caller.identity.moto_access_key_id)
        credential = self.issue("root-task", identity, duration, caller.mfa_present)
        source_identity = re.split(r"[/:]", caller.identity.arn)[-1]  # the caller's user, session or "root"
        result = {"Credentials": _credentials_xml(credential), "SourceIdentity": source_identity}
        return _result_reply("AssumeRoot", result)

    def get_web_identity_token(self, request: _StsRequest, caller: _Caller) -> _Reply:
        """A JWT naming the caller, for services outside AWS; not beyond the calling session's own end."""
        params = request.params
        members = sorted((int(key.rsplit(".", 1)[1]), value) for key, value in params.items() if key.startswith("Audience.member."))
        audiences = [value for _, value in members]
        if not 1 <= len(audiences) <= 10:
            raise _validation_error("1 validation error detected: Value at 'audience' failed to satisfy constraint: Member must have length between 1 and 10")
        algorithm = _required(params, "SigningAlgorithm", "signingAlgorithm")
        if algorithm not in ("RS256", "ES384"):
            raise _validation_error(f"Invalid SigningAlgorithm: {algorithm}. Valid values are RS256 and ES384")
        duration = _int_param(params, "DurationSeconds", "durationSeconds", 300, 60, 3600)
        expiration = self.now() + dt.timedelta(seconds=duration)
        if caller.issued is not None and expiration > caller.issued.expiration:
            raise _StsError(403, "SessionDurationEscalationException", "The requested token duration would extend the session beyond its original expiration time.")
        now = int(self.clock())
        claims = {"iss": "https://localsts.tokens.sts.global.api.aws", "sub": caller.identity.arn, "aud": audiences[0] if len(audiences) == 1 else audiences}
        claims.update({"iat": now, "exp": now + duration, "https://sts.amazonaws.com/": {"principal_id": caller.identity.principal_arn}})
        return _result_reply("GetWebIdentityToken", {"WebIdentityToken": _sign_jwt(claims), "Expiration": _format_time(expiration)})

    def decode_authorization_message(self, request: _StsRequest, caller: _Caller) -> _Reply:
        decoded = _decode_message(_required(request.params, "EncodedMessage", "encodedMessage"))
        return _result_reply("DecodeAuthorizationMessage", {"DecodedMessage": decoded})

    def issue(self, kind: str, identity: _Identity, duration: int, mfa_present: bool) -> _IssuedCredential:
        return self.vault.issue(kind, identity, self.now() + dt.timedelta(seconds=duration), mfa_present)

    # -- moto ----------------------------------------------------------------------------

    def forward(
        self, environ: dict, start_response: Callable, request: _StsRequest, forward: _Forward
    ) -> Iterable[bytes]:
        if not forward.issues_role_credentials:
            return self.moto_app(environ, start_response)
        status, headers, body = _call_app(self.moto_app, environ)
        if status.startswith("200"):
            body = self.keep_role_credentials(body, request.params.get("RoleArn", ""), forward.mfa_present)
        headers = [(name, value) for name, value in headers if name.lower() != "content-length"]
        start_response(status, headers + [("Content-Length", str(len(body)))])
        return [body]

    def keep_role_credentials(self, body: bytes, role_arn: str, mfa_present: bool) -> bytes:
        """Record the role credentials moto issued; restate their expiry on the server's clock."""
        ns = {"sts": _STS_NAMESPACE}
        root = ET.fromstring(body)
        credentials = root.find(".//sts:Credentials", ns)
        user = root.find(".//sts:AssumedRoleUser", ns)
        moto_expiration = credentials.findtext("sts:Expiration", namespaces=ns)
        offset = dt.timedelta(seconds=round(self.clock() - time.time()))
        expiration = dt.datetime.fromisoformat(moto_expiration).replace(microsecond=0) + offset
        arn = user.findtext("sts:Arn", namespaces=ns)
        access_key_id = credentials.findtext("sts:AccessKeyId", namespaces=ns)
        role_id = user.findtext("sts:AssumedRoleId", namespaces=ns)
        self.vault.keep(
            _IssuedCredential(
                access_key_id=access_key_id,
                secret_access_key=credentials.findtext("sts:SecretAccessKey", namespaces=ns),
                session_token=credentials.findtext("sts:SessionToken", namespaces=ns),
                kind="assumed-role",
                expiration=expiration,
                mfa_present=mfa_present,
                identity=_Identity(arn, role_id, arn.split(":")[4], role_arn, access_key_id),
            )
        )
        return body.replace(
            f"<Expiration>{moto_expiration}</Expiration>".encode(),
            f"<Expiration>{_format_time(expiration)}</Expiration>".encode(),
        )


def _quiet_handler(clock: Callable[[], float]) -> type[WSGIRequestHandler]:
    class Handler(WSGIRequestHandler):
        """No access log; the Date header follows the server's clock, offset included."""

        def date_time_string(self, timestamp: float | None = None) -> str:
            return email.utils.formatdate(clock() if timestamp is None else timestamp, usegmt=True)

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            pass

    return Handler


# ---------------------------------------------------------------------------------------
# Public API


class LocalSTS:
    """moto's IAM and STS on 127.0.0.1 behind a gate that refuses what AWS refuses."""

    def __init__(self, clock_offset: float = 0.0):
        self.clock_offset = clock_offset
        self._initial_clock_offset = clock_offset
        self._ledger = _Ledger()
        self._vault = _Vault()
        moto_app = DomainDispatcherApplication(create_backend_app)
        self._gate = _StsGate(moto_app, self._ledger, self._vault, self.server_time)
        self._server = None
        self._thread: threading.Thread | None = None
        self._admin_clients: dict = {}
        self.url = ""

    def server_time(self) -> float:
        return time.time() + self.clock_offset

    def start(self, port: int = 0) -> LocalSTS:
        self._server = make_server(
            "127.0.0.1", port, self._gate, threaded=True, request_handler=_quiet_handler(self.server_time)
        )
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._admin_clients.clear()
        self._thread = threading.Thread(target=self._server.serve_forever, name="localsts", daemon=True)
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
        """Forget moto's state, calls, faults, issued credentials and MFA devices; restore the initial clock offset."""
        reset = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        _NO_PROXY_OPENER.open(reset).close()
        self._ledger.clear_calls()
        self._ledger.clear_faults()
        self._vault.clear()
        self.clock_offset = self._initial_clock_offset

    def admin_client(self, service: str):
        """A boto3 client signed as the account root; one per service, shared (boto3 clients are thread-safe)."""
        if service not in self._admin_clients:
            self._admin_clients[service] = boto3.session.Session().client(
                service,
                endpoint_url=self.url,
                region_name=REGION,
                aws_access_key_id=ADMIN_ACCESS_KEY_ID,
                aws_secret_access_key=ADMIN_SECRET_ACCESS_KEY,
                config=Config(proxies={}),
            )
        return self._admin_clients[service]

    def create_user(self, name: str) -> dict:
        iam = self.admin_client("iam")
        arn = iam.create_user(UserName=name)["User"]["Arn"]
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return {
            "user_name": name,
            "arn": arn,
            "access_key_id": key["AccessKeyId"],
            "secret_access_key": key["SecretAccessKey"],
        }

    def create_role(
        self,
        name: str,
        *,
        max_session_duration: int = 3600,
        external_id: str | None = None,
        require_mfa: bool = False,
        trust_principal: str | None = None,
        federated: str | None = None,
    ) -> str:
        """A role; `federated` (an OIDC or SAML provider ARN) makes it trust that provider instead of IAM principals."""
        document = (
            _federated_trust_policy(federated)
            if federated
            else _trust_policy(trust_principal or f"arn:aws:iam::{ACCOUNT_ID}:root", external_id, require_mfa)
        )
        role = self.admin_client("iam").create_role(
            RoleName=name, AssumeRolePolicyDocument=document, MaxSessionDuration=max_session_duration
        )
        return role["Role"]["Arn"]

    def create_oidc_provider(self, url: str = "https://oidc.localsts.example", client_id: str = "sts.amazonaws.com") -> str:
        """An IAM OpenID Connect provider whose tokens this server issues (web_identity_token)."""
        response = self.admin_client("iam").create_open_id_connect_provider(
            Url=url, ClientIDList=[client_id], ThumbprintList=["0" * 40]
        )
        return response["OpenIDConnectProviderArn"]

    def web_identity_token(
        self, url: str = "https://oidc.localsts.example", subject: str = "tester", audience: str = "sts.amazonaws.com", expires_in: int = 600
    ) -> str:
        """A JWT from the provider at `url`, signed by this server, expiring `expires_in` s from the server's now."""
        now = int(self.server_time())
        return _sign_jwt({"iss": url, "sub": subject, "aud": audience, "iat": now, "exp": now + expires_in})

    @staticmethod
    def token_claims(token: str) -> dict:
        """The claims of a JWT this server signed (web_identity_token, GetWebIdentityToken)."""
        return _verified_jwt_claims(token)

    def create_saml_provider(self, name: str = "LocalIdP") -> str:
        certificate = base64.b64encode(b"localsts-idp-certificate" * 40).decode()  # IAM wants 1000+ characters of metadata
        metadata = (
            f'<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="http://idp.localsts.example/{name}">'
            '<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><KeyDescriptor use="signing">'
            f'<KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>{certificate}</X509Certificate>'
            "</X509Data></KeyInfo></KeyDescriptor></IDPSSODescriptor></EntityDescriptor>"
        )
        response = self.admin_client("iam").create_saml_provider(Name=name, SAMLMetadataDocument=metadata)
        return response["SAMLProviderArn"]

    def saml_assertion(
        self, role_arn: str, provider_arn: str, subject: str = "tester", session_name: str = "tester", expires_in: int = 300
    ) -> str:
        """A base64 SAMLResponse granting `role_arn` through `provider_arn`, valid `expires_in` s from the server's now."""
        not_on_or_after = dt.datetime.fromtimestamp(int(self.server_time()) + expires_in, dt.timezone.utc)
        return _saml_response(role_arn, provider_arn, subject, session_name, not_on_or_after)

    def create_virtual_mfa(self, user_name: str) -> tuple[str, str]:
        iam = self.admin_client("iam")
        device = iam.create_virtual_mfa_device(VirtualMFADeviceName=user_name)["VirtualMFADevice"]
        serial, secret = device["SerialNumber"], device["Base32StringSeed"].decode()
        totp = pyotp.TOTP(secret, interval=_TOTP_STEP)
        iam.enable_mfa_device(
            UserName=user_name,
            SerialNumber=serial,
            AuthenticationCode1=totp.at(time.time() - _TOTP_STEP),
            AuthenticationCode2=totp.now(),
        )
        self._vault.add_device(serial, secret, iam.get_user(UserName=user_name)["User"]["Arn"])
        return serial, secret

    def expire(self, access_key_id: str) -> None:
        """End the issued credentials `access_key_id` now, on the server's clock, as time would: every call
        signed with them is refused with ExpiredToken from here on (pair it with an aged cache entry to stand
        for the minutes a test cannot wait)."""
        issued = self._vault.issued(access_key_id)
        if issued is None:
            raise KeyError(f"no issued credentials {access_key_id}")
        now = dt.datetime.fromtimestamp(int(self.server_time()), dt.timezone.utc)
        self._vault.keep(dataclasses.replace(issued, expiration=min(issued.expiration, now)))

    def calls(self, action: str | None = None) -> int:
        return self._ledger.calls(action)

    def call_log(self) -> list[dict]:
        return self._ledger.log()

    def reset_calls(self) -> None:
        self._ledger.clear_calls()

    def inject_fault(self, action: str, kind: str, times: int = 1) -> None:
        """Make the next `times` requests for `action` ("*" for any) go wrong.

        kind: "throttle", "500", "503", "expired_token", "access_denied", "malformed" (HTTP 200, not STS XML),
        or "slow:SECONDS" (answer normally after the delay).
        """
        if kind.startswith("slow:"):
            float(kind.split(":", 1)[1])  # refuse a bad number now, not inside a request
        elif kind not in _FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        self._ledger.add_fault(action, kind, times)

    def inject_reply(self, action: str, body: str | bytes, status: int = 200, times: int = 1) -> None:
        """Answer the next `times` requests for `action` ("*" for any) with exactly `body` and `status`:
        an STS, proxy or emulator that lies (see credentials_reply for an answer of the right shape)."""
        self._ledger.add_fault(action, _Reply(status, body), times)

    def inject_error(self, action: str, code: str, message: str, status: int = 400, times: int = 1) -> None:
        """Refuse the next `times` requests for `action` with an STS ErrorResponse carrying `code` and
        `message` as given (XML-escaped, so newlines, quotes and shell code arrive exactly as written)."""
        self._ledger.add_fault(action, _StsError(status, code, message).reply(), times)

    @staticmethod
    def credentials_reply(action: str, **fields) -> str:
        """A successful `action` answer (AssumeRole, GetSessionToken, ...) whose Credentials element holds
        plausible values, changed by `fields`: a value replaces the field's text, None leaves it out."""
        values = {
            "AccessKeyId": "ASIA" + "Q" * 16,
            "SecretAccessKey": "s" * 40,
            "SessionToken": "t" * 200,
            "Expiration": _format_time(dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)),
        }
        values.update(fields)
        credentials = "".join(f"<{name}>{escape(str(value))}</{name}>" for name, value in values.items() if value is not None)
        user = f"<AssumedRoleUser><Arn>arn:aws:sts::{ACCOUNT_ID}:assumed-role/Admin/s</Arn><AssumedRoleId>AROAEXAMPLE:s</AssumedRoleId></AssumedRoleUser>"
        return (
            f'<{action}Response xmlns="{_STS_NAMESPACE}"><{action}Result><Credentials>{credentials}</Credentials>{user}'
            f"</{action}Result><ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></{action}Response>"
        )

    def clear_faults(self) -> None:
        self._ledger.clear_faults()

    def encode_authorization_message(self, document: dict) -> str:
        return _encode_message(document)

    def issue_role_session(
        self, account: str, role_name: str, session_name: str, duration: int, *, role_path: str = "/"
    ) -> dict:
        """Role credentials issued the way AWS's own federation issues them (IAM Identity Center's
        GetRoleCredentials): no AssumeRole call, no trust check, no moto state. They are a role session
        like AssumeRole's: GetCallerIdentity answers `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`,
        they expire `duration` s from the server's now, and AssumeRole with them is role chaining."""
        role_arn = f"arn:aws:iam::{account}:role{role_path}{role_name}"
        role_id = "AROA" + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(17))
        arn = f"arn:aws:sts::{account}:assumed-role/{role_name}/{session_name}"
        identity = _Identity(arn, f"{role_id}:{session_name}", account, role_arn, ADMIN_ACCESS_KEY_ID)
        expiration = dt.datetime.fromtimestamp(int(self.server_time()) + duration, dt.timezone.utc)
        credential = self._vault.issue("assumed-role", identity, expiration, mfa_present=False)
        self.__dict__.setdefault("_federated_role_sessions", set()).add(credential.access_key_id)
        return {
            "AccessKeyId": credential.access_key_id,
            "SecretAccessKey": credential.secret_access_key,
            "SessionToken": credential.session_token,
            "Expiration": credential.expiration,
            "Arn": arn,
            "AssumedRoleId": identity.user_id,
            "RoleArn": role_arn,
        }

    def credential_info(self, access_key_id: str, secret_access_key: str, session_token: str | None = None) -> dict | None:
        """What this server knows of a credential triple, or None when it would not accept it (unknown or
        inactive key, wrong secret, issued key without its own session token, long-term key with one).

        kind: "long-term" (an IAM user's or the admin root's key), "session" (GetSessionToken),
        "assumed-role" (AssumeRole, AssumeRoleWithSAML/WebIdentity, issue_role_session), "federated"
        (GetFederationToken) or "root-task" (AssumeRoot). For "assumed-role", origin says what asked for
        it: "long-term" keys, "temporary" credentials (role chaining, or a GetSessionToken session),
        "federation" (SAML, web identity, issue_role_session), or "unknown" when the call log no longer
        tells (reset_calls after the AssumeRole, or the same role and session name asked for both ways).
        Expiry is judged on the server's clock; an expired triple is described, with expired True."""

        def role_session_origin(issued: _IssuedCredential) -> str:
            if issued.access_key_id in self.__dict__.get("_federated_role_sessions", ()):
                return "federation"
            session_name = issued.identity.arn.rsplit("/", 1)[-1]
            origins = set()
            for entry in self._ledger.log():
                params = entry["params"]
                if params.get("RoleArn") != issued.identity.principal_arn:
                    continue
                if entry["action"] == "AssumeRoleWithSAML":
                    origins.add("federation")
                elif params.get("RoleSessionName") != session_name:
                    continue
                elif entry["action"] == "AssumeRoleWithWebIdentity":
                    origins.add("federation")
                elif entry["action"] == "AssumeRole":
                    caller = self._vault.issued(entry["access_key_id"] or "")
                    origins.add("long-term" if caller is None else "temporary")
            return origins.pop() if len(origins) == 1 else "unknown"

        issued = self._vault.issued(access_key_id)
        if issued is not None:
            if not (
                hmac.compare_digest(secret_access_key, issued.secret_access_key)
                and hmac.compare_digest(session_token or "", issued.session_token)
            ):
                return None
            now = dt.datetime.fromtimestamp(int(self.server_time()), dt.timezone.utc)
            info = {
                "kind": issued.kind,
                "arn": issued.identity.arn,
                "account": issued.identity.account,
                "expiration": issued.expiration,
                "expired": issued.expiration <= now,
            }
            if issued.kind == "assumed-role":
                info["origin"] = role_session_origin(issued)
            return info
        identity = _long_term_identity(access_key_id)
        if identity is None or session_token:
            return None
        if access_key_id == ADMIN_ACCESS_KEY_ID:
            secret = ADMIN_SECRET_ACCESS_KEY
        else:
            secret = _iam_backend(identity.account).access_keys[access_key_id].secret_access_key
        if not hmac.compare_digest(secret_access_key, secret):
            return None
        return {"kind": "long-term", "arn": identity.arn, "account": identity.account, "expiration": None, "expired": False}


# ---------------------------------------------------------------------------------------
# Standalone


def _write_atomically(path: str, text: str) -> None:
    temporary = f"{path}.tmp{os.getpid()}"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve a strict local AWS STS endpoint with a demo user and role.")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--state-file", help="also write the JSON line to this file")
    args = parser.parse_args(argv)

    stop_requested = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop_requested.set())

    server = LocalSTS().start(port=args.port)
    demo = server.create_user("demo")
    state = json.dumps(
        {
            "url": server.url,
            "access_key_id": demo["access_key_id"],
            "secret_access_key": demo["secret_access_key"],
            "role_arn": server.create_role("Admin"),
            "account": ACCOUNT_ID,
        }
    )
    if args.state_file:
        _write_atomically(args.state_file, state + "\n")
    print(state, flush=True)
    stop_requested.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

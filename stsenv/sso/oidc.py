"""IAM Identity Center's OIDC service: RegisterClient, StartDeviceAuthorization and CreateToken (the device code
and refresh token grants), each answer checked before it is used or written to the token cache.

An endpoint that is not AWS's may answer anything; what reaches the token file, an HTTP header or the
terminal is printable text of bounded length, and lifetimes are whole seconds in range. Failures are
clients.call's AwsErrors, with AWS's code (InvalidGrantException, AuthorizationPendingException, ...).
"""

from stsenv import redact
from stsenv.errors import AwsError
from stsenv.oneline import oneline
from stsenv.sso import clients
from stsenv.sso.token_cache import SECRET_MAX, Registration

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
REFRESH_GRANT = "refresh_token"
TOKEN_LIFETIME_MAX = 90 * 86400  # the longest session IAM Identity Center allows
DEVICE_CODE_LIFETIME_MAX = 3600
INTERVAL_DEFAULT = 5  # RFC 8628 section 3.2, as the aws CLI
INTERVAL_MAX = 60
HINT = "IAM Identity Center never answers so: check AWS_ENDPOINT_URL_SSO_OIDC (or the [services] sso_oidc endpoint_url) and any proxy in between"


def register_client(settings, environ, name, scopes):
    """A new public client registration (device code and refresh grants), for `scopes` (None: unscoped)."""
    answer = clients.call(clients.OIDC, settings, environ, "register_client", clientName=name, clientType="public", scopes=list(scopes) if scopes else None)
    refuse = _refuser("RegisterClient")
    expires = _whole(answer, "clientSecretExpiresAt", 1, 1 << 40, refuse)
    return Registration(_text(answer, "clientId", refuse), _secret(answer, "clientSecret", refuse), expires)


def start_device_authorization(settings, environ, registration):
    """{deviceCode, userCode, verificationUri, verificationUriComplete, expiresIn, interval}, checked."""
    answer = clients.call(
        clients.OIDC,
        settings,
        environ,
        "start_device_authorization",
        clientId=registration.client_id,
        clientSecret=registration.client_secret,
        startUrl=settings.start_url,
    )
    refuse = _refuser("StartDeviceAuthorization")
    uri = _text(answer, "verificationUri", refuse, 2048)
    return {
        "deviceCode": _secret(answer, "deviceCode", refuse),
        "userCode": _text(answer, "userCode", refuse, 64),
        "verificationUri": uri,
        "verificationUriComplete": _text(answer, "verificationUriComplete", refuse, 2048) if answer.get("verificationUriComplete") else uri,
        "expiresIn": _whole(answer, "expiresIn", 1, DEVICE_CODE_LIFETIME_MAX, refuse),
        "interval": _whole(answer, "interval", 1, INTERVAL_MAX, refuse) if answer.get("interval") is not None else INTERVAL_DEFAULT,
    }


def device_token(settings, environ, registration, device_code):
    """CreateToken with the device code grant: {accessToken, expiresIn, refreshToken (or None)}."""
    return _create_token(settings, environ, registration.client_id, registration.client_secret, grantType=DEVICE_GRANT, deviceCode=device_code)


def refresh_token(settings, environ, client_id, client_secret, refresh):
    """CreateToken with the refresh token grant: {accessToken, expiresIn, refreshToken (or None)}."""
    return _create_token(settings, environ, client_id, client_secret, grantType=REFRESH_GRANT, refreshToken=refresh)


def _create_token(settings, environ, client_id, client_secret, **grant):
    answer = clients.call(clients.OIDC, settings, environ, "create_token", clientId=client_id, clientSecret=client_secret, **grant)
    refuse = _refuser("CreateToken")
    return {
        "accessToken": _secret(answer, "accessToken", refuse),
        "expiresIn": _whole(answer, "expiresIn", 1, TOKEN_LIFETIME_MAX, refuse),
        "refreshToken": _secret(answer, "refreshToken", refuse) if answer.get("refreshToken") is not None else None,
    }


def _refuser(origin):
    def refuse(field, problem):
        return AwsError(f"{origin}: the answer's {field} {problem}", HINT)

    return refuse


def _text(answer, field, refuse, limit=SECRET_MAX):
    value = answer.get(field)
    if not isinstance(value, str) or not value:
        raise refuse(field, "is missing")
    if len(value) > limit or not (value.isascii() and value.isprintable()) or " " in value:
        raise refuse(field, f"{oneline(repr(value), 60)} is not what IAM Identity Center sends")
    return value


def _secret(answer, field, refuse):
    value = answer.get(field)
    if not isinstance(value, str) or not value:
        raise refuse(field, "is missing")
    redact.remember(value)  # before any check can put it in a message
    return _text(answer, field, refuse)


def _whole(answer, field, low, high, refuse):
    value = answer.get(field)
    if type(value) is not int or not low <= value <= high:
        raise refuse(field, f"is not a whole number from {low} to {high}")
    return value

"""The AWS console's federation endpoint: temporary credentials exchanged for a sign-in token
(`getSigninToken`), and the sign-in URL (`login`) that takes a browser to a console page.

Each partition with a public console has its own sign-in and console hosts; STSENV_SIGNIN_ENDPOINT replaces
the federation endpoint (a proxy, or tests/localsignin.py). The credentials go in a form POST, never in a
URL (proxies and logs keep URLs). The sign-in token is a secret for its 15 minutes: it is registered with
stsenv.redact and never put in a message.
"""

import json
import urllib.error
import urllib.parse
import urllib.request

from stsenv import redact
from stsenv.errors import AwsError, ConfigError
from stsenv.oneline import oneline, quoted

# partition -> (federation endpoint, console host)
PARTITIONS = {
    "aws": ("https://signin.aws.amazon.com/federation", "console.aws.amazon.com"),
    "aws-us-gov": ("https://signin.amazonaws-us-gov.com/federation", "console.amazonaws-us-gov.com"),
    "aws-cn": ("https://signin.amazonaws.cn/federation", "console.amazonaws.cn"),
}
SESSION_DURATIONS = (900, 43200)  # the console session of a role session, when asked for
ISSUER = "stsenv"  # shown by the console when the session ends
TOKEN_MAX = 8192
_SERVICE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_/")


def hosts(partition):
    """(federation endpoint, console host) of `partition`; ConfigError for a partition without a public console."""
    found = PARTITIONS.get(partition)
    if found is None:
        raise ConfigError(f"partition {partition} has no public AWS console to sign in to", f"the console exists in {', '.join(PARTITIONS)}")
    return found


def federation_endpoint(partition, environ):
    """STSENV_SIGNIN_ENDPOINT when set (an http(s) URL), else the partition's federation endpoint."""
    configured = environ.get("STSENV_SIGNIN_ENDPOINT")
    if not configured:
        return hosts(partition)[0]
    parts = urllib.parse.urlsplit(configured)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(f"STSENV_SIGNIN_ENDPOINT={quoted(configured)} is not an http(s) URL", "e.g. https://signin.aws.amazon.com/federation")
    return configured


def destination(partition, region=None, service=None):
    """The console page to land on: the console home, or `service`'s, in `region` when there is one."""
    if service is not None and (not service or not _SERVICE_CHARS.issuperset(service) or service[0] in "-/" or len(service) > 64 or "//" in service):
        raise ConfigError(f"--service {quoted(service)} is not a console service", "e.g. ec2, s3, iam, cloudformation, lambda")
    page = f"https://{hosts(partition)[1]}/{(service or 'console').rstrip('/')}/home"
    return f"{page}?region={region}" if region else page


def signin_token(credentials, endpoint, timeout, session_duration=None):
    """The sign-in token for `credentials` (with a session token); AwsError when the endpoint refuses or fails."""
    session = {"sessionId": credentials.access_key_id, "sessionKey": credentials.secret_access_key, "sessionToken": credentials.session_token}
    form = {"Action": "getSigninToken", "Session": json.dumps(session)}
    if session_duration is not None:
        form["SessionDuration"] = str(session_duration)
    request = urllib.request.Request(endpoint, data=urllib.parse.urlencode(form).encode(), method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    where = oneline(endpoint)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            body = answer.read(1 << 16)
    except urllib.error.HTTPError as error:
        hint = "the credentials may have expired, or AWS refuses a console session for them"
        if session_duration is not None:
            hint = "AWS refuses --session-duration for a role session that temporary credentials asked for; try without it"
        raise AwsError(f"getSigninToken refused at {where}: HTTP {error.code} {oneline(error.reason, 100)}", hint) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise AwsError(f"getSigninToken: cannot reach {where} ({oneline(reason, 100)})", "check the network, or STSENV_SIGNIN_ENDPOINT") from None
    return _token_of(body, where)


def _token_of(body, where):
    try:
        token = json.loads(body).get("SigninToken")
    except (ValueError, AttributeError):
        token = None
    if not isinstance(token, str) or not 0 < len(token) <= TOKEN_MAX or not token.isascii() or not token.isprintable() or " " in token:
        raise AwsError(f"getSigninToken: {where} did not answer with a sign-in token", "check STSENV_SIGNIN_ENDPOINT")
    redact.remember(token, urllib.parse.quote_plus(token), urllib.parse.quote(token))  # as it is, and as a URL holds it
    return token


def login_url(endpoint, token, page):
    """The URL that signs a browser in with `token` and lands on `page` (a secret while the token lasts)."""
    query = urllib.parse.urlencode({"Action": "login", "Issuer": ISSUER, "Destination": page, "SigninToken": token})
    return f"{endpoint}?{query}"

"""The files of ~/.aws/sso/cache, read and written exactly as the aws CLI (v2, and botocore's SSO providers) does,
so that `aws sso login` and `stsenv login`, botocore's renewal and stsenv's, can follow one another freely.

- The token of a session: `<sha1 hex of the sso-session name, or of the start URL of a legacy profile>.json`,
  {"startUrl", "region", "accessToken", "expiresAt", "clientId", "clientSecret", "registrationExpiresAt",
  "refreshToken"} (botocore's SSOTokenLoader, the CLI's SSOTokenFetcher). No refresh token for a legacy
  profile: its client registers without scopes.
- A client registration: `<sha1 hex of json.dumps({"tool": "botocore", "startUrl", "region", "scopes",
  "session_name"}, sort_keys=True)>.json`, {"clientId", "clientSecret", "expiresAt", "scopes"} (the CLI's
  BaseSSOTokenFetcher._registration_cache_key); the CLI's authorization-code registrations add "grantTypes",
  and its device flow does not reuse those (nor does stsenv's).

Timestamps are written `2024-05-01T12:00:00Z` (the CLI's _sso_json_dumps) and read in every form the CLI has
written (`...UTC` from older versions, fractions, offsets). A file is written as the CLI writes it: one line
of json.dumps, to a temporary file in the same directory (0600), fsynced, then os.replace'd; fields stsenv does
not know are kept when it renews a token. Cold path only.
"""

import errno
import hashlib
import json
import os
import stat
import tempfile
import time
from datetime import datetime, timezone

from stsenv import redact
from stsenv.credentials import iso_utc
from stsenv.errors import ConfigError

FILE_MAX = 1 << 20
SECRET_MAX = 65536  # an access token is about 1 KiB; the bound only keeps out what no token is
# The aws CLI does not reuse a registration (nor botocore keep a token) that ends within this window.
EXPIRY_WINDOW = 900


class TokenFileProblem(Exception):
    """A token file that cannot be used as it is (not JSON, no access token, not a plain file, ...)."""

    def __init__(self, path, reason):
        super().__init__(f"{path} {reason}")
        self.path = path
        self.reason = reason


class Token:
    """A token file as read: `data` is everything in it (kept when it is written back), the rest checked."""

    __slots__ = ("path", "data", "access_token", "expires", "refresh_token", "client_id", "client_secret", "registration_expires")

    def __init__(self, path, data):
        self.path = path
        self.data = data
        self.access_token = data["accessToken"]
        self.expires = parse_time(data.get("expiresAt"))
        self.refresh_token = _secret_or_none(data.get("refreshToken"))
        self.client_id = _secret_or_none(data.get("clientId"))
        self.client_secret = _secret_or_none(data.get("clientSecret"))
        self.registration_expires = parse_time(data.get("registrationExpiresAt"))
        redact.remember(self.access_token, self.refresh_token, self.client_secret)

    def remaining(self, now=None):
        return self.expires - (time.time() if now is None else now)

    def unrenewable_reason(self, now=None):
        """Why a refresh_token grant cannot be tried (botocore's rules), or None when it can."""
        now = time.time() if now is None else now
        if self.refresh_token is None:
            return "it has no refresh token (a legacy profile's, or one from a login without registration scopes)"
        if self.client_id is None or self.client_secret is None or self.registration_expires is None:
            return "it holds no client registration"
        if self.registration_expires <= now:
            return f"its client registration expired at {iso_utc(self.registration_expires)}"
        return None


class Registration:
    """A cached client registration (RegisterClient's answer)."""

    __slots__ = ("client_id", "client_secret", "expires", "for_authorization_code")

    def __init__(self, client_id, client_secret, expires, for_authorization_code=False):
        self.client_id = client_id
        self.client_secret = client_secret
        self.expires = expires
        self.for_authorization_code = for_authorization_code
        redact.remember(client_secret)

    def usable_for_device_flow(self, now=None):
        now = time.time() if now is None else now
        return not self.for_authorization_code and self.expires - now >= EXPIRY_WINDOW


# ---- where ---------------------------------------------------------------------------------------------


def directory(environ):
    """~/.aws/sso/cache of the HOME in `environ` (botocore's _SSO_TOKEN_CACHE_DIR; no variable moves it)."""
    home = environ.get("HOME") or os.path.expanduser("~")
    return os.path.join(home, ".aws", "sso", "cache")


def token_path(settings, environ):
    """The token file of `settings`' session (or legacy start URL)."""
    return os.path.join(directory(environ), _sha1(settings.token_name) + ".json")


def registration_path(settings, environ):
    """The client registration file the aws CLI keeps for `settings`' session (or legacy start URL)."""
    key = {
        "tool": "botocore",
        "startUrl": settings.start_url,
        "region": settings.region,
        "scopes": list(settings.scopes) if settings.scopes is not None else None,
        "session_name": settings.session,
    }
    return os.path.join(directory(environ), _sha1(json.dumps(key, sort_keys=True)) + ".json")


def _sha1(text):
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


# ---- reading -------------------------------------------------------------------------------------------


def read_token(path):
    """The Token in `path`; None when there is no such file; TokenFileProblem when it cannot be used."""
    data = _read_json(path)
    if data is None:
        return None
    if not isinstance(data, dict):
        raise TokenFileProblem(path, "is not a token (not a JSON object)")
    if _secret_or_none(data.get("accessToken")) is None:
        raise TokenFileProblem(path, "holds no usable accessToken")
    if parse_time(data.get("expiresAt")) is None:
        raise TokenFileProblem(path, "has no expiresAt date")
    return Token(path, data)


def read_registration(path):
    """The Registration in `path`, or None (no file, or anything odd about it: it is then made anew)."""
    try:
        data = _read_json(path)
    except TokenFileProblem:
        return None
    if not isinstance(data, dict):
        return None
    client_id, secret = _secret_or_none(data.get("clientId")), _secret_or_none(data.get("clientSecret"))
    expires = parse_time(data.get("expiresAt"))
    if client_id is None or secret is None or expires is None:
        return None
    grants = data.get("grantTypes")
    return Registration(client_id, secret, expires, isinstance(grants, list) and "authorization_code" in grants)


def _read_json(path):
    """The parsed content of `path`, or None when it does not exist. Never a symlink, a FIFO or another user's file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return None
    except OSError as error:
        raise TokenFileProblem(path, "cannot be opened (a symlink?)" if error.errno == errno.ELOOP else f"cannot be read: {error.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise TokenFileProblem(path, "is not a regular file")
        if info.st_uid != os.geteuid():
            raise TokenFileProblem(path, "belongs to another user")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            raw = handle.read(FILE_MAX + 1)
    except OSError as error:
        raise TokenFileProblem(path, f"cannot be read: {error.strerror}") from None
    finally:
        os.close(fd)
    if len(raw) > FILE_MAX:
        raise TokenFileProblem(path, "is too large for a token")
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise TokenFileProblem(path, "is not JSON") from None


def parse_time(text):
    """Epoch seconds of a timestamp the aws CLI wrote (`...Z`, `...UTC`, an offset, a fraction; naive is UTC), or None."""
    if not isinstance(text, str) or not 10 <= len(text) <= 64:
        return None
    text = text.strip()
    if text.endswith("UTC"):
        text = text[:-3] + "+00:00"
    elif text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(text)
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.timestamp()
    except (ValueError, OverflowError, OSError):
        return None


def _secret_or_none(value):
    """`value` when it is text a token, secret or id can be (printable ASCII, no space, bounded), else None."""
    if isinstance(value, str) and 0 < len(value) <= SECRET_MAX and value.isascii() and value.isprintable() and " " not in value:
        return value
    return None


# ---- writing -------------------------------------------------------------------------------------------


def new_token(settings, answer, registration, now=None):
    """The token file's content after a login, in the CLI's order: `answer` is oidc.create_token's."""
    now = time.time() if now is None else now
    data = {
        "startUrl": settings.start_url,
        "region": settings.region,
        "accessToken": answer["accessToken"],
        "expiresAt": iso_utc(now + answer["expiresIn"]),
        "clientId": registration.client_id,
        "clientSecret": registration.client_secret,
        "registrationExpiresAt": iso_utc(registration.expires),
    }
    if answer.get("refreshToken"):
        data["refreshToken"] = answer["refreshToken"]
    return data


def renewed_token(token, answer, now=None):
    """`token`'s content with the renewed access token (and rotated refresh token); every other field kept."""
    now = time.time() if now is None else now
    data = dict(token.data)
    data["accessToken"] = answer["accessToken"]
    data["expiresAt"] = iso_utc(now + answer["expiresIn"])
    if answer.get("refreshToken"):
        data["refreshToken"] = answer["refreshToken"]
    return data


def registration_data(registration, scopes):
    data = {"clientId": registration.client_id, "clientSecret": registration.client_secret, "expiresAt": iso_utc(registration.expires)}
    if scopes:
        data["scopes"] = list(scopes)
    return data


def write(path, data):
    """Replace `path` with `data` as the CLI writes it (one json.dumps line; temporary file 0600 in the same
    directory, fsync, os.replace); the directory is made 0700. ConfigError naming the file when it cannot be."""
    folder = os.path.dirname(path)
    temporary = None
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(data))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as error:
        _remove_quietly(temporary)
        full = error.errno in (errno.ENOSPC, errno.EDQUOT)
        raise ConfigError(f"cannot write {path}: {error.strerror}", "free some space there" if full else "check that directory") from None
    except BaseException:
        _remove_quietly(temporary)
        raise


def remove(path):
    """Remove `path`; whether there was a file to remove."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    except OSError as error:
        raise ConfigError(f"cannot remove {path}: {error.strerror}") from None
    return True


def _remove_quietly(path):
    if path is not None:
        try:
            os.unlink(path)
        except OSError:
            pass

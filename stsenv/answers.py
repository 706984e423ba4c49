"""Credentials and identities as STS (or another tool's credential_process) answered them, checked before
anything is cached, printed or used to sign.

An endpoint_url that is not AWS (a proxy, an emulator, a plain-HTTP endpoint) may answer anything: keys
missing, empty or megabytes long, an expiry that is past, not a date or years ahead, control characters in
an ARN that becomes the prompt's identity. Each is one AwsError naming the field (never a secret's value),
so nothing bad is handed out and no answer can reach an internal error. Cold path only.
"""

import time
from datetime import datetime, timezone

from stsenv import terminal
from stsenv.cache import latest_expiry
from stsenv.credentials import Credentials, iso_utc
from stsenv.errors import AwsError
from stsenv.kinds import LONGEST_GRANT
from stsenv.oneline import oneline

# (shortest, longest) of each field: AWS's API model for the key id; secrets and tokens have no published
# maximum (tokens grow with session tags), so the bounds only keep out what no credential is.
ACCESS_KEY_ID_LENGTHS = (16, 128)
SECRET_LENGTHS = (16, 1024)
SESSION_TOKEN_LENGTHS = (16, 65536)
ARN_MAX = 2048
USER_ID_MAX = 1024
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_KEY_ID_CHARS = _ALNUM | {"_"}
_ARN_CHARS = _ALNUM | frozenset("+=,.@_-/:")
STS_HINT = "AWS never answers so: check endpoint_url / AWS_ENDPOINT_URL_STS and any proxy in between"


def credentials(fields, origin, hint=STS_HINT, duration=None, arn=None, account=None, long_lived_allowed=False):
    """Credentials from the `Credentials` fields of an answer (botocore's parse, or credential_process JSON).

    `origin` names who answered, for messages. `duration` (seconds asked for) caps an expiry further
    away than that: what is cached is then what the cache reader accepts. `long_lived_allowed` (another
    tool's credential_process, as botocore allows) lets SessionToken and Expiration be absent.
    """
    refuse = _refuser(origin, hint)
    if not isinstance(fields, dict):
        raise refuse("Credentials", "is missing")
    access_key_id = _text(fields, "AccessKeyId", ACCESS_KEY_ID_LENGTHS, refuse, _KEY_ID_CHARS)
    secret = _text(fields, "SecretAccessKey", SECRET_LENGTHS, refuse)
    token = None
    if not long_lived_allowed or fields.get("SessionToken") not in (None, ""):  # botocore sends no token for ""
        token = _text(fields, "SessionToken", SESSION_TOKEN_LENGTHS, refuse)
    expires = None
    if not long_lived_allowed or fields.get("Expiration") is not None:
        expires = _expiry(fields.get("Expiration"), refuse)
        now = time.time()
        if expires <= now:
            raise refuse("Expiration", f"is in the past ({iso_utc(expires)})")
        if duration is not None and expires > latest_expiry(now, duration):
            capped = int(now) + min(duration, LONGEST_GRANT)
            terminal.debug(f"{origin}: the answer's Expiration {iso_utc(expires)} is further than the {duration}s asked for; using {iso_utc(capped)}")
            expires = capped
    if arn is not None:
        check_arn(arn, refuse, "Arn")
    return Credentials(access_key_id, secret, token, expires, arn, account)


def identity(response, origin, hint=STS_HINT):
    """GetCallerIdentity's {UserId, Account, Arn}, each checked: the ARN becomes the prompt's identity."""
    refuse = _refuser(origin, hint)
    arn = response.get("Arn")
    check_arn(arn, refuse, "Arn")
    account = response.get("Account")
    if not isinstance(account, str) or not (len(account) == 12 and account.isdigit() and account.isascii()):
        raise refuse("Account", "is not a 12-digit account id")
    user_id = response.get("UserId")
    if user_id is not None:
        _plain(user_id, "UserId", (1, USER_ID_MAX), refuse)
    return {"UserId": user_id, "Account": account, "Arn": arn}


def _refuser(origin, hint):
    """refuse(field, problem): the AwsError for one field of `origin`'s answer."""

    def refuse(field, problem):
        return AwsError(f"{origin}: the answer's {field} {problem}", hint)

    return refuse


def check_arn(arn, refuse, field):
    """Raise refuse(field, ...) unless `arn` is text shaped as an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)."""
    if not isinstance(arn, str) or not arn:
        raise refuse(field, "is missing")
    if len(arn) > ARN_MAX:
        raise refuse(field, f"has {len(arn)} characters; an ARN has at most {ARN_MAX}")
    parts = arn.split(":", 5)
    account = parts[4] if len(parts) == 6 else None
    if account is None or parts[0] != "arn" or not _ARN_CHARS.issuperset(arn) or account and not (len(account) == 12 and account.isdigit()):
        raise refuse(field, f"{oneline(repr(arn), 100)} is not an ARN")


def _text(fields, field, lengths, refuse, allowed=None):
    value = fields.get(field)
    if value is None:
        raise refuse(field, "is missing")
    return _plain(value, field, lengths, refuse, allowed)


def _plain(value, field, lengths, refuse, allowed=None):
    """`value` if it is printable ASCII without spaces (and of `allowed` characters) within `lengths`."""
    if not isinstance(value, str):
        raise refuse(field, "is not text")
    if not value:
        raise refuse(field, "is empty")
    low, high = lengths
    if not low <= len(value) <= high:
        raise refuse(field, f"has {len(value)} characters; it has {low} to {high}")
    if not (value.isascii() and value.isprintable() and " " not in value) or allowed is not None and not allowed.issuperset(value):
        raise refuse(field, "holds characters no credential has")
    return value


def _expiry(value, refuse):
    """Epoch seconds of an Expiration: botocore's datetime (naive means UTC, as AWS writes it), or the
    ISO 8601 text of a credential_process; text botocore could not read arrives as text too."""
    if value is None:
        raise refuse("Expiration", "is missing")
    if isinstance(value, str):
        text = value.strip()
        try:
            value = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)  # 3.9 reads no Z
        except ValueError:
            raise refuse("Expiration", f"{oneline(repr(value), 60)} is not a date") from None
    if not isinstance(value, datetime):
        raise refuse("Expiration", "is not a date")
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    try:
        return int(value.timestamp())
    except (OverflowError, OSError, ValueError):
        raise refuse("Expiration", "is not a date a clock can hold") from None

"""The `Credentials` value and the rules that say whether it is still good to hand out."""

import time

from stsenv import redact

# botocore (credentials.py, RefreshableCredentials) refreshes a credential_process result once less than
# 15 minutes remain (advisory) and insists below 10 (mandatory): it would run `stsenv serve` again on every
# request signed inside that window. So what we hand out must have this window plus a margin left.
BOTOCORE_ADVISORY_REFRESH = 900
REFRESH_MARGIN = 300
FRESH_FOR = BOTOCORE_ADVISORY_REFRESH + REFRESH_MARGIN
# A credential used only to sign the next STS call (an MFA session under a role) needs just this much.
SIGNING_MARGIN = 120


def required_remaining(duration):
    """Seconds an entry must still have to be handed out, for credentials issued for `duration` seconds.

    A role limited to less than FRESH_FOR cannot stay out of botocore's window at all; rather than call
    STS on every request, such an entry is handed out until its last quarter.
    """
    if duration and duration <= FRESH_FOR:
        return duration // 4
    return FRESH_FOR


class Credentials:
    """Keys, an optional session token and expiry, and the identity they act as (when known)."""

    __slots__ = ("access_key_id", "secret_access_key", "session_token", "expiry_epoch", "expiry_iso", "arn", "account", "retry_after")

    def __init__(self, access_key_id, secret_access_key, session_token=None, expiry_epoch=None, arn=None, account=None, retry_after=None):
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key
        self.session_token = session_token
        self.expiry_epoch = expiry_epoch  # whole seconds since the epoch; None for long-lived keys
        self.expiry_iso = iso_utc(expiry_epoch) if expiry_epoch is not None else None
        self.arn = arn
        self.account = account
        # Set on a cached entry whose refresh failed: until this time, stsenv hands it out without asking STS again.
        self.retry_after = retry_after
        redact.remember(secret_access_key, session_token)

    def remaining(self, now=None):
        """Seconds until expiry (infinite for long-lived keys)."""
        if self.expiry_epoch is None:
            return float("inf")
        return self.expiry_epoch - (time.time() if now is None else now)

    @property
    def identity(self):
        """A short human form of the ARN for prompts: `Admin@123456789012`."""
        return short_identity(self.arn, self.account)

    def process_output(self):
        """The fields of credential_process output (Version 1), in the order AWS documents them."""
        output = {"Version": 1, "AccessKeyId": self.access_key_id, "SecretAccessKey": self.secret_access_key}
        if self.session_token:
            output["SessionToken"] = self.session_token
        if self.expiry_iso:
            output["Expiration"] = self.expiry_iso
        return output

    def __repr__(self):  # never shows the secret or the token
        return f"Credentials({self.access_key_id!r}, expires={self.expiry_iso!r}, arn={self.arn!r})"


def iso_utc(epoch):
    """ISO 8601 UTC with an explicit `Z`: botocore fails on a naive timestamp, the JS SDK reads it as local."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def short_identity(arn, account=None):
    """`arn:aws:sts::123:assumed-role/Admin/s` -> `Admin@123`; user, federated user and root alike."""
    if not arn:
        return ""
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return arn
    account = parts[4] or account or ""
    resource = parts[5]
    kind, _, rest = resource.partition("/")
    if kind == "assumed-role":
        name = rest.split("/")[0]
    elif rest:
        name = rest.rsplit("/", 1)[-1]
    else:
        name = kind
    return f"{name}@{account}" if account else name

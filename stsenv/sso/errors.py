"""LoginNeeded: the one failure of an SSO profile that only a person can fix, by signing in again (exit 3)."""

from stsenv.errors import EXIT_MFA, AwsError


class LoginNeeded(AwsError):
    """No token, an expired one that cannot be renewed, a renewal refused, or a token the portal refuses.

    Exit 3, like an MFA code that cannot be had: credential_process callers and the prompt hook treat it as
    "a person must act", and no process opens a browser or waits for one. An AwsError, so that the broker
    treats it as a failed refresh: cached role credentials with time left are still handed out, and the
    processes waiting on the lock end with the same line instead of each trying again.
    """

    exit_code = EXIT_MFA


def login_hint(settings):
    """The fix, naming both stsenv and the aws CLI: `stsenv login PROFILE`, or `aws sso login ...`."""
    if settings.session:
        aws = f"`aws sso login --sso-session {settings.session}`"
    elif settings.profile:
        aws = f"`aws sso login --profile {settings.profile}`"
    else:
        aws = "`aws sso login`"
    if settings.profile:
        return f"run `stsenv login {settings.profile}`, or {aws}"
    return f"run `stsenv login` with a profile of this session, or {aws}"

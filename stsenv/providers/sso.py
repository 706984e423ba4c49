"""IAM Identity Center (SSO): a role's credentials from the access portal, with the session's access token
from the aws CLI's token cache (renewed there when it is due). Never signs anyone in: without a token that
works, LoginNeeded (exit 3) names `stsenv login PROFILE` and `aws sso login`."""

from stsenv.errors import AwsError
from stsenv.sso import portal, renewal
from stsenv.sso.errors import LoginNeeded, login_hint
from stsenv.sso.settings import from_source


def fetch(source, signer, options):
    settings = from_source(source)
    environ = options.environ
    timeouts = options.lock_timeouts()  # a prompt's renewal waits for no one signing in
    token = renewal.access_token(settings, environ, timeouts=timeouts, tell=options.tell)
    try:
        return portal.role_credentials(settings, environ, token)
    except AwsError as error:
        if error.code != portal.UNAUTHORIZED:
            raise
    # The portal refused a token with time left (signed out elsewhere, the session ended or was revoked):
    # renewed once if it can be, else a person must sign in.
    token = renewal.access_token(settings, environ, rejected=token, timeouts=timeouts, tell=options.tell)
    try:
        return portal.role_credentials(settings, environ, token)
    except AwsError as error:
        if error.code == portal.UNAUTHORIZED:
            raise LoginNeeded(
                f"profile {source.profile!r}: IAM Identity Center does not accept the renewed token of {settings.described} either",
                login_hint(settings),
            ) from None
        raise

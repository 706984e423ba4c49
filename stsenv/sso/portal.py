"""The AWS access portal: GetRoleCredentials (a role's credentials for the access token), ListAccounts and
ListAccountRoles (every page), Logout. Unsigned; the token travels in x-amz-sso_bearer_token.

Role credentials are checked like every STS answer (stsenv.answers): the portal's expiration is epoch
milliseconds. Their identity is `ROLE@ACCOUNT` (`Developer@123456789012`): the ARN stsenv records is
arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE, naming the permission set, because the portal does not say the
provisioned role's name (AWSReservedSSO_ROLE_<hex>) or the session's, and asking STS would cost a call per
refresh. A refused token is AwsError with code UnauthorizedException (see stsenv.providers.sso).
"""

from datetime import datetime, timezone

from stsenv import answers
from stsenv.errors import AwsError
from stsenv.sso import clients
from stsenv.sts import action_of

HINT = "AWS never answers so: check AWS_ENDPOINT_URL_SSO (or the [services] sso endpoint_url) and any proxy in between"
LONGEST_ROLE_SESSION = 43200  # a permission set's session lasts 1 to 12 hours
PAGE_LIMIT = 1000  # pages of one listing: a portal that keeps sending a nextToken is not AWS's
UNAUTHORIZED = "UnauthorizedException"


def role_credentials(settings, environ, access_token):
    """Credentials of `settings`' role in its account."""
    answer = clients.call(
        clients.PORTAL, settings, environ, "get_role_credentials", roleName=settings.role_name, accountId=settings.account_id, accessToken=access_token
    )
    fields = answer.get("roleCredentials")
    if not isinstance(fields, dict):
        raise AwsError("GetRoleCredentials: the answer's roleCredentials is missing", HINT)
    arn = f"arn:{settings.partition}:sts::{settings.account_id}:assumed-role/{settings.role_name}"
    checked = {
        "AccessKeyId": fields.get("accessKeyId"),
        "SecretAccessKey": fields.get("secretAccessKey"),
        "SessionToken": fields.get("sessionToken"),
        "Expiration": _from_milliseconds(fields.get("expiration")),
    }
    return answers.credentials(checked, "GetRoleCredentials", HINT, duration=LONGEST_ROLE_SESSION, arn=arn, account=settings.account_id)


def _from_milliseconds(value):
    if type(value) is not int:
        raise AwsError("GetRoleCredentials: the answer's expiration is not a time in epoch milliseconds", HINT)
    try:
        return datetime.fromtimestamp(value / 1000, timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise AwsError("GetRoleCredentials: the answer's expiration is not a date a clock can hold", HINT) from None


def accounts(settings, environ, access_token):
    """Every account the user has a role in: the portal's {accountId, accountName, emailAddress} as sent (unchecked: the caller checks)."""
    return _every_page(settings, environ, "list_accounts", "accountList", accessToken=access_token)


def account_roles(settings, environ, access_token, account_id):
    """Every role the user has in `account_id`: the portal's {roleName, accountId} as sent (unchecked)."""
    return _every_page(settings, environ, "list_account_roles", "roleList", accessToken=access_token, accountId=account_id)


def logout(settings, environ, access_token):
    """End the portal session of the token (all its tokens stop working)."""
    clients.call(clients.PORTAL, settings, environ, "logout", accessToken=access_token)


def _every_page(settings, environ, operation, listing, **parameters):
    found = []
    seen = set()
    next_token = None
    for _ in range(PAGE_LIMIT):
        answer = clients.call(clients.PORTAL, settings, environ, operation, nextToken=next_token, **parameters)
        page = answer.get(listing) or []
        if not isinstance(page, list):
            raise AwsError(f"{action_of(operation)}: the answer's {listing} is not a list", HINT)
        found.extend(item for item in page if isinstance(item, dict))
        next_token = answer.get("nextToken")
        if not next_token:
            return found
        if not isinstance(next_token, str) or next_token in seen:
            raise AwsError(f"{action_of(operation)}: the answer's nextToken repeats an earlier page", HINT)
        seen.add(next_token)
    raise AwsError(f"{action_of(operation)}: more than {PAGE_LIMIT} pages", HINT)

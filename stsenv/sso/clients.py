"""The only module of stsenv.sso that imports boto3: unsigned sso-oidc and sso clients that never read the
user's config or credentials, and one `call` that turns whatever goes wrong into one-line AwsErrors.

Like stsenv.sts, whose isolated session and client settings (retries, timeouts, user agent) they use: the
endpoint is the one the profile decided (stsenv.sso.settings.service_endpoints), and AWS's code and message
are made one line. Every operation of both APIs is unsigned (the portal's take the access token in
x-amz-sso_bearer_token, which botocore's model puts there), so no credential is looked for anywhere.
"""

from functools import lru_cache

import boto3
from botocore import UNSIGNED
from botocore.config import Config
from botocore.credentials import CredentialResolver
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError as BotoConnectionError
from botocore.exceptions import ReadTimeoutError
from botocore.parsers import ResponseParserError

from stsenv import sts
from stsenv.errors import AwsError, ConfigError
from stsenv.oneline import oneline
from stsenv.settings import sts_read_timeout

# botocore's names of the two services.
OIDC = "sso-oidc"
PORTAL = "sso"
# What each API is called in messages, and the setting that moves its endpoint.
APIS = {
    OIDC: ("IAM Identity Center (OIDC)", "AWS_ENDPOINT_URL_SSO_OIDC"),
    PORTAL: ("the AWS access portal", "AWS_ENDPOINT_URL_SSO"),
}
HINTS = {
    "TooManyRequestsException": "IAM Identity Center is throttling: wait a moment and try again",
    "InternalServerException": f"IAM Identity Center failed on its side {sts.ATTEMPTS} times: try again in a moment",
    "ForbiddenException": "you have no such assignment: check sso_account_id and sso_role_name (`stsenv sso populate` lists yours)",
    "ResourceNotFoundException": "check sso_account_id and sso_role_name",
}


@lru_cache(maxsize=8)
def client(service, endpoint, region, read_timeout):
    """An unsigned boto3 client of `service` (OIDC or PORTAL) at `endpoint`, isolated from the user's files.
    Made once per process (about 170 ms each: botocore loads the service model anew for every session), so
    that populate's call per account and login's poll per interval do not pay it again."""
    session = sts.isolated_session()
    session.register_component("credential_provider", CredentialResolver(providers=[]))
    config = sts.client_config(read_timeout).merge(Config(signature_version=UNSIGNED))
    return boto3.session.Session(botocore_session=session).client(service, region_name=region, endpoint_url=endpoint, config=config)


def call(service, settings, environ, operation, **parameters):
    """Run `operation` (the boto3 method name) of `service` at the endpoint `settings` (SsoSettings) name for
    it, waiting STSENV_STS_READ_TIMEOUT of `environ` for each answer; the answer, or AwsError (with AWS's code
    in `.code`) on any failure. Parameters that are None are left out."""
    parameters = {name: value for name, value in parameters.items() if value is not None}
    action = sts.action_of(operation)
    name, variable = APIS[service]
    endpoint = settings.oidc if service == OIDC else settings.portal
    where = oneline(endpoint)
    read_timeout = sts_read_timeout(environ)
    try:
        method = getattr(client(service, endpoint, settings.region, read_timeout), operation)
    except ValueError:  # botocore's "Invalid endpoint"
        raise ConfigError(f"{where} is not an endpoint URL botocore accepts", f"check {variable}, the [services] section and endpoint_url") from None
    try:
        return method(**parameters)
    except ClientError as error:
        raise refusal(action, error) from None
    except ReadTimeoutError:
        raise AwsError(
            f"{action}: {name} at {where} did not answer within {read_timeout:g}s ({sts.ATTEMPTS} attempts)",
            "check the network and the endpoint; STSENV_STS_READ_TIMEOUT waits longer",
        ) from None
    except BotoConnectionError as error:
        raise AwsError(f"{action}: cannot reach {name} at {where} ({type(error).__name__})", f"check the network, sso_region and {variable}") from None
    except ResponseParserError:  # sts.isolated_session's parsers turn whatever else an answer that is not AWS's raises into this
        raise AwsError(f"{action}: {name} at {where} sent an answer that is not its JSON", f"check {variable} and any proxy in between") from None
    except BotoCoreError as error:
        raise AwsError(f"{action} failed: {oneline(error)}") from None


def refusal(action, error):
    """AwsError for AWS's refusal: its code (OIDC errors are OAuth's, e.g. InvalidGrantException) and message, one line."""
    response = error.response
    details = response.get("Error", {})
    code = details.get("Code") or "Unknown"
    message = details.get("Message") or response.get("error_description") or response.get("message") or str(error)
    return AwsError(f"{action} refused: {oneline(code, 100)}: {oneline(message)}", HINTS.get(code), code=code)

"""The only module of stsenv.sso that imports boto3: unsigned sso-oidc and sso clients that never read the
user's config or credentials, and one `call` that turns whatever goes wrong into one-line AwsErrors.

Like stsenv.sts: the endpoint is the one the profile decided (stsenv.sso.settings.endpoints), retries, timeouts
and the user agent are sts.CLIENT_CONFIG's, and AWS's code and message are made one line. Every operation of
both APIs is unsigned (the portal's take the access token in x-amz-sso_bearer_token, which botocore's model
puts there), so no credential is looked for anywhere.
"""

import os
from functools import lru_cache

import boto3
import botocore.session
from botocore import UNSIGNED
from botocore.config import Config
from botocore.credentials import CredentialResolver
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError as BotoConnectionError
from botocore.exceptions import ReadTimeoutError
from botocore.parsers import ResponseParserError

from stsenv.errors import AwsError, ConfigError
from stsenv.oneline import oneline
from stsenv.sts import ATTEMPTS, CLIENT_CONFIG, action_of

UNSIGNED_CONFIG = CLIENT_CONFIG.merge(Config(signature_version=UNSIGNED))
# What each API is called in messages, and the setting that moves its endpoint.
APIS = {
    "sso-oidc": ("IAM Identity Center (OIDC)", "AWS_ENDPOINT_URL_SSO_OIDC"),
    "sso": ("the AWS access portal", "AWS_ENDPOINT_URL_SSO"),
}
HINTS = {
    "TooManyRequestsException": "IAM Identity Center is throttling: wait a moment and try again",
    "InternalServerException": f"IAM Identity Center failed on its side {ATTEMPTS} times: try again in a moment",
    "ForbiddenException": "you have no such assignment: check sso_account_id and sso_role_name (`stsenv sso populate` lists yours)",
    "ResourceNotFoundException": "check sso_account_id and sso_role_name",
}


@lru_cache(maxsize=8)
def client(service, endpoint, region):
    """An unsigned boto3 client of `service` ("sso-oidc" or "sso") at `endpoint`, isolated from the user's files.
    Made once per process (about 170 ms each: botocore loads the service model anew for every session), so
    that populate's call per account and login's poll per interval do not pay it again."""
    session = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
    session.set_config_variable("config_file", os.devnull)
    session.set_config_variable("credentials_file", os.devnull)
    session.register_component("credential_provider", CredentialResolver(providers=[]))
    return boto3.session.Session(botocore_session=session).client(service, region_name=region, endpoint_url=endpoint, config=UNSIGNED_CONFIG)


def call(service, endpoint, region, operation, **parameters):
    """Run `operation` (the boto3 method name) of `service`; the answer, or AwsError (with AWS's code in
    `.code`) on any failure. Parameters that are None are left out."""
    parameters = {name: value for name, value in parameters.items() if value is not None}
    action = action_of(operation)
    name, variable = APIS[service]
    where = oneline(endpoint)
    try:
        method = getattr(client(service, endpoint, region), operation)
    except ValueError:  # botocore's "Invalid endpoint"
        raise ConfigError(f"{where} is not an endpoint URL botocore accepts", f"check {variable}, the [services] section and endpoint_url") from None
    try:
        return method(**parameters)
    except ClientError as error:
        raise refusal(action, error) from None
    except ReadTimeoutError:
        raise AwsError(
            f"{action}: {name} at {where} did not answer within {UNSIGNED_CONFIG.read_timeout:g}s ({ATTEMPTS} attempts)",
            "check the network and the endpoint; STSENV_STS_READ_TIMEOUT waits longer",
        ) from None
    except BotoConnectionError as error:
        raise AwsError(f"{action}: cannot reach {name} at {where} ({type(error).__name__})", f"check the network, sso_region and {variable}") from None
    except ResponseParserError:
        raise AwsError(f"{action}: {name} at {where} sent an answer that is not its JSON", f"check {variable} and any proxy in between") from None
    except BotoCoreError as error:
        raise AwsError(f"{action} failed: {oneline(error)}") from None
    except (AttributeError, TypeError, KeyError, ValueError, IndexError):
        # botocore's JSON parsers assume an object where an endpoint that is not AWS may send a list or a number
        raise AwsError(f"{action}: {name} at {where} sent an answer that is not its JSON", f"check {variable} and any proxy in between") from None


def refusal(action, error):
    """AwsError for AWS's refusal: its code (OIDC errors are OAuth's, e.g. InvalidGrantException) and message, one line."""
    response = error.response
    details = response.get("Error", {})
    code = details.get("Code") or "Unknown"
    message = details.get("Message") or response.get("error_description") or response.get("message") or str(error)
    return AwsError(f"{action} refused: {oneline(code, 100)}: {oneline(message)}", HINTS.get(code), code=code)

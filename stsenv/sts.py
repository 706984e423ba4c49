"""The only module that imports boto3 for STS: one function per STS operation, AWS's refusals turned into
one line.

Every call goes to the endpoint the profile decided (Endpoint, from stsenv.endpoints), signed with the credentials
given, never with whatever botocore would find in the environment or the user's config files.
"""

import os

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import CredentialResolver
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError as BotoConnectionError
from botocore.exceptions import ReadTimeoutError
from botocore.parsers import ResponseParserError, ResponseParserFactory
from botocore.utils import parse_timestamp

from stsenv import answers, kinds
from stsenv.errors import AwsError
from stsenv.oneline import oneline
from stsenv.settings import sts_read_timeout

ATTEMPTS = 3  # with 5 s to connect and 10 s to answer, all attempts end well inside the 60 s lock wait
CONNECT_TIMEOUT = 5


class Endpoint:
    """Where one AWS call goes (`url`, and the `region` its signature names) and how long to wait for its answer."""

    __slots__ = ("url", "region", "read_timeout")

    def __init__(self, url, region, read_timeout):
        self.url = url
        self.region = region
        self.read_timeout = read_timeout

    @classmethod
    def of(cls, where, environ):
        """The endpoint of `where`, a Source's params (or sts_endpoint's answer): its "endpoint" and "region";
        the read timeout from STSENV_STS_READ_TIMEOUT in `environ`."""
        return cls(where["endpoint"], where["region"], sts_read_timeout(environ))


def client_config(read_timeout):
    """Throttling, 5xx, timeouts and refused connections are retried by botocore's standard mode: ATTEMPTS in
    all (`max_attempts` would count retries only, one attempt more), with its jittered backoff between them."""
    return Config(
        retries={"mode": "standard", "total_max_attempts": ATTEMPTS},
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=read_timeout,
        user_agent_extra="stsenv",
    )


HINTS = {
    "AccessDenied": "check the role's trust policy and the permissions of the credentials that sign the call",
    "ExpiredToken": "the credentials signing the call have expired: run `stsenv logout` for the source profile and try again",
    "InvalidClientTokenId": "the access key is not valid: check the keys of the source profile",
    "SignatureDoesNotMatch": "the secret key does not match the access key: check the source profile's keys",
    "ValidationError": "check the value named above against the limits in `stsenv --help`",
    "Throttling": "STS is throttling this account: wait a moment and try again",
    "RegionDisabledException": "activate STS in this region (IAM > Account settings) or use another region",
    "MalformedPolicyDocument": "check the session policy JSON",
    "PackedPolicyTooLarge": "shorten the session policy or tags",
    "IDPRejectedClaim": "the identity provider's token was refused: get a fresh one",
    "InvalidIdentityToken": "the web identity token is not valid: get a fresh one",
    "ExpiredTokenException": "the token has expired: get a fresh one",
    "InvalidAuthorizationMessageException": "the message is not a complete encoded authorization message",
    "InternalFailure": f"STS failed on its side {ATTEMPTS} times: try again in a moment",
    "ServiceUnavailable": f"STS failed on its side {ATTEMPTS} times: try again in a moment",
}


def _timestamp_or_text(text):
    """botocore's timestamp parser, except that text which is no date comes back as it is: botocore would
    raise from deep in its parser, and stsenv.answers names the field instead."""
    try:
        return parse_timestamp(text)
    except Exception:  # ValueError, OverflowError, and RuntimeError for an epoch no time zone can hold ("1e300")
        return text


class _ParserFactory(ResponseParserFactory):
    """botocore's parsers, reading timestamps with _timestamp_or_text, and turning whatever else they raise
    on an answer that is not STS's (a KeyError for a missing result element, ...) into ResponseParserError."""

    def __init__(self):
        super().__init__()
        self.set_parser_defaults(timestamp_parser=_timestamp_or_text)

    def create_parser(self, protocol_name):
        parser = super().create_parser(protocol_name)
        parse = parser.parse

        def parse_or_refuse(response, shape):
            try:
                return parse(response, shape)
            except ResponseParserError:
                raise
            except Exception as error:  # botocore's parsers assume the answer has STS's shape
                raise ResponseParserError(f"unreadable answer ({type(error).__name__})") from None

        parser.parse = parse_or_refuse
        return parser


def isolated_session():
    """A botocore session that reads no config or credentials file: stsenv has already read them, and
    botocore reading them again would only add ways to fail (AWS_PROFILE naming the very profile being
    served, a file botocore cannot parse)."""
    session = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
    session.set_config_variable("config_file", os.devnull)
    session.set_config_variable("credentials_file", os.devnull)
    session.register_component("response_parser_factory", _ParserFactory())
    return session


def _client(signer, endpoint):
    session = isolated_session()
    kwargs = {}
    if signer is None:  # AssumeRoleWithWebIdentity and WithSAML are unsigned: look for no credentials anywhere
        session.register_component("credential_provider", CredentialResolver(providers=[]))
    if signer is not None:
        kwargs = {
            "aws_access_key_id": signer.access_key_id,
            "aws_secret_access_key": signer.secret_access_key,
            "aws_session_token": signer.session_token,
        }
    return boto3.session.Session(botocore_session=session).client(
        "sts", region_name=endpoint.region, endpoint_url=endpoint.url, config=client_config(endpoint.read_timeout), **kwargs
    )


def call(operation, signer, endpoint, **parameters):
    """Run one STS operation (`operation` is the boto3 method name); AwsError with a hint on any failure.

    `endpoint` is an Endpoint. Parameters that are None are left out.
    """
    parameters = {name: value for name, value in parameters.items() if value is not None}
    action = action_of(operation)
    where = oneline(endpoint.url)
    try:
        return getattr(_client(signer, endpoint), operation)(**parameters)
    except ClientError as error:
        raise _refusal(action, error) from None
    except ReadTimeoutError:
        raise AwsError(
            f"{action}: STS at {where} did not answer within {endpoint.read_timeout:g}s ({ATTEMPTS} attempts)",
            "check the network, endpoint_url and region; STSENV_STS_READ_TIMEOUT waits longer",
        ) from None
    except BotoConnectionError as error:
        raise AwsError(f"{action}: cannot reach STS at {where} ({type(error).__name__})", "check the network, endpoint_url and region") from None
    except ResponseParserError:
        raise AwsError(f"{action}: STS at {where} sent a response that is not STS XML", "check endpoint_url / AWS_ENDPOINT_URL_STS") from None
    except BotoCoreError as error:
        raise AwsError(f"{action} failed: {oneline(error)}") from None


def action_of(operation):
    """`assume_role` -> `AssumeRole`, the name AWS and its messages use."""
    return "".join(word.capitalize() for word in operation.split("_"))


def _refusal(action, error):
    details = error.response.get("Error", {})
    code = details.get("Code") or "Unknown"
    message = details.get("Message") or str(error)
    hint = HINTS.get(code)
    clock_words = ("expired", "not yet current")  # AWS: "Signature expired: ..." / "Signature not yet current: ..."
    if code in ("SignatureDoesNotMatch", "InvalidSignatureException", "RequestExpired") and any(w in message.lower() for w in clock_words):
        hint = "this machine's clock is off: sync it (e.g. `timedatectl set-ntp true`) and try again"
    if code == "AccessDenied" and "MultiFactorAuthentication" in message:
        hint = "the MFA code was wrong, expired or already used: wait for the next code"
    if "role chaining" in message:
        limit = kinds.ROLE_CHAINING_LIMIT
        hint = f"credentials that are themselves a role session can assume a role for {limit} seconds at most: ask for {limit} or less"
    if "MaxSessionDuration" in message:
        hint = "ask for fewer seconds, or raise the role's maximum session duration in IAM"
    # code and message are AWS's (or whoever answered): one line, cut, whatever they hold
    return AwsError(f"{action} refused: {oneline(code, 100)}: {oneline(message)}", hint, code=code)


def credentials_from(response, operation, duration=None, arn=None):
    """Credentials from the `Credentials` element of an STS answer to `operation`, checked field by field
    (stsenv.answers); `duration` is the seconds asked for, which an expiry further ahead is capped to."""
    user = response.get("AssumedRoleUser") or response.get("FederatedUser")
    arn = arn or (user.get("Arn") if isinstance(user, dict) else None) or None
    fields = response.get("Credentials")
    return answers.credentials(fields, action_of(operation), duration=duration or kinds.LONGEST_GRANT, arn=arn, account=account_of(arn))


def account_of(arn):
    """The account id field of an ARN, or None."""
    parts = (arn or "").split(":")
    return parts[4] or None if len(parts) > 5 else None


def _issued(operation, signer, endpoint, parameters, arn=None):
    response = call(operation, signer, endpoint, **parameters)
    return credentials_from(response, operation, parameters.get("DurationSeconds"), arn)


def assume_role(signer, endpoint, **parameters):
    return _issued("assume_role", signer, endpoint, parameters)


def get_session_token(signer, endpoint, **parameters):
    return _issued("get_session_token", signer, endpoint, parameters)


def get_caller_identity(signer, endpoint):
    return answers.identity(call("get_caller_identity", signer, endpoint), "GetCallerIdentity")


def get_federation_token(signer, endpoint, **parameters):
    return _issued("get_federation_token", signer, endpoint, parameters)


def assume_role_with_web_identity(endpoint, **parameters):
    return _issued("assume_role_with_web_identity", None, endpoint, parameters)


def assume_role_with_saml(endpoint, **parameters):
    return _issued("assume_role_with_saml", None, endpoint, parameters)


def assume_root(signer, endpoint, **parameters):
    """Root-task credentials for a member account; they act as that account's root user."""
    return _issued("assume_root", signer, endpoint, parameters, arn=f"arn:aws:iam::{parameters['TargetPrincipal']}:root")


def get_access_key_info(signer, endpoint, access_key_id):
    return without_metadata(call("get_access_key_info", signer, endpoint, AccessKeyId=access_key_id))


def decode_authorization_message(signer, endpoint, encoded_message):
    return without_metadata(call("decode_authorization_message", signer, endpoint, EncodedMessage=encoded_message))


def get_web_identity_token(signer, endpoint, **parameters):
    response = without_metadata(call("get_web_identity_token", signer, endpoint, **parameters))
    from stsenv import redact

    redact.remember(response.get("WebIdentityToken"))
    return response


def without_metadata(response):
    """The response as the aws CLI prints it: without botocore's ResponseMetadata."""
    return {key: value for key, value in response.items() if key != "ResponseMetadata"}

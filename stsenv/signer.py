"""The credentials an STS lookup (whoami, key-info, decode, web-identity-token) is signed with: a profile's,
through the cache, else this shell's AWS_* variables; the call made and its answer printed the way
`aws sts ...` prints it (stsenv.awscli_output)."""

from stsenv import awscli_output, endpoints
from stsenv.broker import Broker, Options
from stsenv.config import AwsConfig
from stsenv.credentials import Credentials
from stsenv.errors import ConfigError
from stsenv.resolution import resolve


def add_arguments(parser):
    """--profile and --region, and the aws CLI's --output and --query."""
    parser.add_argument("--profile", help="sign with this profile's credentials (default: this shell's AWS_* variables)")
    parser.add_argument("--region", help="call the STS endpoint of this region (default: the profile's, as the aws CLI)")
    awscli_output.add_arguments(parser)


def caller(config, profile, environ):
    """(credentials, STS endpoint params, section) to sign with: the profile's (through the cache), else this shell's."""
    if profile:
        credentials = Broker(Options(environ=environ)).credentials(resolve(config, profile))
        section = config.section(profile)
        return credentials, endpoints.sts_endpoint(config, section), section
    key_id, secret = environ.get("AWS_ACCESS_KEY_ID"), environ.get("AWS_SECRET_ACCESS_KEY")
    if key_id and secret:
        section = config.profiles.get(environ.get("AWS_PROFILE") or "default", {})
        return Credentials(key_id, secret, environ.get("AWS_SESSION_TOKEN")), endpoints.sts_endpoint(config, section), section
    if key_id or secret:
        raise ConfigError("only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set in this shell", "set both, or run `stsenv use PROFILE`")
    if environ.get("AWS_PROFILE"):
        return caller(config, environ["AWS_PROFILE"], environ)
    raise ConfigError("no credentials in this shell", "run `stsenv use PROFILE` first, or give --profile PROFILE")


def call(args, operation):
    """(response of `operation(credentials, endpoint)`, output format, compiled --query) for --profile or this shell."""
    query = awscli_output.compile_query(args.query)
    config = AwsConfig()
    credentials, where, section = caller(config, args.profile, config.environ)
    if args.region:
        where = endpoints.sts_endpoint(config, {**section, "region": args.region})
    from stsenv.sts import Endpoint

    endpoint = Endpoint.of(where, config.environ)
    return operation(credentials, endpoint), awscli_output.choose_format(args.output, config.environ, section), query

"""`stsenv whoami`, `key-info KEY`, `decode [MESSAGE|-]` and `web-identity-token`: the STS calls whose answer
is printed rather than used, signed with a profile's credentials or this shell's, printed the way
`aws sts ...` prints them."""

import json
import re
import sys

from stsenv import adhoc, output, sts, terminal, validate
from stsenv.broker import Broker, Options
from stsenv.config import AwsConfig
from stsenv.credentials import Credentials
from stsenv.errors import ConfigError

# The longest run of these in pasted text is the encoded message (base64url, as AWS writes it).
_ENCODED = re.compile(r"[A-Za-z0-9_\-+/=]{16,}")
_AFTER_LABEL = re.compile(r"encoded authorization failure message:\s*([A-Za-z0-9_\-+/=]+)", re.IGNORECASE)
ENCODED_MAX_CHARS = 10240


def register(commands):
    whoami = commands.add_parser("whoami", help="who the credentials of a profile, or of this shell, are (GetCallerIdentity)")
    _common(whoami)
    whoami.set_defaults(func=run_whoami)
    key_info = commands.add_parser("key-info", help="the account that owns an access key (GetAccessKeyInfo)")
    key_info.add_argument("access_key_id", metavar="ACCESS_KEY_ID")
    _common(key_info)
    key_info.set_defaults(func=run_key_info)
    decode = commands.add_parser("decode", help="what an encoded authorization failure message says (DecodeAuthorizationMessage)")
    decode.add_argument("message", nargs="?", metavar="MESSAGE|-", help="the message, or a whole error line; - or nothing reads stdin")
    _common(decode)
    decode.set_defaults(func=run_decode)
    token = commands.add_parser("web-identity-token", help="a JWT naming you, for services outside AWS (GetWebIdentityToken)")
    token.add_argument("--audience", nargs="+", required=True, metavar="AUDIENCE", help="who the token is for (1 to 10)")
    token.add_argument("--signing-algorithm", choices=("RS256", "ES384"), default="RS256")
    token.add_argument("--duration-seconds", type=int, default=300, metavar="S", help="60 to 3600 (default 300)")
    token.add_argument("--tags", nargs="+", metavar="KEY=VALUE", help="custom claims (up to 50)")
    _common(token)
    token.set_defaults(func=run_web_identity_token)


def _common(parser):
    parser.add_argument("--profile", help="sign with this profile's credentials (default: this shell's AWS_* variables)")
    parser.add_argument("--region", help="call the STS endpoint of this region (default: the profile's, as the aws CLI)")
    output.add_arguments(parser)


def caller(config, profile, environ):
    """(credentials, endpoint, section) to sign with: the profile's (through the cache), else this shell's."""
    if profile:
        credentials = Broker(Options(environ=environ)).credentials(config.resolve(profile))
        section = config.section(profile)
        return credentials, config.sts_endpoint(section), section
    key_id, secret = environ.get("AWS_ACCESS_KEY_ID"), environ.get("AWS_SECRET_ACCESS_KEY")
    if key_id and secret:
        section = config.profiles.get(environ.get("AWS_PROFILE") or "default", {})
        return Credentials(key_id, secret, environ.get("AWS_SESSION_TOKEN")), config.sts_endpoint(section), section
    if key_id or secret:
        raise ConfigError("only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set in this shell", "set both, or run `stsenv use PROFILE`")
    if environ.get("AWS_PROFILE"):
        return caller(config, environ["AWS_PROFILE"], environ)
    raise ConfigError("no credentials in this shell", "run `stsenv use PROFILE` first, or give --profile PROFILE")


def _call(args, call):
    """(response of `call(credentials, endpoint)`, output format, compiled --query) for --profile or this shell."""
    query = output.compile_query(args.query)
    config = AwsConfig()
    credentials, endpoint, section = caller(config, args.profile, config.environ)
    if args.region:
        endpoint = config.sts_endpoint({**section, "region": args.region})
    return call(credentials, endpoint), output.choose_format(args.output, config.environ, section), query


def run_whoami(args):
    output.render("GetCallerIdentity", *_call(args, sts.get_caller_identity))
    return 0


def run_key_info(args):
    problem = validate.access_key_id(args.access_key_id)
    if problem:
        raise ConfigError(problem)
    output.render("GetAccessKeyInfo", *_call(args, lambda credentials, endpoint: sts.get_access_key_info(credentials, endpoint, args.access_key_id)))
    return 0


def run_decode(args):
    """The decoded document, pretty; with --output or --query, exactly what `aws sts decode-authorization-message` prints."""
    message = find_encoded_message(_read_message(args.message))
    response, fmt, query = _call(args, lambda credentials, endpoint: sts.decode_authorization_message(credentials, endpoint, message))
    if args.output or query:
        output.render("DecodeAuthorizationMessage", response, fmt, query)
        return 0
    try:
        sys.stdout.write(json.dumps(json.loads(response["DecodedMessage"]), indent=2, ensure_ascii=False) + "\n")
    except ValueError:
        sys.stdout.write(response["DecodedMessage"] + "\n")
    return 0


def run_web_identity_token(args):
    tags = [adhoc.tag(item) for item in args.tags or ()]
    problems = [] if 60 <= args.duration_seconds <= 3600 else [f"--duration-seconds: {args.duration_seconds} is outside 60 to 3600"]
    if len(args.audience) > 10:
        problems.append(f"--audience: {len(args.audience)} audiences given; AWS allows 10")
    problem = validate.tags(",".join(f"{key}={value}" for key, value in tags))
    if problem:
        problems.append(f"--tags: {problem}")
    if problems:
        raise validate.Invalid(problems)
    parameters = {"Audience": args.audience, "SigningAlgorithm": args.signing_algorithm, "DurationSeconds": args.duration_seconds}
    if tags:
        parameters["Tags"] = [{"Key": key, "Value": value} for key, value in tags]

    def mint(credentials, endpoint):
        return sts.get_web_identity_token(credentials, endpoint, **parameters)

    output.render("GetWebIdentityToken", *_call(args, mint))
    return 0


def _read_message(given):
    if given not in (None, "-"):
        return given
    if sys.stdin.isatty():
        terminal.tell("stsenv: paste the AWS error or its encoded message, then press Ctrl-D")
    return sys.stdin.read()


def find_encoded_message(text):
    """The encoded message in `text`: the text itself, the word after "Encoded authorization failure
    message:", or else the longest base64url-like word (users paste whole error lines)."""
    labelled = _AFTER_LABEL.search(text)
    candidates = [labelled.group(1)] if labelled else sorted(_ENCODED.findall(text), key=len, reverse=True)
    if not candidates:
        raise ConfigError("no encoded authorization message found", "pass the text after `Encoded authorization failure message:`")
    message = candidates[0]
    if len(message) > ENCODED_MAX_CHARS:
        raise ConfigError(f"the encoded message has {len(message)} characters; AWS takes up to {ENCODED_MAX_CHARS}")
    return message

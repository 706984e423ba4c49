"""`stsenv federate NAME`: a federated user session (GetFederationToken) from long-lived IAM user keys,
printed as `use` prints a profile, and cached like one."""

from stsenv import adhoc, exports
from stsenv.config import AwsConfig


def register(commands):
    parser = commands.add_parser("federate", help="a federated user session from an IAM user's keys, printed like `use`")
    parser.add_argument("name", metavar="NAME", help="the federated user's name, shown in its ARN (2 to 32 characters)")
    parser.add_argument("--profile", help="the profile with the IAM user's keys (default: this shell's AWS_* variables)")
    adhoc.add_override_arguments(parser)
    adhoc.add_session_arguments(parser)
    parser.add_argument("--shell", choices=exports.SHELLS, help="default: $STSENV_SHELL, else $SHELL's name, else bash")
    parser.add_argument("--format", dest="fmt", choices=exports.FORMATS, default="shell")
    parser.set_defaults(func=run)


def run(args):
    from stsenv.commands.use import use

    config = AwsConfig()
    return use(adhoc.federation_profile(config, args), shell=args.shell, fmt=args.fmt, config=config)

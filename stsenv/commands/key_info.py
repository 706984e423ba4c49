"""`stsenv key-info ACCESS_KEY_ID`: the account that owns an access key (GetAccessKeyInfo)."""

from stsenv import awscli_output, signer, validate
from stsenv.errors import ConfigError


def register(commands):
    parser = commands.add_parser("key-info", help="the account that owns an access key (GetAccessKeyInfo)")
    parser.add_argument("access_key_id", metavar="ACCESS_KEY_ID")
    signer.add_arguments(parser)
    parser.set_defaults(func=run)


def run(args):
    from stsenv import sts

    problem = validate.access_key_id(args.access_key_id)
    if problem:
        raise ConfigError(problem)

    def key_info(credentials, endpoint):
        return sts.get_access_key_info(credentials, endpoint, args.access_key_id)

    awscli_output.render("GetAccessKeyInfo", *signer.call(args, key_info))
    return 0

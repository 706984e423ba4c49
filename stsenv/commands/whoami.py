"""`stsenv whoami`: who the credentials of a profile, or of this shell, are (GetCallerIdentity)."""

from stsenv import awscli_output, signer


def register(commands):
    parser = commands.add_parser("whoami", help="who the credentials of a profile, or of this shell, are (GetCallerIdentity)")
    signer.add_arguments(parser)
    parser.set_defaults(func=run)


def run(args):
    from stsenv import sts

    awscli_output.render("GetCallerIdentity", *signer.call(args, sts.get_caller_identity))
    return 0

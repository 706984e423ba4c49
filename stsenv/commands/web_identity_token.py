"""`stsenv web-identity-token --audience AUD`: a JWT naming you, for services outside AWS (GetWebIdentityToken)."""

from stsenv import adhoc, awscli_output, signer, validate


def register(commands):
    parser = commands.add_parser("web-identity-token", help="a JWT naming you, for services outside AWS (GetWebIdentityToken)")
    parser.add_argument("--audience", nargs="+", required=True, metavar="AUDIENCE", help="who the token is for (1 to 10)")
    parser.add_argument("--signing-algorithm", choices=("RS256", "ES384"), default="RS256")
    parser.add_argument("--duration-seconds", type=int, default=300, metavar="S", help="60 to 3600 (default 300)")
    parser.add_argument("--tags", nargs="+", metavar="KEY=VALUE", help="custom claims (up to 50)")
    signer.add_arguments(parser)
    parser.set_defaults(func=run)


def run(args):
    from stsenv import sts

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

    awscli_output.render("GetWebIdentityToken", *signer.call(args, mint))
    return 0

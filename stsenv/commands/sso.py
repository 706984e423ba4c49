"""`stsenv sso populate SESSION`: a profile in ~/.aws/config for every account and role the IAM Identity
Center session may sign in to (stsenv.sso.populate), never changing a profile that is there."""

import sys

from stsenv.config import AwsConfig
from stsenv.oneline import oneline


def register(commands):
    parser = commands.add_parser("sso", help="IAM Identity Center: write a profile for each account and role (populate)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=type(parser))
    actions.required = True
    populate = actions.add_parser("populate", help="add a profile for each account and role of an sso-session to the config file")
    populate.add_argument("session", help="the name of an [sso-session NAME] section (sign in first: `stsenv login` or `aws sso login`)")
    populate.add_argument(
        "--template",
        help="profile names from {account_name} {account_id} {role_name} {email} {session} (default {account_name}.{role_name})",
    )
    populate.add_argument("--dry-run", action="store_true", help="print the profiles that would be added; write nothing")
    populate.add_argument("--served", action="store_true", help="write profiles served by stsenv (stsenv_sso_* keys and credential_process)")
    populate.add_argument("--region", help="the region to write in each profile")
    populate.set_defaults(func=run_populate)


def run_populate(args):
    from stsenv.sso import populate

    template = populate.DEFAULT_TEMPLATE if args.template is None else args.template
    result = populate.populate(AwsConfig(), args.session, template, dry_run=args.dry_run, served=args.served, region=args.region)
    if args.dry_run:
        sys.stdout.write(result.preview)  # names sanitised, ids and role names checked (stsenv.sso.populate)
    verb = "would add" if args.dry_run else "added"
    for name in result.added:
        say(f"{verb} [profile {name}]")
    for name in result.unchanged:
        say(f"[profile {name}] is there already")
    for skipped in result.skipped:
        what = skipped.name or " ".join(part for part in (skipped.account_id, skipped.role_name) if isinstance(part, str))
        say(f"skipped {oneline(what or 'an account', 100)}: {oneline(skipped.reason)}")
    count = f"{len(result.added)} profile{'' if len(result.added) == 1 else 's'}"
    say(f"{verb} {count}" + ("" if args.dry_run or not result.added else f" to {oneline(result.path)}"))
    return 0


def say(line):
    """One line on stderr, text from the portal made safe (stsenv.oneline)."""
    print("stsenv: " + oneline(line, 1000), file=sys.stderr)

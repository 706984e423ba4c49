"""`stsenv configure PROFILE`: write a profile that the AWS CLI and SDKs get from `stsenv serve`.

Nothing is written until everything is known to be right: every flag passes the checks `serve` makes
(stsenv.validate, the region and profile-name rules), the edited text reads back as exactly the settings
meant with every other section unchanged, and the new profile resolves from that text in memory. Any
refusal is exit 2 with the file untouched.
"""

import os
import shutil
import sys

from stsenv import configedit, kinds, validate
from stsenv.config import BOTOCORE_BEFORE_PROCESS, PREFIX, AwsConfig, check_profile_name
from stsenv.endpoints import region_problem
from stsenv.errors import ConfigError
from stsenv.resolution import resolve

# botocore would act on these itself (role_arn beats credential_process), so a served profile must not carry them.
BOTOCORE_ROLE_KEYS = (*BOTOCORE_BEFORE_PROCESS, "source_profile", "credential_source")


def register(commands):
    parser = commands.add_parser("configure", help="add or update a profile served by stsenv, keeping the rest of the file")
    parser.add_argument("profile")
    parser.add_argument("--role-arn", required=True)
    parser.add_argument("--source-profile", required=True)
    parser.add_argument("--region")
    parser.add_argument("--mfa-serial")
    parser.add_argument("--external-id")
    parser.add_argument("--role-session-name")
    parser.add_argument("--duration-seconds", type=int)
    parser.set_defaults(func=run)


def serve_command(profile):
    """The credential_process line: `stsenv serve X` when the stsenv on PATH is this one, else its full path."""
    on_path = shutil.which("stsenv")
    running = os.path.realpath(sys.argv[0]) if os.path.basename(sys.argv[0]) == "stsenv" else None
    if on_path and (running is None or os.path.realpath(on_path) == running):
        return f"stsenv serve {profile}"
    return f"{running or sys.executable + ' -m stsenv'} serve {profile}"


def check_flags(args):
    """Every problem of the flags, one line each (validate.Invalid), before anything is read or written."""
    check_profile_name(args.profile)
    checks = (
        ("--source-profile", args.source_profile, _profile_name_problem),
        ("--role-arn", args.role_arn, validate.role_arn),
        ("--region", args.region, region_problem),
        ("--mfa-serial", args.mfa_serial, validate.mfa_serial),
        ("--external-id", args.external_id, validate.external_id),
        ("--role-session-name", args.role_session_name, validate.session_name),
        ("--duration-seconds", args.duration_seconds, _duration_problem),
    )
    problems = []
    for flag, value, check in checks:
        problem = None if value is None else check(value)
        if problem:
            problems.append(f"{flag}: {problem}")
    if problems:
        raise validate.Invalid(problems)
    if args.source_profile == args.profile:
        raise ConfigError(f"profile {args.profile!r} cannot be its own source", "name the profile that holds the keys")


def _profile_name_problem(name):
    try:
        check_profile_name(name)
    except ConfigError as error:
        return str(error)
    return None


def _duration_problem(seconds):
    low, high = kinds.ASSUME_ROLE.durations
    return None if low <= seconds <= high else f"{seconds} seconds is outside {low} to {high}, the range AWS allows for a role session"


def run(args):
    check_flags(args)
    profile = args.profile
    config = AwsConfig()
    existing = config.profiles.get(profile, {})
    clashing = [key for key in BOTOCORE_ROLE_KEYS if existing.get(key)]
    if clashing:
        raise ConfigError(
            f"profile {profile!r} already has {', '.join(clashing)}, which botocore would act on instead of stsenv",
            "remove those keys, or configure another profile name",
        )
    if args.source_profile not in config.profiles:
        raise config.unknown_profile(args.source_profile)
    settings = {
        "credential_process": serve_command(profile),
        PREFIX + "role_arn": args.role_arn,
        PREFIX + "source_profile": args.source_profile,
        "region": args.region,
        PREFIX + "mfa_serial": args.mfa_serial,
        PREFIX + "external_id": args.external_id,
        PREFIX + "role_session_name": args.role_session_name,
        PREFIX + "duration_seconds": args.duration_seconds,
    }
    settings = {key: str(value) for key, value in settings.items() if value is not None}
    text = configedit.read(config.config_path)
    edited = configedit.update_profile(text, profile, settings)
    configedit.check_edit(text, edited, profile, settings, config.config_path)
    source = resolve(AwsConfig(config_text=edited), profile)  # what is about to be written resolves, or this says why
    for node in source.chain():
        validate.source(node)  # and passes what `serve` checks before its first STS call
    written = configedit.write_atomically(config.config_path, edited)
    through = f" (through the symlink, to {written})" if written != os.path.abspath(config.config_path) else ""
    print(f"stsenv: wrote [{configedit.section_header(profile)[1:-1]}] to {config.config_path}{through}", file=sys.stderr)
    return 0

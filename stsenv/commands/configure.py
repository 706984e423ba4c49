"""`stsenv configure PROFILE`: write a profile that the AWS CLI and SDKs get from `stsenv serve`."""

import os
import shutil
import sys

from stsenv import configedit
from stsenv import kinds
from stsenv.config import PREFIX, AwsConfig, check_profile_name
from stsenv.errors import ConfigError
from stsenv.resolution import resolve

# botocore would act on these itself (role_arn beats credential_process), so a served profile must not carry them.
BOTOCORE_ROLE_KEYS = ("role_arn", "source_profile", "credential_source", "web_identity_token_file")


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


def run(args):
    profile = check_profile_name(args.profile)
    check_profile_name(args.source_profile)
    low, high = kinds.ASSUME_ROLE.durations
    if args.duration_seconds is not None and not low <= args.duration_seconds <= high:
        raise ConfigError(f"--duration-seconds {args.duration_seconds} is outside AWS's {low} to {high}")
    if args.source_profile == profile:
        raise ConfigError(f"profile {profile!r} cannot be its own source", "name the profile that holds the keys")
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
    settings = {key: value for key, value in settings.items() if value is not None}
    try:
        with open(config.config_path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        text = ""
    configedit.write_atomically(config.config_path, configedit.update_profile(text, profile, settings))
    resolve(AwsConfig(), profile)  # what was written must resolve; if not, this says why
    print(f"stsenv: wrote [{configedit.section_header(profile)[1:-1]}] to {config.config_path}", file=sys.stderr)
    return 0

"""Profiles made from command-line flags: `use --role-arn ...`, `use --assume-root ...`, `federate NAME`.

The flags become an in-memory `[profile adhoc:NAME]` of the user's config, so they go through the same
resolution (MFA sessions on the source's keys, role chaining, endpoints), cache and providers as any
profile. Everything that decides the credentials is one of its settings, and so part of its cache key.
Cold path only.
"""

import os

from stsenv import kinds, terminal, validate
from stsenv.config import ADHOC_PREFIX, PROFILE_NAME_CHARS
from stsenv.errors import ConfigError
from stsenv.oneline import quoted
from stsenv.source import Source

# Settings of the source profile that decide where STS calls go: an ad-hoc profile inherits them.
ENDPOINT_KEYS = (
    "region",
    "endpoint_url",
    "services",
    "sts_regional_endpoints",
    "use_fips_endpoint",
    "use_dualstack_endpoint",
    "ignore_configured_endpoint_urls",
)
# Settings of an ad-hoc profile whose Source param has another name (the rest are the same).
_PARAMS = {"role_session_name": "session_name", "federation_name": "name"}
ROLE_FLAGS = ("role_session_name", "external_id", "serial_number", "source_identity")
SESSION_FLAGS = ("policy", "policy_arns", "tags")
ROOT_FLAGS = ("target_principal", "task_policy_arn")


def add_override_arguments(parser):
    """`--duration-seconds` and `--region`, for a profile (Overrides) or an ad-hoc session."""
    parser.add_argument("--duration-seconds", type=int, metavar="S", help="how long the credentials last (within what AWS allows their kind)")
    parser.add_argument("--region", help="the region to use the credentials in (an ad-hoc session also calls STS there)")


class Overrides:
    """What the command line changes in the profile it names, for one run.

    `duration`: the seconds its session lasts (`--duration-seconds`), within its kind's range; it is a
    param like the profile's own duration_seconds, so part of the cache key. `region`: where its credentials
    are used (`--region`: the region `use` and `exec` export, the console's region). It never changes where
    STS is called: credentials from the profile's own STS endpoint work in every region of its partition,
    so `--region` shares the profile's cache entry, and a region of another partition is refused.
    """

    __slots__ = ("duration", "region")

    def __init__(self, duration=None, region=None):
        self.duration = duration
        self.region = region


def add_session_arguments(parser):
    """Flags shared by an ad-hoc role and `federate`: a session policy, managed policies, tags."""
    parser.add_argument("--policy", metavar="FILE", help="a session policy: a JSON file, file://FILE, or the JSON itself")
    parser.add_argument("--policy-arns", nargs="+", metavar="ARN", help="managed policies that scope the session (up to 10)")
    parser.add_argument("--tags", nargs="+", metavar="KEY=VALUE", help="session tags (up to 50)")


def add_use_arguments(parser):
    """The flags of `aws sts assume-role` and `aws sts assume-root` on `use`, instead of a profile."""
    role = parser.add_argument_group("an ad-hoc role instead of a profile (the flags of aws sts assume-role)")
    role.add_argument("--role-arn", help="the role to assume")
    role.add_argument("--source-profile", metavar="PROFILE", help="whose credentials assume it (default: this shell's AWS_* variables)")
    role.add_argument("--role-session-name", metavar="NAME")
    role.add_argument("--external-id")
    role.add_argument("--serial-number", metavar="ARN", help="MFA device, with --token-code or a prompt")
    role.add_argument("--source-identity", metavar="ID")
    add_session_arguments(role)
    root = parser.add_argument_group("a root-task session on a member account (aws sts assume-root)")
    root.add_argument("--assume-root", action="store_true", help="call AssumeRoot from the management account")
    root.add_argument("--target-principal", metavar="ACCOUNT", help="the member account id")
    root.add_argument("--task-policy-arn", metavar="ARN", help="arn:aws:iam::aws:policy/root-task/...")
    parser.add_argument("--saml-assertion-file", metavar="FILE", help="the SAML assertion for a SAML profile (- for stdin)")


def wanted(args):
    """Whether `use` was given ad-hoc flags; ConfigError for flags that go with an option not given."""

    def given(names):
        return [name for name in names if getattr(args, name) not in (None, False)]

    if args.assume_root and args.role_arn:
        raise ConfigError("give either --role-arn or --assume-root")
    if not args.role_arn and given(ROLE_FLAGS):
        raise ConfigError(f"{_flag(given(ROLE_FLAGS)[0])} goes with --role-arn")
    if not args.assume_root and given(ROOT_FLAGS):
        raise ConfigError(f"{_flag(given(ROOT_FLAGS)[0])} goes with --assume-root")
    if args.assume_root and given(SESSION_FLAGS):
        raise ConfigError(f"AssumeRoot takes no {_flag(given(SESSION_FLAGS)[0])}")
    adhoc = bool(args.role_arn or args.assume_root)
    if not adhoc and (given(SESSION_FLAGS) or args.source_profile):
        raise ConfigError("--source-profile, --policy, --policy-arns and --tags go with --role-arn")
    if adhoc and args.profile:
        raise ConfigError("give either a profile or ad-hoc flags, not both")
    return adhoc


def use_profile(config, args):
    """Add the profile `use` flags describe to `config`; its name."""
    if args.assume_root:
        if not (args.target_principal and args.task_policy_arn):
            raise ConfigError("--assume-root needs --target-principal ACCOUNT and --task-policy-arn ARN")
        settings = {"target_principal": args.target_principal, "task_policy_arn": args.task_policy_arn}
        return _add(config, f"root@{args.target_principal}", args.source_profile, args, settings, kinds.ASSUME_ROOT)
    settings = {
        "role_arn": args.role_arn,
        "role_session_name": args.role_session_name,
        "external_id": args.external_id,
        "mfa_serial": args.serial_number,
        "source_identity": args.source_identity,
        **_session_settings(args),
    }
    return _add(config, args.role_arn.rsplit("/", 1)[-1], args.source_profile, args, settings, kinds.ASSUME_ROLE)


def federation_profile(config, args):
    """Add the profile `federate NAME` describes to `config`; its name."""
    settings = {"federation_name": args.name, **_session_settings(args)}
    label = _add(config, args.name, args.profile, args, settings, kinds.FEDERATION)
    if "policy" not in settings and "policy_arns" not in settings:
        terminal.tell("stsenv: without --policy or --policy-arns the federated session may do nothing (AWS grants it only what a session policy allows)")
    return label


def _add(config, name, source_profile, args, settings, kind):
    label = ADHOC_PREFIX + "".join(c if c in PROFILE_NAME_CHARS else "_" for c in name)[:100]
    _check(label, kind, settings, args.duration_seconds)
    if label in config.profiles:
        raise ConfigError(f"{config.config_path} has a profile named {label!r}, which stsenv keeps for ad-hoc sessions", "rename it")
    if source_profile:
        inherited = config.section(source_profile)
        section = {"source_profile": source_profile}
    else:
        if not config.environ.get("AWS_ACCESS_KEY_ID"):
            raise ConfigError(
                "no credentials to call STS with",
                "give --source-profile PROFILE (--profile for federate), or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
            )
        inherited = config.profiles.get(config.environ.get("AWS_PROFILE") or "default", {})
        section = {"credential_source": "Environment"}
    section.update({key: inherited[key] for key in ENDPOINT_KEYS if inherited.get(key)})
    if args.region:
        section["region"] = args.region
    if args.duration_seconds is not None:
        section["duration_seconds"] = str(args.duration_seconds)
    section.update({key: value for key, value in settings.items() if value})
    config.profiles[label] = section
    return label


def _check(label, kind, settings, duration):
    """Every flag against AWS's limits at once, each problem named by its flag, before any profile is resolved."""
    params = {_PARAMS.get(key, key): value for key, value in settings.items() if value}
    if duration is not None:
        params["duration"] = duration
    validate.source(Source(kind, label, params))


def _session_settings(args):
    settings = {}
    if args.policy:
        settings["policy"] = _policy_text(args.policy)
    if args.policy_arns:
        settings["policy_arns"] = " ".join(_policy_arn(item) for item in args.policy_arns)
    if args.tags:
        settings["tags"] = ",".join(f"{key}={value}" for key, value in (tag(item) for item in args.tags))
    return settings


def _policy_text(given):
    """`--policy` as the aws CLI takes it (the JSON, or file://FILE), or a plain file name."""
    if given.lstrip().startswith("{"):
        return given
    from stsenv.resolution import read_policy

    path = given[len("file://") :] if given.startswith("file://") else given
    return read_policy(os.path.expanduser(path), "--policy")


def _policy_arn(item):
    """`ARN`, or the aws CLI's shorthand `arn=ARN`."""
    return item[len("arn=") :] if item.startswith("arn=") else item


def tag(item):
    """`KEY=VALUE`, or the aws CLI's shorthand `Key=KEY,Value=VALUE`."""
    if item.startswith("Key=") and ",Value=" in item:
        key, value = item[len("Key=") :].split(",Value=", 1)
    elif "=" in item:
        key, value = item.split("=", 1)
    else:
        raise ConfigError(f"--tags {quoted(item)}: write each tag as KEY=VALUE")
    if "," in key or "," in value:
        raise ConfigError(f"--tags {quoted(item)}: tag keys and values cannot contain commas")
    return key, value


def _flag(name):
    return "--" + name.replace("_", "-")

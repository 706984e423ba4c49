"""A profile turned into the Source chain that yields its credentials: which kind it is (stsenv.kinds), what
signs each STS call, where MFA sessions open, and the limits AWS sets on chains.

`resolve(config, name)` is the whole pipeline, top to bottom. Each kind a profile names has one builder
here, registered for its row with `@builds(kind)`; the credentials a profile holds itself (keys, another
tool's credential_process) and the MFA session opened on keys are built by own_credentials. What the
command line changes in the profile it names (`--duration-seconds`, `--region`: adhoc.Overrides) is applied here
too, so every command reads it the same way. The warm path resolves a profile too, so nothing heavy is
imported here (no boto3, json or re); checking values against AWS's limits waits for the cold path
(stsenv.validate).
"""

import os

from stsenv import endpoints, kinds
from stsenv.config import ADHOC_PREFIX, served_profile
from stsenv.errors import ConfigError
from stsenv.source import Source

# The most profiles one chain may go through (source_profile, credential_process = stsenv serve X):
# real chains have a handful; every walk over a chain (resolve, the cache key, the refresh) is recursive.
MAX_CHAIN_PROFILES = 32
# Optional session settings of a role or federation profile (session_settings).
SESSION_SETTING_KEYS = ("policy", "policy_file", "policy_arns", "tags", "source_identity")
# The session policy of a console federation session: the keys' own permissions decide (console_federation).
ALLOW_ALL_POLICY = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
# How a profile gets an MFA code: a command, or a TOTP secret from a command or a file (stsenv.mfa).
MFA_CODE_KEYS = ("mfa_process", "mfa_totp_secret_process", "mfa_totp_secret_file")

_BUILDERS = {}


def builds(kind):
    """Register the decorated function as the builder of `kind`: (config, name, section, seen, mfa) -> Source."""

    def register(builder):
        _BUILDERS[kind] = builder
        return builder

    return register


def resolve(config, name, seen=(), mfa=None, named_by=None, overrides=None):
    """The Source chain that yields profile `name`'s credentials.

    `seen` are the profiles on the way here (loops and depth are refused). `mfa` is (serial, settings) of a
    role further up the chain: the MFA session is opened on the long-lived keys at the root of the chain
    when there are such keys, so that one code serves every role that sources from them. `named_by` is the
    setting of the profile before that names this one, for the message when it does not exist. `overrides`
    (adhoc.Overrides) change the profile `name` itself, checked before anything is built.
    """
    if name in seen:
        raise ConfigError(f"profile loop: {' -> '.join(seen + (name,))}")
    _check_depth(seen, name)
    section = config.section(name, named_by)
    kind = named_kind(config, name, section)
    if overrides is not None:
        served = _served_alias(section, name) if kind is None else None
        if served is not None:  # `credential_process = stsenv serve X`: the flags are X's
            return resolve(config, served, seen + (name,), mfa, _runs(name), overrides)
        section = _overridden(config, name, section, kind, overrides)
    if kind is None:
        return own_credentials(config, name, section, seen + (name,), mfa)
    source = _BUILDERS[kind](config, name, section, seen + (name,), mfa)
    _check_chaining(name, source, from_flag=overrides is not None and overrides.duration is not None)
    return source


def _served_alias(section, name):
    """X of a profile that holds no keys and only runs `stsenv serve X` (another profile), else None."""
    if has_static_keys(section):
        return None
    served = served_profile(section.get("credential_process"))
    return served if served != name else None


def _overridden(config, name, section, kind, overrides):
    """`section` with the duration of `overrides`, after checking both flags (exit 2 before any call)."""
    if overrides.region is not None:
        check_region_override(config, name, section, overrides.region)
    if overrides.duration is None:
        return section
    if kind is None or kind.durations is None:
        what = "holds its credentials (keys or a credential_process)" if kind is None else f"gets {kind.label} credentials"
        raise ConfigError(
            f"--duration-seconds: profile {name!r} {what}, and how long its credentials last is not stsenv's to choose",
            "give it for a profile that assumes a role (or federates), or set mfa_session_duration for an MFA session",
        )
    low, high = kind.durations
    if not low <= overrides.duration <= high:
        what = "a role session" if kind.role_session else kind.api
        raise ConfigError(
            f"--duration-seconds {overrides.duration} is outside {low} to {high}, the range AWS allows for {what}",
            f"give {low} to {high} seconds",
        )
    return {**section, "stsenv_duration_seconds": str(overrides.duration)}  # the prefixed key wins (config.value)


def check_region_override(config, name, section, region):
    """ConfigError when `--region` is no region name, or one of another partition than the profile's STS."""
    if endpoints.region_problem(region):
        from stsenv.oneline import quoted

        raise ConfigError(f"--region {quoted(region)} is not a region name", "use a name such as eu-west-1")
    own = endpoints.partition(config, section)
    wanted = endpoints.partition_of(region)
    if wanted != own:
        raise ConfigError(
            f"--region {region} is in partition {wanted}, and profile {name!r} gets its credentials from {own}, where they cannot be used",
            f"give a region of {own}, or a profile whose region is in {wanted}",
        )


def region_in_use(config, name, overrides=None):
    """The region profile `name`'s credentials are used in: `--region`, else the profile's own region setting."""
    if overrides is not None and overrides.region:
        return overrides.region
    return config.value(config.section(name), "region")


def named_kind(config, name, section):
    """The kind of stsenv.kinds.NAMED_KINDS the profile's settings name, or None; ConfigError for two."""
    named = [kind for kind in kinds.NAMED_KINDS if kind.marked_by(lambda key: config.value(section, key))]
    used = {key for kind in named for key in kind.uses}
    named = [kind for kind in named if not used.issuperset(key for key in kind.markers if config.value(section, key))]
    if len(named) > 1:
        labels = ", ".join(kind.label for kind in named)
        raise ConfigError(f"profile {name!r} has settings of more than one kind ({labels})", "keep one kind per profile")
    return named[0] if named else None


def own_credentials(config, name, section, seen, mfa):
    """The credentials a profile that names no kind holds: keys (as botocore reads them, first), else a
    credential_process (`stsenv serve X` resolves X), else web identity from the environment."""
    if has_static_keys(section):
        return static_keys(config, name, section, mfa)
    command = section.get("credential_process")
    served = served_profile(command)
    if served == name:
        raise ConfigError(
            f"profile {name!r} runs `stsenv serve {name}` but names no role or keys for stsenv",
            f"add stsenv_role_arn and stsenv_source_profile, e.g. `stsenv configure {name} --role-arn ARN --source-profile SRC`",
        )
    if served is not None:
        return resolve(config, served, seen, mfa, _runs(name))
    if command:
        return Source(kinds.PROCESS, name, {"command": command})
    if config.environ.get("AWS_WEB_IDENTITY_TOKEN_FILE"):  # botocore's web identity from the environment
        return web_identity(config, name, section, seen, None)
    raise ConfigError(
        f"profile {name!r} has no credentials",
        "it needs keys, a role_arn with a source, or a credential_process",
    )


# ---- what signs a call ------------------------------------------------------------------------------------


def signer(config, name, section, seen, mfa):
    """The Source whose credentials sign the STS call of profile `name`: its source_profile, or the
    environment (credential_source = Environment), behind an MFA session when `mfa` asks for one."""
    source_profile = config.value(section, "source_profile")
    credential_source = config.value(section, "credential_source")
    if source_profile and credential_source:
        raise ConfigError(f"profile {name!r} sets both source_profile and credential_source; keep one")
    if source_profile:
        named_by = f"profile {name!r} names {config.key_name(section, 'source_profile')}"
        return _as_signer(config, source_profile, seen, mfa, named_by)
    if credential_source == "Environment":
        return with_mfa_session(config, environment_keys(config, name), mfa)
    if credential_source:
        from stsenv.oneline import oneline

        raise ConfigError(
            f"profile {name!r}: credential_source = {oneline(credential_source, 100)} is not supported by stsenv",
            "use Environment, or a source_profile",
        )
    raise ConfigError(
        f"profile {name!r} has a role but no source of credentials to assume it with",
        f"add stsenv_source_profile (or source_profile) to [profile {name}]",
    )


def _as_signer(config, source_profile, seen, mfa, named_by):
    """Profile `source_profile` as the source of a role: its static keys win over its own role, as in botocore."""
    _check_depth(seen, source_profile)  # (it may be a profile of `seen`: its own keys sign its own role, as in botocore)
    section = config.section(source_profile, named_by)
    if has_static_keys(section) and not kinds.SSO.marked_by(lambda key: config.value(section, key)):  # botocore: SSO first
        return static_keys(config, source_profile, section, mfa)
    served = served_profile(section.get("credential_process"))
    if served is not None and served != source_profile:
        return resolve(config, served, seen + (source_profile,), mfa, _runs(source_profile))
    return resolve(config, source_profile, seen, mfa)


def _runs(name):
    """How profile `name` names the profile it serves: through its credential_process line."""
    return f"profile {name!r} runs stsenv serve with profile"


def has_static_keys(section):
    return bool(section.get("aws_access_key_id") and section.get("aws_secret_access_key"))


def static_keys(config, name, section, mfa):
    """Long-lived keys, behind an MFA session when this profile or a role above it names an mfa_serial."""
    secrets = {"secret_access_key": section["aws_secret_access_key"]}
    if section.get("aws_session_token"):
        secrets["session_token"] = section["aws_session_token"]
    keys = Source(kinds.STATIC, name, {"access_key_id": section["aws_access_key_id"]}, private=secrets)
    own_serial = config.value(section, "mfa_serial")
    if own_serial:
        mfa = (own_serial, {**mfa_settings(config, section), **(mfa[1] if mfa else {})})
    return with_mfa_session(config, keys, mfa)


def environment_keys(config, name):
    """AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) of the environment."""
    key_id = config.environ.get("AWS_ACCESS_KEY_ID")
    secret = config.environ.get("AWS_SECRET_ACCESS_KEY")
    if not key_id or not secret:
        raise ConfigError(f"profile {name!r} uses credential_source = Environment, but AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not set")
    secrets = {"secret_access_key": secret}
    if config.environ.get("AWS_SESSION_TOKEN"):
        secrets["session_token"] = config.environ["AWS_SESSION_TOKEN"]
    return Source(kinds.ENVIRONMENT, name, {"access_key_id": key_id}, private=secrets)


def mfa_settings(config, section):
    """How to get an MFA code: mfa_process, or a TOTP secret from a command or a file."""
    return {key: config.value(section, key) for key in MFA_CODE_KEYS if config.value(section, key)}


def with_mfa_session(config, keys, mfa):
    """`keys`, or a GetSessionToken session with MFA on them, cached under the keys' own profile.

    AWS refuses GetSessionToken with session credentials: then the keys are returned as they are
    and the role that wants MFA sends its code with AssumeRole.

    The session works in every region of its partition, so its cache key holds the partition (and an
    endpoint URL set by hand: another STS), not the region; the call goes to the regional endpoint in
    effect, kept beside the MFA settings in `private`.
    """
    if mfa is None or keys.private.get("session_token"):
        return keys
    serial, settings = mfa
    section = config.profiles.get(keys.profile, {})
    low, high = kinds.MFA_SESSION.durations
    params = {
        "mfa_serial": serial,
        "duration": config.int_value(keys.profile, section, "mfa_session_duration", kinds.MFA_SESSION.default_duration, low, high),
        "partition": endpoints.partition(config, section),
    }
    configured = endpoints.configured_endpoint(config, section)
    if configured:
        params["endpoint"] = configured
    private = {**settings, "sts": endpoints.sts_endpoint(config, section)}
    return Source(kinds.MFA_SESSION, keys.profile, params, keys, private=private)


# ---- the kinds a profile names ----------------------------------------------------------------------------


def duration(config, name, section, kind):
    """The profile's duration_seconds within the kind's range, else the kind's default."""
    low, high = kind.durations
    return config.int_value(name, section, "duration_seconds", kind.default_duration, low, high)


@builds(kinds.ASSUME_ROLE)
def assume_role(config, name, section, seen, mfa):
    """role_arn with a source_profile or credential_source; MFA, external id and session settings optional."""
    own_serial = config.value(section, "mfa_serial")
    wanted = (own_serial, mfa_settings(config, section)) if own_serial else mfa
    parent = signer(config, name, section, seen, wanted)
    params = {
        "role_arn": config.value(section, "role_arn"),
        "session_name": config.value(section, "role_session_name") or default_session_name(),
        "duration": duration(config, name, section, kinds.ASSUME_ROLE),
        **endpoints.sts_endpoint(config, section),
    }
    external_id = config.value(section, "external_id")
    if external_id:
        params["external_id"] = external_id
    params.update(session_settings(config, name, section))
    private = {}
    if own_serial and not any(node.kind is kinds.MFA_SESSION for node in parent.chain()):
        params["mfa_serial"] = own_serial  # no long-lived keys to open a session on: the role call carries the code
        private = wanted[1]
    return Source(kinds.ASSUME_ROLE, name, params, parent, private=private)


@builds(kinds.WEB_IDENTITY)
def web_identity(config, name, section, seen, mfa):
    """`web_identity_token_file` + `role_arn`, or AWS_WEB_IDENTITY_TOKEN_FILE/AWS_ROLE_ARN for what the profile lacks."""
    environ = config.environ
    token_file = config.value(section, "web_identity_token_file") or environ.get("AWS_WEB_IDENTITY_TOKEN_FILE")
    role_arn = config.value(section, "role_arn") or environ.get("AWS_ROLE_ARN")
    if not role_arn:
        raise ConfigError(f"profile {name!r} has a web identity token file but no role", "add role_arn, or set AWS_ROLE_ARN")
    params = {
        "role_arn": role_arn,
        "token_file": os.path.abspath(os.path.expanduser(token_file)),
        "session_name": config.value(section, "role_session_name") or environ.get("AWS_ROLE_SESSION_NAME") or default_session_name(),
        "duration": duration(config, name, section, kinds.WEB_IDENTITY),
        **endpoints.sts_endpoint(config, section),
    }
    return Source(kinds.WEB_IDENTITY, name, params)


@builds(kinds.SAML)
def saml(config, name, section, seen, mfa):
    """`stsenv_saml_role_arn` + `stsenv_saml_principal_arn`; the assertion comes at refresh time."""
    params = {
        "role_arn": config.value(section, "saml_role_arn"),
        "principal_arn": _required(config, name, section, "saml_principal_arn", "the ARN of the SAML provider in IAM"),
        "duration": duration(config, name, section, kinds.SAML),
        **endpoints.sts_endpoint(config, section),
    }
    return Source(kinds.SAML, name, params, private={"assertion_process": config.value(section, "saml_assertion_process")})


@builds(kinds.FEDERATION)
def federation(config, name, section, seen, mfa):
    """`stsenv_federation_name` with a source of long-lived IAM user keys; policy and tags optional."""
    keys = signer(config, name, section, seen, None)
    if keys.kind is kinds.MFA_SESSION:
        keys = keys.parent  # AWS refuses GetFederationToken with session credentials, MFA or not: use the keys
    if keys.kind not in (kinds.STATIC, kinds.ENVIRONMENT) or keys.private.get("session_token"):
        raise ConfigError(
            f"profile {name!r}: GetFederationToken needs long-lived IAM user keys, and {keys.profile!r} holds session credentials",
            "source it from a profile with aws_access_key_id and aws_secret_access_key",
        )
    params = {
        "name": config.value(section, "federation_name"),
        "duration": duration(config, name, section, kinds.FEDERATION),
        **session_settings(config, name, section),
        **endpoints.sts_endpoint(config, section),
    }
    return Source(kinds.FEDERATION, name, params, keys)


@builds(kinds.ASSUME_ROOT)
def assume_root(config, name, section, seen, mfa):
    """`stsenv_target_principal` + `stsenv_task_policy_arn`, signed by the management account's credentials."""
    params = {
        "target_principal": config.value(section, "target_principal"),
        "task_policy_arn": _required(config, name, section, "task_policy_arn", "a policy under arn:aws:iam::aws:policy/root-task/"),
        "duration": duration(config, name, section, kinds.ASSUME_ROOT),
        **endpoints.sts_endpoint(config, section),
    }
    return Source(kinds.ASSUME_ROOT, name, params, signer(config, name, section, seen, None))


@builds(kinds.SSO)
def sso(config, name, section, seen, mfa):
    """`sso_account_id` + `sso_role_name` with an sso-session (or the legacy start URL and region): role
    credentials from IAM Identity Center with the session's token (stsenv.sso.settings checks every value)."""
    from stsenv.sso import settings as sso_settings

    params, private = sso_settings.source_parts(sso_settings.profile_settings(config, name))
    return Source(kinds.SSO, name, params, private=private)


def console_federation(config, name, keys, duration=None):
    """A GetFederationToken session on long-lived `keys`, for profile `name` to sign in to the console with
    (AWS's federation endpoint takes no long-lived keys). Its session policy allows everything, so the session
    may do what the keys may (AWS grants the intersection), as aws-vault does; `duration` is --duration-seconds."""
    low, high = kinds.FEDERATION.durations
    if duration is not None and not low <= duration <= high:
        raise ConfigError(
            f"--duration-seconds {duration} is outside {low} to {high}, the range AWS allows for {kinds.FEDERATION.api}",
            f"give {low} to {high} seconds",
        )
    params = {
        "name": default_session_name()[:32],  # GetFederationToken's limit
        "duration": duration or kinds.FEDERATION.default_duration,
        "policy": ALLOW_ALL_POLICY,
        **endpoints.sts_endpoint(config, config.section(name)),
    }
    return Source(kinds.FEDERATION, name, params, keys)


def session_settings(config, name, section):
    """The optional session policy (its text, so that an edit makes a new cache key), managed policies,
    tags and source identity of a role or federation profile."""
    if not any(config.value(section, key) for key in SESSION_SETTING_KEYS):
        return {}
    settings = {
        "policy": config.value(section, "policy"),  # inline JSON, on one line
        "policy_arns": config.value(section, "policy_arns"),
        "tags": config.value(section, "tags"),
        "source_identity": config.value(section, "source_identity"),
    }
    policy_file = config.value(section, "policy_file")
    if policy_file and settings["policy"]:
        raise ConfigError(f"profile {name!r} sets both stsenv_policy and stsenv_policy_file; keep one")
    if policy_file:
        settings["policy"] = read_policy(policy_file, f"stsenv_policy_file of profile {name!r}")
    return {key: value for key, value in settings.items() if value}


def read_policy(path, what):
    """The text of a session policy file (at most 1 MiB); ConfigError naming `what` asked for it."""
    from stsenv.oneline import oneline

    path = os.path.expanduser(path)
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read(1 << 20)
    except OSError as error:
        raise ConfigError(f"{what}: cannot read {oneline(path)}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{what}: {oneline(path)} is not UTF-8 text") from None


def _required(config, name, section, key, meaning):
    found = config.value(section, key)
    if not found:
        raise ConfigError(f"profile {name!r} needs stsenv_{key} ({meaning})")
    return found


def _check_depth(seen, name):
    """ConfigError when going on from the profiles `seen` to `name` makes a chain longer than MAX_CHAIN_PROFILES."""
    if len(seen) >= MAX_CHAIN_PROFILES:
        raise ConfigError(
            f"profile {seen[0]!r} goes through more than {MAX_CHAIN_PROFILES} profiles to its credentials "
            f"({seen[0]} -> {seen[1]} -> ... -> {name})",
            "shorten the chain of source_profile settings",
        )


def _check_chaining(name, source, from_flag):
    """AWS limits a role session asked for with role session credentials (role chaining) to one hour:
    refused before any call, in the words the duration was given in (a flag, or the profile's setting)."""
    parent = source.parent
    seconds = source.params.get("duration")
    if not source.kind.role_session or parent is None or not parent.kind.role_session or seconds is None:
        return
    if seconds <= kinds.ROLE_CHAINING_LIMIT:
        return
    if from_flag or name.startswith(ADHOC_PREFIX):
        raise ConfigError(
            f"--duration-seconds {seconds} is too long: the credentials that assume the role ({parent.profile}) are "
            f"themselves a role session, and AWS limits role chaining to {kinds.ROLE_CHAINING_LIMIT} seconds",
            f"give --duration-seconds {kinds.ROLE_CHAINING_LIMIT} or less",
        )
    raise ConfigError(
        f"profile {name!r} asks for duration_seconds = {seconds}, but its source "
        f"{parent.profile!r} is itself a role, and AWS limits role chaining to {kinds.ROLE_CHAINING_LIMIT} seconds",
        f"set duration_seconds to {kinds.ROLE_CHAINING_LIMIT} or less",
    )


def default_session_name():
    """A stable session name (`stsenv-alice`), so CloudTrail shows who it was and the cache key stays put.

    The name is the passwd entry of the effective uid, never $USER or $LOGNAME: they are unset under cron,
    systemd, `env -i` and in containers, and fish sets USER itself, so shells of one terminal would split
    the cache. A uid without a passwd entry (a container's) gets `stsenv-uid-1000`.
    """
    import pwd  # a built-in module: about 40 us, and 0.1 ms for the lookup

    uid = os.geteuid()
    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError:
        user = ""
    allowed = "".join(c for c in user if c.isalnum() or c in "+=,.@_-")
    return f"stsenv-{allowed or f'uid-{uid}'}"[:64]

"""Sources for the profile kinds beyond keys and roles: web identity, SAML, federation and assume-root.

config.resolve hands a profile here when it names one of them. `stsenv serve` of such a profile resolves
it on the warm path too, so this module imports nothing heavy (no boto3, json or re); checking the
values against AWS's limits waits for the cold path (stsenv.validate).
"""

import os

from stsenv.config import DEFAULT_ROLE_DURATION, default_session_name
from stsenv.errors import ConfigError
from stsenv.source import Source

DEFAULT_FEDERATION_DURATION = 3600  # AWS's default is 12 hours; a federated session handed out is better short
ASSUME_ROOT_MAX_DURATION = 900
# The setting that makes a profile each kind (read with config.value: `stsenv_X` or `X`).
MARKERS = {
    "web_identity_token_file": "web-identity",
    "saml_role_arn": "saml",
    "federation_name": "federation",
    "target_principal": "assume-root",
}


def resolve(config, name, section, seen):
    """The Source of a profile that names one of MARKERS; ConfigError when it names two kinds."""
    kinds = [kind for key, kind in MARKERS.items() if config.value(section, key)]
    if kinds != ["web-identity"] and config.value(section, "role_arn"):
        kinds.append("role")  # role_arn beside a web identity token file is botocore's web identity profile
    if len(kinds) > 1:
        raise ConfigError(f"profile {name!r} has settings of more than one kind ({', '.join(kinds)})", "keep one kind per profile")
    return _BUILDERS[kinds[0]](config, name, section, seen)


def web_identity(config, name, section, seen=()):
    """`web_identity_token_file` + `role_arn`, or AWS_WEB_IDENTITY_TOKEN_FILE/AWS_ROLE_ARN for what the profile lacks."""
    environ = config.environ
    token_file = config.value(section, "web_identity_token_file") or environ.get("AWS_WEB_IDENTITY_TOKEN_FILE")
    role_arn = config.value(section, "role_arn") or environ.get("AWS_ROLE_ARN")
    if not role_arn:
        raise ConfigError(f"profile {name!r} has a web identity token file but no role", "add role_arn, or set AWS_ROLE_ARN")
    params = {
        "role_arn": role_arn,
        "token_file": os.path.abspath(os.path.expanduser(token_file)),
        "session_name": config.value(section, "role_session_name")
        or environ.get("AWS_ROLE_SESSION_NAME")
        or default_session_name(),
        "duration": config.int_value(name, section, "duration_seconds", DEFAULT_ROLE_DURATION, 900, 43200),
        **config.sts_endpoint(section),
    }
    return Source("web-identity", name, params)


def saml(config, name, section, seen):
    """`stsenv_saml_role_arn` + `stsenv_saml_principal_arn`; the assertion comes at refresh time."""
    params = {
        "role_arn": config.value(section, "saml_role_arn"),
        "principal_arn": _required(config, name, section, "saml_principal_arn", "the ARN of the SAML provider in IAM"),
        "duration": config.int_value(name, section, "duration_seconds", DEFAULT_ROLE_DURATION, 900, 43200),
        **config.sts_endpoint(section),
    }
    return Source("saml", name, params, private={"assertion_process": config.value(section, "saml_assertion_process")})


def federation(config, name, section, seen):
    """`stsenv_federation_name` with a source of long-lived IAM user keys; policy and tags optional."""
    signer = config._role_signer(name, section, seen, None)
    if signer.kind == "mfa-session":
        signer = signer.parent  # AWS refuses GetFederationToken with session credentials, MFA or not: use the keys
    if signer.kind not in ("static", "environment") or signer.private.get("session_token"):
        raise ConfigError(
            f"profile {name!r}: GetFederationToken needs long-lived IAM user keys, and {signer.profile!r} holds session credentials",
            "source it from a profile with aws_access_key_id and aws_secret_access_key",
        )
    params = {
        "name": config.value(section, "federation_name"),
        "duration": config.int_value(name, section, "duration_seconds", DEFAULT_FEDERATION_DURATION, 900, 129600),
        **session_settings(config, name, section),
        **config.sts_endpoint(section),
    }
    return Source("federation", name, params, signer)


def assume_root(config, name, section, seen):
    """`stsenv_target_principal` + `stsenv_task_policy_arn`, signed by the management account's credentials."""
    params = {
        "target_principal": config.value(section, "target_principal"),
        "task_policy_arn": _required(config, name, section, "task_policy_arn", "a policy under arn:aws:iam::aws:policy/root-task/"),
        "duration": config.int_value(name, section, "duration_seconds", ASSUME_ROOT_MAX_DURATION, 0, ASSUME_ROOT_MAX_DURATION),
        **config.sts_endpoint(section),
    }
    return Source("assume-root", name, params, config._role_signer(name, section, seen, None))


def session_settings(config, name, section):
    """The optional session policy (its text, so that an edit makes a new cache key), managed policies,
    tags and source identity of a role or federation profile."""
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


_BUILDERS = {
    "web-identity": web_identity,
    "saml": saml,
    "federation": federation,
    "assume-root": assume_root,
}

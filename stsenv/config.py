"""The user's AWS shared config and credentials files, read like botocore reads them, and their settings.

What a profile's settings mean is decided elsewhere: which STS endpoint and region (stsenv.endpoints), and
which credentials (stsenv.resolution). No boto3 here: the warm path runs through this module.
"""

import os

from stsenv import inifile
from stsenv.errors import ConfigError

PREFIX = "stsenv_"
PROFILE_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.@+=,:/")
PROFILE_NAME_MAX = 128
# The name prefix of profiles made from `use`/`federate` flags (stsenv.adhoc).
ADHOC_PREFIX = "adhoc:"
# Every setting read with AwsConfig.value, so each may carry the `stsenv_` prefix (doctor names a misspelled one).
SETTING_KEYS = frozenset(
    "role_arn source_profile credential_source mfa_serial external_id role_session_name duration_seconds region "
    "sts_regional_endpoints endpoint_url services use_fips_endpoint use_dualstack_endpoint "
    "ignore_configured_endpoint_urls mfa_process mfa_totp_secret_process mfa_totp_secret_file mfa_session_duration "
    "policy policy_file policy_arns tags source_identity web_identity_token_file saml_role_arn saml_principal_arn "
    "saml_assertion_process federation_name target_principal task_policy_arn "
    "sso_session sso_start_url sso_region sso_registration_scopes sso_account_id sso_role_name".split()
)
# Read as they are, never with the prefix.
PLAIN_KEYS = frozenset("credential_process aws_access_key_id aws_secret_access_key aws_session_token".split())
# Settings botocore acts on before it runs a profile's credential_process: beside `stsenv serve`, the aws CLI
# and SDKs would use them and never run stsenv (configure refuses them, doctor reports them).
# (botocore's SSO provider acts on sso_account_id or sso_role_name; sso_session alone it leaves to the process.)
BOTOCORE_BEFORE_PROCESS = ("role_arn", "web_identity_token_file", "sso_account_id", "sso_role_name", "login_session")


def check_profile_name(name):
    """Return `name` if it is a valid profile name; ConfigError otherwise (before it can reach an eval)."""
    if not is_profile_name(name):
        shown = name if name.isprintable() and len(name) <= 60 else repr(name[:60])
        raise ConfigError(
            f"invalid profile name {shown!r}",
            "use letters, digits and - _ . @ + = , : / only",
        )
    return name


def is_profile_name(name):
    return bool(name) and len(name) <= PROFILE_NAME_MAX and PROFILE_NAME_CHARS.issuperset(name)


def config_paths(environ):
    """(config file, credentials file), honouring AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE."""
    config = environ.get("AWS_CONFIG_FILE") or "~/.aws/config"
    credentials = environ.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials"
    return os.path.expanduser(config), os.path.expanduser(credentials)


def _read_ini(path):
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return {}
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text") from None
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror}") from None
    return inifile.parse(text, path)


class AwsConfig:
    """The merged profiles of the config and credentials files (credentials-file values win, as in botocore),
    the `[services NAME]` and `[sso-session NAME]` sections, and the environment settings are read from.

    `config_text` stands in for the config file's content: what `configure` is about to write, resolved
    before it is written.
    """

    def __init__(self, environ=None, config_text=None):
        self.environ = os.environ if environ is None else environ
        self.config_path, self.credentials_path = config_paths(self.environ)
        self.profiles = {}
        self.services = {}
        self.sso_sessions = {}
        self.stray_sections = []
        config = _read_ini(self.config_path) if config_text is None else inifile.parse(config_text, self.config_path)
        for section, values in config.items():
            self._add_config_section(section, values)
        for name, values in _read_ini(self.credentials_path).items():
            self.profiles.setdefault(name, {}).update(values)

    def _add_config_section(self, section, values):
        words = section.split()
        if section == "default" or words == ["profile", "default"]:
            self.profiles.setdefault("default", {}).update(values)
        elif len(words) == 2 and words[0] == "profile":
            self.profiles[words[1]] = values
        elif len(words) == 2 and words[0] == "services":
            self.services[words[1]] = values
        elif len(words) == 2 and words[0] == "sso-session":
            self.sso_sessions[words[1]] = values
        elif len(words) == 1 and words[0] not in ("plugins", "preview"):
            self.stray_sections.append(section)

    def section(self, name, named_by=None):
        """The merged settings of profile `name`; ConfigError suggesting close names when there is none.

        `named_by` ("profile 'prod' names source_profile") is the setting that led here: a name that is
        missing or invalid is then said as that setting's mistake, naming both profiles.
        """
        if named_by is not None and not is_profile_name(name):
            from stsenv.oneline import quoted

            raise ConfigError(f"{named_by} {quoted(name, 60)}, which is not a profile name", "use letters, digits and - _ . @ + = , : / only")
        check_profile_name(name)
        try:
            return self.profiles[name]
        except KeyError:
            raise self.unknown_profile(name, named_by) from None

    def unknown_profile(self, name, named_by=None):
        """The ConfigError for a profile `name` that does not exist: what is there instead, or close names."""
        missing = f"{named_by} {name!r}, which does not exist" if named_by else f"profile {name!r} not found"
        if name in self.stray_sections:
            return ConfigError(f"{missing}: {self.config_path} has [{name}], but profiles there need [profile {name}]")
        if name.startswith(ADHOC_PREFIX) and named_by is None:  # e.g. the shell's refresh hook, after `use --role-arn ...`
            return ConfigError(f"{name} was made from command-line flags, and has no profile to refresh it by", "run that `stsenv use` (or `federate`) command again")
        from difflib import get_close_matches

        close = get_close_matches(name, list(self.profiles), n=3, cutoff=0.6)
        hint = f"did you mean {', '.join(close)}?" if close else f"profiles are read from {self.config_path}"
        return ConfigError(missing, hint)

    @staticmethod
    def value(section, key, default=None):
        """A setting, where stsenv's prefixed key (`stsenv_role_arn`) wins over botocore's (`role_arn`)."""
        found = section.get(PREFIX + key)
        if found is None:
            found = section.get(key)
        return default if found in (None, "") else found

    def int_value(self, name, section, key, default, low, high):
        """A whole number setting of profile `name` within [low, high]; `default` when unset."""
        raw = self.value(section, key)
        if raw is None:
            return default
        try:
            number = int(raw)
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            from stsenv.oneline import quoted  # a value from the file: cut, escaped

            raise ConfigError(f"profile {name!r}: {key} = {quoted(raw)} must be a whole number of seconds from {low} to {high}")
        return number

    @staticmethod
    def key_name(section, key):
        """`stsenv_KEY` when the section names it so (that one wins, see value), else `KEY`: for messages."""
        return PREFIX + key if section.get(PREFIX + key) else key

    def setting(self, section, key, variable):
        """An environment variable over the profile's setting, as botocore reads its config."""
        return self.environ.get(variable) or self.value(section, key)


def served_profile(command):
    """The profile X of a `credential_process = stsenv serve X` line, or None for any other command."""
    words = (command or "").split()
    for start, word in enumerate(words):  # `stsenv serve X`, `/path/to/stsenv serve X`, `python -m stsenv serve X`
        if os.path.basename(word) == "stsenv":
            rest = words[start + 1 :]
            return rest[1] if len(rest) >= 2 and rest[0] == "serve" else None
    return None

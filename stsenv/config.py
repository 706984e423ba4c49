"""The user's AWS shared config and credentials files, read like botocore reads them, and each profile
resolved into a `Source` chain. No boto3 here: the warm path runs through this module."""

import os

from stsenv import inifile
from stsenv.errors import ConfigError
from stsenv.source import Source

PREFIX = "stsenv_"
PROFILE_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.@+=,:/")
PROFILE_NAME_MAX = 128
DEFAULT_ROLE_DURATION = 3600
DEFAULT_MFA_SESSION_DURATION = 43200
# botocore's "legacy" sts_regional_endpoints mode sends these regions to the global endpoint.
LEGACY_GLOBAL_REGIONS = frozenset(
    "ap-northeast-1 ap-south-1 ap-southeast-1 ap-southeast-2 aws-global ca-central-1 eu-central-1 eu-north-1 "
    "eu-west-1 eu-west-2 eu-west-3 sa-east-1 us-east-1 us-east-2 us-west-1 us-west-2".split()
)
# The name prefix of profiles made from `use`/`federate` flags (stsenv.adhoc).
ADHOC_PREFIX = "adhoc:"
# Settings that make a profile one of the kinds of stsenv.kinds (web identity, SAML, federation, assume-root).
OTHER_KIND_KEYS = ("web_identity_token_file", "saml_role_arn", "federation_name", "target_principal")
# Optional session settings of a role profile (stsenv.kinds.session_settings).
SESSION_SETTING_KEYS = ("policy", "policy_file", "policy_arns", "tags", "source_identity")
# Every setting read with AwsConfig.value, so each may carry the `stsenv_` prefix (doctor names a misspelled one).
SETTING_KEYS = frozenset(
    "role_arn source_profile credential_source mfa_serial external_id role_session_name duration_seconds region "
    "sts_regional_endpoints endpoint_url services use_fips_endpoint use_dualstack_endpoint "
    "ignore_configured_endpoint_urls mfa_process mfa_totp_secret_process mfa_totp_secret_file mfa_session_duration "
    "policy policy_file policy_arns tags source_identity web_identity_token_file saml_role_arn saml_principal_arn "
    "saml_assertion_process federation_name target_principal task_policy_arn".split()
)
# Read as they are, never with the prefix.
PLAIN_KEYS = frozenset("credential_process aws_access_key_id aws_secret_access_key aws_session_token".split())
# Settings botocore acts on before it runs a profile's credential_process: beside `stsenv serve`, the aws CLI
# and SDKs would use them and never run stsenv (configure refuses them, doctor reports them).
BOTOCORE_BEFORE_PROCESS = ("role_arn", "web_identity_token_file", "sso_session", "sso_start_url", "login_session")
# Credentials that are a role session: a role assumed with them is role chaining, limited to one hour.
ROLE_SESSION_KINDS = frozenset({"assume-role", "web-identity", "saml"})
# (region prefix, DNS suffix, dual-stack DNS suffix) of the partitions other than aws (botocore's partitions.json).
PARTITION_SUFFIXES = (
    ("cn-", "amazonaws.com.cn", "api.amazonwebservices.com.cn"),
    ("us-gov-", "amazonaws.com", "api.aws"),
    ("us-iso-", "c2s.ic.gov", "api.aws.ic.gov"),
    ("us-isob-", "sc2s.sgov.gov", "api.aws.scloud"),
    ("us-isof-", "csp.hci.ic.gov", "api.aws.hci.ic.gov"),
    ("eu-isoe-", "cloud.adc-e.uk", "api.cloud-aws.adc-e.uk"),
    ("eusc-", "amazonaws.eu", "api.amazonwebservices.eu"),
)
AWS_SUFFIXES = ("amazonaws.com", "api.aws")
# The partition of each region prefix of PARTITION_SUFFIXES (botocore's partitions.json); "aws" for the rest.
PARTITIONS = {
    "cn-": "aws-cn",
    "us-gov-": "aws-us-gov",
    "us-iso-": "aws-iso",
    "us-isob-": "aws-iso-b",
    "us-isof-": "aws-iso-f",
    "eu-isoe-": "aws-iso-e",
    "eusc-": "aws-eusc",
}
# The most profiles one chain may go through (source_profile, credential_process = stsenv serve X):
# real chains have a handful; every walk over a chain (resolve, the cache key, the refresh) is recursive.
MAX_CHAIN_PROFILES = 32
# `stsenv use` exports the region of a profile that names one as AWS_REGION and AWS_DEFAULT_REGION, and
# beside them the value it set (REGION_MARKER) and what the user had before (USER_REGION_PREFIX + name,
# unset when the user had none), so that it can give the user's own values back and never reads its own
# export as the user's region (see user_regions).
REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")
REGION_MARKER = "STSENV_REGION"
USER_REGION_PREFIX = "STSENV_USER_"


def check_profile_name(name):
    """Return `name` if it is a valid profile name; ConfigError otherwise (before it can reach an eval)."""
    if not _is_profile_name(name):
        shown = name if name.isprintable() and len(name) <= 60 else repr(name[:60])
        raise ConfigError(
            f"invalid profile name {shown!r}",
            "use letters, digits and - _ . @ + = , : / only",
        )
    return name


def region_problem(region):
    """Why `region` is not a region name (letters, digits and inner hyphens, at most 63), or None."""
    if region.replace("-", "").isalnum() and region.isascii() and region[0] != "-" and len(region) <= 63:
        return None
    from stsenv.oneline import quoted  # a value from a file or a flag: cut, escaped

    return f"region {quoted(region)} is not a region name"


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
    """The merged profiles of the config and credentials files (credentials-file values win, as in botocore).

    `config_text` stands in for the config file's content: what `configure` is about to write, resolved
    before it is written.
    """

    def __init__(self, environ=None, config_text=None):
        self.environ = os.environ if environ is None else environ
        self.config_path, self.credentials_path = config_paths(self.environ)
        self.profiles = {}
        self.services = {}
        self.stray_sections = []
        self.user_regions = user_regions(self.environ)
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
        elif len(words) == 1 and words[0] not in ("plugins", "preview"):
            self.stray_sections.append(section)

    # ---- reading one profile -------------------------------------------------------------------

    def section(self, name, named_by=None):
        """The merged settings of profile `name`; ConfigError suggesting close names when there is none.

        `named_by` ("profile 'prod' names source_profile") is the setting that led here: a name that is
        missing or invalid is then said as that setting's mistake, naming both profiles.
        """
        if named_by is not None and not _is_profile_name(name):
            from stsenv.oneline import quoted

            raise ConfigError(f"{named_by} {quoted(name, 60)}, which is not a profile name", "use letters, digits and - _ . @ + = , : / only")
        check_profile_name(name)
        try:
            return self.profiles[name]
        except KeyError:
            raise self._unknown_profile(name, named_by) from None

    def _unknown_profile(self, name, named_by=None):
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

    # ---- STS endpoint --------------------------------------------------------------------------

    def region(self, section):
        """The profile's region, else the user's AWS_REGION, else the user's AWS_DEFAULT_REGION.

        botocore puts AWS_DEFAULT_REGION first, but a region `stsenv use` exported for the profile in use must
        not decide the endpoint of the next profile: the user's values are read, not stsenv's (user_regions).
        """
        region = self.value(section, "region") or self.user_regions["AWS_REGION"] or self.user_regions["AWS_DEFAULT_REGION"]
        problem = region and region_problem(region)
        if problem:
            raise ConfigError(problem, "use a name such as eu-west-1")
        return region

    def partition(self, section):
        """The partition of the profile's region (aws without one): where STS credentials are valid."""
        region = self.region(section) or ""
        return next((name for prefix, name in PARTITIONS.items() if region.startswith(prefix)), "aws")

    def sts_endpoint(self, section):
        """{"endpoint": url, "region": signing region} for STS calls made for this profile, as botocore picks them.

        A configured URL wins: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the `[services]` sts endpoint_url,
        the profile's endpoint_url. Otherwise the regional endpoint of the region's partition, with FIPS
        and dual-stack variants; the global one without a region, for `aws-global`, or under
        `sts_regional_endpoints = legacy` for the legacy regions.
        """
        region = self.region(section)
        url = self._configured_endpoint(section)
        if url:
            return {"endpoint": url, "region": region or "us-east-1"}
        mode = self._setting(section, "sts_regional_endpoints", "AWS_STS_REGIONAL_ENDPOINTS") or "regional"
        if mode not in ("regional", "legacy"):
            from stsenv.oneline import oneline

            raise ConfigError(f"sts_regional_endpoints = {oneline(mode, 100)} is not valid", "use regional or legacy")
        fips = (self._setting(section, "use_fips_endpoint", "AWS_USE_FIPS_ENDPOINT") or "").lower() == "true"
        dualstack = (self._setting(section, "use_dualstack_endpoint", "AWS_USE_DUALSTACK_ENDPOINT") or "").lower() == "true"
        variant = fips or dualstack
        if region is None or not variant and (region == "aws-global" or mode == "legacy" and region in LEGACY_GLOBAL_REGIONS):
            return {"endpoint": "https://sts.amazonaws.com", "region": "us-east-1"}
        dns, dualstack_dns = next((suffixes for prefix, *suffixes in PARTITION_SUFFIXES if region.startswith(prefix)), AWS_SUFFIXES)
        fips_host = fips and (dualstack or not region.startswith("us-gov-"))  # GovCloud's plain endpoint is FIPS already
        host = f"{'sts-fips' if fips_host else 'sts'}.{region}.{dualstack_dns if dualstack else dns}"
        return {"endpoint": f"https://{host}", "region": "us-east-1" if region == "aws-global" else region}

    def _setting(self, section, key, variable):
        """An environment variable over the profile's setting, as botocore reads its config."""
        return self.environ.get(variable) or self.value(section, key)

    def _configured_endpoint(self, section):
        ignore = self._setting(section, "ignore_configured_endpoint_urls", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        if (ignore or "").lower() == "true":
            return None
        services_name = self.value(section, "services")
        if services_name and services_name not in self.services:
            from stsenv.oneline import oneline

            services_name = oneline(services_name, 100)
            raise ConfigError(
                f"the profile names services = {services_name}, but there is no [services {services_name}] section",
                f"add the section to {self.config_path} or remove the services line",
            )
        nested_sts = inifile.nested(self.services.get(services_name or "", {}).get("sts", ""))
        return (
            self.environ.get("AWS_ENDPOINT_URL_STS")
            or self.environ.get("AWS_ENDPOINT_URL")
            or nested_sts.get("endpoint_url")
            or self.value(section, "endpoint_url")
        )

    # ---- resolving a profile into a Source chain ------------------------------------------------

    def resolve(self, name, _seen=(), _mfa=None, _named_by=None):
        """The Source chain that yields profile `name`'s credentials.

        `_mfa` is (serial, settings) of a role further up the chain: the MFA session is opened on the
        long-lived keys at the root of the chain when there are such keys, so that one code serves every
        role that sources from them. `_named_by` is the setting of the profile before that names this one.
        """
        if name in _seen:
            raise ConfigError(f"profile loop: {' -> '.join(_seen + (name,))}")
        _check_depth(_seen, name)
        section = self.section(name, _named_by)
        seen = _seen + (name,)
        if any(self.value(section, key) for key in OTHER_KIND_KEYS):
            from stsenv import kinds  # web identity, SAML, federation, assume-root

            return kinds.resolve(self, name, section, seen)
        role_arn = self.value(section, "role_arn")
        if role_arn:
            return self._assume_role(name, section, role_arn, seen, _mfa)
        return self._own_credentials(name, section, seen, _mfa)

    def _assume_role(self, name, section, role_arn, seen, mfa):
        own_serial = self.value(section, "mfa_serial")
        wanted = (own_serial, self.mfa_settings(section)) if own_serial else mfa
        parent = self._role_signer(name, section, seen, wanted)
        params = {
            "role_arn": role_arn,
            "session_name": self.value(section, "role_session_name") or default_session_name(),
            "duration": self.int_value(name, section, "duration_seconds", DEFAULT_ROLE_DURATION, 900, 43200),
            **self.sts_endpoint(section),
        }
        external_id = self.value(section, "external_id")
        if external_id:
            params["external_id"] = external_id
        if any(self.value(section, key) for key in SESSION_SETTING_KEYS):
            from stsenv import kinds  # session policy, tags, source identity

            params.update(kinds.session_settings(self, name, section))
        if parent.kind in ROLE_SESSION_KINDS and params["duration"] > 3600:
            _refuse_long_chain(name, params["duration"], parent)
        private = {}
        if own_serial and not any(node.kind == "mfa-session" for node in parent.chain()):
            params["mfa_serial"] = own_serial  # no long-lived keys to open a session on: the role call carries the code
            private = wanted[1]
        return Source("assume-role", name, params, parent, private=private)

    def mfa_settings(self, section):
        """How to get an MFA code: mfa_process, or a TOTP secret from a command or a file."""
        keys = ("mfa_process", "mfa_totp_secret_process", "mfa_totp_secret_file")
        return {key: self.value(section, key) for key in keys if self.value(section, key)}

    def _role_signer(self, name, section, seen, mfa):
        source_profile = self.value(section, "source_profile")
        credential_source = self.value(section, "credential_source")
        if source_profile and credential_source:
            raise ConfigError(f"profile {name!r} sets both source_profile and credential_source; keep one")
        if source_profile:
            return self._as_signer(source_profile, seen, mfa, f"profile {name!r} names {_key_name(section, 'source_profile')}")
        if credential_source == "Environment":
            return self._with_mfa_session(self._environment(name), mfa)
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

    def _as_signer(self, name, seen, mfa, named_by):
        """A profile used as a source: its static keys win over its own role, as in botocore."""
        _check_depth(seen, name)  # (it may be a profile of `seen`: its own keys sign its own role, as in botocore)
        section = self.section(name, named_by)
        if self._has_static_keys(section):
            return self._static_keys(name, section, mfa)
        served = served_profile(section.get("credential_process"))
        if served is not None and served != name:
            return self.resolve(served, seen + (name,), mfa, _runs(name))
        return self.resolve(name, seen, mfa)

    def _own_credentials(self, name, section, seen, mfa):
        if self._has_static_keys(section):
            return self._static_keys(name, section, mfa)
        command = section.get("credential_process")
        served = served_profile(command)
        if served == name:
            raise ConfigError(
                f"profile {name!r} runs `stsenv serve {name}` but names no role or keys for stsenv",
                f"add stsenv_role_arn and stsenv_source_profile, e.g. `stsenv configure {name} --role-arn ARN --source-profile SRC`",
            )
        if served is not None:
            return self.resolve(served, seen, mfa, _runs(name))
        if command:
            return Source("process", name, {"command": command})
        if self.environ.get("AWS_WEB_IDENTITY_TOKEN_FILE"):
            from stsenv import kinds  # botocore's web identity from the environment, for a profile without credentials

            return kinds.web_identity(self, name, section)
        raise ConfigError(
            f"profile {name!r} has no credentials",
            "it needs keys, a role_arn with a source, or a credential_process",
        )

    def _static_keys(self, name, section, mfa):
        """Long-lived keys, behind an MFA session when this profile or a role above it names an mfa_serial."""
        own_serial = self.value(section, "mfa_serial")
        if own_serial:
            mfa = (own_serial, {**self.mfa_settings(section), **(mfa[1] if mfa else {})})
        return self._with_mfa_session(self._static(name, section), mfa)

    def _with_mfa_session(self, keys, mfa):
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
        section = self.profiles.get(keys.profile, {})
        params = {
            "mfa_serial": serial,
            "duration": self.int_value(keys.profile, section, "mfa_session_duration", DEFAULT_MFA_SESSION_DURATION, 900, 129600),
            "partition": self.partition(section),
        }
        configured = self._configured_endpoint(section)
        if configured:
            params["endpoint"] = configured
        return Source("mfa-session", keys.profile, params, keys, private={**settings, "sts": self.sts_endpoint(section)})

    @staticmethod
    def _has_static_keys(section):
        return bool(section.get("aws_access_key_id") and section.get("aws_secret_access_key"))

    @staticmethod
    def _static(name, section):
        secrets = {"secret_access_key": section["aws_secret_access_key"]}
        if section.get("aws_session_token"):
            secrets["session_token"] = section["aws_session_token"]
        return Source("static", name, {"access_key_id": section["aws_access_key_id"]}, private=secrets)

    def _environment(self, name):
        key_id = self.environ.get("AWS_ACCESS_KEY_ID")
        secret = self.environ.get("AWS_SECRET_ACCESS_KEY")
        if not key_id or not secret:
            raise ConfigError(f"profile {name!r} uses credential_source = Environment, but AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not set")
        secrets = {"secret_access_key": secret}
        if self.environ.get("AWS_SESSION_TOKEN"):
            secrets["session_token"] = self.environ["AWS_SESSION_TOKEN"]
        return Source("environment", name, {"access_key_id": key_id}, private=secrets)


def user_regions(environ):
    """{"AWS_REGION": value or None, "AWS_DEFAULT_REGION": ...} as the user has them in `environ`.

    A variable still holding the value `stsenv use` exported (REGION_MARKER) is stsenv's: the user's value is
    the one saved beside it. Any other value, or none, is the user's own, set after `use` or without it.
    """
    exported = environ.get(REGION_MARKER)
    found = {}
    for name in REGION_VARIABLES:
        value = environ.get(name)
        if exported is not None and value == exported:
            value = environ.get(USER_REGION_PREFIX + name)
        found[name] = value
    return found


def served_profile(command):
    """The profile X of a `credential_process = stsenv serve X` line, or None for any other command."""
    words = (command or "").split()
    for start, word in enumerate(words):  # `stsenv serve X`, `/path/to/stsenv serve X`, `python -m stsenv serve X`
        if os.path.basename(word) == "stsenv":
            rest = words[start + 1 :]
            return rest[1] if len(rest) >= 2 and rest[0] == "serve" else None
    return None


def _is_profile_name(name):
    return bool(name) and len(name) <= PROFILE_NAME_MAX and PROFILE_NAME_CHARS.issuperset(name)


def _key_name(section, key):
    """`stsenv_KEY` when the section names it so (that one wins, see AwsConfig.value), else `KEY`."""
    return PREFIX + key if section.get(PREFIX + key) else key


def _runs(name):
    """How profile `name` names the profile it serves: through its credential_process line."""
    return f"profile {name!r} runs stsenv serve with profile"


def _check_depth(seen, name):
    """ConfigError when going on from the profiles `seen` to `name` makes a chain longer than MAX_CHAIN_PROFILES."""
    if len(seen) >= MAX_CHAIN_PROFILES:
        raise ConfigError(
            f"profile {seen[0]!r} goes through more than {MAX_CHAIN_PROFILES} profiles to its credentials "
            f"({seen[0]} -> {seen[1]} -> ... -> {name})",
            "shorten the chain of source_profile settings",
        )


def _refuse_long_chain(name, duration, parent):
    """AWS limits a role assumed with role credentials to one hour: said in the words the user gave it in."""
    if name.startswith(ADHOC_PREFIX):
        raise ConfigError(
            f"--duration-seconds {duration} is too long: the credentials that assume the role ({parent.profile}) are "
            "themselves a role session, and AWS limits role chaining to 3600 seconds",
            "give --duration-seconds 3600 or less",
        )
    raise ConfigError(
        f"profile {name!r} asks for duration_seconds = {duration}, but its source "
        f"{parent.profile!r} is itself a role, and AWS limits role chaining to 3600 seconds",
        "set duration_seconds to 3600 or less",
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

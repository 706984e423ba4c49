"""The settings of an IAM Identity Center (SSO) profile, read as botocore reads them, each value checked, and
the two endpoints it talks to (the OIDC service and the access portal).

Both shapes botocore reads:

    [profile dev]                          [profile legacy]
    sso_session = corp                     sso_start_url = https://d-1234567890.awsapps.com/start
    sso_account_id = 123456789012          sso_region = eu-west-1
    sso_role_name = Developer              sso_account_id = 123456789012
                                           sso_role_name = Developer
    [sso-session corp]
    sso_start_url = https://d-1234567890.awsapps.com/start
    sso_region = eu-west-1
    sso_registration_scopes = sso:account:access

Every key may carry stsenv's prefix (`stsenv_sso_role_name`), which wins, as for every other kind: a profile
with `credential_process = stsenv serve NAME` and `stsenv_sso_account_id`/`stsenv_sso_role_name` is served by
stsenv to every SDK, which sees no SSO settings of its own. A profile that sets `sso_start_url` or `sso_region`
beside `sso_session` must agree with the session, as botocore insists.

Resolution runs this on the warm path (`stsenv serve` of an SSO profile reads the cache once it has the key),
so it reads only what it is given and imports nothing heavy: no boto3, json, re or hashlib.
"""

from stsenv import endpoints, kinds
from stsenv.config import PROFILE_NAME_CHARS, PROFILE_NAME_MAX
from stsenv.errors import ConfigError

ROLE_NAME_MAX = 32  # a permission set's name: AWSReservedSSO_<name>_<16 hex> is an IAM role name of at most 64
URL_MAX = 1024
_DIGITS = frozenset("0123456789")
_ROLE_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+=,.@_-")
_REGION_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
_SCOPE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789:_.*-")


class SsoSettings:
    """What one SSO profile (or one sso-session on its own, for populate) says, checked.

    `session` is the sso-session name (None for a legacy profile); `scopes` the registration scopes (None for
    a legacy profile, which registers without any and so gets no refresh token); `account_id`/`role_name` are
    None for a session on its own; `portal`/`oidc` are the endpoint URLs in effect.
    """

    __slots__ = ("profile", "session", "start_url", "region", "scopes", "account_id", "role_name", "portal", "oidc")

    def __init__(self, profile, session, start_url, region, scopes, account_id, role_name, portal, oidc):
        self.profile = profile
        self.session = session
        self.start_url = start_url
        self.region = region
        self.scopes = scopes
        self.account_id = account_id
        self.role_name = role_name
        self.portal = portal
        self.oidc = oidc

    @property
    def token_name(self):
        """What names the token file: the session name, or the start URL of a legacy profile (the aws CLI's rule)."""
        return self.session if self.session else self.start_url

    @property
    def described(self):
        """`sso-session corp`, or `start URL https://...` for a legacy profile: what the token belongs to."""
        return f"sso-session {self.session}" if self.session else f"start URL {self.start_url}"

    @property
    def partition(self):
        return endpoints.partition_row(self.region)[1]

    def __repr__(self):
        return f"SsoSettings(profile={self.profile!r}, {self.described}, account={self.account_id!r}, role={self.role_name!r})"


# ---- reading the profile -------------------------------------------------------------------------------


def is_sso_profile(config, section):
    """Whether a profile's settings make it an SSO profile of credentials (a marker, prefixed or not)."""
    return kinds.SSO.marked_by(lambda key: config.value(section, key))


def profile_settings(config, name):
    """The checked SsoSettings of SSO profile `name` of `config` (an AwsConfig, with its sso-session sections)."""
    section = config.section(name)
    where = f"profile {name!r}"
    session = config.value(section, "sso_session")
    if session:
        check_session_name(session, f"{where}: sso_session")
        values = _session_values(config, session, where)
        start_url, region = _session_start(config, values, session)
        for key, value in (("sso_start_url", start_url), ("sso_region", region)):
            own = config.value(section, key)
            if own is not None and own != value:
                raise ConfigError(
                    f"{where} sets {key} = {_shown(own)}, but its sso-session {session} says {_shown(value)}",
                    "remove the line from the profile, or make the two agree",
                )
        scopes = _scopes(config, values, session)
    else:
        start_url, region = _start(config, section, where, "the profile")
        scopes = None
    markers = kinds.SSO.markers
    account_id, role_name = (config.value(section, key) for key in markers)
    missing = [key for key, value in zip(markers, (account_id, role_name)) if value is None]
    if missing:
        raise ConfigError(f"{where} is missing {' and '.join(missing)}", f"add {' and '.join(missing)} (or the stsenv_ prefixed keys)")
    check_account_id(account_id, f"{where}: sso_account_id")
    check_role_name(role_name, f"{where}: sso_role_name")
    portal, oidc = service_endpoints(config, section, region)
    return SsoSettings(name, session, start_url, region, scopes, account_id, role_name, portal, oidc)


def session_settings(config, session, section=None):
    """The checked SsoSettings of sso-session `session` on its own (no account or role), for populate;
    endpoints as for a profile with `section`'s settings (none: the environment's and the defaults)."""
    check_session_name(session, "sso-session name")
    values = _session_values(config, session, None)
    start_url, region = _session_start(config, values, session)
    portal, oidc = service_endpoints(config, section or {}, region)
    return SsoSettings(None, session, start_url, region, _scopes(config, values, session), None, None, portal, oidc)


def _session_values(config, session, where):
    """The settings of [sso-session `session`]; `where` names what asked for it (None: the command line)."""
    values = config.sso_sessions.get(session)
    if values is None:
        named = f"{where} names sso-session {session}, but the" if where else "the"
        raise ConfigError(f"{named} config file has no [sso-session {session}] section")
    return values


def _session_start(config, values, session):
    return _start(config, values, f"sso-session {session!r}", f"[sso-session {session}]")


def _start(config, values, where, holder):
    start_url = config.value(values, "sso_start_url")
    region = config.value(values, "sso_region")
    missing = [key for key, value in (("sso_start_url", start_url), ("sso_region", region)) if not value]
    if missing:
        raise ConfigError(f"{where} is missing {' and '.join(missing)}", f"add {' and '.join(missing)} to {holder}")
    check_start_url(start_url, f"{where}: sso_start_url")
    check_region(region, f"{where}: sso_region")
    return start_url, region


def _scopes(config, values, session):
    """The registration scopes the aws CLI registers with: comma-separated, blanks dropped (its
    parse_sso_registration_scopes); a session without the key registers for sso:account:access."""
    raw = config.value(values, "sso_registration_scopes")
    if raw is None:
        return None
    scopes = tuple(scope.strip() for scope in raw.split(",") if scope.strip())
    for scope in scopes:
        if not _SCOPE_CHARS.issuperset(scope) or len(scope) > 256:
            raise ConfigError(f"sso-session {session!r}: sso_registration_scopes has {_shown(scope)}, which is not a scope", "e.g. sso:account:access")
    return scopes


# ---- endpoints -------------------------------------------------------------------------------------------


def service_endpoints(config, section, region):
    """(portal URL, OIDC URL) as botocore picks them for the sso and sso-oidc clients (endpoints.configured_endpoint:
    AWS_ENDPOINT_URL_SSO / AWS_ENDPOINT_URL_SSO_OIDC, AWS_ENDPOINT_URL, the profile's `[services]` section with
    `sso =` / `sso_oidc =`, the profile's endpoint_url); else https://portal.sso.REGION.amazonaws.com and
    https://oidc.REGION.amazonaws.com, with the DNS suffix of the region's partition, and their FIPS and
    dual-stack variants (use_fips_endpoint, use_dualstack_endpoint) as botocore's rule sets build them."""
    fips, dualstack = endpoints.endpoint_variants(config, section)
    portal = _configured(config, section, "sso", "access portal") or endpoints.regional_url("portal.sso", region, fips, dualstack)
    oidc = _configured(config, section, "sso_oidc", "OIDC") or endpoints.regional_url("oidc", region, fips, dualstack)
    return portal, oidc


def _configured(config, section, service, what):
    """The configured endpoint URL of `service` (botocore's snake-case service id), checked; None when none is."""
    found = endpoints.configured_endpoint(config, section, service)
    if found:
        where = f"AWS_ENDPOINT_URL_{service.upper()}, AWS_ENDPOINT_URL, [services] {service} or endpoint_url"
        check_endpoint(found, f"the IAM Identity Center {what} endpoint ({where})")
    return found or None


# ---- the Source of an SSO profile --------------------------------------------------------------------------


def source_parts(settings):
    """(params, private) of the Source of an SSO profile. `params` decide which credentials come back, so they
    make the cache key: the start URL and session (the token's identity), account, role, portal endpoint and
    region. `private` holds how the token is renewed (OIDC endpoint, scopes), which changes no credential."""
    params = {
        "start_url": settings.start_url,
        "sso_region": settings.region,
        "account_id": settings.account_id,
        "role_name": settings.role_name,
        "portal": settings.portal,
    }
    if settings.session:
        params["sso_session"] = settings.session
    return params, {"oidc": settings.oidc, "scopes": settings.scopes}


def from_source(source):
    """The SsoSettings a Source of an SSO profile was made from (source_parts, read back)."""
    params, private = source.params, source.private
    return SsoSettings(
        source.profile,
        params.get("sso_session"),
        params["start_url"],
        params["sso_region"],
        private.get("scopes"),
        params["account_id"],
        params["role_name"],
        params["portal"],
        private["oidc"],
    )


# ---- checks: one line each, naming the setting -------------------------------------------------------------


def check_start_url(value, what):
    """An https URL of a host, e.g. https://d-1234567890.awsapps.com/start (no space, no control character)."""
    host = value[len("https://") :].split("/", 1)[0] if value.startswith("https://") else ""
    if not host or not _HOST_CHARS.issuperset(host) or host[0] in ".-" or not _plain_url(value):
        raise ConfigError(f"{what} = {_shown(value)} is not a start URL", "use the AWS access portal URL, e.g. https://d-1234567890.awsapps.com/start")


def check_region(value, what):
    if not (_REGION_CHARS.issuperset(value) and value[0].isalpha() and value[-1] != "-" and len(value) <= 63 and "-" in value):
        raise ConfigError(f"{what} = {_shown(value)} is not a region name", "use the region of IAM Identity Center, e.g. eu-west-1")


def check_account_id(value, what):
    if not (len(value) == 12 and _DIGITS.issuperset(value)):
        raise ConfigError(f"{what} = {_shown(value)} is not a 12-digit account id")


def check_role_name(value, what):
    if not (1 <= len(value) <= ROLE_NAME_MAX and _ROLE_NAME_CHARS.issuperset(value)):
        raise ConfigError(
            f"{what} = {_shown(value)} is not a permission set name",
            f"use 1 to {ROLE_NAME_MAX} letters, digits and + = , . @ _ -",
        )


def check_session_name(value, what):
    if not (len(value) <= PROFILE_NAME_MAX and PROFILE_NAME_CHARS.issuperset(value)):
        raise ConfigError(f"{what} {_shown(value)} is not a valid name", "use letters, digits and - _ . @ + = , : / only")


def check_endpoint(value, origin):
    if not (value.startswith(("https://", "http://")) and len(value) > len("https://") and _plain_url(value)):
        raise ConfigError(f"{origin} = {_shown(value)} is not an http(s) URL")


def _plain_url(value):
    return len(value) <= URL_MAX and value.isascii() and value.isprintable() and not any(c in value for c in " \"'<>\\`")


def _shown(value):
    from stsenv.oneline import quoted  # a value from the file: cut, escaped

    return quoted(value, 100)

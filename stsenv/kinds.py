"""The kinds of credentials stsenv knows: one row each, and every other module reads its facts from here.

A row says which settings mark a profile as that kind, which provider module (stsenv/providers/) fetches
its credentials, the STS operation and its duration range and default, whether stsenv caches the result,
whether the result is a role session (a role assumed with it is role chaining, limited to one hour), and
what `stsenv ls` calls it. The builder that turns a profile of the kind into a Source is registered for
the row in stsenv.resolution. Adding a kind is one row here, one provider module and one builder.

Plain data read on the warm path: no imports.
"""


class Kind:
    """One kind of credentials; rows are compared by identity (`source.kind is kinds.ASSUME_ROLE`)."""

    __slots__ = ("name", "markers", "uses", "provider", "label", "api", "durations", "default_duration", "cached", "role_session")

    def __init__(self, name, *, provider, label, markers=(), uses=(), api=None, durations=None, default_duration=None, cached=True, role_session=False):
        self.name = name  # in cache keys and cache entries: never change a kind's name
        self.markers = markers  # settings (read with or without the stsenv_ prefix) that make a profile this kind
        self.uses = uses  # settings that mark another kind but are this kind's own parameters beside its markers
        self.provider = provider  # module of stsenv.providers with fetch(source, signer, options)
        self.label = label
        self.api = api  # the STS (or other AWS) operation that issues the credentials
        self.durations = durations  # (shortest, longest) seconds AWS allows, or None: not ours to choose
        self.default_duration = default_duration
        self.cached = cached  # False: long-lived, or another tool's to cache
        self.role_session = role_session

    def marked_by(self, value):
        """Whether a profile is this kind; `value(key)` reads one of its settings (None when unset)."""
        return any(value(key) for key in self.markers)

    def __repr__(self):
        return f"<kind {self.name}>"


STATIC = Kind("static", markers=("aws_access_key_id",), provider="static", label="static", cached=False)
ENVIRONMENT = Kind("environment", provider="static", label="environment", cached=False)
PROCESS = Kind("process", markers=("credential_process",), provider="process", label="credential_process", cached=False)
ASSUME_ROLE = Kind(
    "assume-role",
    markers=("role_arn",),
    provider="assume_role",
    label="role",
    api="AssumeRole",
    durations=(900, 43200),
    default_duration=3600,
    role_session=True,
)
MFA_SESSION = Kind(
    "mfa-session",
    provider="session_token",
    label="MFA source",
    api="GetSessionToken",
    durations=(900, 129600),
    default_duration=43200,
)
WEB_IDENTITY = Kind(
    "web-identity",
    markers=("web_identity_token_file",),
    uses=("role_arn",),  # botocore's web identity profile: the token file and the role it is for
    provider="web_identity",
    label="web identity",
    api="AssumeRoleWithWebIdentity",
    durations=(900, 43200),
    default_duration=3600,
    role_session=True,
)
SAML = Kind(
    "saml",
    markers=("saml_role_arn",),
    provider="saml",
    label="SAML",
    api="AssumeRoleWithSAML",
    durations=(900, 43200),
    default_duration=3600,
    role_session=True,
)
FEDERATION = Kind(
    "federation",
    markers=("federation_name",),
    provider="federation",
    label="federation",
    api="GetFederationToken",
    durations=(900, 129600),
    default_duration=3600,  # AWS's default is 12 hours; a federated session handed out is better short
)
ASSUME_ROOT = Kind(
    "assume-root",
    markers=("target_principal",),
    provider="assume_root",
    label="assume-root",
    api="AssumeRoot",
    durations=(0, 900),
    default_duration=900,
)
SSO = Kind(
    "sso",
    markers=("sso_account_id", "sso_role_name"),  # what botocore's SSO provider acts on (sso_session alone is not)
    provider="sso",
    label="SSO",
    api="GetRoleCredentials",  # IAM Identity Center's access portal, with the session's token (stsenv.sso)
    role_session=True,  # a permission set's role: a role assumed with it is role chaining
)

# AWS's limit on a role assumed with the credentials of a role session (role chaining), in seconds.
ROLE_CHAINING_LIMIT = 3600

KINDS = (STATIC, ENVIRONMENT, PROCESS, ASSUME_ROLE, MFA_SESSION, WEB_IDENTITY, SAML, FEDERATION, ASSUME_ROOT, SSO)
# The kinds a profile names with its settings: at most one per profile. A profile that names none gets the
# credentials it holds (OWN_CREDENTIALS: keys first, as botocore reads them, then a credential_process): SSO
# comes before them, as in botocore's chain.
NAMED_KINDS = (ASSUME_ROLE, WEB_IDENTITY, SAML, FEDERATION, ASSUME_ROOT, SSO)
OWN_CREDENTIALS = (STATIC, PROCESS)
# No STS credentials live longer than this (GetSessionToken's 36 hours).
LONGEST_GRANT = max(kind.durations[1] for kind in KINDS if kind.durations)
# Settings that give a profile credentials of some kind; a profile with none of them holds settings only.
CREDENTIAL_SETTINGS = tuple(dict.fromkeys(key for kind in KINDS for key in kind.markers)) + ("source_profile", "credential_source")

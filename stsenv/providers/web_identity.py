"""AssumeRoleWithWebIdentity: an OIDC token from a file (EKS, GitHub Actions, ...) for a role. Unsigned."""

from stsenv import sts
from stsenv.errors import ConfigError

TOKEN_MAX_CHARS = 20000


def fetch(source, signer, options):
    params = source.params
    return sts.assume_role_with_web_identity(
        sts.Endpoint.of(params, options.environ),
        RoleArn=params["role_arn"],
        RoleSessionName=params["session_name"],
        DurationSeconds=params["duration"],
        WebIdentityToken=read_token(params["token_file"], source.profile),
    )


def read_token(path, profile):
    """The token, read fresh on every refresh: issuers rotate the file, and the key names the file, not its content."""
    from stsenv.oneline import oneline

    shown = oneline(path)  # from the config or AWS_WEB_IDENTITY_TOKEN_FILE
    try:
        with open(path, encoding="utf-8") as handle:
            token = handle.read().strip()
    except OSError as error:
        raise ConfigError(f"profile {profile!r}: cannot read the web identity token file {shown}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"profile {profile!r}: the web identity token file {shown} is not text") from None
    if not 4 <= len(token) <= TOKEN_MAX_CHARS:
        raise ConfigError(
            f"profile {profile!r}: the web identity token file {shown} holds {len(token)} characters; a token has 4 to {TOKEN_MAX_CHARS}",
            "check that the file is the token your identity provider wrote",
        )
    from stsenv import redact

    redact.remember(token)
    return token

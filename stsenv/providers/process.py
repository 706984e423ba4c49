"""Another tool's credential_process, used as the source of a role (run without a shell, like botocore)."""

from stsenv.configured_command import run_configured
from stsenv.credentials import Credentials
from stsenv.errors import ConfigError

PROCESS_TIMEOUT = 300  # another tool may be asking its user for something


def fetch(source, signer, broker):
    setting = f"the credential_process of profile {source.profile!r}"
    output = run_configured(source.params["command"], setting, PROCESS_TIMEOUT)
    return parse_process_output(output, source.profile)


def parse_process_output(raw, profile):
    """Credentials from credential_process JSON (Version 1), with the same checks botocore makes."""
    import json
    from datetime import datetime

    try:
        data = json.loads(raw)
        if data.get("Version") != 1:
            raise ValueError("Version must be 1")
        expires = None
        if data.get("Expiration"):
            expires = int(datetime.fromisoformat(data["Expiration"].replace("Z", "+00:00")).timestamp())
        return Credentials(data["AccessKeyId"], data["SecretAccessKey"], data.get("SessionToken"), expires)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ConfigError(f"profile {profile!r}: credential_process printed invalid output ({type(error).__name__})") from None

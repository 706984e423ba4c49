"""Another tool's credential_process, used as the source of a role (run without a shell, like botocore)."""

from stsenv import answers
from stsenv.configured_command import run_configured
from stsenv.errors import AwsError

PROCESS_TIMEOUT = 300  # another tool may be asking its user for something


def fetch(source, signer, options):
    setting = f"the credential_process of profile {source.profile!r}"
    output = run_configured(source.params["command"], setting, PROCESS_TIMEOUT)
    return parse_process_output(output, source.profile)


def parse_process_output(raw, profile):
    """Credentials from credential_process JSON (Version 1), each field checked as an STS answer is
    (stsenv.answers); SessionToken and Expiration may be absent (long-lived keys), as botocore allows."""
    import json

    origin = f"the credential_process of profile {profile!r}"
    hint = "check the tool it runs: it must print credential_process JSON (Version 1)"
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise AwsError(f"{origin} printed something that is not JSON", hint) from None
    if not isinstance(data, dict) or data.get("Version") != 1:
        raise AwsError(f"{origin} printed JSON without \"Version\": 1", hint)
    return answers.credentials(data, origin, hint, long_lived_allowed=True)

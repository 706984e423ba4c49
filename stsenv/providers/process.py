"""Another tool's credential_process, used as the source of a role (run without a shell, like botocore)."""

import shlex
import subprocess

from stsenv.credentials import Credentials
from stsenv.errors import AwsError, ConfigError


def fetch(source, signer, broker, lock):
    command = source.params["command"]
    try:
        finished = subprocess.run(shlex.split(command), stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=300)
    except (OSError, ValueError) as error:
        raise ConfigError(f"profile {source.profile!r}: cannot run credential_process: {error}") from None
    except subprocess.TimeoutExpired:
        raise AwsError(f"profile {source.profile!r}: credential_process did not answer within 300s") from None
    if finished.returncode != 0:
        raise AwsError(f"profile {source.profile!r}: credential_process exited with status {finished.returncode}")
    return parse_process_output(finished.stdout, source.profile)


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

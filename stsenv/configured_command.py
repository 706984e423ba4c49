"""Running a command the config names (a source profile's credential_process, mfa_process, a TOTP secret
or SAML assertion process): split like a shell but run without one, as botocore runs credential_process."""

import shlex
import subprocess

from stsenv import redact
from stsenv.errors import AwsError, ConfigError


def run_configured(command, setting, timeout, unrunnable=ConfigError, failed=AwsError, stdin=subprocess.DEVNULL):
    """The stdout of `command`, registered as a secret. `setting` names it in messages; a command that
    cannot start raises `unrunnable`, one that times out or fails raises `failed`. stderr is the user's."""
    try:
        finished = subprocess.run(shlex.split(command), stdout=subprocess.PIPE, stdin=stdin, timeout=timeout, text=True)
    except (OSError, ValueError) as error:
        raise unrunnable(f"cannot run {setting} `{command}`: {getattr(error, 'strerror', None) or error}") from None
    except subprocess.TimeoutExpired:
        raise failed(f"{setting} `{command}` did not finish within {timeout}s") from None
    redact.remember(finished.stdout.strip())
    if finished.returncode != 0:
        raise failed(f"{setting} `{command}` exited with status {finished.returncode}")
    return finished.stdout

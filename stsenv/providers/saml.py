"""AssumeRoleWithSAML: a role from an IdP's SAML assertion (`--saml-assertion-file` or
`stsenv_saml_assertion_process`). Unsigned; the assertion is checked before it is sent."""

import shlex
import subprocess

from stsenv import redact, saml, sts
from stsenv.errors import AwsError, ConfigError

PROCESS_TIMEOUT = 300  # a person may be logging in to their identity provider


def fetch(source, signer, broker, lock):
    params = source.params
    assertion = saml.normalize(broker.options.saml_assertion or _from_process(source))
    redact.remember(assertion)
    saml.check(assertion, params["role_arn"], params["principal_arn"])
    return sts.assume_role_with_saml(
        params,
        RoleArn=params["role_arn"],
        PrincipalArn=params["principal_arn"],
        SAMLAssertion=assertion,
        DurationSeconds=params["duration"],
    )


def _from_process(source):
    command = source.private.get("assertion_process")
    if not command:
        raise ConfigError(
            f"profile {source.profile!r} needs a SAML assertion",
            f"run `stsenv use {source.profile} --saml-assertion-file FILE`, or set stsenv_saml_assertion_process",
        )
    try:  # stdin stays the caller's, so that an IdP tool can ask its questions
        finished = subprocess.run(shlex.split(command), stdout=subprocess.PIPE, timeout=PROCESS_TIMEOUT, text=True)
    except (OSError, ValueError) as error:
        raise ConfigError(f"profile {source.profile!r}: cannot run stsenv_saml_assertion_process: {getattr(error, 'strerror', None) or error}") from None
    except subprocess.TimeoutExpired:
        raise AwsError(f"profile {source.profile!r}: stsenv_saml_assertion_process did not finish within {PROCESS_TIMEOUT}s") from None
    if finished.returncode != 0:
        raise AwsError(f"profile {source.profile!r}: stsenv_saml_assertion_process exited with status {finished.returncode}")
    return finished.stdout

"""AssumeRoleWithSAML: a role from an IdP's SAML assertion (`--saml-assertion-file` or
`stsenv_saml_assertion_process`). Unsigned; the assertion is checked before it is sent."""

from stsenv import redact, saml_assertion, sts
from stsenv.configured_command import run_configured
from stsenv.errors import ConfigError

PROCESS_TIMEOUT = 300  # a person may be logging in to their identity provider


def fetch(source, signer, options):
    params = source.params
    assertion = saml_assertion.normalize(options.saml_assertion or _from_process(source))
    redact.remember(assertion)
    saml_assertion.check(assertion, params["role_arn"], params["principal_arn"])
    return sts.assume_role_with_saml(
        sts.Endpoint.of(params, options.environ),
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
    setting = f"the stsenv_saml_assertion_process of profile {source.profile!r}"
    # stdin stays the caller's, so that an IdP tool can ask its questions
    return run_configured(command, setting, PROCESS_TIMEOUT, stdin=None)

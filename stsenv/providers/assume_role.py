"""AssumeRole, with external id, session name, duration, session policy and tags, source identity and
(when the role itself asks) an MFA code."""

from stsenv import sts
from stsenv.providers.session_parameters import session_parameters


def fetch(source, signer, options):
    params = source.params

    def assume(code=None):
        return sts.assume_role(
            signer,
            sts.Endpoint.of(params, options.environ),
            RoleArn=params["role_arn"],
            RoleSessionName=params["session_name"],
            DurationSeconds=params["duration"],
            ExternalId=params.get("external_id"),
            SerialNumber=params.get("mfa_serial"),
            TokenCode=code,
            **session_parameters(params),
        )

    if params.get("mfa_serial"):
        from stsenv import mfa

        return mfa.with_code(source, params["mfa_serial"], options, assume)
    return assume()

"""GetFederationToken: a federated user session from long-lived IAM user keys, scoped by a session policy."""

from stsenv import sts
from stsenv.providers.options import session_options


def fetch(source, signer, broker):
    params = source.params
    options = session_options(params)
    del options["SourceIdentity"]  # GetFederationToken takes none
    return sts.get_federation_token(signer, params, Name=params["name"], DurationSeconds=params["duration"], **options)

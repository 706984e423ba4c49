"""GetFederationToken: a federated user session from long-lived IAM user keys, scoped by a session policy."""

from stsenv import sts
from stsenv.providers.session_parameters import session_parameters


def fetch(source, signer, options):
    params = source.params
    parameters = session_parameters(params)
    del parameters["SourceIdentity"]  # GetFederationToken takes none
    endpoint = sts.Endpoint.of(params, options.environ)
    return sts.get_federation_token(signer, endpoint, Name=params["name"], DurationSeconds=params["duration"], **parameters)

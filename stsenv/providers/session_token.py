"""GetSessionToken with MFA on long-lived keys: the MFA session that roles then assume from."""

from stsenv import mfa, sts


def fetch(source, signer, options):
    params = source.params
    serial = params["mfa_serial"]
    endpoint = sts.Endpoint.of(source.private["sts"], options.environ)  # the regional endpoint in effect; the cache key holds only the partition

    def open_session(code):
        return sts.get_session_token(signer, endpoint, DurationSeconds=params["duration"], SerialNumber=serial, TokenCode=code)

    session = mfa.with_code(source, serial, options, open_session)
    identity = sts.get_caller_identity(session, endpoint)  # GetSessionToken does not say who the session is
    session.arn, session.account = identity["Arn"], identity["Account"]
    return session

"""GetSessionToken with MFA on long-lived keys: the MFA session that roles then assume from."""

from stsenv import mfa, sts


def fetch(source, signer, broker, lock):
    params = source.params
    serial = params["mfa_serial"]

    def open_session(code):
        return sts.get_session_token(signer, params, DurationSeconds=params["duration"], SerialNumber=serial, TokenCode=code)

    session = mfa.with_code(source, serial, broker, lock, open_session)
    session.arn = sts.get_caller_identity(session, params)["Arn"]
    return session

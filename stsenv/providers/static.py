"""Long-lived keys as configured (a credentials file profile, or the environment)."""

from stsenv.credentials import Credentials


def fetch(source, signer, options):
    return Credentials(
        source.params["access_key_id"],
        source.private["secret_access_key"],
        source.private.get("session_token"),
    )

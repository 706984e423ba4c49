"""The end of an SSO session for `stsenv logout --sso`: the portal told (best effort, as `aws sso logout`
does), then the session's token file removed; the client registration stays, as the aws CLI leaves it.

stsenv's cached role credentials of the session's profiles are the logout command's to remove, as for any
profile (profiles_of lists them).
"""

from stsenv import terminal
from stsenv.errors import AwsError, StsenvError
from stsenv.sso import token_cache
from stsenv.sso.settings import is_sso_profile, profile_settings


class LogoutResult:
    """The token file, whether there was one to remove, and whether the portal ended the session."""

    __slots__ = ("path", "removed", "session_ended")

    def __init__(self, path, removed, session_ended):
        self.path = path
        self.removed = removed
        self.session_ended = session_ended


def logout(settings, environ, end_session=True):
    """Remove the token file of `settings`' session (say which: LogoutResult.path), after ending the portal
    session with it when `end_session` and it is still valid. A portal that cannot be reached ends nothing
    but the file: the logout of this machine does not wait for the network."""
    path = token_cache.token_path(settings, environ)
    ended = False
    if end_session:
        ended = _end_portal_session(settings, environ, path)
    return LogoutResult(path, token_cache.remove(path), ended)


def _end_portal_session(settings, environ, path):
    try:
        token = token_cache.read_token(path)
    except token_cache.TokenFileProblem:
        return False
    if token is None or token.remaining() <= 0:
        return False
    from stsenv.sso import portal

    try:
        portal.logout(settings, environ, token.access_token)
    except AwsError as error:
        terminal.debug(f"the portal did not end the session: {error}")
        return False
    return True


def profiles_of(config, settings):
    """The names of the SSO profiles of `config` whose token is `settings`' (same session, or same legacy start URL)."""
    names = []
    for name, section in config.profiles.items():
        if not is_sso_profile(config, section):
            continue
        try:
            other = profile_settings(config, name)
        except StsenvError:
            continue
        if other.token_name == settings.token_name:
            names.append(name)
    return names

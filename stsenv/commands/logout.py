"""`stsenv logout PROFILE` removes the cached credentials made from a profile (its MFA session and every
role sourcing from it); `logout --all` empties the cache; `logout --sso PROFILE` also ends the profile's
IAM Identity Center session (the portal told, the token file of the aws CLI's cache removed), and
`logout --sso-session NAME` ends a session by its name (with the credentials of every profile using it)."""

import os
import sys

from stsenv.cache import CredentialCache, cache_dir
from stsenv.config import AwsConfig, check_profile_name
from stsenv.errors import ConfigError, StsenvError
from stsenv.oneline import oneline
from stsenv.resolution import resolve


def register(commands):
    parser = commands.add_parser("logout", help="remove cached MFA sessions and role credentials")
    parser.add_argument("profile", nargs="?")
    parser.add_argument("--all", action="store_true", help="everything in the cache")
    parser.add_argument("--sso", action="store_true", help="also end the profile's IAM Identity Center session and remove its token")
    parser.add_argument("--sso-session", metavar="NAME", help="end this IAM Identity Center session, remove its token and the credentials of its profiles")
    parser.set_defaults(func=run)


def run(args):
    if [bool(args.profile), args.all, bool(args.sso_session)].count(True) != 1:
        raise ConfigError("name a profile, or give --sso-session NAME or --all")
    if args.sso and not args.profile:
        raise ConfigError("--sso ends the session of the profile it goes with: name one", "or give --sso-session NAME alone")
    cache = CredentialCache(cache_dir(os.environ))
    entries = cache.entries()
    profiles = None  # all of them
    if args.all:
        doomed = [path for path, _ in entries]
    else:
        config = AwsConfig()
        if args.sso_session:
            from stsenv.sso.settings import session_settings

            names = end_sso_session(config, session_settings(config, args.sso_session))
        elif args.sso:
            names = end_sso_session(config, sso_settings_of(config, args.profile))
        else:
            check_profile_name(args.profile)
            names = [args.profile]
        profiles = set().union(*(profiles_sourcing_from(config, name) for name in names))
        doomed = [path for path, entry in entries if entry.get("profile") in profiles]
    for path in doomed:
        cache.remove(path)
    cache.remove_files_of(profiles)  # lock, holder and failure files, also of keys with no entry
    if args.all:
        from stsenv import history

        history.forget(os.environ)  # the profiles used last: --all leaves the cache directory empty
    what = "everything" if args.all else args.profile or f"sso-session {args.sso_session}"
    print(f"stsenv: removed {len(doomed)} cached credential{'s' if len(doomed) != 1 else ''} for {what}", file=sys.stderr)
    for path in doomed:
        print(f"  {oneline(os.path.basename(path))}", file=sys.stderr)  # a file name may hold anything but /
    return 0


def sso_settings_of(config, profile):
    """The SsoSettings of the IAM Identity Center profile in `profile`'s chain (itself, or the source of its role)."""
    from stsenv import kinds
    from stsenv.sso.settings import from_source

    check_profile_name(profile)
    node = next((node for node in resolve(config, profile).chain() if node.kind is kinds.SSO), None)
    if node is None:
        raise ConfigError(f"profile {profile!r} is not an IAM Identity Center (SSO) profile", "leave out --sso")
    return from_source(node)


def end_sso_session(config, settings):
    """End the IAM Identity Center session of `settings` (stsenv.sso.logout) and say so; the SSO profiles that
    shared its token, whose cached credentials go too."""
    from stsenv.sso import logout as sso_logout

    result = sso_logout.logout(settings, os.environ)
    if result.removed:
        ended = "ended the session and removed" if result.session_ended else "removed"
        print(f"stsenv: {ended} the IAM Identity Center token of {settings.described}: {oneline(result.path)}", file=sys.stderr)
    else:
        print(f"stsenv: no IAM Identity Center token of {settings.described} to remove ({oneline(result.path)})", file=sys.stderr)
    return sso_logout.profiles_of(config, settings)


def profiles_sourcing_from(config, profile):
    """`profile` and every profile whose chain goes through it (their credentials came from its session)."""
    names = {profile}
    for name in config.profiles:
        try:
            chain = [node.profile for node in resolve(config, name).chain()]
        except StsenvError:
            continue
        if profile in chain:
            names.update(chain[: chain.index(profile)])
    return names

"""`stsenv logout PROFILE` removes the cached credentials made from a profile (its MFA session and every
role sourcing from it); `logout --all` empties the cache; `logout --sso PROFILE` also ends the profile's
IAM Identity Center session (the portal told, the token file of the aws CLI's cache removed)."""

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
    parser.set_defaults(func=run)


def run(args):
    if bool(args.profile) == bool(args.all):
        raise ConfigError("name a profile or give --all")
    if args.sso and args.all:
        raise ConfigError("--sso ends the session of one profile: name it instead of --all")
    cache = CredentialCache(cache_dir(os.environ))
    entries = cache.entries()
    profiles = None  # all of them
    if args.all:
        doomed = [path for path, _ in entries]
    else:
        check_profile_name(args.profile)
        config = AwsConfig()
        names = end_sso_session(config, args.profile) if args.sso else [args.profile]
        profiles = set().union(*(profiles_sourcing_from(config, name) for name in names))
        doomed = [path for path, entry in entries if entry.get("profile") in profiles]
    for path in doomed:
        cache.remove(path)
    cache.remove_files_of(profiles)  # lock, holder and failure files, also of keys with no entry
    if args.all:
        from stsenv import history

        history.forget(os.environ)  # the profiles used last: --all leaves the cache directory empty
    what = "everything" if args.all else args.profile
    print(f"stsenv: removed {len(doomed)} cached credential{'s' if len(doomed) != 1 else ''} for {what}", file=sys.stderr)
    for path in doomed:
        print(f"  {oneline(os.path.basename(path))}", file=sys.stderr)  # a file name may hold anything but /
    return 0


def end_sso_session(config, profile):
    """End the IAM Identity Center session of `profile` (stsenv.sso.logout) and say so; the SSO profiles that
    shared its token, whose cached credentials go too."""
    from stsenv import kinds
    from stsenv.sso import logout as sso_logout
    from stsenv.sso.settings import from_source

    node = next((node for node in resolve(config, profile).chain() if node.kind is kinds.SSO), None)
    if node is None:
        raise ConfigError(f"profile {profile!r} is not an IAM Identity Center (SSO) profile", "leave out --sso")
    settings = from_source(node)
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

"""`stsenv logout PROFILE` removes the cached credentials made from a profile (its MFA session and every
role sourcing from it); `logout --all` empties the cache."""

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
    parser.set_defaults(func=run)


def run(args):
    if bool(args.profile) == bool(args.all):
        raise ConfigError("name a profile or give --all")
    cache = CredentialCache(cache_dir(os.environ))
    entries = cache.entries()
    profiles = None  # all of them
    if args.all:
        doomed = [path for path, _ in entries]
    else:
        check_profile_name(args.profile)
        profiles = profiles_sourcing_from(AwsConfig(), args.profile)
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

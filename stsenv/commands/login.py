"""`stsenv login PROFILE` opens the MFA session now; `stsenv logout` removes cached sessions and role credentials."""

import os
import sys

from stsenv.broker import Broker, Options
from stsenv.config import AwsConfig, check_profile_name
from stsenv.credentials import FRESH_FOR
from stsenv.errors import ConfigError, StsenvError
from stsenv.oneline import oneline


def register(commands):
    login = commands.add_parser("login", help="ask for the MFA code now and cache the MFA session")
    login.add_argument("profile")
    login.add_argument("--token-code", help="the MFA code, - to read it from stdin (otherwise mfa_process, TOTP, or the terminal)")
    login.add_argument("--force", action="store_true", help="open a new session even if one is cached")
    login.set_defaults(func=run_login)
    logout = commands.add_parser("logout", help="remove cached MFA sessions and role credentials")
    logout.add_argument("profile", nargs="?")
    logout.add_argument("--all", action="store_true", help="everything in the cache")
    logout.set_defaults(func=run_logout)


def mfa_session_of(source):
    return next((node for node in source.chain() if node.kind == "mfa-session"), None)


def run_login(args):
    config = AwsConfig()
    source = config.resolve(args.profile)
    session = mfa_session_of(source)
    if session is None:
        raise ConfigError(f"profile {args.profile!r} needs no MFA session", "login is for profiles with mfa_serial on long-lived keys")
    broker = Broker(Options(interactive=True, token_code=args.token_code))
    cached = broker.cache.read(session)
    if cached is not None and cached.remaining() > FRESH_FOR and not args.force:
        print(f"stsenv: MFA session for {session.profile} is valid until {cached.expiration}", file=sys.stderr)
        return 0
    fresh = broker.refresh(session, float("inf") if args.force else FRESH_FOR, fall_back=False)
    print(f"stsenv: MFA session for {session.profile} opened, valid until {fresh.expiration}", file=sys.stderr)
    return 0


def run_logout(args):
    if bool(args.profile) == bool(args.all):
        raise ConfigError("name a profile or give --all")
    broker = Broker(Options(interactive=False))
    entries = broker.cache.entries()
    profiles = None  # all of them
    if args.all:
        doomed = [path for path, _ in entries]
    else:
        check_profile_name(args.profile)
        profiles = _profiles_sourcing_from(args.profile)
        doomed = [path for path, entry in entries if entry.get("profile") in profiles]
    for path in doomed:
        broker.cache.remove(path)
    broker.cache.remove_files_of(profiles)  # lock, holder and failure files, also of keys with no entry
    what = "everything" if args.all else args.profile
    print(f"stsenv: removed {len(doomed)} cached credential{'s' if len(doomed) != 1 else ''} for {what}", file=sys.stderr)
    for path in doomed:
        print(f"  {oneline(os.path.basename(path))}", file=sys.stderr)  # a file name may hold anything but /
    return 0


def _profiles_sourcing_from(profile):
    """`profile` and every profile whose chain goes through it (their credentials came from its session)."""
    config = AwsConfig()
    names = {profile}
    for name in config.profiles:
        try:
            chain = [node.profile for node in config.resolve(name).chain()]
        except StsenvError:
            continue
        if profile in chain:
            names.update(chain[: chain.index(profile)])
    return names

"""`stsenv login PROFILE`: ask for the MFA code now and cache the MFA session every role of its keys uses."""

import sys

from stsenv import kinds
from stsenv.broker import Broker, Options
from stsenv.config import AwsConfig
from stsenv.credentials import FRESH_FOR
from stsenv.errors import ConfigError
from stsenv.resolution import resolve


def register(commands):
    parser = commands.add_parser("login", help="ask for the MFA code now and cache the MFA session")
    parser.add_argument("profile")
    parser.add_argument("--token-code", help="the MFA code, - to read it from stdin (otherwise mfa_process, TOTP, or the terminal)")
    parser.add_argument("--force", action="store_true", help="open a new session even if one is cached")
    parser.set_defaults(func=run)


def mfa_session_of(source):
    return next((node for node in source.chain() if node.kind is kinds.MFA_SESSION), None)


def run(args):
    source = resolve(AwsConfig(), args.profile)
    session = mfa_session_of(source)
    if session is None:
        raise ConfigError(f"profile {args.profile!r} needs no MFA session", "login is for profiles with mfa_serial on long-lived keys")
    broker = Broker(Options(interactive=True, token_code=args.token_code))
    cached = broker.cache.read(session)
    if cached is not None and cached.remaining() > FRESH_FOR and not args.force:
        print(f"stsenv: MFA session for {session.profile} is valid until {cached.expiry_iso}", file=sys.stderr)
        return 0
    fresh = broker.refresh(session, float("inf") if args.force else FRESH_FOR, fall_back=False)
    print(f"stsenv: MFA session for {session.profile} opened, valid until {fresh.expiry_iso}", file=sys.stderr)
    return 0

"""`stsenv login PROFILE`: ask for the MFA code now and cache the MFA session every role of its keys uses; for
a profile of IAM Identity Center (SSO), sign in to its session (one sign-in for all its profiles).
`stsenv login --sso-session NAME` signs in to an sso-session by its name, as `aws sso login --sso-session` does."""

import os
import sys

from stsenv import kinds
from stsenv.broker import Broker, Options
from stsenv.config import AwsConfig
from stsenv.credentials import FRESH_FOR
from stsenv.errors import ConfigError
from stsenv.resolution import resolve


def register(commands):
    parser = commands.add_parser("login", help="ask for the MFA code now and cache the MFA session, or sign in to IAM Identity Center")
    parser.add_argument("profile", nargs="?")
    parser.add_argument("--sso-session", metavar="NAME", help="sign in to this [sso-session NAME] of the config file, whatever profile uses it")
    parser.add_argument("--token-code", help="the MFA code, - to read it from stdin (otherwise mfa_process, TOTP, or the terminal)")
    parser.add_argument("--force", action="store_true", help="open a new session (or sign in again) even if one is cached")
    parser.add_argument("--no-browser", action="store_true", help="SSO: only print the URL and code to open, never open a browser")
    parser.set_defaults(func=run)


def mfa_session_of(source):
    return next((node for node in source.chain() if node.kind is kinds.MFA_SESSION), None)


def sso_of(source):
    """The IAM Identity Center node of a profile's chain (the profile itself, or the source of its role), or None."""
    return next((node for node in source.chain() if node.kind is kinds.SSO), None)


def run(args):
    if bool(args.profile) == bool(args.sso_session):
        raise ConfigError("name a profile or give --sso-session NAME", "stsenv login PROFILE, or stsenv login --sso-session NAME")
    if args.sso_session:
        from stsenv.sso.settings import session_settings

        _no_code(args, f"sso-session {args.sso_session!r}")
        return sign_in(session_settings(AwsConfig(), args.sso_session), no_browser=args.no_browser, force=args.force)
    source = resolve(AwsConfig(), args.profile)
    sso = sso_of(source)
    if sso is not None:
        from stsenv.sso.settings import from_source

        _no_code(args, f"profile {args.profile!r}")
        return sign_in(from_source(sso), no_browser=args.no_browser, force=args.force)
    session = mfa_session_of(source)
    if session is None:
        raise ConfigError(
            f"profile {args.profile!r} needs no MFA session",
            "login is for profiles with mfa_serial on long-lived keys, and for IAM Identity Center (SSO) profiles",
        )
    broker = Broker(Options(interactive=True, token_code=args.token_code))
    cached = broker.cache.read(session)
    if cached is not None and cached.remaining() > FRESH_FOR and not args.force:
        print(f"stsenv: MFA session for {session.profile} is valid until {cached.expiry_iso}", file=sys.stderr)
        return 0
    fresh = broker.refresh(session, float("inf") if args.force else FRESH_FOR, fall_back=False)
    print(f"stsenv: MFA session for {session.profile} opened, valid until {fresh.expiry_iso}", file=sys.stderr)
    return 0


def _no_code(args, what):
    if args.token_code:
        raise ConfigError(f"{what} signs in to IAM Identity Center, which asks for no MFA code here", "leave out --token-code")


def sign_in(settings, no_browser, force):
    """The device authorization flow for the session of SsoSettings `settings`, unless its token is good (stsenv.sso.device_login)."""
    from stsenv.sso import device_login

    result = device_login.login(settings, os.environ, no_browser=no_browser, force=force)
    done = "signed in to" if result.signed_in else "already signed in to"
    print(f"stsenv: {done} IAM Identity Center ({settings.described}) until {result.expiration}", file=sys.stderr)
    return 0

"""`stsenv console [PROFILE]`: sign in to the AWS console with a profile's credentials (stsenv.signin).

The profile's credentials come through the broker and the shared cache like `use`'s; what signs in is the
last step of its chain, by kind:
- a role session (every kind whose row says role_session: assume-role, SAML, web identity, and an IAM
  Identity Center role session is one more) is exchanged directly, with --session-duration when asked;
- a federated user session (a federation profile) directly, without SessionDuration (AWS refuses it);
- long-lived IAM user keys go through GetFederationToken first (resolution.console_federation), cached
  like any session: the federation endpoint takes no long-lived keys;
- an MFA session (GetSessionToken) cannot sign in: said, and its keys go through GetFederationToken;
- a root-task session (AssumeRoot) cannot sign in: refused before any call;
- keys that carry a session token, and a credential_process's answer, are tried directly when they carry
  one (their kind is unknown), through GetFederationToken when they do not.
Everything that can be checked (flags, partition, browser) is checked before any call.
"""

import os
import sys

from stsenv import adhoc, history, kinds, signin, terminal
from stsenv.broker import Broker, Options
from stsenv.config import AwsConfig
from stsenv.endpoints import partition, region
from stsenv.errors import ConfigError
from stsenv.resolution import console_federation, resolve
from stsenv.settings import sts_read_timeout


def register(commands):
    parser = commands.add_parser("console", help="open the AWS console signed in with a profile's credentials")
    parser.add_argument("profile", nargs="?", help="profile name (none at a terminal: pick one)")
    parser.add_argument("--print", dest="print_url", action="store_true", help="print the sign-in URL (valid 15 minutes) instead of opening a browser")
    parser.add_argument("--service", metavar="S", help="the console page to open: ec2, s3, iam, cloudformation, ...")
    parser.add_argument("--session-duration", type=int, metavar="S", help="how long the console session of a role lasts (900 to 43200)")
    parser.add_argument("--non-interactive", dest="interactive", action="store_false", help="never ask for an MFA code (exit 3 instead)")
    parser.add_argument("--token-code", help="the MFA code, when one is needed; - reads it from stdin")
    adhoc.add_override_arguments(parser)
    parser.set_defaults(func=run)


def run(args):
    environ = os.environ
    low, high = signin.SESSION_DURATIONS
    if args.session_duration is not None and not low <= args.session_duration <= high:
        raise ConfigError(f"--session-duration {args.session_duration} is outside {low} to {high}, the console sessions AWS allows", f"give {low} to {high} seconds")
    if not args.print_url and not can_open_browser(environ):
        raise ConfigError("no browser can be opened here (no DISPLAY, WAYLAND_DISPLAY or BROWSER)", "`stsenv console PROFILE --print` prints the URL instead")
    config = AwsConfig(environ)
    profile = args.profile
    if not profile:
        from stsenv import picker

        profile = picker.choose(config, "console", args.interactive)
    broker = Broker(Options(args.interactive, args.token_code, environ))
    source = signing_in(config, profile, args.duration_seconds, args.region, broker)
    if args.session_duration is not None:
        check_session_duration(profile, source)
    section = config.section(profile)
    where = partition(config, section)
    page = signin.destination(where, args.region or region(config, section), args.service)
    endpoint = signin.federation_endpoint(where, environ)
    credentials = broker.credentials(source)
    terminal.debug(f"console: {profile} signs in with {source.kind.name} credentials at {endpoint}")
    token = signin.signin_token(credentials, endpoint, sts_read_timeout(environ), args.session_duration)
    url = signin.login_url(endpoint, token, page)
    history.remember(environ, profile)
    if args.print_url:
        sys.stdout.write(url + "\n")
        return 0
    return open_browser(url)


def signing_in(config, profile, duration, region_name, broker):
    """The Source whose credentials sign in for `profile` (see the module docstring)."""
    source = resolve(config, profile, overrides=adhoc.Overrides(region=region_name))
    kind = source.kind
    if kind is kinds.ASSUME_ROOT:
        raise ConfigError(f"profile {profile!r} is a root-task session (AssumeRoot), which cannot sign in to the console")
    if kind.role_session or kind is kinds.FEDERATION:
        if duration is None:
            return source
        return resolve(config, profile, overrides=adhoc.Overrides(duration=duration, region=region_name))
    keys = source
    if kind is kinds.MFA_SESSION:
        keys = source.parent
        terminal.tell(
            f"stsenv: an MFA session (GetSessionToken) cannot sign in to the console; "
            f"signing in with the keys of {keys.profile!r} through GetFederationToken"
        )
    if keys.private.get("session_token") or kind is kinds.PROCESS and _carries_session_token(keys, broker):
        if duration is not None:
            raise ConfigError(f"--duration-seconds: profile {profile!r} holds temporary credentials, whose duration is not stsenv's to choose")
        return keys
    return console_federation(config, profile, keys, duration)


def _carries_session_token(process_source, broker):
    """Whether a credential_process answers with a session token (its run is kept: it signs what follows)."""
    return broker.uncached(process_source, 0).session_token is not None


def check_session_duration(profile, source):
    """--session-duration is for a role session asked for with long-lived keys (or by SAML, web identity, SSO)."""
    if not source.kind.role_session:
        raise ConfigError(
            f"--session-duration is for role sessions, and {profile!r} signs in as a federated user, whose console session lasts as long as its credentials",
            "leave it out (--duration-seconds sets how long the federated session lasts)",
        )
    parent = source.parent
    if parent is not None and (parent.kind.api is not None or parent.private.get("session_token")):
        raise ConfigError(
            f"--session-duration: the role session of {profile!r} is asked for with temporary credentials ({parent.profile}: {parent.kind.label}), "
            "and AWS's federation endpoint then refuses a console session duration",
            "leave --session-duration out",
        )


def can_open_browser(environ):
    """Whether a browser can be opened for this person: on macOS, with a display, or with BROWSER set."""
    return sys.platform == "darwin" or any(environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER"))


def open_browser(url):
    import webbrowser

    if not webbrowser.open(url):
        raise ConfigError("no browser could be opened", "`stsenv console PROFILE --print` prints the URL instead")
    terminal.tell("stsenv: opened the AWS console in the browser")
    return 0

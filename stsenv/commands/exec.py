"""`stsenv exec [PROFILE] -- COMMAND [ARGS...]`: run a command with a profile's credentials.

The command gets the variables `use` would set (stsenv.exports.environment: keys, expiry, STSENV_PROFILE,
the region; AWS_PROFILE unset) and STSENV_EXEC naming the profile, so that an `exec` inside it of another
profile is refused unless --allow-nested. stsenv then becomes the command (execve): its exit code, its
signals (Ctrl-C reaches it alone) and its terminal are its own.

With --server the command gets no keys at all: AWS_CONTAINER_CREDENTIALS_FULL_URI names a loopback endpoint
(stsenv.credential_server) and AWS_CONTAINER_AUTHORIZATION_TOKEN the token it asks for, so every SDK asks
stsenv again when its credentials run low, and a job longer than one session keeps working. The endpoint
is a thread of this process, which waits for the command, forwards the signals sent to it, and exits with
the command's code (128+N when a signal N ended it, as shells say).
"""

import os
import signal
import sys

from stsenv import adhoc, exports, history
from stsenv.broker import Broker, Options
from stsenv.config import AwsConfig
from stsenv.endpoints import user_regions
from stsenv.errors import ConfigError
from stsenv.resolution import region_in_use, resolve

NESTING_MARKER = "STSENV_EXEC"
# Variables that would give the command other credentials than the server's: SDKs read them first.
SERVER_CONFLICTS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_SESSION_EXPIRES",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_SESSION_EXPIRATION",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
)
# Signals a terminal sends to its whole foreground process group: the command has had them already.
TERMINAL_SIGNALS = (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP)
FORWARDED_SIGNALS = TERMINAL_SIGNALS + (signal.SIGTERM, signal.SIGUSR1, signal.SIGUSR2)
EXIT_NOT_FOUND = 127
EXIT_NOT_EXECUTABLE = 126


def register(commands):
    parser = commands.add_parser(
        "exec",
        help="run a command with a profile's credentials",
        usage="stsenv exec [PROFILE] [flags] -- COMMAND [ARGS...]",
        description="Run COMMAND with PROFILE's credentials in its environment (or, with --server, from a loopback endpoint that renews them).",
    )
    parser.add_argument("profile", nargs="?", help="profile name (none at a terminal: pick one)")
    parser.add_argument("--server", action="store_true", help="give the command a credentials endpoint instead of keys, renewed as long as it runs")
    parser.add_argument("--allow-nested", action="store_true", help="run inside another `stsenv exec` of a different profile")
    parser.add_argument("--non-interactive", dest="interactive", action="store_false", help="never ask for an MFA code (exit 3 instead)")
    parser.add_argument("--token-code", help="the MFA code, when one is needed; - reads it from stdin")
    adhoc.add_override_arguments(parser)
    parser.set_defaults(func=run, command_line=None)


def run(args):
    if not args.command_line:
        raise ConfigError("which command?", "stsenv exec PROFILE -- COMMAND [ARGS...]")
    environ = os.environ
    config = AwsConfig(environ)
    profile = args.profile
    if not profile:
        from stsenv import picker

        profile = picker.choose(config, "exec", args.interactive)
    _check_nesting(environ, profile, args.allow_nested)
    overrides = adhoc.Overrides(args.duration_seconds, args.region) if args.duration_seconds is not None or args.region else None
    source = resolve(config, profile, overrides=overrides)
    options = Options(args.interactive, args.token_code, environ)
    broker = Broker(options)
    credentials = broker.credentials(source)
    history.remember(environ, profile)
    values, unset = exports.environment(credentials, profile, region_in_use(config, profile, overrides), None, user_regions(environ))
    if not args.server:
        return execute(args.command_line, child_environment(environ, values, unset, profile))
    if credentials.session_token is None or credentials.expiry_epoch is None:
        raise ConfigError(
            f"profile {profile!r} holds long-lived keys, which a credentials endpoint cannot hand out (SDKs want a session token and an expiry)",
            f"run `stsenv exec {profile} -- ...` without --server",
        )
    options.token_code = None  # a code is good for one call: renewals ask again (mfa_process, TOTP, /dev/tty)
    _warn_about_default_credentials(config)
    return serve_command(args.command_line, environ, values, unset, profile, lambda: broker.credentials(source))


def _check_nesting(environ, profile, allowed):
    inside = environ.get(NESTING_MARKER)
    if inside and inside != profile and not allowed:
        from stsenv.oneline import quoted

        raise ConfigError(
            f"this is already a command of `stsenv exec {quoted(inside)[1:-1]}`: its credentials would be replaced by {profile!r}'s",
            "give --allow-nested to run it anyway, or leave that command first",
        )


def child_environment(environ, values, unset, profile):
    """`environ` changed as `use` would change a shell, with the nesting marker."""
    env = {name: value for name, value in environ.items() if name not in unset}
    env.update(values)
    env.pop("STSENV_PREVIOUS_PROFILE", None)
    env[NESTING_MARKER] = profile
    return env


def execute(command_line, env):
    """Become the command (execvpe): nothing of stsenv stays between it and its terminal or its parent."""
    for name in ("SIGPIPE", "SIGXFSZ"):  # Python ignores them; an ignored signal stays ignored across exec
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvpe(command_line[0], command_line, env)
    except OSError as error:
        return _not_started(command_line[0], error)


def serve_command(command_line, environ, values, unset, profile, fetch):
    """Run the command with the credentials endpoint beside it; its exit code (128+N for signal N)."""
    import subprocess

    from stsenv.credential_server import CredentialServer

    server = CredentialServer(fetch).start()
    env = child_environment(environ, values, unset, profile)
    for name in SERVER_CONFLICTS:
        env.pop(name, None)
    env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = server.url
    env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = server.token
    try:
        try:
            child = subprocess.Popen(command_line, env=env)
        except OSError as error:
            return _not_started(command_line[0], error)
        with _SignalForwarding(child):
            code = child.wait()
    finally:
        server.stop()
    return 128 - code if code < 0 else code


def _not_started(command, error):
    """The shell's words and exit codes for a command that cannot run: 127 not found, 126 not executable."""
    from stsenv.oneline import quoted

    code = EXIT_NOT_FOUND if isinstance(error, FileNotFoundError) else EXIT_NOT_EXECUTABLE
    why = "command not found" if code == EXIT_NOT_FOUND else error.strerror
    sys.stderr.write(f"stsenv: exec: {quoted(command)[1:-1]}: {why}\n")
    return code


class _SignalForwarding:
    """While the command runs: the signals sent to stsenv go to it, except those its terminal gave it too."""

    def __init__(self, child):
        self.child = child
        self.previous = {}

    def __enter__(self):
        for signum in FORWARDED_SIGNALS:
            self.previous[signum] = signal.signal(signum, self.forward)
        return self

    def __exit__(self, *exc_info):
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)

    def forward(self, signum, frame):
        if signum in TERMINAL_SIGNALS and _in_terminal_foreground():
            return  # the terminal sent it to the command as well: once is what the user asked for
        try:
            self.child.send_signal(signum)
        except ProcessLookupError:
            pass


def _in_terminal_foreground():
    """Whether this process's group (the command's too) is its terminal's foreground group."""
    try:
        fd = os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY)
    except OSError:
        return False
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        return False
    finally:
        os.close(fd)


def _warn_about_default_credentials(config):
    """SDKs read the shared files' default profile before a credentials endpoint: say so when it has credentials."""
    from stsenv import kinds, terminal

    default = config.profiles.get("default", {})
    if any(config.value(default, key) for key in kinds.CREDENTIAL_SETTINGS):
        terminal.tell(
            "stsenv: the [default] profile has credentials, which SDKs use before the --server endpoint; "
            "the command may act as that profile instead"
        )

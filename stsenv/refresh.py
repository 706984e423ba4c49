"""The rules of `stsenv use --refresh=PROFILE`, what the shells' prompt hook runs when the credentials it holds
near their end (stsenv.commands.use.refresh hands its work to renew()).

The hook evals stdout on exit 0 only, and lets stderr reach the terminal as it is. So on success this prints the
block, and on any failure exactly one line, the sentence the user reads at the prompt
(`stsenv: could not refresh prod: REASON; run `stsenv use prod` to renew`): the wording lives here, once, not in
three shells. The profile is the flag's own value, so `--refresh=-x` is a name (refused), never a flag.

A prompt never waits long. The run never asks or waits for a person (another terminal asking for the MFA code
is exit 3 at once), and ends after STSENV_REFRESH_TIMEOUT seconds (default 5) whatever it is doing. That limit
is one alarm for the whole run, not a timeout per step (lock wait, connect, read, botocore's retries and their
back-off, a configured command) nor a timer in each shell: the alarm ends any blocking call where it is, and the
exception it raises unwinds like any other, so the lock is let go and no holder or temporary file is left (a
configured command is killed on the way).
"""

import os
import signal

from stsenv.broker import Options
from stsenv.config import ADHOC_PREFIX, check_profile_name
from stsenv.errors import EXIT_LOCK, EXIT_USAGE, ConfigError, MfaAskedElsewhere, MfaNotAsked, StsenvError
from stsenv.oneline import oneline, quoted
from stsenv.settings import finite_seconds

DEFAULT_TIMEOUT = 5
EXIT_INTERRUPTED = 130
WAITING = "stsenv: waiting for "  # how the lock says whom it waits for (stsenv.lock)


class RefreshFailed(StsenvError):
    """A refresh that did not happen, as the one sentence the prompt shows, with the exit code of its cause."""

    def __init__(self, profile, reason, exit_code, shown=None):
        super().__init__(f"could not refresh {shown or oneline(profile, 100)}: {reason}")
        self.exit_code = exit_code


class _OutOfTime(BaseException):
    """Raised by the alarm. Not an Exception, so that no `except Exception` on the way (botocore's, a parser's)
    takes it for an ordinary failure and goes on."""


def renew(profile, print_block):
    """`print_block(options)` (it prints the block that renews `profile` in a shell) under the prompt's rules:
    never asking or waiting for a person, within the time limit; RefreshFailed, one sentence, for anything else."""
    _check_renewable(profile)
    said = []  # what the broker would have said on the way: only the failure is told
    try:
        budget = refresh_timeout(os.environ)
        with _Deadline(budget):
            return print_block(Options(interactive=False, for_prompt=True, tell=said.append))
    except _OutOfTime:
        waited = [line[len("stsenv: ") :] for line in said if line.startswith(WAITING)]
        doing = f" {waited[-1]}" if waited else ""
        raise RefreshFailed(profile, f"gave up after {budget:g}s{doing} (STSENV_REFRESH_TIMEOUT); {_renew(profile)}", EXIT_LOCK) from None
    except KeyboardInterrupt:
        raise RefreshFailed(profile, f"interrupted; {_renew(profile)}", EXIT_INTERRUPTED) from None
    except StsenvError as error:
        raise RefreshFailed(profile, _reason(profile, error), error.exit_code) from None


def refresh_timeout(environ):
    """Seconds a refresh may take: STSENV_REFRESH_TIMEOUT, unset or empty (as a hook passes it when the shell
    has none) for the default."""
    raw = environ.get("STSENV_REFRESH_TIMEOUT")
    return finite_seconds("STSENV_REFRESH_TIMEOUT", raw) if raw else DEFAULT_TIMEOUT


def _check_renewable(profile):
    """RefreshFailed for a name the hook cannot renew: no profile (empty, a flag, not a name), or an ad-hoc session."""
    try:
        named = check_profile_name(profile) and not profile.startswith("-")  # `-` is `use -`, the rest flags
    except ConfigError:
        named = False
    if not named:
        reason = "STSENV_PROFILE does not name a profile; run `stsenv use PROFILE`"
        raise RefreshFailed(profile, reason, EXIT_USAGE, shown=quoted(profile, 100))
    if profile.startswith(ADHOC_PREFIX):
        reason = "an ad-hoc session cannot renew itself; run the `stsenv use` or `stsenv federate` that made it again"
        raise RefreshFailed(profile, reason, EXIT_USAGE)


def _reason(profile, error):
    """What went wrong and what to do, for the sentence."""
    if isinstance(error, MfaNotAsked):
        return f"it needs an MFA code; run `stsenv use {profile}` (or `stsenv login {profile}`) to renew"
    if isinstance(error, MfaAskedElsewhere):
        return f"{error.message}; {error.hint or 'type it there'}, then {_renew(profile)}"
    return "; ".join(error.lines()) + f"; {_renew(profile)}"


def _renew(profile):
    return f"run `stsenv use {profile}` to renew"


class _Deadline:
    """`with _Deadline(seconds):` raises _OutOfTime inside the block once `seconds` have passed (SIGALRM)."""

    def __init__(self, seconds):
        self.seconds = seconds
        self._previous = None

    def __enter__(self):
        self._previous = signal.signal(signal.SIGALRM, _out_of_time)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, *exc_info):
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self._previous)


def _out_of_time(signum, frame):
    raise _OutOfTime()

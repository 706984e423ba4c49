"""stsenv's own numeric settings (STSENV_*), read from the environment a run was given: how long to wait
for another process's refresh, for a person typing an MFA code in another terminal, and for STS."""

from stsenv.errors import ConfigError

DEFAULT_LOCK_TIMEOUT = 60  # seconds to wait for another process's refresh (one STS round trip, retries included)
DEFAULT_MFA_LOCK_TIMEOUT = 300  # seconds to wait while another process waits for a person to type a code
DEFAULT_STS_READ_TIMEOUT = 10  # seconds for STS to answer one attempt: 3 attempts end inside the lock wait
# The longest wait any of these may ask for.
LONGEST_WAIT = 86400


def lock_timeouts(environ):
    """(plain, mfa) lock wait limits from STSENV_LOCK_TIMEOUT and STSENV_MFA_LOCK_TIMEOUT.

    The MFA limit applies while the holder waits for a person to type a code, and is never shorter.
    """
    plain = seconds(environ, "STSENV_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT)
    return plain, max(plain, seconds(environ, "STSENV_MFA_LOCK_TIMEOUT", DEFAULT_MFA_LOCK_TIMEOUT))


def sts_read_timeout(environ):
    return seconds(environ, "STSENV_STS_READ_TIMEOUT", DEFAULT_STS_READ_TIMEOUT)


def seconds(environ, name, default):
    """The seconds setting `name` of `environ`, else `default`."""
    raw = environ.get(name)
    if raw is None:
        return default
    return finite_seconds(name, raw)


def finite_seconds(name, raw):
    """The number of seconds in setting `name`; ConfigError for anything but a finite positive number up to
    LONGEST_WAIT (inf, 1e999 or nan would wait forever)."""
    try:
        number = float(raw)
    except ValueError:
        number = -1
    if not 0 < number <= LONGEST_WAIT:
        from stsenv.oneline import quoted

        raise ConfigError(f"{name}={quoted(raw)} must be a finite positive number of seconds, at most {LONGEST_WAIT}")
    return number

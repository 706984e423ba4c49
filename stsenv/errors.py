"""The errors stsenv reports, each carrying its exit code (the README's "Errors and exit codes")."""

EXIT_AWS = 1
EXIT_USAGE = 2
EXIT_MFA = 3
EXIT_LOCK = 4
EXIT_CANCELLED = 5


class StsenvError(Exception):
    """A failure the user can act on: printed as one `stsenv:` line, never as a traceback."""

    exit_code = EXIT_USAGE

    def __init__(self, message, hint=None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self):
        return f"{self.message} ({self.hint})" if self.hint else self.message

    def lines(self):
        """What entry prints, one `stsenv:` line each (made safe there): one line, unless a subclass has several."""
        return [str(self)]


class ConfigError(StsenvError):
    """Bad usage or configuration (exit 2)."""


class AwsError(StsenvError):
    """AWS or the network refused or failed (exit 1)."""

    exit_code = EXIT_AWS

    def __init__(self, message, hint=None, code=None):
        super().__init__(message, hint)
        self.code = code


class MfaUnavailable(StsenvError):
    """An MFA code was needed and none could be had (exit 3)."""

    exit_code = EXIT_MFA


class MfaNotAsked(MfaUnavailable):
    """A person would have to type an MFA code, and this run may not ask (--non-interactive, `use --refresh`)."""


class MfaAskedElsewhere(MfaUnavailable):
    """Another process is asking a person for the MFA code, and this run may not wait for them (`use --refresh`)."""


class LockTimeout(StsenvError):
    """Waiting for another stsenv process ran out of time (exit 4)."""

    exit_code = EXIT_LOCK


class Cancelled(StsenvError):
    """The person closed the profile picker without choosing (exit 5): nothing is printed, nothing changes."""

    exit_code = EXIT_CANCELLED

    def __init__(self):
        super().__init__("nothing chosen")

    def lines(self):
        return []

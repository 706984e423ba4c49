"""Where an MFA code comes from, in order: `--token-code`, `mfa_process`, a TOTP secret (from
`stsenv_mfa_totp_secret_process` or a 0600 `stsenv_mfa_totp_secret_file`), else the person at /dev/tty.

The code is used for exactly one STS call and never printed, logged or cached.
"""

import os
import stat
import sys

from stsenv import redact, terminal
from stsenv.configured_command import run_configured
from stsenv.errors import AwsError, ConfigError, MfaNotAsked, MfaUnavailable

TERMINAL_TRIES = 3
COMMAND_TIMEOUT = 120


def with_code(source, serial, options, call):
    """`call(code)` with a code for `serial`; a code typed at the terminal and refused by AWS is asked again."""
    attempt = 1
    while True:
        origin, code = _code(source, serial, options, attempt)
        try:
            return call(code)
        except AwsError as error:
            if origin != "terminal" or not _is_mfa_refusal(error) or attempt >= TERMINAL_TRIES:
                raise
            terminal.tell(f"stsenv: {error.message}")
            attempt += 1


def _is_mfa_refusal(error):
    return error.code == "AccessDenied" and "MultiFactorAuthentication" in error.message


def _code(source, serial, options, attempt):
    """(origin, code) from the first source of codes that is configured."""
    settings = source.private
    given = options.token_code
    if given == "-":  # from stdin: a code on the command line is visible to other users in `ps`
        return "option", _checked(sys.stdin.readline(), "--token-code - (stdin)")
    if given:
        return "option", _checked(given, "--token-code")
    if settings.get("mfa_process"):
        return "mfa_process", _checked(_run(settings["mfa_process"], "mfa_process"), "mfa_process")
    if settings.get("mfa_totp_secret_process"):
        return "totp", _totp(_run(settings["mfa_totp_secret_process"], "stsenv_mfa_totp_secret_process"))
    if settings.get("mfa_totp_secret_file"):
        return "totp", _totp(_read_secret_file(settings["mfa_totp_secret_file"]))
    return "terminal", _ask(source, serial, options, attempt)


def _ask(source, serial, options, attempt):
    profile = source.profile
    if not options.interactive:
        raise MfaNotAsked(
            f"profile {profile!r} needs an MFA code for {serial}, and this run may not ask for one",
            f"run `stsenv login {profile}` in a terminal",
        )
    if not terminal.has_tty():
        raise MfaUnavailable(
            f"profile {profile!r} needs an MFA code for {serial} and there is no terminal to ask on",
            f"run `stsenv login {profile}` in a terminal, or configure mfa_process",
        )
    from stsenv.lock import tell_waiters

    tell_waiters(asking_for_mfa=True)
    try:
        prompt = f"MFA code for {serial} ({profile}): " if attempt == 1 else f"MFA code for {serial}, try {attempt} of {TERMINAL_TRIES}: "
        for _ in range(TERMINAL_TRIES):
            answer = terminal.ask(prompt, secret=False)
            if answer is None:
                raise MfaUnavailable(f"no MFA code was entered for {serial}", f"run `stsenv login {profile}` to try again")
            answer = answer.strip()
            if _looks_like_code(answer):
                redact.remember(answer)
                return answer
            terminal.tell("stsenv: an MFA code is 6 digits")
        raise MfaUnavailable(f"no valid MFA code was entered for {serial}", f"run `stsenv login {profile}` to try again")
    finally:
        tell_waiters(asking_for_mfa=False)


def _looks_like_code(text):
    return len(text) == 6 and text.isdigit()


def _checked(code, origin):
    code = code.strip()
    redact.remember(code)
    if not _looks_like_code(code):
        raise MfaUnavailable(f"{origin} did not give a 6-digit MFA code")
    return code


def _run(command, setting):
    return run_configured(command, setting, COMMAND_TIMEOUT, unrunnable=MfaUnavailable, failed=MfaUnavailable).strip()


def _read_secret_file(path):
    path = os.path.expanduser(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as error:
        raise ConfigError(f"cannot read stsenv_mfa_totp_secret_file {path}: {error.strerror}") from None
    with os.fdopen(fd, encoding="utf-8") as handle:
        info = os.fstat(handle.fileno())
        if info.st_uid != os.geteuid() or info.st_mode & 0o077:
            raise ConfigError(
                f"refusing stsenv_mfa_totp_secret_file {path}: mode {stat.S_IMODE(info.st_mode):04o}; a TOTP secret must be private",
                f"chmod 600 {path}",
            )
        return handle.read().strip()


def _totp(secret):
    import pyotp

    secret = secret.replace(" ", "").upper()
    redact.remember(secret)
    try:
        code = pyotp.TOTP(secret).now()
    except Exception:  # pyotp raises binascii.Error / ValueError for a secret that is not base32
        raise ConfigError("the TOTP secret is not valid base32") from None
    redact.remember(code)
    return code

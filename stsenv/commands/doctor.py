"""`stsenv doctor`: find what would stop stsenv working for this user, and say how to fix each thing.

Config files that do not parse, profiles that do not resolve (a missing source, a loop), a cache that is
not private, credential_process lines that run another stsenv (or none), the shell integration not
loaded in this shell, and this machine's clock against the Date header of STS. Exit 2 when something
must be fixed; warnings alone exit 0.
"""

import os
import shlex
import shutil
import stat
import sys
import time

from stsenv import config as configuration
from stsenv import endpoints
from stsenv.cache import cache_dir
from stsenv.commands.ls import without_credentials
from stsenv.errors import EXIT_USAGE, StsenvError
from stsenv.resolution import resolve

OK, WARN, FAIL = "ok", "warn", "FAIL"
SKEW_WARN = 60  # seconds: worth fixing before it grows
SKEW_FAIL = 300  # AWS refuses requests signed more than 5 minutes off its clock
SHELL_METACHARACTERS = set("|&;<>()$`\\\"'*?[]#~{}!")
RC_LINES = {
    "bash": ('eval "$(stsenv init bash)"', "~/.bashrc"),
    "zsh": ('eval "$(stsenv init zsh)"', "~/.zshrc"),
    "fish": ("stsenv init fish | source", "~/.config/fish/config.fish"),
}


def register(commands):
    parser = commands.add_parser("doctor", help="check config, cache, credential_process lines, shell integration and clock")
    parser.add_argument("--no-clock", dest="clock", action="store_false", help="skip the clock check (it contacts STS)")
    parser.set_defaults(func=run)


def run(args):
    environ = os.environ
    findings = []
    config = _check_config(environ, findings)
    if config is not None:
        _check_profiles(config, findings)
        _check_credential_processes(config, environ, findings)
    _check_cache(cache_dir(environ), findings)
    _check_shell_integration(environ, findings)
    if args.clock:
        _check_clock(config, environ, findings)
    for level, what, fix in findings:
        sys.stdout.write(f"{level:<5} {what}\n" + (f"      fix: {fix}\n" if fix else ""))
    failures = sum(1 for level, _, _ in findings if level == FAIL)
    warnings = sum(1 for level, _, _ in findings if level == WARN)
    sys.stdout.write(f"stsenv doctor: {_count(failures, 'problem')}, {_count(warnings, 'warning')}\n")
    return EXIT_USAGE if failures else 0


def _count(number, noun):
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _check_config(environ, findings):
    config_path, credentials_path = configuration.config_paths(environ)
    try:
        config = configuration.AwsConfig(environ)
    except StsenvError as error:
        findings.append((FAIL, str(error), "correct that line; `aws configure list` shows what the aws CLI makes of the file"))
        return None
    findings.append((OK, f"{config_path} and {credentials_path} parse ({_count(len(config.profiles), 'profile')})", None))
    try:
        mode = stat.S_IMODE(os.stat(credentials_path).st_mode)
    except OSError:
        mode = 0
    if mode & 0o077:
        findings.append((WARN, f"{credentials_path} holds long-lived keys and others may read it (mode {mode:04o})", f"chmod 600 {credentials_path}"))
    for section in config.stray_sections:
        findings.append((WARN, f"[{section}] in {config_path} is not a profile: botocore and stsenv ignore it", f"rename it [profile {section}]"))
    return config


def _check_profiles(config, findings):
    broken = 0
    for name in sorted(config.profiles):
        try:
            resolve(config, name)
        except StsenvError as error:
            if without_credentials(config, name):
                continue  # settings only (a [default] with a region), or SSO: nothing stsenv should resolve
            broken += 1
            findings.append((FAIL, f"profile {name!r}: {error.message}", error.hint or f"edit [profile {name}] in {config.config_path}"))
    if not broken:
        findings.append((OK, "every profile resolves to a source of credentials", None))


def _check_credential_processes(config, environ, findings):
    """Each `credential_process = ... stsenv serve X` must run this stsenv, and need no shell."""
    this = _this_stsenv()
    for name in sorted(config.profiles):
        line = config.profiles[name].get("credential_process")
        if configuration.served_profile(line) is None:
            continue
        where = f"credential_process of profile {name!r}"
        special = sorted(SHELL_METACHARACTERS.intersection(line))
        if special:
            findings.append((FAIL, f"{where} has shell characters ({' '.join(special)}); botocore runs it without a shell", "write just `stsenv serve PROFILE`, or the full path to stsenv"))
            continue
        words = shlex.split(line)
        program = next(word for word in words if os.path.basename(word) == "stsenv")
        found = shutil.which(program, path=environ.get("PATH")) if os.sep not in program else program
        if found is None or not os.path.exists(found):
            findings.append((FAIL, f"{where} runs `{program}`, which does not exist or is not on PATH", f"use the full path of this stsenv: {this or 'see `which stsenv`'}"))
        elif this is not None and os.path.realpath(found) != os.path.realpath(this):
            findings.append((FAIL, f"{where} runs {found}, a different stsenv from this one ({this})", f"point it at {this}, or remove the other installation"))
        else:
            findings.append((OK, f"{where} runs this stsenv", None))


def _this_stsenv():
    """The console script of this installation, or None when it cannot be told (run as `python -m stsenv`)."""
    if os.path.basename(sys.argv[0]) == "stsenv" and os.path.exists(sys.argv[0]):
        return os.path.abspath(sys.argv[0])
    beside_python = os.path.join(os.path.dirname(sys.executable), "stsenv")
    return beside_python if os.path.exists(beside_python) else None


def _check_cache(directory, findings):
    try:
        info = os.lstat(directory)
    except FileNotFoundError:
        findings.append((OK, f"cache {directory} does not exist yet (it is made 0700 on first use)", None))
        return
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        findings.append((FAIL, f"cache {directory} is not a plain directory (a symlink?)", f"rm {directory} (or set STSENV_CACHE_DIR)"))
        return
    if info.st_uid != os.geteuid():
        findings.append((FAIL, f"cache {directory} belongs to uid {info.st_uid}, not you", f"rm -r {directory} (or set STSENV_CACHE_DIR)"))
        return
    problems = 0
    if stat.S_IMODE(info.st_mode) != 0o700:
        problems += 1
        findings.append((FAIL, f"cache {directory} is mode {stat.S_IMODE(info.st_mode):04o}: others may read credentials", f"chmod 700 {directory}"))
    for entry in sorted(os.scandir(directory), key=lambda entry: entry.name):
        problem = _cache_file_problem(entry)
        if problem:
            problems += 1
            findings.append((FAIL, f"cache file {entry.path} {problem[0]}", problem[1]))
    if not problems:
        findings.append((OK, f"cache {directory} is private", None))


def _cache_file_problem(entry):
    """(what is wrong, fix) for one file of the cache directory, or None."""
    info = entry.stat(follow_symlinks=False)
    if stat.S_ISLNK(info.st_mode):
        return "is a symlink; stsenv never follows one", f"rm {entry.path}"
    if not stat.S_ISREG(info.st_mode):
        return "is not a regular file", f"rm -r {entry.path}"
    if info.st_uid != os.geteuid():
        return f"belongs to uid {info.st_uid}", f"rm {entry.path}"
    if info.st_mode & 0o077:
        return f"is mode {stat.S_IMODE(info.st_mode):04o}, not 0600", f"rm {entry.path}, or `stsenv logout --all`"
    if entry.name.endswith(".json") and not entry.name.startswith("."):
        import json

        try:
            with open(entry.path, encoding="utf-8") as handle:
                json.load(handle)
        except (OSError, ValueError):
            return "is not a JSON cache entry (stsenv ignores it)", f"rm {entry.path}"
    return None


def _check_shell_integration(environ, findings):
    """The integration exports STSENV_SHELL_INTEGRATION (the shell's name) where `stsenv init` was evaluated."""
    loaded = environ.get("STSENV_SHELL_INTEGRATION")
    if loaded:
        findings.append((OK, f"the {loaded} integration is loaded in this shell", None))
        return
    shell = os.path.basename(environ.get("SHELL") or "")
    line, rc_file = RC_LINES.get(shell, RC_LINES["bash"])
    findings.append((WARN, "the shell integration is not loaded in this shell (`stsenv use` prints instead of switching; no prompt or refresh)", f"add `{line}` to {rc_file} and open a new shell"))


def _check_clock(config, environ, findings):
    """Compare this machine's clock with the Date header of the STS endpoint of AWS_PROFILE (or default)."""
    import email.utils
    if config is None:  # the files do not parse: the environment's endpoint, else the global one
        url = environ.get("AWS_ENDPOINT_URL_STS") or environ.get("AWS_ENDPOINT_URL") or "https://sts.amazonaws.com"
    else:
        try:
            url = endpoints.sts_endpoint(config, config.profiles.get(environ.get("AWS_PROFILE") or "default", {}))["endpoint"]
        except StsenvError as error:
            findings.append((WARN, f"cannot tell which STS endpoint to ask for the time: {error.message}", None))
            return
    sent = time.time()
    try:
        date = _date_header(url)
    except (OSError, ValueError) as error:
        findings.append((WARN, f"cannot reach STS at {url} to compare clocks ({error})", None))
        return
    received = time.time()
    if not date:
        findings.append((WARN, f"STS at {url} sent no Date header to compare clocks with", None))
        return
    skew = (sent + received) / 2 - email.utils.parsedate_to_datetime(date).timestamp()
    ahead = "ahead of" if skew > 0 else "behind"
    if abs(skew) >= SKEW_FAIL:
        findings.append((FAIL, f"this machine's clock is {abs(skew):.0f}s {ahead} STS ({url}): AWS refuses requests more than 300s off", "sync the clock (e.g. `timedatectl set-ntp true`)"))
    elif abs(skew) >= SKEW_WARN:
        findings.append((WARN, f"this machine's clock is {abs(skew):.0f}s {ahead} STS ({url})", "sync the clock (e.g. `timedatectl set-ntp true`)"))
    else:
        findings.append((OK, f"clock agrees with STS ({url}) within {SKEW_WARN}s", None))


def _date_header(url):
    """The Date header of one unsigned GET of `url` (redirects not followed: they lead away from STS)."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.hostname, parts.port, timeout=5)
    try:
        connection.request("GET", parts.path or "/")
        return connection.getresponse().getheader("Date")
    finally:
        connection.close()

"""`stsenv doctor`: find what would stop stsenv working for this user, and say how to fix each thing.

Config files that are missing or do not parse, misspelled keys, profiles that `serve` would refuse (the
same resolution and the same checks of AWS's limits it makes before its first STS call, without calling
STS), a cache that is not private, credential_process lines that run another stsenv (or none) or that
botocore never runs, the shell integration not loaded in this shell, and this machine's clock against the
Date header of STS. Exit 2 when something must be fixed; warnings alone exit 0.
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
# The keys botocore and the aws CLI read in a profile (botocore 1.40's session variables, credential
# providers and the CLI's own settings): a key close to one of these, or to one of stsenv's, is named.
BOTOCORE_KEYS = frozenset(
    "region output ca_bundle api_versions data_path parameter_validation tcp_keepalive max_attempts retry_mode "
    "defaults_mode endpoint_url services ignore_configured_endpoint_urls sts_regional_endpoints use_fips_endpoint "
    "use_dualstack_endpoint endpoint_discovery_enabled account_id_endpoint_mode auth_scheme_preference "
    "sigv4a_signing_region_set request_checksum_calculation response_checksum_validation "
    "disable_request_compression request_min_compression_size_bytes disable_host_prefix_injection sdk_ua_app_id "
    "csm_enabled csm_host csm_port csm_client_id metadata_service_timeout metadata_service_num_attempts "
    "ec2_metadata_service_endpoint ec2_metadata_service_endpoint_mode ec2_metadata_v1_disabled imds_use_ipv6 "
    "s3 s3_disable_express_session_auth aws_access_key_id aws_secret_access_key aws_session_token aws_security_token "
    "aws_account_id role_arn source_profile credential_source external_id mfa_serial role_session_name "
    "duration_seconds web_identity_token_file credential_process sso_session sso_start_url sso_region "
    "sso_account_id sso_role_name sso_registration_scopes login_session cli_pager cli_timestamp_format "
    "cli_follow_urlparam cli_binary_format cli_auto_prompt cli_history".split()
)
STSENV_KEYS = frozenset(configuration.PREFIX + key for key in configuration.SETTING_KEYS)
KNOWN_KEYS = BOTOCORE_KEYS | configuration.SETTING_KEYS | configuration.PLAIN_KEYS | STSENV_KEYS
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
        _check_keys(config, findings)
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
    present = [path for path in (config_path, credentials_path) if os.path.exists(path)]
    if present:
        verb = "parse" if len(present) == 2 else "parses"
        findings.append((OK, f"{' and '.join(present)} {verb} ({_count(len(config.profiles), 'profile')})", None))
    _check_missing(environ, "AWS_CONFIG_FILE", config_path, findings)
    _check_missing(environ, "AWS_SHARED_CREDENTIALS_FILE", credentials_path, findings)
    try:
        mode = stat.S_IMODE(os.stat(credentials_path).st_mode)
    except OSError:
        mode = 0
    if mode & 0o077:
        findings.append((WARN, f"{credentials_path} holds long-lived keys and others may read it (mode {mode:04o})", f"chmod 600 {credentials_path}"))
    for section in config.stray_sections:
        findings.append((WARN, f"[{section}] in {config_path} is not a profile: botocore and stsenv ignore it", f"rename it [profile {section}]"))
    return config


def _check_missing(environ, variable, path, findings):
    """A config or credentials file that does not exist: a mistake when a variable names it, else said."""
    if os.path.exists(path):
        return
    if environ.get(variable):
        default = "~/.aws/config" if variable == "AWS_CONFIG_FILE" else "~/.aws/credentials"
        findings.append((FAIL, f"{variable} names {path}, which does not exist", f"correct {variable}, or unset it to read {default}"))
    elif variable == "AWS_CONFIG_FILE":
        findings.append((WARN, f"{path} does not exist: no profile is configured there", "`stsenv configure PROFILE --role-arn ARN --source-profile SOURCE` writes one"))
    else:
        findings.append((OK, f"{path} does not exist (no long-lived keys there)", None))


def _check_keys(config, findings):
    """A key no one reads: an unknown `stsenv_` key (stsenv owns the prefix) is a problem; another key close
    to one that stsenv or botocore reads is probably misspelled (a key of another tool is left alone)."""
    from difflib import get_close_matches

    for name in sorted(config.profiles):
        for key in sorted(set(config.profiles[name]) - KNOWN_KEYS):
            ours = key.startswith(configuration.PREFIX)
            close = get_close_matches(key, sorted(STSENV_KEYS if ours else KNOWN_KEYS), n=1, cutoff=0.8)
            if not ours and not close:
                continue
            mean = f" (did you mean {close[0]}?)" if close else ""
            fix = f"rename it to {close[0]}" if close else "remove it (the README's Configure section lists the keys stsenv reads)"
            findings.append((FAIL if ours else WARN, f"profile {name!r}: {key} is not a setting stsenv or botocore reads{mean}", fix))


def _check_profiles(config, findings):
    """The checks `serve` makes before its first STS call: the profile resolves, and every call of its
    chain is within AWS's limits (stsenv.validate, as the broker runs it)."""
    from stsenv import validate

    broken = 0
    for name in sorted(config.profiles):
        try:
            source = resolve(config, name)
        except StsenvError as error:
            if without_credentials(config, name):
                continue  # settings only (a [default] with a region): nothing stsenv should resolve
            broken += 1
            findings.append((FAIL, _of_profile(name, error.message), error.hint or f"edit [profile {name}] in {config.config_path}"))
            continue
        for node in source.chain():
            try:
                validate.source(node)
            except validate.Invalid as invalid:
                broken += 1
                fix = f"edit [profile {node.profile}] in {config.config_path}"
                findings.extend((FAIL, _of_profile(name, problem), fix) for problem in invalid.problems)
    if not broken:
        findings.append((OK, "every profile resolves to a source of credentials within AWS's limits", None))


def _of_profile(name, problem):
    """`problem` as a finding of profile `name`, which it names already or is prefixed with."""
    return problem if f"of profile {name!r}" in problem or problem.startswith(f"profile {name!r}") else f"profile {name!r}: {problem}"


def _check_credential_processes(config, environ, findings):
    """Each `credential_process = ... stsenv serve X` must run this stsenv, and need no shell."""
    this = _this_stsenv()
    for name in sorted(config.profiles):
        line = config.profiles[name].get("credential_process")
        if configuration.served_profile(line) is None:
            continue
        where = f"credential_process of profile {name!r}"
        clashing = [key for key in configuration.BOTOCORE_BEFORE_PROCESS if config.profiles[name].get(key)]
        if clashing:
            findings.append((FAIL, f"profile {name!r} runs stsenv serve but also has {', '.join(clashing)}: botocore acts on that first, so the aws CLI and SDKs never run stsenv", _clash_fix(clashing)))
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


def _clash_fix(keys):
    renamed = [f"{key} to {configuration.PREFIX}{key}" for key in keys if key in configuration.SETTING_KEYS]
    others = [key for key in keys if key not in configuration.SETTING_KEYS]
    source = f" (and source_profile to {configuration.PREFIX}source_profile)" if "role_arn" in keys else ""
    fixes = [f"rename {', '.join(renamed)}{source}"] if renamed else []
    fixes += [f"remove {', '.join(others)}, or serve another profile"] if others else []
    return "; ".join(fixes)


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
    findings.append((WARN, "the shell integration is not loaded in this shell (`stsenv use` cannot switch it; no prompt or refresh)", f"add `{line}` to {rc_file} and open a new shell"))


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

"""Secrets: no secret access key, session token, MFA code or TOTP secret in stderr, --debug output,
exceptions, the process title, or any file but the 0600 cache.

One test drives a day of use (cold and warm runs, every output format, MFA codes from the option, a TOTP
secret and mfa_process, AWS refusals, a damaged cache, the fallback, ls/whoami/login/logout/doctor), all with
--debug, and then greps every output it saw and every file under the test's root for every secret.
"""

import json
import os
import re
import stat
import sys
import time

import pyotp
import pytest

from reliakit import Paused, entry_path, files_under, run, set_remaining
from stsenv import main, redact
from stsenv.credentials import Credentials
from stsenv.errors import AwsError


class Secrets:
    """Every secret of the test: long-lived keys, TOTP seeds, MFA codes, and everything STS issued."""

    def __init__(self):
        self.long_lived = set()
        self.seeds = set()
        self.codes = set()
        self.issued = set()

    def all(self):
        return self.long_lived | self.seeds | self.issued

    def found_in(self, text):
        hits = [secret for secret in self.all() if secret in text]
        hits += [code for code in self.codes if re.search(rf"(?<!\d){code}(?!\d)", text)]
        return hits

    def learn_from_output(self, stdout):
        """Issued credentials from serve JSON, use's blocks, json and dotenv formats."""
        try:
            data = json.loads(stdout)
        except ValueError:
            data = {}
        for name in ("SecretAccessKey", "SessionToken", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            if isinstance(data, dict) and data.get(name):
                self.issued.add(data[name])
        for match in re.finditer(r"(?:AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN)[= ]'?\"?([A-Za-z0-9+/=]{20,})", stdout):
            self.issued.add(match.group(1))


class Day:
    def __init__(self, world, home, sts, tmp_path):
        self.home, self.sts = home, sts
        self.secrets = Secrets()
        self.outputs = []  # (label, stdout, stderr, stdout may hold credentials)
        self.secrets.long_lived.add(world.alice["secret_access_key"])
        self.totp_files = []
        credentials = home.credentials.read_text()
        config = home.config.read_text()
        for user in ("bob", "carol", "dave"):
            keys = sts.create_user(user)
            serial, seed = sts.create_virtual_mfa(user)
            self.secrets.long_lived.add(keys["secret_access_key"])
            self.secrets.seeds.add(seed)
            setattr(self, user, (serial, seed))
            credentials += f"\n[{user}-keys]\naws_access_key_id = {keys['access_key_id']}\naws_secret_access_key = {keys['secret_access_key']}\n"
            role = sts.create_role(f"{user}-role", require_mfa=True)
            config += f"\n[profile {user}-keys]\nmfa_serial = {serial}\n"
            config += f"\n[profile {user}]\nrole_arn = {role}\nsource_profile = {user}-keys\n"
        seed_file = tmp_path / "carol.totp"
        seed_file.write_text(self.carol[1])
        os.chmod(seed_file, 0o600)
        config = config.replace(
            f"\n[profile carol-keys]\nmfa_serial = {self.carol[0]}\n",
            f"\n[profile carol-keys]\nmfa_serial = {self.carol[0]}\nstsenv_mfa_totp_secret_process = cat {seed_file}\n",
        )
        dave_seed = tmp_path / "dave.seed"
        dave_seed.write_text(self.dave[1])
        os.chmod(dave_seed, 0o600)
        script = tmp_path / "dave-code.py"
        script.write_text(f"import pyotp\nprint(pyotp.TOTP(open({str(dave_seed)!r}).read().strip()).now())\n")
        config = config.replace(
            f"\n[profile dave-keys]\nmfa_serial = {self.dave[0]}\n",
            f"\n[profile dave-keys]\nmfa_serial = {self.dave[0]}\nmfa_process = {sys.executable} {script}\n",
        )
        self.totp_files = [seed_file, dave_seed]
        home.write_credentials(credentials)
        home.write_config(config)

    def codes_now(self):
        for _, seed in (self.bob, self.carol, self.dave):
            totp = pyotp.TOTP(seed)
            for offset in (-30, 0, 30):
                self.secrets.codes.add(totp.at(int(time.time()) + offset))

    def run(self, label, *args, credentials_out=False, env=None):
        self.codes_now()
        result = run(self.home, *args, env=env)
        self.codes_now()
        if credentials_out:
            self.secrets.learn_from_output(result.stdout)
        self.outputs.append((label, result.stdout, result.stderr, credentials_out))
        return result


@pytest.fixture
def day(world, home, sts, tmp_path):
    return Day(world, home, sts, tmp_path)


def test_no_secret_in_any_output_or_file_but_the_cache(day, home, sts):
    d = day
    d.run("cold serve", "--debug", "serve", "prod", credentials_out=True)
    d.run("warm serve", "serve", "prod", "--debug", credentials_out=True)
    for shell in ("bash", "zsh", "fish"):
        d.run(f"use {shell}", "--debug", "use", "prod", "--shell", shell, credentials_out=True)
    for fmt in ("json", "dotenv"):
        d.run(f"use {fmt}", "--debug", "use", "prod-role", "--format", fmt, credentials_out=True)
    d.run("served chain", "--debug", "serve", "prod-served", credentials_out=True)

    bob_code = pyotp.TOTP(d.bob[1]).now()
    d.secrets.codes.add(bob_code)
    wrong = "000000" if bob_code != "000000" else "111111"
    d.secrets.codes.add(wrong)
    assert d.run("wrong code", "--debug", "login", "bob-keys", "--token-code", wrong).returncode == 1
    assert d.run("login", "--debug", "login", "bob-keys", "--token-code", bob_code).returncode == 0
    assert d.run("mfa role", "--debug", "use", "bob", "--non-interactive", credentials_out=True).returncode == 0
    assert d.run("totp", "--debug", "serve", "carol", credentials_out=True).returncode == 0
    assert d.run("mfa_process", "--debug", "use", "dave", "--format", "json", credentials_out=True).returncode == 0

    for kind in ("access_denied", "expired_token", "malformed", "throttle"):
        sts.inject_fault("AssumeRole", kind, 3)
        d.run(f"fault {kind}", "--debug", "serve", "prod-role", env={"STSENV_CACHE_DIR": str(home.root / f"cold-{kind}")})
        sts.clear_faults()
    set_remaining(entry_path(home), 600)
    sts.inject_fault("AssumeRole", "503", 3)
    d.run("fallback", "--debug", "serve", "prod", credentials_out=True)
    sts.clear_faults()
    os.chmod(entry_path(home, "prod-role"), 0o644)
    d.run("hostile cache", "--debug", "serve", "prod-role", credentials_out=True)
    for label, args in (("ls", ("ls",)), ("whoami", ("whoami", "--profile", "prod")), ("doctor", ("doctor",)), ("logout", ("logout", "bob-keys"))):
        assert d.run(label, "--debug", *args).returncode in (0, 1), label  # doctor may find faults to report

    assert d.secrets.issued and len(d.secrets.codes) >= 3
    for label, stdout, stderr, credentials_out in d.outputs:
        assert not d.secrets.found_in(stderr), f"{label}: secret on stderr: {stderr}"
        if not credentials_out:
            assert not d.secrets.found_in(stdout), f"{label}: secret on stdout: {stdout}"
        else:  # the credentials asked for, and nothing else secret
            assert not (d.secrets.long_lived | d.secrets.seeds) & set(d.secrets.found_in(stdout)), label
            assert not [c for c in d.secrets.codes if re.search(rf"(?<!\d){c}(?!\d)", stdout)], label
    assert any("stsenv[debug]" in stderr for _, _, stderr, _ in d.outputs), "--debug printed something to check"

    cache_entries = []
    for path in files_under(home.root):
        text = path.read_bytes().decode("utf-8", errors="replace")
        hits = set(d.secrets.found_in(text))
        if not hits:
            continue
        if path == home.credentials:
            assert hits <= d.secrets.long_lived, path
        elif path in d.totp_files:
            assert hits <= d.secrets.seeds, path
        else:
            assert hits <= d.secrets.issued, f"{path} holds {hits & (d.secrets.long_lived | d.secrets.seeds | d.secrets.codes)}"
            assert path.suffix == ".json" and path.parent.parent == home.root, path  # a cache directory of this test
            assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700, path
            cache_entries.append(path)
    assert cache_entries


def test_process_title_and_environment_hold_no_secret(day, home, sts):
    """Paused once the MFA session (TOTP code from a secret) is written: what `ps` can see of the process."""
    paused = Paused(home, "after-replace", "serve", "carol")
    try:
        proc = f"/proc/{paused.pid}"
        seen = {name: open(f"{proc}/{name}", "rb").read().decode(errors="replace") for name in ("cmdline", "comm", "environ")}
        (session,) = [p for p in home.cache.glob("carol-keys.*.json")]
        entry_data = json.loads(session.read_text())
    finally:
        paused.kill()
    day.codes_now()
    day.secrets.issued |= {entry_data["SecretAccessKey"], entry_data["SessionToken"]}
    for name, text in seen.items():
        assert not day.secrets.found_in(text), f"/proc/PID/{name}: {text!r}"
    assert "serve\0carol" in seen["cmdline"]


def test_internal_error_traceback_under_debug_is_scrubbed(monkeypatch, capsys):
    monkeypatch.delenv("STSENV_DEBUG", raising=False)  # main() sets it for --debug; restored afterwards
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzSECRETKEY1"
    Credentials("ASIAEXAMPLEEXAMPLE01", secret, "token-" + secret)

    def broken(argv):
        raise RuntimeError(f"something went wrong with {secret}")

    monkeypatch.setattr(main, "_dispatch", broken)
    assert main.main(["serve", "prod"]) == 70
    quiet = capsys.readouterr().err
    assert quiet == "stsenv: internal error (RuntimeError); run with --debug for details and report it\n"
    assert main.main(["--debug", "serve", "prod"]) == 70
    loud = capsys.readouterr().err
    assert "Traceback" in loud and "something went wrong with ****" in loud
    assert secret not in loud


def test_error_messages_and_reprs_are_scrubbed(monkeypatch, capsys):
    secret = "another/SECRET+value/thatAWSissued0000000"
    credentials = Credentials("ASIAEXAMPLEEXAMPLE02", secret, "FQoG" + secret)
    assert secret not in repr(credentials)

    def refused(argv):
        raise AwsError(f"AssumeRole refused: the server echoed {secret}")

    monkeypatch.setattr(main, "_dispatch", refused)
    assert main.main(["serve", "prod"]) == 1
    err = capsys.readouterr().err
    assert secret not in err and "****" in err
    assert redact.scrub(f"x {secret} y") == "x **** y"


def test_no_secret_on_stderr_in_any_run_of_the_suite(world, home, sts):
    """Every `run()` of the reliability suite so far (this file runs last of them; run alone, it checks its
    own runs): no credential any run printed, and no long-lived secret, ever appears on any stderr."""
    import reliakit

    run(home, "--debug", "serve", "prod")
    run(home, "--debug", "use", "prod", "--shell", "fish")
    issued = set()
    for _, stdout, _, _ in reliakit.RUNS:
        found = Secrets()
        found.learn_from_output(stdout)
        issued |= found.issued
    assert issued
    for args, stdout, stderr, long_lived in reliakit.RUNS:
        leaked = [secret for secret in issued | long_lived if secret in stderr]
        assert not leaked, f"stsenv {' '.join(args)}: {stderr}"
    print(f"{len(reliakit.RUNS)} runs checked against {len(issued)} issued secrets")

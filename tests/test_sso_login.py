"""Signing in from the terminal (stsenv.sso.device_login) in real processes (tests/ssodriver.py): the device
flow end to end, the token and registration files the aws CLI reads, polling rules, refusals (exit 3),
where the code is shown, when a browser is opened, and one flow for concurrent logins of a session."""

import hashlib
import json
import os
import re
import subprocess
import sys
import threading
import time

import pexpect
import pytest
from localsso import token_cache_path
from test_sso_token import ACCOUNT, DRIVER, SsoWorld

from stsenv.sso import settings as sso_settings

CODE = re.compile(r"\b([B-Z]{4}-[B-Z]{4})\b")


@pytest.fixture
def world(home, sso):
    return SsoWorld(home, sso)


class Login:
    """`ssodriver.py login ...` without a terminal, stderr read as it comes."""

    def __init__(self, world, *args, env=None):
        self.process = world.driver(*args, env=env)
        self.lines = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.process.stderr:
            self.lines.append(line)

    def wait_for(self, pattern, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                match = re.search(pattern, line)
                if match:
                    return match
            if self.process.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.02)
        raise AssertionError(f"{pattern!r} not seen in {self.lines!r}")

    def code(self):
        return self.wait_for(CODE).group(1)

    def finish(self, expected=0):
        stdout = self.process.stdout.read()
        self.process.wait(timeout=120)
        self._reader.join(timeout=10)
        assert self.process.returncode == expected, (stdout, self.lines)
        return stdout, "".join(self.lines)


def registration_file(home, start_url, region, scopes, session):
    """The aws CLI v2's registration cache key (BaseSSOTokenFetcher._registration_cache_key), written out here."""
    args = {"tool": "botocore", "startUrl": start_url, "region": region, "scopes": scopes, "session_name": session}
    return home.path / ".aws" / "sso" / "cache" / (hashlib.sha1(json.dumps(args, sort_keys=True).encode()).hexdigest() + ".json")


def test_device_login_writes_the_token_and_registration_the_aws_cli_reads(world, sso, home):
    login = Login(world, "login", "dev", "--no-browser")
    code = login.code()
    sso.approve(code)
    stdout, stderr = login.finish()
    assert stdout.startswith("signed in until ") and str(world.token_path()) in stdout
    assert f"open {sso.oidc_url}/device and enter the code {code}" in stderr and f"user_code={code}" in stderr
    token = world.read_token()
    assert list(token) == ["startUrl", "region", "accessToken", "expiresAt", "clientId", "clientSecret", "registrationExpiresAt", "refreshToken"]
    assert token["startUrl"] == sso.start_url and sso.access_token_valid(token["accessToken"])
    registration = json.loads(registration_file(home, sso.start_url, "us-east-1", ["sso:account:access"], "corp").read_text())
    assert registration == {"clientId": token["clientId"], "clientSecret": token["clientSecret"], "expiresAt": token["registrationExpiresAt"], "scopes": ["sso:account:access"]}
    assert world.aws_identity("dev") == sso.assumed_role_arn(ACCOUNT, "Developer")
    assert [sso.calls(op) for op in ("RegisterClient", "StartDeviceAuthorization")] == [1, 1]
    assert "SlowDownException" not in [entry["error"] for entry in sso.call_log()]
    assert token["accessToken"] not in stderr + stdout and token["clientSecret"] not in stderr + stdout


def test_a_valid_token_needs_no_login_and_force_reuses_the_registration(world, sso):
    world.write_token(expires_in=3000)
    stdout, _ = Login(world, "login", "dev", "--no-browser").finish()
    assert stdout.startswith("already signed in until ") and sso.calls() == 0
    first = Login(world, "login", "dev", "--no-browser", "--force")
    sso.approve(first.code())
    first.finish()
    second = Login(world, "login", "dev", "--no-browser", "--force")
    sso.approve(second.code())
    second.finish()
    assert [sso.calls(op) for op in ("RegisterClient", "StartDeviceAuthorization")] == [1, 2]


def test_aws_sso_login_reuses_the_registration_stsenv_made(world, sso, aws_v2):
    login = Login(world, "login", "dev", "--no-browser")
    sso.approve(login.code())
    login.finish()
    child = pexpect.spawn(aws_v2, ["sso", "login", "--no-browser", "--use-device-code", "--profile", "dev"], env=world.env, encoding="utf-8", timeout=60)
    child.expect(CODE.pattern)
    sso.approve(child.match.group(1))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert sso.calls("RegisterClient") == 1 and sso.calls("StartDeviceAuthorization") == 2


def test_a_legacy_profile_signs_in_without_scopes_and_gets_no_refresh_token(world, sso, home, sts):
    login = Login(world, "login", "legacy", "--no-browser")
    sso.approve(login.code())
    login.finish()
    token = json.loads(token_cache_path(home.path, sso.start_url).read_text())
    assert "refreshToken" not in token and sso.access_token_valid(token["accessToken"])
    assert registration_file(home, sso.start_url, "us-east-1", None, None).exists()
    assert world.aws_identity("legacy") == sso.assumed_role_arn(ACCOUNT, "Developer")


def test_a_session_signs_in_on_its_own_for_all_its_profiles(world, sso):
    login = Login(world, "login-session", "corp", "--no-browser")
    sso.approve(login.code())
    login.finish()
    assert world.fetch("dev").identity == f"Developer@{ACCOUNT}"


def test_slow_down_adds_five_seconds_to_the_interval(world, sso):
    sso.inject_error("CreateToken", "SlowDownException", "Client is polling too fast")
    login = Login(world, "login", "dev", "--no-browser")
    sso.approve(login.code())
    arrivals = []
    while sso.calls("CreateToken") < 2 and time.monotonic() < (arrivals[0] if arrivals else time.monotonic()) + 30:
        if sso.calls("CreateToken") == 1 and not arrivals:
            arrivals.append(time.monotonic())
        time.sleep(0.02)
    arrivals.append(time.monotonic())
    login.finish()
    assert [entry["error"] for entry in sso.call_log() if entry["operation"] == "CreateToken"] == ["SlowDownException", None]
    assert arrivals[1] - arrivals[0] >= 5.5  # the interval (1 s) and the 5 s slow_down adds


@pytest.mark.parametrize("how", ["refused", "deadline"])
def test_a_code_that_expires_is_exit_3_and_writes_nothing(world, sso, how):
    if how == "refused":
        sso.inject_error("CreateToken", "ExpiredTokenException", "Device code has expired")
    else:
        sso.configure(device_code_lifetime=2)
    login = Login(world, "login", "dev", "--no-browser")
    code = login.code()
    _, stderr = login.finish(expected=3)
    assert stderr.splitlines()[-1] == (
        f"stsenv: not signed in to IAM Identity Center (sso-session corp): the code {code} expired before it was approved "
        "(run `stsenv login dev`, or `aws sso login --sso-session corp`)"
    )
    assert not world.token_path().exists()


def test_a_denied_sign_in_is_exit_3(world, sso):
    login = Login(world, "login", "dev", "--no-browser")
    code = login.code()
    sso.deny(code)
    _, stderr = login.finish(expected=3)
    assert f"the sign-in with code {code} was denied" in stderr.splitlines()[-1]
    assert not world.token_path().exists()


def recorder(tmp_path):
    opened = tmp_path / "opened"
    browser = tmp_path / "browser"
    browser.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> {opened}\n')
    browser.chmod(0o755)
    return browser, opened


@pytest.mark.parametrize(
    ("display", "no_browser", "opens"),
    [({}, False, False), ({"DISPLAY": ":0"}, True, False), ({"DISPLAY": ":0"}, False, True), ({"WAYLAND_DISPLAY": "wayland-0"}, False, True)],
)
def test_a_browser_is_opened_only_where_one_can_be(world, sso, tmp_path, display, no_browser, opens):
    browser, opened = recorder(tmp_path)
    env = {"BROWSER": str(browser), **display}
    login = Login(world, "login", "dev", *(["--no-browser"] if no_browser else []), env=env)
    code = login.code()
    login.wait_for("waiting for the approval")
    sso.approve(code)
    _, stderr = login.finish()
    if opens:
        assert opened.read_text() == f"{sso.oidc_url}/device?user_code={code}\n" and "opened it in your browser" in stderr
    else:
        assert not opened.exists()


def test_a_hostile_device_authorization_opens_nothing_and_prints_nothing_raw(world, sso, tmp_path):
    browser, opened = recorder(tmp_path)
    answer = {"deviceCode": "d" * 40, "userCode": "\x1b]0;owned\x07ABCD", "verificationUri": "https://x.test", "expiresIn": 600, "interval": 1}
    sso.inject_reply("StartDeviceAuthorization", json.dumps(answer))
    _, stderr = Login(world, "login", "dev", env={"BROWSER": str(browser), "DISPLAY": ":0"}).finish(expected=1)
    assert "StartDeviceAuthorization: the answer's userCode" in stderr and "\\x1b" in stderr and "\x1b" not in stderr
    answer.update(userCode="ABCD-EFGH", verificationUriComplete="javascript:alert(document.cookie)")
    sso.inject_reply("StartDeviceAuthorization", json.dumps(answer))
    sso.inject_error("CreateToken", "AuthorizationPendingException", "Authorization is still pending")  # then its code is unknown
    _, stderr = Login(world, "login", "dev", env={"BROWSER": str(browser), "DISPLAY": ":0"}).finish(expected=1)
    assert "or open javascript:alert(document.cookie)" in stderr and "InvalidGrantException" in stderr.splitlines()[-1]
    assert not opened.exists()


def test_with_stderr_captured_the_code_is_shown_on_the_terminal(world, sso, tmp_path):
    captured = tmp_path / "stderr"
    child = pexpect.spawn("/bin/sh", ["-c", f"exec {sys.executable} {DRIVER} login dev --no-browser 2>{captured}"], env=world.env, encoding="utf-8", timeout=60)
    child.expect(CODE.pattern)
    sso.approve(child.match.group(1))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0 and captured.read_text() == ""


def test_concurrent_logins_of_a_session_make_one_flow_and_the_others_wait_for_the_person(world, sso):
    slow_lock = {"STSENV_LOCK_TIMEOUT": "1"}  # a plain wait would give up after 1 s; a wait for a person may not
    first = Login(world, "login", "dev", "--no-browser", env=slow_lock)
    code = first.code()
    second = Login(world, "login-session", "corp", "--no-browser", env=slow_lock)
    second.wait_for(rf"waiting for another stsenv \(pid {first.process.pid}\) signing in to IAM Identity Center \(sso-session corp\)")
    time.sleep(2)
    sso.approve(code)
    assert first.finish()[0].startswith("signed in until ")
    assert second.finish()[0].startswith("already signed in until ")
    assert sso.calls("StartDeviceAuthorization") == 1 and CODE.search("".join(second.lines)) is None


def test_the_registration_cache_key_is_the_aws_cli_s(home, sso):
    from stsenv.config import AwsConfig
    from stsenv.sso import token_cache

    home.write_config(f"[sso-session corp]\nsso_start_url = {sso.start_url}\nsso_region = us-east-1\nsso_registration_scopes = a:b, c:d\n")
    config = AwsConfig(home.env)
    found = sso_settings.session_settings(config, "corp", sso_settings.read_sessions(config.config_path))
    assert token_cache.registration_path(found, home.env) == str(registration_file(home, sso.start_url, "us-east-1", ["a:b", "c:d"], "corp"))
    assert token_cache.token_path(found, home.env) == str(token_cache_path(home.path, "corp"))
    assert os.path.dirname(token_cache.token_path(found, home.env)) == str(home.path / ".aws" / "sso" / "cache")

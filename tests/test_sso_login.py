"""`stsenv login PROFILE` for IAM Identity Center profiles (stsenv.sso.device_login), as processes: the device
flow end to end, the token and registration files the aws CLI reads, polling rules, refusals (exit 3),
where the code is shown, when a browser is opened, and one flow for concurrent logins of a session."""

import hashlib
import json
import os
import re
import threading
import time

import pexpect
import pytest
from localsso import token_cache_path
from test_sso_token import ACCOUNT, SsoWorld

from stsenv.sso import settings as sso_settings

CODE = re.compile(r"\b([B-Z]{4}-[B-Z]{4})\b")


@pytest.fixture
def world(home, sso):
    return SsoWorld(home, sso)


SIGNED_IN = re.compile(r"^stsenv: signed in to IAM Identity Center \(sso-session corp\) until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


class Login:
    """`stsenv login ...` without a terminal, stderr read as it comes."""

    def __init__(self, world, *args, env=None):
        self.process = world.stsenv_process("login", *args, env=env)
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
    login = Login(world, "dev", "--no-browser")
    code = login.code()
    sso.approve(code)
    stdout, stderr = login.finish()
    assert stdout == "" and SIGNED_IN.match(stderr.splitlines()[-1])
    assert f"open {sso.oidc_url}/device and enter the code {code}" in stderr and f"user_code={code}" in stderr
    token = world.read_token()
    assert list(token) == ["startUrl", "region", "accessToken", "expiresAt", "clientId", "clientSecret", "registrationExpiresAt", "refreshToken"]
    assert token["startUrl"] == sso.start_url and sso.access_token_valid(token["accessToken"])
    registration = json.loads(registration_file(home, sso.start_url, "us-east-1", ["sso:account:access"], "corp").read_text())
    assert registration == {"clientId": token["clientId"], "clientSecret": token["clientSecret"], "expiresAt": token["registrationExpiresAt"], "scopes": ["sso:account:access"]}
    assert world.aws_identity("dev-cli") == sso.assumed_role_arn(ACCOUNT, "Developer")  # botocore's own SSO provider
    assert world.aws_identity("dev") == sso.assumed_role_arn(ACCOUNT, "Developer")  # stsenv serve
    assert [sso.calls(op) for op in ("RegisterClient", "StartDeviceAuthorization")] == [1, 1]
    assert "SlowDownException" not in [entry["error"] for entry in sso.call_log()]
    assert token["accessToken"] not in stderr + stdout and token["clientSecret"] not in stderr + stdout


def test_a_valid_token_needs_no_login_and_force_reuses_the_registration(world, sso):
    world.write_token(expires_in=3000)
    _, stderr = Login(world, "dev", "--no-browser").finish()
    assert stderr.startswith("stsenv: already signed in to IAM Identity Center (sso-session corp) until ") and sso.calls() == 0
    first = Login(world, "dev", "--no-browser", "--force")
    sso.approve(first.code())
    first.finish()
    second = Login(world, "dev", "--no-browser", "--force")
    sso.approve(second.code())
    second.finish()
    assert [sso.calls(op) for op in ("RegisterClient", "StartDeviceAuthorization")] == [1, 2]


def test_aws_sso_login_reuses_the_registration_stsenv_made(world, sso, aws_v2):
    login = Login(world, "dev", "--no-browser")
    sso.approve(login.code())
    login.finish()
    child = pexpect.spawn(aws_v2, ["sso", "login", "--no-browser", "--use-device-code", "--profile", "dev-cli"], env=world.env, encoding="utf-8", timeout=60)
    child.expect(CODE.pattern)
    sso.approve(child.match.group(1))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert sso.calls("RegisterClient") == 1 and sso.calls("StartDeviceAuthorization") == 2


def test_a_legacy_profile_signs_in_without_scopes_and_gets_no_refresh_token(world, sso, home, sts):
    login = Login(world, "legacy", "--no-browser")
    sso.approve(login.code())
    login.finish()
    token = json.loads(token_cache_path(home.path, sso.start_url).read_text())
    assert "refreshToken" not in token and sso.access_token_valid(token["accessToken"])
    assert registration_file(home, sso.start_url, "us-east-1", None, None).exists()
    assert world.aws_identity("legacy") == sso.assumed_role_arn(ACCOUNT, "Developer")


def test_one_login_serves_every_profile_of_the_session(world, sso):
    login = Login(world, "dev-admin", "--no-browser")
    sso.approve(login.code())
    login.finish()
    assert world.aws_identity("dev") == sso.assumed_role_arn(ACCOUNT, "Developer")
    assert world.aws_identity("dev-admin") == sso.assumed_role_arn(ACCOUNT, "Admin")
    _, stderr = Login(world, "dev", "--no-browser").finish()
    assert "already signed in" in stderr and sso.calls("StartDeviceAuthorization") == 1


def test_login_by_sso_session_name_serves_its_profiles(world, sso):
    """`stsenv login --sso-session corp`, as `aws sso login --sso-session corp`: no profile needed."""
    login = Login(world, "--sso-session", "corp", "--no-browser")
    sso.approve(login.code())
    _, stderr = login.finish()
    assert SIGNED_IN.match(stderr.splitlines()[-1])
    assert world.aws_identity("dev") == sso.assumed_role_arn(ACCOUNT, "Developer")
    _, stderr = Login(world, "dev-admin", "--no-browser").finish()
    assert "already signed in" in stderr and sso.calls("StartDeviceAuthorization") == 1


@pytest.mark.parametrize(
    "args, words",
    [
        ((), "stsenv: name a profile or give --sso-session NAME (stsenv login PROFILE, or stsenv login --sso-session NAME)"),
        (("dev", "--sso-session", "corp"), "stsenv: name a profile or give --sso-session NAME"),
        (("--sso-session", "nosuch"), "stsenv: the config file has no [sso-session nosuch] section"),
        (("--sso-session", "bad\nname"), "stsenv: sso-session name 'bad\\nname' is not a valid name"),
        (("--sso-session", "corp", "--token-code", "123456"), "stsenv: sso-session 'corp' signs in to IAM Identity Center, which asks for no MFA code here"),
    ],
    ids=["neither", "both", "unknown", "hostile", "code"],
)
def test_login_names_one_profile_or_one_session(world, sso, args, words):
    _, stderr = Login(world, *args, "--no-browser").finish(expected=2)
    assert stderr.startswith(words) and stderr.count("\n") == 1
    assert sso.calls() == 0


def test_slow_down_adds_five_seconds_to_the_interval(world, sso):
    sso.inject_error("CreateToken", "SlowDownException", "Client is polling too fast")
    login = Login(world, "dev", "--no-browser")
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
    login = Login(world, "dev", "--no-browser")
    code = login.code()
    _, stderr = login.finish(expected=3)
    assert stderr.splitlines()[-1] == (
        f"stsenv: not signed in to IAM Identity Center (sso-session corp): the code {code} expired before it was approved "
        "(run `stsenv login dev`, or `aws sso login --sso-session corp`)"
    )
    assert not world.token_path().exists()


def test_a_denied_sign_in_is_exit_3(world, sso):
    login = Login(world, "dev", "--no-browser")
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
    login = Login(world, "dev", *(["--no-browser"] if no_browser else []), env=env)
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
    _, stderr = Login(world, "dev", env={"BROWSER": str(browser), "DISPLAY": ":0"}).finish(expected=1)
    assert "StartDeviceAuthorization: the answer's userCode" in stderr and "\\x1b" in stderr and "\x1b" not in stderr
    answer.update(userCode="ABCD-EFGH", verificationUriComplete="javascript:alert(document.cookie)")
    sso.inject_reply("StartDeviceAuthorization", json.dumps(answer))
    sso.inject_error("CreateToken", "AuthorizationPendingException", "Authorization is still pending")  # then its code is unknown
    _, stderr = Login(world, "dev", env={"BROWSER": str(browser), "DISPLAY": ":0"}).finish(expected=1)
    assert "or open javascript:alert(document.cookie)" in stderr and "InvalidGrantException" in stderr.splitlines()[-1]
    assert not opened.exists()


def test_with_stderr_captured_the_code_is_shown_on_the_terminal(world, sso, tmp_path):
    captured = tmp_path / "stderr"
    child = pexpect.spawn("/bin/sh", ["-c", f"exec stsenv login dev --no-browser 2>{captured}"], env=world.env, encoding="utf-8", timeout=60)
    child.expect(CODE.pattern)
    sso.approve(child.match.group(1))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0 and SIGNED_IN.match(captured.read_text().rstrip("\n"))  # the code went to the terminal only


def test_concurrent_logins_of_a_session_make_one_flow_and_the_others_wait_for_the_person(world, sso):
    slow_lock = {"STSENV_LOCK_TIMEOUT": "1"}  # a plain wait would give up after 1 s; a wait for a person may not
    first = Login(world, "dev", "--no-browser", env=slow_lock)
    code = first.code()
    second = Login(world, "dev-admin", "--no-browser", env=slow_lock)
    second.wait_for(
        rf"waiting for another stsenv \(pid {first.process.pid}\) signing in to IAM Identity Center \(sso-session corp\), waiting for a person to sign in$"
    )
    time.sleep(2)
    sso.approve(code)
    assert SIGNED_IN.match(first.finish()[1].splitlines()[-1])
    assert "already signed in to IAM Identity Center (sso-session corp) until" in second.finish()[1].splitlines()[-1]
    assert sso.calls("StartDeviceAuthorization") == 1 and CODE.search("".join(second.lines)) is None


def test_the_registration_cache_key_is_the_aws_cli_s(home, sso):
    from stsenv.config import AwsConfig
    from stsenv.sso import token_cache

    home.write_config(f"[sso-session corp]\nsso_start_url = {sso.start_url}\nsso_region = us-east-1\nsso_registration_scopes = a:b, c:d\n")
    config = AwsConfig(home.env)
    found = sso_settings.session_settings(config, "corp")
    assert token_cache.registration_path(found, home.env) == str(registration_file(home, sso.start_url, "us-east-1", ["a:b", "c:d"], "corp"))
    assert token_cache.token_path(found, home.env) == str(token_cache_path(home.path, "corp"))
    assert os.path.dirname(token_cache.token_path(found, home.env)) == str(home.path / ".aws" / "sso" / "cache")


def test_while_a_person_signs_in_a_serve_waits_for_the_token_and_the_prompt_s_renewal_does_not(world, sso, home):
    """A token inside its last 15 minutes is renewed under the session's lock: while `stsenv login` holds it for
    the person at the browser, a serve waits (and says for whom) and then uses the new token; the prompt hook's
    `use --refresh` waits for no person and says so in its one sentence."""
    world.write_token(expires_in=600)
    login = Login(world, "dev-admin", "--no-browser", "--force")
    code = login.code()
    serve = world.stsenv_process("serve", "dev", env={"STSENV_LOCK_TIMEOUT": "1"})  # a plain wait would give up after 1 s
    refresh = world.stsenv("use", "--refresh=dev", "--shell", "bash", timeout=30)
    assert refresh.returncode == 3 and refresh.stdout == ""
    pids = rf"({login.process.pid}|{serve.pid})"  # the login, or the serve that holds dev's lock while it waits for the login
    assert re.fullmatch(
        rf"stsenv: could not refresh dev: another terminal is waiting for a person to sign in \(stsenv pid {pids}\); "
        r"finish there, then run `stsenv use dev` to renew\n",
        refresh.stderr,
    ), refresh.stderr
    time.sleep(2)
    sso.approve(code)
    login.finish()
    stdout, stderr = serve.communicate(timeout=60)
    assert serve.returncode == 0, stderr
    assert f"stsenv: waiting for another stsenv (pid {login.process.pid}) signing in to IAM Identity Center (sso-session corp), waiting for a person to sign in" in stderr
    assert json.loads(stdout)["AccessKeyId"].startswith("ASIA") and "refresh_token" not in world.grants()
    assert sso.calls("GetRoleCredentials") == 1 and len(home.cache_entries()) == 1

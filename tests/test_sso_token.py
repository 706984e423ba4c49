"""The session's token in the aws CLI's cache, renewed by stsenv once for all processes and read by botocore
(and the other way round), role credentials from the portal through stsenv's provider, and every case
where a person must sign in again (exit 3). Against tests/localsso.py, the aws CLI (v1: botocore's own SSO
providers; v2: `aws sso login`) and real processes (tests/ssodriver.py)."""

import hashlib
import json
import os
import stat
import subprocess
import sys
import time

import pexpect
import pytest
from localsso import token_cache_path

from stsenv import sts as stsenv_sts
from stsenv.broker import Broker, Options
from stsenv.config import AwsConfig
from stsenv.credentials import iso_utc
from stsenv.errors import AwsError
from stsenv.providers import sso as sso_provider
from stsenv.source import Source
from stsenv.sso import renewal
from stsenv.sso import settings as sso_settings
from stsenv.sso.errors import LoginNeeded

ACCOUNT = "123456789012"
DRIVER = os.path.join(os.path.dirname(__file__), "ssodriver.py")


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


class SsoWorld:
    """A HOME with an sso-session profile `dev` and a legacy profile `legacy` of the local Identity Center."""

    def __init__(self, home, sso):
        self.home, self.sso = home, sso
        sso.assign(ACCOUNT, "Developer", account_name="Development")
        home.write_config(
            f"[profile dev]\nsso_session = corp\nsso_account_id = {ACCOUNT}\nsso_role_name = Developer\nregion = us-east-1\n\n"
            f"[profile legacy]\nsso_start_url = {sso.start_url}\nsso_region = us-east-1\nsso_account_id = {ACCOUNT}\nsso_role_name = Developer\n"
            "region = us-east-1\n\n"
            f"[sso-session corp]\nsso_start_url = {sso.start_url}\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n"
        )
        self.env = {**home.env, **sso.endpoint_env(), "AWS_PAGER": ""}

    def settings(self, profile="dev"):
        config = AwsConfig(self.env)
        return sso_settings.profile_settings(config, profile, sso_settings.read_sessions(config.config_path))

    def token_path(self, profile="dev"):
        return token_cache_path(self.home.path, "corp" if profile == "dev" else self.sso.start_url)

    def write_token(self, profile="dev", expires_in=None, **changes):
        """A signed-in user's token file, as the aws CLI writes it; `expires_in` seconds from now (the file's view)."""
        token = self.sso.login(scopes=("sso:account:access",) if profile == "dev" else ())
        if expires_in is not None:
            token["expiresAt"] = iso_utc(time.time() + expires_in)
        token.update(changes)
        path = self.token_path(profile)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(token))
        return token

    def read_token(self, profile="dev"):
        return json.loads(self.token_path(profile).read_text())

    def source(self, profile="dev"):
        params, private = sso_settings.source_parts(self.settings(profile))
        return Source("sso", profile, params, private=private)

    def fetch(self, profile="dev"):
        return sso_provider.fetch(self.source(profile), None, Broker(Options(interactive=False, environ=self.env)))

    def aws_identity(self, profile="dev"):
        """`aws --profile P sts get-caller-identity` with the venv's aws CLI: botocore's own SSO providers."""
        result = subprocess.run(["aws", "--profile", profile, "sts", "get-caller-identity"], capture_output=True, text=True, env=self.env, timeout=60)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)["Arn"]

    def driver(self, *args, env=None):
        return subprocess.Popen(
            [sys.executable, DRIVER, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
            env={**self.env, **(env or {})}, start_new_session=True,
        )  # fmt: skip

    def grants(self):
        return [entry["grant"] for entry in self.sso.call_log() if entry["operation"] == "CreateToken"]


@pytest.fixture
def world(home, sso):
    return SsoWorld(home, sso)


def caller_arn(sts, credentials):
    return stsenv_sts.get_caller_identity(credentials, {"endpoint": sts.url, "region": "us-east-1"})["Arn"]


# ---- renewal -------------------------------------------------------------------------------------------------


def test_a_token_with_more_than_fifteen_minutes_left_is_used_as_it_is(world, sso):
    written = world.write_token(expires_in=1200)
    assert renewal.access_token(world.settings(), world.env) == written["accessToken"]
    assert sso.calls("CreateToken") == 0


def test_an_expired_token_is_renewed_and_written_back_as_the_aws_cli_writes_it(world, sso):
    written = world.write_token(expires_in=-60, somethingNew="kept")
    sso.expire_access_tokens()
    token = renewal.access_token(world.settings(), world.env)
    assert world.grants() == ["refresh_token"]
    path = world.token_path()
    renewed = json.loads(path.read_text())
    assert token == renewed["accessToken"] != written["accessToken"] and sso.access_token_valid(token)
    assert renewed["refreshToken"] != written["refreshToken"]  # the rotated one: the used one is void now
    assert list(renewed) == list(written) and renewed["somethingNew"] == "kept"
    assert {key: renewed[key] for key in ("startUrl", "region", "clientId", "clientSecret", "registrationExpiresAt")} == {
        key: written[key] for key in ("startUrl", "region", "clientId", "clientSecret", "registrationExpiresAt")
    }
    assert renewed["expiresAt"].endswith("Z") and 3500 < time.mktime(time.strptime(renewed["expiresAt"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone - time.time() <= 3600
    assert path.read_text().count("\n") == 0 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [name for name in os.listdir(path.parent) if name.endswith(".tmp")] == []


def test_a_token_renewed_by_stsenv_is_what_botocore_then_uses(world, sso):
    world.write_token(expires_in=-60)
    sso.expire_access_tokens()
    renewal.access_token(world.settings(), world.env)
    assert world.aws_identity("dev") == sso.assumed_role_arn(ACCOUNT, "Developer")
    assert world.grants() == ["refresh_token"]  # botocore found the renewed token good: it renewed nothing itself


def test_a_token_inside_botocores_fifteen_minutes_is_renewed(world, sso):
    written = world.write_token(expires_in=600)
    assert renewal.access_token(world.settings(), world.env) != written["accessToken"]
    assert world.grants() == ["refresh_token"]


def test_a_renewal_that_fails_for_a_passing_reason_keeps_the_token_while_it_works(world, sso, capfd):
    written = world.write_token(expires_in=600)
    sso.inject_fault("CreateToken", "500", times=3)
    assert renewal.access_token(world.settings(), world.env) == written["accessToken"]
    assert sso.calls("CreateToken") == 3 and world.read_token() == written
    assert "still using the current token of sso-session corp" in capfd.readouterr().err


def test_a_token_from_aws_sso_login_with_the_device_code_is_read_by_stsenv(world, sso, sts, aws_v2):
    child = pexpect.spawn(aws_v2, ["sso", "login", "--no-browser", "--use-device-code", "--profile", "dev"], env=world.env, encoding="utf-8", timeout=60)
    child.expect(r"\b([B-Z]{4}-[B-Z]{4})\b")
    sso.approve(child.match.group(1))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    before = sso.calls("CreateToken")
    credentials = world.fetch("dev")
    assert caller_arn(sts, credentials) == sso.assumed_role_arn(ACCOUNT, "Developer")
    assert credentials.identity == "Developer@123456789012" and credentials.account == ACCOUNT
    assert sso.calls("CreateToken") == before and sso.calls("GetRoleCredentials") == 1


def test_a_token_from_aws_sso_login_with_pkce_is_renewed_by_stsenv_and_botocore_uses_the_renewal(world, sso, aws_v2):
    child = pexpect.spawn(aws_v2, ["sso", "login", "--no-browser", "--profile", "dev"], env=world.env, encoding="utf-8", timeout=60)
    child.expect(r"(http://127\.0\.0\.1:\d+/authorize\?\S+)")
    sso.complete_authorization(child.match.group(1))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    written = world.read_token()
    sso.expire_access_tokens()
    path = world.token_path()
    path.write_text(json.dumps({**written, "expiresAt": iso_utc(time.time() - 1)}))
    assert renewal.access_token(world.settings(), world.env) == world.read_token()["accessToken"] != written["accessToken"]
    assert world.aws_identity("dev") == sso.assumed_role_arn(ACCOUNT, "Developer")
    assert world.grants() == ["authorization_code", "refresh_token"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"accessToken": "aoa\\nforged: header", "expiresIn": 3600}', "accessToken"),
        ('{"accessToken": "aoa-token-0123456789", "expiresIn": -5}', "expiresIn is not a whole number"),
        ('{"accessToken": "aoa-token-0123456789", "expiresIn": 99999999999}', "expiresIn is not a whole number"),
        ('{"expiresIn": 3600}', "accessToken is missing"),
    ],
)
def test_an_odd_renewal_answer_is_refused_and_the_file_is_left_as_it_was(world, sso, body, expected):
    world.write_token(expires_in=-60)
    before = world.token_path().read_bytes()
    sso.inject_reply("CreateToken", body)
    with pytest.raises(AwsError) as caught:
        renewal.access_token(world.settings(), world.env)
    assert expected in str(caught.value) and "\n" not in str(caught.value) and caught.value.exit_code == 1
    assert world.token_path().read_bytes() == before


# ---- role credentials --------------------------------------------------------------------------------------


def test_role_credentials_are_checked_and_named_role_at_account(world, sso, sts):
    world.write_token()
    credentials = world.fetch()
    assert caller_arn(sts, credentials) == sso.assumed_role_arn(ACCOUNT, "Developer")
    assert credentials.arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/Developer" and credentials.identity == f"Developer@{ACCOUNT}"
    assert 3500 < credentials.remaining() <= 3600  # from the portal's epoch milliseconds
    assert [entry["bearer"] for entry in sso.call_log() if entry["operation"] == "GetRoleCredentials"] == [True]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"roleCredentials": {"accessKeyId": "ASIAEXAMPLE0000000001", "secretAccessKey": "s' + "x" * 39 + '", "sessionToken": "t' + "x" * 99
         + '", "expiration": "2030-01-01T00:00:00Z"}}', "sent an answer that is not its JSON"),
        ('{"roleCredentials": {"accessKeyId": "ASIAEXAMPLE0000000001", "secretAccessKey": "s' + "x" * 39 + '", "sessionToken": "t' + "x" * 99
         + '", "expiration": null}}', "expiration is not a time in epoch milliseconds"),
        ('{"roleCredentials": {"accessKeyId": "ASIAEXAMPLE0000000001", "secretAccessKey": "s' + "x" * 39 + '", "sessionToken": "t' + "x" * 99
         + '", "expiration": 1e300}}', "not a date a clock can hold"),
        ('{"roleCredentials": {"accessKeyId": "ASIA\\nEXAMPLE000001", "secretAccessKey": "s' + "x" * 39 + '", "sessionToken": "t' + "x" * 99
         + '", "expiration": 1893456000000}}', "AccessKeyId holds characters no credential has"),
        ('{"roleCredentials": {"accessKeyId": "ASIAEXAMPLE0000000001", "secretAccessKey": "s' + "x" * 39 + '", "sessionToken": "t' + "x" * 99
         + '", "expiration": 1000}}', "Expiration is in the past"),
        ('[1, 2]', "sent an answer that is not its JSON"),
        ('{"roleCredentials": null}', "roleCredentials is missing"),
    ],
)  # fmt: skip
def test_an_odd_portal_answer_is_one_line_and_nothing_is_cached(world, sso, body, expected):
    world.write_token()
    sso.inject_reply("GetRoleCredentials", body)
    broker = Broker(Options(interactive=False, environ=world.env))
    broker_source = world.source()
    from stsenv import providers

    providers.MODULES.setdefault("sso", "sso")  # the lead's row in the table of kinds
    with pytest.raises(AwsError) as caught:
        broker.credentials(broker_source)
    assert expected in str(caught.value) and "\n" not in str(caught.value) and caught.value.exit_code == 1
    assert broker.cache.read(broker_source) is None


# ---- a person must sign in: exit 3 ---------------------------------------------------------------------------


def login_needed(world, profile="dev"):
    with pytest.raises(LoginNeeded) as caught:
        world.fetch(profile)
    error = caught.value
    assert error.exit_code == 3 and "\n" not in str(error)
    return str(error)


def test_no_token_names_both_ways_to_sign_in(world, sso):
    message = login_needed(world)
    assert "profile 'dev': not signed in to IAM Identity Center" in message and str(world.token_path()) in message
    assert "run `stsenv login dev`, or `aws sso login --sso-session corp`" in message
    assert sso.calls() == 0


def test_an_expired_legacy_token_has_no_refresh_token(world, sso):
    world.write_token("legacy", expires_in=-1)
    message = login_needed(world, "legacy")
    assert "expired at" in message and "no refresh token" in message and "`aws sso login --profile legacy`" in message
    assert sso.calls() == 0


def test_an_expired_client_registration_is_not_tried(world, sso):
    world.write_token(expires_in=-1, registrationExpiresAt=iso_utc(time.time() - 5))
    assert "its client registration expired at" in login_needed(world)
    assert sso.calls() == 0


def test_a_refused_renewal_is_a_login(world, sso):
    written = world.write_token(expires_in=-1)
    sso.revoke_refresh_token(written["refreshToken"])
    message = login_needed(world)
    assert "would not renew the token of sso-session corp" in message and "InvalidGrantException" in message
    assert world.grants() == ["refresh_token"] and sso.calls("GetRoleCredentials") == 0


def test_a_token_the_portal_refuses_is_renewed_once_and_tried_again(world, sso, sts):
    written = world.write_token(expires_in=3000)
    sso.expire_access_tokens()  # the portal no longer takes it, although the file says it has 50 minutes
    credentials = world.fetch()
    assert caller_arn(sts, credentials) == sso.assumed_role_arn(ACCOUNT, "Developer")
    assert world.grants() == ["refresh_token"] and sso.calls("GetRoleCredentials") == 2
    assert world.read_token()["accessToken"] != written["accessToken"]


def test_a_portal_session_that_ended_is_a_login(world, sso):
    world.write_token(expires_in=3000)
    sso.end_sessions()
    message = login_needed(world)
    assert "would not renew" in message and "`stsenv login dev`" in message
    assert sso.calls("GetRoleCredentials") == 1 and world.grants() == ["refresh_token"]


def test_a_legacy_token_the_portal_refuses_is_a_login_without_a_renewal(world, sso):
    world.write_token("legacy", expires_in=3000)
    sso.end_sessions()
    message = login_needed(world, "legacy")
    assert "no longer accepts the token of start URL" in message and "`aws sso login --profile legacy`" in message
    assert sso.calls("CreateToken") == 0


@pytest.mark.parametrize("content", ["not json", "[]", '{"accessToken": "a b", "expiresAt": "2030-01-01T00:00:00Z"}', '{"accessToken": "abcd", "expiresAt": "soon"}'])
def test_a_token_file_that_is_not_a_token_is_a_login_naming_the_file(world, sso, content):
    path = world.token_path()
    path.parent.mkdir(parents=True)
    path.write_text(content)
    message = login_needed(world)
    assert str(path) in message and "`stsenv login dev`" in message
    assert sso.calls() == 0


def test_a_process_that_needs_a_login_says_so_in_one_line_and_opens_no_browser(world, sso, tmp_path):
    opened = tmp_path / "opened"
    browser = tmp_path / "browser"
    browser.write_text(f"#!/bin/sh\necho \"$@\" >> {opened}\n")
    browser.chmod(0o755)
    process = world.driver("serve", "dev", env={"DISPLAY": ":0", "BROWSER": str(browser)})
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 3 and stdout == ""
    assert stderr.count("\n") == 1 and stderr.startswith("stsenv: profile 'dev': not signed in") and "`stsenv login dev`" in stderr
    assert not opened.exists() and sso.calls() == 0


# ---- single flight across processes --------------------------------------------------------------------------


def release(world, tmp_path, *args, count=8):
    go = tmp_path / "go"
    processes = [world.driver(*args, env={"SSODRIVER_GO": str(go)}) for _ in range(count)]
    time.sleep(0.5)  # all started and waiting
    go.touch()
    results = [process.communicate(timeout=120) for process in processes]
    for process, (_, stderr) in zip(processes, results):
        assert process.returncode == 0, stderr
    return [stdout for stdout, _ in results]


def test_eight_processes_with_an_expired_token_make_one_create_token(world, sso, tmp_path):
    world.write_token(expires_in=-60)
    sso.expire_access_tokens()
    sso.inject_fault("CreateToken", "slow:1")  # the first one renews for a second: the others come meanwhile
    outputs = release(world, tmp_path, "token", "dev")
    assert world.grants() == ["refresh_token"]
    final = world.read_token()["accessToken"]
    assert set(outputs) == {hashlib.sha256(final.encode()).hexdigest() + "\n"} and sso.access_token_valid(final)


def test_eight_cold_serves_of_one_role_make_one_create_token_and_one_get_role_credentials(world, sso, tmp_path, home):
    world.write_token(expires_in=-60)
    sso.expire_access_tokens()
    outputs = release(world, tmp_path, "serve", "dev")
    assert world.grants() == ["refresh_token"] and sso.calls("GetRoleCredentials") == 1
    assert len(set(outputs)) == 1 and json.loads(outputs[0])["AccessKeyId"].startswith("ASIA")
    (entry,) = home.cache_entries().values()
    assert entry["kind"] == "sso" and entry["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/Developer" and entry["Account"] == ACCOUNT
    assert release(world, tmp_path, "serve", "dev", count=2) == outputs[:2] and sso.calls("GetRoleCredentials") == 1  # warm


def test_eight_serves_that_need_a_login_try_one_renewal_and_all_say_so(world, sso, tmp_path):
    written = world.write_token(expires_in=-60)
    sso.revoke_refresh_token(written["refreshToken"])
    sso.inject_fault("CreateToken", "slow:1")
    go = tmp_path / "go"
    processes = [world.driver("serve", "dev", env={"SSODRIVER_GO": str(go)}) for _ in range(8)]
    time.sleep(0.5)
    go.touch()
    results = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [3] * 8
    last_lines = {stderr.splitlines()[-1] for _, stderr in results}  # waiters may first say whom they wait for
    assert last_lines == {
        "stsenv: profile 'dev': IAM Identity Center would not renew the token of sso-session corp (CreateToken refused: "
        "InvalidGrantException: Invalid refresh token provided) (run `stsenv login dev`, or `aws sso login --sso-session corp`)"
    }
    assert world.grants() == ["refresh_token"]


def test_cached_role_credentials_with_time_left_are_kept_when_a_login_is_needed(world, sso, capfd):
    from stsenv import providers

    providers.MODULES.setdefault("sso", "sso")  # the lead's row in the table of kinds
    sso.configure(role_credential_duration=1000)  # inside the 20 minutes stsenv wants left: the next serve refreshes
    world.write_token()
    broker = Broker(Options(interactive=False, environ=world.env))
    first = broker.credentials(world.source())
    sso.end_sessions()
    kept = Broker(Options(interactive=False, environ=world.env)).credentials(world.source())
    assert kept.access_key_id == first.access_key_id and sso.calls("GetRoleCredentials") == 2
    assert "still using the cached credentials for dev" in capfd.readouterr().err

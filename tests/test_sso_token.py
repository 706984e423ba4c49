"""The session's token in the aws CLI's cache, renewed by stsenv once for all processes and read by botocore
(and the other way round), role credentials from the portal through stsenv's provider, and every case
where a person must sign in again (exit 3). Against tests/localsso.py and the aws CLI (v1: botocore's own
SSO providers; v2: `aws sso login`); stsenv itself in this process (the renewal and the provider, as the
broker calls them) or as `stsenv` processes (tests/test_sso_serve.py)."""

import json
import os
import stat
import subprocess
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
from stsenv.resolution import resolve
from stsenv.sso import renewal
from stsenv.sso import settings as sso_settings
from stsenv.sso.errors import LoginNeeded

ACCOUNT = "123456789012"


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


SESSION_PROFILES = ("dev", "dev-cli", "dev-admin")


class SsoWorld:
    """A HOME with the local Identity Center's session `corp` and its profiles: `dev` served by stsenv to every
    SDK (stsenv_sso_* keys and `credential_process = stsenv serve dev`), `dev-cli` as `aws configure sso` writes
    it (botocore's own SSO provider serves it to the aws CLI), `dev-admin` another role of the session, and a
    legacy profile `legacy` (start URL and region in the profile)."""

    def __init__(self, home, sso):
        self.home, self.sso = home, sso
        sso.assign(ACCOUNT, "Developer", account_name="Development")
        sso.assign(ACCOUNT, "Admin")
        home.write_config(
            f"[profile dev]\nsso_session = corp\nstsenv_sso_account_id = {ACCOUNT}\nstsenv_sso_role_name = Developer\n"
            "credential_process = stsenv serve dev\nregion = us-east-1\n\n"
            f"[profile dev-cli]\nsso_session = corp\nsso_account_id = {ACCOUNT}\nsso_role_name = Developer\nregion = us-east-1\n\n"
            f"[profile dev-admin]\nsso_session = corp\nsso_account_id = {ACCOUNT}\nsso_role_name = Admin\nregion = us-east-1\n\n"
            f"[profile legacy]\nsso_start_url = {sso.start_url}\nsso_region = us-east-1\nsso_account_id = {ACCOUNT}\nsso_role_name = Developer\n"
            "region = us-east-1\n\n"
            f"[sso-session corp]\nsso_start_url = {sso.start_url}\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n"
        )
        self.env = {**home.env, **sso.endpoint_env(), "AWS_PAGER": ""}

    def add_config(self, text):
        self.home.write_config(self.home.config.read_text() + "\n" + text)

    def settings(self, profile="dev"):
        return sso_settings.profile_settings(AwsConfig(self.env), profile)

    def token_path(self, profile="dev"):
        return token_cache_path(self.home.path, "corp" if profile in SESSION_PROFILES else self.sso.start_url)

    def write_token(self, profile="dev", expires_in=None, **changes):
        """A signed-in user's token file, as the aws CLI writes it; `expires_in` seconds from now (the file's view)."""
        token = self.sso.login(scopes=("sso:account:access",) if profile in SESSION_PROFILES else ())
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
        """The Source stsenv resolves for `profile` (the table of kinds' SSO row)."""
        return resolve(AwsConfig(self.env), profile)

    def options(self):
        return Options(interactive=False, environ=self.env)

    def fetch(self, profile="dev"):
        return sso_provider.fetch(self.source(profile), None, self.options())

    def aws(self, *args, env=None):
        """The venv's aws CLI (v1: botocore's own SSO providers, and credential_process)."""
        return subprocess.run(["aws", *args], capture_output=True, text=True, env={**self.env, **(env or {})}, timeout=60)

    def aws_identity(self, profile="dev-cli"):
        """`aws --profile P sts get-caller-identity`: for dev-cli, botocore's own SSO provider; for dev, stsenv serve."""
        result = self.aws("--profile", profile, "sts", "get-caller-identity")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)["Arn"]

    def stsenv(self, *args, env=None, timeout=60):
        return subprocess.run(["stsenv", *args], capture_output=True, text=True, stdin=subprocess.DEVNULL, env={**self.env, **(env or {})}, timeout=timeout)

    def stsenv_process(self, *args, env=None, gate=None):
        """`stsenv ARGS` as a process of its own (no terminal); with `gate` (a path), it starts only once that file exists."""
        command = ["stsenv", *args]
        if gate is not None:
            command = ["/bin/sh", "-c", 'while [ ! -e "$0" ]; do sleep 0.005; done; exec "$@"', str(gate), *command]
        return subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
            env={**self.env, **(env or {})}, start_new_session=True,
        )  # fmt: skip

    def grants(self):
        return [entry["grant"] for entry in self.sso.call_log() if entry["operation"] == "CreateToken"]


@pytest.fixture
def world(home, sso):
    return SsoWorld(home, sso)


def caller_arn(sts, credentials):
    return stsenv_sts.get_caller_identity(credentials, stsenv_sts.Endpoint(sts.url, "us-east-1", 10))["Arn"]


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
    assert world.aws_identity("dev-cli") == sso.assumed_role_arn(ACCOUNT, "Developer")
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


def test_a_token_from_aws_sso_login_with_the_device_code_is_read_by_stsenv(world, sso, aws_v2):
    child = pexpect.spawn(aws_v2, ["sso", "login", "--no-browser", "--use-device-code", "--profile", "dev-cli"], env=world.env, encoding="utf-8", timeout=60)
    child.expect(r"\b([B-Z]{4}-[B-Z]{4})\b")
    sso.approve(child.match.group(1))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    before = sso.calls("CreateToken")
    assert world.aws_identity("dev") == sso.assumed_role_arn(ACCOUNT, "Developer")  # the aws CLI runs stsenv serve dev
    credentials = world.fetch("dev")
    assert credentials.identity == "Developer@123456789012" and credentials.account == ACCOUNT
    assert sso.calls("CreateToken") == before and sso.calls("GetRoleCredentials") == 2


def test_a_token_from_aws_sso_login_with_pkce_is_renewed_by_stsenv_and_botocore_uses_the_renewal(world, sso, aws_v2):
    child = pexpect.spawn(aws_v2, ["sso", "login", "--no-browser", "--profile", "dev-cli"], env=world.env, encoding="utf-8", timeout=60)
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
    assert world.aws_identity("dev-cli") == sso.assumed_role_arn(ACCOUNT, "Developer")
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
    broker = Broker(world.options())
    broker_source = world.source()
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


def test_cached_role_credentials_with_time_left_are_kept_when_a_login_is_needed(world, sso, capfd):
    sso.configure(role_credential_duration=1000)  # inside the 20 minutes stsenv wants left: the next serve refreshes
    world.write_token()
    first = Broker(world.options()).credentials(world.source())
    sso.end_sessions()
    kept = Broker(world.options()).credentials(world.source())
    assert kept.access_key_id == first.access_key_id and sso.calls("GetRoleCredentials") == 2
    assert "still using the cached credentials for dev" in capfd.readouterr().err

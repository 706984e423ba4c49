"""Tests for tests/localsignin.py: the console federation endpoint issues sign-in tokens for the credentials
AWS lets sign in, refuses the others, and logs in once per token; credentials come from the local STS."""

from __future__ import annotations

import json
import os
import signal
import sys
import urllib.error
import urllib.request
from urllib.parse import urlencode

import boto3
import pexpect
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from localsts import ACCOUNT_ID

pytestmark = pytest.mark.slow  # every test here talks to a LocalSignin server (or runs localsignin.py)

TASK_POLICY = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"
CONSOLE = "https://us-east-1.console.aws.amazon.com/ec2/home?region=us-east-1"
ISSUER = "https://stsenv.example/"


@pytest.fixture(autouse=True)
def no_aws_config(tmp_path, monkeypatch):
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect())


def request(url: str, params: dict, method: str = "GET") -> tuple[int, str, dict]:
    """(status, body, headers) of a GET (params in the query) or a form POST, redirects not followed."""
    if method == "GET":
        req = urllib.request.Request(f"{url}?{urlencode(params)}")
    else:
        req = urllib.request.Request(url, data=urlencode(params).encode(), method="POST")
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with OPENER.open(req, timeout=10) as answer:
            return answer.status, answer.read().decode(), dict(answer.headers)
    except urllib.error.HTTPError as answer:
        return answer.code, answer.read().decode(), dict(answer.headers)


def session_param(credentials: dict) -> str:
    return json.dumps(
        {"sessionId": credentials["AccessKeyId"], "sessionKey": credentials["SecretAccessKey"], "sessionToken": credentials.get("SessionToken", "")}
    )


def signin_token(signin, credentials: dict, duration=None, method: str = "GET") -> tuple[int, str]:
    params = {"Action": "getSigninToken", "Session": session_param(credentials)}
    if duration is not None:
        params["SessionDuration"] = str(duration)
    status, body, _ = request(signin.federation_url, params, method)
    return status, body


def token_of(signin, credentials: dict, duration=None) -> str:
    status, body = signin_token(signin, credentials, duration)
    assert status == 200, body
    return json.loads(body)["SigninToken"]


def login(signin, token: str, destination: str = CONSOLE, issuer: str | None = ISSUER) -> tuple[int, str, dict]:
    params = {"Action": "login", "Destination": destination, "SigninToken": token}
    if issuer is not None:
        params["Issuer"] = issuer
    return request(signin.federation_url, params)


def client(sts, credentials: dict | None = None, service: str = "sts"):
    if credentials is None:
        return boto3.session.Session().client(service, endpoint_url=sts.url, region_name="us-east-1", config=Config(signature_version=UNSIGNED))
    return boto3.session.Session().client(
        service,
        endpoint_url=sts.url,
        region_name="us-east-1",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials.get("SessionToken"),
    )


@pytest.fixture
def alice(sts):
    user = sts.create_user("alice")
    return {"AccessKeyId": user["access_key_id"], "SecretAccessKey": user["secret_access_key"]}


@pytest.fixture
def role(sts):
    return sts.create_role("Admin", max_session_duration=43200)


def assume(sts, credentials, role_arn, name="console"):
    return client(sts, credentials).assume_role(RoleArn=role_arn, RoleSessionName=name)["Credentials"]


# ---------------------------------------------------------------------------------------
# What signs in


def test_role_session_gets_a_token_that_logs_in_once_and_within_15_minutes(sts, signin, alice, role):
    credentials = assume(sts, alice, role)
    token = token_of(signin, credentials, duration=3600)
    status, _, headers = login(signin, token)
    assert (status, headers["Location"]) == (302, CONSOLE)
    assert login(signin, token)[0] == 400  # used once already
    assert signin.call_log()[-1]["reason"] == "SigninToken already used"

    late = token_of(signin, credentials)
    sts.clock_offset += 901
    assert login(signin, late)[0] == 400
    sts.clock_offset = 0
    fresh = token_of(signin, credentials)
    signin.expire_tokens()
    assert login(signin, fresh)[0] == 400
    assert [t["session_duration"] for t in signin.issued_tokens()] == [3600, None, None]
    assert {t["kind"] for t in signin.issued_tokens()} == {"assumed-role"}
    assert signin.calls("getSigninToken") == 3 and signin.calls("login") == 4


@pytest.mark.parametrize("duration", [900, 43200])
def test_session_duration_at_both_ends_of_its_range_and_by_form_post(sts, signin, alice, role, duration):
    status, body = signin_token(signin, assume(sts, alice, role), duration, method="POST")
    assert status == 200 and json.loads(body)["SigninToken"]
    assert signin.call_log()[-1]["method"] == "POST"


def test_federated_user_signs_in_but_not_with_a_session_duration(sts, signin, alice):
    credentials = client(sts, alice).get_federation_token(Name="bob", DurationSeconds=3600)["Credentials"]
    token = token_of(signin, credentials)
    assert login(signin, token)[0] == 302
    status, body = signin_token(signin, credentials, duration=3600)
    assert status == 400 and "GetFederationToken" in body
    assert signin.issued_tokens()[0]["arn"] == f"arn:aws:sts::{ACCOUNT_ID}:federated-user/bob"


def test_saml_web_identity_and_identity_center_role_sessions_sign_in_with_a_duration(sts, signin):
    saml_provider = sts.create_saml_provider()
    saml_role = sts.create_role("SamlRole", federated=saml_provider)
    saml = client(sts).assume_role_with_saml(
        RoleArn=saml_role, PrincipalArn=saml_provider, SAMLAssertion=sts.saml_assertion(saml_role, saml_provider)
    )["Credentials"]
    oidc_provider = sts.create_oidc_provider()
    web_role = sts.create_role("WebRole", federated=oidc_provider)
    web = client(sts).assume_role_with_web_identity(RoleArn=web_role, RoleSessionName="ci", WebIdentityToken=sts.web_identity_token())["Credentials"]
    sso = sts.issue_role_session(ACCOUNT_ID, "AWSReservedSSO_Developer_0123456789abcdef", "tester", 3600, role_path="/aws-reserved/sso.amazonaws.com/")
    for credentials in (saml, web, sso):
        assert sts.credential_info(credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"])["origin"] == "federation"
        assert login(signin, token_of(signin, credentials, duration=43200))[0] == 302
    assert sso["Arn"] == f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/AWSReservedSSO_Developer_0123456789abcdef/tester"


def test_role_sessions_asked_for_by_temporary_credentials_sign_in_only_without_a_duration(sts, signin, alice, role):
    first_hop = assume(sts, alice, role, "first")
    chained = assume(sts, first_hop, sts.create_role("Second"), "second")
    via_session = assume(sts, client(sts, alice).get_session_token()["Credentials"], sts.create_role("Third"), "third")
    for credentials in (chained, via_session):
        info = sts.credential_info(credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"])
        assert (info["kind"], info["origin"]) == ("assumed-role", "temporary")
        assert signin_token(signin, credentials, duration=3600)[0] == 400
        assert login(signin, token_of(signin, credentials))[0] == 302
    assert sts.credential_info(first_hop["AccessKeyId"], first_hop["SecretAccessKey"], first_hop["SessionToken"])["origin"] == "long-term"
    sts.reset_calls()  # the STS no longer knows who asked: the duration is accepted
    assert sts.credential_info(chained["AccessKeyId"], chained["SecretAccessKey"], chained["SessionToken"])["origin"] == "unknown"
    assert signin_token(signin, chained, duration=3600)[0] == 200


# ---------------------------------------------------------------------------------------
# What does not


def test_long_term_keys_session_tokens_root_task_sessions_and_unknown_credentials_are_refused(sts, signin, alice, role):
    assert sts.credential_info(alice["AccessKeyId"], alice["SecretAccessKey"])["kind"] == "long-term"
    session = client(sts, alice).get_session_token()["Credentials"]
    root_task = sts.admin_client("sts").assume_root(TargetPrincipal=ACCOUNT_ID, TaskPolicyArn={"arn": TASK_POLICY})["Credentials"]
    role_credentials = assume(sts, alice, role)
    refused = {
        "long-term keys": alice,
        "long-term keys with a made-up token": dict(alice, SessionToken="t" * 40),
        "GetSessionToken": session,
        "AssumeRoot": root_task,
        "wrong secret": dict(role_credentials, SecretAccessKey="x" * 40),
        "wrong token": dict(role_credentials, SessionToken="x" * 40),
        "unknown key": dict(role_credentials, AccessKeyId="ASIA" + "Z" * 16),
    }
    for what, credentials in refused.items():
        status, body = signin_token(signin, credentials)
        assert status == 400 and "Invalid credentials parameter" in body, what
    sts.clock_offset += 3601
    status, body = signin_token(signin, role_credentials)
    assert status == 400 and "expired" in body
    assert signin.issued_tokens() == []


@pytest.mark.parametrize("duration", ["899", "43201", "3600.5", "-900", "an hour"])
def test_session_duration_outside_900_to_43200_is_refused(sts, signin, alice, role, duration):
    status, body = signin_token(signin, assume(sts, alice, role), duration)
    assert status == 400 and "SessionDuration" in body


@pytest.mark.parametrize(
    "session", [None, "", "not json", "[]", '{"sessionId": "ASIAX", "sessionKey": "k"}', '{"sessionId": 1, "sessionKey": "k", "sessionToken": "t"}']
)
def test_malformed_session_parameter_is_refused(signin, session):
    params = {"Action": "getSigninToken"}
    if session is not None:
        params["Session"] = session
    status, body, _ = request(signin.federation_url, params)
    assert status == 400 and "Invalid credentials parameter" in body


@pytest.mark.parametrize(
    "destination",
    ["https://evil.example/", "http://console.aws.amazon.com/", "https://console.aws.amazon.com.evil.example/", "https://notconsole.aws.amazon.com/", ""],
)
def test_login_refuses_destinations_outside_the_consoles(sts, signin, alice, role, destination):
    token = token_of(signin, assume(sts, alice, role))
    assert login(signin, token, destination=destination)[0] == 400
    assert login(signin, token)[0] == 302  # a refused destination does not spend the token


@pytest.mark.parametrize(
    "destination",
    [
        "https://console.aws.amazon.com/",
        "https://s3.console.aws.amazon.com/s3/home?region=eu-west-1",
        "https://console.amazonaws-us-gov.com/",
        "https://console.amazonaws.cn/console/home?region=cn-north-1",
    ],
)
def test_login_accepts_each_partitions_console_and_no_issuer(sts, signin, alice, role, destination):
    token = token_of(signin, assume(sts, alice, role))
    status, _, headers = login(signin, token, destination=destination, issuer=None)
    assert (status, headers["Location"]) == (302, destination)


def test_unknown_action_path_and_token_are_refused(signin):
    assert request(signin.federation_url, {"Action": "logout"})[0] == 400
    assert request(signin.url + "/saml", {"Action": "login"})[0] == 404
    assert login(signin, "not-a-token")[0] == 400


# ---------------------------------------------------------------------------------------
# What tests read back


def test_call_log_records_each_field_as_sent_with_the_secrets_redacted(sts, signin, alice, role):
    credentials = assume(sts, alice, role)
    token = token_of(signin, credentials, duration=1800)
    login(signin, token, destination=CONSOLE)
    asked, logged_in = signin.call_log()
    assert asked["params"] == {
        "Action": "getSigninToken",
        "Session": {"sessionId": credentials["AccessKeyId"], "sessionKey": "<redacted>", "sessionToken": "<redacted>"},
        "SessionDuration": "1800",
    }
    assert (asked["status"], asked["reason"]) == (200, None)
    assert logged_in["params"] == {"Action": "login", "Destination": CONSOLE, "SigninToken": token, "Issuer": ISSUER}
    assert (logged_in["status"], logged_in["location"]) == (302, CONSOLE)
    signin.reset_calls()
    assert signin.calls() == 0 and signin.call_log() == []


def test_faults_and_lies_are_injected_per_action(sts, signin, alice, role):
    credentials = assume(sts, alice, role)
    signin.inject_fault("getSigninToken", "503")
    signin.inject_reply("getSigninToken", '{"SigninToken": "$(touch pwned)"}')
    signin.inject_fault("*", "malformed")
    assert signin_token(signin, credentials)[0] == 503
    assert signin_token(signin, credentials) == (200, '{"SigninToken": "$(touch pwned)"}')
    status, body = signin_token(signin, credentials)
    assert status == 200 and "not a sign-in token" in body
    assert login(signin, token_of(signin, credentials))[0] == 302
    with pytest.raises(ValueError):
        signin.inject_fault("login", "teapot")
    signin.inject_fault("login", "500")
    signin.clear_faults()
    assert login(signin, token_of(signin, credentials))[0] == 302


def test_standalone_demo(tmp_path):
    script = os.path.join(os.path.dirname(__file__), "localsignin.py")
    process = pexpect.spawn(sys.executable, [script], env=dict(os.environ), encoding="utf-8", timeout=60)
    try:
        process.expect(r"\{.*\}\r?\n")
        state = json.loads(process.match.group(0))
        assert state["sts_url"].startswith("http://127.0.0.1:")
        assert request(state["federation_url"], {"Action": "getSigninToken", "Session": "{}"})[0] == 400
        process.kill(signal.SIGTERM)
        process.expect(pexpect.EOF)
        process.close()
        assert process.exitstatus == 0
    finally:
        if process.isalive():
            process.terminate(force=True)

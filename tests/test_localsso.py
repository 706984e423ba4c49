"""Tests for tests/localsso.py against real clients: boto3's sso-oidc and sso clients, the venv's aws CLI (v1,
botocore's own SSO credential and token providers) and AWS CLI v2's `aws sso login` (both flows)."""

from __future__ import annotations

import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlencode, urlsplit

import boto3
import pexpect
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
from localsso import CODE_GRANT, DEFAULT_SCOPE, DEVICE_GRANT, REFRESH_GRANT, _pkce_challenge, token_cache_path
from localsts import ACCOUNT_ID

OTHER_ACCOUNT = "111111111111"
pytestmark = pytest.mark.slow  # every test here talks to a LocalSSO server (or runs localsso.py)
NO_RETRIES = Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1, "mode": "standard"})


@pytest.fixture(autouse=True)
def no_aws_config(tmp_path, monkeypatch):
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def oidc(sso):
    return boto3.session.Session().client("sso-oidc", region_name="us-east-1", endpoint_url=sso.oidc_url, config=NO_RETRIES)


@pytest.fixture
def portal(sso):
    return boto3.session.Session().client("sso", region_name="us-east-1", endpoint_url=sso.portal_url, config=NO_RETRIES)


def sts_client(sts, credentials: dict):
    return boto3.session.Session().client(
        "sts",
        endpoint_url=sts.url,
        region_name="us-east-1",
        aws_access_key_id=credentials["accessKeyId"],
        aws_secret_access_key=credentials["secretAccessKey"],
        aws_session_token=credentials["sessionToken"],
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


def register(oidc, **extra) -> dict:
    return oidc.register_client(clientName="tests", clientType="public", **extra)


def start(oidc, sso, client: dict) -> dict:
    return oidc.start_device_authorization(clientId=client["clientId"], clientSecret=client["clientSecret"], startUrl=sso.start_url)


def poll(oidc, client: dict, device: dict) -> dict:
    return oidc.create_token(clientId=client["clientId"], clientSecret=client["clientSecret"], grantType=DEVICE_GRANT, deviceCode=device["deviceCode"])


def refresh(oidc, client: dict, refresh_token: str) -> dict:
    return oidc.create_token(clientId=client["clientId"], clientSecret=client["clientSecret"], grantType=REFRESH_GRANT, refreshToken=refresh_token)


def device_token(oidc, sso, **register_extra) -> tuple[dict, dict]:
    """Register, start, approve, exchange: (client, token)."""
    client = register(oidc, **register_extra)
    device = start(oidc, sso, client)
    sso.approve(device["userCode"])
    return client, poll(oidc, client, device)


def error_of(call, *args, **kwargs) -> tuple[str, int, dict]:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response


# ---------------------------------------------------------------------------------------
# OIDC: the device flow


def test_device_flow_from_registration_to_role_credentials_the_local_sts_accepts(sso, sts, oidc, portal):
    sso.assign(ACCOUNT_ID, "Developer", account_name="Development")
    client = register(oidc, scopes=[DEFAULT_SCOPE])
    assert client["clientSecretExpiresAt"] - client["clientIdIssuedAt"] == 90 * 86400
    device = start(oidc, sso, client)
    assert device["interval"] == 1 and device["expiresIn"] == 600
    assert device["verificationUri"] == f"{sso.oidc_url}/device"
    assert device["verificationUriComplete"] == f"{sso.oidc_url}/device?user_code={device['userCode']}"
    assert sso.pending_user_codes() == [device["userCode"]]

    with pytest.raises(oidc.exceptions.AuthorizationPendingException) as pending:
        poll(oidc, client, device)
    assert pending.value.response["error"] == "authorization_pending"
    assert pending.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"].startswith("AuthorizationPendingException:")
    sso.approve(device["userCode"].lower())
    token = poll(oidc, client, device)
    assert token["tokenType"] == "Bearer" and token["expiresIn"] == 3600 and token["refreshToken"].startswith("aor")

    before = time.time()
    credentials = portal.get_role_credentials(roleName="Developer", accountId=ACCOUNT_ID, accessToken=token["accessToken"])["roleCredentials"]
    assert abs(credentials["expiration"] / 1000 - (before + 3600)) < 5  # epoch milliseconds
    identity = sts_client(sts, credentials).get_caller_identity()
    assert identity["Arn"] == sso.assumed_role_arn(ACCOUNT_ID, "Developer") == (
        f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{sso.role_name_in_account('Developer', ACCOUNT_ID)}/tester"
    )
    assert sso.role_name_in_account("Developer", ACCOUNT_ID).startswith("AWSReservedSSO_Developer_")
    counts = [sso.calls(op) for op in ("RegisterClient", "StartDeviceAuthorization", "CreateToken", "GetRoleCredentials")]
    assert counts == [1, 1, 2, 1]
    assert [entry["error"] for entry in sso.call_log() if entry["operation"] == "CreateToken"] == ["AuthorizationPendingException", None]
    assert all(entry["params"].get("clientSecret") in (None, "<redacted>") for entry in sso.call_log())


def test_polling_faster_than_the_interval_is_slow_down_and_each_one_adds_to_the_interval(sso, oidc):
    sso.configure(slow_down_increment=1)
    client = register(oidc)
    device = start(oidc, sso, client)
    for _ in range(2):  # the aws CLI's two back-to-back polls are let through
        with pytest.raises(oidc.exceptions.AuthorizationPendingException):
            poll(oidc, client, device)
    with pytest.raises(oidc.exceptions.SlowDownException):
        poll(oidc, client, device)
    time.sleep(1.3)  # past the first interval, not past interval + 1
    with pytest.raises(oidc.exceptions.SlowDownException):
        poll(oidc, client, device)
    time.sleep(3.2)
    with pytest.raises(oidc.exceptions.AuthorizationPendingException):
        poll(oidc, client, device)


def test_device_code_expires_denies_and_is_exchanged_once_by_its_own_client(sso, sts, oidc):
    client, other = register(oidc), register(oidc)
    expiring = start(oidc, sso, client)
    sts.clock_offset += 601
    with pytest.raises(oidc.exceptions.ExpiredTokenException):
        poll(oidc, client, expiring)
    sts.clock_offset -= 601

    denied = start(oidc, sso, client)
    sso.deny(denied["userCode"])
    with pytest.raises(oidc.exceptions.AccessDeniedException):
        poll(oidc, client, denied)

    granted = start(oidc, sso, client)
    sso.approve(granted["userCode"])
    with pytest.raises(oidc.exceptions.InvalidGrantException):
        poll(oidc, other, granted)  # another client's device code
    poll(oidc, client, granted)
    with pytest.raises(oidc.exceptions.InvalidGrantException):
        poll(oidc, client, granted)
    with pytest.raises(KeyError):
        sso.approve("ZZZZ-ZZZZ")


def test_client_registration_refusals_and_client_checks(sso, sts, oidc):
    with pytest.raises(oidc.exceptions.InvalidClientMetadataException):
        oidc.register_client(clientName="tests", clientType="confidential")
    with pytest.raises(oidc.exceptions.InvalidScopeException):
        register(oidc, scopes=["not a scope"])
    with pytest.raises(oidc.exceptions.UnsupportedGrantTypeException):
        register(oidc, grantTypes=["password"])
    with pytest.raises(oidc.exceptions.InvalidRedirectUriException):
        register(oidc, grantTypes=[CODE_GRANT], redirectUris=["http://example.com/callback"], issuerUrl=sso.start_url)
    with pytest.raises(oidc.exceptions.InvalidRequestException):
        register(oidc, grantTypes=[CODE_GRANT], redirectUris=["http://127.0.0.1/oauth/callback"], issuerUrl="https://elsewhere.example/start")

    client = register(oidc)
    wrong_secret = dict(client, clientSecret="x" * 20)
    code, status, _ = error_of(start, oidc, sso, wrong_secret)
    assert (code, status) == ("InvalidClientException", 401)
    with pytest.raises(oidc.exceptions.InvalidClientException):
        start(oidc, sso, dict(client, clientId="unknown"))
    with pytest.raises(oidc.exceptions.InvalidRequestException):
        oidc.start_device_authorization(clientId=client["clientId"], clientSecret=client["clientSecret"], startUrl="https://d-0000000000.awsapps.com/start")
    with pytest.raises(oidc.exceptions.UnsupportedGrantTypeException):
        oidc.create_token(clientId=client["clientId"], clientSecret=client["clientSecret"], grantType="password")
    code_only = register(oidc, grantTypes=[CODE_GRANT], redirectUris=["http://127.0.0.1/oauth/callback"], issuerUrl=sso.start_url, scopes=[DEFAULT_SCOPE])
    with pytest.raises(oidc.exceptions.UnauthorizedClientException):
        start(oidc, sso, code_only)

    sts.clock_offset += 90 * 86400 + 1  # the client secret has expired
    with pytest.raises(oidc.exceptions.InvalidClientException):
        start(oidc, sso, client)
    sts.clock_offset = 0
    sso.expire_registrations()
    with pytest.raises(oidc.exceptions.InvalidClientException):
        start(oidc, sso, client)


# ---------------------------------------------------------------------------------------
# OIDC: refresh and the portal session


def test_refresh_grant_gives_a_new_access_token_and_rotates_the_refresh_token(sso, oidc, portal):
    sso.assign(ACCOUNT_ID, "Developer")
    client, token = device_token(oidc, sso, scopes=[DEFAULT_SCOPE])
    renewed = refresh(oidc, client, token["refreshToken"])
    assert renewed["accessToken"] != token["accessToken"] and renewed["refreshToken"] != token["refreshToken"]
    portal.get_role_credentials(roleName="Developer", accountId=ACCOUNT_ID, accessToken=renewed["accessToken"])
    with pytest.raises(oidc.exceptions.InvalidGrantException):
        refresh(oidc, client, token["refreshToken"])  # used once already
    with pytest.raises(oidc.exceptions.InvalidGrantException):
        refresh(oidc, register(oidc, scopes=[DEFAULT_SCOPE]), renewed["refreshToken"])  # another client's
    again = refresh(oidc, client, renewed["refreshToken"])

    sso.revoke_refresh_token(again["refreshToken"])
    with pytest.raises(oidc.exceptions.InvalidGrantException):
        refresh(oidc, client, again["refreshToken"])


def test_refresh_token_reuse_can_be_allowed(sso, oidc):
    sso.configure(refresh_token_reuse=True)
    client, token = device_token(oidc, sso, scopes=[DEFAULT_SCOPE])
    refresh(oidc, client, token["refreshToken"])
    refresh(oidc, client, token["refreshToken"])
    with pytest.raises(ValueError):
        sso.configure(no_such_setting=1)


def test_unscoped_legacy_client_gets_no_refresh_token_and_a_token_for_the_whole_session(sso, oidc):
    _, token = device_token(oidc, sso)
    assert "refreshToken" not in token and token["expiresIn"] == 8 * 3600


def test_access_tokens_expire_on_the_server_clock_and_on_demand_and_refresh_renews_them(sso, sts, oidc, portal):
    sso.assign(ACCOUNT_ID, "Developer")
    sso.configure(access_token_lifetime=60)
    client, token = device_token(oidc, sso, scopes=[DEFAULT_SCOPE])
    assert token["expiresIn"] == 60
    sts.clock_offset += 61
    with pytest.raises(portal.exceptions.UnauthorizedException):
        portal.list_accounts(accessToken=token["accessToken"])
    renewed = refresh(oidc, client, token["refreshToken"])
    portal.list_accounts(accessToken=renewed["accessToken"])
    sso.expire_access_tokens()
    assert not sso.access_token_valid(renewed["accessToken"])
    with pytest.raises(portal.exceptions.UnauthorizedException):
        portal.get_role_credentials(roleName="Developer", accountId=ACCOUNT_ID, accessToken=renewed["accessToken"])
    assert sso.access_token_valid(refresh(oidc, client, renewed["refreshToken"])["accessToken"])


def test_the_portal_session_ends_after_its_duration_by_logout_or_by_the_test(sso, sts, oidc, portal):
    sso.configure(session_duration=1800)
    client, token = device_token(oidc, sso, scopes=[DEFAULT_SCOPE])
    assert token["expiresIn"] == 1800  # no token outlives its session
    sts.clock_offset += 1801
    with pytest.raises(oidc.exceptions.InvalidGrantException):
        refresh(oidc, client, token["refreshToken"])
    sts.clock_offset = 0

    client, token = device_token(oidc, sso, scopes=[DEFAULT_SCOPE])
    portal.logout(accessToken=token["accessToken"])
    with pytest.raises(portal.exceptions.UnauthorizedException):
        portal.list_accounts(accessToken=token["accessToken"])
    with pytest.raises(portal.exceptions.UnauthorizedException):
        portal.logout(accessToken=token["accessToken"])
    with pytest.raises(oidc.exceptions.InvalidGrantException):
        refresh(oidc, client, token["refreshToken"])

    client, token = device_token(oidc, sso, scopes=[DEFAULT_SCOPE])
    sso.end_sessions()
    with pytest.raises(portal.exceptions.UnauthorizedException):
        portal.list_accounts(accessToken=token["accessToken"])
    with pytest.raises(oidc.exceptions.InvalidGrantException):
        refresh(oidc, client, token["refreshToken"])


# ---------------------------------------------------------------------------------------
# OIDC: the authorization-code flow with PKCE


class Callback:
    """A loopback callback server, as `aws sso login` runs one: records the query it is sent."""

    def __init__(self):
        queries = self.queries = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                queries.append(parse_qs(urlsplit(self.path).query))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.uri = f"http://127.0.0.1:{self.server.server_port}/oauth/callback"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def callback():
    server = Callback()
    yield server
    server.close()


def authorize_url(sso, client: dict, redirect_uri: str, verifier: str, **overrides) -> str:
    params = {
        "response_type": "code",
        "client_id": client["clientId"],
        "redirect_uri": redirect_uri,
        "state": "state-1",
        "code_challenge_method": "S256",
        "scopes": DEFAULT_SCOPE,
        "code_challenge": _pkce_challenge(verifier),
        **overrides,
    }
    return f"{sso.oidc_url}/authorize?{urlencode(params)}"


def code_client(oidc, sso) -> dict:
    return register(
        oidc, grantTypes=[CODE_GRANT, REFRESH_GRANT], redirectUris=["http://127.0.0.1/oauth/callback"], issuerUrl=sso.start_url, scopes=[DEFAULT_SCOPE]
    )


def exchange(oidc, client, code, redirect_uri, verifier):
    return oidc.create_token(
        clientId=client["clientId"], clientSecret=client["clientSecret"], grantType=CODE_GRANT, code=code, redirectUri=redirect_uri, codeVerifier=verifier
    )


def test_authorization_code_flow_with_pkce_checks_code_verifier_redirect_uri_and_single_use(sso, oidc, callback):
    client = code_client(oidc, sso)
    verifier = "v" * 64
    location = sso.complete_authorization(authorize_url(sso, client, callback.uri, verifier))
    query = callback.queries[-1]
    assert location.startswith(callback.uri + "?") and query["state"] == ["state-1"]
    code = query["code"][0]
    with pytest.raises(oidc.exceptions.InvalidGrantException):
        exchange(oidc, client, code, callback.uri, "w" * 64)
    with pytest.raises(oidc.exceptions.InvalidGrantException):
        exchange(oidc, client, code, "http://127.0.0.1:1/oauth/callback", verifier)
    token = exchange(oidc, client, code, callback.uri, verifier)
    assert token["refreshToken"] and token["expiresIn"] == 3600
    with pytest.raises(oidc.exceptions.InvalidGrantException):
        exchange(oidc, client, code, callback.uri, verifier)
    assert refresh(oidc, client, token["refreshToken"])["accessToken"]

    sso.set_authorization_answer(False)
    sso.complete_authorization(authorize_url(sso, client, callback.uri, verifier, state="state-2"))
    assert callback.queries[-1] == {"error": ["access_denied"], "state": ["state-2"]}
    sso.set_authorization_answer(True)
    sso.complete_authorization(authorize_url(sso, client, callback.uri, verifier, code_challenge_method="plain"))
    assert callback.queries[-1]["error"] == ["invalid_request"]
    with pytest.raises(urllib.error.HTTPError) as refused:  # never redirected to a URI the client did not register
        urllib.request.urlopen(authorize_url(sso, client, "http://127.0.0.1:9/elsewhere", verifier))
    assert refused.value.code == 400
    assert sso.calls("Authorize") == 4


# ---------------------------------------------------------------------------------------
# The portal


def test_portal_refusals_use_aws_codes_and_statuses(sso, oidc, portal):
    sso.assign(ACCOUNT_ID, "Developer")
    _, token = device_token(oidc, sso, scopes=[DEFAULT_SCOPE])
    assert error_of(portal.get_role_credentials, roleName="Admin", accountId=ACCOUNT_ID, accessToken=token["accessToken"])[:2] == ("ForbiddenException", 403)
    assert error_of(portal.get_role_credentials, roleName="Developer", accountId=OTHER_ACCOUNT, accessToken=token["accessToken"])[:2] == ("ForbiddenException", 403)
    assert error_of(portal.list_account_roles, accountId=OTHER_ACCOUNT, accessToken=token["accessToken"])[:2] == ("ForbiddenException", 403)
    code, status, response = error_of(portal.get_role_credentials, roleName="Developer", accountId=ACCOUNT_ID, accessToken="aoa-unknown")
    assert (code, status, response["Error"]["Message"]) == ("UnauthorizedException", 401, "Session token not found or invalid")

    request = urllib.request.Request(f"{sso.portal_url}/federation/credentials?account_id={ACCOUNT_ID}&role_name=Developer")
    with pytest.raises(urllib.error.HTTPError) as missing:  # no x-amz-sso_bearer_token at all
        urllib.request.urlopen(request)
    assert missing.value.code == 401 and missing.value.headers["x-amzn-ErrorType"].startswith("UnauthorizedException:")
    assert json.loads(missing.value.read())["__type"] == "com.amazonaws.switchboard.portal#UnauthorizedException"
    assert [entry["bearer"] for entry in sso.call_log() if entry["operation"] == "GetRoleCredentials"] == [True, True, True, False]

    sso.unassign(ACCOUNT_ID, "Developer")
    assert error_of(portal.get_role_credentials, roleName="Developer", accountId=ACCOUNT_ID, accessToken=token["accessToken"])[0] == "ForbiddenException"


def test_list_accounts_and_roles_paginate(sso, oidc, portal):
    accounts = [f"{n:012d}" for n in range(100000000001, 100000000006)]
    for account in accounts:
        sso.assign(account, "Developer", account_name=f"team-{account[-1]}")
    for role in ("Admin", "ReadOnly", "Billing"):
        sso.assign(accounts[0], role)
    _, token = device_token(oidc, sso)
    pages = list(portal.get_paginator("list_accounts").paginate(accessToken=token["accessToken"], PaginationConfig={"PageSize": 2}))
    assert [len(page["accountList"]) for page in pages] == [2, 2, 1]
    assert [a["accountId"] for page in pages for a in page["accountList"]] == accounts
    assert pages[0]["accountList"][0] == {"accountId": accounts[0], "accountName": "team-1", "emailAddress": f"aws+{accounts[0]}@example.com"}
    roles = portal.get_paginator("list_account_roles").paginate(accessToken=token["accessToken"], accountId=accounts[0], PaginationConfig={"PageSize": 3})
    assert [r["roleName"] for page in roles for r in page["roleList"]] == ["Developer", "Admin", "ReadOnly", "Billing"]
    assert "nextToken" not in portal.list_accounts(accessToken=token["accessToken"])  # 20 a page by default
    with pytest.raises(portal.exceptions.InvalidRequestException):
        portal.list_accounts(accessToken=token["accessToken"], nextToken="not-a-token")
    unvalidated = boto3.session.Session().client(
        "sso", region_name="us-east-1", endpoint_url=sso.portal_url, config=NO_RETRIES.merge(Config(parameter_validation=False))
    )
    with pytest.raises(unvalidated.exceptions.InvalidRequestException):
        unvalidated.list_accounts(accessToken=token["accessToken"], maxResults=0)


def test_role_credentials_are_a_role_session_of_the_local_sts(sso, sts, oidc, portal):
    sso.assign(ACCOUNT_ID, "Developer")
    sso.set_user("alice@example.com")
    sso.configure(role_credential_duration=900)
    _, token = device_token(oidc, sso)
    credentials = portal.get_role_credentials(roleName="Developer", accountId=ACCOUNT_ID, accessToken=token["accessToken"])["roleCredentials"]
    client = sts_client(sts, credentials)
    assert client.get_caller_identity()["Arn"].endswith("/alice@example.com")
    info = sts.credential_info(credentials["accessKeyId"], credentials["secretAccessKey"], credentials["sessionToken"])
    assert (info["kind"], info["origin"]) == ("assumed-role", "federation")

    target = sts.create_role("Deployer", max_session_duration=43200)
    assert client.assume_role(RoleArn=target, RoleSessionName="deploy")["AssumedRoleUser"]["Arn"].endswith(":assumed-role/Deployer/deploy")
    with pytest.raises(ClientError) as chained:
        client.assume_role(RoleArn=target, RoleSessionName="deploy", DurationSeconds=7200)
    assert "role chaining" in chained.value.response["Error"]["Message"]
    assert abs(credentials["expiration"] / 1000 - (time.time() + 900)) < 5 and not info["expired"]
    sts.clock_offset += 901
    assert sts.credential_info(credentials["accessKeyId"], credentials["secretAccessKey"], credentials["sessionToken"])["expired"]


# ---------------------------------------------------------------------------------------
# Faults and the two endpoints


def test_faults_are_injected_per_operation_and_counted(sso, oidc, portal):
    sso.assign(ACCOUNT_ID, "Developer")
    _, token = device_token(oidc, sso)
    access = token["accessToken"]
    sso.reset_calls()
    sso.inject_fault("GetRoleCredentials", "429")
    sso.inject_fault("GetRoleCredentials", "500")
    sso.inject_fault("GetRoleCredentials", "401")
    sso.inject_error("ListAccounts", "TooManyRequestsException", "slow down\n$(touch pwned)")
    sso.inject_reply("ListAccountRoles", '{"roleList": "not a list"', status=200)
    assert error_of(portal.get_role_credentials, roleName="Developer", accountId=ACCOUNT_ID, accessToken=access)[:2] == ("TooManyRequestsException", 429)
    assert error_of(portal.get_role_credentials, roleName="Developer", accountId=ACCOUNT_ID, accessToken=access)[:2] == ("InternalServerException", 500)
    assert error_of(portal.get_role_credentials, roleName="Developer", accountId=ACCOUNT_ID, accessToken=access)[:2] == ("UnauthorizedException", 401)
    portal.get_role_credentials(roleName="Developer", accountId=ACCOUNT_ID, accessToken=access)
    code, _, response = error_of(portal.list_accounts, accessToken=access)
    assert (code, response["Error"]["Message"]) == ("TooManyRequestsException", "slow down\n$(touch pwned)")
    assert "roleList" not in portal.list_account_roles(accessToken=access, accountId=ACCOUNT_ID)  # not JSON: botocore finds nothing
    sso.inject_fault("CreateToken", "401")
    with pytest.raises(oidc.exceptions.InvalidClientException):
        device_token(oidc, sso)
    sso.inject_fault("*", "slow:0.5")
    began = time.monotonic()
    portal.list_accounts(accessToken=access)
    assert time.monotonic() - began >= 0.5
    assert sso.calls("GetRoleCredentials") == 4 and sso.calls() == 10
    assert [entry["status"] for entry in sso.call_log() if entry["operation"] == "GetRoleCredentials"] == [429, 500, 401, 200]
    with pytest.raises(ValueError):
        sso.inject_fault("ListAccounts", "teapot")


def test_each_api_answers_only_on_its_own_endpoint(sso):
    confused = boto3.session.Session().client("sso", region_name="us-east-1", endpoint_url=sso.oidc_url, config=NO_RETRIES)
    assert error_of(confused.list_accounts, accessToken="x")[:2] == ("UnknownOperationException", 404)
    confused_oidc = boto3.session.Session().client("sso-oidc", region_name="us-east-1", endpoint_url=sso.portal_url, config=NO_RETRIES)
    assert error_of(confused_oidc.register_client, clientName="x", clientType="public")[:2] == ("UnknownOperationException", 404)


# ---------------------------------------------------------------------------------------
# Real clients: AWS CLI v2's `aws sso login`, the venv's aws CLI (botocore's SSO providers)


def write_config(home, sso, services_section: bool = False) -> None:
    services = ""
    if services_section:
        services = f"\n[services local-sso]\nsso_oidc =\n  endpoint_url = {sso.oidc_url}\nsso =\n  endpoint_url = {sso.portal_url}\n"
    home.write_config(
        f"[profile legacy]\nsso_start_url = {sso.start_url}\nsso_region = us-east-1\nsso_account_id = {ACCOUNT_ID}\n"
        "sso_role_name = Developer\nregion = us-east-1\n\n"
        f"[profile dev]\nsso_session = corp\nsso_account_id = {ACCOUNT_ID}\nsso_role_name = Developer\nregion = us-east-1\n"
        + ("services = local-sso\n" if services_section else "")
        + f"\n[sso-session corp]\nsso_start_url = {sso.start_url}\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n"
        + services
    )


def cli_env(home, sso, endpoints_in_env: bool = True) -> dict:
    return {**home.env, "AWS_PAGER": "", **(sso.endpoint_env() if endpoints_in_env else {})}


def sso_login(aws_v2, env, *args) -> pexpect.spawn:
    return pexpect.spawn(aws_v2, ["sso", "login", "--no-browser", *args], env=env, encoding="utf-8", timeout=60)


def finish(child: pexpect.spawn) -> str:
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    return child.before


def caller_arn(home, env, profile: str) -> str:
    """`aws --profile P sts get-caller-identity` with the venv's aws CLI (v1): botocore's own SSO providers."""
    result = subprocess.run(["aws", "--profile", profile, "sts", "get-caller-identity"], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["Arn"]


def test_aws_cli_v2_device_login_of_a_legacy_profile_then_botocore_serves_it(home, sso, aws_v2):
    sso.assign(ACCOUNT_ID, "Developer")
    write_config(home, sso)
    env = cli_env(home, sso)
    child = sso_login(aws_v2, env, "--profile", "legacy")
    child.expect(r"\b([B-Z]{4}-[B-Z]{4})\b")
    sso.approve(child.match.group(1))
    assert "Successfully logged into Start URL" in finish(child)
    cached = json.loads(token_cache_path(home.path, sso.start_url).read_text())
    assert cached["startUrl"] == sso.start_url and sso.access_token_valid(cached["accessToken"]) and "refreshToken" not in cached
    assert caller_arn(home, env, "legacy") == sso.assumed_role_arn(ACCOUNT_ID, "Developer")
    assert [sso.calls(op) for op in ("RegisterClient", "StartDeviceAuthorization", "GetRoleCredentials")] == [1, 1, 1]
    assert "SlowDownException" not in [entry["error"] for entry in sso.call_log()]


def test_aws_cli_v2_pkce_login_of_an_sso_session_then_botocore_serves_it_and_logout_ends_it(home, sso, aws_v2):
    sso.assign(ACCOUNT_ID, "Developer")
    write_config(home, sso)
    env = cli_env(home, sso)
    child = sso_login(aws_v2, env, "--profile", "dev")
    child.expect(r"(http://127\.0\.0\.1:\d+/authorize\?\S+)")
    callback = sso.complete_authorization(child.match.group(1))
    assert urlsplit(callback).path == "/oauth/callback"
    finish(child)
    cached = json.loads(token_cache_path(home.path, "corp").read_text())
    assert cached["refreshToken"].startswith("aor") and cached["registrationExpiresAt"]
    assert [entry["grant"] for entry in sso.call_log() if entry["operation"] == "CreateToken"] == [CODE_GRANT]
    assert caller_arn(home, env, "dev") == sso.assumed_role_arn(ACCOUNT_ID, "Developer")

    logout = subprocess.run([aws_v2, "sso", "logout", "--profile", "dev"], capture_output=True, text=True, env=env, timeout=60)
    assert logout.returncode == 0, logout.stderr
    assert sso.calls("Logout") == 1 and not sso.access_token_valid(cached["accessToken"])


def test_aws_cli_v2_device_code_login_with_services_section_then_botocore_refreshes_the_token(home, sso, aws_v2):
    sso.assign(ACCOUNT_ID, "Developer")
    sso.configure(access_token_lifetime=600)  # inside botocore's 15-minute refresh window
    write_config(home, sso, services_section=True)
    env = cli_env(home, sso, endpoints_in_env=False)
    child = sso_login(aws_v2, env, "--profile", "dev", "--use-device-code")
    child.expect(r"\b([B-Z]{4}-[B-Z]{4})\b")
    sso.approve(child.match.group(1))
    finish(child)
    path = token_cache_path(home.path, "corp")
    first = json.loads(path.read_text())

    assert caller_arn(home, env, "dev") == sso.assumed_role_arn(ACCOUNT_ID, "Developer")
    renewed = json.loads(path.read_text())
    assert [entry["grant"] for entry in sso.call_log() if entry["operation"] == "CreateToken"][-1] == REFRESH_GRANT
    assert renewed["accessToken"] != first["accessToken"] and renewed["refreshToken"] != first["refreshToken"]
    assert caller_arn(home, env, "dev")  # and again with the rotated refresh token
    assert sso.calls("CreateToken") >= 3


def test_login_helper_writes_what_botocore_reads_and_an_ended_session_is_refused(home, sso):
    sso.assign(ACCOUNT_ID, "Developer")
    write_config(home, sso)
    env = cli_env(home, sso)
    path = token_cache_path(home.path, sso.start_url)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(sso.login(scopes=())))
    assert caller_arn(home, env, "legacy") == sso.assumed_role_arn(ACCOUNT_ID, "Developer")
    sso.end_sessions()
    result = subprocess.run(["aws", "--profile", "legacy", "sts", "get-caller-identity"], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode != 0 and "aws sso login" in result.stderr


def test_standalone_demo_with_auto_approve(tmp_path):
    script = os.path.join(os.path.dirname(__file__), "localsso.py")
    process = pexpect.spawn(sys.executable, [script, "--auto-approve"], env=dict(os.environ), encoding="utf-8", timeout=60)
    try:
        process.expect(r"\{.*\}\r?\n")
        state = json.loads(process.match.group(0))
        oidc = boto3.session.Session().client("sso-oidc", region_name="us-east-1", endpoint_url=state["AWS_ENDPOINT_URL_SSO_OIDC"], config=NO_RETRIES)
        client = register(oidc, scopes=[DEFAULT_SCOPE])
        device = oidc.start_device_authorization(clientId=client["clientId"], clientSecret=client["clientSecret"], startUrl=state["sso_start_url"])
        token = poll(oidc, client, device)  # approved on its first poll
        portal = boto3.session.Session().client("sso", region_name="us-east-1", endpoint_url=state["AWS_ENDPOINT_URL_SSO"], config=NO_RETRIES)
        credentials = portal.get_role_credentials(roleName=state["sso_role_name"], accountId=state["sso_account_id"], accessToken=token["accessToken"])
        demo = boto3.session.Session().client(
            "sts",
            endpoint_url=state["sts_url"],
            region_name="us-east-1",
            aws_access_key_id=credentials["roleCredentials"]["accessKeyId"],
            aws_secret_access_key=credentials["roleCredentials"]["secretAccessKey"],
            aws_session_token=credentials["roleCredentials"]["sessionToken"],
        )
        assert demo.get_caller_identity()["Arn"].endswith("/demo")
        process.kill(signal.SIGTERM)
        process.expect(pexpect.EOF)
        process.close()
        assert process.exitstatus == 0
    finally:
        if process.isalive():
            process.terminate(force=True)

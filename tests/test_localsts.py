"""Tests for tests/localsts.py: the local STS refuses what AWS refuses and accepts what AWS accepts."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import botocore.auth
import botocore.compat
import pyotp
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError

sys.path.insert(0, str(Path(__file__).parent))
from localsts import ACCOUNT_ID, ADMIN_ACCESS_KEY_ID, LocalSTS  # noqa: E402

pytestmark = pytest.mark.slow  # every test here talks to a LocalSTS server
NO_RETRIES = {"total_max_attempts": 1, "mode": "standard"}
OTHER_ACCOUNT = "111111111111"
TASK_POLICY = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server for the module, in an environment with no real AWS configuration."""
    home = tmp_path_factory.mktemp("aws-home")
    with pytest.MonkeyPatch.context() as env:
        for name in [name for name in os.environ if name.startswith("AWS_")]:
            env.delenv(name)
        env.setenv("AWS_CONFIG_FILE", str(home / "no-config"))
        env.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "no-credentials"))
        env.setenv("NO_PROXY", "127.0.0.1,localhost")
        local = LocalSTS().start()
        yield local
        local.stop()


@pytest.fixture(autouse=True)
def fresh(server):
    server.reset()


def sts_client(server, key: str, secret: str, token: str | None = None, **config):
    options = {"retries": dict(NO_RETRIES), **config}
    return boto3.session.Session().client(
        "sts",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=Config(**options),
    )


def user_client(server, user: dict, **config):
    return sts_client(server, user["access_key_id"], user["secret_access_key"], **config)


def credentials_client(server, credentials: dict, **config):
    return sts_client(
        server, credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"], **config
    )


def anonymous_client(server):
    return boto3.session.Session().client(
        "sts",
        endpoint_url=server.url,
        region_name="us-east-1",
        config=Config(signature_version=UNSIGNED, retries=dict(NO_RETRIES)),
    )


def raw_client(server, user: dict):
    """A client that sends what it is given, so the server's own validation is what answers."""
    return user_client(server, user, parameter_validation=False)


def refusal(call, *args, **kwargs) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    response = caught.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def seconds_left(expiration: dt.datetime, offset: float = 0.0) -> float:
    return expiration.timestamp() - (time.time() + offset)


@pytest.fixture
def shifted_client_clock(monkeypatch):
    """Move botocore's signing clock, as if time had passed on the client too."""

    def shift(seconds: float) -> None:
        real = botocore.compat.get_current_datetime

        def shifted(remove_tzinfo=True):
            return real(remove_tzinfo) + dt.timedelta(seconds=seconds)

        monkeypatch.setattr(botocore.auth, "get_current_datetime", shifted)

    return shift


def foreign_user(server, name: str) -> dict:
    """An IAM user with an access key in another account (moto's x-moto-account-id header)."""
    iam = boto3.session.Session().client(
        "iam",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=ADMIN_ACCESS_KEY_ID,
        aws_secret_access_key="any",
    )
    iam.meta.events.register(
        "before-sign.iam.*", lambda request, **_: request.headers.__setitem__("x-moto-account-id", OTHER_ACCOUNT)
    )
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"]}


# ---------------------------------------------------------------------------------------
# Who is calling


def test_caller_identity_of_user_and_admin(server):
    alice = server.create_user("alice")
    identity = user_client(server, alice).get_caller_identity()
    assert identity["Arn"] == alice["arn"] == f"arn:aws:iam::{ACCOUNT_ID}:user/alice"
    assert identity["Account"] == ACCOUNT_ID
    admin = server.admin_client("sts").get_caller_identity()
    assert admin["Arn"] == f"arn:aws:iam::{ACCOUNT_ID}:root"


def test_unknown_and_inactive_keys_are_refused(server):
    code, message, status = refusal(sts_client(server, "AKIAUNKNOWNUNKNOWN00", "x").get_caller_identity)
    assert (code, status) == ("InvalidClientTokenId", 403)
    assert message == "The security token included in the request is invalid."
    alice = server.create_user("alice")
    iam = server.admin_client("iam")
    iam.update_access_key(UserName="alice", AccessKeyId=alice["access_key_id"], Status="Inactive")
    assert refusal(user_client(server, alice).get_caller_identity)[0] == "InvalidClientTokenId"


def test_session_tokens_must_match_their_keys(server):
    alice = server.create_user("alice")
    session = user_client(server, alice).get_session_token()["Credentials"]
    without_token = sts_client(server, session["AccessKeyId"], session["SecretAccessKey"])
    assert refusal(without_token.get_caller_identity)[0] == "InvalidClientTokenId"
    wrong_token = sts_client(server, session["AccessKeyId"], session["SecretAccessKey"], "bogus")
    assert refusal(wrong_token.get_caller_identity)[0] == "InvalidClientTokenId"
    key_with_token = sts_client(server, alice["access_key_id"], alice["secret_access_key"], session["SessionToken"])
    assert refusal(key_with_token.get_caller_identity)[0] == "InvalidClientTokenId"


def test_unsigned_request_is_refused(server):
    anonymous = anonymous_client(server)
    code, _, status = refusal(anonymous.get_caller_identity)
    assert (code, status) == ("MissingAuthenticationToken", 403)


def test_identity_survives_get_session_token(server):
    alice = server.create_user("alice")
    session = user_client(server, alice).get_session_token(DurationSeconds=900)["Credentials"]
    assert session["AccessKeyId"].startswith("ASIA")
    as_session = credentials_client(server, session)
    assert as_session.get_caller_identity()["Arn"] == alice["arn"]
    role_arn = server.create_role("Admin", trust_principal=alice["arn"])
    assumed = as_session.assume_role(RoleArn=role_arn, RoleSessionName="alice")
    assert assumed["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/Admin/alice"
    missing = f"arn:aws:iam::{ACCOUNT_ID}:role/Missing"
    _, message, _ = refusal(as_session.assume_role, RoleArn=missing, RoleSessionName="alice")
    assert message == f"User: {alice['arn']} is not authorized to perform: sts:AssumeRole on resource: {missing}"
    assert server.call_log()[-1]["access_key_id"] == session["AccessKeyId"]


def test_assumed_role_credentials_work_and_are_tracked(server):
    alice = server.create_user("alice")
    role_arn = server.create_role("Admin")
    assumed = user_client(server, alice).assume_role(RoleArn=role_arn, RoleSessionName="work", DurationSeconds=900)
    identity = credentials_client(server, assumed["Credentials"]).get_caller_identity()
    assert identity["Arn"] == assumed["AssumedRoleUser"]["Arn"]
    assert identity["UserId"] == assumed["AssumedRoleUser"]["AssumedRoleId"]
    assert 800 < seconds_left(assumed["Credentials"]["Expiration"]) <= 900


# ---------------------------------------------------------------------------------------
# AssumeRole


def test_assume_role_refuses_bad_role_arns(server):
    client = raw_client(server, server.create_user("alice"))
    code, message, status = refusal(client.assume_role, RoleArn="not-an-arn", RoleSessionName="ok")
    assert (code, status) == ("ValidationError", 400)
    assert "at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20" in message
    user_arn = f"arn:aws:iam::{ACCOUNT_ID}:user/alice"
    assert refusal(client.assume_role, RoleArn=user_arn, RoleSessionName="ok")[:2] == (
        "ValidationError",
        "Request ARN is invalid",
    )
    missing = f"arn:aws:iam::{ACCOUNT_ID}:role/Missing"
    code, _, status = refusal(client.assume_role, RoleArn=missing, RoleSessionName="ok")
    assert (code, status) == ("AccessDenied", 403)


@pytest.mark.parametrize("name", ["x", "has space", "slash/no", "a" * 65])
def test_assume_role_refuses_bad_session_names(server, name):
    client = raw_client(server, server.create_user("alice"))
    code, message, _ = refusal(client.assume_role, RoleArn=server.create_role("Admin"), RoleSessionName=name)
    assert code == "ValidationError"
    assert f"Value '{name}' at 'roleSessionName' failed to satisfy constraint" in message


@pytest.mark.parametrize("name", ["ab", "user@example.com", "a+b=c,d.e-f_g", "a" * 64])
def test_assume_role_accepts_good_session_names(server, name):
    client = user_client(server, server.create_user("alice"))
    assert client.assume_role(RoleArn=server.create_role("Admin"), RoleSessionName=name)["Credentials"]


def test_assume_role_duration_limits(server):
    client = raw_client(server, server.create_user("alice"))
    role_arn = server.create_role("Admin", max_session_duration=7200)
    code, message, _ = refusal(client.assume_role, RoleArn=role_arn, RoleSessionName="ss", DurationSeconds=899)
    assert code == "ValidationError" and "Member must have value greater than or equal to 900" in message
    _, message, _ = refusal(client.assume_role, RoleArn=role_arn, RoleSessionName="ss", DurationSeconds=7201)
    assert message == "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
    credentials = client.assume_role(RoleArn=role_arn, RoleSessionName="ss", DurationSeconds=7200)["Credentials"]
    assert 7100 < seconds_left(credentials["Expiration"]) <= 7200


def test_role_chaining_is_limited_to_one_hour(server):
    alice = server.create_user("alice")
    role_arn = server.create_role("Admin", max_session_duration=43200)
    first = user_client(server, alice).assume_role(RoleArn=role_arn, RoleSessionName="first", DurationSeconds=43200)
    chained = credentials_client(server, first["Credentials"])
    code, message, _ = refusal(chained.assume_role, RoleArn=role_arn, RoleSessionName="second", DurationSeconds=3601)
    assert (code, message) == (
        "ValidationError",
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
    )
    assert chained.assume_role(RoleArn=role_arn, RoleSessionName="second", DurationSeconds=3600)["Credentials"]


def test_external_id_condition(server):
    client = raw_client(server, server.create_user("alice"))
    role_arn = server.create_role("Partner", external_id="secret-id")
    assert refusal(client.assume_role, RoleArn=role_arn, RoleSessionName="ss")[0] == "AccessDenied"
    wrong = refusal(client.assume_role, RoleArn=role_arn, RoleSessionName="ss", ExternalId="wrong-id")
    assert wrong[0] == "AccessDenied"
    assert client.assume_role(RoleArn=role_arn, RoleSessionName="ss", ExternalId="secret-id")["Credentials"]
    code, message, _ = refusal(client.assume_role, RoleArn=role_arn, RoleSessionName="ss", ExternalId="bad id!")
    assert code == "ValidationError" and "at 'externalId'" in message


def test_trust_principal_names_who_may_assume(server):
    alice, bob = server.create_user("alice"), server.create_user("bob")
    role_arn = server.create_role("AliceOnly", trust_principal=alice["arn"])
    assert user_client(server, alice).assume_role(RoleArn=role_arn, RoleSessionName="alice")["Credentials"]
    _, message, _ = refusal(user_client(server, bob).assume_role, RoleArn=role_arn, RoleSessionName="bob")
    assert message.startswith(f"User: {bob['arn']} is not authorized to perform: sts:AssumeRole")


# ---------------------------------------------------------------------------------------
# MFA


def test_mfa_role_needs_mfa(server):
    alice = server.create_user("alice")
    serial, secret = server.create_virtual_mfa("alice")
    role_arn = server.create_role("Secure", require_mfa=True)
    client = user_client(server, alice)
    assert refusal(client.assume_role, RoleArn=role_arn, RoleSessionName="ss")[0] == "AccessDenied"
    plain_session = credentials_client(server, client.get_session_token()["Credentials"])
    assert refusal(plain_session.assume_role, RoleArn=role_arn, RoleSessionName="ss")[0] == "AccessDenied"
    direct = client.assume_role(
        RoleArn=role_arn, RoleSessionName="ss", SerialNumber=serial, TokenCode=pyotp.TOTP(secret).now()
    )
    assert direct["Credentials"]


def test_mfa_session_carries_mfa_to_assume_role(server):
    alice = server.create_user("alice")
    serial, secret = server.create_virtual_mfa("alice")
    role_arn = server.create_role("Secure", require_mfa=True)
    session = user_client(server, alice).get_session_token(SerialNumber=serial, TokenCode=pyotp.TOTP(secret).now())
    mfa_session = credentials_client(server, session["Credentials"])
    assert mfa_session.assume_role(RoleArn=role_arn, RoleSessionName="ss")["Credentials"]
    assert mfa_session.assume_role(RoleArn=role_arn, RoleSessionName="again")["Credentials"]


def test_mfa_code_cannot_be_reused(server):
    alice = server.create_user("alice")
    serial, secret = server.create_virtual_mfa("alice")
    totp, client = pyotp.TOTP(secret), user_client(server, alice)
    code = totp.now()
    assert client.get_session_token(SerialNumber=serial, TokenCode=code)["Credentials"]
    reused = refusal(client.get_session_token, SerialNumber=serial, TokenCode=code)
    assert reused == ("AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code.", 403)
    next_code = totp.at(time.time() + 30)
    if next_code != code:
        assert client.get_session_token(SerialNumber=serial, TokenCode=next_code)["Credentials"]


def test_wrong_mfa_codes_and_devices_are_refused(server):
    alice = server.create_user("alice")
    server.create_user("bob")
    serial, secret = server.create_virtual_mfa("alice")
    bob_serial, bob_secret = server.create_virtual_mfa("bob")
    client = raw_client(server, alice)
    good = pyotp.TOTP(secret).now()
    wrong = f"{(int(good) + 500000) % 1000000:06d}"
    assert refusal(client.get_session_token, SerialNumber=serial, TokenCode=wrong)[:2] == (
        "AccessDenied",
        "MultiFactorAuthentication failed with invalid MFA one time pass code.",
    )
    bob_code = pyotp.TOTP(bob_secret).now()
    code, message, _ = refusal(client.get_session_token, SerialNumber=bob_serial, TokenCode=bob_code)
    assert code == "AccessDenied" and "MFA serial number is valid and associated with this user" in message
    unknown = f"arn:aws:iam::{ACCOUNT_ID}:mfa/nobody"
    assert refusal(client.get_session_token, SerialNumber=unknown, TokenCode=good)[0] == "AccessDenied"
    code, message, _ = refusal(client.get_session_token, SerialNumber=serial, TokenCode="12ab56")
    assert code == "ValidationError" and "at 'tokenCode'" in message
    assert refusal(client.get_session_token, SerialNumber=serial)[0] == "AccessDenied"


def test_create_virtual_mfa_enables_the_device(server):
    server.create_user("alice")
    serial, secret = server.create_virtual_mfa("alice")
    assert serial == f"arn:aws:iam::{ACCOUNT_ID}:mfa/alice"
    assert len(pyotp.TOTP(secret).now()) == 6
    devices = server.admin_client("iam").list_mfa_devices(UserName="alice")["MFADevices"]
    assert [device["SerialNumber"] for device in devices] == [serial]


# ---------------------------------------------------------------------------------------
# GetSessionToken and GetFederationToken


def test_get_session_token_limits(server):
    alice = server.create_user("alice")
    client = raw_client(server, alice)
    for duration in (899, 129601):
        assert refusal(client.get_session_token, DurationSeconds=duration)[0] == "ValidationError"
    credentials = client.get_session_token(DurationSeconds=129600)["Credentials"]
    assert 129500 < seconds_left(credentials["Expiration"]) <= 129600
    assert 43100 < seconds_left(client.get_session_token()["Credentials"]["Expiration"]) <= 43200
    code, message, status = refusal(credentials_client(server, credentials).get_session_token)
    assert (code, message, status) == ("AccessDenied", "Cannot call GetSessionToken with session credentials", 403)


def test_get_session_token_for_account_root_lasts_an_hour(server):
    credentials = server.admin_client("sts").get_session_token(DurationSeconds=7200)["Credentials"]
    assert 3500 < seconds_left(credentials["Expiration"]) <= 3600


def test_get_federation_token(server):
    alice = server.create_user("alice")
    client = raw_client(server, alice)
    for name in ("x", "a" * 33, "bad name"):
        code, message, _ = refusal(client.get_federation_token, Name=name)
        assert code == "ValidationError" and "at 'name'" in message
    assert refusal(client.get_federation_token, Name="fed", DurationSeconds=129601)[0] == "ValidationError"
    token = client.get_federation_token(Name="fed", DurationSeconds=900)
    federated_arn = f"arn:aws:sts::{ACCOUNT_ID}:federated-user/fed"
    assert token["FederatedUser"] == {"FederatedUserId": f"{ACCOUNT_ID}:fed", "Arn": federated_arn}
    as_federated = credentials_client(server, token["Credentials"])
    assert as_federated.get_caller_identity()["Arn"] == federated_arn
    code, message, _ = refusal(as_federated.get_federation_token, Name="again")
    assert (code, message) == ("AccessDenied", "Cannot call GetFederationToken with session credentials")


# ---------------------------------------------------------------------------------------
# Time


def test_expired_credentials_are_refused(server, shifted_client_clock):
    alice = server.create_user("alice")
    credentials = user_client(server, alice).get_session_token(DurationSeconds=900)["Credentials"]
    as_session = credentials_client(server, credentials)
    assert as_session.get_caller_identity()["Arn"] == alice["arn"]
    server.clock_offset = 901
    shifted_client_clock(901)
    code, message, status = refusal(as_session.get_caller_identity)
    assert (code, message, status) == ("ExpiredToken", "The security token included in the request is expired", 400)
    assert user_client(server, alice).get_caller_identity()["Arn"] == alice["arn"]


def test_expiry_of_assumed_role_follows_server_clock(server, shifted_client_clock):
    alice = server.create_user("alice")
    server.clock_offset = 3 * 3600
    shifted_client_clock(3 * 3600)
    assumed = user_client(server, alice).assume_role(RoleArn=server.create_role("Admin"), RoleSessionName="ss")
    assert 3500 < seconds_left(assumed["Credentials"]["Expiration"], offset=3 * 3600) <= 3600


@pytest.mark.parametrize(
    ("offset", "wording"), [(600, "Signature expired: "), (-600, "Signature not yet current: ")]
)
def test_clock_skew_is_refused(server, offset, wording):
    alice = server.create_user("alice")
    server.clock_offset = offset
    code, message, status = refusal(user_client(server, alice).get_caller_identity)
    assert (code, status) == ("SignatureDoesNotMatch", 403)
    assert message.startswith(wording) and "5 min." in message


def test_unreadable_request_date_is_refused(server):
    client = user_client(server, server.create_user("alice"))
    client.meta.events.register(
        "before-send.sts.*", lambda request, **_: request.headers.__setitem__("X-Amz-Date", "yesterday")
    )
    assert refusal(client.get_caller_identity)[::2] == ("IncompleteSignature", 400)


def test_small_skew_is_tolerated_and_date_header_follows_server_clock(server):
    alice = server.create_user("alice")
    server.clock_offset = 200
    response = user_client(server, alice).get_caller_identity()
    served = email.utils.parsedate_to_datetime(response["ResponseMetadata"]["HTTPHeaders"]["date"])
    assert abs(served.timestamp() - (time.time() + 200)) < 60


# ---------------------------------------------------------------------------------------
# Counting and faults


def test_calls_are_counted_and_logged(server):
    alice = server.create_user("alice")
    serial, secret = server.create_virtual_mfa("alice")
    client = user_client(server, alice)
    client.get_caller_identity()
    client.get_caller_identity()
    code = pyotp.TOTP(secret).now()
    client.get_session_token(SerialNumber=serial, TokenCode=code, DurationSeconds=900)
    refusal(client.get_session_token, SerialNumber=serial, TokenCode=code)
    assert server.calls("GetCallerIdentity") == 2
    assert server.calls("GetSessionToken") == 2
    assert server.calls("AssumeRole") == 0
    assert server.calls() == 4
    entry = server.call_log()[2]
    assert entry["action"] == "GetSessionToken"
    assert entry["access_key_id"] == alice["access_key_id"]
    assert entry["params"]["SerialNumber"] == serial
    assert entry["params"]["DurationSeconds"] == "900"
    assert code not in json.dumps(server.call_log())
    server.reset_calls()
    assert server.calls() == 0 and server.call_log() == []


@pytest.mark.parametrize(
    ("kind", "code", "status"),
    [
        ("throttle", "Throttling", 400),
        ("500", "InternalFailure", 500),
        ("503", "ServiceUnavailable", 503),
        ("expired_token", "ExpiredToken", 400),
        ("access_denied", "AccessDenied", 403),
    ],
)
def test_error_faults(server, kind, code, status):
    client = user_client(server, server.create_user("alice"))
    server.inject_fault("GetCallerIdentity", kind)
    assert refusal(client.get_caller_identity)[::2] == (code, status)
    assert client.get_caller_identity()["Account"] == ACCOUNT_ID
    assert server.calls("GetCallerIdentity") == 2


def test_throttle_message_and_retrying_client_recovers(server):
    alice = server.create_user("alice")
    server.inject_fault("GetCallerIdentity", "throttle")
    assert refusal(user_client(server, alice).get_caller_identity)[:2] == ("Throttling", "Rate exceeded")
    server.inject_fault("GetCallerIdentity", "throttle", times=2)
    retrying = user_client(server, alice, retries={"total_max_attempts": 3, "mode": "standard"})
    response = retrying.get_caller_identity()
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    assert server.calls("GetCallerIdentity") == 4


def test_malformed_fault(server):
    client = user_client(server, server.create_user("alice"))
    server.inject_fault("GetCallerIdentity", "malformed")
    with pytest.raises(ResponseParserError):
        client.get_caller_identity()


def test_slow_fault_answers_normally_after_the_delay(server):
    client = user_client(server, server.create_user("alice"))
    server.inject_fault("GetCallerIdentity", "slow:1")
    started = time.monotonic()
    assert client.get_caller_identity()["Account"] == ACCOUNT_ID
    assert time.monotonic() - started >= 1.0


def test_fault_targets_times_and_clearing(server):
    alice = server.create_user("alice")
    client = user_client(server, alice)
    server.inject_fault("AssumeRole", "500", times=2)
    assert client.get_caller_identity()
    role_arn = server.create_role("Admin")
    for _ in range(2):
        assert refusal(client.assume_role, RoleArn=role_arn, RoleSessionName="ss")[0] == "InternalFailure"
    assert client.assume_role(RoleArn=role_arn, RoleSessionName="ss")["Credentials"]
    server.inject_fault("*", "throttle")
    assert refusal(client.get_session_token)[0] == "Throttling"
    server.inject_fault("*", "throttle", times=5)
    server.clear_faults()
    assert client.get_caller_identity()
    with pytest.raises(ValueError):
        server.inject_fault("*", "explode")


def test_injected_error_carries_its_message_exactly(server):
    client = user_client(server, server.create_user("alice"))
    message = "denied\ntouch /tmp/x\n@stsenv-exit:0\n'$(id)' `id` <&>"
    server.inject_error("GetCallerIdentity", "AccessDenied", message, status=403)
    assert refusal(client.get_caller_identity) == ("AccessDenied", message, 403)
    assert client.get_caller_identity()["Account"] == ACCOUNT_ID


def test_injected_reply_is_answered_as_written(server):
    client = user_client(server, server.create_user("alice"))
    role_arn = server.create_role("Admin")
    server.inject_reply("AssumeRole", server.credentials_reply("AssumeRole", SessionToken=None, AccessKeyId="ASIALIE"), times=2)
    for _ in range(2):
        credentials = client.assume_role(RoleArn=role_arn, RoleSessionName="ss")["Credentials"]
        assert credentials["AccessKeyId"] == "ASIALIE" and "SessionToken" not in credentials
    assert client.assume_role(RoleArn=role_arn, RoleSessionName="ss")["Credentials"]["SessionToken"]
    server.inject_reply("GetCallerIdentity", "<html>not STS</html>", status=502)
    with pytest.raises(ClientError):
        client.get_caller_identity()


# ---------------------------------------------------------------------------------------
# Actions moto lacks


def test_decode_authorization_message(server):
    client = user_client(server, server.create_user("alice"))
    document = {"allowed": False, "context": {"action": "ec2:RunInstances"}}
    encoded = server.encode_authorization_message(document)
    assert client.decode_authorization_message(EncodedMessage=encoded)["DecodedMessage"] == json.dumps(document)
    code, _, status = refusal(client.decode_authorization_message, EncodedMessage="not-a-message")
    assert (code, status) == ("InvalidAuthorizationMessageException", 400)


def test_assume_root(server):
    client = raw_client(server, server.create_user("alice"))
    response = client.assume_root(TargetPrincipal=OTHER_ACCOUNT, TaskPolicyArn={"arn": TASK_POLICY})
    assert 800 < seconds_left(response["Credentials"]["Expiration"]) <= 900
    assert response["SourceIdentity"] == "alice"
    as_root = credentials_client(server, response["Credentials"])
    assert as_root.get_caller_identity()["Arn"] == f"arn:aws:iam::{OTHER_ACCOUNT}:root"
    refusals = [
        {"TargetPrincipal": "12345", "TaskPolicyArn": {"arn": TASK_POLICY}},
        {"TargetPrincipal": OTHER_ACCOUNT, "TaskPolicyArn": {"arn": "arn:aws:iam::aws:policy/AdministratorAccess"}},
        {"TargetPrincipal": OTHER_ACCOUNT, "TaskPolicyArn": {"arn": TASK_POLICY}, "DurationSeconds": 901},
    ]
    for arguments in refusals:
        assert refusal(client.assume_root, **arguments)[0] == "ValidationError"


def test_assume_root_only_from_the_default_account(server):
    outsider = user_client(server, foreign_user(server, "outsider"))
    code, message, status = refusal(
        outsider.assume_root, TargetPrincipal=OTHER_ACCOUNT, TaskPolicyArn={"arn": TASK_POLICY}
    )
    assert (code, status) == ("AccessDenied", 403)
    assert f"arn:aws:iam::{OTHER_ACCOUNT}:user/outsider" in message


def test_get_access_key_info(server):
    alice = server.create_user("alice")
    client = user_client(server, alice)
    assert client.get_access_key_info(AccessKeyId=alice["access_key_id"])["Account"] == ACCOUNT_ID
    outsider = foreign_user(server, "outsider")
    assert client.get_access_key_info(AccessKeyId=outsider["access_key_id"])["Account"] == OTHER_ACCOUNT
    session = client.get_session_token()["Credentials"]
    assert client.get_access_key_info(AccessKeyId=session["AccessKeyId"])["Account"] == ACCOUNT_ID


def test_web_identity_credentials_are_tracked(server):
    role_arn = server.create_role("Web", federated=server.create_oidc_provider())
    anonymous = anonymous_client(server)
    response = anonymous.assume_role_with_web_identity(
        RoleArn=role_arn, RoleSessionName="web", WebIdentityToken=server.web_identity_token(), DurationSeconds=900
    )
    assert 800 < seconds_left(response["Credentials"]["Expiration"]) <= 900
    as_role = credentials_client(server, response["Credentials"])
    assert as_role.get_caller_identity()["Arn"] == f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/Web/web"
    entry = server.call_log()[0]
    assert entry["access_key_id"] is None and entry["params"]["WebIdentityToken"] == "<redacted>"


def test_web_identity_refuses_what_aws_refuses(server):
    role_arn = server.create_role("Web", federated=server.create_oidc_provider())
    plain_role = server.create_role("Plain")
    anonymous = anonymous_client(server)

    def refused(token, role=role_arn):
        return refusal(anonymous.assume_role_with_web_identity, RoleArn=role, RoleSessionName="web", WebIdentityToken=token)[:2]

    assert refused("header.payload.signature")[0] == "InvalidIdentityToken"
    assert refused(server.web_identity_token(expires_in=-1))[0] == "ExpiredTokenException"
    assert refused(server.web_identity_token(audience="someone-else")) == ("InvalidIdentityToken", "Incorrect token audience")
    assert "No OpenIDConnect provider" in refused(server.web_identity_token(url="https://unknown.example"))[1]
    assert refused(server.web_identity_token(), plain_role) == ("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")


def test_saml_assertion_for_a_role_that_trusts_the_provider(server):
    provider_arn = server.create_saml_provider()
    role_arn = server.create_role("Saml", federated=provider_arn)
    response = anonymous_client(server).assume_role_with_saml(
        RoleArn=role_arn, PrincipalArn=provider_arn, SAMLAssertion=server.saml_assertion(role_arn, provider_arn, session_name="ann")
    )
    assert response["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/Saml/ann"
    assert credentials_client(server, response["Credentials"]).get_caller_identity()["Arn"].endswith("/Saml/ann")
    assert server.call_log()[0]["params"]["SAMLAssertion"] == "<redacted>"


def test_saml_refuses_what_aws_refuses(server):
    provider_arn = server.create_saml_provider()
    role_arn = server.create_role("Saml", federated=provider_arn)
    other_role = server.create_role("Other", federated=provider_arn)
    anonymous = anonymous_client(server)
    good = server.saml_assertion(role_arn, provider_arn)

    def refused(assertion, role=role_arn, provider=provider_arn):
        return refusal(anonymous.assume_role_with_saml, RoleArn=role, PrincipalArn=provider, SAMLAssertion=assertion)[:2]

    assert refused(server.saml_assertion(role_arn, provider_arn, expires_in=-1))[0] == "ExpiredTokenException"
    assert refused("bm90IGEgU0FNTCByZXNwb25zZQ==")[0] == "InvalidIdentityToken"
    assert refused(good, provider=provider_arn.replace("LocalIdP", "Unknown"))[0] == "InvalidIdentityToken"
    assert refused(good, role=other_role) == ("AccessDenied", "Not authorized to perform sts:AssumeRoleWithSAML")


def test_get_web_identity_token_names_the_caller(server):
    alice = server.create_user("alice")
    response = user_client(server, alice).get_web_identity_token(Audience=["https://api.example"], SigningAlgorithm="RS256", DurationSeconds=120)
    claims = server.token_claims(response["WebIdentityToken"])
    assert (claims["sub"], claims["aud"], claims["exp"] - claims["iat"]) == (alice["arn"], "https://api.example", 120)
    assert 100 < seconds_left(response["Expiration"]) <= 120


def test_get_web_identity_token_limits(server):
    alice = server.create_user("alice")
    client = raw_client(server, alice)
    assert refusal(client.get_web_identity_token, Audience=["a"], SigningAlgorithm="RS256", DurationSeconds=59)[0] == "ValidationError"
    assert refusal(client.get_web_identity_token, Audience=["a"], SigningAlgorithm="HS256")[0] == "ValidationError"
    short = client.get_session_token(DurationSeconds=900)["Credentials"]
    code, _, status = refusal(credentials_client(server, short).get_web_identity_token, Audience=["a"], SigningAlgorithm="RS256", DurationSeconds=3600)
    assert (code, status) == ("SessionDurationEscalationException", 403)


# ---------------------------------------------------------------------------------------
# Server


def test_reset_forgets_everything(server):
    alice = server.create_user("alice")
    serial, secret = server.create_virtual_mfa("alice")
    user_client(server, alice).get_caller_identity()
    server.inject_fault("*", "500", times=10)
    server.clock_offset = 42
    server.reset()
    assert (server.calls(), server.clock_offset) == (0, 0.0)
    assert refusal(user_client(server, alice).get_caller_identity)[0] == "InvalidClientTokenId"
    again = user_client(server, server.create_user("alice"))
    code, message, _ = refusal(again.get_session_token, SerialNumber=serial, TokenCode=pyotp.TOTP(secret).now())
    assert code == "AccessDenied" and "MFA serial number" in message


def test_many_concurrent_clients(server):
    alice = server.create_user("alice")
    client = user_client(server, alice)

    def whoami(_):
        return client.get_caller_identity()["Arn"]

    with ThreadPoolExecutor(max_workers=16) as pool:
        arns = list(pool.map(whoami, range(64)))
    assert arns == [alice["arn"]] * 64
    assert server.calls("GetCallerIdentity") == 64


def test_standalone_server(tmp_path):
    state_file = tmp_path / "state.json"
    script = Path(__file__).parent / "localsts.py"
    nowhere = str(tmp_path / "no-such-file")
    process = subprocess.Popen(
        [sys.executable, str(script), "--port", "0", "--state-file", str(state_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "AWS_CONFIG_FILE": nowhere, "AWS_SHARED_CREDENTIALS_FILE": nowhere},
    )
    try:
        line = read_line_within(process, seconds=60)
        state = json.loads(line)
        assert state_file.read_text() == line
        assert state["account"] == ACCOUNT_ID and state["url"].startswith("http://127.0.0.1:")
        demo = boto3.session.Session().client(
            "sts",
            endpoint_url=state["url"],
            region_name="us-east-1",
            aws_access_key_id=state["access_key_id"],
            aws_secret_access_key=state["secret_access_key"],
        )
        assert demo.get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT_ID}:user/demo"
        assert demo.assume_role(RoleArn=state["role_arn"], RoleSessionName="demo")["Credentials"]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


def read_line_within(process: subprocess.Popen, seconds: float) -> str:
    """The first stdout line, without hanging the suite if the server never prints one."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(seconds)
    stderr = process.stderr.read() if process.poll() is not None else ""
    assert lines and lines[0], f"no JSON line from the standalone server; stderr: {stderr}"
    return lines[0]

"""whoami, key-info and decode against the local STS, their output compared with the real aws CLI's."""

import json

import pytest

from conftest import ACCOUNT, SESSION_NAME

QUERIES = [None, "Account", "Arn", "[Account, Arn]", "{who: Arn, where: Account}", "Missing"]
FORMATS = ["json", "text", "table"]
REGION = {"AWS_DEFAULT_REGION": "us-east-1"}  # [base] names none, and the aws CLI insists on one


def ok(result):
    assert result.returncode == 0, result.stderr
    return result.stdout


def shell_credentials(home, profile):
    """The environment `eval "$(stsenv use PROFILE)"` leaves behind, as a dict."""
    return json.loads(ok(home.stsenv("use", profile, "--format", "json")))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("query", QUERIES)
def test_whoami_prints_what_aws_prints(world, home, fmt, query):
    env = shell_credentials(home, "prod")
    flags = ["--output", fmt] + (["--query", query] if query else [])
    ours = ok(home.stsenv("whoami", *flags, env=env))
    theirs = ok(home.aws("sts", "get-caller-identity", *flags, env=env))
    assert ours == theirs
    if query in (None, "Arn", "[Account, Arn]") and not (fmt == "table" and query == "Arn"):  # a scalar table is its title alone
        assert "Admin" in ours


@pytest.mark.parametrize("fmt", FORMATS)
def test_whoami_for_a_profile_matches_aws_for_that_profile(world, home, sts, fmt):
    ours = ok(home.stsenv("whoami", "--profile", "prod", "--output", fmt))
    theirs = ok(home.aws("--profile", "prod", "sts", "get-caller-identity", "--output", fmt))
    assert ours == theirs
    assert sts.calls("AssumeRole") == 1  # the aws CLI got the role from stsenv's cache


def test_wide_table_is_turned_vertical_like_aws(world, home):
    """Wider than the terminal (80 columns when piped), a one-row table is printed as rows of name and value."""
    long_name = "a-session-name-long-enough-to-make-the-table-wider-than-eighty"
    env = json.loads(ok(home.stsenv("use", "--role-arn", world.role_arn, "--source-profile", "base", "--role-session-name", long_name, "--format", "json")))
    ours = ok(home.stsenv("whoami", "--output", "table", env=env))
    assert ours == ok(home.aws("sts", "get-caller-identity", "--output", "table", env=env))
    assert f"|  Account|  {ACCOUNT}" in ours.replace("  |", "|").replace(" |", "|")


def test_whoami_follows_the_output_setting_of_the_config_like_aws(world, home):
    env = {**shell_credentials(home, "prod"), "AWS_DEFAULT_OUTPUT": "text"}
    assert ok(home.stsenv("whoami", env=env)) == ok(home.aws("sts", "get-caller-identity", env=env))
    assert ok(home.stsenv("whoami", env=env)).count("\t") == 2


def test_whoami_without_credentials_says_what_to_do(world, home):
    result = home.stsenv("whoami")
    assert result.returncode == 2
    assert result.stderr == "stsenv: no credentials in this shell (run `stsenv use PROFILE` first, or give --profile PROFILE)\n"


def test_whoami_uses_aws_profile_when_the_shell_has_no_keys(world, home):
    identity = json.loads(ok(home.stsenv("whoami", env={"AWS_PROFILE": "prod"})))
    assert identity["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/{SESSION_NAME}"


def test_bad_query_is_refused_before_any_call(world, home, sts):
    result = home.stsenv("whoami", "--profile", "prod", "--query", "[Account")
    assert result.returncode == 2
    assert result.stderr.startswith("stsenv: --query '[Account' is not a valid JMESPath expression")
    assert sts.calls() == 0


@pytest.mark.parametrize("fmt", FORMATS)
def test_key_info_prints_what_aws_prints(world, home, fmt):
    key = world.alice["access_key_id"]
    ours = ok(home.stsenv("key-info", key, "--profile", "base", "--output", fmt))
    theirs = ok(home.aws("--profile", "base", "sts", "get-access-key-info", "--access-key-id", key, "--output", fmt, env=REGION))
    assert ours == theirs and ACCOUNT in ours


def test_key_info_of_session_credentials(world, home):
    env = shell_credentials(home, "prod")
    assert ok(home.stsenv("key-info", env["AWS_ACCESS_KEY_ID"], "--query", "Account", "--output", "text", env=env)) == f"{ACCOUNT}\n"


def test_key_info_refuses_what_is_not_a_key_id(world, home, sts):
    result = home.stsenv("key-info", "not-a-key", "--profile", "base")
    assert result.returncode == 2
    assert result.stderr == "stsenv: 'not-a-key' is not an access key id (16 to 128 letters and digits, e.g. AKIAIOSFODNN7EXAMPLE)\n"
    assert sts.calls() == 0


DOCUMENT = {"allowed": False, "explicitDeny": False, "context": {"action": "ec2:RunInstances", "principal": {"arn": "x"}}}


def test_decode_prints_the_document_pretty(world, home, sts):
    encoded = sts.encode_authorization_message(DOCUMENT)
    assert json.loads(ok(home.stsenv("decode", encoded, "--profile", "base"))) == DOCUMENT
    assert ok(home.stsenv("decode", encoded, "--profile", "base")).startswith('{\n  "allowed": false,')


def test_decode_finds_the_message_in_a_pasted_error_on_stdin(world, home, sts):
    encoded = sts.encode_authorization_message(DOCUMENT)
    pasted = (
        "An error occurred (UnauthorizedOperation) when calling the RunInstances operation: You are not authorized "
        f"to perform this operation. Encoded authorization failure message: {encoded}\n"
    )
    for args in (["decode"], ["decode", "-"]):
        assert json.loads(ok(home.stsenv(*args, "--profile", "base", input=pasted))) == DOCUMENT
    assert sts.calls("DecodeAuthorizationMessage") == 2


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("query", [None, "DecodedMessage"])
def test_decode_with_output_or_query_prints_what_aws_prints(world, home, sts, fmt, query):
    encoded = sts.encode_authorization_message(DOCUMENT)
    flags = ["--output", fmt] + (["--query", query] if query else [])
    ours = ok(home.stsenv("decode", encoded, "--profile", "base", *flags))
    theirs = ok(home.aws("--profile", "base", "sts", "decode-authorization-message", "--encoded-message", encoded, *flags, env=REGION))
    assert ours == theirs


def test_decode_of_garbage_is_refused_by_aws_with_one_line(world, home):
    result = home.stsenv("decode", "Zm9vYmFyYmF6cXV4cXV1eA", "--profile", "base")
    assert result.returncode == 1
    assert result.stderr.startswith("stsenv: DecodeAuthorizationMessage refused: InvalidAuthorizationMessageException")
    assert len(result.stderr.splitlines()) == 1


def test_decode_without_a_message_says_so(world, home, sts):
    result = home.stsenv("decode", "--profile", "base", input="nothing to see here\n")
    assert result.returncode == 2
    assert result.stderr.startswith("stsenv: no encoded authorization message found")
    assert sts.calls() == 0


@pytest.mark.parametrize("fmt", FORMATS)
def test_web_identity_token_prints_what_aws_prints(world, home, sts, fmt):
    """Token and expiry differ from call to call: the shape of the answer is compared, then its content checked."""
    flags = ["--audience", "api.example.com", "--duration-seconds", "120", "--output", fmt, "--query", "keys(@)"]
    ours = ok(home.stsenv("web-identity-token", "--profile", "prod", *flags))
    assert ours == ok(home.aws("--profile", "prod", "sts", "get-web-identity-token", "--signing-algorithm", "RS256", *flags))
    token = json.loads(ok(home.stsenv("web-identity-token", "--profile", "prod", "--audience", "api.example.com")))
    claims = sts.token_claims(token["WebIdentityToken"])
    assert claims["sub"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/{SESSION_NAME}" and claims["aud"] == "api.example.com"
    assert token["Expiration"].endswith("Z")


def test_web_identity_token_limits(world, home, sts):
    result = home.stsenv("web-identity-token", "--profile", "prod", "--audience", *[f"a{i}" for i in range(11)], "--duration-seconds", "30")
    assert result.returncode == 2
    assert result.stderr == "stsenv: --duration-seconds: 30 is outside 60 to 3600\nstsenv: --audience: 11 audiences given; AWS allows 10\n"
    assert sts.calls() == 0

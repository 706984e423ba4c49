"""`use --role-arn ...`, `use --assume-root ...` and `federate NAME`: the flags of `aws sts assume-role` and `assume-root`, without editing config,
cached under a key that holds every flag that decides the credentials."""

import json
import time

import pyotp

from conftest import ACCOUNT

MEMBER_ACCOUNT = "111111111111"
AUDIT_POLICY = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"


def exports(home, *args, env=None):
    result = home.stsenv(*args, "--format", "json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def whoami(home, env):
    result = home.stsenv("whoami", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["Arn"]


def test_role_from_a_source_profile_is_cached_per_flags(world, home, sts):
    role = ["use", "--role-arn", world.role_arn, "--source-profile", "base"]
    first = exports(home, *role, "--role-session-name", "ann")
    assert first["STSENV_PROFILE"] == "adhoc:Admin"
    assert first["STSENV_IDENTITY"] == f"Admin@{ACCOUNT}"
    assert whoami(home, first) == f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/ann"
    assert exports(home, *role, "--role-session-name", "ann") == first
    assert sts.calls("AssumeRole") == 1
    exports(home, *role, "--role-session-name", "bob")
    exports(home, *role, "--role-session-name", "ann", "--duration-seconds", "900")
    assert sts.calls("AssumeRole") == 3


def test_role_from_this_shells_credentials(world, home, sts):
    keys = {"AWS_ACCESS_KEY_ID": world.alice["access_key_id"], "AWS_SECRET_ACCESS_KEY": world.alice["secret_access_key"]}
    session = exports(home, "use", "--role-arn", world.role_arn, env=keys)
    assert whoami(home, session).startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/")
    (assume,) = [entry for entry in sts.call_log() if entry["action"] == "AssumeRole"]
    assert assume["access_key_id"] == world.alice["access_key_id"]


def test_role_chained_from_a_shell_with_role_credentials(world, home, sts):
    prod = exports(home, "use", "prod")
    chained = exports(home, "use", "--role-arn", world.role_arn, "--role-session-name", "again", env=prod)
    assert whoami(home, chained) == f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/again"


def test_chained_ad_hoc_role_longer_than_an_hour_is_refused_in_flag_words(world, home, sts):
    """A source profile that is a role: known before any call, and said in the flags' words."""
    result = home.stsenv("use", "--role-arn", world.role_arn, "--source-profile", "prod", "--duration-seconds", "7200")
    assert result.returncode == 2
    assert result.stderr == (
        "stsenv: --duration-seconds 7200 is too long: the credentials that assume the role (prod) are themselves "
        "a role session, and AWS limits role chaining to 3600 seconds (give --duration-seconds 3600 or less)\n"
    )
    assert sts.calls("AssumeRole") == 0


def test_session_policy_tags_and_source_identity_reach_sts(world, home, sts, tmp_path):
    vendor = sts.create_role("Vendor", external_id="vendor-42")
    policy = tmp_path / "policy.json"
    policy.write_text('{\n  "Version": "2012-10-17",\n  "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]\n}\n')
    flags = [
        "use", "--role-arn", vendor, "--source-profile", "base", "--external-id", "vendor-42",
        "--policy", str(policy), "--policy-arns", READ_ONLY, "--tags", "Project=blue", "Key=Team,Value=ops",
        "--source-identity", "ann",
    ]  # fmt: skip
    exports(home, *flags)
    (call,) = [entry["params"] for entry in sts.call_log() if entry["action"] == "AssumeRole"]
    assert call["ExternalId"] == "vendor-42"
    assert call["Policy"] == '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}'
    assert call["PolicyArns.member.1.arn"] == READ_ONLY
    assert (call["Tags.member.1.Key"], call["Tags.member.1.Value"]) == ("Project", "blue")
    assert (call["Tags.member.2.Key"], call["Tags.member.2.Value"]) == ("Team", "ops")
    assert call["SourceIdentity"] == "ann"
    exports(home, *flags)
    assert sts.calls("AssumeRole") == 1
    policy.write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]}')
    exports(home, *flags)
    assert sts.calls("AssumeRole") == 2  # the policy's content is part of the key


def test_wrong_external_id_is_refused_by_aws_in_one_line(world, home, sts):
    vendor = sts.create_role("Vendor", external_id="vendor-42")
    result = home.stsenv("use", "--role-arn", vendor, "--source-profile", "base", "--external-id", "vendor-43")
    assert result.returncode == 1
    assert result.stderr.startswith("stsenv: AssumeRole refused: AccessDenied:")
    assert len(result.stderr.splitlines()) == 1 and result.stdout == ""


def test_mfa_role_with_serial_number_and_token_code_opens_one_mfa_session(world, home, sts):
    serial, secret = sts.create_virtual_mfa("alice")
    guarded = sts.create_role("Guarded", require_mfa=True)
    flags = ["use", "--role-arn", guarded, "--source-profile", "base", "--serial-number", serial]
    session = exports(home, *flags, "--token-code", pyotp.TOTP(secret).now())
    assert whoami(home, session).startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/Guarded/")
    assert (sts.calls("GetSessionToken"), sts.calls("AssumeRole")) == (1, 1)
    exports(home, "use", "--role-arn", world.role_arn, "--source-profile", "base", "--serial-number", serial, "--non-interactive")
    assert (sts.calls("GetSessionToken"), sts.calls("AssumeRole")) == (1, 2)  # the MFA session of base served again


def test_assume_root_from_the_management_account(world, home, sts):
    flags = ["use", "--assume-root", "--target-principal", MEMBER_ACCOUNT, "--task-policy-arn", AUDIT_POLICY, "--source-profile", "base"]
    session = exports(home, *flags)
    assert session["STSENV_PROFILE"] == f"adhoc:root@{MEMBER_ACCOUNT}"
    assert session["STSENV_IDENTITY"] == f"root@{MEMBER_ACCOUNT}"
    assert int(session["AWS_SESSION_EXPIRES"]) - time.time() <= 900
    assert whoami(home, session) == f"arn:aws:iam::{MEMBER_ACCOUNT}:root"
    exports(home, *flags)
    assert sts.calls("AssumeRoot") == 1
    (call,) = [entry["params"] for entry in sts.call_log() if entry["action"] == "AssumeRoot"]
    assert (call["TargetPrincipal"], call["TaskPolicyArn.arn"], call["DurationSeconds"]) == (MEMBER_ACCOUNT, AUDIT_POLICY, "900")


def test_federate_prints_a_federated_session(world, home, sts, tmp_path):
    policy = tmp_path / "policy.json"
    policy.write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}')
    result = home.stsenv("federate", "dev-bob", "--profile", "base", "--policy", f"file://{policy}", "--format", "json")
    assert result.returncode == 0, result.stderr
    session = json.loads(result.stdout)
    assert session["STSENV_IDENTITY"] == f"dev-bob@{ACCOUNT}"
    assert whoami(home, session) == f"arn:aws:sts::{ACCOUNT}:federated-user/dev-bob"
    assert result.stderr == ""
    home.stsenv("federate", "dev-bob", "--profile", "base", "--policy", f"file://{policy}")
    assert sts.calls("GetFederationToken") == 1
    (call,) = [entry["params"] for entry in sts.call_log() if entry["action"] == "GetFederationToken"]
    assert call["DurationSeconds"] == "3600" and call["Name"] == "dev-bob"


def test_federate_without_a_policy_warns_that_the_session_may_do_nothing(world, home):
    result = home.stsenv("federate", "dev-bob", "--profile", "base", "--shell", "bash")
    assert result.returncode == 0, result.stderr
    assert "export AWS_ACCESS_KEY_ID=" in result.stdout
    assert result.stderr.startswith("stsenv: without --policy or --policy-arns the federated session may do nothing")


def test_federate_from_session_credentials_is_refused_before_any_call(world, home, sts):
    prod = exports(home, "use", "prod")
    sts.reset_calls()
    result = home.stsenv("federate", "dev-bob", "--policy-arns", READ_ONLY, env=prod)
    assert result.returncode == 2
    assert "GetFederationToken needs long-lived IAM user keys" in result.stderr
    assert sts.calls() == 0


def test_flags_that_do_not_go_together(world, home, sts):
    cases = {
        ("use", "prod", "--role-arn", world.role_arn): "give either a profile or ad-hoc flags, not both",
        ("use", "prod", "--external-id", "abc"): "--external-id goes with --role-arn",
        ("use", "--role-arn", world.role_arn, "--assume-root"): "give either --role-arn or --assume-root",
        ("use", "--assume-root", "--target-principal", MEMBER_ACCOUNT): "--assume-root needs --target-principal ACCOUNT and --task-policy-arn ARN",
        ("use", "--task-policy-arn", AUDIT_POLICY): "--task-policy-arn goes with --assume-root",
        ("use", "--role-arn", world.role_arn): "no credentials to call STS with",
        ("use", "--role-arn", world.role_arn, "--source-profile", "base", "--tags", "novalue"): "--tags 'novalue': write each tag as KEY=VALUE",
    }
    for args, message in cases.items():
        result = home.stsenv(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.startswith(f"stsenv: {message}"), (args, result.stderr)
        assert len(result.stderr.splitlines()) == 1
    assert sts.calls() == 0


def test_an_ad_hoc_session_cannot_be_refreshed_by_its_name(world, home):
    """What the shell's refresh hook meets after `use --role-arn ...`: a line that says what to run."""
    session = exports(home, "use", "--role-arn", world.role_arn, "--source-profile", "base")
    result = home.stsenv("use", session["STSENV_PROFILE"], "--non-interactive")
    assert result.returncode == 2
    assert result.stderr == (
        "stsenv: adhoc:Admin was made from command-line flags, and has no profile to refresh it by "
        "(run that `stsenv use` (or `federate`) command again)\n"
    )

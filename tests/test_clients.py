"""The real aws CLI and boto3 get credentials through `credential_process = stsenv serve ...`."""

import json
import subprocess
import sys
import textwrap

from conftest import SESSION_NAME


def caller_identity_via_aws(home, profile):
    result = home.aws("--profile", profile, "sts", "get-caller-identity", "--output", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_aws_cli_gets_the_role_through_stsenv_style_profile(world, home, sts):
    identity = caller_identity_via_aws(home, "prod")
    assert identity["Arn"] == f"arn:aws:sts::123456789012:assumed-role/Admin/{SESSION_NAME}"
    assert sts.calls("AssumeRole") == 1


def test_aws_cli_gets_the_role_through_botocore_style_profile(world, home, sts):
    identity = caller_identity_via_aws(home, "prod-served")
    assert identity["Arn"].startswith("arn:aws:sts::123456789012:assumed-role/Admin/")
    assert sts.calls("AssumeRole") == 1


def test_boto3_session_uses_stsenv_serve(world, home, sts):
    script = textwrap.dedent(
        """
        import boto3, json, os
        for profile in ("prod", "prod-served"):
            session = boto3.Session(profile_name=profile)
            client = session.client("sts", endpoint_url=os.environ["AWS_ENDPOINT_URL_STS"])
            print(json.dumps(client.get_caller_identity()["Arn"]))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=home.env, timeout=60)
    assert result.returncode == 0, result.stderr
    arns = [json.loads(line) for line in result.stdout.splitlines()]
    assert all(arn.startswith("arn:aws:sts::123456789012:assumed-role/Admin/") for arn in arns)


def test_serve_output_is_the_credential_process_contract(world, home):
    result = home.stsenv("serve", "prod")
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["Version"] == 1
    assert output["AccessKeyId"].startswith("ASIA")
    assert output["SecretAccessKey"] and output["SessionToken"]
    assert output["Expiration"].endswith("Z")


def test_aws_cli_and_use_share_one_assume_role(world, home, sts):
    caller_identity_via_aws(home, "prod")
    result = home.stsenv("use", "prod", "--shell", "bash")
    assert result.returncode == 0, result.stderr
    assert sts.calls("AssumeRole") == 1


def test_failure_reaches_the_aws_cli_as_one_line(world, home, sts):
    sts.inject_fault("AssumeRole", "access_denied", times=10)
    result = home.aws("--profile", "prod", "sts", "get-caller-identity")
    assert result.returncode != 0
    assert "stsenv: AssumeRole refused: AccessDenied" in result.stderr
    assert "Traceback" not in result.stderr

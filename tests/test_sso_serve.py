"""IAM Identity Center profiles served by stsenv, end to end: the aws CLI and boto3 running
`credential_process = stsenv serve dev`, `stsenv use`, one portal call for many processes, one token
renewal for many roles, SSO as the source of a role, and exit 3 with the fix when a person must sign in.
Real `stsenv` and `aws` processes against tests/localsso.py and tests/localsts.py."""

import json
import subprocess
import sys
import time

import pytest
from test_sso_token import ACCOUNT, SsoWorld, caller_arn

from stsenv.credentials import Credentials

LOGIN_HINT = "(run `stsenv login dev`, or `aws sso login --sso-session corp`)"


@pytest.fixture
def world(home, sso):
    return SsoWorld(home, sso)


def test_the_aws_cli_runs_stsenv_serve_for_an_sso_profile(world, sso, home):
    world.write_token()
    assert world.aws_identity("dev") == sso.assumed_role_arn(ACCOUNT, "Developer")
    assert world.aws_identity("dev") == sso.assumed_role_arn(ACCOUNT, "Developer")  # a second aws: the cache
    assert sso.calls("GetRoleCredentials") == 1 and sso.calls("CreateToken") == 0
    (entry,) = home.cache_entries().values()
    assert (entry["profile"], entry["kind"], entry["Arn"]) == ("dev", "sso", f"arn:aws:sts::{ACCOUNT}:assumed-role/Developer")


def test_a_warm_serve_of_an_sso_profile_loads_only_stsenv(world, home, sso):
    from test_imports import FORBIDDEN, warm_run

    home.env.update(sso.endpoint_env())
    world.write_token()
    added = warm_run(home, "serve", "dev")
    assert not added & FORBIDDEN and {"stsenv.sso", "stsenv.sso.settings"} <= added
    cold_only = {"stsenv.sso.renewal", "stsenv.sso.clients", "stsenv.sso.token_cache", "stsenv.providers", "stsenv.lock", "stsenv.sts"}
    assert not added & cold_only, f"a warm serve loaded {sorted(added & cold_only)}"
    assert {name for name in added if not name.startswith("stsenv")} <= {"atexit", "pwd"}


def test_boto3_gets_the_role_credentials_through_stsenv(world, sso):
    world.write_token()
    script = "import boto3\nprint(boto3.Session(profile_name='dev').client('sts').get_caller_identity()['Arn'])\n"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=world.env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == sso.assumed_role_arn(ACCOUNT, "Developer") and sso.calls("GetRoleCredentials") == 1


@pytest.mark.parametrize("profile", ["dev", "dev-cli"])
def test_use_exports_the_role_and_its_identity(world, sso, sts, profile):
    """Both shapes: the one stsenv serves, and the one `aws configure sso` writes."""
    world.write_token()
    result = world.stsenv("use", profile, "--format", "json")
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["STSENV_PROFILE"] == profile and values["STSENV_IDENTITY"] == f"Developer@{ACCOUNT}"
    credentials = Credentials(values["AWS_ACCESS_KEY_ID"], values["AWS_SECRET_ACCESS_KEY"], values["AWS_SESSION_TOKEN"])
    assert caller_arn(sts, credentials) == sso.assumed_role_arn(ACCOUNT, "Developer")
    assert world.stsenv("use", profile, "--format", "json").stdout == result.stdout and sso.calls("GetRoleCredentials") == 1


def test_ls_names_sso_profiles_and_what_is_cached(world):
    world.write_token()
    assert world.stsenv("use", "dev", "--format", "json").returncode == 0
    result = world.stsenv("ls", "--output", "json")
    assert result.returncode == 0, result.stderr
    rows = {row["profile"]: row for row in json.loads(result.stdout)}
    assert {name: row["kind"] for name, row in rows.items()} == {
        "dev": "SSO (served by stsenv)",
        "dev-cli": "SSO",
        "dev-admin": "SSO",
        "legacy": "SSO",
    }
    assert 3000 < rows["dev"]["seconds_left"] <= 3600 and rows["dev-cli"]["seconds_left"] is None


# ---- one call for many processes -----------------------------------------------------------------------------


def release(world, tmp_path, profiles):
    """`stsenv serve P` for each of `profiles`, all started, then let go at once; their outputs."""
    gate = tmp_path / "go"
    processes = [world.stsenv_process("serve", profile, gate=gate) for profile in profiles]
    time.sleep(0.5)  # every shell waiting at the gate
    gate.touch()
    results = [process.communicate(timeout=120) for process in processes]
    for process, (_, stderr) in zip(processes, results):
        assert process.returncode == 0, stderr
    return [stdout for stdout, _ in results]


def test_eight_cold_serves_with_an_expired_token_make_one_create_token_and_one_get_role_credentials(world, sso, tmp_path, home):
    world.write_token(expires_in=-60)
    sso.expire_access_tokens()
    outputs = release(world, tmp_path, ["dev"] * 8)
    assert world.grants() == ["refresh_token"] and sso.calls("GetRoleCredentials") == 1
    assert len(set(outputs)) == 1 and json.loads(outputs[0])["AccessKeyId"].startswith("ASIA")
    (entry,) = home.cache_entries().values()
    assert entry["kind"] == "sso" and entry["Account"] == ACCOUNT
    assert release(world, tmp_path, ["dev"] * 2) == outputs[:2] and sso.calls("GetRoleCredentials") == 1  # warm


def test_eight_roles_of_one_session_renew_its_token_once(world, sso, tmp_path):
    """Eight cache keys, so eight portal calls; one token, renewed by one process while the others wait for it."""
    accounts = [f"2000000000{n:02d}" for n in range(8)]
    for n, account in enumerate(accounts):
        sso.assign(account, "Developer")
        world.add_config(f"[profile role{n}]\nsso_session = corp\nsso_account_id = {account}\nsso_role_name = Developer\n")
    world.write_token(expires_in=-60)
    sso.expire_access_tokens()
    sso.inject_fault("CreateToken", "slow:1")  # the first one renews for a second: the others come meanwhile
    outputs = release(world, tmp_path, [f"role{n}" for n in range(8)])
    assert world.grants() == ["refresh_token"] and sso.calls("GetRoleCredentials") == 8
    assert len({json.loads(output)["AccessKeyId"] for output in outputs}) == 8
    assert sso.access_token_valid(world.read_token()["accessToken"])


def test_eight_serves_that_need_a_login_try_one_renewal_and_all_say_so(world, sso, tmp_path):
    written = world.write_token(expires_in=-60)
    sso.revoke_refresh_token(written["refreshToken"])
    sso.inject_fault("CreateToken", "slow:1")
    gate = tmp_path / "go"
    processes = [world.stsenv_process("serve", "dev", gate=gate) for _ in range(8)]
    time.sleep(0.5)
    gate.touch()
    results = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [3] * 8
    last_lines = {stderr.splitlines()[-1] for _, stderr in results}  # waiters may first say whom they wait for
    assert last_lines == {
        "stsenv: profile 'dev': IAM Identity Center would not renew the token of sso-session corp (CreateToken refused: "
        f"InvalidGrantException: Invalid refresh token provided) {LOGIN_HINT}"
    }
    assert world.grants() == ["refresh_token"] and sso.calls("GetRoleCredentials") == 0


# ---- a person must sign in: exit 3, at once --------------------------------------------------------------------


def no_token(world, sso):
    return "not signed in to IAM Identity Center (no token for sso-session corp"


def refused_renewal(world, sso):
    written = world.write_token(expires_in=-60)
    sso.revoke_refresh_token(written["refreshToken"])
    return "IAM Identity Center would not renew the token of sso-session corp"


def portal_refuses(world, sso):
    world.write_token(expires_in=3000)
    sso.end_sessions()  # the portal answers 401, and the renewal that follows is refused too
    return "would not renew the token of sso-session corp"


@pytest.mark.parametrize("case", [no_token, refused_renewal, portal_refuses])
def test_a_login_needed_is_exit_3_naming_the_fix_and_nobody_waits_for_a_browser(world, sso, tmp_path, case):
    expected = case(world, sso)
    opened = tmp_path / "opened"
    browser = tmp_path / "browser"
    browser.write_text(f'#!/bin/sh\necho "$@" >> {opened}\n')
    browser.chmod(0o755)
    graphical = {"DISPLAY": ":0", "BROWSER": str(browser)}
    served = world.stsenv("serve", "dev", env=graphical)
    assert served.returncode == 3 and served.stdout == ""
    assert served.stderr.count("\n") == 1 and expected in served.stderr and served.stderr.endswith(f"{LOGIN_HINT}\n")
    started = time.monotonic()
    cli = world.aws("--profile", "dev", "sts", "get-caller-identity", env=graphical)  # credential_process
    assert cli.returncode != 0 and LOGIN_HINT in cli.stderr and expected in cli.stderr
    assert time.monotonic() - started < 30  # no device flow waited for: the code expires in 10 minutes
    assert not opened.exists() and sso.calls("RegisterClient") == sso.calls("StartDeviceAuthorization") == 0


# ---- SSO as the source of a role -------------------------------------------------------------------------------


def test_an_sso_profile_is_the_source_of_a_role_each_link_cached(world, sso, sts, home):
    role_arn = sts.create_role("Deploy")
    world.add_config(
        f"[profile deploy]\ncredential_process = stsenv serve deploy\nstsenv_role_arn = {role_arn}\nstsenv_source_profile = dev\nregion = us-east-1\n\n"
        f"[profile deploy-cli]\nrole_arn = {role_arn}\nsource_profile = dev-cli\nrole_session_name = ann\nregion = us-east-1\n"
    )
    world.write_token()
    arn = world.aws_identity("deploy")
    assert arn.startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/Deploy/")
    assert sso.calls("GetRoleCredentials") == 1 and sts.calls("AssumeRole") == 1
    assert sorted(entry["kind"] for entry in home.cache_entries().values()) == ["assume-role", "sso"]
    assert world.aws_identity("deploy") == arn and sts.calls("AssumeRole") == 1  # warm
    used = world.stsenv("use", "deploy-cli", "--format", "json")
    assert used.returncode == 0, used.stderr
    assert json.loads(used.stdout)["STSENV_IDENTITY"] == f"Deploy@{ACCOUNT}"
    assert sso.calls("GetRoleCredentials") == 2 and sts.calls("AssumeRole") == 2  # dev-cli is a link of its own


def test_a_role_on_sso_is_limited_to_one_hour_before_any_call(world, sso, sts, home):
    role_arn = sts.create_role("Deploy", max_session_duration=43200)
    world.add_config(f"[profile deploy]\nrole_arn = {role_arn}\nsource_profile = dev\nduration_seconds = 7200\n")
    world.write_token()
    result = world.stsenv("serve", "deploy")
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "asks for duration_seconds = 7200, but its source 'dev' is itself a role" in result.stderr
    assert sso.calls() == 0 and sts.calls("AssumeRole") == 0 and home.cache_entries() == {}


def test_the_prompt_s_renewal_keeps_to_itself_what_it_would_say_on_the_way(world, sso):
    """`use --refresh` (the prompt hook) prints the block or one sentence: a renewal of the token that failed
    for a passing reason, and went on with the current one, is nothing the prompt says."""
    written = world.write_token(expires_in=600)
    sso.inject_fault("CreateToken", "500", times=3)
    process = world.stsenv_process("use", "--refresh=dev", "--shell", "bash")  # no terminal: what it would say goes to stderr
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0 and stderr == "" and f"STSENV_IDENTITY='Developer@{ACCOUNT}'" in stdout
    assert sso.calls("CreateToken") == 3 and world.read_token() == written and sso.calls("GetRoleCredentials") == 1

"""`stsenv ls` on a config with a profile of every kind: its kind, region and cached credentials, no STS call."""

import json
import re
import time

AUDIT_POLICY = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"

EXPECTED_KINDS = {
    "base": "static",
    "default": "settings only",
    "prod": "role (served by stsenv)",
    "prod-role": "role",
    "prod-served": "role (served by stsenv)",
    "mfa-base": "MFA source",
    "web": "web identity",
    "corp": "SAML",
    "partner": "federation",
    "member-audit": "assume-root",
    "other-tool": "credential_process",
    "sso": "SSO",
    "sso-served": "SSO (served by stsenv)",
    "broken": "error",
}


def every_kind(home, world, tmp_path):
    token = tmp_path / "token"
    token.write_text("header.payload.signature")
    home.write_credentials(
        home.credentials.read_text()
        + "\n[mfa-base]\naws_access_key_id = AKIAEXAMPLEEXAMPLE01\naws_secret_access_key = secret/secret/secret\n"
    )
    home.write_config(
        home.config.read_text()
        + "\n[profile mfa-base]\nmfa_serial = arn:aws:iam::123456789012:mfa/ann\n"
        + f"\n[profile web]\nrole_arn = {world.role_arn}\nweb_identity_token_file = {token}\nregion = ap-south-1\n"
        + "\n[profile corp]\nstsenv_saml_role_arn = arn:aws:iam::123456789012:role/Saml\n"
        + "stsenv_saml_principal_arn = arn:aws:iam::123456789012:saml-provider/Corp\n"
        + "\n[profile partner]\nstsenv_federation_name = partner-ann\nstsenv_source_profile = base\n"
        + f"\n[profile member-audit]\nstsenv_target_principal = 111111111111\nstsenv_task_policy_arn = {AUDIT_POLICY}\n"
        + "stsenv_source_profile = base\n"
        + "\n[profile other-tool]\ncredential_process = aws-vault exec x --json\n"
        + "\n[profile sso]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Admin\n"
        + "\n[profile sso-served]\ncredential_process = stsenv serve sso-served\nsso_session = corp\n"
        + "stsenv_sso_account_id = 123456789012\nstsenv_sso_role_name = Admin\n"
        + "\n[sso-session corp]\nsso_start_url = https://d-1234567890.awsapps.com/start\nsso_region = eu-west-1\n"
        + f"\n[profile broken]\nrole_arn = {world.role_arn}\nsource_profile = nowhere\n"
    )


def test_ls_json_names_every_kind_and_what_the_cache_holds(world, home, sts, tmp_path):
    every_kind(home, world, tmp_path)
    assert home.stsenv("use", "prod").returncode == 0
    sts.reset_calls()
    result = home.stsenv("ls", "--output", "json")
    assert result.returncode == 0, result.stderr
    rows = {row["profile"]: row for row in json.loads(result.stdout)}
    assert {name: row["kind"] for name, row in rows.items()} == EXPECTED_KINDS
    assert rows["broken"]["error"].startswith("profile 'broken' names source_profile 'nowhere', which does not exist")
    assert 3300 < rows["prod"]["seconds_left"] <= 3600 and rows["prod"]["expires"].endswith("Z")
    assert rows["prod-role"]["seconds_left"] is None  # same role, another profile: its own cache entry
    assert (rows["prod"]["region"], rows["web"]["region"], rows["base"]["region"]) == ("eu-west-1", "ap-south-1", "")
    assert rows["prod"]["endpoint"] == home.sts.url
    assert sts.calls() == 0


def test_ls_table_shows_time_left_and_errors(world, home, sts, tmp_path):
    every_kind(home, world, tmp_path)
    assert home.stsenv("use", "prod").returncode == 0
    result = home.stsenv("ls")
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    assert result.stdout.splitlines()[0].split() == ["PROFILE", "KIND", "REGION", "CREDENTIALS"]
    assert "m left (until " in lines["prod"] and lines["prod-role"].rstrip().endswith("-")
    assert "error: profile 'broken' names source_profile 'nowhere', which does not exist" in lines["broken"]
    assert "SAML" in lines["corp"] and "web identity" in lines["web"] and "assume-root" in lines["member-audit"]


def test_ls_names_is_what_completions_read(world, home, tmp_path):
    every_kind(home, world, tmp_path)
    result = home.stsenv("ls", "--names")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == sorted(EXPECTED_KINDS)


def test_ls_says_when_a_refresh_failed_and_when_stsenv_tries_again(world, home, sts):
    from reliakit import entry_path, set_remaining

    assert home.stsenv("serve", "prod").returncode == 0
    set_remaining(entry_path(home), 600)
    sts.inject_fault("AssumeRole", "access_denied", 10)
    assert home.stsenv("serve", "prod").returncode == 0  # the kept credentials, and a minute without STS
    rows = {row["profile"]: row for row in json.loads(home.stsenv("ls", "--output", "json").stdout)}
    assert 0 < rows["prod"]["retry_after"] - time.time() <= 60 and rows["prod-role"]["retry_after"] is None
    (line,) = [line for line in home.stsenv("ls").stdout.splitlines() if line.startswith("prod ")]
    assert re.search(r"9m left \(until \d\d:\d\d\); refresh failed, next try in \d+s$", line), line


def test_ls_shows_the_identity_center_sign_in_of_every_profile_that_goes_through_it(world, home, sts, tmp_path):
    """From the token file where the aws CLI keeps it: signed in, expired but renewable, signed out, unusable."""
    from localsso import token_cache_path

    from stsenv.credentials import iso_utc

    def iso_in(seconds):
        return iso_utc(time.time() + seconds)

    every_kind(home, world, tmp_path)
    home.write_config(home.config.read_text() + f"\n[profile via-sso]\nrole_arn = {world.role_arn}\nsource_profile = sso\n")
    token = token_cache_path(home.path, "corp")
    token.parent.mkdir(parents=True)
    registration = {"clientId": "client", "clientSecret": "lssecret", "registrationExpiresAt": iso_in(86400)}

    def ls(contents):
        token.write_text(json.dumps(contents) if isinstance(contents, dict) else contents)
        result = home.stsenv("ls", "--output", "json")
        assert result.returncode == 0, result.stderr
        rows = {row["profile"]: row for row in json.loads(result.stdout)}
        assert rows["base"]["sso_sign_in"] is None and rows["prod"]["sso_sign_in"] is None
        assert rows["via-sso"]["sso_sign_in"] == rows["sso"]["sso_sign_in"] == rows["sso-served"]["sso_sign_in"]
        table = {line.split()[0]: line for line in home.stsenv("ls").stdout.splitlines()[1:]}
        return rows["sso"]["sso_sign_in"], table["via-sso"]

    sign_in, line = ls({"accessToken": "lstoken", "expiresAt": iso_in(7200), **registration})
    assert (sign_in["session"], sign_in["state"]) == ("sso-session corp", "signed in") and 7100 < sign_in["seconds_left"] <= 7200
    assert re.search(r"; IAM Identity Center signed in until \d\d:\d\d$", line), line
    sign_in, line = ls({"accessToken": "lstoken", "expiresAt": iso_in(-60), "refreshToken": "lsrefresh", **registration})
    assert sign_in["state"] == "renewable" and sign_in["seconds_left"] is None and sign_in["expires"].endswith("Z")
    assert line.endswith("; IAM Identity Center sign-in expired, renewed on next use")
    sign_in, line = ls({"accessToken": "lstoken", "expiresAt": iso_in(-60), **registration})
    assert sign_in["state"] == "signed out" and line.endswith("; IAM Identity Center signed out: stsenv login via-sso")
    sign_in, line = ls("not json\n")
    assert sign_in["state"] == "unusable" and line.endswith("; IAM Identity Center token unusable: stsenv login via-sso")
    token.unlink()
    result = json.loads(home.stsenv("ls", "--output", "json").stdout)
    assert {row["profile"]: row["sso_sign_in"]["state"] for row in result if row["sso_sign_in"]} == dict.fromkeys(("sso", "sso-served", "via-sso"), "signed out")
    assert sts.calls() == 0

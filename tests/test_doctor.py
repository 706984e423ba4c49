"""`stsenv doctor`: a healthy setup passes; on a broken one each planted problem is found with its fix."""

import os
import pathlib
import re
import subprocess

import stsenv
from stsenv import config

INTEGRATED = {"STSENV_SHELL_INTEGRATION": "bash"}


def doctor(home, env=None):
    result = home.stsenv("doctor", env=env)
    assert "Traceback" not in result.stderr and result.stderr == "", result.stderr
    return result


def test_healthy_setup(world, home):
    os.chmod(home.credentials, 0o600)
    assert home.stsenv("use", "prod").returncode == 0  # the cache exists, as it does in use
    result = doctor(home, INTEGRATED)
    assert result.returncode == 0, result.stdout
    assert result.stdout.splitlines()[-1] == "stsenv doctor: 0 problems, 0 warnings"
    assert "ok    clock agrees with STS" in result.stdout
    assert "ok    credential_process of profile 'prod' runs this stsenv" in result.stdout


def test_broken_setup_finds_each_planted_problem(world, home, sts, tmp_path):
    other = tmp_path / "elsewhere" / "stsenv"
    other.parent.mkdir()
    other.write_text("#!/bin/sh\necho an old stsenv\n")
    other.chmod(0o755)
    home.write_config(
        home.config.read_text()
        + f"\n[profile orphan]\nrole_arn = {world.role_arn}\nsource_profile = nowhere\n"
        + "\n[profile old]\ncredential_process = /opt/gone/stsenv serve prod\n"
        + f"\n[profile twin]\ncredential_process = {other} serve prod\n"
        + "\n[profile piped]\ncredential_process = stsenv serve prod | tee /tmp/log\n"
    )
    assert home.stsenv("use", "prod").returncode == 0
    home.cache.chmod(0o755)
    (entry,) = home.cache.glob("prod.*.json")
    entry.chmod(0o644)
    (home.cache / "garbage.json").write_text("{not json")
    (home.cache / "garbage.json").chmod(0o600)
    (home.cache / "link.json").symlink_to(entry)
    sts.clock_offset = 900

    result = doctor(home)
    assert result.returncode == 2
    out = result.stdout
    planted = [
        "FAIL  profile 'orphan' names source_profile 'nowhere', which does not exist",
        "FAIL  credential_process of profile 'old' runs `/opt/gone/stsenv`, which does not exist or is not on PATH",
        f"FAIL  credential_process of profile 'twin' runs {other}, a different stsenv from this one",
        "FAIL  credential_process of profile 'piped' has shell characters (|); botocore runs it without a shell",
        f"FAIL  cache {home.cache} is mode 0755: others may read credentials\n      fix: chmod 700 {home.cache}",
        f"FAIL  cache file {entry} is mode 0644, not 0600",
        f"FAIL  cache file {home.cache / 'garbage.json'} is not a JSON cache entry",
        f"FAIL  cache file {home.cache / 'link.json'} is a symlink; stsenv never follows one",
        "warn  the shell integration is not loaded in this shell",
        "warn  " + str(home.credentials) + " holds long-lived keys and others may read it (mode 0644)",
    ]
    for line in planted:
        assert line in out, (line, out)
    # the Date header counts whole seconds, so 900 s of skew reads as 899 to 901
    assert re.search(r"FAIL  this machine's clock is (899|900|901)s behind STS", out), out
    assert out.splitlines()[-1] == "stsenv doctor: 9 problems, 2 warnings"
    assert out.count("      fix: ") == 11


def test_config_that_does_not_parse(world, home):
    home.write_config(home.config.read_text() + "\n[profile bad]\nthis line is no setting\n")
    result = doctor(home, INTEGRATED)
    assert result.returncode == 2
    assert f"FAIL  {home.config}, line 21: expected `key = value` or a [section] header" in result.stdout


def test_shell_integration_fix_names_the_users_shell(world, home):
    result = doctor(home, {"SHELL": "/usr/bin/fish"})
    assert "fix: add `stsenv init fish | source` to ~/.config/fish/config.fish and open a new shell" in result.stdout


# ---- doctor catches what serve would refuse (issue 14 §4) ---------------------------------------------------

MFA_SERIAL = "arn:aws:iam::123456789012:mfa/alice"


def doctor_no_clock(home, env=None):
    result = home.stsenv("doctor", "--no-clock", env={**INTEGRATED, **(env or {})})
    assert "Traceback" not in result.stderr and result.stderr == "", result.stderr
    return result


def test_missing_files_named_by_the_environment_are_problems(world, home, sts, tmp_path):
    missing_config, missing_credentials = tmp_path / "nope" / "config", tmp_path / "nope" / "credentials"
    result = doctor_no_clock(home, {"AWS_CONFIG_FILE": str(missing_config), "AWS_SHARED_CREDENTIALS_FILE": str(missing_credentials)})
    assert result.returncode == 2
    assert " parse" not in result.stdout, result.stdout
    assert f"FAIL  AWS_CONFIG_FILE names {missing_config}, which does not exist\n      fix: correct AWS_CONFIG_FILE, or unset it to read ~/.aws/config" in result.stdout
    assert f"FAIL  AWS_SHARED_CREDENTIALS_FILE names {missing_credentials}, which does not exist" in result.stdout
    only_config = doctor_no_clock(home, {"AWS_SHARED_CREDENTIALS_FILE": str(missing_credentials)})
    assert f"ok    {home.config} parses (4 profiles)" in only_config.stdout
    assert only_config.returncode == 2


def test_missing_default_files_are_said(home, sts):
    env = {**home.env, **INTEGRATED}
    del env["AWS_CONFIG_FILE"], env["AWS_SHARED_CREDENTIALS_FILE"]
    result = subprocess.run(["stsenv", "doctor", "--no-clock"], capture_output=True, text=True, env=env, timeout=60)
    config, credentials = home.path / ".aws" / "config", home.path / ".aws" / "credentials"
    assert " parse" not in result.stdout, result.stdout
    assert f"warn  {config} does not exist: no profile is configured there" in result.stdout
    assert f"ok    {credentials} does not exist (no long-lived keys there)" in result.stdout
    assert result.returncode == 0, result.stdout


# Profiles `serve` refuses before any STS call, each beside a profile it accepts.
REFUSED_BY_SERVE = {
    "badarn": "credential_process = stsenv serve badarn\nstsenv_role_arn = notanarn\nstsenv_source_profile = base\n",
    "badname": "role_arn = {role}\nsource_profile = base\nrole_session_name = ann smith\n",
    "badext": "role_arn = {role}\nsource_profile = base\nexternal_id = x\n",
    "badmfa": f"role_arn = {{role}}\nsource_profile = base\nmfa_serial = {MFA_SERIAL.replace(':mfa/', ':role/')}\n",
    "chained": "role_arn = {role}\nsource_profile = prod-role\nduration_seconds = 7200\n",
    "badsrc": "role_arn = {role}\nsource_profile = bsae\n",
    "badregion": "role_arn = {role}\nsource_profile = base\nregion = eu-west-1 # Ireland\n",
    "badfed": "stsenv_federation_name = x\nstsenv_source_profile = base\n",
}


def test_doctor_refuses_what_serve_refuses_without_calling_sts(world, home, sts):
    home.write_config(home.config.read_text() + "".join(f"\n[profile {name}]\n" + body.format(role=world.role_arn) for name, body in REFUSED_BY_SERVE.items()))
    result = doctor_no_clock(home)
    assert result.returncode == 2
    for name in REFUSED_BY_SERVE:
        served = home.stsenv("serve", name)
        assert served.returncode == 2, (name, served.stderr)
        said = served.stderr.removeprefix("stsenv: ").strip()
        message = said.rsplit(" (", 1)[0] if said.endswith(")") and "(" in said else said
        assert message in result.stdout, (name, message, result.stdout)
        assert f"FAIL  {message}" in result.stdout or f"FAIL  profile {name!r}: {message}" in result.stdout, (name, result.stdout)
    assert result.stdout.count("\nFAIL  ") == len(REFUSED_BY_SERVE), result.stdout  # one each, none for the good profiles
    assert sts.calls() == 0


def test_a_served_profile_that_botocore_takes_over_is_a_problem(world, home, sts):
    """credential_process = stsenv serve X beside botocore's role_arn: the aws CLI assumes the role itself."""
    home.write_config(home.config.read_text() + f"\n[profile clash]\ncredential_process = stsenv serve clash\nrole_arn = {world.role_arn}\nsource_profile = base\nregion = us-east-1\n")
    result = doctor_no_clock(home)
    assert result.returncode == 2
    assert (
        "FAIL  profile 'clash' runs stsenv serve but also has role_arn: botocore acts on that first, so the aws CLI and SDKs never run stsenv\n"
        "      fix: rename role_arn to stsenv_role_arn (and source_profile to stsenv_source_profile)"
    ) in result.stdout
    # what doctor says is so: the aws CLI gets credentials without stsenv, and nothing reaches its cache
    identity = home.aws("--profile", "clash", "sts", "get-caller-identity")
    assert identity.returncode == 0, identity.stderr
    assert not any(name.startswith("clash.") for name in home.cache_entries())


SSO_SESSION = "\n[sso-session corp]\nsso_start_url = https://d-1234567890.awsapps.com/start\nsso_region = eu-west-1\n"


def test_the_served_sso_shape_is_clean_and_sso_keys_beside_stsenv_serve_are_a_problem(world, home, sts):
    """botocore acts on sso_account_id/sso_role_name before credential_process (on sso_session alone it does not)."""
    home.write_config(
        home.config.read_text()
        + "\n[profile sso-served]\ncredential_process = stsenv serve sso-served\nsso_session = corp\n"
        + "stsenv_sso_account_id = 123456789012\nstsenv_sso_role_name = Admin\n"
        + "\n[profile sso-clash]\ncredential_process = stsenv serve sso-clash\nsso_session = corp\n"
        + "sso_account_id = 123456789012\nsso_role_name = Admin\n"
        + SSO_SESSION
    )
    out = doctor_no_clock(home).stdout
    assert "sso-served" not in out.replace("credential_process of profile 'sso-served' runs this stsenv", "")
    assert (
        "FAIL  profile 'sso-clash' runs stsenv serve but also has sso_account_id, sso_role_name: botocore acts on that first, "
        "so the aws CLI and SDKs never run stsenv\n"
        "      fix: rename sso_account_id to stsenv_sso_account_id, sso_role_name to stsenv_sso_role_name\n"
    ) in out
    assert "FAIL  profile 'sso-clash'" in out and out.count("FAIL  ") == 1


def test_misspelled_keys_are_named(world, home, sts):
    home.write_config(
        home.config.read_text()
        + f"\n[profile typo]\nstsenv_role_arn = {world.role_arn}\nstsenv_source_profle = base\nregoin = eu-west-1\n"
        + "stsenv_frobnicate = 1\nazure_tenant_id = 42\ngranted_sso_start_url = https://example.com\n"
    )
    out = doctor_no_clock(home).stdout
    assert (
        "FAIL  profile 'typo': stsenv_source_profle is not a setting stsenv or botocore reads (did you mean stsenv_source_profile?)\n"
        "      fix: rename it to stsenv_source_profile"
    ) in out
    assert "warn  profile 'typo': regoin is not a setting stsenv or botocore reads (did you mean region?)" in out
    assert "FAIL  profile 'typo': stsenv_frobnicate is not a setting stsenv or botocore reads\n" in out
    assert "azure_tenant_id" not in out and "granted_sso_start_url" not in out  # other tools' keys are theirs
    assert "FAIL  profile 'typo' has a role but no source of credentials" in out


def test_every_key_stsenv_reads_is_known_to_doctor():
    """config.SETTING_KEYS and PLAIN_KEYS name every key the code reads, so doctor never calls one misspelled."""
    read = set()
    for path in pathlib.Path(stsenv.__file__).parent.rglob("*.py"):
        text = path.read_text()
        read |= set(re.findall(r"(?:value|int_value|_setting|_required)\([^()]*?\"([a-z_]+)\"", text))
        read |= set(re.findall(r"section(?:\.get\(|\[)\"([a-z_]+)\"", text))
        read |= {key for keys in re.findall(r"keys = \(([^)]*)\)", text) for key in re.findall(r"\"([a-z_]+)\"", keys)}
    assert read <= config.SETTING_KEYS | config.PLAIN_KEYS, sorted(read - config.SETTING_KEYS - config.PLAIN_KEYS)
    assert len(read) > 25

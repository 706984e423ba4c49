"""`stsenv configure` writes a served profile without losing anything else in the file."""


def test_configure_adds_a_profile_and_keeps_the_rest(world, home, sts):
    before = home.config.read_text()
    result = home.stsenv(
        "configure", "staging", "--role-arn", world.role_arn, "--source-profile", "base", "--region", "eu-central-1",
        "--external-id", "ext-123", "--duration-seconds", "1800",
    )
    assert result.returncode == 0, result.stderr
    after = home.config.read_text()
    assert after.startswith(before)
    added = after[len(before):]
    assert "[profile staging]" in added
    assert "credential_process = stsenv serve staging" in added
    assert f"stsenv_role_arn = {world.role_arn}" in added
    assert "stsenv_external_id = ext-123" in added
    identity = home.aws("--profile", "staging", "sts", "get-caller-identity", "--output", "json")
    assert identity.returncode == 0, identity.stderr
    assert "assumed-role/Admin/" in identity.stdout


def test_configure_updates_in_place(world, home):
    result = home.stsenv("configure", "prod", "--role-arn", "arn:aws:iam::123456789012:role/Other", "--source-profile", "base")
    assert result.returncode == 0, result.stderr
    text = home.config.read_text()
    assert text.count("[profile prod]") == 1
    assert "stsenv_role_arn = arn:aws:iam::123456789012:role/Other" in text
    assert "# the user's own comment" in text
    assert text.index("[profile prod]") < text.index("[profile prod-role]")
    assert "region = eu-west-1" in text


def test_configure_refuses_bad_names_and_botocore_roles(world, home):
    bad = home.stsenv("configure", "a b", "--role-arn", world.role_arn, "--source-profile", "base")
    assert bad.returncode == 2 and "invalid profile name" in bad.stderr
    clash = home.stsenv("configure", "prod-role", "--role-arn", world.role_arn, "--source-profile", "base")
    assert clash.returncode == 2 and "botocore would act on" in clash.stderr
    missing = home.stsenv("configure", "x", "--role-arn", world.role_arn, "--source-profile", "nope")
    assert missing.returncode == 2 and "'nope' not found" in missing.stderr


def test_configure_creates_the_config_file(home, sts):
    home.write_credentials("[base]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = secret\n")
    result = home.stsenv("configure", "new", "--role-arn", "arn:aws:iam::123456789012:role/X", "--source-profile", "base")
    assert result.returncode == 0, result.stderr
    assert home.config.read_text().startswith("[profile new]\n")
    assert oct(home.config.stat().st_mode & 0o777) == "0o600"


# ---- nothing from outside reaches the file (issue 13 §2) ---------------------------------------------------

import argparse
import os
import stat

import pytest

from stsenv import errors
from stsenv.commands import configure

ROLE = "arn:aws:iam::123456789012:role/Admin"
EVIL = '[profile evil]\ncredential_process = sh -c "touch {canary}; echo {{}}"'
# A value that is one valid flag value followed by a planted section, and values no setting may hold. 5 MB cannot
# be one argument (Linux caps one argv string at 128 KiB), so the largest values are just under that cap.
HOSTILE = {
    "region newline then a profile": ("--region", "us-east-1\n" + EVIL),
    "external id newline then a default": ("--external-id", "ext-123\n[default]\nregion = us-east-1"),
    "role ARN newline then a profile": ("--role-arn", ROLE + "\n" + EVIL),
    "session name carriage return": ("--role-session-name", "ann\r[profile evil]"),
    "MFA serial newline": ("--mfa-serial", "arn:aws:iam::123456789012:mfa/ann\n" + EVIL),
    "source profile newline": ("--source-profile", "base\n" + EVIL),
    "region escape sequence": ("--region", "eu-west-1\x1b[2J\x1b]0;pwned\x07"),
    "external id line separator": ("--external-id", "ext\u2028[profile evil]"),
    "external id next line (C1)": ("--external-id", "ext\x85[profile evil]"),
    "session name shell code": ("--role-session-name", "$(touch x)`id`"),
    "role ARN not an ARN": ("--role-arn", "notanarn"),
    "role ARN huge": ("--role-arn", ROLE + "x" * 120_000),
    "external id huge": ("--external-id", "e" * 120_000),
    "region huge": ("--region", "r" * 120_000),
    "region huge with a newline": ("--region", "us-east-1\n" + "r" * 120_000),
}


def configure_args(world, flag, value):
    args = {"--role-arn": world.role_arn, "--source-profile": "base", flag: value}
    return ["configure", "newp", *(word for pair in args.items() for word in pair)]


@pytest.mark.parametrize("flag, value", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_values_are_refused_and_the_file_is_untouched(world, home, sts, tmp_path, flag, value):
    canary = tmp_path / "canary"
    value = value.format(canary=canary) if "{canary}" in value else value
    home.config.chmod(0o640)
    before = home.config.read_bytes()
    result = home.stsenv(*configure_args(world, flag, value))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("stsenv: ") and len(lines[0]) < 2100, result.stderr
    assert lines[0].isprintable() and flag in lines[0]
    assert home.config.read_bytes() == before
    assert stat.S_IMODE(home.config.stat().st_mode) == 0o640
    assert sorted(os.listdir(home.config.parent)) == ["config", "credentials"]  # no temporary file left
    assert sts.calls() == 0


def test_a_planted_profile_never_reaches_the_aws_cli(world, home, tmp_path):
    canary = tmp_path / "canary"
    home.stsenv(*configure_args(world, "--region", "us-east-1\n" + EVIL.format(canary=canary)))
    evil = home.aws("--profile", "evil", "sts", "get-caller-identity")
    assert evil.returncode != 0 and "could not be found" in evil.stderr, evil.stderr
    assert not canary.exists()


@pytest.mark.parametrize("flag, value", [("--external-id", "ext\0[profile evil]"), ("--region", "eu\0west")])
def test_a_nul_byte_is_refused(flag, value):
    """execve cannot carry a NUL in an argument, so no process can pass one; the check is tested in-process."""
    args = argparse.Namespace(
        profile="newp", role_arn=ROLE, source_profile="base", region=None, mfa_serial=None,
        external_id=None, role_session_name=None, duration_seconds=None,
    )  # fmt: skip
    setattr(args, flag[2:].replace("-", "_"), value)
    with pytest.raises(errors.ConfigError) as refused:
        configure.check_flags(args)
    assert flag in str(refused.value) and "\0" not in str(refused.value).replace("\\x00", "")


def test_a_profile_that_would_not_resolve_is_never_written(world, home, sts):
    """A role sourced from another role may last one hour: refused from the text in memory, not after writing it."""
    before = home.config.read_bytes()
    result = home.stsenv("configure", "chained", "--role-arn", world.role_arn, "--source-profile", "prod-role", "--duration-seconds", "7200")
    assert result.returncode == 2 and "AWS limits role chaining to 3600 seconds" in result.stderr, result.stderr
    assert home.config.read_bytes() == before


def test_a_symlinked_config_is_updated_through_the_link(world, home, sts, tmp_path):
    """dotfiles repositories link ~/.aws/config to a file of theirs: the file is updated, the link stays."""
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    target = dotfiles / "aws-config"
    target.write_bytes(home.config.read_bytes())
    target.chmod(0o644)
    home.config.unlink()
    home.config.symlink_to(target)
    result = home.stsenv("configure", "staging", "--role-arn", world.role_arn, "--source-profile", "base", "--region", "us-east-1")
    assert result.returncode == 0, result.stderr
    assert home.config.is_symlink() and os.readlink(home.config) == str(target)
    assert "[profile staging]" in target.read_text()
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert sorted(os.listdir(dotfiles)) == ["aws-config"]
    assert f"(through the symlink, to {target})" in result.stderr
    identity = home.aws("--profile", "staging", "sts", "get-caller-identity", "--output", "json")
    assert identity.returncode == 0 and "assumed-role/Admin/" in identity.stdout, identity.stderr


def test_the_file_keeps_its_mode_and_line_endings(world, home, sts):
    crlf = home.config.read_text().replace("\n", "\r\n").encode()
    home.config.write_bytes(crlf)
    home.config.chmod(0o604)
    result = home.stsenv("configure", "staging", "--role-arn", world.role_arn, "--source-profile", "base", "--region", "eu-central-1")
    assert result.returncode == 0, result.stderr
    after = home.config.read_bytes()
    assert after.startswith(crlf)
    assert after[len(crlf):] == f"\r\n[profile staging]\r\ncredential_process = stsenv serve staging\r\nstsenv_role_arn = {world.role_arn}\r\nstsenv_source_profile = base\r\nregion = eu-central-1\r\n".encode()
    assert stat.S_IMODE(home.config.stat().st_mode) == 0o604


def test_a_role_sourced_from_an_sso_profile_is_configured_within_the_chaining_limit(world, home):
    """An SSO profile as the source (its role credentials make a role chain: one hour at most); a profile that
    only names an sso-session is no SSO profile to botocore, so configure may make it a served role."""
    sso = "sso_session = corp\nstsenv_sso_account_id = 123456789012\nstsenv_sso_role_name = Developer\n"
    session = "[sso-session corp]\nsso_start_url = https://d-1234567890.awsapps.com/start\nsso_region = us-east-1\n"
    home.write_config(home.config.read_text() + f"\n[profile dev]\ncredential_process = stsenv serve dev\n{sso}\n[profile login]\nsso_session = corp\n\n{session}")
    before = home.config.read_text()
    long = home.stsenv("configure", "deploy", "--role-arn", world.role_arn, "--source-profile", "dev", "--duration-seconds", "7200")
    assert long.returncode == 2 and "its source 'dev' is itself a role" in long.stderr and home.config.read_text() == before
    assert home.stsenv("configure", "deploy", "--role-arn", world.role_arn, "--source-profile", "dev").returncode == 0
    made = home.stsenv("configure", "login", "--role-arn", world.role_arn, "--source-profile", "base")
    assert made.returncode == 0, made.stderr

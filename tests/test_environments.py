"""One cache in every environment (issue 14 §1): the session name comes from the operating system, not from
$USER, and the region `stsenv use` exports never changes which credentials another profile gets.

Every test counts STS calls: two environments that split the cache both succeed, one AssumeRole (or one MFA
code) apart.
"""

import os
import pwd
import subprocess

import pytest

from conftest import SESSION_NAME
from reliakit import served
from shellkit import Shell, export, unset
REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")
BOOKKEEPING = ("STSENV_REGION", "STSENV_USER_AWS_REGION", "STSENV_USER_AWS_DEFAULT_REGION")


def without_user(env):
    return {name: value for name, value in env.items() if name not in ("USER", "LOGNAME", "USERNAME")}


def session_names(sts):
    return [call["params"]["RoleSessionName"] for call in sts.call_log() if call["action"] == "AssumeRole"]


# ---- the session name ------------------------------------------------------------------------------------


def test_processes_with_any_user_variables_share_one_entry(world, home, sts):
    """USER/LOGNAME unset, set to someone else, and `env -i` with only what stsenv needs: one AssumeRole."""
    bare = without_user(home.env)
    runs = [
        home.stsenv("serve", "prod"),
        subprocess.run(["stsenv", "serve", "prod"], capture_output=True, text=True, env=bare, timeout=60),
        home.stsenv("serve", "prod", env={"USER": "mallory", "LOGNAME": "mallory", "USERNAME": "mallory"}),
        subprocess.run(["env", "-i", *(f"{name}={value}" for name, value in bare.items()), "stsenv", "serve", "prod"],
                       capture_output=True, text=True, timeout=60),
    ]
    assert len({served(run)["AccessKeyId"] for run in runs}) == 1
    assert sts.calls("AssumeRole") == 1
    assert session_names(sts) == [SESSION_NAME]
    assert len(home.cache_entries()) == 1


def test_bash_zsh_fish_and_a_plain_process_without_user_share_one_entry(world, home, sts):
    """fish sets USER itself when it is missing, bash and zsh do not: the session name must not care."""
    home.env = without_user(home.env)
    for kind in ("bash", "zsh", "fish"):
        with Shell(kind, home) as shell:
            if kind == "fish":
                assert shell.var("USER") == pwd.getpwuid(os.geteuid()).pw_name  # fish's own
            else:
                assert shell.var("USER") is None
            shell.run("stsenv use prod")
            assert shell.status == 0
    identity = home.aws("--profile", "prod", "sts", "get-caller-identity", "--output", "text", "--region", "us-east-1", env={"USER": "someone-else"})
    assert identity.returncode == 0, identity.stderr
    assert f"assumed-role/Admin/{SESSION_NAME}" in identity.stdout
    assert sts.calls("AssumeRole") == 1
    assert len(home.cache_entries()) == 1


def test_a_uid_without_a_passwd_entry_gets_a_stable_name_from_the_uid(world, home, sts):
    """As in a container run with `--user 54321`: no passwd entry, no USER. unshare maps this user to a uid
    that /etc/passwd does not know (the files stay ours: they appear as that uid's inside)."""
    uid = 54321
    assert not any(entry.pw_uid == uid for entry in pwd.getpwall())
    command = ["unshare", f"--map-user={uid}", f"--map-group={uid}", "stsenv", "serve", "prod"]
    for _ in range(2):
        result = subprocess.run(command, capture_output=True, text=True, env=without_user(home.env), timeout=60)
        served(result)
    assert session_names(sts) == [f"stsenv-uid-{uid}"], "one AssumeRole, the second run is served from the cache"


# ---- the region ------------------------------------------------------------------------------------------


class RegionWorld:
    """mfa-base: bob's keys behind an MFA device (codes from a TOTP secret file, so every code asked for is one
    GetSessionToken); mfa-eu, a role in eu-central-1, and mfa-dev, a role without a region, both sourced from it."""

    def __init__(self, home, sts):
        bob = sts.create_user("bob")
        serial, secret = sts.create_virtual_mfa("bob")
        totp = home.root / "bob.totp"
        totp.write_text(secret)
        totp.chmod(0o600)
        home.write_credentials(f"[mfa-base]\naws_access_key_id = {bob['access_key_id']}\naws_secret_access_key = {bob['secret_access_key']}\n")
        home.write_config(
            f"[profile mfa-base]\nmfa_serial = {serial}\nstsenv_mfa_totp_secret_file = {totp}\n\n"
            f"[profile mfa-eu]\ncredential_process = stsenv serve mfa-eu\nstsenv_role_arn = {sts.create_role('Eu', require_mfa=True)}\n"
            "stsenv_source_profile = mfa-base\nregion = eu-central-1\n\n"
            f"[profile mfa-dev]\ncredential_process = stsenv serve mfa-dev\nstsenv_role_arn = {sts.create_role('Dev', require_mfa=True)}\n"
            "stsenv_source_profile = mfa-base\n"
        )


@pytest.fixture
def regions(home, sts):
    return RegionWorld(home, sts)


# What the user had exported before any `stsenv use`.
BEFORE = {
    "no region": {},
    "AWS_REGION": {"AWS_REGION": "us-west-2"},
    "both, different": {"AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "ap-south-1"},
}


def as_before(before):
    """The region variables as the user had them: a value, or None for unset."""
    return {name: before.get(name) for name in REGION_VARIABLES}


@pytest.mark.parametrize("before", list(BEFORE))
@pytest.mark.parametrize("kind", ["bash", "zsh", "fish"])
def test_a_region_exported_by_use_never_changes_another_profile(kind, before, regions, home, sts):
    """The issue's scenario: `use mfa-eu`, then `use mfa-dev` (no region, same MFA source): one MFA code, and
    a fresh terminal's `aws --profile mfa-dev` finds the entry the shell made; `use --clear` gives back
    exactly what the user had."""
    users = BEFORE[before]
    with Shell(kind, home) as shell:
        if users:
            shell.run(export(kind, **users))
        shell.run("stsenv use mfa-eu")
        assert shell.status == 0
        assert shell.vars(*REGION_VARIABLES) == dict.fromkeys(REGION_VARIABLES, "eu-central-1")
        shell.run("stsenv use mfa-dev")
        assert shell.status == 0
        assert shell.vars(*REGION_VARIABLES, *BOOKKEEPING) == {**as_before(users), **dict.fromkeys(BOOKKEEPING)}, (
            "a profile without a region keeps nothing of the previous one's"
        )
        assert sts.calls("GetSessionToken") == 1, "one MFA code for both roles"
        assert sts.calls("AssumeRole") == 2

        fresh = home.aws("--profile", "mfa-dev", "sts", "get-caller-identity", "--output", "text", "--region", "us-east-1", env=users)
        assert fresh.returncode == 0, fresh.stderr
        assert "assumed-role/Dev/" in fresh.stdout
        assert sts.calls("AssumeRole") == 2, "a fresh process of the user's finds the shell's entry"
        shell.run("stsenv use mfa-eu")  # from the cache; its region is exported again
        assert shell.status == 0 and shell.var("AWS_REGION") == "eu-central-1"
        in_shell = shell.run("aws --profile mfa-dev sts get-caller-identity --output text --region us-east-1")
        assert shell.status == 0 and "assumed-role/Dev/" in in_shell
        assert sts.calls("AssumeRole") == 2, "a process in this shell reads the user's region, not the one `use` exported"

        shell.run("stsenv use --clear")
        assert shell.status == 0
        assert shell.vars(*REGION_VARIABLES, *BOOKKEEPING) == {**as_before(users), **dict.fromkeys(BOOKKEEPING)}
    assert sts.calls("GetSessionToken") == 1


@pytest.mark.parametrize("kind", ["bash", "zsh", "fish"])
def test_the_users_own_change_after_use_is_the_users(kind, regions, home, sts):
    """After `use mfa-eu` the user exports a region of their own: that one is theirs, for the next profile and
    after `use --clear`; AWS_DEFAULT_REGION, left alone, is given back as it was (unset)."""
    with Shell(kind, home) as shell:
        shell.run("stsenv use mfa-eu")
        shell.run(export(kind, AWS_REGION="sa-east-1"))
        shell.run("stsenv use mfa-dev")
        assert shell.status == 0
        assert shell.vars(*REGION_VARIABLES) == {"AWS_REGION": "sa-east-1", "AWS_DEFAULT_REGION": None}
        shell.run("stsenv use mfa-eu")
        assert shell.vars(*REGION_VARIABLES) == dict.fromkeys(REGION_VARIABLES, "eu-central-1")
        shell.run(unset(kind, "AWS_DEFAULT_REGION"))  # the user's own change again: unset stays unset
        shell.run("stsenv use --clear")
        assert shell.vars(*REGION_VARIABLES, *BOOKKEEPING) == {"AWS_REGION": "sa-east-1", **dict.fromkeys(("AWS_DEFAULT_REGION", *BOOKKEEPING))}
    fresh = home.aws("--profile", "mfa-dev", "sts", "get-caller-identity", "--output", "text", "--region", "us-east-1", env={"AWS_REGION": "sa-east-1"})
    assert fresh.returncode == 0, fresh.stderr
    assert sts.calls("AssumeRole") == 2, "mfa-dev was resolved in the user's sa-east-1 in the shell and here alike"


def test_one_mfa_session_serves_every_region_of_the_partition(regions, home, sts):
    """GetSessionToken credentials work in every region of the partition: a role in another region needs a new
    AssumeRole, never a new MFA code; another partition is another session."""
    for region in ("eu-west-1", "us-west-2", "ap-northeast-1"):
        served(home.stsenv("serve", "mfa-dev", env={"AWS_REGION": region}))
    assert sts.calls("GetSessionToken") == 1
    assert sts.calls("AssumeRole") == 3, "the role's own entry stays per region"
    sessions = [entry for entry in home.cache_entries().values() if entry["kind"] == "mfa-session"]
    assert len(sessions) == 1 and "partition='aws'" in sessions[0]["key"] and "region" not in sessions[0]["key"]

    home.stsenv("serve", "mfa-dev", env={"AWS_REGION": "cn-north-1"})
    assert sts.calls("GetSessionToken") == 2, "aws-cn is another partition: another session"

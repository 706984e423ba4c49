"""One cache in every environment (issue 14 §1): the session name comes from the operating system, not from
$USER.

Every test counts STS calls: two environments that split the cache both succeed, one AssumeRole apart.
"""

import os
import pwd
import subprocess

from conftest import SESSION_NAME
from reliakit import served
from shellkit import Shell


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

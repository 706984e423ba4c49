"""`eval "$(stsenv use prod --shell X)"` in real bash, zsh and fish sets exactly the variables the README promises."""

import json
import subprocess
import time

import pytest

from shellcases import CONTRACT

# What the shells themselves add to the environment of the `env` they run.
SHELL_OWN = {"PWD", "SHLVL", "OLDPWD", "_", "LOGNAME"}

EVAL_AND_DUMP = {
    "bash": ["bash", "--norc", "--noprofile", "-c", 'eval "$(stsenv use prod --shell bash)" && env -0'],
    "zsh": ["zsh", "-f", "-c", 'eval "$(stsenv use prod --shell zsh)" && env -0'],
    "fish": ["fish", "--no-config", "-c", "stsenv use prod --shell fish | source; and env -0"],
}


def environment_after_use(home, shell, extra=None):
    env = {**home.env, "AWS_PROFILE": "leftover", "AWS_DEFAULT_PROFILE": "leftover", **(extra or {})}
    result = subprocess.run(EVAL_AND_DUMP[shell], capture_output=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    pairs = [item.split(b"=", 1) for item in result.stdout.split(b"\0") if b"=" in item]
    return {name.decode(): value.decode() for name, value in pairs}


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_use_sets_exactly_the_contract(world, home, sts, shell):
    env = environment_after_use(home, shell)
    added = {name for name in env if name not in home.env}
    assert added - SHELL_OWN == set(CONTRACT)
    assert "AWS_PROFILE" not in env and "AWS_DEFAULT_PROFILE" not in env
    assert env["STSENV_PROFILE"] == "prod"
    assert env["STSENV_IDENTITY"] == "Admin@123456789012"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert env["AWS_ACCESS_KEY_ID"].startswith("ASIA")
    expires = int(env["AWS_SESSION_EXPIRES"])
    assert 50 * 60 < expires - time.time() <= 3600
    assert env["AWS_CREDENTIAL_EXPIRATION"] == env["AWS_SESSION_EXPIRATION"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires))


def test_use_matches_serve(world, home):
    served = json.loads(home.stsenv("serve", "prod").stdout)
    env = environment_after_use(home, "bash")
    assert env["AWS_ACCESS_KEY_ID"] == served["AccessKeyId"]
    assert env["AWS_SECRET_ACCESS_KEY"] == served["SecretAccessKey"]
    assert env["AWS_SESSION_TOKEN"] == served["SessionToken"]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_use_clear_unsets_everything(world, home, shell):
    script = {
        "bash": 'eval "$(stsenv use prod --shell bash)"; eval "$(stsenv use --clear --shell bash)"; env -0',
        "zsh": 'eval "$(stsenv use prod --shell zsh)"; eval "$(stsenv use --clear --shell zsh)"; env -0',
        "fish": "stsenv use prod --shell fish | source; stsenv use --clear --shell fish | source; env -0",
    }[shell]
    argv = {"bash": ["bash", "--norc", "-c"], "zsh": ["zsh", "-f", "-c"], "fish": ["fish", "--no-config", "-c"]}[shell]
    result = subprocess.run(argv + [script], capture_output=True, env=home.env, timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    env = dict(item.decode().split("=", 1) for item in result.stdout.split(b"\0") if b"=" in item)
    assert not set(env) & set(CONTRACT)
    assert env["STSENV_PREVIOUS_PROFILE"] == "prod"  # so that `use -` brings it back


def test_use_dash_switches_back(world, home):
    first = environment_after_use(home, "bash")
    script = 'eval "$(stsenv use prod-role --shell bash)" && eval "$(stsenv use - --shell bash)" && env -0'
    result = subprocess.run(["bash", "--norc", "-c", script], capture_output=True, env={**home.env, **first}, timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    env = dict(item.decode().split("=", 1) for item in result.stdout.split(b"\0") if b"=" in item)
    assert env["STSENV_PROFILE"] == "prod"
    assert env["STSENV_PREVIOUS_PROFILE"] == "prod-role"


def test_default_shell_follows_shell_variable(world, home):
    result = home.stsenv("use", "prod", env={"SHELL": "/usr/bin/fish"})
    assert "set -gx AWS_ACCESS_KEY_ID" in result.stdout
    result = home.stsenv("use", "prod", env={"SHELL": "/bin/zsh", "STSENV_SHELL": "bash"})
    assert "export AWS_ACCESS_KEY_ID=" in result.stdout


def test_formats_json_and_dotenv(world, home):
    as_json = json.loads(home.stsenv("use", "prod", "--format", "json").stdout)
    assert as_json["STSENV_PROFILE"] == "prod" and as_json["AWS_ACCESS_KEY_ID"].startswith("ASIA")
    dotenv = dict(line.split("=", 1) for line in home.stsenv("use", "prod", "--format", "dotenv").stdout.splitlines())
    assert dotenv["AWS_ACCESS_KEY_ID"] == as_json["AWS_ACCESS_KEY_ID"]
    assert dotenv["AWS_SESSION_TOKEN"] == as_json["AWS_SESSION_TOKEN"]

"""`eval "$(stsenv use prod --shell X)"` in real bash, zsh and fish sets exactly the variables the README promises."""

import io
import json
import subprocess
import time

import pexpect
import pytest
from dotenv import dotenv_values

from shellcases import CONTRACT
from shellkit import strip

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
    dotenv = dotenv_values(stream=io.StringIO(home.stsenv("use", "prod", "--format", "dotenv").stdout))
    assert dotenv["AWS_ACCESS_KEY_ID"] == as_json["AWS_ACCESS_KEY_ID"]
    assert dotenv["AWS_SESSION_TOKEN"] == as_json["AWS_SESSION_TOKEN"]


# ---- at a terminal: no credentials on the screen (issue 13 §5) ---------------------------------------------

MFA_SERIAL = "arn:aws:iam::123456789012:mfa/alice"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
AT_A_TERMINAL = {  # every way to ask for credentials on stdout, typed in a shell without the integration
    "plain": ("use", "prod"),
    "json": ("use", "prod", "--format", "json"),
    "dotenv": ("use", "prod", "--format", "dotenv"),
    "fish": ("use", "prod", "--shell", "fish"),
    "previous profile": ("use", "-"),
    "non-interactive": ("use", "prod", "--non-interactive"),
    "ad hoc role": ("use", "--role-arn", "arn:aws:iam::123456789012:role/Admin", "--source-profile", "base"),
    "role that needs an MFA code": ("use", "mfa-role"),
    "SAML assertion from stdin": ("use", "corp", "--saml-assertion-file", "-"),
    "federate": ("federate", "partner", "--profile", "base", "--policy-arns", READ_ONLY),
}


@pytest.mark.parametrize("args", AT_A_TERMINAL.values(), ids=AT_A_TERMINAL.keys())
def test_use_at_a_terminal_prints_no_credentials_and_says_how(world, home, sts, args):
    """Decided before anything is fetched: no STS call, no MFA prompt, nothing read from stdin."""
    home.write_config(
        home.config.read_text()
        + f"\n[profile mfa-role]\nrole_arn = {world.role_arn}\nsource_profile = base\nmfa_serial = {MFA_SERIAL}\n"
        + "\n[profile corp]\nstsenv_saml_role_arn = arn:aws:iam::123456789012:role/Saml\n"
        + "stsenv_saml_principal_arn = arn:aws:iam::123456789012:saml-provider/Okta\n"
    )
    warm = json.loads(home.stsenv("use", "prod", "--format", "json").stdout)  # a warm cache holds a secret to leak
    sts.reset_calls()
    child = pexpect.spawn("stsenv", list(args), env={**home.env, "STSENV_PREVIOUS_PROFILE": "prod"}, encoding="utf-8", timeout=20)
    child.expect(pexpect.EOF)
    child.close()
    screen = strip(child.before).strip()
    assert child.exitstatus == 2, screen
    assert len(screen.splitlines()) == 1 and screen.startswith("stsenv: not printing credentials to a terminal, where they would change nothing ("), screen
    for secret in (warm["AWS_SECRET_ACCESS_KEY"], warm["AWS_SESSION_TOKEN"], warm["AWS_ACCESS_KEY_ID"], "AWS_SECRET_ACCESS_KEY"):
        assert secret not in screen
    assert "MFA" not in screen
    assert sts.calls() == 0


def test_the_terminal_message_says_how_to_apply_it_in_each_shell(world, home):
    said = {}
    for shell in ("bash", "zsh", "fish"):
        child = pexpect.spawn("stsenv", ["use", "prod"], env={**home.env, "SHELL": f"/bin/{shell}"}, encoding="utf-8", timeout=20)
        child.expect(pexpect.EOF)
        said[shell] = strip(child.before).strip()
    assert said["bash"].endswith('(run `eval "$(stsenv use prod)"`, or add `eval "$(stsenv init bash)"` to ~/.bashrc to make `stsenv use` work in place)')
    assert said["zsh"].endswith('(run `eval "$(stsenv use prod)"`, or add `eval "$(stsenv init zsh)"` to ~/.zshrc to make `stsenv use` work in place)')
    assert said["fish"].endswith("(run `stsenv use prod | source`, or add `stsenv init fish | source` to ~/.config/fish/config.fish to make `stsenv use` work in place)")


def test_an_mfa_code_on_the_command_line_is_not_repeated(world, home):
    child = pexpect.spawn("stsenv", ["use", "prod", "--token-code", "123456", "--format", "json"], env=home.env, encoding="utf-8", timeout=20)
    child.expect(pexpect.EOF)
    said = strip(child.before)
    assert "123456" not in said and "stsenv use prod --token-code CODE --format json > FILE" in said, said


def test_clear_at_a_terminal_is_unchanged(world, home):
    """`use --clear` prints no credentials: it still prints its unset lines."""
    child = pexpect.spawn("stsenv", ["use", "--clear", "--shell", "bash"], env=home.env, encoding="utf-8", timeout=20)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0 and "unset AWS_SECRET_ACCESS_KEY;" in child.before

"""MFA: one code for many roles and many terminals; codes from the terminal, a command, or a TOTP secret.

The local STS checks every code against the virtual device's TOTP secret and refuses reuse, like AWS.
"""

import os
import subprocess
import sys
import time

import pexpect
import pyotp
import pytest

PROMPT = "(mfa-base): "  # the end of the first question, never of a message
ROLES = ("role1", "role2", "role3", "role4")


class MfaWorld:
    """User bob with long-lived keys in [mfa-base] and a virtual MFA device; four roles that demand MFA."""

    def __init__(self, home, sts):
        self.home = home
        self.bob = sts.create_user("bob")
        self.serial, self.secret = sts.create_virtual_mfa("bob")
        self.role_arns = {name: sts.create_role(f"Mfa{name}", require_mfa=True) for name in ROLES}
        home.write_credentials(
            f"[mfa-base]\naws_access_key_id = {self.bob['access_key_id']}\naws_secret_access_key = {self.bob['secret_access_key']}\n"
        )
        self.base_settings = f"mfa_serial = {self.serial}\nregion = us-east-1\n"
        self.write()

    def write(self, base_extra=""):
        roles = "".join(
            f"\n[profile {name}]\ncredential_process = stsenv serve {name}\nstsenv_role_arn = {arn}\n"
            "stsenv_source_profile = mfa-base\nregion = us-east-1\n"
            for name, arn in self.role_arns.items()
        )
        self.home.write_config(f"[profile mfa-base]\n{self.base_settings}{base_extra}{roles}")

    def code(self):
        return pyotp.TOTP(self.secret).now()


@pytest.fixture
def mfa(home, sts):
    return MfaWorld(home, sts)


def spawn(home, program, *args):
    return pexpect.spawn(program, list(args), env=home.env, encoding="utf-8", timeout=60)


def spawn_use(home, out, *args):
    """`stsenv use ARGS` as under `eval "$(...)"`: stdout to the file `out` (at a terminal `use` prints no
    credentials), the terminal for the MFA prompt and messages; `exec` keeps the pid stsenv's."""
    return pexpect.spawn("sh", ["-c", 'exec stsenv "$@" > "$0"', str(out), "use", *args], env=home.env, encoding="utf-8", timeout=60)


def finish(child):
    child.expect(pexpect.EOF)
    child.close()
    return child.before, child.exitstatus


def test_aws_cli_prompts_on_the_terminal_once_for_all_roles(mfa, home, sts):
    child = spawn(home, "aws", "--profile", "role1", "sts", "get-caller-identity", "--output", "text")
    child.expect_exact(PROMPT)
    child.sendline(mfa.code())
    output, status = finish(child)
    assert status == 0, output
    assert "assumed-role/Mfarole1/" in output
    second = spawn(home, "aws", "--profile", "role2", "sts", "get-caller-identity", "--output", "text")
    output, status = finish(second)
    assert status == 0 and PROMPT not in output
    assert "assumed-role/Mfarole2/" in output
    assert sts.calls("GetSessionToken") == 1
    assert sts.calls("AssumeRole") == 2


def test_eight_terminals_four_roles_one_prompt(mfa, home, sts):
    children = [spawn(home, "aws", "--profile", ROLES[i % 4], "sts", "get-caller-identity", "--output", "text") for i in range(8)]
    prompted = []
    deadline = time.monotonic() + 90
    while not prompted and time.monotonic() < deadline:
        for child in children:
            if child.expect_exact([PROMPT, pexpect.TIMEOUT, pexpect.EOF], timeout=0.1) == 0:
                prompted.append(child)
                break
    assert len(prompted) == 1, "nobody asked for the MFA code"
    for child in children:  # every other terminal says whom it waits for, and asks nothing
        if child is not prompted[0]:
            child.expect_exact("asking for an MFA code")
    prompted[0].sendline(mfa.code())
    outputs = [finish(child) for child in children]
    assert all(status == 0 for _, status in outputs), outputs
    assert sum(output.count(PROMPT) for output, _ in outputs) == 0  # the one prompt was consumed above
    assert sts.calls("GetSessionToken") == 1
    assert sts.calls("AssumeRole") == 4


def test_use_of_the_base_profile_is_the_mfa_session(mfa, home, sts):
    result = home.stsenv("use", "mfa-base", "--token-code", mfa.code())
    assert result.returncode == 0, result.stderr
    assert "STSENV_IDENTITY='bob@123456789012'" in result.stdout


def test_mfa_process_gives_the_code(mfa, home, sts, tmp_path):
    script = tmp_path / "mfa-code.py"
    script.write_text(f"import pyotp\nprint(pyotp.TOTP({mfa.secret!r}).now())\n")
    mfa.write(f"mfa_process = {sys.executable} {script}\n")
    result = home.stsenv("serve", "role1")
    assert result.returncode == 0, result.stderr
    assert sts.calls("GetSessionToken") == 1


def test_totp_secret_file_must_be_private(mfa, home, sts, tmp_path):
    secret_file = tmp_path / "totp"
    secret_file.write_text(mfa.secret + "\n")
    os.chmod(secret_file, 0o644)
    mfa.write(f"stsenv_mfa_totp_secret_file = {secret_file}\n")
    refused = home.stsenv("serve", "role1")
    assert refused.returncode == 2
    assert "mode 0644" in refused.stderr and f"chmod 600 {secret_file}" in refused.stderr
    assert mfa.secret not in refused.stderr
    os.chmod(secret_file, 0o600)
    accepted = home.stsenv("serve", "role1")
    assert accepted.returncode == 0, accepted.stderr


def test_totp_secret_process(mfa, home, sts, tmp_path):
    secret_file = tmp_path / "vault-entry"
    secret_file.write_text(mfa.secret)
    mfa.write(f"stsenv_mfa_totp_secret_process = cat {secret_file}\n")
    result = home.stsenv("use", "role3")
    assert result.returncode == 0, result.stderr
    assert sts.calls("GetSessionToken") == 1 and sts.calls("AssumeRole") == 1


def test_wrong_code_then_right_code_on_the_terminal(mfa, home, sts):
    out = home.root / "use.out"
    child = spawn_use(home, out, "role1", "--shell", "bash")
    child.expect_exact(PROMPT)
    child.sendline("000000" if mfa.code() != "000000" else "111111")
    child.expect_exact("invalid MFA one time pass code")
    child.expect_exact("try 2 of 3")
    child.sendline(mfa.code())
    output, status = finish(child)
    assert status == 0, output
    assert "export AWS_ACCESS_KEY_ID=" in out.read_text()
    assert sts.calls("GetSessionToken") == 2


def test_no_terminal_means_exit_3_with_what_to_do(mfa, home, sts):
    result = subprocess.run(
        ["stsenv", "serve", "role1"], capture_output=True, text=True, env=home.env, stdin=subprocess.DEVNULL, start_new_session=True, timeout=60
    )
    assert result.returncode == 3
    assert result.stderr.strip() == (
        f"stsenv: profile 'mfa-base' needs an MFA code for {mfa.serial} and there is no terminal to ask on "
        "(run `stsenv login mfa-base` in a terminal, or configure mfa_process)"
    )
    assert sts.calls() == 0


def test_non_interactive_use_never_prompts(mfa, home, sts):
    child = spawn_use(home, home.root / "use.out", "role1", "--non-interactive")
    output, status = finish(child)
    assert status == 3 and PROMPT not in output
    assert "this run may not ask for one (run `stsenv login mfa-base` in a terminal)" in output


def test_login_then_roles_need_no_code_and_logout_removes_them(mfa, home, sts):
    login = home.stsenv("login", "mfa-base", "--token-code", mfa.code())
    assert login.returncode == 0, login.stderr
    assert "MFA session for mfa-base opened, valid until" in login.stderr
    for role in ROLES[:2]:
        result = subprocess.run(["stsenv", "use", role, "--non-interactive"], capture_output=True, text=True, env=home.env, start_new_session=True)
        assert result.returncode == 0, result.stderr
    again = home.stsenv("login", "mfa-base")
    assert again.returncode == 0 and "is valid until" in again.stderr
    logout = home.stsenv("logout", "mfa-base")
    assert logout.returncode == 0
    assert "removed 3 cached credentials for mfa-base" in logout.stderr
    after = subprocess.run(["stsenv", "use", "role1", "--non-interactive"], capture_output=True, text=True, env=home.env, start_new_session=True)
    assert after.returncode == 3


def test_reused_code_is_refused_and_the_session_kept(mfa, home, sts):
    code = mfa.code()
    assert home.stsenv("login", "mfa-base", "--token-code", code).returncode == 0
    (session_file,) = [name for name in home.cache_entries() if name.startswith("mfa-base.")]
    session_key = home.cache_entries()[session_file]["AccessKeyId"]
    reused = home.stsenv("login", "mfa-base", "--force", "--token-code", code)
    assert reused.returncode == 1
    assert "AccessDenied" in reused.stderr and "wait for the next code" in reused.stderr
    assert code not in reused.stderr
    assert home.cache_entries()[session_file]["AccessKeyId"] == session_key
    assert sts.calls("GetSessionToken") == 2


def test_mfa_on_a_chained_role_opens_the_session_at_the_root_keys(world, home, sts):
    serial, secret = sts.create_virtual_mfa("alice")
    chained_arn = sts.create_role("ChainedMfa", require_mfa=True)
    home.write_config(
        home.config.read_text()
        + f"\n[profile chained]\nrole_arn = {chained_arn}\nsource_profile = prod-role\nmfa_serial = {serial}\n"
    )
    result = home.stsenv("use", "chained", "--token-code", pyotp.TOTP(secret).now())
    assert result.returncode == 0, result.stderr
    assert sts.calls("GetSessionToken") == 1 and sts.calls("AssumeRole") == 2
    assert not [call for call in sts.call_log() if call["params"].get("SerialNumber") and call["action"] == "AssumeRole"]


def test_mfa_over_session_keys_goes_with_assume_role(world, home, sts):
    import boto3

    serial, secret = sts.create_virtual_mfa("alice")
    mfa_role_arn = sts.create_role("NeedsMfa", require_mfa=True)
    client = boto3.client(
        "sts", endpoint_url=sts.url, region_name="us-east-1",
        aws_access_key_id=world.alice["access_key_id"], aws_secret_access_key=world.alice["secret_access_key"],
    )
    issued = client.get_session_token(DurationSeconds=3600)["Credentials"]
    home.write_credentials(
        f"[temporary]\naws_access_key_id = {issued['AccessKeyId']}\naws_secret_access_key = {issued['SecretAccessKey']}\n"
        f"aws_session_token = {issued['SessionToken']}\n"
    )
    home.write_config(f"[profile guarded]\nrole_arn = {mfa_role_arn}\nsource_profile = temporary\nmfa_serial = {serial}\n")
    sts.reset_calls()
    result = home.stsenv("use", "guarded", "--token-code", pyotp.TOTP(secret).now())
    assert result.returncode == 0, result.stderr
    assert sts.calls("GetSessionToken") == 0
    (call,) = sts.call_log()
    assert call["action"] == "AssumeRole" and call["params"]["SerialNumber"] == serial


def test_role_demanding_mfa_without_any_is_refused_clearly(mfa, home, sts):
    mfa.base_settings = "region = us-east-1\n"
    mfa.write()
    result = home.stsenv("serve", "role1")
    assert result.returncode == 1
    assert result.stderr.startswith("stsenv: AssumeRole refused: AccessDenied")


def test_waiters_wait_for_a_person_typing_and_still_give_up(mfa, home, sts):
    asking = spawn_use(home, home.root / "use.out", "role1")
    asking.expect_exact(PROMPT)
    limits = {"STSENV_LOCK_TIMEOUT": "1", "STSENV_MFA_LOCK_TIMEOUT": "6"}
    waiter = subprocess.Popen(
        ["stsenv", "serve", "role2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**home.env, **limits}, start_new_session=True,
    )
    time.sleep(3)
    assert waiter.poll() is None, "the waiter gave up after the plain limit while a person was typing"
    _, stderr = waiter.communicate(timeout=60)
    assert waiter.returncode == 4
    assert "asking for an MFA code" in stderr and f"pid {asking.pid}" in stderr
    asking.sendline(mfa.code())
    output, status = finish(asking)
    assert status == 0, output


def test_waiter_reuses_the_session_once_the_code_is_typed(mfa, home, sts):
    asking = spawn_use(home, home.root / "use.out", "role1")
    asking.expect_exact(PROMPT)
    waiter = spawn(home, "stsenv", "serve", "role2")
    waiter.expect_exact("waiting for another stsenv")
    asking.sendline(mfa.code())
    assert finish(asking)[1] == 0
    output, status = finish(waiter)
    assert status == 0 and '"AccessKeyId"' in output
    assert sts.calls("GetSessionToken") == 1


def test_token_code_from_stdin_stays_out_of_the_process_list(mfa, home, sts):
    result = home.stsenv("use", "role1", "--token-code", "-", input=mfa.code() + "\n")
    assert result.returncode == 0, result.stderr
    assert sts.calls("GetSessionToken") == 1


@pytest.mark.parametrize(
    "setting, expected",
    [
        ("mfa_process = /nonexistent/otp", "cannot run mfa_process `/nonexistent/otp`"),
        ("mfa_process = false", "mfa_process `false` exited with status 1"),
        ("mfa_process = echo not-a-code", "mfa_process did not give a 6-digit MFA code"),
        ("stsenv_mfa_totp_secret_process = echo !!!", "the TOTP secret is not valid base32"),
    ],
)
def test_broken_code_commands_are_one_line_and_ask_nothing(mfa, home, sts, setting, expected):
    mfa.write(setting + "\n")
    result = home.stsenv("serve", "role1")
    assert result.returncode in (2, 3), result.stderr
    assert result.stderr.startswith("stsenv: ") and expected in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert sts.calls() == 0

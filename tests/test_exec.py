"""`stsenv exec PROFILE -- COMMAND`: the command runs with the variables `use` sets, its exit code and signals
are its own, nesting is refused; with --server it gets a loopback credentials endpoint instead of keys, read
by the real aws CLI and boto3, guarded by a token, and renewed past the first credentials' expiry."""

import json
import signal
import subprocess
import sys
import time

import pexpect
import pyotp
import pytest

from reliakit import entry_path, set_remaining
from shellkit import Shell

PY = sys.executable
DUMP_ENV = [PY, "-c", "import json, os; print(json.dumps(dict(os.environ)))"]


def run(home, *args, env=None, timeout=120):
    """`stsenv ARGS` without a controlling terminal (stdin closed), as a script or CI would run it."""
    return subprocess.run(
        ["stsenv", *args], capture_output=True, text=True, env={**home.env, **(env or {})}, timeout=timeout,
        stdin=subprocess.DEVNULL, start_new_session=True,
    )


def child_env(home, *args, env=None):
    result = run(home, "exec", *args, "--", *DUMP_ENV, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def spawn(home, *args, env=None):
    """`stsenv ARGS` on a terminal of its own (pexpect), so Ctrl-C goes to its foreground process group."""
    child = pexpect.spawn("stsenv", list(args), env={**home.env, **(env or {})}, encoding="utf-8", timeout=60)
    return child


# ---- plain exec -------------------------------------------------------------------------------------------


def test_command_gets_the_variables_use_sets(world, home, sts):
    env = child_env(home, "prod", env={"AWS_PROFILE": "leftover", "AWS_DEFAULT_PROFILE": "leftover"})
    assert env["AWS_ACCESS_KEY_ID"].startswith("ASIA") and env["AWS_SESSION_TOKEN"]
    assert (env["STSENV_PROFILE"], env["STSENV_IDENTITY"], env["STSENV_EXEC"]) == ("prod", "Admin@123456789012", "prod")
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert "AWS_PROFILE" not in env and "AWS_DEFAULT_PROFILE" not in env
    assert 50 * 60 < int(env["AWS_SESSION_EXPIRES"]) - time.time() <= 3600
    assert child_env(home, "prod")["AWS_ACCESS_KEY_ID"] == env["AWS_ACCESS_KEY_ID"]  # the shared cache
    assert sts.calls("AssumeRole") == 1


def test_the_aws_cli_in_the_command_acts_as_the_profile(world, home, sts):
    result = run(home, "exec", "prod", "--", "aws", "sts", "get-caller-identity", "--query", "Arn", "--output", "text")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("arn:aws:sts::123456789012:assumed-role/Admin/")


def test_region_and_duration_flags(world, home, sts):
    env = child_env(home, "prod", "--region", "ap-northeast-1", "--duration-seconds", "900")
    assert env["AWS_REGION"] == "ap-northeast-1"
    assert int(env["AWS_SESSION_EXPIRES"]) - time.time() <= 900
    (assume,) = [entry for entry in sts.call_log() if entry["action"] == "AssumeRole"]
    assert assume["params"]["DurationSeconds"] == "900"


def test_exit_code_is_the_commands(world, home, sts):
    assert run(home, "exec", "prod", "--", "sh", "-c", "exit 7").returncode == 7
    assert run(home, "exec", "prod", "--server", "--", "sh", "-c", "exit 7").returncode == 7


def test_signal_death(world, home, sts):
    """Plain: stsenv has become the command, so its parent sees the signal itself; --server: 128+N."""
    assert run(home, "exec", "prod", "--", "sh", "-c", "kill -TERM $$").returncode == -signal.SIGTERM
    assert run(home, "exec", "prod", "--server", "--", "sh", "-c", "kill -TERM $$").returncode == 128 + signal.SIGTERM


def test_command_not_found_or_not_executable(world, home, sts, tmp_path):
    missing = run(home, "exec", "prod", "--", "no-such-command-here")
    assert (missing.returncode, missing.stderr) == (127, "stsenv: exec: no-such-command-here: command not found\n")
    script = tmp_path / "not-executable"
    script.write_text("#!/bin/sh\n")
    denied = run(home, "exec", "prod", "--server", "--", str(script))
    assert denied.returncode == 126 and "Permission denied" in denied.stderr


def test_pythons_ignored_signals_are_not_inherited(world, home, sts):
    """Python ignores SIGPIPE; an ignored signal survives execve, and `yes | head` would never end."""
    result = run(home, "exec", "prod", "--", "cat", "/proc/self/status")
    ignored = int(next(line for line in result.stdout.splitlines() if line.startswith("SigIgn:")).split()[1], 16)
    assert not ignored & (1 << (signal.SIGPIPE - 1))


def test_a_command_is_required(world, home, sts):
    for args in (("exec", "prod"), ("exec", "prod", "--")):
        result = run(home, *args)
        assert result.returncode == 2 and "which command?" in result.stderr
    assert sts.calls() == 0


def test_words_after_dashes_are_the_commands(world, home, sts):
    result = run(home, "exec", "prod", "--", PY, "-c", "import sys; print(sys.argv[1:])", "--server", "--debug", "--region", "x", "--")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "['--server', '--debug', '--region', 'x', '--']\n"
    assert "stsenv[debug]" not in result.stderr  # the command's --debug is not stsenv's


def test_nesting_another_profile_is_refused_unless_asked(world, home, sts):
    inside = {"STSENV_EXEC": "prod-role"}
    refused = run(home, "exec", "prod", "--", "true", env=inside)
    assert refused.returncode == 2
    assert refused.stderr == (
        "stsenv: this is already a command of `stsenv exec prod-role`: its credentials would be replaced by 'prod''s "
        "(give --allow-nested to run it anyway, or leave that command first)\n"
    )
    assert sts.calls() == 0
    assert child_env(home, "prod", "--allow-nested", env=inside)["STSENV_EXEC"] == "prod"
    assert run(home, "exec", "prod", "--", "true", env={"STSENV_EXEC": "prod"}).returncode == 0


def test_nesting_through_a_real_exec(world, home, sts):
    result = run(home, "exec", "prod", "--", "stsenv", "exec", "prod-role", "--", "true")
    assert result.returncode == 2 and "already a command of `stsenv exec prod`" in result.stderr


def test_ctrl_c_reaches_the_command(world, home, sts, tmp_path):
    """The command traps SIGINT, counts it and exits 42: it gets Ctrl-C once, and stsenv is not in the way."""
    script = tmp_path / "trap.py"
    script.write_text(
        "import signal, sys, time\n"
        "got = []\n"
        "signal.signal(signal.SIGINT, lambda *_: got.append(1))\n"
        "print('ready', flush=True)\n"
        "while not got: time.sleep(0.01)\n"
        "time.sleep(0.5)\n"
        "print('interrupts', len(got), flush=True)\n"
        "sys.exit(42)\n"
    )
    for server in ([], ["--server"]):
        child = spawn(home, "exec", "prod", *server, "--", PY, str(script))
        child.expect("ready")
        child.sendintr()
        child.expect(r"interrupts (\d+)")
        assert child.match.group(1) == "1", server
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 42, (server, child.before)


def test_server_forwards_signals_sent_to_stsenv(world, home, sts, tmp_path):
    ready = tmp_path / "ready"
    script = f"trap 'exit 3' TERM; touch {ready}; while :; do sleep 0.05; done"
    process = subprocess.Popen(
        ["stsenv", "exec", "prod", "--server", "--", "sh", "-c", script], env=home.env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert time.monotonic() < deadline and process.poll() is None, process.stderr.read()
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 3


# ---- exec --server ----------------------------------------------------------------------------------------


def test_server_gives_no_keys_but_a_loopback_endpoint(world, home, sts):
    keys = {"AWS_ACCESS_KEY_ID": "AKIAOLDOLDOLDOLDOLD0", "AWS_SECRET_ACCESS_KEY": "old", "AWS_SESSION_TOKEN": "old"}
    env = child_env(home, "prod", "--server", env={**keys, "AWS_PROFILE": "leftover"})
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SESSION_EXPIRES", "AWS_PROFILE"):
        assert name not in env, name
    assert env["AWS_CONTAINER_CREDENTIALS_FULL_URI"].startswith("http://127.0.0.1:")
    assert len(env["AWS_CONTAINER_AUTHORIZATION_TOKEN"]) >= 40
    assert (env["STSENV_PROFILE"], env["STSENV_EXEC"], env["AWS_REGION"]) == ("prod", "prod", "eu-west-1")
    again = child_env(home, "prod", "--server")
    assert again["AWS_CONTAINER_AUTHORIZATION_TOKEN"] != env["AWS_CONTAINER_AUTHORIZATION_TOKEN"]


CHECK_TOKEN = """
import json, os, urllib.request, urllib.error
url = os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
token = os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
for header in (None, "wrong", token[:-1], token + "x", token):
    request = urllib.request.Request(url, headers={} if header is None else {"Authorization": header})
    try:
        with opener.open(request) as answer:
            status, body = answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read().decode()
    print(json.dumps([status, body]))
for path in ("/", "/latest/meta-data/"):
    try:
        opener.open(urllib.request.Request(url.split("/stsenv")[0] + path, headers={"Authorization": token}))
    except urllib.error.HTTPError as error:
        print(json.dumps([error.code, error.read().decode()]))
"""


def test_server_checks_the_token_on_every_request(world, home, sts):
    result = run(home, "exec", "prod", "--server", "--", PY, "-c", CHECK_TOKEN)
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [status for status, _ in answers] == [401, 403, 403, 403, 200, 404, 404]
    for status, body in answers[:4] + answers[5:]:
        assert "AccessKeyId" not in body and "ASIA" not in body
    served = json.loads(answers[4][1])
    assert set(served) == {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}
    assert served["AccessKeyId"] == json.loads(run(home, "serve", "prod").stdout)["AccessKeyId"]
    assert served["Expiration"].endswith("Z")


def test_server_with_the_aws_cli(world, home, sts):
    result = run(home, "exec", "prod", "--server", "--", "aws", "sts", "get-caller-identity", "--query", "Arn", "--output", "text")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("arn:aws:sts::123456789012:assumed-role/Admin/")


def test_server_refuses_long_lived_keys(world, home, sts):
    result = run(home, "exec", "base", "--server", "--", "true")
    assert result.returncode == 2 and "holds long-lived keys" in result.stderr


LONG_JOB = """
import os, subprocess, sys, time
from pathlib import Path
import boto3
ready, go = Path(sys.argv[1]), Path(sys.argv[2])
client = boto3.client("sts", region_name="us-east-1")
print("first", client.get_caller_identity()["Arn"], flush=True)
ready.touch()
while not go.exists():
    time.sleep(0.05)
print("second", client.get_caller_identity()["Arn"], flush=True)
cli = subprocess.run(["aws", "sts", "get-caller-identity", "--query", "Arn", "--output", "text"], capture_output=True, text=True)
print("cli", cli.returncode, cli.stdout.strip(), cli.stderr.strip(), flush=True)
sys.exit(cli.returncode)
"""


def test_a_job_outlives_its_first_credentials(world, home, sts, tmp_path):
    """A boto3 client kept across the expiry of its first (900 s) credentials, then the aws CLI: both go on
    working with the renewed ones. The 15 minutes pass as two facts a test can set: the cache entry has 100 s
    left, and STS refuses the first credentials as expired."""
    home.write_config(home.config.read_text() + f"\n[profile short]\nrole_arn = {world.role_arn}\nsource_profile = base\nduration_seconds = 900\n")
    script, ready, go = tmp_path / "job.py", tmp_path / "ready", tmp_path / "go"
    script.write_text(LONG_JOB)
    job = subprocess.Popen(
        ["stsenv", "exec", "short", "--server", "--", PY, str(script), str(ready), str(go)], env=home.env,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert time.monotonic() < deadline and job.poll() is None, job.communicate()
        time.sleep(0.05)
    first_key = json.loads(entry_path(home, "short").read_text())["AccessKeyId"]
    set_remaining(entry_path(home, "short"), 100)
    sts.expire(first_key)
    go.touch()
    out, err = job.communicate(timeout=120)
    assert job.returncode == 0, (out, err)
    assert [line.split()[0] for line in out.splitlines()] == ["first", "second", "cli"]
    assert sts.calls("AssumeRole") == 2  # the first credentials, then one renewal for the client and the CLI
    signers = [entry["access_key_id"] for entry in sts.call_log() if entry["action"] == "GetCallerIdentity"]
    assert signers[0] == first_key and signers[1] != first_key and signers[2] == signers[1]
    renewed = json.loads(run(home, "serve", "short").stdout)  # another process shares the renewal
    assert renewed["AccessKeyId"] == signers[1]
    assert sts.calls("AssumeRole") == 2


def test_server_says_why_when_it_cannot_renew(world, home, sts, tmp_path):
    """STS refusing the renewal: the client gets a 500 with stsenv's one line, never credentials."""
    script = (
        "import json, os, urllib.request, urllib.error\n"
        "request = urllib.request.Request(os.environ['AWS_CONTAINER_CREDENTIALS_FULL_URI'], headers={'Authorization': os.environ['AWS_CONTAINER_AUTHORIZATION_TOKEN']})\n"
        "try:\n    urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request)\n"
        "except urllib.error.HTTPError as error:\n    print(error.code, json.loads(error.read())['message'])\n"
    )
    ready = tmp_path / "ready"
    wait_then_ask = f"while [ ! -e {tmp_path}/go ]; do sleep 0.05; done; {PY} -c \"$0\""
    job = subprocess.Popen(
        ["stsenv", "exec", "prod", "--server", "--", "sh", "-c", f"touch {ready}; {wait_then_ask}", script], env=home.env,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert time.monotonic() < deadline and job.poll() is None, job.communicate()
        time.sleep(0.05)
    set_remaining(entry_path(home), 30)  # too little to hand out or to fall back on
    sts.inject_fault("AssumeRole", "access_denied")
    (tmp_path / "go").touch()
    out, err = job.communicate(timeout=120)
    assert job.returncode == 0, err
    assert out.startswith("500 AssumeRole refused: AccessDenied")
    assert "stsenv: exec --server: AssumeRole refused: AccessDenied" in err
    assert "ASIA" not in out + err


@pytest.mark.parametrize("kind", ["bash", "zsh", "fish"])
def test_completion_of_exec_and_console(kind, world, home, sts):
    with Shell(kind, home) as shell:
        assert "prod-role" in shell.complete("stsenv exec pr", "prod-served")
        shell.complete("stsenv exec prod --ser", "--server")
        shell.complete("stsenv console --sess", "--session-duration")
        shell.complete("stsenv console prod --service clo", "cloudformation")
        shell.complete("stsenv con", "console")
        shell.complete("stsenv exec prod -- base6", "base64")


def test_server_asks_the_terminal_for_an_mfa_code_when_a_renewal_needs_one(home, sts, tmp_path):
    """The MFA session under the role has run out as well: the renewal asks on the command's terminal."""
    bob = sts.create_user("bob")
    serial, secret = sts.create_virtual_mfa("bob")
    role_arn = sts.create_role("Guarded", require_mfa=True)
    home.write_credentials(f"[keys]\naws_access_key_id = {bob['access_key_id']}\naws_secret_access_key = {bob['secret_access_key']}\nmfa_serial = {serial}\n")
    home.write_config(f"[profile guarded]\nrole_arn = {role_arn}\nsource_profile = keys\nduration_seconds = 900\nregion = us-east-1\n")
    script, ready, go = tmp_path / "job.py", tmp_path / "ready", tmp_path / "go"
    script.write_text(LONG_JOB)
    child = pexpect.spawn("stsenv", ["exec", "guarded", "--server", "--", PY, str(script), str(ready), str(go)], env=home.env, encoding="utf-8", timeout=60)
    totp = pyotp.TOTP(secret)
    child.expect_exact("(keys): ")
    child.sendline(totp.now())
    child.expect("first arn:aws:sts::123456789012:assumed-role/Guarded/")
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    first_key = json.loads(entry_path(home, "guarded").read_text())["AccessKeyId"]
    set_remaining(entry_path(home, "guarded"), 100)
    set_remaining(entry_path(home, "keys"), 30)
    sts.expire(first_key)
    go.touch()
    child.expect_exact("(keys): ")
    child.sendline(totp.at(time.time() + 30))  # the next code: AWS takes each code once
    child.expect("second arn:aws:sts::123456789012:assumed-role/Guarded/")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert (sts.calls("GetSessionToken"), sts.calls("AssumeRole")) == (2, 2)

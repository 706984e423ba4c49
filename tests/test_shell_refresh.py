"""What the prompt hook's refresh (`stsenv use --refresh=PROFILE`) must survive, in a real interactive bash,
zsh and fish (pexpect) against the local STS: failure text that carries code for a shell, an STS that never
answers, another terminal asking for the MFA code, and Ctrl-C. The hook evaluates stdout on exit 0 only; the
prompt comes back within STSENV_REFRESH_TIMEOUT; and each failure counts for the back-off."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time

import pexpect
import pyotp
import pytest

from shellcases import expiring, refreshes, use_prod
from shellkit import PROMPT_PATTERN, Shell, export
from stsenv.oneline import oneline


@pytest.fixture(params=["bash", "zsh", "fish"])
def kind(request):
    """The shell under test."""
    return request.param


def hostile_texts(canary):
    """Failure text that runs `touch CANARY` if any shell evaluates any part of it: on lines of its own behind
    stsenv's old in-band framing, in quotes, `$()`, backticks, fish's `()` and `; and`, and behind escape
    sequences and line separators."""
    return (
        f"denied\ntouch {canary}\n@stsenv-exit:0\ntouch {canary}",
        f"x\n@stsenv-exit:0\n'\"; touch {canary}; echo '\"",
        f"$(touch {canary}) `touch {canary}`",
        f"(touch {canary}); and touch {canary}; or touch {canary}",
        f"\x1b]0;pwned\x07\x1b[2J\r\u2028touch {canary}\u0085",
    )


# Credentials the shell holds before each refresh: the test checks they are still there after it failed.
KEPT = {"AWS_ACCESS_KEY_ID": "ASIAKEPTKEPTKEPTKEPT", "AWS_SECRET_ACCESS_KEY": "kept-secret", "AWS_SESSION_TOKEN": "kept-token"}


def _last_line(text):
    """The line stsenv relays of a configured command's stderr: its last non-empty one, made safe."""
    return oneline([line.strip() for line in text.split("\n") if line.strip()][-1])


def _python_script(path, body):
    path.write_text(f"#!{sys.executable}\nimport sys\n{body}")
    path.chmod(0o755)
    return path


class Channel:
    """One way failure text reaches the hook: `arm(text)` makes the next refresh of `profile` fail with it;
    `relayed(text)` is what of it the report must show, escaped (None: nothing to check)."""

    def __init__(self, name, world, home, sts):
        self.name, self.home, self.sts = name, home, sts
        self.script = home.root / "hostile-tool"
        self.path_prefix = None
        self.profile = "prod"
        if name == "credential_process":
            self.profile = "via-tool"
            home.write_config(
                home.config.read_text()
                + f"\n[profile vaulted]\ncredential_process = {self.script}\n"
                + f"\n[profile via-tool]\nrole_arn = {world.role_arn}\nsource_profile = vaulted\n"
            )
        elif name == "mfa_process":
            self.profile = "guarded"
            serial, _ = sts.create_virtual_mfa("alice")
            role = sts.create_role("Guarded", require_mfa=True)
            home.write_config(
                home.config.read_text()
                + f"\n[profile guarded]\nrole_arn = {role}\nsource_profile = base\nmfa_serial = {serial}\n"
                + f"mfa_process = {self.script}\n"
            )
        elif name == "program":  # a stsenv whose output nobody made safe: the hook alone must hold
            self.path_prefix = home.root / "hostile-bin"
            self.path_prefix.mkdir()

    def arm(self, text, canary):
        if self.name == "sts":
            self.sts.inject_error("AssumeRole", "AccessDenied", text)
        elif self.name == "credential_process":
            _python_script(self.script, f"sys.stderr.write({text!r} + '\\n')\nsys.exit(2)\n")
        elif self.name == "mfa_process":
            _python_script(self.script, f"print('123456')\nsys.stderr.write({text!r} + '\\n')\nsys.exit(1)\n")
        else:
            body = f"sys.stdout.write('touch {canary}\\n')\nsys.stderr.write({text!r} + '\\n')\nsys.exit(1)\n"
            _python_script(self.path_prefix / "stsenv", body)

    def relayed(self, text):
        if self.name == "sts":  # XML carries no C0 control but tab, newline and carriage return
            return None if any(ord(c) < 32 and c not in "\t\n\r" for c in text) else oneline(text)
        if self.name in ("credential_process", "mfa_process"):
            return _last_line(text)
        return None


@pytest.mark.parametrize("channel", ["sts", "credential_process", "mfa_process", "program"])
def test_failure_text_never_runs_and_the_shell_keeps_its_credentials(kind, channel, world, home, sts):
    """Through an STS error message, a failing source credential_process, a failing mfa_process, and a
    stsenv stand-in that prints shell code on stdout and hostile lines on stderr and fails: nothing runs,
    the shell's credentials stay, and (from stsenv) the report is one line that shows the text escaped."""
    canary = home.root / "CANARY"
    way = Channel(channel, world, home, sts)
    with Shell(kind, home) as shell:
        if way.path_prefix:
            shell.run(f"set -gx PATH {way.path_prefix} $PATH" if kind == "fish" else f"export PATH={way.path_prefix}:$PATH")
        for number, text in enumerate(hostile_texts(canary)):
            way.arm(text, canary)
            expires = int(time.time()) + 100 + number  # a new expiry each time: said again, no back-off
            shell.run(export(kind, STSENV_PROFILE=way.profile, STSENV_CACHE_DIR=home.root / f"cache-{number}", **KEPT))
            told = shell.run(export(kind, AWS_SESSION_EXPIRES=expires))
            assert not canary.exists(), (text, told)
            assert shell.vars(*KEPT, "AWS_SESSION_EXPIRES") == {**KEPT, "AWS_SESSION_EXPIRES": str(expires)}, text
            if channel == "program":
                continue  # its stderr is its own; what matters is that nothing of it ran
            lines = [line for line in told.splitlines() if line.strip()]
            assert len(lines) == 1, (text, told)
            assert lines[0].startswith(f"stsenv: could not refresh {way.profile}: "), lines
            assert lines[0].endswith(f"; run `stsenv use {way.profile}` to renew"), lines
            relayed = way.relayed(text)
            assert relayed is None or relayed in lines[0], (relayed, lines[0])
        assert "123456" not in "\n".join(raw for _, raw in shell.transcript), "a configured command's stdout is never shown"
    if channel == "program":
        assert refreshes(shell) == [], "the stand-in ran instead of the shim"
    else:
        assert len(refreshes(shell)) == len(hostile_texts(canary))


def _set_shell_variable(kind, name, value):
    """A variable of the shell that is not exported: the hook has to pass it on itself."""
    return f"set -g {name} {value}" if kind == "fish" else f"{name}={value}"


def _lock_is_free(lock_file):
    fd = os.open(lock_file, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def test_a_silent_sts_gives_the_prompt_back_after_the_budget(kind, world, home, sts):
    """STS takes the request and never answers (60 s a try, 3 tries): with STSENV_REFRESH_TIMEOUT=2 the prompt is
    back well before one try would end; one line; the shell's credentials stay; the back-off holds; the lock is
    free and nothing stsenv writes on the way is left in the cache."""
    cache = home.root / "cache-2"
    with Shell(kind, home) as shell:
        use_prod(shell)
        before = shell.vars("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
        shell.run(_set_shell_variable(kind, "STSENV_REFRESH_TIMEOUT", 2) + "; "
                  + export(kind, STSENV_CACHE_DIR=cache, STSENV_REFRESH_BACKOFF=3600))
        sts.reset_calls()
        sts.inject_fault("AssumeRole", "slow:60", times=3)
        near = int(time.time()) + 100
        started = time.monotonic()
        told = shell.run(export(kind, AWS_SESSION_EXPIRES=near), timeout=100)
        took = time.monotonic() - started
        assert took < 20, f"the prompt came back after {took:.0f}s"
        assert [line for line in told.splitlines() if line.strip()] == [
            "stsenv: could not refresh prod: gave up after 2s (STSENV_REFRESH_TIMEOUT); run `stsenv use prod` to renew"
        ], told
        for _ in range(3):
            assert shell.run("true").strip() == ""
        assert len(refreshes(shell)) == 1, "no new attempt for the same expiry during the back-off"
        assert sts.calls("AssumeRole") == 1
        assert shell.vars("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY") == before
        assert shell.var("AWS_SESSION_EXPIRES") == str(near)
    left = sorted(path.name for path in cache.iterdir())
    assert [name for name in left if not name.endswith(".lock")] == [], left
    assert all(_lock_is_free(cache / name) for name in left)


def test_another_terminal_asking_for_the_code_gives_the_prompt_back_at_once(kind, world, home, sts):
    """A terminal sits at the MFA prompt for the profile: the hook never waits for that person
    (STSENV_MFA_LOCK_TIMEOUT would be 300 s); it says so in one line, and once the code is typed there the next
    attempt renews from the session it opened, without a code."""
    serial, secret = sts.create_virtual_mfa("alice")
    role = sts.create_role("Guarded", require_mfa=True)
    home.write_config(home.config.read_text() + f"\n[profile guarded]\nrole_arn = {role}\nsource_profile = base\nmfa_serial = {serial}\n")
    asking = pexpect.spawn("stsenv", ["login", "guarded"], env=home.env, encoding="utf-8", timeout=60)  # a person at the prompt
    try:
        asking.expect_exact("MFA code for ")
        with Shell(kind, home) as shell:
            started = time.monotonic()
            told = shell.run(expiring(kind, 90, STSENV_PROFILE="guarded", **KEPT), timeout=40)
            took = time.monotonic() - started
            assert took < 20, f"the prompt came back after {took:.0f}s"
            assert [line for line in told.splitlines() if line.strip()] == [
                f"stsenv: could not refresh guarded: another terminal is asking for the MFA code (stsenv pid {asking.pid}); "
                "type it there, then run `stsenv use guarded` to renew"
            ], told
            assert shell.var("AWS_ACCESS_KEY_ID") == KEPT["AWS_ACCESS_KEY_ID"]
            asking.sendline(pyotp.TOTP(secret).now())
            asking.expect(pexpect.EOF)
            asking.close()
            assert asking.exitstatus == 0
            shell.run(export(kind, STSENV_REFRESH_BACKOFF=0))
            assert len(refreshes(shell)) == 2
            assert int(shell.var("AWS_SESSION_EXPIRES")) > time.time() + 3000
            assert shell.var("AWS_ACCESS_KEY_ID") != KEPT["AWS_ACCESS_KEY_ID"]
        assert sts.calls("GetSessionToken") == 1, "one MFA session, opened by the terminal that asked"
    finally:
        asking.close(force=True)


def _wait_for(condition, seconds=20):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_ctrl_c_during_a_refresh_gives_the_prompt_back_and_counts_as_a_failure(kind, world, home, sts):
    """Ctrl-C while the refresh waits for STS: the prompt is back at once, and no second refresh starts (bash
    runs PROMPT_COMMAND again after an interrupt); the shell keeps its credentials."""
    with Shell(kind, home) as shell:
        use_prod(shell)
        before = shell.vars("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
        shell.run(export(kind, STSENV_REFRESH_TIMEOUT=50, STSENV_REFRESH_BACKOFF=3600, STSENV_CACHE_DIR=home.root / "cache-2"))
        sts.reset_calls()
        sts.inject_fault("AssumeRole", "slow:60", times=3)
        number, sentinel = shell.sentinel()
        shell.child.sendline(f"{sentinel}; {expiring(kind)}")
        shell.child.expect_exact(f"@S{number}@")
        _wait_for(lambda: sts.calls("AssumeRole") == 1)  # the refresh is in STS's hands
        started = time.monotonic()
        shell.child.sendintr()
        shell.child.expect(PROMPT_PATTERN, timeout=40)
        took = time.monotonic() - started
        assert took < 10, f"the prompt came back after {took:.0f}s"
        for _ in range(2):
            shell.run("true", timeout=100)
        assert len(refreshes(shell)) == 1, refreshes(shell)
        assert sts.calls("AssumeRole") == 1
        assert shell.vars("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY") == before
        screen = shell.child.before + "\n".join(raw for _, raw in shell.transcript)
        assert "Traceback" not in screen and "internal error" not in screen, screen


LINTERS = {"bash": ["shellcheck", "--shell=bash", "-"], "zsh": ["zsh", "-n"], "fish": ["fish_indent", "--check"]}


def test_init_script_passes_its_linter(kind, home):
    """What `stsenv init SHELL --prompt` prints (the integration and the completion) as its linter reads it:
    shellcheck for bash, fish_indent --check for fish (.ci/run also runs both on the files), zsh -n for zsh."""
    script = home.stsenv("init", kind, "--prompt")
    assert script.returncode == 0, script.stderr
    result = subprocess.run(LINTERS[kind], input=script.stdout, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr

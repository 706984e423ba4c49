"""`stsenv use --refresh=PROFILE`, the prompt hook's renewal, run as a program: its block on success, one
sentence on every failure, and its time limit (STSENV_REFRESH_TIMEOUT) unwinding the lock, the holder and
temporary files, and a configured command. The shells running it are in test_shell_refresh.py."""

from __future__ import annotations

import fcntl
import os
import sys
import time

import pytest

from reliakit import entry_path, lock_path, run, served, set_remaining, start

RENEW = "; run `stsenv use prod` to renew"
NOT_A_PROFILE = "STSENV_PROFILE does not name a profile; run `stsenv use PROFILE`"


def one_sentence(result, code):
    assert result.returncode == code, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_the_block_is_the_one_use_prints(world, home, sts):
    refreshed = run(home, "use", "--refresh=prod", "--shell", "bash")
    assert refreshed.returncode == 0 and refreshed.stderr == ""
    assert refreshed.stdout == run(home, "use", "prod", "--shell", "bash").stdout, "the second is read from the cache"
    by_argparse = run(home, "use", "--non-interactive", "--refresh=prod", "--shell", "bash")
    assert by_argparse.returncode == 0 and by_argparse.stdout == refreshed.stdout
    assert sts.calls("AssumeRole") == 1


@pytest.mark.parametrize(
    "name, shown",
    [("", "''"), ("-", "'-'"), ("-x", "'-x'"), ("--help", "'--help'"), ("$(touch x)", "'$(touch x)'"), ("a\nb", "'a\\nb'")],
)
def test_what_names_no_profile_is_one_sentence_and_never_a_flag(world, home, sts, name, shown):
    """`-` is not the previous profile here, and `--help` not a flag: the name is the flag's own value."""
    result = run(home, "use", f"--refresh={name}", "--shell", "bash", env={"STSENV_PREVIOUS_PROFILE": "prod"})
    assert one_sentence(result, 2) == f"stsenv: could not refresh {shown}: {NOT_A_PROFILE}"
    assert sts.calls() == 0


def test_an_ad_hoc_session_and_a_missing_profile_are_one_sentence(world, home, sts):
    assert one_sentence(run(home, "use", "--refresh=adhoc:Admin"), 2) == (
        "stsenv: could not refresh adhoc:Admin: an ad-hoc session cannot renew itself; "
        "run the `stsenv use` or `stsenv federate` that made it again"
    )
    line = one_sentence(run(home, "use", "--refresh=prdo"), 2)
    assert line == "stsenv: could not refresh prdo: profile 'prdo' not found (did you mean prod?); run `stsenv use prdo` to renew"
    assert sts.calls() == 0


@pytest.mark.parametrize("value", ["0", "-1", "inf", "soon"])
def test_a_bad_time_limit_is_one_sentence(world, home, sts, value):
    line = one_sentence(run(home, "use", "--refresh=prod", env={"STSENV_REFRESH_TIMEOUT": value}), 2)
    assert line.startswith(f"stsenv: could not refresh prod: STSENV_REFRESH_TIMEOUT='{value}' must be a finite positive number")
    assert sts.calls() == 0


def test_a_silent_sts_ends_at_the_time_limit_leaving_the_lock_free_and_nothing_behind(world, home, sts):
    sts.inject_fault("AssumeRole", "slow:60", times=3)
    started = time.monotonic()
    result = run(home, "use", "--refresh=prod", env={"STSENV_REFRESH_TIMEOUT": "1.5"})
    took = time.monotonic() - started
    assert one_sentence(result, 4) == f"stsenv: could not refresh prod: gave up after 1.5s (STSENV_REFRESH_TIMEOUT){RENEW}"
    assert took < 15, f"took {took:.0f}s"
    assert sts.calls("AssumeRole") == 1
    assert sorted(path.suffix for path in home.cache.iterdir()) == [".lock"], list(home.cache.iterdir())
    fd = os.open(lock_path(home), os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free: taken at once
    finally:
        os.close(fd)


def test_a_hanging_source_command_is_killed_at_the_time_limit(world, home, sts, tmp_path):
    pid_file = tmp_path / "tool.pid"
    tool = tmp_path / "tool"
    tool.write_text(f"#!{sys.executable}\nimport os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\ntime.sleep(120)\n")
    tool.chmod(0o755)
    home.write_config(
        home.config.read_text()
        + f"\n[profile vaulted]\ncredential_process = {tool}\n\n[profile via-tool]\nrole_arn = {world.role_arn}\nsource_profile = vaulted\n"
    )
    result = run(home, "use", "--refresh=via-tool", env={"STSENV_REFRESH_TIMEOUT": "2"})
    assert one_sentence(result, 4) == "stsenv: could not refresh via-tool: gave up after 2s (STSENV_REFRESH_TIMEOUT); run `stsenv use via-tool` to renew"
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # killed and reaped, not left behind


def test_a_waiter_says_whom_it_waited_for(world, home, sts):
    """Past the limit while another stsenv holds the lock: the sentence names that process."""
    sts.inject_fault("AssumeRole", "slow:8", times=1)
    holder = start(home, "serve", "prod")
    deadline = time.monotonic() + 20
    while sts.calls("AssumeRole") == 0:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    result = run(home, "use", "--refresh=prod", env={"STSENV_REFRESH_TIMEOUT": "3"})
    assert one_sentence(result, 4) == (
        f"stsenv: could not refresh prod: gave up after 3s waiting for another stsenv (pid {holder.pid}) refreshing prod "
        f"(STSENV_REFRESH_TIMEOUT){RENEW}"
    )
    holder.communicate(timeout=60)
    assert holder.returncode == 0


def test_a_failure_others_are_riding_out_is_a_failure_here(world, home, sts):
    """Every process hands out the entry kept after a failed refresh for a minute; the prompt, which holds
    credentials of its own, is told the failure instead, and STS is left alone."""
    old = served(run(home, "serve", "prod"))
    set_remaining(entry_path(home), 600)
    sts.inject_fault("AssumeRole", "503", 100)
    assert served(run(home, "serve", "prod"))["AccessKeyId"] == old["AccessKeyId"]
    calls = sts.calls("AssumeRole")
    line = one_sentence(run(home, "use", "--refresh=prod"), 1)
    assert line.startswith("stsenv: could not refresh prod: refreshing prod failed less than 60s ago (STS is tried again in ")
    assert line.endswith(RENEW)
    assert sts.calls("AssumeRole") == calls

"""Lock faults: a holder that hangs makes waiters give up (exit 4, naming it); a lock or holder file left by
a dead process never blocks anyone; something odd in the lock file's place is a clear error."""

import json
import os
import time

import pytest

from reliakit import Paused, dead_pid, entry_path, lock_path, one_line, run, served, set_remaining, start


@pytest.mark.parametrize("command", [("serve", "prod"), ("use", "prod", "--shell", "bash")])
def test_hung_holder_makes_waiters_give_up_with_exit_4_naming_it(world, home, sts, command):
    holder = Paused(home, "before-sts", "serve", "prod")
    try:
        started = time.monotonic()
        waiter = run(home, *command, env={"STSENV_LOCK_TIMEOUT": "1.5"})
        waited = time.monotonic() - started
    finally:
        holder.kill()
    assert waiter.returncode == 4, waiter.stderr
    assert waiter.stdout == ""
    last = waiter.stderr.splitlines()[-1]
    assert last.startswith("stsenv: gave up after ")
    assert f"waiting for another stsenv (pid {holder.pid}) refreshing prod" in last
    assert "STSENV_LOCK_TIMEOUT" in last
    assert 1.5 <= waited < 30
    assert all(line.startswith("stsenv: ") for line in waiter.stderr.splitlines())


def test_waiter_goes_on_as_soon_as_a_hung_holder_is_killed(world, home, sts):
    holder = Paused(home, "before-sts", "serve", "prod")
    waiter = start(home, "serve", "prod", env={"STSENV_LOCK_TIMEOUT": "60"})
    time.sleep(1.5)
    assert waiter.poll() is None, "the waiter waits while the holder lives"
    killed = time.monotonic()
    holder.kill()
    output, stderr = waiter.communicate(timeout=60)
    assert waiter.returncode == 0, stderr
    assert time.monotonic() - killed < 15
    assert json.loads(output)["AccessKeyId"].startswith("ASIA")
    assert sts.calls("AssumeRole") == 1  # the killed holder never called STS


def test_stale_lock_and_holder_files_of_a_dead_process_never_block(world, home, sts):
    lock = lock_path(home)
    lock.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    lock.write_text("")
    holder = lock.with_suffix(".holder")
    holder.write_text(json.dumps({"pid": dead_pid(), "purpose": "refreshing prod", "asking_for_mfa": True, "since": 0}))
    started = time.monotonic()
    result = run(home, "serve", "prod", env={"STSENV_LOCK_TIMEOUT": "5"})
    assert served(result)["AccessKeyId"].startswith("ASIA")
    assert result.stderr == ""
    assert time.monotonic() - started < 10
    assert not holder.exists(), "the holder file is ours once we hold the lock, and gone when we let go"


def test_lock_left_by_a_killed_process_never_blocks(world, home, sts):
    served(run(home, "serve", "prod"))
    set_remaining(entry_path(home), 600)
    Paused(home, "after-sts", "serve", "prod").kill()
    assert lock_path(home).with_suffix(".holder").exists()  # it names a dead process now
    result = run(home, "serve", "prod", env={"STSENV_LOCK_TIMEOUT": "5"})
    served(result)
    assert "waiting" not in result.stderr


def test_unreadable_holder_file_still_gives_a_clear_message(world, home, sts):
    holder = Paused(home, "before-sts", "serve", "prod")
    try:
        lock_path(home).with_suffix(".holder").write_text("{not json")
        waiter = run(home, "serve", "prod", env={"STSENV_LOCK_TIMEOUT": "1"})
    finally:
        holder.kill()
    assert waiter.returncode == 4
    assert "waiting for another stsenv: a refresh" in waiter.stderr.splitlines()[-1]


@pytest.mark.parametrize("planted", ["fifo", "nested 100000 deep", "symlink"])
def test_odd_holder_file_never_hangs_or_crashes_a_waiter(world, home, sts, tmp_path, planted):
    holder = Paused(home, "before-sts", "serve", "prod")
    try:
        path = lock_path(home).with_suffix(".holder")
        path.unlink()
        if planted == "fifo":
            os.mkfifo(path, 0o600)
        elif planted == "symlink":
            (tmp_path / "other").write_text(json.dumps({"pid": 1, "purpose": "planted"}))
            path.symlink_to(tmp_path / "other")
        else:
            path.write_text("[" * 100000 + "]" * 100000)
        waiter = run(home, "serve", "prod", env={"STSENV_LOCK_TIMEOUT": "1"}, timeout=30)
    finally:
        holder.kill()
    assert waiter.returncode == 4, waiter.stderr
    assert "waiting for another stsenv: a refresh" in waiter.stderr.splitlines()[-1]


@pytest.mark.parametrize("planted", ["symlink", "directory"])
def test_odd_lock_file_is_a_clear_error(world, home, sts, tmp_path, planted):
    lock = lock_path(home)
    lock.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = tmp_path / "elsewhere"
    target.write_text("precious\n")
    if planted == "symlink":
        lock.symlink_to(target)
    else:
        lock.mkdir()
    message = one_line(run(home, "serve", "prod"), 2)
    assert f"cannot lock {lock}" in message and "remove that file" in message
    assert target.read_text() == "precious\n", "the symlink's target is never written"
    assert sts.calls() == 0


def test_lock_and_holder_files_are_private_under_umask_000(world, home, sts):
    old = os.umask(0)
    try:
        holder = Paused(home, "before-sts", "serve", "prod")
    finally:
        os.umask(old)
    try:
        for path in (lock_path(home), lock_path(home).with_suffix(".holder")):
            assert path.stat().st_mode & 0o777 == 0o600, path
    finally:
        holder.kill()


def cache_files(home):
    return sorted(path.name for path in home.cache.iterdir()) if home.cache.exists() else []


def test_refused_profiles_leave_no_lock_and_logout_leaves_an_empty_cache(world, home, sts):
    """A profile that does not resolve or that AWS would refuse (checked before any lock) leaves nothing; the
    lock, holder and failure files of a session are removed with the entries by `logout --all`."""
    home.write_config(
        home.config.read_text()
        + "\n[profile bad-arn]\nrole_arn = not-a-role\nsource_profile = base\n"
        + "\n[profile bad-duration]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = base\nduration_seconds = 60\n"
        + "\n[profile no-source]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = nowhere\n"
        + "\n[profile denied]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = base\nexternal_id = not-the-one\n"
    )
    for profile in ("bad-arn", "bad-duration", "no-source"):
        assert run(home, "serve", profile).returncode == 2
        assert run(home, "use", profile).returncode == 2
    assert cache_files(home) == [], "nothing was refreshed, so nothing was locked"
    assert sts.calls() == 0

    sts.inject_fault("AssumeRole", "access_denied", 1)
    assert run(home, "serve", "denied").returncode == 1  # called STS: a lock, and the failure for its waiters
    served(run(home, "serve", "prod"))
    assert run(home, "use", "prod-role").returncode == 0
    served(run(home, "serve", "prod-served"))
    assert {name.rsplit(".", 1)[1] for name in cache_files(home) if name != "history"} == {"json", "lock", "failed"}
    assert "history" in cache_files(home)  # `use` keeps the profiles used last, for the picker

    logout = run(home, "logout", "--all")
    assert logout.returncode == 0, logout.stderr
    assert cache_files(home) == []


def test_logout_of_a_profile_removes_its_lock_holder_and_failure_files(world, home, sts):
    served(run(home, "serve", "prod-role"))
    sts.inject_fault("AssumeRole", "access_denied", 1)
    assert run(home, "serve", "prod").returncode == 1  # a lock file and a failure file
    Paused(home, "after-sts", "serve", "prod").kill()  # and a holder file naming a dead process
    prod = {name for name in cache_files(home) if name.startswith("prod.")}
    assert {name.rsplit(".", 1)[1] for name in prod} == {"lock", "holder", "failed"}

    assert run(home, "logout", "prod").returncode == 0
    left = cache_files(home)
    assert not [name for name in left if name.startswith("prod.")], left
    assert {name.rsplit(".", 1)[1] for name in left if name.startswith("prod-role.")} == {"json", "lock"}, "other profiles keep theirs"

"""Crash safety: a refresher killed with SIGKILL at any point leaves the cache readable (the old entry or the
new one, never half of one) and the lock free for the next process.

Named points come from tests/pausepoints/sitecustomize.py (STSENV_TEST_PAUSE_AT, through reliakit.Paused):
the process stops there and the test kills it. The random test kills writers at random moments while other threads and processes read.
"""

import fcntl
import json
import os
import random
import threading
import time

from pathlib import Path

import pytest

import stsenv
from reliakit import Paused, entry_path, lock_path, run, served, set_remaining, source_of, start
from stsenv.cache import CredentialCache

POINTS = ("before-sts", "after-sts", "write-half", "before-replace", "after-replace")
INSIDE_WINDOW = 600  # still valid, but inside botocore's refresh window: the next serve refreshes


def lock_is_free(path):
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises BlockingIOError while anyone holds it
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def read_in_process(home):
    """What a reader sees right now: (credentials or None, refusals said)."""
    said = []
    found = CredentialCache(str(home.cache), warn=said.append).read(source_of(home))
    return found, said


@pytest.mark.parametrize("point", POINTS)
def test_sigkill_at_each_point_leaves_old_or_new_and_the_lock_free(world, home, sts, point):
    old = served(run(home, "serve", "prod"))
    path = entry_path(home)
    set_remaining(path, INSIDE_WINDOW)
    before = path.read_bytes()

    writer = Paused(home, point, "serve", "prod")
    assert not lock_is_free(lock_path(home)), "the writer pauses while it holds the lock"
    found, said = read_in_process(home)  # a reader while the writer is stopped there
    assert said == [] and found is not None
    writer.kill()

    found, said = read_in_process(home)
    assert said == [] and found is not None
    if point == "after-replace":
        assert found.access_key_id != old["AccessKeyId"], "the new entry was in place before the kill"
        assert found.remaining() > 50 * 60
    else:
        assert path.read_bytes() == before, "the old entry is untouched"
    assert lock_is_free(lock_path(home))

    started = time.monotonic()
    after = run(home, "serve", "prod", env={"STSENV_LOCK_TIMEOUT": "10"})
    assert "waiting" not in after.stderr
    new = served(after)
    assert time.monotonic() - started < 10
    if point == "after-replace":
        assert new["AccessKeyId"] == found.access_key_id, "the entry the killed writer left is used"
    else:
        assert new["AccessKeyId"] != old["AccessKeyId"], "the next process refreshed"


def test_orphaned_temporary_file_is_private_and_removed_by_a_later_write(world, home, sts):
    served(run(home, "serve", "prod"))
    path = entry_path(home)
    set_remaining(path, INSIDE_WINDOW)
    Paused(home, "before-replace", "serve", "prod").kill()
    (orphan,) = home.cache.glob(".tmp-*")
    assert oct(orphan.stat().st_mode & 0o777) == oct(0o600)
    assert "SecretAccessKey" in orphan.read_text(), "the orphan holds credentials: it must not stay"

    set_remaining(path, INSIDE_WINDOW)
    served(run(home, "serve", "prod"))  # a writer minutes later cannot tell it from one in flight
    assert orphan.exists()
    old = time.time() - 3600
    os.utime(orphan, (old, old))
    set_remaining(path, INSIDE_WINDOW)
    served(run(home, "serve", "prod"))
    assert not orphan.exists()


def test_sigkill_of_a_refresher_of_an_mfa_session_leaves_the_next_process_free(world, home, sts):
    """A kill while the MFA session is being opened: the role waiting on it and the next run go on."""
    serial, secret = sts.create_virtual_mfa("alice")
    import pyotp

    home.write_config(home.config.read_text() + f"\n[profile guarded]\nrole_arn = {world.role_arn}\nsource_profile = base\nmfa_serial = {serial}\n")
    code = pyotp.TOTP(secret).now()
    Paused(home, "before-sts", "use", "guarded", "--token-code", code).kill()  # pauses first on the session
    result = run(home, "use", "guarded", "--token-code", code, env={"STSENV_LOCK_TIMEOUT": "10"})
    assert result.returncode == 0, result.stderr
    assert sts.calls("GetSessionToken") == 1


def test_200_random_sigkills_with_concurrent_readers_make_no_bad_read(world, home, sts):
    first = served(run(home, "serve", "prod"))
    path = entry_path(home)
    source = source_of(home)
    bad, reads, stop = [], [0], threading.Event()

    def reader():
        cache = CredentialCache(str(home.cache), warn=bad.append)
        while not stop.is_set():
            found = cache.read(source)
            if found is None or not (found.access_key_id.startswith("ASIA") and len(found.secret_access_key) == 40 and found.session_token):
                bad.append(repr(found))
            reads[0] += 1

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        set_remaining(path, INSIDE_WINDOW)
        started = time.monotonic()
        served(run(home, "serve", "prod"))
        full = time.monotonic() - started  # one whole refresh, start-up included
        chooser = random.Random(20240601)
        outcomes = {"refreshed": 0, "old kept": 0}
        orphans = set()  # temporary files of writers killed mid-write
        for round_number in range(200):
            set_remaining(path, INSIDE_WINDOW)
            before = path.read_bytes()
            writer = start(home, "serve", "prod")
            competitor = start(home, "serve", "prod", env={"STSENV_LOCK_TIMEOUT": "30"}) if round_number % 4 == 0 else None
            # half the kills anywhere in a refresh, half near its end, where the lock, STS and the write are
            window = (0, 1.2 * full) if round_number % 2 else (0.6 * full, 1.05 * full)
            time.sleep(chooser.uniform(*window))
            writer.kill()
            writer.communicate(timeout=30)
            if competitor is not None:
                output, stderr = competitor.communicate(timeout=60)
                assert competitor.returncode == 0, stderr
                assert json.loads(output)["AccessKeyId"].startswith("ASIA")
            assert lock_is_free(lock_path(home)), f"round {round_number}: the lock outlived its holder"
            outcomes["old kept" if path.read_bytes() == before else "refreshed"] += 1
            orphans.update(home.cache.glob(".tmp-*"))
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    print(f"random kills: {outcomes}, {len(orphans)} killed mid-write, {reads[0]} reads in process, refresh {full:.2f}s")
    assert bad == []
    assert reads[0] > 1000
    assert outcomes["refreshed"] and outcomes["old kept"], outcomes  # kills landed before and after the write
    after = run(home, "serve", "prod", env={"STSENV_LOCK_TIMEOUT": "10"})
    assert served(after)["AccessKeyId"].startswith("ASIA") and first


def test_stale_entry_with_sts_down_after_a_crash_is_still_served(world, home, sts):
    """A crash never costs the user the entry they had: after a kill, STS failing still falls back to it."""
    old = served(run(home, "serve", "prod"))
    set_remaining(entry_path(home), INSIDE_WINDOW)
    Paused(home, "after-sts", "serve", "prod").kill()
    sts.inject_fault("AssumeRole", "access_denied", 5)
    result = run(home, "serve", "prod")
    assert served(result)["AccessKeyId"] == old["AccessKeyId"]
    assert "still using the cached credentials" in result.stderr


def test_the_package_holds_no_test_hook(world, home, sts):
    """The pause points live in the tests (tests/pausepoints): no module of stsenv reads a test variable, and
    STSENV_TEST_PAUSE_AT set by a user changes nothing."""
    package = Path(stsenv.__file__).parent
    assert [path.name for path in package.rglob("*.py") if "STSENV_TEST_" in path.read_text()] == []
    served(run(home, "serve", "prod"))
    set_remaining(entry_path(home), INSIDE_WINDOW)
    cold = run(home, "serve", "prod", env={"STSENV_TEST_PAUSE_AT": "before-sts"})
    assert served(cold) and cold.stderr == ""
    assert sts.calls("AssumeRole") == 2

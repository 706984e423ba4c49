"""A full disk costs nothing but the cache (issue 14 §3): credentials STS has given are printed (exit 0, one
warning line), and no holder or temporary file is left behind.

Each case runs on a real full filesystem: `unshare -rm` (a user and mount namespace, as root or not) runs a
script that mounts a small tmpfs on the test's cache directory, fills it with dd, leaves `free` pages, and
runs stsenv there; the local STS, outside, counts the calls.
"""

import json
import shutil
import subprocess

import pytest

from reliakit import RUNS

PAGE = 4096
SCRIPT = r"""
set -u
mount -t tmpfs -o size=64k,mode=0700 tmpfs "$STSENV_CACHE_DIR" || exit 97
dd if=/dev/zero of="$STSENV_CACHE_DIR/filler" bs=4096 2>/dev/null
truncate -s "-$((FREE_PAGES * 4096))" "$STSENV_CACHE_DIR/filler" || exit 98
run=0
for command in "$@"; do
    run=$((run + 1))
    stsenv $command > "$OUT/$run.out" 2> "$OUT/$run.err" < /dev/null
    echo $? > "$OUT/$run.code"
done
ls -A "$STSENV_CACHE_DIR" > "$OUT/left"
"""


def on_a_full_disk(home, tmp_path, free_pages, *commands):
    """Run each `stsenv COMMAND` (a string of words) with the cache on a tmpfs with `free_pages` pages free;
    [(exit code, stdout, stderr)] and the names left in the cache directory."""
    if shutil.which("unshare") is None:
        pytest.fail("this test needs unshare(1) from util-linux (a user + mount namespace for a tiny tmpfs); install util-linux")
    home.cache.mkdir(mode=0o700)
    out = tmp_path / "out"
    out.mkdir()
    script = tmp_path / "full-disk.sh"
    script.write_text(SCRIPT)
    env = {**home.env, "OUT": str(out), "FREE_PAGES": str(free_pages)}
    done = subprocess.run(["unshare", "-rm", "sh", str(script), *commands], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"unshare -rm could not make the full filesystem ({done.returncode}): {done.stderr}"
    results = []
    for run, command in enumerate(commands, 1):
        result = (int((out / f"{run}.code").read_text()), (out / f"{run}.out").read_text(), (out / f"{run}.err").read_text())
        RUNS.append((tuple(command.split()), result[1], result[2], set()))
        results.append(result)
    return results, (out / "left").read_text().split()


def assert_cleaned_up(left):
    """Only the filler and lock files (which hold nothing and are reused) are left: no holder file, no
    temporary file, no entry."""
    odd = [name for name in left if name != "filler" and not name.endswith(".lock")]
    assert odd == [], odd


def assert_one_warning(stderr):
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("stsenv: cannot write the cache file ") and "No space left on device" in lines[0], lines[0]
    assert lines[0].endswith("the new credentials are used without being cached, so the next run asks STS again"), lines[0]


@pytest.mark.parametrize("free_pages", [0, 1], ids=["full", "one page free"])
def test_serve_on_a_full_disk_prints_the_credentials(world, home, sts, tmp_path, free_pages):
    """Full: the holder file cannot be written either (best effort). One page: the holder takes it, the entry
    does not fit. Either way the credentials are printed, and since nothing could be cached the second run
    calls STS again."""
    results, left = on_a_full_disk(home, tmp_path, free_pages, "serve prod", "serve prod")
    for code, stdout, stderr in results:
        assert code == 0, stderr
        assert json.loads(stdout)["AccessKeyId"].startswith("ASIA")
        assert_one_warning(stderr)
    assert sts.calls("AssumeRole") == 2, "nothing could be cached: each run asks STS"
    assert_cleaned_up(left)


def test_use_on_a_full_disk_prints_the_block(world, home, sts, tmp_path):
    [(code, stdout, stderr)], left = on_a_full_disk(home, tmp_path, 0, "use prod --shell bash")
    assert code == 0, stderr
    assert "export AWS_ACCESS_KEY_ID='ASIA" in stdout and "export STSENV_PROFILE='prod';" in stdout
    assert_one_warning(stderr)
    assert sts.calls("AssumeRole") == 1
    assert_cleaned_up(left)


def test_entry_that_fits_part_way_is_removed_and_the_credentials_printed(world, home, sts, tmp_path):
    """A few pages free: the holder file fits, the first pages of a large entry (a 12 kB session token) too,
    then the write fails. The half-written temporary file holds live credentials: it must be gone."""
    token = "T" * 12000
    sts.inject_reply("AssumeRole", sts.credentials_reply("AssumeRole", SessionToken=token), times=2)
    [(code, stdout, stderr)], left = on_a_full_disk(home, tmp_path, 3, "serve prod")
    assert code == 0, stderr
    assert json.loads(stdout)["SessionToken"] == token
    assert_one_warning(stderr)
    assert_cleaned_up(left)


def test_mfa_session_and_role_on_a_full_disk_warn_once(world, home, sts, tmp_path):
    """A role behind an MFA session: neither can be cached; one warning for the run, not one per entry."""
    serial, secret = sts.create_virtual_mfa("alice")
    totp = tmp_path / "alice.totp"
    totp.write_text(secret)
    totp.chmod(0o600)
    home.write_config(
        home.config.read_text()
        + f"\n[profile base]\nmfa_serial = {serial}\nstsenv_mfa_totp_secret_file = {totp}\n"
    )
    [(code, stdout, stderr)], left = on_a_full_disk(home, tmp_path, 0, "serve prod")
    assert code == 0, stderr
    assert json.loads(stdout)["AccessKeyId"].startswith("ASIA")
    assert_one_warning(stderr)
    assert sts.calls("GetSessionToken") == 1 and sts.calls("AssumeRole") == 1
    assert_cleaned_up(left)

"""A hostile or damaged cache: nothing odd is ever used; it is a miss said in one line (then refreshed and
replaced), a directory mode that is repaired, or a clear exit 2 for a directory that is not ours.
Never a hang, never a crash. (test_cache.py has the first cases of each kind; these are the rest.)"""

import json
import os
import stat
import time

import pytest

from reliakit import entry_path, one_line, replace_entry, run, served

PLANTED_KEY = "ASIAPLANTEDPLANTED00"
OTHER_USER = 65534


def warm(home):
    first = served(run(home, "serve", "prod"))
    path = entry_path(home)
    return first, path, json.loads(path.read_text())


def refused_and_refreshed(home, sts, path, expected_reason):
    """serve after the entry was spoiled: one `ignoring cache file` line, a new AssumeRole, a good entry."""
    sts.reset_calls()
    result = run(home, "serve", "prod")
    output = served(result)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"stsenv: ignoring cache file {path}: ") and expected_reason in lines[0], lines[0]
    assert sts.calls("AssumeRole") == 1
    assert output["AccessKeyId"] != PLANTED_KEY
    info = os.lstat(path)
    assert stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) == 0o600
    assert json.loads(path.read_text())["AccessKeyId"] == output["AccessKeyId"]
    again = run(home, "serve", "prod")
    assert served(again) == output and again.stderr == "", "the replaced entry is used from then on"
    return output


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o602, 0o660, 0o666, 0o700])
def test_group_or_world_access_to_an_entry(world, home, sts, mode):
    _, path, _ = warm(home)
    os.chmod(path, mode)
    expected = "not 0600" if mode & 0o077 else None
    if expected is None:  # 0700 is private, just odd: used as it is
        assert run(home, "serve", "prod").stderr == ""
        return
    refused_and_refreshed(home, sts, path, expected)


def test_entry_owned_by_another_user(world, home, sts):
    _, path, entry = warm(home)
    entry["AccessKeyId"] = PLANTED_KEY
    replace_entry(path, entry)
    os.chown(path, OTHER_USER, OTHER_USER)
    refused_and_refreshed(home, sts, path, "belongs to another user")


def test_symlinked_entry_to_a_file_of_ours(world, home, sts, tmp_path):
    _, path, entry = warm(home)
    entry["AccessKeyId"] = PLANTED_KEY
    planted = tmp_path / "planted.json"
    replace_entry(planted, entry)
    path.unlink()
    path.symlink_to(planted)
    refused_and_refreshed(home, sts, path, "a symlink")
    assert json.loads(planted.read_text())["AccessKeyId"] == PLANTED_KEY, "the target is never written"


def test_fifo_in_place_of_an_entry_never_hangs(world, home, sts):
    _, path, _ = warm(home)
    path.unlink()
    os.mkfifo(path, 0o600)
    refused_and_refreshed(home, sts, path, "not a regular file")


def test_directory_in_place_of_an_entry_is_a_clear_warning(world, home, sts):
    """The credentials STS gave are printed all the same (exit 0): one line says why they were not cached."""
    _, path, _ = warm(home)
    path.unlink()
    path.mkdir(mode=0o700)
    result = run(home, "serve", "prod")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["AccessKeyId"].startswith("ASIA")
    *_, line = result.stderr.splitlines()  # after the read's `ignoring cache file ...: it is not a regular file`
    assert len(result.stderr.splitlines()) <= 2, result.stderr
    assert line.startswith(f"stsenv: cannot write the cache file {path}: Is a directory (remove what is in its place")
    assert path.is_dir() and sts.calls("AssumeRole") == 2


NOT_JSON = {
    "garbage": b"{not json",
    "empty": b"",
    "half an entry": None,  # filled in from the real entry
    "not UTF-8": b'{"version": 1, "key": "\xff\xfe"}',
    "nested 100000 deep": b"[" * 100000 + b"]" * 100000,
    "over a megabyte": b'{"version": 1, "pad": "' + b"x" * (1 << 20) + b'"}',
    "NaN": b'{"version": 1, "Expires": NaN}',
    "two documents": None,
}


@pytest.mark.parametrize("case", list(NOT_JSON))
def test_entry_that_is_not_json(world, home, sts, case):
    _, path, _ = warm(home)
    data = NOT_JSON[case]
    if case == "half an entry":
        text = path.read_bytes()
        data = text[: len(text) // 2]
    if case == "two documents":
        data = path.read_bytes() * 2
    path.write_bytes(data)
    os.chmod(path, 0o600)
    refused_and_refreshed(home, sts, path, "not JSON")


WRONG_TYPES = {
    "a list": lambda e: [e],
    "a string": lambda e: json.dumps(e),
    "version as text": lambda e: {**e, "version": "1"},
    "version 2": lambda e: {**e, "version": 2},
    "key missing": lambda e: {k: v for k, v in e.items() if k != "key"},
    "AccessKeyId a number": lambda e: {**e, "AccessKeyId": 12345},
    "AccessKeyId empty": lambda e: {**e, "AccessKeyId": ""},
    "SecretAccessKey null": lambda e: {**e, "SecretAccessKey": None},
    "SessionToken a number": lambda e: {**e, "SessionToken": 7},
    "Arn an object": lambda e: {**e, "Arn": {"a": 1}},
    "Expires as text": lambda e: {**e, "Expires": str(e["Expires"])},
    "Expires a float": lambda e: {**e, "Expires": e["Expires"] + 0.5},
    "Expires true": lambda e: {**e, "Expires": True},
    "Expires null": lambda e: {**e, "Expires": None},
    "Expiration missing": lambda e: {k: v for k, v in e.items() if k != "Expiration"},
    "RetryAfter as text": lambda e: {**e, "RetryAfter": str(int(time.time()) + 30)},
    "RetryAfter a float": lambda e: {**e, "RetryAfter": time.time() + 30},
    "a lone surrogate in the token": lambda e: {**e, "SessionToken": e["SessionToken"] + "\ud800"},
    "a newline in the key id": lambda e: {**e, "AccessKeyId": e["AccessKeyId"] + "\nexport X=1"},
}
EXPECTED_REASON = {
    "a list": "unknown format",
    "a string": "unknown format",
    "version as text": "unknown format",
    "version 2": "unknown format",
    "key missing": "field key",
    "AccessKeyId a number": "field AccessKeyId",
    "AccessKeyId empty": "field AccessKeyId",
    "SecretAccessKey null": "field SecretAccessKey",
    "SessionToken a number": "field SessionToken",
    "Arn an object": "field Arn",
    "Expires as text": "expiry is not valid",
    "Expires a float": "expiry is not valid",
    "Expires true": "expiry is not valid",
    "Expires null": "expiry is not valid",
    "Expiration missing": "expiry is not valid",
    "RetryAfter as text": "field RetryAfter",
    "RetryAfter a float": "field RetryAfter",
    "a lone surrogate in the token": "characters no credential has",
    "a newline in the key id": "characters no credential has",
}


@pytest.mark.parametrize("case", list(WRONG_TYPES))
def test_valid_json_with_wrong_types(world, home, sts, case):
    _, path, entry = warm(home)
    replace_entry(path, json.dumps(WRONG_TYPES[case](entry)))
    refused_and_refreshed(home, sts, path, EXPECTED_REASON[case])


def test_expiry_in_the_far_future(world, home, sts):
    _, path, entry = warm(home)
    entry.update(AccessKeyId=PLANTED_KEY, Expires=int(time.time()) + 10 * 365 * 86400, Expiration="2036-01-01T00:00:00Z")
    replace_entry(path, entry)
    refused_and_refreshed(home, sts, path, "further away than AWS ever grants")


def test_credentials_of_another_key_under_this_name(world, home, sts):
    """A real entry of profile prod-role (same role, another region) copied over prod's file."""
    served(run(home, "serve", "prod-role"))
    _, path, _ = warm(home)
    other = entry_path(home, "prod-role")
    replace_entry(path, other.read_text())
    output = refused_and_refreshed(home, sts, path, "another configuration")
    assert output["AccessKeyId"] != json.loads(other.read_text())["AccessKeyId"]


# ---- the directory ------------------------------------------------------------------------------


def test_symlinked_cache_directory_is_never_read(world, home, sts, tmp_path):
    _, path, entry = warm(home)
    entry["AccessKeyId"] = PLANTED_KEY
    replace_entry(path, entry)
    elsewhere = tmp_path / "elsewhere"
    home.cache.rename(elsewhere)
    home.cache.symlink_to(elsewhere)
    message = one_line(run(home, "serve", "prod"), 2)
    assert message.startswith(f"stsenv: cache directory {home.cache} is not a plain directory")
    assert sts.calls("AssumeRole") == 1  # the first, warm-up call only


def test_cache_directory_owned_by_another_user_is_never_read(world, home, sts):
    _, path, entry = warm(home)
    entry["AccessKeyId"] = PLANTED_KEY
    replace_entry(path, entry)
    os.chown(home.cache, OTHER_USER, OTHER_USER)
    message = one_line(run(home, "serve", "prod"), 2)
    assert message.startswith(f"stsenv: cache directory {home.cache} belongs to another user")


@pytest.mark.parametrize("mode", [0o755, 0o770, 0o777, 0o1777])
def test_open_cache_directory_is_repaired_before_its_entries_are_used(world, home, sts, mode):
    first, path, _ = warm(home)
    os.chmod(home.cache, mode)
    sts.reset_calls()
    result = run(home, "serve", "prod")
    assert served(result) == first, "the entry is good: used once the directory is private again"
    assert result.stderr == f"stsenv: cache directory {home.cache} was mode {mode:04o}; set it to 0700\n"
    assert stat.S_IMODE(home.cache.stat().st_mode) == 0o700
    assert sts.calls() == 0


def test_cache_directory_and_its_parents_under_umask_000(world, home, sts, tmp_path):
    cache = tmp_path / "xdg" / "deeper" / "stsenv"
    old = os.umask(0)
    try:
        result = run(home, "use", "prod", env={"STSENV_CACHE_DIR": str(cache)})
    finally:
        os.umask(old)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    for parent in (tmp_path / "xdg", tmp_path / "xdg" / "deeper"):
        assert not parent.stat().st_mode & 0o022, f"{parent} is {oct(parent.stat().st_mode)}"
    for path in cache.iterdir():
        assert stat.S_IMODE(path.lstat().st_mode) == 0o600, path


def test_profile_starting_with_a_dot_is_listed_and_logged_out(world, home, sts):
    """A dot file would be taken for a temporary file: `logout --all` would leave its credentials behind."""
    home.write_config(home.config.read_text() + f"\n[profile .hidden]\nrole_arn = {world.role_arn}\nsource_profile = base\n")
    served(run(home, "serve", ".hidden"))
    assert not [p for p in home.cache.glob("*.json") if p.name.startswith(".")]
    assert run(home, "logout", "--all").returncode == 0
    assert list(home.cache.glob("*.json")) == []


def test_ls_and_logout_skip_odd_files_without_hanging(world, home, sts, tmp_path):
    _, path, _ = warm(home)
    os.mkfifo(home.cache / "fifo.0000000000000000.json", 0o600)
    (home.cache / "deep.0000000000000000.json").write_text("[" * 100000 + "]" * 100000)
    (tmp_path / "outside.json").write_text(path.read_text())
    (home.cache / "link.0000000000000000.json").symlink_to(tmp_path / "outside.json")
    listed = run(home, "ls", timeout=60)
    assert listed.returncode == 0, listed.stderr
    logout = run(home, "logout", "--all", timeout=60)
    assert logout.returncode == 0, logout.stderr
    assert "removed 1 cached credential " in logout.stderr
    assert not path.exists() and (tmp_path / "outside.json").exists()

"""The cache's files, in this process: what an entry must be to be used (anything else is a miss, said once),
which files and directories are trusted, what a write leaves on disk, which files stsenv calls its own, and
the entry names, which must never change (entries already on users' disks are found by them)."""

import json
import os
import stat
import time

import pytest

from stsenv import cache as cache_module
from stsenv import kinds
from stsenv.cache import CLOCK_TOLERANCE, ENTRY_VERSION, ORPHAN_AGE, CacheWriteError, CredentialCache, entry_name, latest_expiry
from stsenv.credentials import Credentials
from stsenv.source import Source

SOURCE = Source(kinds.ASSUME_ROLE, "prod", {"role_arn": "arn:aws:iam::123456789012:role/Admin", "session_name": "s", "duration": 3600})


@pytest.fixture
def said():
    return []


@pytest.fixture
def cache(tmp_path, said):
    """A cache whose warnings are kept in `said`, its directory made as a write makes it."""
    found = CredentialCache(str(tmp_path / "cache"), warn=said.append)
    found.ensure_directory()
    return found


MISSING = object()  # a field left out of the entry


def sound_entry(**changes):
    expires = int(time.time()) + 3600
    entry = {
        "version": ENTRY_VERSION,
        "key": SOURCE.cache_key(),
        "profile": "prod",
        "kind": "assume-role",
        "AccessKeyId": "ASIAENTRY00000000001",
        "SecretAccessKey": "cachesecret",
        "SessionToken": "cachetoken",
        "Expiration": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires)),
        "Expires": expires,
        "Arn": "arn:aws:sts::123456789012:assumed-role/Admin/s",
        "Account": "123456789012",
        "Written": int(time.time()),
    }
    entry.update(changes)
    return {key: value for key, value in entry.items() if value is not MISSING}



def put(cache, text, mode=0o600, name=None):
    """Write `text` as the entry file of SOURCE (or `name`), with `mode`."""
    path = os.path.join(cache.directory, name or entry_name("prod", SOURCE.cache_key()))
    with open(path, "w") as handle:
        handle.write(text)
    os.chmod(path, mode)
    return path


# Each entry is made when its test runs: expiries are relative to that moment.
REFUSALS = {
    "not an object": (lambda: [sound_entry()], "unknown format"),
    "another version": (lambda: sound_entry(version=2), "unknown format"),
    "no version": (lambda: sound_entry(version=MISSING), "unknown format"),
    "no key": (lambda: sound_entry(key=MISSING), "field key is missing or not text"),
    "empty profile": (lambda: sound_entry(profile=""), "field profile is missing or not text"),
    "kind a number": (lambda: sound_entry(kind=3), "field kind is missing or not text"),
    "no access key": (lambda: sound_entry(AccessKeyId=MISSING), "field AccessKeyId is missing or not text"),
    "secret a list": (lambda: sound_entry(SecretAccessKey=["x"]), "field SecretAccessKey is missing or not text"),
    "another key": (lambda: sound_entry(key="assume-role(role_arn='other')<-[]"), "it holds credentials for another configuration"),
    "no expiry": (lambda: sound_entry(Expires=MISSING), "its expiry is not valid"),
    "expiry a float": (lambda: sound_entry(Expires=time.time() + 3600), "its expiry is not valid"),
    "expiry a boolean": (lambda: sound_entry(Expires=True), "its expiry is not valid"),
    "expiry as text": (lambda: sound_entry(Expires=str(int(time.time()) + 3600)), "its expiry is not valid"),
    "no ISO expiry": (lambda: sound_entry(Expiration=MISSING), "its expiry is not valid"),
    "further than AWS grants": (
        lambda: sound_entry(Expires=int(time.time()) + kinds.LONGEST_GRANT + CLOCK_TOLERANCE + 60),
        "its expiry is further away than AWS ever grants",
    ),
    "token a number": (lambda: sound_entry(SessionToken=12), "field SessionToken is not text"),
    "arn an object": (lambda: sound_entry(Arn={}), "field Arn is not text"),
    "account a number": (lambda: sound_entry(Account=123456789012), "field Account is not text"),
    "retry time a float": (lambda: sound_entry(RetryAfter=time.time()), "field RetryAfter is not a whole number"),
    "a newline in the secret": (lambda: sound_entry(SecretAccessKey="abc\ndef"), "field SecretAccessKey holds characters no credential has"),
    "an escape in the token": (lambda: sound_entry(SessionToken="tok\x1b[2J"), "field SessionToken holds characters no credential has"),
    "a line separator in the arn": (lambda: sound_entry(Arn="arn\u2028x"), "field Arn holds characters no credential has"),
}


@pytest.mark.parametrize("make, problem", REFUSALS.values(), ids=REFUSALS.keys())
def test_an_entry_that_is_not_exactly_right_is_a_miss(cache, said, make, problem):
    path = put(cache, json.dumps(make()))
    assert cache.read(SOURCE) is None
    assert said == [f"stsenv: ignoring cache file {path}: {problem}"]


def test_a_refused_entry_is_said_once_per_process_on_one_line(tmp_path, capsys):
    cache = CredentialCache(str(tmp_path / "cache\nwith a newline"))
    cache.ensure_directory()
    put(cache, json.dumps(sound_entry(version=2)))
    assert cache.read(SOURCE) is None and cache.read(SOURCE) is None
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("stsenv: ignoring cache file ") and line.endswith(": unknown format") and "cache\\nwith a newline" in line


def test_a_sound_entry_is_read_field_by_field(cache, said):
    entry = sound_entry(RetryAfter=int(time.time()) + 30, Arn=None, Account=None)
    put(cache, json.dumps(entry))
    found = cache.read(SOURCE)
    assert (found.access_key_id, found.secret_access_key, found.session_token) == ("ASIAENTRY00000000001", "cachesecret", "cachetoken")
    assert (found.expiry_epoch, found.expiry_iso, found.retry_after) == (entry["Expires"], entry["Expiration"], entry["RetryAfter"])
    assert (found.arn, found.account) == (None, None)
    assert said == []


def test_the_longest_expiry_a_reader_takes_is_the_longest_grant_plus_clock_skew():
    now = 1_700_000_000
    assert latest_expiry(now) == now + 129600 + 300
    assert latest_expiry(now, 3600) == now + 3600 + 300
    assert latest_expiry(now, 10**9) == latest_expiry(now, None) == now + 129600 + 300


@pytest.mark.parametrize("text", ["{", "not json", '{"version": 1,', "\udcff", "[" * 100000])
def test_a_file_that_is_not_json_is_a_miss(cache, said, text):
    path = os.path.join(cache.directory, entry_name("prod", SOURCE.cache_key()))
    with open(path, "w", encoding="utf-8", errors="surrogateescape") as handle:
        handle.write(text)
    os.chmod(path, 0o600)
    assert cache.read(SOURCE) is None
    assert said == [f"stsenv: ignoring cache file {path}: it is not JSON"]


# ---- which files and directories are trusted -----------------------------------------------------------------


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644])
def test_an_entry_others_may_read_is_never_used(cache, said, mode):
    path = put(cache, json.dumps(sound_entry()), mode=mode)
    assert cache.read(SOURCE) is None
    assert said == [f"stsenv: ignoring cache file {path}: its mode is {mode:04o}, not 0600"]


def test_an_entry_of_mode_0400_is_used(cache, said):
    put(cache, json.dumps(sound_entry()), mode=0o400)
    assert cache.read(SOURCE).access_key_id == "ASIAENTRY00000000001"


def test_a_symlinked_entry_is_never_followed(cache, said, tmp_path):
    target = tmp_path / "elsewhere.json"
    target.write_text(json.dumps(sound_entry()))
    target.chmod(0o600)
    path = os.path.join(cache.directory, entry_name("prod", SOURCE.cache_key()))
    os.symlink(target, path)
    assert cache.read(SOURCE) is None
    assert said == [f"stsenv: ignoring cache file {path}: it cannot be opened (a symlink?)"]


def test_a_fifo_in_the_entrys_place_is_never_waited_on(cache, said):
    path = os.path.join(cache.directory, entry_name("prod", SOURCE.cache_key()))
    os.mkfifo(path, 0o600)
    assert cache.read(SOURCE) is None
    assert said == [f"stsenv: ignoring cache file {path}: it is not a regular file"]


def test_an_entry_in_a_directory_others_may_write_is_a_silent_miss(cache, said):
    put(cache, json.dumps(sound_entry()))
    os.chmod(cache.directory, 0o770)
    assert cache.read(SOURCE) is None
    assert said == []


def test_a_symlinked_cache_directory_is_a_silent_miss_and_refused_for_writing(tmp_path, said):
    real = CredentialCache(str(tmp_path / "real"), warn=said.append)
    real.write(SOURCE, Credentials("ASIAENTRY00000000001", "cachesecret", "cachetoken", int(time.time()) + 3600))
    os.symlink(tmp_path / "real", tmp_path / "link")
    linked = CredentialCache(str(tmp_path / "link"), warn=said.append)
    assert linked.read(SOURCE) is None
    with pytest.raises(cache_module.ConfigError, match="is not a plain directory"):
        linked.write(SOURCE, Credentials("ASIAENTRY00000000002", "cachesecret", "cachetoken", int(time.time()) + 3600))


def stat_of(mode, uid):
    return os.stat_result((mode, 0, 0, 1, uid, 0, 0, 0, 0, 0))


@pytest.mark.parametrize(
    "mode, uid, problem",
    [
        (stat.S_IFREG | 0o600, "mine", None),
        (stat.S_IFREG | 0o600, "another", "it belongs to another user"),
        (stat.S_IFREG | 0o620, "mine", "its mode is 0620, not 0600"),
        (stat.S_IFREG | 0o601, "mine", "its mode is 0601, not 0600"),
        (stat.S_IFDIR | 0o700, "mine", "it is not a regular file"),
        (stat.S_IFIFO | 0o600, "mine", "it is not a regular file"),
    ],
)
def test_only_a_private_regular_file_of_this_user_is_trusted(mode, uid, problem):
    owner = os.geteuid() if uid == "mine" else os.geteuid() + 1
    assert cache_module._ownership_problem(stat_of(mode, owner)) == problem


def test_the_directory_is_made_0700_under_any_umask_and_repaired(tmp_path, said):
    old = os.umask(0)
    try:
        made = CredentialCache(str(tmp_path / "a" / "cache"), warn=said.append)
        made.ensure_directory()
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(made.directory).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(tmp_path / "a").st_mode) & 0o022 == 0  # parents made on the way are not writable by others
    os.chmod(made.directory, 0o755)
    made.ensure_directory()
    assert stat.S_IMODE(os.stat(made.directory).st_mode) == 0o700
    assert said == [f"stsenv: cache directory {made.directory} was mode 0755; set it to 0700"]


# ---- what a write leaves on disk ----------------------------------------------------------------------------------


def test_a_write_leaves_exactly_one_private_entry_with_every_field(cache):
    old = os.umask(0)
    try:
        cache.write(SOURCE, Credentials("ASIAENTRY00000000001", "cachesecret", "cachetoken", 1_900_000_000, "arn:aws:sts::1:x", "1"), retry_after=1_800_000_000)
    finally:
        os.umask(old)
    (name,) = os.listdir(cache.directory)
    path = os.path.join(cache.directory, name)
    assert name == entry_name("prod", SOURCE.cache_key())
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path) as handle:
        entry = json.load(handle)
    written = entry.pop("Written")
    assert abs(written - time.time()) < 5
    assert entry == {
        "version": 1,
        "key": SOURCE.cache_key(),
        "profile": "prod",
        "kind": "assume-role",
        "AccessKeyId": "ASIAENTRY00000000001",
        "SecretAccessKey": "cachesecret",
        "SessionToken": "cachetoken",
        "Expiration": "2030-03-17T17:46:40Z",
        "Expires": 1_900_000_000,
        "Arn": "arn:aws:sts::1:x",
        "Account": "1",
        "RetryAfter": 1_800_000_000,
    }


def test_a_write_replaces_the_entry_whole(cache):
    cache.write(SOURCE, Credentials("ASIAENTRY00000000001", "cachesecret", "cachetoken", int(time.time()) + 3600), retry_after=int(time.time()) + 30)
    cache.write(SOURCE, Credentials("ASIAENTRY00000000002", "cachesecret2", None, int(time.time()) + 3600))
    found = cache.read(SOURCE)
    assert (found.access_key_id, found.session_token, found.retry_after) == ("ASIAENTRY00000000002", None, None)
    assert len(os.listdir(cache.directory)) == 1


def test_a_write_that_fails_names_the_file_and_leaves_no_temporary_file(cache):
    os.mkdir(cache.path(SOURCE))
    with pytest.raises(CacheWriteError) as failure:
        cache.write(SOURCE, Credentials("ASIAENTRY00000000001", "cachesecret", "cachetoken", int(time.time()) + 3600))
    assert str(failure.value).startswith(f"cannot write the cache file {cache.path(SOURCE)}: ")
    assert failure.value.hint == "remove what is in its place, or set STSENV_CACHE_DIR"
    assert os.listdir(cache.directory) == [os.path.basename(cache.path(SOURCE))]


def test_temporary_files_left_by_killed_writers_are_removed_once_old(cache):
    old, young = os.path.join(cache.directory, ".tmp-old.json"), os.path.join(cache.directory, ".tmp-young.json")
    for path in (old, young):
        with open(path, "w") as handle:
            handle.write("{}")
    long_ago = time.time() - ORPHAN_AGE - 60
    os.utime(old, (long_ago, long_ago))
    cache.write(SOURCE, Credentials("ASIAENTRY00000000001", "cachesecret", "cachetoken", int(time.time()) + 3600))
    assert not os.path.exists(old)
    assert os.path.exists(young)  # perhaps a writer at work


def test_a_failure_record_is_private_and_read_back_only_when_sound(cache):
    cache.record_failure(SOURCE, {"time": 1.5, "code": 1, "message": "m"})
    assert cache.read_failure(SOURCE) == {"time": 1.5, "code": 1, "message": "m"}
    assert stat.S_IMODE(os.stat(cache.failure_path(SOURCE)).st_mode) == 0o600
    assert cache.failure_path(SOURCE) == cache.path(SOURCE)[: -len(".json")] + ".failed"
    os.chmod(cache.failure_path(SOURCE), 0o644)
    assert cache.read_failure(SOURCE) is None
    os.chmod(cache.failure_path(SOURCE), 0o600)
    with open(cache.failure_path(SOURCE), "w") as handle:
        handle.write("[1, 2]")
    assert cache.read_failure(SOURCE) is None
    cache.forget_failure(SOURCE)
    assert not os.path.exists(cache.failure_path(SOURCE))


# ---- the names of stsenv's files -------------------------------------------------------------------------------


def test_entry_names_never_change():
    """FNV-1a (64 bit) of the key, with its published test vectors, after the readable profile."""
    assert entry_name("p", "") == "p.cbf29ce484222325.json"
    assert entry_name("p", "a") == "p.af63dc4c8601ec8c.json"
    assert entry_name("p", "foobar") == "p.85944171f73967e8.json"
    assert entry_name("prod", SOURCE.cache_key()) == "prod.9e6d7d3e689f7bd6.json"
    assert entry_name("base", "mfa-session(duration=43200,mfa_serial='arn:aws:iam::123456789012:mfa/alice',partition='aws')<-[static(access_key_id='AKIAEXAMPLE')<-[]]") == (
        "base.04d2adb3f910ca6b.json"
    )


@pytest.mark.parametrize(
    "profile, safe",
    [
        ("prod", "prod"),
        ("dev.team@corp+x=y,z", "dev.team@corp+x=y,z"),
        ("a/b:c", "a%2Fb%3Ac"),
        (".hidden", "%2Ehidden"),
        ("adhoc:Admin", "adhoc%3AAdmin"),
        ("é", "é"),
    ],
)
def test_profile_names_become_file_names_that_are_neither_paths_nor_dot_files(profile, safe):
    assert entry_name(profile, "k").startswith(safe + ".")
    assert "/" not in entry_name(profile, "k") and not entry_name(profile, "k").startswith(".")


OURS = ["prod.0123456789abcdef.json", "prod.0123456789abcdef.lock", "prod.0123456789abcdef.holder", "prod.0123456789abcdef.failed", "prod.0123456789abcdef.holder.4242", "prod.0123456789abcdef.failed.7", "a.b.0123456789abcdef.json"]
NOT_OURS = [
    "prod.0123456789ABCDEF.json",
    "prod.0123456789abcde.json",
    "prod.0123456789abcdefa.json",
    "prod.json",
    ".0123456789abcdef.json",
    "prod.0123456789abcdef.txt",
    "prod.0123456789abcdef.lock.4242",
    "prod.0123456789abcdef.json.4242",
    "prod.0123456789abcdef.holder.42x",
    "prod.0123456789abcdeg.json",
    "notes.txt",
]


@pytest.mark.parametrize("name", OURS)
def test_names_stsenv_gives_its_files(name):
    assert cache_module._made_by_stsenv(name)
    assert cache_module._made_by_stsenv(name, {name.split(".0123")[0]})
    assert not cache_module._made_by_stsenv(name, {"other"})


@pytest.mark.parametrize("name", NOT_OURS)
def test_names_stsenv_never_gives(name):
    assert not cache_module._made_by_stsenv(name)


def test_temporary_files_are_stsenvs_only_when_every_profile_goes():
    assert cache_module._made_by_stsenv(".tmp-abc123.json")
    assert not cache_module._made_by_stsenv(".tmp-abc123.json", {"prod"})


def test_remove_files_of_removes_a_profiles_files_and_nothing_else(cache):
    names = ["prod.0123456789abcdef.json", "prod.0123456789abcdef.lock", "prod.0123456789abcdef.holder.12", "prod-2.0123456789abcdef.json", "a%2Fb.0123456789abcdef.json", ".tmp-x.json", "notes.txt"]
    for name in names:
        with open(os.path.join(cache.directory, name), "w") as handle:
            handle.write("x")
    cache.remove_files_of(["prod", "a/b"])
    assert sorted(os.listdir(cache.directory)) == [".tmp-x.json", "notes.txt", "prod-2.0123456789abcdef.json"]
    cache.remove_files_of()
    assert os.listdir(cache.directory) == ["notes.txt"]


def test_entries_lists_readable_entries_of_this_version_only(cache):
    cache.write(SOURCE, Credentials("ASIAENTRY00000000001", "cachesecret", "cachetoken", int(time.time()) + 3600))
    put(cache, json.dumps(sound_entry(version=2)), name="old.0123456789abcdef.json")
    put(cache, "not json", name="broken.0123456789abcdef.json")
    put(cache, json.dumps(sound_entry()), name=".tmp-x.json")
    os.mkfifo(os.path.join(cache.directory, "fifo.0123456789abcdef.json"), 0o600)
    assert [(os.path.basename(path), entry["AccessKeyId"]) for path, entry in cache.entries()] == [(entry_name("prod", SOURCE.cache_key()), "ASIAENTRY00000000001")]

"""The broker's rules, in this process: when the cache answers, when a refresh runs and what it writes, what
a failed refresh hands out and tells the processes waiting for it, what signs a call, and how a waiter
waits for the holder of a key's lock. The provider is a test module registered as a provider of stsenv
(a row of stsenv.kinds names it); the lock's other holder is another open file of the same lock."""

import contextlib
import os
import sys
import threading
import time
import types

import pytest

from stsenv import kinds, redact, terminal
from stsenv.broker import FALLBACK_MIN_REMAINING, RETRY_AFTER_FAILURE, Broker, Options, SharedFailure, wait_for
from stsenv.credentials import BOTOCORE_ADVISORY_REFRESH, FRESH_FOR, SIGNING_MARGIN, Credentials, required_remaining
from stsenv.errors import AwsError, LockTimeout, MfaAskedElsewhere
from stsenv.source import Source
from stsenv.validate import Invalid

PROVIDER = "fake_for_tests"
ROLE = kinds.Kind("fake-role", provider=PROVIDER, label="fake role", api="FakeAssume", durations=(900, 43200), default_duration=3600, role_session=True)
SESSION = kinds.Kind("fake-session", provider=PROVIDER, label="fake session", api="FakeSession", durations=(900, 129600), default_duration=43200)
UNCACHED = kinds.Kind("fake-process", provider=PROVIDER, label="fake process", cached=False)


class FakeProvider:
    """Numbered credentials valid for `lifetime` seconds, or the errors queued in `failures`; every call kept."""

    def __init__(self):
        self.calls = []  # (profile, signer's access key id or None)
        self.failures = []
        self.lifetime = 3600

    def fetch(self, source, signer, options):
        self.calls.append((source.profile, signer.access_key_id if signer else None))
        if self.failures:
            raise self.failures.pop(0)
        number = len(self.calls)
        return credentials(f"ASIAFRESH{number:011d}", self.lifetime)


def credentials(key_id, lifetime, retry_after=None):
    return Credentials(key_id, f"brokersecret-{key_id}", f"brokertoken-{key_id}", int(time.time()) + lifetime, f"arn:aws:sts::123456789012:assumed-role/Fake/{key_id}", "123456789012", retry_after)


@pytest.fixture
def provider(monkeypatch):
    """The fake provider, as the module stsenv.providers.fake_for_tests."""
    fake = FakeProvider()
    module = types.ModuleType(f"stsenv.providers.{PROVIDER}")
    module.fetch = fake.fetch
    monkeypatch.setitem(sys.modules, module.__name__, module)
    return fake


@pytest.fixture(autouse=True)
def no_terminal(monkeypatch):
    """No controlling terminal: what stsenv tells a person goes to stderr (captured)."""
    monkeypatch.setattr(terminal, "_open_tty", lambda mode: None)


@pytest.fixture
def environ(tmp_path):
    return {"STSENV_CACHE_DIR": str(tmp_path / "cache"), "STSENV_LOCK_TIMEOUT": "10"}


def new_broker(environ):
    """A broker as one stsenv process has it."""
    return Broker(Options(interactive=False, environ=environ))


def role(parent=None, duration=3600, kind=ROLE, params=None):
    params = dict(params or {"role": "Admin"})
    if duration is not None:
        params["duration"] = duration
    return Source(kind, "prod", params, parent)


@contextlib.contextmanager
def held(cache, source):
    """The key's lock, held as another process would hold it: by another open file of it."""
    lock = cache.lock(source, f"refreshing {source.profile}")
    assert lock.try_acquire()
    try:
        yield lock
    finally:
        lock.__exit__(None, None, None)


def later(seconds, action):
    """Run `action` in a thread after `seconds`, as another process would do it meanwhile."""
    timer = threading.Timer(seconds, action)
    timer.start()
    return timer


# ---- the cache answers, or a refresh runs ------------------------------------------------------------------


def test_a_miss_calls_the_provider_once_and_the_next_run_reads_the_cache(provider, environ):
    source = role()
    first = new_broker(environ).credentials(source)
    again = new_broker(environ).credentials(source)
    assert provider.calls == [("prod", None)]
    assert again.access_key_id == first.access_key_id == "ASIAFRESH00000000001"
    assert again.session_token == first.session_token


def test_uncached_kinds_are_fetched_once_per_run_while_they_last_and_never_written(provider, environ):
    source = role(kind=UNCACHED, duration=None)
    broker = new_broker(environ)
    first = broker.credentials(source)
    assert broker.credentials(source) is first and broker.refresh_parent(source) is first
    assert len(provider.calls) == 1
    assert new_broker(environ).credentials(source).access_key_id != first.access_key_id  # every run asks anew
    provider.lifetime = SIGNING_MARGIN - 1
    short = broker.credentials(role(kind=UNCACHED, duration=None, params={"role": "Other"}))
    assert broker.refresh_parent(role(kind=UNCACHED, duration=None, params={"role": "Other"})) is not short  # too short to sign
    assert len(provider.calls) == 4
    assert not os.path.exists(environ["STSENV_CACHE_DIR"])


def test_required_remaining_keeps_handed_out_credentials_out_of_botocores_refresh_window():
    assert BOTOCORE_ADVISORY_REFRESH == 900 and FRESH_FOR == 1200
    assert [required_remaining(duration) for duration in (None, 0, 3600, 43200, 1201)] == [FRESH_FOR] * 5
    assert [required_remaining(duration) for duration in (1200, 900)] == [300, 225]  # too short to stay out: the last quarter


@pytest.mark.parametrize(
    "duration, remaining, from_cache",
    [
        (3600, FRESH_FOR + 60, True),
        (3600, FRESH_FOR - 60, False),
        (None, FRESH_FOR + 60, True),
        (None, FRESH_FOR - 60, False),
        (900, 225 + 60, True),
        (900, 225 - 60, False),
        (1200, 300 + 60, True),
        (1200, 300 - 60, False),
    ],
)
def test_an_entry_is_served_while_it_has_what_its_duration_requires(provider, environ, duration, remaining, from_cache):
    source = role(duration=duration)
    broker = new_broker(environ)
    broker.cache.write(source, credentials("ASIACACHED0000000001", remaining))
    served = broker.credentials(source)
    assert (served.access_key_id == "ASIACACHED0000000001") is from_cache
    assert len(provider.calls) == (0 if from_cache else 1)


def test_a_refresh_writes_the_entry_and_forgets_an_old_failure(provider, environ):
    source = role()
    broker = new_broker(environ)
    broker.cache.ensure_directory()
    broker.cache.record_failure(source, {"time": time.time() - 30, "code": 1, "message": "an old failure"})
    fresh = broker.credentials(source)
    written = broker.cache.read(source)
    assert (written.access_key_id, written.secret_access_key, written.session_token, written.expiry_epoch, written.arn) == (
        fresh.access_key_id,
        fresh.secret_access_key,
        fresh.session_token,
        fresh.expiry_epoch,
        fresh.arn,
    )
    assert written.retry_after is None
    assert broker.cache.read_failure(source) is None
    assert not os.path.exists(broker.cache.failure_path(source))


# ---- a failed refresh ---------------------------------------------------------------------------------------


def test_a_failed_refresh_keeps_the_old_entry_then_serves_it_without_asking_again(provider, environ, capsys):
    source = role()
    new_broker(environ).cache.write(source, credentials("ASIACACHED0000000001", 600))
    provider.failures = [AwsError("AssumeRole failed: the network is down")]
    kept = new_broker(environ).credentials(source)
    assert kept.access_key_id == "ASIACACHED0000000001"
    assert "AssumeRole failed: the network is down; still using the cached credentials for prod" in capsys.readouterr().err
    on_disk = new_broker(environ).cache.read(source)
    assert time.time() + RETRY_AFTER_FAILURE - 2 <= on_disk.retry_after <= time.time() + RETRY_AFTER_FAILURE
    served = new_broker(environ).credentials(source)  # the next process: no call while the retry time is ahead
    assert served.access_key_id == "ASIACACHED0000000001"
    assert provider.calls == [("prod", None)]
    assert f"refreshing prod failed less than {RETRY_AFTER_FAILURE}s ago; still using the cached credentials" in capsys.readouterr().err


@pytest.mark.parametrize("retry_in, asks_again", [(30, False), (-1, True), (RETRY_AFTER_FAILURE + 600, True)])
def test_a_kept_entry_is_served_only_until_its_retry_time(provider, environ, retry_in, asks_again):
    """A retry time further ahead than RETRY_AFTER_FAILURE was not written by stsenv: it does not count."""
    source = role()
    broker = new_broker(environ)
    broker.cache.write(source, credentials("ASIACACHED0000000001", 600), retry_after=int(time.time()) + retry_in)
    served = broker.credentials(source)
    assert (served.access_key_id != "ASIACACHED0000000001") is asks_again
    assert len(provider.calls) == int(asks_again)


def test_no_fallback_to_an_entry_about_to_expire_and_the_failure_is_recorded(provider, environ):
    source = role()
    broker = new_broker(environ)
    broker.cache.write(source, credentials("ASIACACHED0000000001", FALLBACK_MIN_REMAINING - 20))
    provider.failures = [AwsError("AssumeRole refused: AccessDenied")]
    with pytest.raises(AwsError, match="AccessDenied"):
        broker.credentials(source)
    record = broker.cache.read_failure(source)
    assert (record["code"], record["message"]) == (1, "AssumeRole refused: AccessDenied")
    assert time.time() - 5 < record["time"] <= time.time()


def test_a_recorded_failure_is_one_line_without_secrets(provider, environ):
    source = role()
    redact.remember("hunter2-mfa-seed")
    provider.failures = [AwsError("refused\nthe code from hunter2-mfa-seed\r")]
    broker = new_broker(environ)
    with pytest.raises(AwsError):
        broker.credentials(source)
    assert broker.cache.read_failure(source)["message"] == "refused the code from **** "


def test_a_waiter_ends_with_the_failure_of_the_refresh_it_waited_for(provider, environ):
    source = role()
    broker = new_broker(environ)
    with held(broker.cache, source):
        timer = later(0.1, lambda: broker.cache.record_failure(source, {"time": time.time(), "code": 3, "message": "an MFA code was needed"}))
        with pytest.raises(SharedFailure) as failure:
            broker.credentials(source)
        timer.join()
    assert (failure.value.exit_code, str(failure.value)) == (3, "an MFA code was needed")
    assert provider.calls == []


def test_a_failure_recorded_before_a_run_began_is_not_its_own(provider, environ):
    source = role()
    broker = new_broker(environ)
    broker.cache.ensure_directory()
    broker.cache.record_failure(source, {"time": time.time() - 5, "code": 1, "message": "an earlier run failed"})
    assert broker.credentials(source).access_key_id == "ASIAFRESH00000000001"
    assert len(provider.calls) == 1


RECORDS = {
    "sound": ({"code": 2, "message": "profile 'x' is broken"}, True),
    "a moment before it began": ({"time": -1, "code": 1, "message": "m"}, False),
    "further ahead than a clock step": ({"time": 30, "code": 1, "message": "m"}, False),
    "time as text": ({"time": "now", "code": 1, "message": "m"}, False),
    "time a boolean": ({"time": True, "code": 1, "message": "m"}, False),
    "no time": ({"time": None, "code": 1, "message": "m"}, False),
    "code zero": ({"code": 0, "message": "m"}, False),
    "code five": ({"code": 5, "message": "m"}, False),
    "code a boolean": ({"code": True, "message": "m"}, False),
    "code a float": ({"code": 1.0, "message": "m"}, False),
    "empty message": ({"code": 1, "message": ""}, False),
    "message a number": ({"code": 1, "message": 7}, False),
    "message of two lines": ({"code": 1, "message": "one\ntwo"}, False),
    "message with an escape": ({"code": 1, "message": "\x1b]0;title\x07"}, False),
}


@pytest.mark.parametrize("fields, taken", RECORDS.values(), ids=RECORDS.keys())
def test_what_a_waiter_takes_for_the_failure_of_its_refresh(environ, fields, taken):
    source = role()
    broker = new_broker(environ)
    broker.cache.ensure_directory()
    began = time.time()
    offset = fields.get("time", 0)
    record = {**fields, "time": began + offset if type(offset) in (int, float) and type(offset) is not bool else offset}
    broker.cache.record_failure(source, {key: value for key, value in record.items() if value is not None})
    shared = broker._failure_since(source, began)
    assert (shared is not None) is taken
    if taken:
        assert (shared.exit_code, shared.message) == (fields["code"], fields["message"])


def test_credentials_are_handed_out_when_the_cache_cannot_take_them(provider, environ, capsys):
    source = role()
    broker = new_broker(environ)
    broker.cache.ensure_directory()
    os.mkdir(broker.cache.path(source))  # in the entry's place: every write fails, as on a full disk
    first, second = broker.credentials(source), broker.credentials(source)
    assert (first.access_key_id, second.access_key_id) == ("ASIAFRESH00000000001", "ASIAFRESH00000000002")
    told = [line for line in capsys.readouterr().err.splitlines() if "without being cached" in line]
    assert len(told) == 1 and told[0].startswith(f"stsenv: cannot write the cache file {broker.cache.path(source)}")


def test_a_profile_aws_would_refuse_is_refused_before_any_lock(provider, environ):
    source = role(parent=Source(SESSION, "base", {"duration": 60}))
    with pytest.raises(Invalid, match="60 seconds is outside 900 to 129600"):
        new_broker(environ).credentials(source)
    assert provider.calls == []
    assert not os.path.exists(environ["STSENV_CACHE_DIR"])  # no lock file, not even the directory


# ---- what signs the call --------------------------------------------------------------------------------------


def test_a_cached_parent_signs_while_it_outlives_the_call(provider, environ):
    parent = Source(SESSION, "base", {"duration": 43200})
    broker = new_broker(environ)
    broker.cache.write(parent, credentials("ASIAPARENT0000000001", SIGNING_MARGIN + 60))  # too short to hand out, enough to sign
    broker.credentials(role(parent))
    assert provider.calls == [("prod", "ASIAPARENT0000000001")]


def test_a_parent_too_close_to_expiry_to_sign_is_refreshed_and_written(provider, environ):
    parent = Source(SESSION, "base", {"duration": 43200})
    broker = new_broker(environ)
    broker.cache.write(parent, credentials("ASIAPARENT0000000001", SIGNING_MARGIN - 30))
    broker.credentials(role(parent))
    assert provider.calls == [("base", None), ("prod", "ASIAFRESH00000000001")]
    assert broker.cache.read(parent).access_key_id == "ASIAFRESH00000000001"


def test_a_parent_another_process_refreshed_meanwhile_signs_when_it_outlives_the_call(provider, environ):
    """It need not last FRESH_FOR: what the holder wrote is taken once it has SIGNING_MARGIN left."""
    parent = Source(SESSION, "base", {"duration": 43200})
    broker = new_broker(environ)
    broker.cache.write(parent, credentials("ASIAPARENT0000000001", SIGNING_MARGIN - 30))
    holder = broker.cache.lock(parent, "refreshing base")
    assert holder.try_acquire()

    def refreshed_by_the_holder():
        new_broker(environ).cache.write(parent, credentials("ASIAHOLDER0000000001", SIGNING_MARGIN + 300))
        holder.__exit__(None, None, None)

    timer = later(0.1, refreshed_by_the_holder)
    broker.credentials(role(parent))
    timer.join()
    assert provider.calls == [("prod", "ASIAHOLDER0000000001")]


def test_long_lived_keys_sign_as_they_are_and_are_never_cached(provider, environ):
    keys = Source(kinds.STATIC, "base", {"access_key_id": "AKIAKEYS000000000001"}, private={"secret_access_key": "brokersecret-keys"})
    broker = new_broker(environ)
    broker.credentials(role(keys))
    assert provider.calls == [("prod", "AKIAKEYS000000000001")]
    assert [name for name in os.listdir(environ["STSENV_CACHE_DIR"]) if name.startswith("base.")] == []


# ---- waiting for the holder of the lock ---------------------------------------------------------------------


def test_a_refresh_waits_for_the_holder_and_takes_what_it_wrote(provider, environ):
    source = role()
    broker = new_broker(environ)
    with held(broker.cache, source):
        timer = later(0.1, lambda: new_broker(environ).cache.write(source, credentials("ASIAHOLDER0000000001", 3600)))
        served = broker.credentials(source)
        timer.join()
    assert served.access_key_id == "ASIAHOLDER0000000001"
    assert provider.calls == []


def test_a_refresh_gives_up_waiting_after_the_lock_timeout(provider, environ):
    environ["STSENV_LOCK_TIMEOUT"] = "0.3"
    source = role()
    broker = new_broker(environ)
    with held(broker.cache, source):
        with pytest.raises(LockTimeout) as timeout:
            broker.credentials(source)
    assert timeout.value.exit_code == 4
    assert f"waiting for another stsenv (pid {os.getpid()}) refreshing prod" in str(timeout.value)
    assert provider.calls == []


def answered_after(seconds, answer="answered"):
    """An `answered` callback that has an answer once `seconds` have passed, and counts its calls."""
    deadline = time.monotonic() + seconds
    calls = []

    def answered():
        calls.append(None)
        return answer if time.monotonic() >= deadline else None

    answered.calls = calls
    return answered


def test_wait_for_returns_the_answer_without_taking_the_lock(environ):
    cache = new_broker(environ).cache
    source = role()
    with held(cache, source):
        waiting = cache.lock(source, "refreshing prod")
        answered = answered_after(0.05)
        assert wait_for(waiting, (5, 5), answered, print) == "answered"
        assert waiting._fd is None and len(answered.calls) > 1
        assert not waiting.try_acquire()  # the holder still holds it


def test_wait_for_takes_the_lock_once_the_holder_lets_go(environ):
    cache = new_broker(environ).cache
    source = role()
    holder = cache.lock(source, "refreshing prod")
    assert holder.try_acquire()
    timer = later(0.1, lambda: holder.__exit__(None, None, None))
    waiting = cache.lock(source, "refreshing prod")
    with waiting:
        assert wait_for(waiting, (5, 5), lambda: None, print) is None
        timer.join()
        assert waiting._fd is not None
        assert not cache.lock(source, "refreshing prod").try_acquire()


def test_wait_for_gives_up_after_the_plain_timeout(environ):
    cache = new_broker(environ).cache
    source = role()
    with held(cache, source):
        started = time.monotonic()
        with pytest.raises(LockTimeout, match=rf"gave up after \d+s waiting for another stsenv \(pid {os.getpid()}\) refreshing prod"):
            wait_for(cache.lock(source, "refreshing prod"), (0.3, 30), lambda: None, print)
        assert time.monotonic() - started >= 0.3


def test_wait_for_waits_longer_for_a_person_and_says_so_at_once(environ):
    cache = new_broker(environ).cache
    source, mine = role(), Source(ROLE, "other", {"role": "Other", "duration": 3600})
    with held(cache, source) as holder, held(cache, mine) as own:
        holder.update(asking_for_mfa=True)
        seen_meanwhile = []
        answered = answered_after(0.8)

        def answered_and_look():
            seen_meanwhile.append(own.holder().get("asking_for_mfa"))
            return answered()

        said = []
        assert wait_for(cache.lock(source, "refreshing prod"), (0.3, 30), answered_and_look, said.append) == "answered"
        assert seen_meanwhile[-1] is True  # this process's own waiters were told to wait as long
        assert own.holder()["asking_for_mfa"] is False  # ... and told again once the wait was over
    assert said == [f"stsenv: waiting for another stsenv (pid {os.getpid()}) refreshing prod, asking for an MFA code"]



def test_wait_for_a_person_is_refused_at_once_when_the_run_may_not_wait(environ):
    """The prompt's renewal (mfa timeout None) never waits behind someone typing a code."""
    cache = new_broker(environ).cache
    source = role()
    with held(cache, source) as holder:
        holder.update(asking_for_mfa=True)
        started = time.monotonic()
        with pytest.raises(MfaAskedElsewhere, match=rf"another terminal is asking for the MFA code \(stsenv pid {os.getpid()}\)"):
            wait_for(cache.lock(source, "refreshing prod"), (30, None), lambda: None, print)
        assert time.monotonic() - started < 5

"""AWS and network faults: bounded retries where they help, one clear line and exit 1 when they do not, and
the previous cache entry kept (and served while it is still valid)."""

import json
import socket
import threading
import time

import pytest

from localsts import LocalSTS
from reliakit import entry_path, one_line, replace_entry, run, served, set_remaining, start

ATTEMPTS = 3  # stsenv.sts.ATTEMPTS: botocore's standard mode, retries included
TIMEOUT = {"STSENV_STS_READ_TIMEOUT": "1"}


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("kind", ["throttle", "500", "503"])
def test_transient_faults_are_retried_and_then_succeed(world, home, sts, kind):
    sts.inject_fault("AssumeRole", kind, ATTEMPTS - 1)
    result = run(home, "serve", "prod")
    assert served(result)["AccessKeyId"].startswith("ASIA")
    assert result.stderr == ""
    assert sts.calls("AssumeRole") == ATTEMPTS


# (fault, env, the words the one line must have, attempts STS sees)
FAILURES = {
    "throttle": (None, "Throttling: Rate exceeded (STS is throttling this account", ATTEMPTS),
    "500": (None, "InternalFailure: An internal error occurred. (STS failed on its side 3 times", ATTEMPTS),
    "503": (None, "ServiceUnavailable", ATTEMPTS),
    "expired_token": (None, "ExpiredToken", 1),
    "access_denied": (None, "AccessDenied: User: arn:aws:iam::123456789012:user/alice is not authorized", 1),
    "malformed": (None, "sent a response that is not STS XML", 1),
    "slow:3": (TIMEOUT, "did not answer within 1s (3 attempts)", ATTEMPTS),
}


@pytest.mark.parametrize("kind", list(FAILURES))
def test_faults_that_persist_end_in_one_clear_line_and_exit_1(world, home, sts, kind):
    env, words, attempts = FAILURES[kind]
    sts.inject_fault("AssumeRole", kind, 10)
    started = time.monotonic()
    message = one_line(run(home, "serve", "prod", env=env), 1)
    assert message.startswith("stsenv: AssumeRole")
    assert words in message
    assert sts.calls("AssumeRole") == attempts, "retries are bounded, and only for faults that may pass"
    assert time.monotonic() - started < 60
    assert list(home.cache.glob("*.json")) == [], "nothing is cached from a failure"


def test_expired_token_says_what_to_do(world, home, sts):
    sts.inject_fault("AssumeRole", "expired_token", 1)
    assert "run `stsenv logout` for the source profile" in one_line(run(home, "serve", "prod"), 1)


def test_slow_answer_within_the_attempts_succeeds(world, home, sts):
    sts.inject_fault("AssumeRole", "slow:3", 1)
    result = run(home, "serve", "prod", env=TIMEOUT)
    assert served(result)["AccessKeyId"].startswith("ASIA")
    assert sts.calls("AssumeRole") == 2


def test_closed_port_is_one_clear_line(world, home, sts):
    url = f"http://127.0.0.1:{closed_port()}"
    message = one_line(run(home, "serve", "prod", env={"AWS_ENDPOINT_URL_STS": url}), 1)
    assert message == f"stsenv: AssumeRole: cannot reach STS at {url} (EndpointConnectionError) (check the network, endpoint_url and region)"


def test_port_that_accepts_and_never_answers_times_out(world, home, sts):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)  # the kernel completes each connection; nobody ever reads or answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        message = one_line(run(home, "serve", "prod", env={**TIMEOUT, "AWS_ENDPOINT_URL_STS": url}), 1)
    assert f"STS at {url} did not answer within 1s" in message
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("value", ["0", "-1", "soon", "nan"])
def test_bad_read_timeout_setting_is_exit_2(world, home, sts, value):
    message = one_line(run(home, "serve", "prod", env={"STSENV_STS_READ_TIMEOUT": value}), 2)
    assert "STSENV_STS_READ_TIMEOUT" in message


# ---- the previous entry ------------------------------------------------------------------------

FALLBACK_FAULTS = ["throttle", "500", "expired_token", "access_denied", "malformed", "slow:3", "closed port"]


def fail_sts(sts, kind):
    """Make STS fail from now on; the environment for the next run."""
    if kind == "closed port":
        return {}  # the second STS of this test has stopped: its port is closed
    sts.inject_fault("AssumeRole", kind, 10)
    return dict(TIMEOUT)


@pytest.mark.parametrize("kind", FALLBACK_FAULTS)
@pytest.mark.parametrize("command", ["serve", "use"])
def test_valid_previous_entry_is_served_and_kept_when_sts_fails(world, home, sts, kind, command):
    second = None
    if kind == "closed port":  # the endpoint is part of the cache key: the same URL must stop answering
        second = LocalSTS().start()
        home.env["AWS_ENDPOINT_URL_STS"] = second.url
    old = served(run(home, "serve", "prod"))
    path = entry_path(home)
    set_remaining(path, 600)  # inside botocore's window: refreshed when possible, still good for 10 minutes
    before = path.read_bytes()
    if second is not None:
        second.stop()
    env = fail_sts(sts, kind)
    result = run(home, command, "prod", *(["--format", "json"] if command == "use" else []), env=env)
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output.get("AccessKeyId", output.get("AWS_ACCESS_KEY_ID")) == old["AccessKeyId"]
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("stsenv: ") and lines[0].endswith("still using the cached credentials for prod")
    kept = json.loads(path.read_text())
    assert {field: kept[field] for field in CREDENTIAL_FIELDS} == {field: json.loads(before)[field] for field in CREDENTIAL_FIELDS}
    assert 0 < kept["RetryAfter"] - time.time() <= RETRY_AFTER_FAILURE

    sts.clear_faults()
    if second is not None:
        second.start(int(second.url.rsplit(":", 1)[1]))
    try:
        end_hold_off(path)
        recovered = run(home, "serve", "prod")
        assert served(recovered)["AccessKeyId"] != old["AccessKeyId"], "once STS answers, the entry is refreshed"
    finally:
        if second is not None:
            second.stop()


# ---- after a failed refresh: one attempt a minute, not one per AWS call --------------------------------

CREDENTIAL_FIELDS = ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expires", "Expiration", "Arn")
RETRY_AFTER_FAILURE = 60  # stsenv.broker.RETRY_AFTER_FAILURE


def end_hold_off(path):
    """Move the entry's RetryAfter into the past: the minute after the failure is over."""
    entry = json.loads(path.read_text())
    entry["RetryAfter"] = int(time.time()) - 1
    replace_entry(path, entry)


def failed_refresh(home, sts):
    """A cached entry inside botocore's window whose refresh has just failed (STS keeps refusing)."""
    old = served(run(home, "serve", "prod"))
    path = entry_path(home)
    set_remaining(path, 600)
    sts.inject_fault("AssumeRole", "503", 100)
    assert served(run(home, "serve", "prod"))["AccessKeyId"] == old["AccessKeyId"]
    assert sts.calls("AssumeRole") == 1 + ATTEMPTS
    return old, path


@pytest.mark.parametrize("command", ["serve", "use"])
def test_after_a_failed_refresh_sts_is_left_alone_for_a_minute(world, home, sts, command):
    old, path = failed_refresh(home, sts)
    result = run(home, command, "prod", *(["--format", "json"] if command == "use" else []))
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output.get("AccessKeyId", output.get("AWS_ACCESS_KEY_ID")) == old["AccessKeyId"]
    assert sts.calls("AssumeRole") == 1 + ATTEMPTS, "no STS call while the failure is fresh"
    [line] = result.stderr.splitlines()
    assert line.startswith("stsenv: refreshing prod failed less than 60s ago; still using the cached credentials (9 min left), trying again in ")

    end_hold_off(path)  # a minute later STS is tried again, and still fails: kept again, for another minute
    assert served(run(home, "serve", "prod"))["AccessKeyId"] == old["AccessKeyId"]
    assert sts.calls("AssumeRole") == 1 + 2 * ATTEMPTS
    assert json.loads(path.read_text())["RetryAfter"] > time.time()


def test_after_a_failed_refresh_concurrent_calls_make_no_more_attempts(world, home, sts):
    """The case the pause is for: many AWS calls while STS is down, each would wait through every attempt."""
    old, path = failed_refresh(home, sts)
    end_hold_off(path)
    results = [process.communicate(timeout=120) + (process.returncode,) for process in [start(home, "serve", "prod") for _ in range(8)]]
    assert [code for _, _, code in results] == [0] * 8, [err for _, err, _ in results]
    assert {json.loads(out)["AccessKeyId"] for out, _, _ in results} == {old["AccessKeyId"]}
    assert sts.calls("AssumeRole") == 1 + 2 * ATTEMPTS, "one process tried STS; the other seven took what it kept"


@pytest.mark.parametrize("retry_after", [lambda now: now + 3600, lambda now: now - 5])
def test_a_pause_that_is_not_a_fresh_failure_is_not_honoured(world, home, sts, retry_after):
    """A RetryAfter far ahead (a clock set back, a hand edit) or past: STS is asked as usual."""
    old = served(run(home, "serve", "prod"))
    path = entry_path(home)
    entry = set_remaining(path, 600)
    entry["RetryAfter"] = retry_after(int(time.time()))
    replace_entry(path, entry)
    assert served(run(home, "serve", "prod"))["AccessKeyId"] != old["AccessKeyId"]
    assert sts.calls("AssumeRole") == 2


def test_no_pause_once_too_little_is_left(world, home, sts):
    """Kept credentials with under a minute left are not handed out, pause or not."""
    served(run(home, "serve", "prod"))
    path = entry_path(home)
    entry = set_remaining(path, 50)
    entry["RetryAfter"] = int(time.time()) + 30
    replace_entry(path, entry)
    sts.inject_fault("AssumeRole", "503", 100)
    assert one_line(run(home, "serve", "prod"), 1).startswith("stsenv: AssumeRole")
    assert sts.calls("AssumeRole") == 1 + ATTEMPTS


@pytest.mark.parametrize("remaining", [30, -60])
def test_entry_too_close_to_expiry_is_not_served_but_kept(world, home, sts, remaining):
    served(run(home, "serve", "prod"))
    path = entry_path(home)
    set_remaining(path, remaining)
    before = path.read_bytes()
    sts.inject_fault("AssumeRole", "access_denied", 10)
    one_line(run(home, "serve", "prod"), 1)
    assert path.read_bytes() == before, "a failed refresh never removes or damages the entry"


def test_failing_parent_refresh_is_one_line(world, home, sts):
    """The MFA session under a role fails to open: one line from the inner call, exit 1, no role call."""
    serial, secret = sts.create_virtual_mfa("alice")
    home.write_config(home.config.read_text() + f"\n[profile guarded]\nrole_arn = {world.role_arn}\nsource_profile = base\nmfa_serial = {serial}\n")
    sts.inject_fault("GetSessionToken", "503", 10)
    import pyotp

    message = one_line(run(home, "use", "guarded", "--token-code", pyotp.TOTP(secret).now()), 1)
    assert message.startswith("stsenv: GetSessionToken refused: ServiceUnavailable")
    assert sts.calls("AssumeRole") == 0


# ---- nothing cached and STS down: the waiters of a refresh share its failure ------------------------------


class SilentSTS:
    """A port that accepts every connection and never answers, counting the connections (one per attempt)."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.accepted = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.accepted.append(connection)

    def close(self):
        self.listener.close()
        for connection in self.accepted:
            connection.close()


def race(home, count, env):
    """`count` cold serves started together: [(exit code, stderr, the moment it ended)]."""
    processes = [start(home, "serve", "prod", env=env) for _ in range(count)]
    ended = {}
    deadline = time.monotonic() + 150
    while len(ended) < count and time.monotonic() < deadline:
        for index, process in enumerate(processes):
            if index not in ended and process.poll() is not None:
                ended[index] = time.monotonic()
        time.sleep(0.01)
    results = []
    for index, process in enumerate(processes):
        _, stderr = process.communicate(timeout=30)
        results.append((process.returncode, stderr, ended.get(index)))
    return results


def assert_one_shared_failure(results, words):
    """Every process ended with the leader's line and exit code, all close together, none gave up waiting."""
    assert [code for code, _, _ in results] == [1] * len(results), [stderr for _, stderr, _ in results]
    last_lines = {stderr.splitlines()[-1] for _, stderr, _ in results}
    assert len(last_lines) == 1, last_lines
    assert words in last_lines.pop()
    assert not any("gave up after" in stderr for _, stderr, _ in results)
    ends = [moment for _, _, moment in results]
    assert max(ends) - min(ends) < 10, f"the waiters ended {max(ends) - min(ends):.1f}s apart: one after another, not with the leader"


def test_waiters_of_a_refresh_that_fails_against_a_silent_sts_share_its_failure(world, home, sts):
    silent = SilentSTS()
    try:
        env = {**TIMEOUT, "AWS_ENDPOINT_URL_STS": silent.url}
        results = race(home, 8, env)
        assert_one_shared_failure(results, f"STS at {silent.url} did not answer within 1s ({ATTEMPTS} attempts)")
        assert len(silent.accepted) == ATTEMPTS, "one set of attempts between the eight"
    finally:
        silent.close()


def test_waiters_of_a_refresh_that_fails_share_its_failure_and_later_runs_try_again(world, home, sts):
    sts.inject_fault("AssumeRole", "500", times=99)
    results = race(home, 8, None)
    assert_one_shared_failure(results, "InternalFailure: An internal error occurred.")
    assert sts.calls("AssumeRole") == ATTEMPTS, "one set of attempts between the eight"
    [failure] = home.cache.glob("*.failed")
    assert failure.stat().st_mode & 0o777 == 0o600
    recorded = json.loads(failure.read_text())
    assert recorded["code"] == 1 and recorded["message"] == results[0][1].splitlines()[-1].removeprefix("stsenv: ")

    one_line(run(home, "serve", "prod"), 1)  # started after the failure: tries STS itself
    assert sts.calls("AssumeRole") == 2 * ATTEMPTS
    sts.clear_faults()
    served(run(home, "serve", "prod"))
    assert list(home.cache.glob("*.failed")) == [], "a refresh that works forgets the failure"


def test_a_failure_record_planted_or_from_the_future_is_not_adopted(world, home, sts):
    """Only a failure recorded since the process began waiting counts: an old one, one dated ahead (a planted
    file, a clock set back) or one that is not ours is ignored, and STS is asked."""
    path = entry_path(home).with_suffix(".failed")
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    for when in (time.time() - 5, time.time() + 3600):
        path.write_text(json.dumps({"time": when, "code": 3, "message": "planted"}))
        path.chmod(0o600)
        served(run(home, "serve", "prod"))
        path.unlink(missing_ok=True)
        entry_path(home).unlink()
    assert sts.calls("AssumeRole") == 2


@pytest.mark.parametrize("value", ["inf", "1e999", "nan", "-inf", "86401"])
@pytest.mark.parametrize("name", ["STSENV_LOCK_TIMEOUT", "STSENV_MFA_LOCK_TIMEOUT", "STSENV_STS_READ_TIMEOUT"])
def test_a_wait_that_is_not_a_finite_number_is_exit_2(world, home, sts, name, value):
    message = one_line(run(home, "serve", "prod", env={name: value}), 2)
    assert message == f"stsenv: {name}={value!r} must be a finite positive number of seconds, at most 86400"
    assert sts.calls() == 0

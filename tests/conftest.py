"""Fixtures: a strict local STS (moto behind tests/localsts.py) and, for every test, a temporary HOME with
its own AWS config, credentials file and stsenv cache. Only 127.0.0.1 is ever contacted.

Slow and quick tests. A test is `slow` when it starts anything: a process (stsenv, the aws CLI, a helper
script), a shell, or a server (the local STS, Identity Center and sign-in endpoints, in threads). The rule:
  - a test that uses one of SLOW_FIXTURES, directly or through another fixture, is marked slow here
    (pytest_collection_modifyitems): `home` and `world` come with the local STS, and the rest start a server
    or stand for the aws CLI;
  - a file whose tests start things another way says so itself: `pytestmark = pytest.mark.slow`, or
    `@pytest.mark.slow` on the one test that does.
Every other test runs in this process, and together they are the quick check: `pytest -m "not slow"`.
A guard keeps it so: an audit hook sees every process started (subprocess, fork, exec, spawn, os.system)
and every socket bound or connected, and a test that is not marked slow fails when one happened during
its setup, call or teardown (pytest_runtest_makereport below).
"""

import json
import os
import pwd
import subprocess
import sys
import threading

import pytest

from localsignin import LocalSignin
from localsso import LocalSSO
from localsts import LocalSTS

BIN = os.path.dirname(sys.executable)
ACCOUNT = "123456789012"
# The default role session name: from the passwd entry of this uid, never from USER (which Home sets to "tester").
SESSION_NAME = f"stsenv-{pwd.getpwuid(os.geteuid()).pw_name}"


@pytest.fixture(scope="session")
def sts_server():
    server = LocalSTS().start()
    yield server
    server.stop()


@pytest.fixture
def sts(sts_server):
    """The local STS, reset: no users, roles, calls or faults from other tests."""
    sts_server.reset()
    return sts_server


class Home:
    """A temporary HOME for one test: the environment every process of the test runs with, and its files."""

    def __init__(self, root, sts):
        self.root = root
        self.sts = sts
        self.path = root / "home"
        (self.path / ".aws").mkdir(parents=True)
        self.config = self.path / ".aws" / "config"
        self.credentials = self.path / ".aws" / "credentials"
        self.cache = root / "cache"
        self.env = {
            "HOME": str(self.path),
            "PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "LANG": "C.UTF-8",
            "USER": "tester",
            "AWS_CONFIG_FILE": str(self.config),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.credentials),
            "AWS_ENDPOINT_URL_STS": sts.url,
            "AWS_EC2_METADATA_DISABLED": "true",
            "STSENV_CACHE_DIR": str(self.cache),
            "NO_PROXY": "127.0.0.1,localhost",
            "PYTHONDONTWRITEBYTECODE": "1",
        }

    def write_config(self, text):
        self.config.write_text(text)

    def write_credentials(self, text):
        self.credentials.write_text(text)

    def stsenv(self, *args, input=None, env=None, timeout=60):
        """Run the installed `stsenv` console script; the CompletedProcess, text mode."""
        return subprocess.run(
            ["stsenv", *args], input=input, capture_output=True, text=True, env={**self.env, **(env or {})}, timeout=timeout
        )

    def aws(self, *args, env=None, timeout=60):
        """Run the real aws CLI in this HOME."""
        return subprocess.run(
            ["aws", *args], capture_output=True, text=True, env={**self.env, **(env or {})}, timeout=timeout
        )

    def cache_entries(self):
        """The cache's JSON entries, parsed, by file name."""
        if not self.cache.exists():
            return {}
        return {p.name: json.loads(p.read_text()) for p in self.cache.glob("*.json")}


@pytest.fixture
def home(tmp_path, sts):
    return Home(tmp_path, sts)


class World:
    """A user `alice` with keys in [base], a role Admin, and both config styles pointing at it."""

    def __init__(self, home, sts):
        self.alice = sts.create_user("alice")
        self.role_arn = sts.create_role("Admin")
        home.write_credentials(
            "[base]\n"
            f"aws_access_key_id = {self.alice['access_key_id']}\n"
            f"aws_secret_access_key = {self.alice['secret_access_key']}\n"
        )
        home.write_config(
            "# the user's own comment\n"
            "[default]\n"
            "region = us-east-1\n\n"
            "[profile prod]\n"
            "credential_process = stsenv serve prod\n"
            f"stsenv_role_arn = {self.role_arn}\n"
            "stsenv_source_profile = base\n"
            "region = eu-west-1\n\n"
            "[profile prod-role]\n"
            f"role_arn = {self.role_arn}\n"
            "source_profile = base\n"
            "region = us-east-1\n\n"
            "[profile prod-served]\n"
            "credential_process = stsenv serve prod-role\n"
            "region = us-east-1\n"
        )


@pytest.fixture
def world(home, sts):
    return World(home, sts)



@pytest.fixture(scope="session")
def sso_server(sts_server):
    server = LocalSSO(sts_server).start()
    yield server
    server.stop()


@pytest.fixture
def sso(sso_server, sts):
    """IAM Identity Center's OIDC and portal APIs (tests/localsso.py), reset, issuing role credentials
    of the reset local STS; point clients at it with sso.endpoint_env()."""
    sso_server.reset()
    return sso_server


@pytest.fixture(scope="session")
def signin_server(sts_server):
    server = LocalSignin(sts_server).start()
    yield server
    server.stop()


@pytest.fixture
def signin(signin_server, sts):
    """The console federation endpoint (tests/localsignin.py) at signin.federation_url, reset."""
    signin_server.reset()
    return signin_server


AWS_V2 = os.path.join(os.path.dirname(BIN), "awscli-v2", "aws")


@pytest.fixture(scope="session")
def aws_v2():
    """The AWS CLI v2 executable (for `aws sso login`), installed by scripts/install-awscli-v2 (.ci/run runs it)."""
    if not os.access(AWS_V2, os.X_OK):
        pytest.fail(f"AWS CLI v2 is not installed at {AWS_V2}: run `bash scripts/install-awscli-v2`")
    return AWS_V2


# ---- slow and quick tests (see the module docstring) -------------------------------------------------------

# Fixtures that start a server, or stand for a program the test runs; `home`, `world`, `sts`, `sso` and
# `signin` reach a server fixture, and are named too so that the rule reads as the docstring says.
SLOW_FIXTURES = frozenset(
    {"home", "world", "sts", "sts_server", "sso", "sso_server", "signin", "signin_server", "aws_v2"}
)
# Audit events (sys.addaudithook) of starting a process, or of a server or a connection.
STARTING_EVENTS = frozenset(
    {
        "subprocess.Popen",
        "os.system",
        "os.exec",
        "os.fork",
        "os.forkpty",
        "os.posix_spawn",
        "os.spawn",
        "socket.bind",
        "socket.connect",
    }
)
_started = []  # (event, thread name) seen since the last report of the running test


def _audit(event, args):
    if event in STARTING_EVENTS:
        _started.append((event, threading.current_thread().name))


sys.addaudithook(_audit)


def pytest_collection_modifyitems(items):
    for item in items:
        if SLOW_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _started.clear()
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A test outside the slow set that started something fails, naming what it started."""
    outcome = yield
    report = outcome.get_result()
    started, _started[:] = list(_started), []
    if started and item.get_closest_marker("slow") is None and report.outcome != "failed":
        seen = ", ".join(sorted({f"{event} (thread {thread})" for event, thread in started}))
        report.outcome = "failed"
        report.longrepr = f"{item.nodeid} is not marked slow, but its {report.when} started something: {seen}. Mark it slow (see tests/conftest.py)."


# ---- this process's secrets ---------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def own_secrets(monkeypatch):
    """Each test starts with none of the secrets stsenv.redact saw in other tests of this process. Tests that
    fuzz credentials register whatever they drew, and Hypothesis also draws the package's own string literals
    (`--debug` once became a "secret", masking another test's expected message)."""
    from stsenv import redact

    monkeypatch.setattr(redact, "_secrets", set())

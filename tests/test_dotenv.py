"""`--format dotenv` is read back exactly by sh (`set -a; . ./creds.env`) and python-dotenv, runs nothing,
and a value that cannot be written so is refused (exit 2, one line, nothing on stdout).

The rule (stsenv.exports.dotenv_quote): every value in single quotes; refused when it holds `'`, `${`, two
backslashes in a row, a backslash at its end, or a control character. docker compose cannot run here (no
container engine); its single-quote rule (README, `stsenv serve` and `stsenv use`) is met by the same values.
"""

import json
import os
import subprocess

import pytest
from dotenv import dotenv_values
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from stsenv import exports
from stsenv.errors import ConfigError

pytestmark = pytest.mark.slow  # the round trips run sh and bash

SOURCE_AND_DUMP = {  # how a dotenv file is put into a shell's environment; each prints it NUL-separated
    "sh": ["sh", "-c", 'set -a; . "$DOTENV_FILE"; env -0'],
    "bash": ["bash", "--norc", "--noprofile", "-c", 'set -a; . "$DOTENV_FILE"; env -0'],
}


@pytest.fixture(scope="module")
def canary(tmp_path_factory):
    return tmp_path_factory.mktemp("dotenv-canary") / "PWNED"


def hostile_pieces(canary):
    return [
        "'", '"', "\\", "\\\\", "\\'", "$", "${", "${HOME}", "${X:-y}", "$HOME", "$(", ")", "`", ";", "&", "|", "#", " #",
        "\n", "\r", "\t", "\x1b[31m", "\x7f", "\x85", "\u2028", "é", "🙂", "=", " ", "export ",
        f"$(touch {canary})", f"`touch {canary}`", f"; touch {canary}", f"\"; touch {canary}; \"", "\\n", "\\t", "\\$",
    ]


def values(canary):
    piece = st.sampled_from(hostile_pieces(canary)) | st.text(max_size=6)
    return st.lists(piece, max_size=6).map("".join)


def write(path, variables):
    """The dotenv text `use --format dotenv` prints for `variables`, written to `path`."""
    path.write_text(exports.block(variables, [], "bash", "dotenv"), encoding="utf-8")


def read_back(path):
    """What python-dotenv, sh and bash read from the file at `path`: {reader: {name: value}}."""
    found = {"python-dotenv": dict(dotenv_values(path))}
    for shell, argv in SOURCE_AND_DUMP.items():
        env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", "DOTENV_FILE": str(path)}
        result = subprocess.run(argv, capture_output=True, env=env, timeout=60)
        assert result.returncode == 0, (shell, path.read_text(), result.stderr)
        pairs = (item.split(b"=", 1) for item in result.stdout.split(b"\0") if b"=" in item)
        found[shell] = {name.decode(): value.decode() for name, value in pairs if name.startswith(b"V")}
    return found


def accepted(name, value):
    try:
        exports.dotenv_quote(name, value)
    except ConfigError as error:
        assert "\n" not in str(error) and (len(value) < 4 or value not in str(error))  # never the value itself
        return False
    return True


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
@example(data=None)
def test_every_value_is_read_back_exactly_or_refused(canary, tmp_path_factory, data):
    drawn = ["`id`", "$(id)", "\\x", "a\\b", "$X", "#x", " lead and trail ", ""] if data is None else [
        data.draw(values(canary), label=f"V{index}") for index in range(8)
    ]
    variables = {f"V{index}": value for index, value in enumerate(drawn) if accepted(f"V{index}", value)}
    path = tmp_path_factory.mktemp("dotenv") / "creds.env"
    write(path, variables)
    for reader, found in read_back(path).items():
        assert found == variables, (reader, path.read_text())
    assert not canary.exists()


REFUSED = {
    "single quote": ("it's", "a single quote"),
    "newline": ("a\nb", "a control character ('\\n')"),
    "carriage return": ("a\rb", "a control character ('\\r')"),
    "escape sequence": ("\x1b]0;title\x07", "a control character ('\\x1b')"),
    "interpolation": ("${HOME}", "${ (python-dotenv would expand it)"),
    "double backslash": ("a\\\\b", "two backslashes in a row"),
    "backslash at the end": ("a\\", "a backslash at its end"),
}


@pytest.mark.parametrize("value, what", REFUSED.values(), ids=REFUSED.keys())
def test_values_that_cannot_be_written_are_refused_by_name(value, what):
    with pytest.raises(ConfigError) as refused:
        exports.block({"AWS_SECRET_ACCESS_KEY": value}, [], "bash", "dotenv")
    assert str(refused.value).startswith(f"refusing to write AWS_SECRET_ACCESS_KEY in dotenv format: its value holds {what}, ")


@pytest.mark.parametrize("value", ["it's", "${HOME}", "a\\\\b", "a\\", "a\rb"])
def test_each_refused_value_would_be_read_wrong_by_one_reader(tmp_path, value):
    """Written in single quotes as it is, each of these is read wrong by python-dotenv or sh. (A newline is
    read right by both, but is refused too: line-based readers such as `docker run --env-file` would take
    the rest of the value as a line of its own, a variable of the value's choosing.)"""
    path = tmp_path / "creds.env"
    path.write_bytes(f"V0='{value}'\nV1='next'\n".encode())
    wrong = []
    if dict(dotenv_values(path)) != {"V0": value, "V1": "next"}:
        wrong.append("python-dotenv")
    result = subprocess.run(["sh", "-c", '. "$1" && printf %s "$V0"', "sh", str(path)], capture_output=True, timeout=60)
    if result.returncode != 0 or result.stdout.decode() != value:
        wrong.append("sh")
    assert wrong, value


def odd_secret(sts, secret):
    sts.inject_reply("AssumeRole", sts.credentials_reply("AssumeRole", SecretAccessKey=secret))


def test_use_dotenv_of_hostile_credentials_runs_nothing_and_reads_back(world, home, sts, tmp_path):
    """A lying STS hands out a secret with backticks and $(): the file runs neither, and every reader gets it exactly."""
    canary = tmp_path / "PWNED"
    secret = f"`touch$IFS{canary}`$(touch$IFS{canary})$HOME\\x"
    odd_secret(sts, secret)
    result = home.stsenv("use", "prod", "--format", "dotenv")
    assert result.returncode == 0, result.stderr
    path = tmp_path / "creds.env"
    path.write_text(result.stdout)
    for reader, found in read_back_all(path).items():
        assert found["AWS_SECRET_ACCESS_KEY"] == secret, reader
        assert found["STSENV_PROFILE"] == "prod" and found["AWS_REGION"] == "eu-west-1", reader
    assert not canary.exists()


def read_back_all(path):
    """Every variable python-dotenv and sh read from `path`."""
    found = {"python-dotenv": dict(dotenv_values(path))}
    result = subprocess.run(["sh", "-c", 'set -a; . "$1"; env -0', "sh", str(path)], capture_output=True, env={"PATH": os.environ["PATH"]}, timeout=60)
    assert result.returncode == 0, result.stderr
    found["sh"] = dict(item.decode().split("=", 1) for item in result.stdout.split(b"\0") if b"=" in item)
    return found


@pytest.mark.parametrize("secret", ["it's-a-secret-" + "s" * 20, "${HOME}" + "s" * 20, "s" * 20 + "\\\\" + "s" * 20])
def test_use_dotenv_refuses_a_value_it_cannot_write_without_showing_it(world, home, sts, secret):
    odd_secret(sts, secret)
    result = home.stsenv("use", "prod", "--format", "dotenv")
    assert result.returncode == 2 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("stsenv: refusing to write AWS_SECRET_ACCESS_KEY in dotenv format: its value holds ")
    assert secret not in line and "s" * 20 not in line


def test_use_dotenv_matches_json(world, home):
    as_json = json.loads(home.stsenv("use", "prod", "--format", "json").stdout)
    dotenv = home.stsenv("use", "prod", "--format", "dotenv").stdout
    assert all(line.count("'") == 2 and line.endswith("'") for line in dotenv.splitlines()), dotenv
    for reader, found in read_back_all_text(home, dotenv).items():
        assert {name: found[name] for name in as_json} == as_json, reader


def read_back_all_text(home, text):
    path = home.root / "creds.env"
    path.write_text(text)
    return read_back_all(path)

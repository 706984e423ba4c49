"""What `use` and `serve` print, in this process: the exact export blocks for bash, zsh, fish, JSON and
dotenv, values that read back as they were whatever they hold, names checked before anything is printed,
and the region bookkeeping that gives the user's own region variables back (endpoints.user_regions).
test_reliability_eval_safety.py evaluates the same blocks in the real shells."""

import json
import shlex

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stsenv import exports
from stsenv.commands.serve import process_json
from stsenv.credentials import Credentials
from stsenv.endpoints import user_regions
from stsenv.errors import ConfigError

SESSION = Credentials("ASIAEXPORT0000000001", "sec'ret\\x", "tok$en", 1_900_000_000, "arn:aws:sts::123456789012:assumed-role/Admin/s")
LONG_LIVED = Credentials("AKIAEXPORT0000000001", "plainsecret")


def environment(**overrides):
    arguments = {"credentials": SESSION, "profile": "prod", "region": "eu-west-1", "previous_profile": "dev", "user_regions": {"AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": None}}
    arguments.update(overrides)
    return exports.environment(**arguments)


BASH = """unset AWS_PROFILE;
unset AWS_DEFAULT_PROFILE;
unset STSENV_USER_AWS_DEFAULT_REGION;
export AWS_ACCESS_KEY_ID='ASIAEXPORT0000000001';
export AWS_SECRET_ACCESS_KEY='sec'\\''ret\\x';
export AWS_SESSION_TOKEN='tok$en';
export AWS_SESSION_EXPIRES='1900000000';
export AWS_CREDENTIAL_EXPIRATION='2030-03-17T17:46:40Z';
export AWS_SESSION_EXPIRATION='2030-03-17T17:46:40Z';
export STSENV_PROFILE='prod';
export STSENV_IDENTITY='Admin@123456789012';
export AWS_REGION='eu-west-1';
export STSENV_USER_AWS_REGION='us-west-2';
export AWS_DEFAULT_REGION='eu-west-1';
export STSENV_REGION='eu-west-1';
export STSENV_PREVIOUS_PROFILE='dev';
"""

FISH = """set -e AWS_PROFILE;
set -e AWS_DEFAULT_PROFILE;
set -e STSENV_USER_AWS_DEFAULT_REGION;
set -gx AWS_ACCESS_KEY_ID 'ASIAEXPORT0000000001';
set -gx AWS_SECRET_ACCESS_KEY 'sec\\'ret\\\\x';
set -gx AWS_SESSION_TOKEN 'tok$en';
set -gx AWS_SESSION_EXPIRES '1900000000';
set -gx AWS_CREDENTIAL_EXPIRATION '2030-03-17T17:46:40Z';
set -gx AWS_SESSION_EXPIRATION '2030-03-17T17:46:40Z';
set -gx STSENV_PROFILE 'prod';
set -gx STSENV_IDENTITY 'Admin@123456789012';
set -gx AWS_REGION 'eu-west-1';
set -gx STSENV_USER_AWS_REGION 'us-west-2';
set -gx AWS_DEFAULT_REGION 'eu-west-1';
set -gx STSENV_REGION 'eu-west-1';
set -gx STSENV_PREVIOUS_PROFILE 'dev';
"""


@pytest.mark.parametrize("shell, expected", [("bash", BASH), ("zsh", BASH), ("fish", FISH)])
def test_the_block_for_each_shell(shell, expected):
    assert exports.block(*environment(), shell) == expected


def test_the_json_and_dotenv_blocks():
    values, unset = environment(user_regions=None)
    assert json.loads(exports.block(values, unset, "bash", "json")) == {
        "AWS_ACCESS_KEY_ID": "ASIAEXPORT0000000001",
        "AWS_SECRET_ACCESS_KEY": "sec'ret\\x",
        "AWS_SESSION_TOKEN": "tok$en",
        "AWS_SESSION_EXPIRES": "1900000000",
        "AWS_CREDENTIAL_EXPIRATION": "2030-03-17T17:46:40Z",
        "AWS_SESSION_EXPIRATION": "2030-03-17T17:46:40Z",
        "STSENV_PROFILE": "prod",
        "STSENV_IDENTITY": "Admin@123456789012",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "STSENV_PREVIOUS_PROFILE": "dev",
    }
    with pytest.raises(ConfigError, match="refusing to write AWS_SECRET_ACCESS_KEY in dotenv format: its value holds a single quote"):
        exports.block(values, unset, "fish", "dotenv")  # a quote cannot be written so that every reader reads it back
    values["AWS_SECRET_ACCESS_KEY"] = "sec\\ret"
    dotenv = exports.block(values, unset, "fish", "dotenv").splitlines()
    assert dotenv[:4] == ["AWS_ACCESS_KEY_ID='ASIAEXPORT0000000001'", "AWS_SECRET_ACCESS_KEY='sec\\ret'", "AWS_SESSION_TOKEN='tok$en'", "AWS_SESSION_EXPIRES='1900000000'"]
    assert "AWS_REGION='eu-west-1'" in dotenv and not any(line.startswith(("unset", "AWS_PROFILE")) for line in dotenv)


def test_long_lived_keys_unset_the_session_variables_and_name_the_profile():
    values, unset = exports.environment(LONG_LIVED, "keys", None)
    assert values == {"AWS_ACCESS_KEY_ID": "AKIAEXPORT0000000001", "AWS_SECRET_ACCESS_KEY": "plainsecret", "STSENV_PROFILE": "keys", "STSENV_IDENTITY": "keys"}
    assert unset == ["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SESSION_EXPIRES", "AWS_CREDENTIAL_EXPIRATION", "AWS_SESSION_EXPIRATION"]


def test_the_previous_profile_is_kept_only_when_it_is_another():
    assert "STSENV_PREVIOUS_PROFILE" not in environment(previous_profile="prod")[0]
    assert "STSENV_PREVIOUS_PROFILE" not in environment(previous_profile=None)[0]


def test_everything_use_sets_or_unsets_is_in_the_contract():
    for region in ("eu-west-1", None):
        for own in (None, {"AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "ap-south-1"}, {"AWS_REGION": None, "AWS_DEFAULT_REGION": None}):
            values, unset = environment(region=region, user_regions=own)
            assert set(values) | set(unset) <= set(exports.CONTRACT_VARIABLES) | set(exports.CONFLICTING_VARIABLES) | {"STSENV_PREVIOUS_PROFILE"}


def test_clear_unsets_the_contract_but_the_users_regions_and_remembers_the_profile():
    values, unset = exports.clear_environment("prod", {"AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": None})
    assert values == {"STSENV_PREVIOUS_PROFILE": "prod", "AWS_REGION": "us-west-2"}
    assert set(unset) == set(exports.CONTRACT_VARIABLES) - {"AWS_REGION"}


@pytest.mark.parametrize("name", ["", "1AWS", "AWS-REGION", "AWS REGION", "AWS_$(id)", "ÉTAT", "A\nB", "A;B"])
@pytest.mark.parametrize("where", ["set", "unset"])
def test_invalid_variable_names_are_refused_in_every_format(name, where):
    values, unset = ({name: "x"}, []) if where == "set" else ({}, [name])
    for shell, fmt in (("bash", "shell"), ("fish", "shell"), ("bash", "json"), ("bash", "dotenv")):
        with pytest.raises(ConfigError, match="refusing to print an invalid variable name"):
            exports.block(values, unset, shell, fmt)


@pytest.mark.parametrize("shell, fmt", [("bash", "shell"), ("zsh", "shell"), ("fish", "shell"), ("bash", "dotenv")])
def test_a_nul_byte_is_refused(shell, fmt):
    with pytest.raises(ConfigError, match="NUL byte"):
        exports.block({"A": "x\0y"}, [], shell, fmt)


def test_credential_process_output():
    assert json.loads(process_json(SESSION)) == {
        "Version": 1,
        "AccessKeyId": "ASIAEXPORT0000000001",
        "SecretAccessKey": "sec'ret\\x",
        "SessionToken": "tok$en",
        "Expiration": "2030-03-17T17:46:40Z",
    }
    assert list(json.loads(process_json(LONG_LIVED))) == ["Version", "AccessKeyId", "SecretAccessKey"]


# ---- any value reads back as it was ------------------------------------------------------------------------------

VALUES = st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)), max_size=40)


def posix_words(block):
    """The words of a bash/zsh block as a POSIX shell splits them (shlex's POSIX mode: quotes and backslashes)."""
    lexer = shlex.shlex(block, posix=True, punctuation_chars=";")
    lexer.whitespace_split = True
    return list(lexer)


def fish_value(quoted):
    """The value of one fish single-quoted word: inside it only \\\\ and \\' are escapes."""
    assert quoted[0] == quoted[-1] == "'"
    out, index, body = [], 0, quoted[1:-1]
    while index < len(body):
        if body[index] == "\\" and index + 1 < len(body) and body[index + 1] in "\\'":
            out.append(body[index + 1])
            index += 2
        else:
            assert body[index] != "'", quoted  # an unescaped quote would end the word early
            out.append(body[index])
            index += 1
    return "".join(out)


@settings(max_examples=200, deadline=None)
@given(VALUES)
def test_any_value_reads_back_in_bash_and_zsh(value):
    words = posix_words(exports.block({"V": value}, [], "bash"))
    assert words == ["export", f"V={value}", ";"]


@settings(max_examples=200, deadline=None)
@given(VALUES)
def test_any_value_reads_back_in_fish(value):
    line = exports.block({"V": value}, [], "fish")
    prefix, suffix = "set -gx V ", ";\n"
    assert line.startswith(prefix) and line.endswith(suffix)
    assert fish_value(line[len(prefix) : -len(suffix)]) == value


@settings(max_examples=200, deadline=None)
@given(VALUES)
def test_any_value_is_one_single_quoted_dotenv_line_or_refused(value):
    """What a reader does with the line is tests/test_dotenv.py's (python-dotenv, sh, bash); here: one line, the
    value as it is between single quotes, or a refusal that names the variable and never shows the value."""
    try:
        text = exports.block({"V": value}, [], "bash", "dotenv")
    except ConfigError as error:
        assert str(error).startswith("refusing to write V in dotenv format") and (len(value) < 4 or value not in str(error))
        return
    (line,) = text[:-1].split("\n")
    assert line == f"V='{value}'"


# ---- the user's own region variables come back ------------------------------------------------------------------

PROFILE_REGIONS = st.sampled_from([None, "eu-west-1", "us-east-1"])
USER_SETS = st.sampled_from(["ca-central-1", "ap-south-1", None])  # None: the user unsets it


def apply(environ, values, unset):
    for name in unset:
        environ.pop(name, None)
    environ.update(values)


ACTIONS = st.one_of(
    PROFILE_REGIONS.map(lambda region: ("use", region)),
    st.just(("clear", None)),
    st.tuples(st.sampled_from(["AWS_REGION", "AWS_DEFAULT_REGION"]), USER_SETS).map(lambda change: ("user", change)),
)


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({"AWS_REGION": st.sampled_from([None, "eu-west-1", "ap-south-1"]), "AWS_DEFAULT_REGION": st.sampled_from([None, "us-east-1"])}), st.lists(ACTIONS, max_size=8))
def test_the_users_own_region_variables_survive_any_sequence_of_use_and_clear(own, actions):
    environ = {name: value for name, value in own.items() if value is not None}
    own = dict(own)
    for action, argument in actions:
        if action == "use":
            apply(environ, *exports.environment(SESSION, "p", argument, environ.get("STSENV_PROFILE"), user_regions(environ)))
            if argument:
                assert environ["AWS_REGION"] == environ["AWS_DEFAULT_REGION"] == argument
        elif action == "clear":
            apply(environ, *exports.clear_environment(environ.get("STSENV_PROFILE"), user_regions(environ)))
        else:
            name, value = argument
            own[name] = value
            if value is None:
                environ.pop(name, None)
            else:
                environ[name] = value
        assert user_regions(environ) == own, (actions, environ)
        if action == "clear" or action == "use" and argument is None:  # no region of stsenv's in effect: the user's own are
            assert {name: environ.get(name) for name in own} == own

"""Eval safety: what `use` prints is evaluated by real bash, zsh and fish, and must set exactly the intended
values and run nothing else, whatever the values hold (quotes, $(), backticks, newlines, ;, unicode).

Property tests render blocks from generated values with stsenv.render (as `use` does) and evaluate them;
end-to-end tests run `stsenv use` with hostile but valid profile names. A canary file that a hostile value
tries to create must never appear.
"""

import os
import string
import subprocess

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from reliakit import run
from stsenv import exports
from stsenv.config import PROFILE_NAME_CHARS
from stsenv.credentials import Credentials
from stsenv.errors import ConfigError

SHELLS = ("bash", "zsh", "fish")
LEFTOVERS = {"AWS_PROFILE": "leftover", "AWS_DEFAULT_PROFILE": "leftover", "AWS_SESSION_TOKEN": "old-token"}


@pytest.fixture(scope="module")
def canary(tmp_path_factory):
    return tmp_path_factory.mktemp("canary") / "PWNED"


def hostile_pieces(canary):
    path = str(canary)
    return [
        "'", '"', "\\", "\\'", "'\\''", "$", "`", ";", "&", "|", "\n", "\r", "\t", " ", "#", "!", "*", "?", "~",
        "{", "}", "(", ")", "[", "]", "<", ">", "%", "^", "\x1b[31m", "\x7f", "\x01",
        f"$(touch {path})", f"`touch {path}`", f"; touch {path}", f"'; touch {path}; '", f"\"; touch {path}; \"",
        f"\\'; touch {path}; echo \\'", f"(touch {path})", f"\n touch {path}\n", f"${{IFS}}touch${{IFS}}{path}",
        "$HOME", "${HOME}", "$1", "$@", "%s", "!!", "é", "日本語", "🙂", "\u200b", "\u2028", "ﬀ", "--", "-e",
    ]


def values_strategy(canary):
    piece = st.sampled_from(hostile_pieces(canary)) | st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=8
    )
    return st.lists(piece, max_size=8).map("".join)


EVAL_BLOCK = {  # the way the shell integration and the README evaluate `stsenv use`'s output
    "bash": ["bash", "--norc", "--noprofile", "-c", 'eval "$(cat "$BLOCK_FILE")" && env -0'],
    "zsh": ["zsh", "-f", "-c", 'eval "$(cat "$BLOCK_FILE")" && env -0'],
    "fish": ["fish", "--no-config", "-c", 'cat $BLOCK_FILE | source; and env -0'],
}


def evaluate(shell, block, env, scratch):
    """Evaluate `block` in a real shell; its environment afterwards, as {name: value}."""
    block_file = scratch / f"block.{shell}"
    block_file.write_text(block, encoding="utf-8")
    result = subprocess.run(EVAL_BLOCK[shell], capture_output=True, env={**env, "BLOCK_FILE": str(block_file)}, timeout=60)
    assert result.returncode == 0, (shell, block, result.stderr.decode(errors="replace"))
    pairs = [item.split(b"=", 1) for item in result.stdout.split(b"\0") if b"=" in item]
    return {name.decode(): value.decode() for name, value in pairs}


def base_env():
    return {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", "HOME": os.environ.get("HOME", "/root"), **LEFTOVERS}


@pytest.mark.slow  # evaluates each block in real bash, zsh and fish
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_blocks_set_exactly_the_intended_values_in_every_shell(canary, data):
    scratch = canary.parent
    text = values_strategy(canary)
    key, secret, token, profile, arn, region, previous = (data.draw(text, label=label) for label in (
        "key", "secret", "token", "profile", "arn", "region", "previous"
    ))
    credentials = Credentials(key or "K", secret or "S", token or None, data.draw(st.integers(0, 2**33)), arn or None)
    values, unset = exports.environment(credentials, profile or "p", region or None, previous or None)
    for shell in SHELLS:
        block = exports.block(values, unset, shell)
        env = evaluate(shell, block, base_env(), scratch)
        added = {name: value for name, value in env.items() if name in values or name in LEFTOVERS or name.startswith(("AWS_", "STSENV_"))}
        assert added == values, (shell, block)
        assert not canary.exists(), (shell, block)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.tuples(st.text(max_size=10), st.text(max_size=10)).map(lambda parts: parts[0] + "\0" + parts[1]))
def test_a_nul_byte_is_refused_never_printed(value):
    with pytest.raises(ConfigError):
        exports.block({"STSENV_PROFILE": value}, [], "bash")
    with pytest.raises(ConfigError):
        exports.block({"STSENV_PROFILE": value}, [], "fish")


@given(name=st.text(min_size=1, max_size=20).filter(lambda n: not n.isidentifier() or not n.isascii()))
@settings(max_examples=60, deadline=None)
def test_invalid_variable_names_are_refused(name):
    with pytest.raises(ConfigError):
        exports.block({name: "x"}, [], "bash")
    with pytest.raises(ConfigError):
        exports.block({}, [name], "fish")


# ---- end to end: `stsenv use` with hostile but valid profile names -----------------------------------

VALID_NAME = st.text(alphabet="".join(sorted(PROFILE_NAME_CHARS)), min_size=1, max_size=24).filter(lambda n: not n.startswith("-"))
EVAL_USE = {
    "bash": ["bash", "--norc", "--noprofile", "-c", 'eval "$(stsenv use "$P" --shell bash)" && env -0'],
    "zsh": ["zsh", "-f", "-c", 'eval "$(stsenv use "$P" --shell zsh)" && env -0'],
    "fish": ["fish", "--no-config", "-c", 'stsenv use "$P" --shell fish | source; and env -0'],
}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(name=VALID_NAME)
@example(name="a:b/c@d+e=f,g")
@example(name="..")
@example(name=".")
@example(name="x/../../etc")
@example(name="a/b")
@example(name="a:b")
@example(name="0")
def test_use_with_hostile_but_valid_profile_names_in_real_shells(world, home, sts, canary, name):
    config = home.config.read_text()
    if f"[profile {name}]" not in config:
        home.write_config(config + f"\n[profile {name}]\nrole_arn = {world.role_arn}\nsource_profile = base\nregion = eu-north-1\n")
    for shell, argv in EVAL_USE.items():
        result = subprocess.run(argv, capture_output=True, env={**home.env, **LEFTOVERS, "P": name}, timeout=60)
        assert result.returncode == 0, (shell, name, result.stderr.decode())
        env = dict(item.decode().split("=", 1) for item in result.stdout.split(b"\0") if b"=" in item)
        assert env["STSENV_PROFILE"] == name and env["AWS_REGION"] == "eu-north-1"
        assert env["STSENV_IDENTITY"] == "Admin@123456789012"
        assert "AWS_PROFILE" not in env
    assert not canary.exists()


HOSTILE_NAME_CHARS = "'\"`$();&|<> \n\t\\*?!#~{}[]%^é日"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.lists(st.sampled_from(string.ascii_letters) | st.sampled_from(HOSTILE_NAME_CHARS), min_size=1, max_size=12)
       .map("".join).filter(lambda n: set(n) & set(HOSTILE_NAME_CHARS) and not n.startswith("-")))
@example(name="$(touch PWNED)")
@example(name="prod;touch PWNED")
@example(name="`touch PWNED`")
def test_invalid_profile_names_are_refused_before_any_output(world, home, sts, canary, name):
    for shell in SHELLS:
        result = run(home, "use", name, "--shell", shell)
        assert result.returncode == 2 and result.stdout == "", (name, result.stdout, result.stderr)
        assert result.stderr.startswith("stsenv: invalid profile name") and result.stderr.count("\n") == 1
    assert not canary.exists() and not (home.path / "PWNED").exists()
    assert sts.calls() == 0


def test_hostile_region_in_the_config_never_reaches_an_eval(world, home, sts, canary):
    for region in (f"$(touch {canary})", f"eu-west-1'; touch {canary}; '", f"`touch {canary}`", "eu-west-1;touch${IFS}x"):
        home.write_config(f"[profile evil]\nrole_arn = {world.role_arn}\nsource_profile = base\nregion = {region}\n")
        result = subprocess.run(
            ["bash", "--norc", "-c", 'eval "$(stsenv use evil --shell bash)"; env -0'], capture_output=True, env=home.env, timeout=60
        )
        assert b"stsenv: " in result.stderr
        assert b"AWS_ACCESS_KEY_ID" not in result.stdout
    assert not canary.exists()

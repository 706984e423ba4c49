"""The profile picker: `stsenv use` (and `exec`, `console`) without a profile at a terminal. Driven through a
real pseudo-terminal with pexpect: type to filter, arrows, Enter, Esc; most recently used first; stdout
stays the block's alone, so the shell integration applies the picked profile to the shell."""

import json
import stat
import subprocess

import pexpect
import pytest

from shellkit import PROMPT_PATTERN, Shell

DOWN = "\x1b[B"
UP = "\x1b[A"
ESC = "\x1b"
PICKERS = ["builtin", "fzf"]


def picking(home, command, picker, out):
    """`stsenv COMMAND` on a terminal of its own, stdout to the file `out` (as `eval "$(...)"` captures it);
    returns the pexpect child once the picker shows its prompt."""
    child = pexpect.spawn(
        "bash", ["-c", f'stsenv {command} > {out}; echo "exit=$?"'], env={**home.env, "STSENV_PICKER": picker, "TERM": "xterm"},
        encoding="utf-8", timeout=60, dimensions=(30, 120),
    )
    shown(child, f"stsenv {command.split()[0]}>")
    return child


def shown(child, prompt):
    """Wait for `prompt`, answering the cursor position requests (ESC [6n) a terminal answers: fzf --height
    asks where the cursor is before it draws."""
    while child.expect_exact([prompt, "\x1b[6n"]) == 1:
        child.send("\x1b[1;1R")


def finish(child):
    child.expect(r"exit=(\d+)")
    code = int(child.match.group(1))
    child.expect(pexpect.EOF)
    return code


def pick(home, keys, picker, command="use --format json", tmp_name="out"):
    """(exit code, what stdout got) after typing `keys` into the picker."""
    out = home.root / tmp_name
    child = picking(home, command, picker, out)
    for key in keys:
        child.send(key)
    code = finish(child)
    return code, out.read_text()


def use(home, profile):
    result = home.stsenv("use", profile, "--format", "json")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("picker", PICKERS)
def test_enter_picks_the_most_recently_used(world, home, sts, picker):
    use(home, "prod-role")
    use(home, "prod")  # now: prod, then prod-role, then the rest by name (base, prod-served)
    code, printed = pick(home, ["\r"], picker)
    assert code == 0
    assert json.loads(printed)["STSENV_PROFILE"] == "prod"
    code, printed = pick(home, [DOWN, "\r"], picker)
    assert json.loads(printed)["STSENV_PROFILE"] == "prod-role"
    code, printed = pick(home, [DOWN, DOWN, DOWN, UP, "\r"], picker)
    assert json.loads(printed)["STSENV_PROFILE"] == "base"


@pytest.mark.parametrize("picker", PICKERS)
def test_typing_filters(world, home, sts, picker):
    code, printed = pick(home, ["serv", "\r"], picker)
    assert code == 0 and json.loads(printed)["STSENV_PROFILE"] == "prod-served"


@pytest.mark.parametrize("picker", PICKERS)
def test_escape_changes_nothing(world, home, sts, picker):
    code, printed = pick(home, ["pro", DOWN, ESC], picker)
    assert (code, printed) == (5, "")
    code, printed = pick(home, ["nothing-like-this", "\r", ESC], picker)  # Enter on no match picks nothing
    assert (code, printed) == (5, "")
    assert sts.calls() == 0
    assert not (home.cache / "history").exists()


def test_history_is_small_private_and_secret_free(world, home, sts):
    for profile in ("prod", "prod-role", "prod"):
        use(home, profile)
    history = home.cache / "history"
    assert history.read_text() == "prod\nprod-role\n"
    assert stat.S_IMODE(history.stat().st_mode) == 0o600
    assert sorted(p.name for p in home.cache.iterdir() if not p.name.endswith((".json", ".lock", ".holder"))) == ["history"]
    adhoc = home.stsenv("use", "--role-arn", world.role_arn, "--source-profile", "base", "--format", "json")
    assert adhoc.returncode == 0, adhoc.stderr
    assert history.read_text() == "prod\nprod-role\n"  # nothing to pick again
    assert home.stsenv("logout", "--all").returncode == 0
    assert list(home.cache.iterdir()) == []


def test_history_that_is_odd_is_no_history(world, home, sts):
    home.cache.mkdir(mode=0o700)
    (home.cache / "history").write_text("gone\n$(evil)\nprod-role\n\x1b[31m\n" + "x" * 500 + "\n")
    use(home, "prod")
    assert (home.cache / "history").read_text() == "prod\ngone\nprod-role\n"
    code, printed = pick(home, [DOWN, "\r"], "builtin")  # 'gone' is in no config: not offered
    assert json.loads(printed)["STSENV_PROFILE"] == "prod-role"


def test_without_a_terminal_it_is_a_usage_error(world, home, sts):
    for command in (["use"], ["exec", "--", "true"], ["console", "--print"]):
        result = subprocess.run(["stsenv", *command], capture_output=True, text=True, env=home.env, stdin=subprocess.DEVNULL, start_new_session=True)
        assert result.returncode == 2, (command, result.stderr)
        assert result.stderr.startswith("stsenv: which profile? (stsenv ")
    assert sts.calls() == 0


def test_non_interactive_never_opens_it(world, home, sts):
    child = pexpect.spawn("bash", ["-c", f"stsenv use --non-interactive --format json > {home.root / 'out'}"], env=home.env, encoding="utf-8", timeout=30)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2 and "which profile?" in child.before


@pytest.mark.parametrize("picker", PICKERS)
@pytest.mark.parametrize("shell", ["bash", "fish"])
def test_picked_profile_applies_to_the_shell(world, home, sts, shell, picker):
    home.env["STSENV_PICKER"] = picker
    with Shell(shell, home) as sh:
        sh.child.sendline("stsenv use")
        shown(sh.child, "stsenv use>")
        sh.child.send("prod-role")
        sh.child.send("\r")
        sh.child.expect(PROMPT_PATTERN)
        assert sh.vars("STSENV_PROFILE", "AWS_REGION") == {"STSENV_PROFILE": "prod-role", "AWS_REGION": "us-east-1"}
        sh.child.sendline("stsenv use")
        shown(sh.child, "stsenv use>")
        sh.child.send(ESC)
        sh.child.expect(PROMPT_PATTERN)
        assert sh.child.match.group(1) == "5"
        assert sh.var("STSENV_PROFILE") == "prod-role"


def test_exec_and_console_pick_too(world, home, sts, signin):
    code, printed = pick(home, ["prod-role", "\r"], "builtin", command="exec -- printenv STSENV_PROFILE", tmp_name="exec")
    assert (code, printed) == (0, "prod-role\n")
    home.env["STSENV_SIGNIN_ENDPOINT"] = signin.federation_url
    code, printed = pick(home, ["\r"], "builtin", command="console --print", tmp_name="console")
    assert code == 0 and printed.startswith(signin.federation_url + "?Action=login&")
    assert (home.cache / "history").read_text().startswith("prod-role\n")

"""What stsenv's shell integration must do in every shell, each behaviour written once and run in a real
interactive bash, zsh and fish (pexpect) against the local STS. What one shell alone must do is in
test_shell_bash.py, test_shell_zsh.py and test_shell_fish.py."""

from __future__ import annotations

import re
import time

import pytest

from shellcases import CONTRACT, FRESH_PROD, IDENTITY, STANDALONE_COMPLETION, closed_port_url, completion_flags, expiring, refreshes, use_prod
from shellkit import Shell, export, set_path, unset


@pytest.fixture(params=["bash", "zsh", "fish"])
def kind(request):
    """The shell under test."""
    return request.param


def test_use_sets_the_contract_and_the_prompt(kind, world, home, sts):
    with Shell(kind, home, init_flags=" --prompt") as shell:
        assert shell.prompt == "", "no segment before any `stsenv use`"
        output = use_prod(shell)
        assert output.strip() == "", "the block is applied, not printed"
        assert FRESH_PROD.match(shell.prompt), shell.prompt
        values = shell.vars(*CONTRACT, "STSENV_PROMPT", "STSENV_PROMPT_STATE", "AWS_PROFILE")
        assert values["STSENV_PROFILE"] == "prod"
        assert values["STSENV_IDENTITY"] == IDENTITY
        assert values["AWS_ACCESS_KEY_ID"].startswith("ASIA")
        assert values["AWS_REGION"] == values["AWS_DEFAULT_REGION"] == "eu-west-1"
        assert values["AWS_PROFILE"] is None
        expires = int(values["AWS_SESSION_EXPIRES"])
        assert 3000 < expires - time.time() <= 3600
        iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires))
        assert values["AWS_CREDENTIAL_EXPIRATION"] == values["AWS_SESSION_EXPIRATION"] == iso
        # (the prompt may be drawn again a second later, in the next minute of the countdown)
        assert FRESH_PROD.match(values["STSENV_PROMPT"] + " "), values["STSENV_PROMPT"]
        assert values["STSENV_PROMPT_STATE"] == "fresh"
        assert sts.calls("AssumeRole") == 1
        assert shell.stsenv_runs() == [f"init {kind} --prompt", f"use prod --shell {kind}"]
        # Other commands and other formats pass straight through: printed, this shell unchanged.
        listed = shell.run("stsenv ls --names")
        assert {"prod", "prod-role", "prod-served"} <= set(listed.split()), listed
        assert shell.stsenv_runs(integration=True)[-1] == ("ls --names", kind), "the program is told it runs from the integration"
        printed = shell.run("stsenv use prod-role --format json | cat")  # (at the terminal itself it prints no credentials)
        assert '"STSENV_PROFILE": "prod-role"' in printed or '"STSENV_PROFILE":"prod-role"' in printed
        assert shell.var("STSENV_PROFILE") == "prod"


def test_prompt_counts_down_warns_and_expires(kind, world, home, sts):
    """The segment's three forms, from the variables alone (refresh turned off with STSENV_REFRESH_BEFORE=0)."""
    with Shell(kind, home, init_flags=" --prompt") as shell:
        now = int(time.time())
        shell.run(export(kind, STSENV_REFRESH_BEFORE=0, STSENV_PROFILE="dev", STSENV_IDENTITY="Ops@210987654321",
                         AWS_SESSION_EXPIRES=now + 2 * 3600 + 10 * 60 + 30))
        assert shell.prompt in ("[dev Ops@210987654321 2h10m] ", "[dev Ops@210987654321 2h09m] "), shell.prompt
        shell.run(export(kind, AWS_SESSION_EXPIRES=now + 200))
        assert shell.prompt == "[dev Ops@210987654321 expires in 3m] ", shell.prompt
        assert shell.var("STSENV_PROMPT_STATE") == "warning"
        shell.run(export(kind, STSENV_WARN_BEFORE=60))
        assert shell.prompt == "[dev Ops@210987654321 3m] ", "STSENV_WARN_BEFORE moves the warning"
        shell.run(export(kind, AWS_SESSION_EXPIRES=now - 5))
        assert shell.prompt == "[dev Ops@210987654321 expired] ", shell.prompt
        assert shell.var("STSENV_PROMPT_STATE") == "expired"
        shell.run(unset(kind, "AWS_SESSION_EXPIRES"))
        assert shell.prompt == "[dev Ops@210987654321] ", "long-lived keys have no countdown"
        assert shell.stsenv_runs() == [f"init {kind} --prompt"], "the prompt alone never runs the program"


def test_hook_refreshes_once_near_expiry(kind, world, home, sts):
    with Shell(kind, home, init_flags=" --prompt") as shell:
        use_prod(shell)
        before = shell.vars("AWS_ACCESS_KEY_ID", "AWS_SESSION_EXPIRES")
        # Credentials near their end, and a cache that no longer holds them: a refresh must ask STS.
        sts.reset_calls()
        near = int(time.time()) + 120
        shell.run(export(kind, AWS_SESSION_EXPIRES=near, STSENV_CACHE_DIR=str(home.root / "cache-2")))
        for _ in range(4):
            shell.run("true")
        assert sts.calls("AssumeRole") == 1
        assert refreshes(shell) == [f"use --refresh=prod --shell {kind}"]
        after = shell.vars("AWS_ACCESS_KEY_ID", "AWS_SESSION_EXPIRES", "STSENV_PROFILE")
        assert after["AWS_ACCESS_KEY_ID"] != before["AWS_ACCESS_KEY_ID"]
        assert int(after["AWS_SESSION_EXPIRES"]) > near + 3000
        assert after["STSENV_PROFILE"] == "prod"
        assert FRESH_PROD.match(shell.prompt), shell.prompt
        assert not any("stsenv:" in raw for _, raw in shell.transcript), shell.transcript


def test_shells_renewing_together_make_one_sts_call(kind, world, home, sts):
    """Three shells on the same profile, all near the end: each renews at its next prompt, from the shared
    cache after the first, so STS sees one call and every shell gets the same credentials."""
    shells = [Shell(kind, home) for _ in range(3)]
    try:
        for shell in shells:
            use_prod(shell)
        sts.reset_calls()
        near = int(time.time()) + 120
        for shell in shells:  # a cache that no longer holds them, as after a real hour
            shell.run(export(kind, STSENV_CACHE_DIR=str(home.root / "cache-2"), AWS_SESSION_EXPIRES=near))
        assert sts.calls("AssumeRole") == 1
        keys = {shell.var("AWS_ACCESS_KEY_ID") for shell in shells}
        assert len(keys) == 1
        assert len(refreshes(shells[0])) == 3  # the shells share the shim's log
    finally:
        for shell in shells:
            shell.close()


def test_refresh_keeps_the_exit_status(kind, world, home, sts):
    """The command's status reaches the user's prompt, behind the stsenv segment, even when the hook refreshes
    (and runs the program) in between."""
    with Shell(kind, home, init_flags=" --prompt") as shell:
        use_prod(shell)
        shell.run("sh -c 'exit 7'")
        assert shell.status == 7
        shell.run(expiring(kind, 60))
        shell.run("sh -c 'exit 5'")
        assert len(refreshes(shell)) == 1
        assert shell.status == 5
        shell.run("false")
        assert shell.status == 1


def test_failed_refresh_says_so_once_and_backs_off(kind, world, home, sts):
    with Shell(kind, home) as shell:
        use_prod(shell)
        sts.reset_calls()
        shell.run(export(kind, STSENV_REFRESH_BACKOFF=3600, AWS_ENDPOINT_URL_STS=closed_port_url(),
                         STSENV_CACHE_DIR=str(home.root / "cache-2")))
        failing = shell.run(expiring(kind))
        lines = [line for line in failing.splitlines() if line.strip()]
        assert len(lines) == 1, failing
        assert lines[0].startswith("stsenv: could not refresh prod: ")
        assert lines[0].endswith("; run `stsenv use prod` to renew")
        quiet = [shell.run("true") for _ in range(4)]
        assert not any(text.strip() for text in quiet), quiet
        assert len(refreshes(shell)) == 1, "no new attempt for the same expiry during the back-off"
        # The back-off is read at every prompt: once it is over, the next prompt tries again, and succeeds.
        shell.run(export(kind, AWS_ENDPOINT_URL_STS=sts.url))
        assert len(refreshes(shell)) == 1
        shell.run(export(kind, STSENV_REFRESH_BACKOFF=0))
        assert len(refreshes(shell)) == 2
        assert sts.calls("AssumeRole") == 1
        assert int(shell.var("AWS_SESSION_EXPIRES")) > time.time() + 3000


def test_refresh_that_needs_mfa_says_how_to_renew(kind, world, home, sts):
    serial, _secret = sts.create_virtual_mfa("alice")
    role = sts.create_role("Guarded", require_mfa=True)
    home.config.write_text(
        home.config.read_text() + f"\n[profile guarded]\nrole_arn = {role}\nsource_profile = base\nmfa_serial = {serial}\n"
    )
    with Shell(kind, home) as shell:
        # A session of `guarded` near its end, as `stsenv use guarded` (with a code) would have left it.
        told = shell.run(expiring(kind, 90, STSENV_PROFILE="guarded"))
        assert told.strip() == (
            "stsenv: could not refresh guarded: it needs an MFA code; "
            "run `stsenv use guarded` (or `stsenv login guarded`) to renew"
        ), told
        for _ in range(3):
            assert shell.run("true").strip() == ""
        assert len(refreshes(shell)) == 1
        assert sts.calls("AssumeRole") == 0 and sts.calls("GetSessionToken") == 0


def test_clear_and_previous_profile(kind, world, home, sts):
    with Shell(kind, home, init_flags=" --prompt") as shell:
        use_prod(shell)
        shell.run("stsenv use prod-role")
        assert shell.status == 0
        assert shell.prompt.startswith("[prod-role Admin@123456789012 ")
        assert shell.vars("STSENV_PROFILE", "STSENV_PREVIOUS_PROFILE") == {
            "STSENV_PROFILE": "prod-role",
            "STSENV_PREVIOUS_PROFILE": "prod",
        }
        shell.run("stsenv use -")
        assert shell.status == 0
        assert FRESH_PROD.match(shell.prompt), shell.prompt
        assert shell.vars("STSENV_PROFILE", "STSENV_PREVIOUS_PROFILE") == {
            "STSENV_PROFILE": "prod",
            "STSENV_PREVIOUS_PROFILE": "prod-role",
        }
        shell.run("stsenv use --clear")
        assert shell.status == 0
        assert shell.prompt == ""
        values = shell.vars(*CONTRACT, "STSENV_PROMPT")
        assert values.pop("STSENV_PROMPT") == ""
        assert values == dict.fromkeys(CONTRACT), values
        # A failed `use` changes nothing and returns the program's exit code.
        shell.run("stsenv use no-such-profile")
        assert shell.status == 2
        assert shell.var("STSENV_PROFILE") is None


def test_adhoc_session_is_not_refreshed_from_a_profile(kind, world, home, sts):
    """`stsenv federate` is applied like `use`; its session has no profile to refresh from, so near its end
    stsenv says so, once, and calls no STS operation."""
    with Shell(kind, home, init_flags=" --prompt") as shell:
        shell.run("stsenv federate tester --profile base --policy-arns arn:aws:iam::aws:policy/ReadOnlyAccess")
        assert shell.status == 0
        assert shell.prompt.startswith("[adhoc:tester tester@123456789012 "), shell.prompt
        sts.reset_calls()
        shell.run(expiring(kind))
        for _ in range(3):
            shell.run("true")
        told = [line for _, raw in shell.transcript for line in raw.splitlines() if "could not refresh" in line]
        assert told == [
            "stsenv: could not refresh adhoc:tester: an ad-hoc session cannot renew itself; "
            "run the `stsenv use` or `stsenv federate` that made it again"
        ], told
        assert refreshes(shell) == [f"use --refresh=adhoc:tester --shell {kind}"], "tried once in the back-off"
        assert sts.calls() == 0


def test_sourcing_twice_installs_one_hook(kind, world, home, sts):
    """Init twice (with --prompt): one segment in the prompt, and one refresh attempt per prompt when every
    prompt is allowed to try (STSENV_REFRESH_BACKOFF=0) and every attempt fails."""
    with Shell(kind, home, init_flags=" --prompt", rc_after=Shell.init_line(kind, " --prompt")) as shell:
        use_prod(shell)
        assert FRESH_PROD.match(shell.prompt), shell.prompt
        shell.run(export(kind, STSENV_REFRESH_BACKOFF=0, AWS_ENDPOINT_URL_STS=closed_port_url(),
                         STSENV_CACHE_DIR=str(home.root / "cache-2")))
        shell.run(expiring(kind))
        for _ in range(3):
            shell.run("true")
        assert len(refreshes(shell)) == 4
        told = [line for _, raw in shell.transcript for line in raw.splitlines() if "could not refresh" in line]
        assert len(told) == 1, "the failure is told once, however often it is tried"


def test_missing_program_is_one_clear_line(kind, world, home, sts):
    with Shell(kind, home) as shell:
        use_prod(shell)
        shell.run(set_path(kind, "/usr/bin", "/bin"))
        shell.run(expiring(kind))
        for _ in range(3):
            shell.run("true")
        screen = "\n".join(raw for _, raw in shell.transcript)
        told = [line for line in screen.splitlines() if "stsenv" in line and "could not refresh" in line]
        assert told == ["stsenv: could not refresh prod: no stsenv command on PATH; fix PATH, then run `stsenv use prod`"]
        assert "not found" not in screen and "Unknown command" not in screen, screen
        assert refreshes(shell) == []


def test_no_process_per_prompt_while_fresh(kind, world, home, sts):
    """Prompts with fresh credentials start no process: the page faults of the shell's reaped children
    (see Shell.reaped_children_faults) do not move across six prompts, and do move for one `/bin/true`."""
    with Shell(kind, home, init_flags=" --prompt") as shell:
        use_prod(shell)
        shell.run("true")
        before = shell.reaped_children_faults()
        for _ in range(6):
            shell.run("true")
            assert FRESH_PROD.match(shell.prompt), shell.prompt
        after = shell.reaped_children_faults()
        assert after == before, f"the prompts started processes ({after - before} page faults in children)"
        shell.run("/bin/true")
        assert shell.reaped_children_faults() > after, "the probe sees a process"
        assert refreshes(shell) == []


def test_completes_commands_flags_and_profiles(kind, world, home, sts):
    with Shell(kind, home) as shell:
        seen = shell.complete("stsenv use pr", "prod-served")
        assert "prod-role" in seen
        shell.complete("stsenv log", "logout")
        shell.complete("stsenv use prod --for", "--format")
        shell.complete("stsenv use prod --shell ", "fish")
        shell.complete("stsenv whoami --profile prod-s", "prod-served")
        assert any(line == "ls --names" for line in shell.stsenv_runs())


def test_completions_cover_the_parser(kind):
    """Every command argparse knows, and every flag of each (and of its own subcommands), is in this shell's
    completion file under that command (what the completion then offers is driven with TAB in
    completes_commands_flags_and_profiles)."""
    import argparse

    from stsenv.cli import build_parser
    from stsenv.shellfiles import COMPLETION_FILES, data_file

    text = data_file("completions", COMPLETION_FILES[kind])
    offered = completion_flags(kind, text)
    parser = build_parser()
    commands = next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction))
    missing = []
    for name, subparser in commands.choices.items():
        if not re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text):
            missing.append(name)
        nested = [action.choices.values() for action in subparser._actions if isinstance(action, argparse._SubParsersAction)]
        parsers = [subparser, *(parser for choices in nested for parser in choices)]  # `sso populate`'s flags count as sso's
        wanted = {option for parser in parsers for action in parser._actions for option in action.option_strings if option.startswith("--")}
        wanted.discard("--help")
        missing += [f"{name} {flag}" for flag in sorted(wanted - offered.get(name, set()))]
    assert missing == [], f"completions/{COMPLETION_FILES[kind]} lacks {missing}"


def test_standalone_completion_file_works(kind, world, home, sts):
    """`stsenv completion SHELL`, installed the way each shell loads completions, completes without init."""
    with Shell(kind, home, init=False, rc_after=STANDALONE_COMPLETION[kind]) as shell:
        seen = shell.complete("stsenv use pr", "prod-served")
        assert "prod-role" in seen
        shell.complete("stsenv init ", "fish")
        said = shell.run("stsenv use prod")  # no integration: `use` says how to apply it, and prints no credentials
        assert said.startswith("stsenv: not printing credentials to a terminal") and "ASIA" not in said, said


# bash and zsh: how a user turns nounset on, what the shell says on an unset variable, a check that it is still on.
NOUNSET = {
    "bash": ("set -u\n", "unbound variable", "[[ $- == *u* ]] && echo still-on"),
    "zsh": ("setopt nounset\n", "parameter not set", "[[ -o nounset ]] && print still-on"),
}


@pytest.mark.parametrize("kind", list(NOUNSET))
def test_nounset_breaks_nothing(kind, world, home, sts):
    """nounset from the start: init (twice), use, the prompt, a refresh, a failed refresh, `use -`, clear."""
    turn_on, complaint, still_on = NOUNSET[kind]
    with Shell(kind, home, rc_before=turn_on, init_flags=" --prompt", rc_after=Shell.init_line(kind, " --prompt")) as shell:
        assert shell.run("stsenv use prod") == ""
        shell.run(expiring(kind, STSENV_CACHE_DIR=str(home.root / "cache-2")))
        assert FRESH_PROD.match(shell.prompt), shell.prompt
        shell.run(export(kind, AWS_ENDPOINT_URL_STS=closed_port_url(), STSENV_CACHE_DIR=str(home.root / "cache-3")))
        shell.run(expiring(kind))
        shell.run(export(kind, AWS_ENDPOINT_URL_STS=sts.url) + "; stsenv use prod-role; stsenv use -; stsenv use --clear")
        assert shell.status == 0 and shell.prompt == ""
        shell.run("stsenv_prompt; stsenv_enable_prompt")
        screen = "\n".join(raw for _, raw in shell.transcript)
        assert complaint not in screen, screen
        assert len(refreshes(shell)) == 2
        assert shell.run(still_on).strip() == "still-on", "nounset is still on"


# bash and zsh: the line that takes stsenv's hook out again, and where doctor says it was.
HOOK_TAKEN_OUT = {"bash": ("PROMPT_COMMAND='true'\n", "PROMPT_COMMAND"), "zsh": ("precmd_functions=()\n", "precmd_functions")}


@pytest.mark.parametrize("kind", list(HOOK_TAKEN_OUT))
def test_doctor_says_once_when_the_hook_was_taken_out(kind, world, home, sts):
    taken_out, where = HOOK_TAKEN_OUT[kind]
    with Shell(kind, home, rc_after=taken_out) as shell:
        first = shell.run("stsenv use prod")
        assert re.search(rf"the refresh hook is no longer in {where}", first), first
        assert shell.run("stsenv use prod-role") == ""


# bash and zsh: what lets aliases expand in a script, and the builtins and programs the script calls.
# (`eval` itself is out of reach: the init line runs it.)
ALIASED = {
    "bash": ("shopt -s expand_aliases\n", ("printf", "type", "command", "local", "return", "declare", "unalias", "shift")),
    "zsh": ("", ("printf", "print", "whence", "command", "local", "return", "emulate", "unalias", "shift", "zmodload")),
}


@pytest.mark.parametrize("kind", list(ALIASED))
def test_user_aliases_do_not_break_it(kind, world, home, sts):
    """Aliases named like the builtins and programs the script calls (`\\builtin`, `\\command`) change nothing."""
    enable, names = ALIASED[kind]
    aliases = "".join(f"alias {name}='echo ALIASED'\n" for name in names)
    with Shell(kind, home, rc_before=enable + aliases, init_flags=" --prompt") as shell:
        assert shell.run("stsenv use prod") == ""
        assert FRESH_PROD.match(shell.prompt), shell.prompt
        shell.run(expiring(kind, STSENV_CACHE_DIR=str(home.root / "cache-2")))
        assert FRESH_PROD.match(shell.prompt), shell.prompt
        assert len(refreshes(shell)) == 1
        screen = "\n".join(raw for _, raw in shell.transcript)
        assert "ALIASED" not in screen, screen

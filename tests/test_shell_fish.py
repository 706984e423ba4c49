"""stsenv's fish integration in a real interactive fish (pexpect), against the local STS.

The behaviours every shell shares are written once in shellcases.py; the ones below them are fish's own."""

import time

import shellcases
from shellcases import FRESH_PROD, refreshes
from shellkit import Shell, export

KIND = "fish"


def test_use_sets_the_contract_and_the_prompt(world, home, sts):
    shellcases.use_sets_the_contract_and_the_prompt(KIND, home, sts)


def test_prompt_counts_down_warns_and_expires(world, home, sts):
    shellcases.prompt_counts_down_warns_and_expires(KIND, home, sts)


def test_hook_refreshes_once_near_expiry(world, home, sts):
    shellcases.hook_refreshes_once_near_expiry(KIND, home, sts)


def test_shells_renewing_together_make_one_sts_call(world, home, sts):
    shellcases.shells_renewing_together_make_one_sts_call(KIND, home, sts)


def test_refresh_keeps_the_exit_status(world, home, sts):
    shellcases.refresh_keeps_the_exit_status(KIND, home, sts)


def test_failed_refresh_says_so_once_and_backs_off(world, home, sts):
    shellcases.failed_refresh_says_so_once_and_backs_off(KIND, home, sts)


def test_refresh_that_needs_mfa_says_how_to_renew(world, home, sts):
    shellcases.refresh_that_needs_mfa_says_how_to_renew(KIND, home, sts)


def test_clear_and_previous_profile(world, home, sts):
    shellcases.clear_and_previous_profile(KIND, home, sts)


def test_adhoc_session_is_not_refreshed_from_a_profile(world, home, sts):
    shellcases.adhoc_session_is_not_refreshed_from_a_profile(KIND, home, sts)


def test_sourcing_twice_installs_one_hook(world, home, sts):
    shellcases.sourcing_twice_installs_one_hook(KIND, home, sts)


def test_missing_program_is_one_clear_line(world, home, sts):
    shellcases.missing_program_is_one_clear_line(KIND, home, sts)


def test_no_process_per_prompt_while_fresh(world, home, sts):
    shellcases.no_process_per_prompt_while_fresh(KIND, home, sts)


def test_completes_commands_flags_and_profiles(world, home, sts):
    shellcases.completes_commands_flags_and_profiles(KIND, home, sts)


def test_standalone_completion_file_works(world, home, sts):
    shellcases.standalone_completion_file_works(KIND, home, sts)


def test_completions_cover_the_parser():
    shellcases.completions_cover_the_parser(KIND)


# -- fish alone ------------------------------------------------------------------------------------------


USER_HANDLER = """set -g __runs 0
function __user_handler --on-event fish_prompt
    set -g __seen $status
    set -g __runs (math $__runs + 1)
end
"""


def test_other_fish_prompt_handlers_still_run_and_see_the_status(world, home, sts):
    shell = Shell(KIND, home, rc_before=USER_HANDLER, init_flags=" --prompt")
    try:
        shell.run("stsenv use prod")
        shell.run(export(KIND, AWS_SESSION_EXPIRES=int(time.time()) + 100) + "; sh -c 'exit 7'")
        assert len(refreshes(shell)) == 1
        assert shell.status == 7
        assert shell.var("__seen") == "7"
        runs = int(shell.var("__runs"))
        shell.run("true")
        assert int(shell.var("__runs")) == runs + 2
        assert FRESH_PROD.match(shell.prompt), shell.prompt
    finally:
        shell.close()


def test_sourcing_twice_leaves_one_handler_and_one_prompt_wrapper(world, home, sts):
    shell = Shell(KIND, home, init_flags=" --prompt", rc_after=Shell.init_line(KIND, " --prompt"))
    try:
        handlers = shell.run("functions --handlers-type generic")
        assert [line for line in handlers.splitlines() if "__stsenv" in line] == ["fish_prompt __stsenv_hook"]
        shell.run("stsenv use prod")
        assert FRESH_PROD.match(shell.prompt), shell.prompt
        kept = shell.run("functions __stsenv_user_fish_prompt")
        assert "@P@" in kept and "STSENV_PROMPT" not in kept, "the user's prompt is kept, not a wrapper of a wrapper"
    finally:
        shell.close()

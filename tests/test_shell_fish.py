"""stsenv's fish integration in a real interactive fish (pexpect), against the local STS.

The behaviours every shell shares are in test_shell_shared.py; these are fish's own."""

from shellcases import FRESH_PROD, expiring, refreshes
from shellkit import Shell

KIND = "fish"


USER_HANDLER = """set -g __runs 0
function __user_handler --on-event fish_prompt
    set -g __seen $status
    set -g __runs (math $__runs + 1)
end
"""


def test_other_fish_prompt_handlers_still_run_and_see_the_status(world, home, sts):
    with Shell(KIND, home, rc_before=USER_HANDLER, init_flags=" --prompt") as shell:
        shell.run("stsenv use prod")
        shell.run(expiring(KIND) + "; sh -c 'exit 7'")
        assert len(refreshes(shell)) == 1
        assert shell.status == 7
        assert shell.var("__seen") == "7"
        runs = int(shell.var("__runs"))
        shell.run("true")
        assert int(shell.var("__runs")) == runs + 2
        assert FRESH_PROD.match(shell.prompt), shell.prompt


def test_sourcing_twice_leaves_one_handler_and_one_prompt_wrapper(world, home, sts):
    with Shell(KIND, home, init_flags=" --prompt", rc_after=Shell.init_line(KIND, " --prompt")) as shell:
        handlers = shell.run("functions --handlers-type generic")
        assert [line for line in handlers.splitlines() if "__stsenv" in line] == ["fish_prompt __stsenv_hook"]
        shell.run("stsenv use prod")
        assert FRESH_PROD.match(shell.prompt), shell.prompt
        kept = shell.run("functions __stsenv_user_fish_prompt")
        assert "@P@" in kept and "STSENV_PROMPT" not in kept, "the user's prompt is kept, not a wrapper of a wrapper"

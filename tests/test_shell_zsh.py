"""stsenv's zsh integration in a real interactive zsh (pexpect), against the local STS.

The behaviours every shell shares are in test_shell_shared.py; these are zsh's own."""

from shellcases import expiring, refreshes
from shellkit import Shell

KIND = "zsh"


USER_HOOKS = (
    "precmd() { __seen_precmd=$? }\n"
    "__user_first() { __seen_first=$?; (( ++__runs )) }\n"
    "__user_last() { __seen_last=$? }\n"
    "typeset -gi __runs=0\n"
    "precmd_functions+=(__user_first)\n"
)


def test_existing_precmd_functions_still_run_and_see_the_status(world, home, sts):
    with Shell(KIND, home, rc_before=USER_HOOKS, rc_after="precmd_functions+=(__user_last)\n" + Shell.init_line(KIND)) as shell:
        assert shell.run("print -r -- ${(j:,:)precmd_functions}").strip() == "__user_first,__stsenv_hook,__user_last"
        shell.run("stsenv use prod")
        shell.run(expiring(KIND) + "; sh -c 'exit 7'")  # the hook refreshes at this prompt
        assert len(refreshes(shell)) == 1
        assert shell.status == 7
        assert shell.vars("__seen_precmd", "__seen_first", "__seen_last") == {
            "__seen_precmd": "7", "__seen_first": "7", "__seen_last": "7"
        }
        runs = int(shell.var("__runs"))
        shell.run("true")
        assert int(shell.var("__runs")) == runs + 2

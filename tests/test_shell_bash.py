"""stsenv's bash integration in a real interactive bash (pexpect), against the local STS.

The behaviours every shell shares are in test_shell_shared.py; these are bash's own."""

from shellcases import expiring, refreshes
from shellkit import Shell, install_shim

KIND = "bash"


# A user's PROMPT_COMMAND functions that record $? and, as they should, hand it on; one counts prompts.
USER_HOOKS = (
    '__user_first() { local s=$?; __seen_first=$s; __runs=$((${__runs:-0} + 1)); return "$s"; }\n'
    '__user_last() { local s=$?; __seen_last=$s; return "$s"; }\n'
)


def test_existing_prompt_command_string_still_runs_and_sees_the_status(world, home, sts):
    before = USER_HOOKS + "PROMPT_COMMAND='__user_first;  '\n"
    after = "PROMPT_COMMAND+=';__user_last'\n"
    with Shell(KIND, home, rc_before=before, rc_after=after) as shell:
        shell.run("stsenv use prod")
        shell.run(expiring(KIND) + "; sh -c 'exit 7'")  # the hook refreshes at this prompt, between the two
        assert len(refreshes(shell)) == 1
        assert shell.status == 7
        values = shell.vars("__seen_first", "__seen_last", "__runs", "PROMPT_COMMAND")
        assert values["__seen_first"] == values["__seen_last"] == "7"
        assert values["PROMPT_COMMAND"] == "__user_first;__stsenv_hook;__user_last"
        runs = int(values["__runs"])
        shell.run("true")
        assert int(shell.var("__runs")) == runs + 2  # this prompt and the one after reading __runs


def test_prompt_command_array_keeps_its_entries(world, home, sts):
    """bash 5.1 runs each element of an array PROMPT_COMMAND; the hook is added as one more element."""
    before = USER_HOOKS + "PROMPT_COMMAND=('__user_first')\n"
    after = "PROMPT_COMMAND+=('__user_last')\n"
    with Shell(KIND, home, rc_before=before, rc_after=after + Shell.init_line(KIND)) as shell:
        output = shell.run("declare -p PROMPT_COMMAND")
        assert output.strip() == 'declare -a PROMPT_COMMAND=([0]="__user_first" [1]="__stsenv_hook" [2]="__user_last")', output
        shell.run("stsenv use prod")
        shell.run(expiring(KIND) + "; sh -c 'exit 9'")
        assert len(refreshes(shell)) == 1
        assert shell.status == 9
        assert shell.vars("__seen_first", "__seen_last") == {"__seen_first": "9", "__seen_last": "9"}
        assert int(shell.var("__runs")) >= 4


STARSHIP_LIKE = r"""
# What `eval "$(starship init bash)"` does to PROMPT_COMMAND: it keeps what it finds, runs it from its own
# hook first, then draws the prompt with the starship program (which reads the exported AWS_* variables).
starship_precmd() {
    local status=$?
    eval "$_PRESERVED_PROMPT_COMMAND"
    PS1="$(starship prompt --status="$status")"
}
_PRESERVED_PROMPT_COMMAND=$PROMPT_COMMAND
PROMPT_COMMAND=starship_precmd
"""


def test_runs_before_a_starship_style_prompt_that_takes_over(world, home, sts):
    shims, _ = install_shim(home)
    starship = shims / "starship"  # prints what starship's aws module would read, and the status marker
    starship.write_text(
        "#!/bin/sh\nprintf 'aws:%s:%s @P@%s@ ' \"${AWS_ACCESS_KEY_ID:-}\" \"${AWS_CREDENTIAL_EXPIRATION:-none}\" \"${2#--status=}\"\n"
    )
    starship.chmod(0o755)
    with Shell(KIND, home, rc_after=STARSHIP_LIKE) as shell:
        shell.run("true")
        assert shell.prompt == "aws::none "
        shell.run("stsenv use prod")
        first = shell.vars("AWS_ACCESS_KEY_ID", "AWS_CREDENTIAL_EXPIRATION")
        assert shell.prompt == "aws:{AWS_ACCESS_KEY_ID}:{AWS_CREDENTIAL_EXPIRATION} ".format(**first)
        shell.run(expiring(KIND, STSENV_CACHE_DIR=str(home.root / "cache-2")) + "; sh -c 'exit 4'")
        drawn = shell.prompt
        assert shell.status == 4
        assert len(refreshes(shell)) == 1
        second = shell.vars("AWS_ACCESS_KEY_ID", "AWS_CREDENTIAL_EXPIRATION")
        assert second["AWS_ACCESS_KEY_ID"] != first["AWS_ACCESS_KEY_ID"]
        assert drawn == "aws:{AWS_ACCESS_KEY_ID}:{AWS_CREDENTIAL_EXPIRATION} ".format(**second), (
            "the prompt drawn right after the refresh shows the new credentials"
        )

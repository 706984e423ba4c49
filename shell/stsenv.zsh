# stsenv for zsh, printed by `stsenv init zsh` (the line for ~/.zshrc is at the end).
#
# It reads only the variables `stsenv use` exports (STSENV_PROFILE, STSENV_IDENTITY, AWS_SESSION_EXPIRES)
# and runs the stsenv program only when credentials are about to expire: while they are fresh, a prompt
# costs no process at all.
#
# Settings, read before every prompt (so they can be changed in a running shell):
#   STSENV_REFRESH_BEFORE   refresh when fewer seconds than this are left (default 600; 0 turns refresh off)
#   STSENV_REFRESH_BACKOFF  after a refresh that did not help, wait this many seconds before the next (default 60)
#   STSENV_REFRESH_TIMEOUT  a refresh gives up after this many seconds and the prompt comes back (default 5)
#   STSENV_WARN_BEFORE      the prompt segment says `expires in ...` below this many seconds (default 300)

# =============================================================================
# Utilities: each sets a variable instead of printing, so that no `$(...)` forks.
#

# $EPOCHSECONDS without a process.
\builtin zmodload -F zsh/datetime p:EPOCHSECONDS 2>/dev/null || \builtin zmodload zsh/datetime 2>/dev/null

# __stsenv_clock: the epoch second ($EPOCHSECONDS; `date` only if zsh/datetime is missing).
function __stsenv_now() {
    \builtin emulate -L zsh
    if [[ ${EPOCHSECONDS-} == <-> ]]; then
        typeset -g __stsenv_clock=${EPOCHSECONDS}
    else
        typeset -g __stsenv_clock="$(\command date +%s)"
    fi
}

# __stsenv_value: the setting named $1 when it is a whole number, else the default $2.
function __stsenv_setting() {
    \builtin emulate -L zsh
    typeset -g __stsenv_value=${(P)1-}
    [[ ${__stsenv_value} == <-> ]] || __stsenv_value=$2
}

# __stsenv_left: seconds until AWS_SESSION_EXPIRES; fails when there is no expiry to count down to.
function __stsenv_time_left() {
    \builtin emulate -L zsh
    [[ -n ${STSENV_PROFILE-} && ${AWS_SESSION_EXPIRES-} == <-> ]] || \builtin return 1
    typeset -g __stsenv_left=$((AWS_SESSION_EXPIRES - __stsenv_clock))
}

# __stsenv_text: a duration for the prompt: `1h05m`, `47m`, `42s`.
function __stsenv_duration() {
    \builtin emulate -L zsh
    if (($1 >= 3600)); then
        \builtin local minutes=$(($1 % 3600 / 60))
        typeset -g __stsenv_text="$(($1 / 3600))h${(l:2::0:)minutes}m"
    elif (($1 >= 60)); then
        typeset -g __stsenv_text="$(($1 / 60))m"
    else
        typeset -g __stsenv_text="$1s"
    fi
}

# =============================================================================
# The prompt segment: `[prod Admin@123456789012 47m]`, `[... expires in 4m]`, `[... expired]`.
#

# Sets STSENV_PROMPT (empty without a profile) and STSENV_PROMPT_STATE (none, fresh, warning or expired).
function __stsenv_render() {
    \builtin emulate -L zsh
    typeset -g STSENV_PROMPT='' STSENV_PROMPT_STATE='none'
    [[ -n ${STSENV_PROFILE-} ]] || \builtin return 0
    \builtin local segment=${STSENV_PROFILE}
    if [[ -n ${STSENV_IDENTITY-} && ${STSENV_IDENTITY} != "${STSENV_PROFILE}" ]]; then
        segment+=" ${STSENV_IDENTITY}"
    fi
    STSENV_PROMPT_STATE='fresh'
    if __stsenv_time_left; then
        __stsenv_setting STSENV_WARN_BEFORE 300
        if ((__stsenv_left <= 0)); then
            STSENV_PROMPT_STATE='expired'
            segment+=' expired'
        else
            __stsenv_duration ${__stsenv_left}
            if ((__stsenv_left < __stsenv_value)); then
                STSENV_PROMPT_STATE='warning'
                segment+=" expires in ${__stsenv_text}"
            else
                segment+=" ${__stsenv_text}"
            fi
        fi
    fi
    STSENV_PROMPT="[${segment}]"
}

# Prints the segment, for prompts built from functions. `$(stsenv_prompt)` forks: prefer $STSENV_PROMPT.
function stsenv_prompt() {
    \builtin emulate -L zsh
    __stsenv_now
    __stsenv_render
    [[ -z ${STSENV_PROMPT} ]] || \builtin print -rn -- "${STSENV_PROMPT}"
}

# Puts the segment in front of PROMPT (once); `stsenv init zsh --prompt` calls it. It sets prompt_subst,
# as most zsh themes do, so that the prompt reads the variable each time it is drawn.
function stsenv_enable_prompt() {
    [[ ${PROMPT-} == *STSENV_PROMPT* ]] && \builtin return 0
    \builtin setopt prompt_subst
    PROMPT='${STSENV_PROMPT:+${STSENV_PROMPT} }'"${PROMPT-}"
}

# =============================================================================
# Refresh: before each prompt, when less than STSENV_REFRESH_BEFORE seconds are left.
#

# __stsenv_block: what `stsenv use --refresh=PROFILE` printed for profile $1, with its exit code. stderr is left
# as it is: stsenv's one line, if it has one, goes where the caller sends it (the terminal, or nowhere).
# STSENV_REFRESH_TIMEOUT reaches stsenv even when it is a shell variable that is not exported.
function __stsenv_fetch() {
    \builtin emulate -L zsh
    typeset -g __stsenv_block
    __stsenv_block="$(STSENV_REFRESH_TIMEOUT=${STSENV_REFRESH_TIMEOUT-} \command stsenv use --refresh="$1" --shell zsh)"
}

# Marks the profile and expiry in the shell now as tried at __stsenv_clock: the back-off counts from here.
function __stsenv_mark_tried() {
    \builtin emulate -L zsh
    typeset -g __stsenv_tried="${STSENV_PROFILE-}:${AWS_SESSION_EXPIRES-}" __stsenv_tried_at=${__stsenv_clock}
}

# Renews STSENV_PROFILE: applies stsenv's block on exit 0 only (stdout alone is evaluated). On failure stsenv
# says why in one line on stderr, shown once per profile and expiry. The attempt is marked before it starts, so
# that Ctrl-C, which ends this function, still counts as a failure for the back-off.
function __stsenv_refresh() {
    \builtin emulate -L zsh
    \builtin local profile=${STSENV_PROFILE} expires=${AWS_SESSION_EXPIRES}
    \builtin local -i code=0
    __stsenv_mark_tried
    if ! \builtin whence -p stsenv &>/dev/null; then
        code=127
        [[ ${__stsenv_told-} == "${profile}:${expires}" ]] ||
            \builtin print -r -- "stsenv: could not refresh ${profile}: no stsenv command on PATH; fix PATH, then run \`stsenv use ${profile}\`" >&2
    elif [[ ${__stsenv_told-} == "${profile}:${expires}" ]]; then
        __stsenv_fetch "${profile}" 2>/dev/null || code=$?
    else
        __stsenv_fetch "${profile}" || code=$?
    fi
    if ((code == 0)); then
        \builtin eval "${__stsenv_block}"
    else
        typeset -g __stsenv_told="${profile}:${expires}"
    fi
    __stsenv_block=''
    __stsenv_now
    __stsenv_mark_tried
}

# Refreshes when the credentials are near their end and no back-off is running.
function __stsenv_maybe_refresh() {
    \builtin emulate -L zsh
    __stsenv_time_left || \builtin return 0
    __stsenv_setting STSENV_REFRESH_BEFORE 600
    ((__stsenv_value > 0 && __stsenv_left < __stsenv_value)) || \builtin return 0
    __stsenv_setting STSENV_REFRESH_BACKOFF 60
    if [[ ${__stsenv_tried-} == "${STSENV_PROFILE}:${AWS_SESSION_EXPIRES}" ]] &&
        ((__stsenv_clock - ${__stsenv_tried_at:-0} < __stsenv_value)); then
        \builtin return 0
    fi
    __stsenv_refresh
}

# =============================================================================
# Hook configuration: a precmd function, added once; keeps `$?`.
#

function __stsenv_hook() {
    \builtin local -r retval="$?"
    \builtin emulate -L zsh
    __stsenv_now
    __stsenv_maybe_refresh
    __stsenv_render
    \builtin return "${retval}"
}

\builtin autoload -Uz add-zsh-hook
add-zsh-hook precmd __stsenv_hook

# Says once, in plain words, when something took the hook out of precmd_functions after `stsenv init zsh`.
function __stsenv_doctor() {
    \builtin emulate -L zsh
    [[ ${__stsenv_doctor_done-} == 1 ]] && \builtin return 0
    ((${precmd_functions[(Ie)__stsenv_hook]})) && \builtin return 0
    typeset -g __stsenv_doctor_done=1
    \builtin print -r -- 'stsenv: the refresh hook is no longer in precmd_functions, so credentials will not renew themselves.' \
        'stsenv: put `eval "$(stsenv init zsh)"` after whatever resets precmd_functions in ~/.zshrc.' >&2
}

# =============================================================================
# The command: `stsenv use ...` (and `federate`) changes this shell; everything else goes straight to the
# program, told by STSENV_SHELL_INTEGRATION that it runs from here (`stsenv doctor` reports it).
#

# Succeeds when `use` or `federate` with these arguments prints a block for this shell (not json, dotenv,
# another shell, help).
function __stsenv_applies() {
    \builtin emulate -L zsh
    while (($#)); do
        case $1 in
        -h | --help | --shell | --shell=*) \builtin return 1 ;;
        --format) [[ ${2-} == shell ]] || \builtin return 1 ;;
        --format=*) [[ $1 == --format=shell ]] || \builtin return 1 ;;
        esac
        \builtin shift
    done
}

function __stsenv_use() {
    \builtin local block
    block="$(STSENV_SHELL_INTEGRATION=zsh \command stsenv "$@" --shell zsh)" || \builtin return
    \builtin eval "${block}"
    typeset -g __stsenv_tried='' __stsenv_told=''
    __stsenv_now
    __stsenv_render
    __stsenv_doctor
}

\builtin unalias stsenv &>/dev/null || \builtin true
function stsenv() {
    if [[ ${1-} == use || ${1-} == federate ]] && __stsenv_applies "${@:2}"; then
        __stsenv_use "$@"
    else
        STSENV_SHELL_INTEGRATION=zsh \command stsenv "$@"
    fi
}

# The segment for the first prompt, before the hook has run.
typeset -g STSENV_PROMPT='' STSENV_PROMPT_STATE='none'
__stsenv_now
__stsenv_render

# =============================================================================
# To put stsenv in your shell, add this to ~/.zshrc (after `compinit`, so that completion is registered):
#
# eval "$(stsenv init zsh)"

# shellcheck shell=bash
# stsenv for bash, printed by `stsenv init bash` (the line for ~/.bashrc is at the end).
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

# __stsenv_clock: the epoch second, from $EPOCHSECONDS (bash 5) or printf's %(...)T (bash 4.2).
function __stsenv_now() {
    if [[ ${EPOCHSECONDS-} =~ ^[0-9]+$ ]]; then
        __stsenv_clock=${EPOCHSECONDS}
    else
        \builtin printf -v __stsenv_clock '%(%s)T' -1
    fi
}

# __stsenv_value: the setting named $1 when it is a whole number, else the default $2.
function __stsenv_setting() {
    __stsenv_value=${!1-}
    [[ ${__stsenv_value} =~ ^[0-9]+$ ]] || __stsenv_value=$2
}

# __stsenv_left: seconds until AWS_SESSION_EXPIRES; fails when there is no expiry to count down to.
function __stsenv_time_left() {
    [[ -n ${STSENV_PROFILE-} && ${AWS_SESSION_EXPIRES-} =~ ^[0-9]+$ ]] || \builtin return 1
    __stsenv_left=$((AWS_SESSION_EXPIRES - __stsenv_clock))
}

# =============================================================================
# The prompt segment: `[prod Admin@123456789012 47m]`, `[... expires in 4m]`, `[... expired]`.
#

# __stsenv_text: a duration for the prompt: `1h05m`, `47m`, `42s`.
function __stsenv_duration() {
    if (($1 >= 3600)); then
        \builtin printf -v __stsenv_text '%dh%02dm' $(($1 / 3600)) $(($1 % 3600 / 60))
    elif (($1 >= 60)); then
        __stsenv_text="$(($1 / 60))m"
    else
        __stsenv_text="$1s"
    fi
}

# Sets STSENV_PROMPT (empty without a profile) and STSENV_PROMPT_STATE (none, fresh, warning or expired).
function __stsenv_render() {
    STSENV_PROMPT=''
    STSENV_PROMPT_STATE='none'
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
            __stsenv_duration "${__stsenv_left}"
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
    __stsenv_now
    __stsenv_render
    [[ -z ${STSENV_PROMPT} ]] || \builtin printf '%s' "${STSENV_PROMPT}"
}

# Puts the segment in front of PS1 (once); `stsenv init bash --prompt` calls it.
function stsenv_enable_prompt() {
    [[ ${PS1-} == *STSENV_PROMPT* ]] && \builtin return 0
    # shellcheck disable=SC2016 # expanded when the prompt is drawn (promptvars)
    PS1='${STSENV_PROMPT:+${STSENV_PROMPT} }'"${PS1-}"
}

# =============================================================================
# Refresh: before each prompt, when less than STSENV_REFRESH_BEFORE seconds are left.
#

# __stsenv_block: what `stsenv use --refresh=PROFILE` printed for profile $1, with its exit code. stderr is left
# as it is: stsenv's one line, if it has one, goes where the caller sends it (the terminal, or nowhere).
# STSENV_REFRESH_TIMEOUT reaches stsenv even when it is a shell variable that is not exported.
function __stsenv_fetch() {
    __stsenv_block="$(STSENV_REFRESH_TIMEOUT=${STSENV_REFRESH_TIMEOUT-} \command stsenv use --refresh="$1" --shell bash)"
}

# Marks the profile and expiry in the shell now as tried at __stsenv_clock: the back-off counts from here.
function __stsenv_mark_tried() {
    __stsenv_tried="${STSENV_PROFILE-}:${AWS_SESSION_EXPIRES-}"
    __stsenv_tried_at=${__stsenv_clock}
}

# Renews STSENV_PROFILE: applies stsenv's block on exit 0 only (stdout alone is evaluated). On failure stsenv
# says why in one line on stderr, shown once per profile and expiry. The attempt is marked before it starts, so
# that Ctrl-C, which ends this function, still counts as a failure for the back-off.
function __stsenv_refresh() {
    \builtin local profile=${STSENV_PROFILE} expires=${AWS_SESSION_EXPIRES} code=0
    __stsenv_mark_tried
    if ! \builtin type -P stsenv &>/dev/null; then
        code=127
        # shellcheck disable=SC2016 # the backquotes are words for the user, not commands
        [[ ${__stsenv_told-} == "${profile}:${expires}" ]] ||
            \builtin printf 'stsenv: could not refresh %s: no stsenv command on PATH; fix PATH, then run `stsenv use %s`\n' \
                "${profile}" "${profile}" >&2
    elif [[ ${__stsenv_told-} == "${profile}:${expires}" ]]; then
        __stsenv_fetch "${profile}" 2>/dev/null || code=$?
    else
        __stsenv_fetch "${profile}" || code=$?
    fi
    if ((code == 0)); then
        \builtin eval "${__stsenv_block}"
    else
        __stsenv_told="${profile}:${expires}"
    fi
    __stsenv_block=''
    __stsenv_now
    __stsenv_mark_tried
}

# Refreshes when the credentials are near their end and no back-off is running.
function __stsenv_maybe_refresh() {
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
# Hook configuration: runs before each prompt, keeps `$?` for whatever runs after it.
#

function __stsenv_hook() {
    \builtin local -r retval="$?"
    __stsenv_now
    __stsenv_maybe_refresh
    __stsenv_render
    \builtin return "${retval}"
}

# Install once, into PROMPT_COMMAND as a string or as an array (bash 5.1+). Put `stsenv init` before
# `starship init`: starship keeps the PROMPT_COMMAND it finds and runs it before it draws the prompt.
if [[ ${PROMPT_COMMAND[*]-} != *__stsenv_hook* ]]; then
    if [[ "$(\builtin declare -p PROMPT_COMMAND 2>/dev/null)" == 'declare -a'* ]]; then
        PROMPT_COMMAND=("${PROMPT_COMMAND[@]}" __stsenv_hook)
    else
        # shellcheck disable=SC2128,SC2178 # PROMPT_COMMAND is a string here
        PROMPT_COMMAND="${PROMPT_COMMAND-}"
        # shellcheck disable=SC2128,SC2178
        PROMPT_COMMAND="${PROMPT_COMMAND%"${PROMPT_COMMAND##*[![:space:];]}"}"
        # shellcheck disable=SC2128,SC2178
        PROMPT_COMMAND="${PROMPT_COMMAND:+${PROMPT_COMMAND};}__stsenv_hook"
    fi
fi

# Says once, in plain words, when something took the hook out of PROMPT_COMMAND after `stsenv init bash`.
function __stsenv_doctor() {
    [[ ${__stsenv_doctor_done-} == 1 ]] && \builtin return 0
    # shellcheck disable=SC2199 # a match anywhere in the array is what is meant
    [[ ${PROMPT_COMMAND[@]-} == *__stsenv_hook* ]] && \builtin return 0
    [[ ${_PRESERVED_PROMPT_COMMAND-} == *__stsenv_hook* ]] && \builtin return 0   # kept by starship
    # shellcheck disable=SC2199
    [[ ${__vsc_original_prompt_command[@]-} == *__stsenv_hook* ]] && \builtin return 0   # kept by VS Code
    __stsenv_doctor_done=1
    # shellcheck disable=SC2016 # the backquotes are words for the user, not commands
    \builtin printf '%s\n' \
        'stsenv: the refresh hook is no longer in PROMPT_COMMAND, so credentials will not renew themselves.' \
        'stsenv: put `eval "$(stsenv init bash)"` after whatever sets PROMPT_COMMAND in ~/.bashrc (but before `starship init`).' >&2
}

# =============================================================================
# The command: `stsenv use ...` (and `federate`) changes this shell; everything else goes straight to the
# program, told by STSENV_SHELL_INTEGRATION that it runs from here (`stsenv doctor` reports it).
#

# Succeeds when `use` or `federate` with these arguments prints a block for this shell (not json, dotenv,
# another shell, help).
function __stsenv_applies() {
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
    block="$(STSENV_SHELL_INTEGRATION=bash \command stsenv "$@" --shell bash)" || \builtin return
    \builtin eval "${block}"
    __stsenv_tried='' __stsenv_told=''
    __stsenv_now
    __stsenv_render
    __stsenv_doctor
}

\builtin unalias stsenv &>/dev/null || \builtin true
function stsenv() {
    if [[ ${1-} == use || ${1-} == federate ]] && __stsenv_applies "${@:2}"; then
        __stsenv_use "$@"
    else
        STSENV_SHELL_INTEGRATION=bash \command stsenv "$@"
    fi
}

# The segment for the first prompt, before the hook has run.
STSENV_PROMPT=''
# shellcheck disable=SC2034 # read by the user's prompt
STSENV_PROMPT_STATE='none'
__stsenv_now
__stsenv_render

# =============================================================================
# To put stsenv in your shell, add this to ~/.bashrc (before `eval "$(starship init bash)"`, if you use it):
#
# eval "$(stsenv init bash)"

# stsenv for fish, printed by `stsenv init fish` (the line for ~/.config/fish/config.fish is at the end).
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
# Utilities: each sets a global (as the bash and zsh scripts do) rather than printing for `(...)`: a
# command substitution costs more than the function it runs, and the prompt path is made of them.
#

# __stsenv_clock: the epoch second. fish has no $EPOCHSECONDS; since fish 3.5 a file's mtime plus the
# seconds since that mtime is the clock, from builtins alone. The fish binary is a file that does not change
# under us.
set -g __stsenv_clock_file (status fish-path)
if builtin -q path; and test -n "$__stsenv_clock_file"
    function __stsenv_now
        set -g __stsenv_clock (math -s0 (path mtime -- $__stsenv_clock_file) + (path mtime --relative -- $__stsenv_clock_file))
    end
else
    function __stsenv_now
        set -g __stsenv_clock (command date +%s)
    end
end

# __stsenv_value: the setting named $argv[1] when it is a whole number, else the default $argv[2].
function __stsenv_setting
    set -g __stsenv_value $argv[2]
    string match -qr '^[0-9]+$' -- "$$argv[1]"; and set -g __stsenv_value $$argv[1]
end

# __stsenv_left: seconds until AWS_SESSION_EXPIRES at __stsenv_clock; fails when there is no expiry.
function __stsenv_time_left
    set -q STSENV_PROFILE[1]; and test -n "$STSENV_PROFILE"; or return 1
    string match -qr '^[0-9]+$' -- "$AWS_SESSION_EXPIRES"; or return 1
    set -g __stsenv_left (math -s0 $AWS_SESSION_EXPIRES - $__stsenv_clock)
end

# A duration for the prompt: `1h05m`, `47m`, `42s`.
function __stsenv_duration
    if test $argv[1] -ge 3600
        printf '%dh%02dm' (math -s0 "floor($argv[1] / 3600)") (math -s0 "floor($argv[1] % 3600 / 60)")
    else if test $argv[1] -ge 60
        printf '%dm' (math -s0 "floor($argv[1] / 60)")
    else
        printf '%ds' $argv[1]
    end
end

# =============================================================================
# The prompt segment: `[prod Admin@123456789012 47m]`, `[... expires in 4m]`, `[... expired]`.
#

# Sets STSENV_PROMPT (empty without a profile) and STSENV_PROMPT_STATE (none, fresh, warning or expired),
# at __stsenv_clock.
function __stsenv_render
    set -g STSENV_PROMPT ''
    set -g STSENV_PROMPT_STATE none
    set -q STSENV_PROFILE[1]; and test -n "$STSENV_PROFILE"; or return 0
    set -l segment $STSENV_PROFILE
    if set -q STSENV_IDENTITY[1]; and test -n "$STSENV_IDENTITY" -a "$STSENV_IDENTITY" != "$STSENV_PROFILE"
        set segment "$segment $STSENV_IDENTITY"
    end
    set -g STSENV_PROMPT_STATE fresh
    if __stsenv_time_left
        __stsenv_setting STSENV_WARN_BEFORE 300
        if test $__stsenv_left -le 0
            set -g STSENV_PROMPT_STATE expired
            set segment "$segment expired"
        else if test $__stsenv_left -lt $__stsenv_value
            set -g STSENV_PROMPT_STATE warning
            set segment "$segment expires in "(__stsenv_duration $__stsenv_left)
        else
            set segment "$segment "(__stsenv_duration $__stsenv_left)
        end
    end
    set -g STSENV_PROMPT "[$segment]"
end

# Prints the segment: use `(stsenv_prompt)` in fish_prompt (no process), or $STSENV_PROMPT.
function stsenv_prompt --description 'print the stsenv prompt segment'
    __stsenv_now
    __stsenv_render
    printf '%s' $STSENV_PROMPT
end

# Gives $status back to the prompt that runs after the segment is printed.
function __stsenv_status
    return $argv[1]
end

# Puts the segment in front of fish_prompt (once); `stsenv init fish --prompt` calls it.
function stsenv_enable_prompt --description 'put the stsenv segment in front of the prompt'
    functions -q __stsenv_user_fish_prompt; and return 0
    functions -q fish_prompt; or return 0
    functions --copy fish_prompt __stsenv_user_fish_prompt
    function fish_prompt --description 'the stsenv segment, then the prompt it was put in front of'
        set -l last_status $status
        test -n "$STSENV_PROMPT"; and printf '%s ' $STSENV_PROMPT
        __stsenv_status $last_status
        __stsenv_user_fish_prompt
    end
end

# =============================================================================
# Refresh: before each prompt, when less than STSENV_REFRESH_BEFORE seconds are left.
#

# __stsenv_block: the lines `stsenv use --refresh=PROFILE` printed for profile $argv[1], with its exit status.
# stderr, stsenv's one line if it has one, goes to the terminal, or nowhere when $argv[2] is `quiet` (fish does
# not apply a redirection of a function call to a command substitution inside it). STSENV_REFRESH_TIMEOUT
# reaches stsenv even when it is a variable that is not exported.
function __stsenv_fetch
    set -lx STSENV_REFRESH_TIMEOUT "$STSENV_REFRESH_TIMEOUT"
    if test "$argv[2]" = quiet
        set -g __stsenv_block (command stsenv use --refresh=$argv[1] --shell fish 2>/dev/null)
    else
        set -g __stsenv_block (command stsenv use --refresh=$argv[1] --shell fish)
    end
end

# Marks the profile and expiry in the shell now as tried at __stsenv_clock: the back-off counts from here.
function __stsenv_mark_tried
    set -g __stsenv_tried "$STSENV_PROFILE:$AWS_SESSION_EXPIRES"
    set -g __stsenv_tried_at $__stsenv_clock
end

# Renews STSENV_PROFILE: applies stsenv's block on exit 0 only (stdout alone is sourced). On failure stsenv
# says why in one line on stderr, shown once per profile and expiry. The attempt is marked before it starts, so
# that Ctrl-C, which ends this function, still counts as a failure for the back-off.
function __stsenv_refresh
    set -l profile "$STSENV_PROFILE"
    set -l expires "$AWS_SESSION_EXPIRES"
    set -l code 0
    __stsenv_mark_tried
    set -l told 0
    set -q __stsenv_told; and test "$__stsenv_told" = "$profile:$expires"; and set told 1
    if not command -q stsenv
        set code 127
        test $told = 1; or printf 'stsenv: could not refresh %s: no stsenv command on PATH; fix PATH, then run `stsenv use %s`\n' $profile $profile >&2
    else if test $told = 1
        __stsenv_fetch $profile quiet; or set code $status
    else
        __stsenv_fetch $profile; or set code $status
    end
    if test $code = 0
        printf '%s\n' $__stsenv_block | source
    else
        set -g __stsenv_told "$profile:$expires"
    end
    set -e __stsenv_block
    __stsenv_now
    __stsenv_mark_tried
end

# Refreshes when the credentials, at __stsenv_clock, are near their end and no back-off runs; fails when
# it did not run stsenv.
function __stsenv_maybe_refresh
    __stsenv_time_left; or return 1
    __stsenv_setting STSENV_REFRESH_BEFORE 600
    test $__stsenv_value -gt 0 -a $__stsenv_left -lt $__stsenv_value; or return 1
    __stsenv_setting STSENV_REFRESH_BACKOFF 60
    if set -q __stsenv_tried; and test "$__stsenv_tried" = "$STSENV_PROFILE:$AWS_SESSION_EXPIRES"
        and test (math $__stsenv_clock - $__stsenv_tried_at) -lt $__stsenv_value
        return 1
    end
    __stsenv_refresh
    return 0
end

# =============================================================================
# Hook configuration: a handler of the fish_prompt event; sourcing this again only redefines it.
#

function __stsenv_hook --on-event fish_prompt --description 'stsenv: refresh near expiry, set $STSENV_PROMPT'
    __stsenv_now
    __stsenv_maybe_refresh; and __stsenv_now # a refresh takes time: read the clock again
    __stsenv_render
end

# =============================================================================
# The command: `stsenv use ...` (and `federate`) changes this shell; everything else goes straight to the
# program, told by STSENV_SHELL_INTEGRATION that it runs from here (`stsenv doctor` reports it).
#

# Succeeds when `use` or `federate` with these arguments prints a block for this shell (not json, dotenv,
# another shell, help).
function __stsenv_applies
    while set -q argv[1]
        switch $argv[1]
            case -h --help --shell '--shell=*'
                return 1
            case --format
                test "$argv[2]" = shell; or return 1
            case '--format=*'
                test "$argv[1]" = --format=shell; or return 1
        end
        set -e argv[1]
    end
end

function stsenv --description 'stsenv: `use` changes this shell; other commands run the program'
    if contains -- "$argv[1]" use federate; and __stsenv_applies $argv[2..-1]
        set -l block (STSENV_SHELL_INTEGRATION=fish command stsenv $argv --shell fish); or return
        printf '%s\n' $block | source
        set -e __stsenv_tried __stsenv_told
        __stsenv_now
        __stsenv_render
    else
        STSENV_SHELL_INTEGRATION=fish command stsenv $argv
    end
end

# The segment for the first prompt, before the hook has run.
__stsenv_now
__stsenv_render

# =============================================================================
# To put stsenv in your shell, add this to ~/.config/fish/config.fish:
#
# stsenv init fish | source

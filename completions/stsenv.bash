# shellcheck shell=bash
# bash completion for stsenv: commands, flags, flag values and profile names (from `stsenv ls --names`).
# `stsenv init bash` includes it; to load it alone, save it where bash-completion looks:
#   stsenv completion bash > ~/.local/share/bash-completion/completions/stsenv

# =============================================================================
# What stsenv accepts: commands, their flags, and which flags take a value.
#

_stsenv_commands='serve use configure ls login logout init completion whoami key-info decode web-identity-token
    federate doctor sso exec console'
_stsenv_global_flags='--help --version --debug'
# Flags followed by a value (their values are completed below, or left to the user).
_stsenv_value_flags=' --shell --format --token-code --refresh --role-arn --source-profile --role-session-name
    --duration-seconds --external-id --serial-number --policy --policy-arns --tags --source-identity
    --saml-assertion-file --target-principal --task-policy-arn --region --mfa-serial --output --query --profile
    --audience --signing-algorithm --template --service --session-duration --sso-session '

# __stsenv_flags: the flags of command $1.
_stsenv_command_flags() {
    case $1 in
    use) __stsenv_flags='--shell --format --clear --non-interactive --token-code --refresh --role-arn --source-profile
        --role-session-name --external-id --serial-number --source-identity --duration-seconds --policy
        --policy-arns --tags --region --assume-root --target-principal --task-policy-arn --saml-assertion-file' ;;
    configure) __stsenv_flags='--role-arn --source-profile --region --mfa-serial --external-id --role-session-name
        --duration-seconds' ;;
    ls) __stsenv_flags='--names --output' ;;
    login) __stsenv_flags='--token-code --force --no-browser --sso-session' ;;
    logout) __stsenv_flags='--all --sso --sso-session' ;;
    init) __stsenv_flags='--prompt' ;;
    whoami | key-info | decode) __stsenv_flags='--profile --region --output --query' ;;
    web-identity-token) __stsenv_flags='--audience --signing-algorithm --duration-seconds --tags --profile --region
        --output --query' ;;
    federate) __stsenv_flags='--profile --duration-seconds --policy --policy-arns --tags --region --shell --format' ;;
    doctor) __stsenv_flags='--no-clock' ;;
    sso) __stsenv_flags='--template --dry-run --served --region' ;;
    exec) __stsenv_flags='--server --allow-nested --non-interactive --token-code --duration-seconds --region' ;;
    console) __stsenv_flags='--print --service --session-duration --non-interactive --token-code --duration-seconds
        --region' ;;
    *) __stsenv_flags='' ;;
    esac
    __stsenv_flags+=' --help'
}

# =============================================================================
# Completion.
#

# Profile names from the user's AWS config.
_stsenv_profiles() {
    \command stsenv ls --names 2>/dev/null
}

# COMPREPLY from the words $1 that start with the word being completed.
_stsenv_reply() {
    \builtin local IFS=$'\n'
    # shellcheck disable=SC2207 # one candidate a line, split on newlines only
    COMPREPLY=($(\builtin compgen -W "$1" -- "${_stsenv_cur}"))
}

_stsenv() {
    \builtin local _stsenv_cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]-}
    \builtin local command='' word i positionals=0 __stsenv_flags='' dashes=0
    COMPREPLY=()
    # `--flag=value`: bash splits the words at `=`.
    if [[ ${_stsenv_cur} == = ]]; then
        _stsenv_cur=''
    elif [[ ${prev} == = ]]; then
        prev=${COMP_WORDS[COMP_CWORD - 2]-}
    fi
    # The command, and how many plain words (not flags, not flag values) follow it.
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        if [[ ${word} == -- && ${command} == exec ]]; then
            dashes=${i}
            break
        elif [[ ${word} == -* || ${word} == = ]]; then
            continue
        elif [[ ${_stsenv_value_flags} == *" ${COMP_WORDS[i - 1]} "* || ${COMP_WORDS[i - 1]} == = ]]; then
            continue
        elif [[ -z ${command} ]]; then
            command=${word}
        else
            positionals=$((positionals + 1))
        fi
    done

    # `exec ... -- COMMAND ARGS`: a command name, then its own arguments (files, as bash would).
    if ((dashes)); then
        \builtin local IFS=$'\n'
        if ((COMP_CWORD == dashes + 1)); then
            # shellcheck disable=SC2207
            COMPREPLY=($(\builtin compgen -c -- "${_stsenv_cur}"))
        else
            # shellcheck disable=SC2207
            COMPREPLY=($(\builtin compgen -f -- "${_stsenv_cur}"))
        fi
        \builtin return
    fi

    # The value of a flag.
    case ${prev} in
    --shell) _stsenv_reply $'bash\nzsh\nfish' && \builtin return ;;
    --format) _stsenv_reply $'shell\njson\ndotenv' && \builtin return ;;
    --signing-algorithm) _stsenv_reply $'RS256\nES384' && \builtin return ;;
    --service) _stsenv_reply $'ec2\ns3\niam\ncloudformation\nlambda\ncloudwatch\nrds\ndynamodbv2\nvpc' && \builtin return ;;
    --output)
        if [[ ${command} == ls ]]; then
            _stsenv_reply $'table\njson'
        else
            _stsenv_reply $'json\ntext\ntable'
        fi
        \builtin return
        ;;
    --profile | --source-profile) _stsenv_reply "$(_stsenv_profiles)" && \builtin return ;;
    --policy | --saml-assertion-file)
        \builtin local IFS=$'\n'
        # shellcheck disable=SC2207
        COMPREPLY=($(\builtin compgen -f -- "${_stsenv_cur}"))
        \builtin return
        ;;
    esac
    [[ ${_stsenv_value_flags} == *" ${prev} "* ]] && \builtin return # a value only the user knows

    if [[ -z ${command} ]]; then
        if [[ ${_stsenv_cur} == -* ]]; then
            _stsenv_reply "${_stsenv_global_flags// /$'\n'}"
        else
            _stsenv_reply "${_stsenv_commands// /$'\n'}"
        fi
        \builtin return
    fi
    if [[ ${_stsenv_cur} == -* ]]; then
        _stsenv_command_flags "${command}"
        # shellcheck disable=SC2086 # the flags are words
        _stsenv_reply "$(\builtin printf '%s\n' ${__stsenv_flags})"
        \builtin return
    fi
    ((positionals == 0)) || \builtin return
    case ${command} in
    use) _stsenv_reply "$(_stsenv_profiles)"$'\n-' ;;
    serve | configure | login | logout | exec | console) _stsenv_reply "$(_stsenv_profiles)" ;;
    init | completion) _stsenv_reply $'bash\nzsh\nfish' ;;
    sso) _stsenv_reply populate ;;
    esac
}

\builtin complete -F _stsenv stsenv

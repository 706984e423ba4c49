# fish completion for stsenv: commands, flags, flag values and profile names (from `stsenv ls --names`).
# `stsenv init fish` includes it; to load it alone, save it where fish looks:
#   stsenv completion fish > ~/.config/fish/completions/stsenv.fish

# =============================================================================
# Helpers.
#

# Profile names from the user's AWS config.
function __stsenv_profiles
    command stsenv ls --names 2>/dev/null
end

# Succeeds when the word being completed is the first plain word after one of the commands $argv.
function __stsenv_first_argument_of
    set -l value_flags --shell --format --token-code --refresh --role-arn --source-profile --role-session-name \
        --duration-seconds --external-id --serial-number --policy --policy-arns --tags --source-identity \
        --saml-assertion-file --target-principal --task-policy-arn --region --mfa-serial --output --query --profile \
        --audience --signing-algorithm --template --service --session-duration
    set -l words (commandline -opc)
    set -l command
    set -l plain 0
    set -l previous
    for word in $words[2..-1]
        if string match -q -- '-*' $word; or contains -- "$previous" $value_flags
            set previous $word
            continue
        end
        set previous $word
        if test -z "$command"
            set command $word
        else
            set plain (math $plain + 1)
        end
    end
    contains -- "$command" $argv; and test $plain -eq 0
end

# Succeeds when the words before the one being completed are `exec ... --` (the command comes next), or, with
# `args`, `exec ... -- COMMAND ...` (its arguments).
function __stsenv_after_dashes
    set -l words (commandline -opc)
    set -l at (contains -i -- -- $words); or return 1
    contains -- exec $words[1..$at]; or return 1
    if test "$argv[1]" = args
        test (count $words) -gt $at
    else
        test (count $words) -eq $at
    end
end

# =============================================================================
# Commands and global flags.
#

set -l commands serve use configure ls login logout init completion whoami key-info decode web-identity-token \
    federate doctor sso exec console
complete -c stsenv -f
complete -c stsenv -n "not __fish_seen_subcommand_from $commands" -s h -l help -d 'show help'
complete -c stsenv -n "not __fish_seen_subcommand_from $commands" -l version -d 'show the version'
complete -c stsenv -l debug -d 'print what stsenv does, secrets redacted'
complete -c stsenv -n "not __fish_seen_subcommand_from $commands" -a serve -d 'print credential_process JSON'
complete -c stsenv -n "not __fish_seen_subcommand_from $commands" -a use -d "put a profile's credentials into this shell"
complete -c stsenv -n "not __fish_seen_subcommand_from $commands" -a configure -d 'add or update a profile served by stsenv'
complete -c stsenv -n "not __fish_seen_subcommand_from $commands" -a ls -d 'list profiles and cached credentials'
complete -c stsenv -n "not __fish_seen_subcommand_from $commands" -a login -d 'ask for the MFA code now'
complete -c stsenv -n "not __fish_seen_subcommand_from $commands" -a logout -d 'remove cached sessions and credentials'
complete -c stsenv -n "not __fish_seen_subcommand_from $commands" -a init -d 'print the shell integration'
complete -c stsenv -n "not __fish_seen_subcommand_from $commands" -a completion -d 'print the completion script'
complete -c stsenv -n "not __fish_seen_subcommand_from $commands" -a whoami -d 'who the credentials are'
complete -c stsenv -n "not __fish_seen_subcommand_from $commands" -a key-info -d 'the account that owns an access key'
complete -c stsenv -n "not __fish_seen_subcommand_from $commands" -a decode -d 'decode an authorization failure message'
complete -c stsenv -n "not __fish_seen_subcommand_from $commands" -a web-identity-token -d 'a JWT naming you, for services outside AWS'
complete -c stsenv -n "not __fish_seen_subcommand_from $commands" -a federate -d 'federation token credentials'
complete -c stsenv -n "not __fish_seen_subcommand_from $commands" -a doctor -d 'check configuration, cache and shell'
complete -c stsenv -n "not __fish_seen_subcommand_from $commands" -a exec -d "run a command with a profile's credentials"
complete -c stsenv -n "not __fish_seen_subcommand_from $commands" -a console -d 'open the AWS console signed in'
complete -c stsenv -n "not __fish_seen_subcommand_from $commands" -a sso -d 'IAM Identity Center: a profile per account and role'

# =============================================================================
# Arguments and flags of each command.
#

complete -c stsenv -n "__stsenv_first_argument_of use serve configure login logout exec console" -a '(__stsenv_profiles)' -d profile
complete -c stsenv -n "__stsenv_first_argument_of use" -a - -d 'the previous profile'
complete -c stsenv -n "__stsenv_first_argument_of init completion" -a 'bash zsh fish'
complete -c stsenv -n __stsenv_after_dashes -a '(__fish_complete_command)'
complete -c stsenv -n '__stsenv_after_dashes args' -F
complete -c stsenv -n "__stsenv_first_argument_of sso" -a populate -d 'a profile for each account and role of an sso-session'

complete -c stsenv -n "__fish_seen_subcommand_from $commands" -s h -l help -d 'show help'

complete -c stsenv -n "__fish_seen_subcommand_from use federate" -l shell -x -a 'bash zsh fish' -d 'the shell to print statements for'
complete -c stsenv -n "__fish_seen_subcommand_from use federate" -l format -x -a 'shell json dotenv' -d 'what to print'
complete -c stsenv -n "__fish_seen_subcommand_from use" -l clear -d 'unset every variable use sets'
complete -c stsenv -n "__fish_seen_subcommand_from use exec console" -l non-interactive -d 'never ask for an MFA code'
complete -c stsenv -n "__fish_seen_subcommand_from use login exec console" -l token-code -x -d 'the MFA code'
complete -c stsenv -n "__fish_seen_subcommand_from use" -l refresh -x -a '(__stsenv_profiles)' -d 'renew a profile as the prompt hook does'
complete -c stsenv -n "__fish_seen_subcommand_from use configure" -l role-arn -x -d 'the role to assume'
complete -c stsenv -n "__fish_seen_subcommand_from use configure" -l source-profile -x -a '(__stsenv_profiles)' -d 'profile that assumes the role'
complete -c stsenv -n "__fish_seen_subcommand_from use configure" -l role-session-name -x -d 'session name'
complete -c stsenv -n "__fish_seen_subcommand_from use configure federate web-identity-token exec console" -l duration-seconds -x -d 'session duration'
complete -c stsenv -n "__fish_seen_subcommand_from use configure" -l external-id -x -d 'external id the role requires'
complete -c stsenv -n "__fish_seen_subcommand_from use" -l serial-number -x -d 'MFA device ARN'
complete -c stsenv -n "__fish_seen_subcommand_from use federate" -l policy -r -F -d 'session policy document'
complete -c stsenv -n "__fish_seen_subcommand_from use federate" -l policy-arns -x -d 'managed session policy ARNs'
complete -c stsenv -n "__fish_seen_subcommand_from use federate web-identity-token" -l tags -x -d 'session tags Key=Value'
complete -c stsenv -n "__fish_seen_subcommand_from use" -l source-identity -x -d 'source identity'
complete -c stsenv -n "__fish_seen_subcommand_from use" -l saml-assertion-file -r -F -d 'file holding the SAML assertion'
complete -c stsenv -n "__fish_seen_subcommand_from use" -l assume-root -d 'assume root in a member account'
complete -c stsenv -n "__fish_seen_subcommand_from use" -l target-principal -x -d 'member account for --assume-root'
complete -c stsenv -n "__fish_seen_subcommand_from use" -l task-policy-arn -x -d 'task policy for --assume-root'

complete -c stsenv -n "__fish_seen_subcommand_from use configure federate whoami key-info decode web-identity-token exec console" -l region -x -d 'region of the profile or session'
complete -c stsenv -n "__fish_seen_subcommand_from configure" -l mfa-serial -x -d 'MFA device ARN'

complete -c stsenv -n "__fish_seen_subcommand_from ls" -l names -d 'profile names only'
complete -c stsenv -n "__fish_seen_subcommand_from ls" -l output -x -a 'table json' -d 'output format'

complete -c stsenv -n "__fish_seen_subcommand_from login" -l force -d 'open a new session even if one is cached'
complete -c stsenv -n "__fish_seen_subcommand_from login" -l no-browser -d 'SSO: only print the URL and code'
complete -c stsenv -n "__fish_seen_subcommand_from logout" -l all -d 'everything in the cache'
complete -c stsenv -n "__fish_seen_subcommand_from logout" -l sso -d 'also end the IAM Identity Center session'
complete -c stsenv -n "__fish_seen_subcommand_from login logout" -l sso-session -x -d 'an sso-session by its name'

complete -c stsenv -n "__fish_seen_subcommand_from init" -l prompt -d 'also put the segment in front of the prompt'
complete -c stsenv -n "__fish_seen_subcommand_from web-identity-token" -l audience -x -d 'who the token is for'
complete -c stsenv -n "__fish_seen_subcommand_from web-identity-token" -l signing-algorithm -x -a 'RS256 ES384' -d 'signing algorithm'
complete -c stsenv -n "__fish_seen_subcommand_from doctor" -l no-clock -d 'skip the clock check (it contacts STS)'
complete -c stsenv -n "__fish_seen_subcommand_from exec" -l server -d 'a credentials endpoint instead of keys'
complete -c stsenv -n "__fish_seen_subcommand_from exec" -l allow-nested -d 'inside another exec of a different profile'
complete -c stsenv -n "__fish_seen_subcommand_from console" -l print -d 'print the sign-in URL'
complete -c stsenv -n "__fish_seen_subcommand_from console" -l service -x -a 'ec2 s3 iam cloudformation lambda cloudwatch rds dynamodbv2 vpc' -d 'console page to open'
complete -c stsenv -n "__fish_seen_subcommand_from console" -l session-duration -x -d 'console session duration of a role'
complete -c stsenv -n "__fish_seen_subcommand_from sso" -l template -x -d 'profile names from {account_name} {role_name} ...'
complete -c stsenv -n "__fish_seen_subcommand_from sso" -l dry-run -d 'print the profiles that would be added'
complete -c stsenv -n "__fish_seen_subcommand_from sso" -l served -d 'write profiles served by stsenv'
complete -c stsenv -n "__fish_seen_subcommand_from sso" -l region -x -d 'the region to write in each profile'

complete -c stsenv -n "__fish_seen_subcommand_from whoami key-info decode web-identity-token federate" -l profile -x -a '(__stsenv_profiles)' -d 'profile whose credentials to use'
complete -c stsenv -n "__fish_seen_subcommand_from whoami key-info decode web-identity-token" -l output -x -a 'json text table' -d 'output format'
complete -c stsenv -n "__fish_seen_subcommand_from whoami key-info decode web-identity-token" -l query -x -d 'JMESPath query'

"""`stsenv use PROFILE`: the block of statements that puts a profile's credentials into a shell."""

import os
import sys

from stsenv import render
from stsenv.broker import Broker, Options
from stsenv.config import AwsConfig, user_regions
from stsenv.errors import ConfigError


def default_shell(environ):
    """STSENV_SHELL, else the basename of $SHELL when it is one we speak, else bash."""
    for candidate in (environ.get("STSENV_SHELL"), os.path.basename(environ.get("SHELL") or "")):
        if candidate in render.SHELLS:
            return candidate
    return "bash"


def refuse_terminal(shell=None, fmt="shell"):
    """ConfigError when stdout is a terminal: credentials printed there change nothing and stay on the screen.

    Called before anything is resolved or fetched (no STS call, no MFA prompt): one isatty(2) call, no import.
    The shell integration, `eval "$(...)"`, a pipe and a file all give stdout another home.
    """
    if not os.isatty(1):
        return
    shell = shell or default_shell(os.environ)
    command = _as_typed(shell)
    if fmt != "shell":
        hint = f"send it to a file or a pipe: {command} > FILE"
    elif shell == "fish":
        hint = f"run `{command} | source`, or add `stsenv init fish | source` to ~/.config/fish/config.fish to make `stsenv use` work in place"
    else:
        hint = f'run `eval "$({command})"`, or add `eval "$(stsenv init {shell})"` to ~/.{shell}rc to make `stsenv use` work in place'
    raise ConfigError("not printing credentials to a terminal, where they would change nothing", hint)


def _as_typed(shell):
    """This command line as the user could type it again (an MFA code given on it left out)."""
    quote = render.fish_quote if shell == "fish" else render.posix_quote
    words = []
    hide = False
    for word in sys.argv[1:]:
        if word == "--debug":
            continue
        if hide or word.startswith("--token-code="):
            word = "CODE" if hide else "--token-code=CODE"
        hide = word == "--token-code"
        words.append(word if word and all(c.isalnum() or c in "-_./:=@,+%" for c in word) else quote(word))
    return " ".join(["stsenv", *words])


def use(profile, shell=None, fmt="shell", interactive=True, token_code=None, clear=False, config=None, saml_assertion=None):
    """Print the block for `profile`; `config` may carry profiles made from flags (stsenv.adhoc)."""
    environ = os.environ
    shell = shell or default_shell(environ)
    if not clear:
        refuse_terminal(shell, fmt)
    own_regions = user_regions(environ) if fmt == "shell" else None  # a file or JSON has no region of the user's to give back
    if clear:
        values, unset = render.clear_environment(environ.get("STSENV_PROFILE"), own_regions)
    else:
        if profile == "-":
            profile = environ.get("STSENV_PREVIOUS_PROFILE")
            if not profile:
                raise ConfigError("no previous profile in this shell", "`stsenv use -` switches back after a second `stsenv use`")
        if not profile:
            raise ConfigError("which profile?", "stsenv use PROFILE (see `stsenv ls`)")
        config = config or AwsConfig(environ)
        source = config.resolve(profile)
        if saml_assertion is not None and not any(node.kind == "saml" for node in source.chain()):
            raise ConfigError(f"--saml-assertion-file is for SAML profiles, and {profile!r} is not one ({source.kind})", "leave the flag out")
        credentials = Broker(Options(interactive, token_code, environ, saml_assertion=saml_assertion)).credentials(source)
        region = config.value(config.section(profile), "region")
        values, unset = render.environment(credentials, profile, region, environ.get("STSENV_PROFILE"), own_regions)
    if own_regions is not None:  # a region variable not in the environment is none of stsenv's (and fish's `set -e` of one fails)
        unset = [name for name in unset if name in environ or name not in render.REGION_NAMES]
    sys.stdout.write(render.block(values, unset, shell, fmt))
    return 0

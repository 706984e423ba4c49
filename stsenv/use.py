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


def use(profile, shell=None, fmt="shell", interactive=True, token_code=None, clear=False, config=None, saml_assertion=None, options=None):
    """Print the block for `profile`; `config` may carry profiles made from flags (stsenv.adhoc); `options`
    (broker.Options) replaces those made of `interactive` and `token_code` (stsenv.refresh)."""
    environ = os.environ
    shell = shell or default_shell(environ)
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
        options = options or Options(interactive, token_code, environ, saml_assertion=saml_assertion)
        credentials = Broker(options).credentials(source)
        region = config.value(config.section(profile), "region")
        values, unset = render.environment(credentials, profile, region, environ.get("STSENV_PROFILE"), own_regions)
    if own_regions is not None:  # a region variable not in the environment is none of stsenv's (and fish's `set -e` of one fails)
        unset = [name for name in unset if name in environ or name not in render.REGION_NAMES]
    sys.stdout.write(render.block(values, unset, shell, fmt))
    return 0

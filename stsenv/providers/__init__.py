"""One module per way of getting credentials (aws-vault's shape): each has `fetch(source, signer, broker)`.

`signer` is the parent's credentials (None for sources that need none); `broker` gives the options of this
run (may it ask a person, a code or assertion given on the command line).
"""

from importlib import import_module

MODULES = {
    "static": "static",
    "environment": "static",
    "process": "process",
    "assume-role": "assume_role",
    "mfa-session": "session_token",
    "web-identity": "web_identity",
    "saml": "saml",
    "federation": "federation",
    "assume-root": "assume_root",
}


def fetch(source, signer, broker):
    from stsenv import validate

    validate.source(source)  # AWS's limits, every problem said at once, before any call
    module = import_module(f"stsenv.providers.{MODULES[source.kind]}")
    return module.fetch(source, signer, broker)

"""One module per way of getting credentials (aws-vault's shape): each has `fetch(source, signer, broker, lock)`.

`signer` is the parent's credentials (None for sources that need none), `lock` the held KeyLock (None
when uncached), so a provider that must ask a person can tell the processes waiting on it.
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


def fetch(source, signer, broker, lock=None):
    from stsenv import validate

    validate.source(source)  # AWS's limits, every problem said at once, before any call
    module = import_module(f"stsenv.providers.{MODULES[source.kind]}")
    return module.fetch(source, signer, broker, lock)

"""One module per way of getting credentials (aws-vault's shape): each has `fetch(source, signer, options)`.

`signer` is the parent's credentials (None for sources that need none); `options` (stsenv.broker.Options)
say what this run may do: ask a person, use a code or SAML assertion given on the command line. Which
module serves a kind is the kind's row in stsenv.kinds.
"""

from importlib import import_module


def fetch(source, signer, options):
    """New credentials for `source`, after AWS's limits are checked (every problem said at once, before any call)."""
    from stsenv import validate

    validate.source(source)
    module = import_module(f"stsenv.providers.{source.kind.provider}")
    return module.fetch(source, signer, options)

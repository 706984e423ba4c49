"""`Source`: the plain description of how one profile's credentials are obtained.

config.py builds it from the AWS config files; the warm path needs nothing else to find the cache
entry, and the cold path hands it to the provider module named by its kind. It holds no boto3 objects.
"""

# Kinds whose credentials are long-lived or owned by another tool: never cached by stsenv.
UNCACHED_KINDS = frozenset({"static", "environment", "process"})


class Source:
    """One step of a credential chain: `kind` of STS operation, its `params`, and the `parent` that signs it.

    `params` are everything that decides which credentials come back and is safe to write to the
    cache (no secret); `private` carries the rest (long-lived keys, how to get an MFA code): never part of a key or message.
    """

    __slots__ = ("kind", "profile", "params", "parent", "private")

    def __init__(self, kind, profile, params, parent=None, private=None):
        self.kind = kind
        self.profile = profile
        self.params = params
        self.parent = parent
        self.private = private or {}

    @property
    def cacheable(self):
        return self.kind not in UNCACHED_KINDS

    def cache_key(self):
        """Canonical text naming these credentials: the kind, the params, and the chain that signs them."""
        parent = self.parent.cache_key() if self.parent is not None else ""
        params = ",".join(f"{name}={self.params[name]!r}" for name in sorted(self.params))
        return f"{self.kind}({params})<-[{parent}]"

    def chain(self):
        """This source and every parent, outermost first."""
        node = self
        while node is not None:
            yield node
            node = node.parent

    def __repr__(self):  # never shows secrets
        return f"Source({self.kind!r}, profile={self.profile!r}, params={self.params!r}, parent={self.parent!r})"

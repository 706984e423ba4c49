"""`Source`: the plain description of how one profile's credentials are obtained.

stsenv.resolution builds it from the AWS config files; the warm path needs nothing else to find the cache
entry, and the cold path hands it to the provider module its kind names (stsenv.kinds). It holds no boto3
objects.
"""


class Source:
    """One step of a credential chain: its `kind` (a row of stsenv.kinds), its `params`, and the `parent` that signs it.

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
        return self.kind.cached

    def cache_key(self):
        """Canonical text naming these credentials: the kind, the params, and the chain that signs them."""
        parent = self.parent.cache_key() if self.parent is not None else ""
        params = ",".join(f"{name}={self.params[name]!r}" for name in sorted(self.params))
        return f"{self.kind.name}({params})<-[{parent}]"

    def chain(self):
        """This source and every parent, outermost first."""
        node = self
        while node is not None:
            yield node
            node = node.parent

    def __repr__(self):  # never shows secrets
        return f"Source({self.kind.name!r}, profile={self.profile!r}, params={self.params!r}, parent={self.parent!r})"

"""JSON for the warm path without `import json`.

The json package imports `re`, which costs more than the whole rest of a warm `stsenv serve`.
CPython's `_json` accelerator does the same parsing and string escaping without it, so the hot
path uses it and falls back to the json package where `_json` is missing.
"""

try:
    from _json import encode_basestring_ascii as _quote
    from _json import make_scanner as _make_scanner
except ImportError:  # pragma: no cover - only on Pythons without the C accelerator
    _make_scanner = None


class _ScanContext:
    """The attributes `_json.make_scanner` reads: plain JSON, no NaN or Infinity."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    memo = None

    @staticmethod
    def parse_constant(name):
        raise ValueError(f"{name} is not allowed")


def loads(text):
    """Parse a JSON document; ValueError for anything that is not exactly one JSON value."""
    if _make_scanner is None:
        import json

        return json.loads(text, parse_constant=_ScanContext.parse_constant)
    text = text.strip(" \t\r\n")
    try:
        value, end = _make_scanner(_ScanContext)(text, 0)
    except Exception:  # the C scanner can only describe an error once json.decoder is loaded
        end = -1
    if end != len(text):
        import json

        # raises the descriptive ValueError for what the scanner refused
        return json.loads(text, parse_constant=_ScanContext.parse_constant)
    return value


def dumps_flat(mapping):
    """Serialise a dict whose values are str, int or None (the credential_process shape)."""
    if _make_scanner is None:
        import json

        return json.dumps(mapping)
    parts = []
    for key, value in mapping.items():
        if value is None:
            rendered = "null"
        elif isinstance(value, bool):
            rendered = "true" if value else "false"
        elif isinstance(value, int):
            rendered = str(value)
        else:
            rendered = _quote(value)
        parts.append(f"{_quote(key)}: {rendered}")
    return "{" + ", ".join(parts) + "}"

"""JSON for the warm path without `import json`.

The json package imports `re`, which costs more than the whole rest of a warm `stsenv serve`, and even
CPython's `_json` accelerator is a shared library whose loading costs a tenth of it. What stsenv writes
and reads on the warm path is a flat object of plain ASCII strings, integers and null, which str.split
reads exactly; anything else goes to `_json`'s scanner (or the json package where `_json` is missing),
which reads the rest of JSON and refuses what is not JSON.
"""

_WHITESPACE = " \t\r\n"
_LITERALS = {"null": None, "true": True, "false": False}
_NOT_FLAT = object()


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
    flat = _flat_object(text)
    if flat is not None:
        return flat
    try:
        from _json import make_scanner
    except ImportError:  # pragma: no cover - only on Pythons without the C accelerator
        make_scanner = None
    if make_scanner is None:
        import json

        return json.loads(text, parse_constant=_ScanContext.parse_constant)
    text = text.strip(_WHITESPACE)
    try:
        value, end = make_scanner(_ScanContext)(text, 0)
    except Exception:  # the C scanner can only describe an error once json.decoder is loaded
        end = -1
    if end != len(text):
        import json

        # raises the descriptive ValueError for what the scanner refused
        return json.loads(text, parse_constant=_ScanContext.parse_constant)
    return value


def dumps_flat(mapping):
    """Serialise a dict whose values are str, int, finite float or None (the credential_process shape)."""
    parts = []
    for key, value in mapping.items():
        if value is None:
            rendered = "null"
        elif isinstance(value, bool):
            rendered = "true" if value else "false"
        elif isinstance(value, int):
            rendered = str(value)
        elif isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError(f"{key}: {value} has no JSON form")
            rendered = repr(value)
        else:
            rendered = _quote(value)
        parts.append(f"{_quote(key)}: {rendered}")
    return "{" + ", ".join(parts) + "}"


def _quote(text):
    """A JSON string literal, ASCII only; `_json` is loaded only for text that needs escapes."""
    if _plain(text):
        return '"' + text + '"'
    try:
        from _json import encode_basestring_ascii
    except ImportError:  # pragma: no cover - only on Pythons without the C accelerator
        from json.encoder import py_encode_basestring_ascii as encode_basestring_ascii
    return encode_basestring_ascii(text)


def _plain(text):
    """Printable ASCII with no quote or backslash: the same inside a JSON string and out of it."""
    return text.isascii() and text.isprintable() and '"' not in text and "\\" not in text


def _flat_object(text):
    """The dict of a flat JSON object whose strings are plain (see `_plain`) and whose other values are
    integers, null, true or false; None for anything else, which the full scanner then reads or refuses.

    Without a backslash, every `"` delimits a string, so the odd pieces of text.split('"') are the keys
    and string values, and the even pieces must be exactly the punctuation between them.
    """
    if "\\" in text:
        return None
    pieces = text.split('"')
    count = len(pieces)
    if count < 3 or count % 2 == 0 or pieces[0].strip(_WHITESPACE) != "{":
        return None
    result = {}
    index = 1  # pieces[index] is a key
    while True:
        key = pieces[index]
        after_key = pieces[index + 1].strip(_WHITESPACE)
        if after_key[:1] != ":" or not _plain(key):
            return None
        literal = after_key[1:].lstrip(_WHITESPACE)
        if literal:  # `: 12,` or `: null }`: the value and the separator are in this piece
            value = _literal(literal[:-1].rstrip(_WHITESPACE))
            separator = literal[-1]
            index += 2
        elif index + 3 < count:  # `:` then a string, then the separator piece
            value = pieces[index + 2]
            if not _plain(value):
                return None
            separator = pieces[index + 3].strip(_WHITESPACE)
            index += 4
        else:
            return None
        if value is _NOT_FLAT:
            return None
        result[key] = value
        if separator == "}" and index == count:
            return result
        if separator != "," or index >= count:
            return None


def _literal(word):
    """null, true, false or a JSON integer; _NOT_FLAT for anything else (floats, garbage)."""
    if word in _LITERALS:
        return _LITERALS[word]
    digits = word[1:] if word[:1] == "-" else word
    if digits.isascii() and digits.isdigit() and (digits == "0" or digits[0] != "0"):
        return int(word)
    return _NOT_FLAT

"""Text from outside (AWS error messages, another tool's output, config and flag values) made fit for one
line of a message: secrets masked, every character that is not printable escaped as Python writes it
(\\n, \\x1b, \\u2028), and anything longer than a few hundred characters cut, saying how much was cut.

So no message can span two lines, move the cursor, retitle a terminal or forge a line a shell hook
reads. Imported only when a message is printed (never on the warm path); no `re`.
"""

from stsenv import redact

PIECE_MAX = 300  # one relayed text or quoted value
LINE_MAX = 2000  # a whole message, checked once more where it is written


def oneline(text, limit=PIECE_MAX):
    """`text` as one printable line of at most about `limit` characters (plus the note of what was cut)."""
    text = redact.scrub(str(text))
    if len(text) <= limit and text.isprintable():
        return text
    shown = []
    used = 0
    for index, char in enumerate(text):
        piece = char if char.isprintable() else repr(char)[1:-1]
        used += len(piece)
        if used > limit:
            return "".join(shown) + f"... ({len(text) - index} more characters)"
        shown.append(piece)
    return "".join(shown)


def quoted(value, limit=PIECE_MAX):
    """`value` quoted as `{value!r}` would, cut to `limit` characters first (a 5 MB flag stays a short line)."""
    value = redact.scrub(str(value))
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}... ({len(value) - limit} more characters)"

"""Read INI files the way botocore reads ~/.aws/config, without configparser (which imports `re`).

botocore uses `configparser.RawConfigParser()` with its defaults: `#` and `;` start a comment line only
at the start of a line (no inline comments), `=` or `:` separate key and value, keys are case-folded,
a more-indented line continues the value above it, and a duplicate section or key is an error.
A value that starts with a line break holds nested `key = value` lines (`[services x]`, `s3 =`).
A `[DEFAULT]` section is configparser's: not a section of its own, its keys are the defaults of every other.
"""

from stsenv.errors import ConfigError


def parse(text, path):
    """Return {section: {key: value}} for the text of an INI file; ConfigError names the bad line."""
    sections = {}
    current = None
    key = None
    key_indent = 0
    if text.startswith("\ufeff"):
        text = text[1:]
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip()
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if not stripped or stripped[0] in "#;":
            continue
        if key is not None and indent > key_indent:
            current[key].append(stripped)  # joined at the end: `+=` would copy the value for every line
            continue
        key = None
        if stripped[0] == "[" and "]" in stripped:
            name = stripped[1 : stripped.rindex("]")]
            if name in sections:
                raise ConfigError(f"{path}, line {number}: section [{name}] appears twice")
            current = sections[name] = {}
            continue
        if current is None:
            raise ConfigError(f"{path}, line {number}: a setting before any [section] header")
        cut = delimiter_at(stripped)
        if cut <= 0:
            raise ConfigError(f"{path}, line {number}: expected `key = value` or a [section] header")
        name = stripped[:cut].strip().lower()
        if name in current:
            raise ConfigError(f"{path}, line {number}: `{name}` is set twice in section [{_section_name(sections, current)}]")
        current[name] = [stripped[cut + 1 :].strip()]
        key, key_indent = name, indent
    for values in sections.values():
        for name, lines in values.items():
            values[name] = "\n".join(lines)
    defaults = sections.pop("DEFAULT", None)
    if defaults:
        for name, values in sections.items():
            sections[name] = {**defaults, **values}
    return sections


def nested(value):
    """The `key = value` lines of a nested value (botocore's `_parse_nested`)."""
    result = {}
    for line in value.splitlines():
        cut = delimiter_at(line)
        if cut > 0:
            result[line[:cut].strip().lower()] = line[cut + 1 :].strip()
    return result


def delimiter_at(line):
    """Index of the first `=` or `:`, the way configparser splits an option line, or -1."""
    positions = [i for i in (line.find("="), line.find(":")) if i >= 0]
    return min(positions) if positions else -1


def _section_name(sections, target):
    return next(name for name, values in sections.items() if values is target)

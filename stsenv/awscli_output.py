"""Print an STS response the way the aws CLI (v1) prints it: `--output json|text|table` and `--query`.

Scripts written against `aws sts ...` parse its json and text forms, so these follow the CLI's rules
exactly: JSON indented by 4 with non-ASCII kept; text as tab-separated scalars with sorted keys and
upper-cased identifiers for nested values; the table boxed under the operation's name, as wide as its
widest line, turned vertical when that is wider than the terminal. Cold path only (jmespath, json).
"""

import json
import os
import sys
import unicodedata

from stsenv.errors import ConfigError

FORMATS = ("json", "text", "table")
DEFAULT_TERMINAL_WIDTH = 80  # what the aws CLI assumes when stdout is not a terminal


def add_arguments(parser):
    """The aws CLI's global `--output` and `--query` on a command that prints a response."""
    parser.add_argument("--output", choices=FORMATS, help="json (default), text or table, as the aws CLI prints them")
    parser.add_argument("--query", help="a JMESPath expression applied to the response, as in the aws CLI")


def choose_format(flag, environ, section):
    """--output, else AWS_DEFAULT_OUTPUT, else the profile's `output`, else json (the aws CLI's order).

    A configured format the aws CLI v2 knows but stsenv does not (yaml) falls back to json.
    """
    for candidate in (flag, environ.get("AWS_DEFAULT_OUTPUT"), (section or {}).get("output")):
        if candidate:
            return candidate if candidate in FORMATS else "json"
    return "json"


def render(operation, response, fmt, query=None, stream=None):
    """Write `response` (ResponseMetadata already removed) for `operation` (e.g. GetCallerIdentity);
    `query` is a compiled --query (compile_query)."""
    stream = stream or sys.stdout
    response = _as_sent(response)
    if query is not None:
        response = query.search(response)
    if fmt == "json":
        if response != {}:
            stream.write(json.dumps(response, indent=4, ensure_ascii=False) + "\n")
    elif fmt == "text":
        _text(response, stream)
    else:
        table = _Table()
        if table.build(operation, response):
            table.render(stream, _terminal_width(stream))


def compile_query(text):
    """The compiled JMESPath of --query (None for none), checked before any STS call."""
    if text is None:
        return None
    import jmespath
    from jmespath.exceptions import JMESPathError

    try:
        return jmespath.compile(text)
    except JMESPathError as error:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        from stsenv.oneline import oneline, quoted

        raise ConfigError(f"--query {quoted(text)} is not a valid JMESPath expression: {oneline(first_line)}") from None


def _as_sent(value):
    """Timestamps back to the text STS sent (`2026-01-01T12:00:00Z`), which the aws CLI v1 prints as it is."""
    if isinstance(value, dict):
        return {key: _as_sent(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_sent(item) for item in value]
    if hasattr(value, "isoformat"):
        return value.isoformat().replace("+00:00", "Z")
    return value


# ---- text ----------------------------------------------------------------------------------------------


def _is_scalar(value):
    return not isinstance(value, (dict, list))


def _text(item, stream, identifier=None, columns=None):
    if isinstance(item, dict):
        _text_dict(item, stream, identifier, columns)
    elif isinstance(item, list):
        _text_list(item, stream, identifier)
    else:
        stream.write(f"{item}\n")


def _text_dict(item, stream, identifier, columns):
    """One line of the scalars (sorted keys, or the given columns), then each nested value under its key."""
    if columns is None:
        scalars = [str(value) for key, value in sorted(item.items()) if _is_scalar(value)]
        nested = [(key, value) for key, value in sorted(item.items()) if not _is_scalar(value)]
    else:
        scalars = [str(item.get(key, "")) for key in columns]
        nested = [(key, item[key]) for key in sorted(set(item) - set(columns))]
    if scalars:
        stream.write("\t".join(([identifier.upper()] if identifier is not None else []) + scalars) + "\n")
    for key, value in nested:
        _text(value, stream, key)


def _text_list(items, stream, identifier):
    if not items:
        return
    if any(isinstance(element, dict) for element in items):
        columns = sorted({key for element in items for key, value in element.items() if _is_scalar(value)})
        for element in items:
            _text(element, stream, identifier, columns)
        return
    scalars = [element for element in items if _is_scalar(element)]
    if scalars or not any(isinstance(element, list) for element in items):
        if identifier is not None:
            stream.write("".join(f"{identifier.upper()}\t{element}\n" for element in scalars))
        else:
            stream.write("\t".join(str(element) for element in scalars) + "\n")
    for element in items:
        if isinstance(element, list):
            _text(element, stream, identifier)


# ---- table ---------------------------------------------------------------------------------------------


def _width(text):
    """Columns `text` takes on a terminal: East Asian wide, full-width and ambiguous characters count 2."""
    return sum(2 if unicodedata.east_asian_width(char) in "WFA" else 1 for char in str(text))


def _terminal_width(stream):
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return DEFAULT_TERMINAL_WIDTH


class _Section:
    """A titled block of the table: optional column headers and rows of strings."""

    def __init__(self, title="", indent=0):
        self.title = title
        self.indent = indent
        self.headers = []
        self.rows = []
        self.widths = []

    def _grow(self, cells):
        sizes = [_width(cell) for cell in cells]
        self.widths = sizes if not self.widths else [max(a, b) for a, b in zip(self.widths, sizes)]

    def add_headers(self, headers):
        self._grow(headers)
        self.headers = list(headers)

    def add_row(self, row):
        row = [str(cell) for cell in row]
        self.rows.append(row)
        self._grow(row)

    def natural_width(self):
        columns = sum(width + 4 for width in self.widths) + 2 + 2 * self.indent
        return max(_width(self.title) + 2 + 2 * self.indent, columns)

    def column_widths(self, total):
        """Column widths scaled to fill `total`, rounding as the aws CLI does."""
        unscaled = [width + 4 for width in self.widths]
        if not unscaled:
            return []
        scale = total / float(sum(unscaled))
        scaled = [int(round(scale * width)) for width in unscaled]
        off_by = sum(scaled) - total
        while off_by:
            order = range(len(scaled)) if off_by > 0 else reversed(range(len(scaled)))
            for index in order:
                step = 1 if off_by > 0 else -1
                scaled[index] -= step
                off_by -= step
                if not off_by:
                    break
        return scaled

    def made_vertical(self):
        """This one-row section as rows of (header, value): how the CLI fits a wide table."""
        if len(self.rows) != 1 or not self.headers:
            return self
        vertical = _Section(self.title, self.indent)
        for header, value in zip(self.headers, self.rows[0]):
            vertical.add_row([header, value])
        return vertical


class _Table:
    """The aws CLI's table formatter: a section per dict or list of dicts, nested ones indented."""

    def __init__(self):
        self.sections = []
        self.current = None

    def new_section(self, title, indent):
        self.current = _Section(title, indent)
        self.sections.append(self.current)

    def build(self, title, current, indent=0):
        if not current:
            return False
        if title is not None:
            self.new_section(title, indent)
        if isinstance(current, list):
            if isinstance(current[0], dict):
                self._from_list(current, indent, title)
            else:
                for item in current:
                    if _is_scalar(item):
                        self.current.add_row([item])
                    elif all(_is_scalar(element) for element in item):
                        self.current.add_row(item)
                    else:
                        self.build(None, item)
        if isinstance(current, dict):
            self._from_dict(current, indent)
        return True

    @staticmethod
    def _split(mapping):
        scalars = sorted(key for key, value in mapping.items() if _is_scalar(value))
        nested = sorted(key for key, value in mapping.items() if not _is_scalar(value))
        return scalars, nested

    def _from_dict(self, current, indent):
        headers, nested = self._split(current)
        if len(headers) == 1:
            self.current.add_row([headers[0], current[headers[0]]])
        elif headers:
            self.current.add_headers(headers)
            self.current.add_row([current[key] for key in headers])
        for key in nested:
            self.build(key, current[key], indent + 1)

    def _from_list(self, current, indent, title):
        headers, nested = set(), set()
        for element in current:
            scalars, more = self._split(element)
            headers.update(scalars)
            nested.update(more)
        headers, nested = sorted(headers), sorted(nested)
        self.current.add_headers(headers)
        for position, element in enumerate(current):
            if position and nested:
                self.new_section(title, indent)
                self.current.add_headers(headers)
            self.current.add_row([element.get(header, "") for header in headers])
            for key in nested:
                if key in element:
                    self.build(key, element[key], indent + 1)

    def render(self, stream, terminal_width):
        width = max(section.natural_width() for section in self.sections)
        if width > terminal_width:
            self.sections = [section.made_vertical() for section in self.sections]
            width = max(section.natural_width() for section in self.sections)
        lines = ["-" * width]
        for section in self.sections:
            edge = "|" * section.indent
            lines += [edge + line + edge for line in _section_lines(section, width - 2 * section.indent)]
        stream.write("\n".join(lines) + "\n")


def _section_lines(section, width):
    lines = []
    if section.title:
        lines.append(_centered(section.title, width, "|", "|"))
        if not section.headers and not section.rows:
            lines.append("+" + "-" * (width - 2) + "+")
    if section.headers:
        widths = section.column_widths(width)
        lines.append(_rule(widths))
        lines.append("".join(_centered(h, w, "|" if i == 0 else "", "|") for i, (w, h) in enumerate(zip(widths, section.headers))))
    if section.rows:
        widths = section.column_widths(width)
        lines.append(_rule(widths))
        for row in section.rows:
            lines.append("".join(_left(cell, w, "|" if i == 0 else "", "|") for i, (w, cell) in enumerate(zip(widths, row))))
        lines.append(_rule(widths))
    return lines


def _rule(widths):
    return "".join(("+" + "-" * (width - 2) + "+") if i == 0 else ("-" * (width - 1) + "+") for i, width in enumerate(widths))


def _centered(text, width, left, right):
    start = width // 2 - _width(text) // 2 - 1
    used = _width(left) + start + _width(text)
    return left + " " * start + text + " " * (width - _width(right) - used) + right


def _left(text, width, left, right):
    padding = 2 if width - (_width(text) + 2 + _width(left) + _width(right)) >= 0 else 0
    return left + " " * padding + text + " " * (width - len(left) - padding - _width(text) - len(right)) + right

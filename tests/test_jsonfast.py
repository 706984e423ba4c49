"""stsenv.jsonfast reads and writes exactly what the json package does, on what stsenv writes and on anything
else: its split-based reader must never accept what json refuses, nor read a value differently."""

import json
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from stsenv import jsonfast

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.text(alphabet=string.ascii_letters + string.digits + "+/=:-_.@ ", max_size=40),
)
FLAT = st.dictionaries(st.text(max_size=8), SCALARS, max_size=8)
LAYOUTS = st.sampled_from([{}, {"indent": 1}, {"indent": 2}, {"separators": (",", ":")}, {"ensure_ascii": False}])
# Pieces of JSON, shuffled into text that is mostly almost-JSON.
PIECES = st.lists(
    st.sampled_from(['{', '}', '"', '"a"', '"b"', ':', ',', ' ', '\n', '\t', '1', '-', '0', '01', '1.5', 'null', 'true', 'false', 'NaN', '\\', '\\"', 'é', '[', ']', 'x']),
    max_size=14,
).map("".join)


def outcome(parse, text):
    try:
        value = parse(text)
    except ValueError:
        return "refused"
    return json.dumps(value, sort_keys=True), _types(value)


def _types(value):
    return sorted((key, type(item).__name__) for key, item in value.items()) if isinstance(value, dict) else type(value).__name__


def json_loads(text):
    return json.loads(text, parse_constant=jsonfast._ScanContext.parse_constant)


@settings(max_examples=400)
@given(FLAT, LAYOUTS)
def test_reads_flat_objects_like_json(mapping, layout):
    text = json.dumps(mapping, **layout)
    assert outcome(jsonfast.loads, text) == outcome(json_loads, text)


@settings(max_examples=2000)
@given(PIECES)
def test_refuses_and_accepts_what_json_does(text):
    assert outcome(jsonfast.loads, text) == outcome(json_loads, text)


@given(FLAT)
def test_writes_what_json_reads_back(mapping):
    assert json.loads(jsonfast.dumps_flat(mapping)) == mapping


def test_cache_entry_layout_takes_the_fast_path():
    """The layout cache.write uses (json.dump, indent=1) is read without `_json`."""
    entry = {"version": 1, "key": "assume-role(role_arn='arn:aws:iam::1:role/A')<-[]", "Expires": 1800000000, "Arn": None}
    assert jsonfast._flat_object(json.dumps(entry, indent=1)) == entry

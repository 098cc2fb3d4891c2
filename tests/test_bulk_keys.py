"""The key of a Bulk Data line: the narrow read gives what the full parse gives, for any line."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fasciculate._bulk_keys import MEDICATION, PATIENT, RESOURCE, full_key, key
from fasciculate.bulk import ProblemKind

_NAMES = ["resourceType", "id", "subject", "patient", "medicationReference", "code", "reference"]
_REFERENCES = ["Patient/a", "Patient/b-1.2", "urn:uuid:1", "Medication/m", "Medication/", "#m", ""]
_TYPES = ["Patient", "Observation", "Medication", "MedicationRequest", "MedicationStatement"]
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**64)
    | st.floats()
    | st.text(max_size=6)
    | st.sampled_from([*_REFERENCES, *_TYPES, "a", "x y", "é"])
)


def _object(items: list[tuple[str, str]]) -> str:
    return "{" + ",".join(f"{json.dumps(name)}:{value}" for name, value in items) + "}"


def _members(values: st.SearchStrategy[str]) -> st.SearchStrategy[list[tuple[str, str]]]:
    """A JSON object's (name, value text) pairs, so that a name may come twice."""
    names = st.sampled_from(_NAMES) | st.text(max_size=4)
    return st.lists(st.tuples(names, values), max_size=5)


_VALUES = st.recursive(
    _SCALARS.map(json.dumps),
    lambda inner: (
        _members(inner).map(_object)
        | st.lists(inner, max_size=3).map(lambda items: "[" + ",".join(items) + "]")
    ),
    max_leaves=12,
)
#: What the elements a key reads often hold: an id; a reference (in an object or not); a code.
_LIKELY = st.sampled_from([*_REFERENCES, "a", "m"]).flatmap(
    lambda text: st.sampled_from([json.dumps(text), json.dumps({"reference": text})])
)
_RESOURCE = st.builds(
    lambda kind, read, others: _object([("resourceType", json.dumps(kind)), *read, *others]),
    st.sampled_from(_TYPES),
    st.lists(
        st.tuples(st.just("id"), st.sampled_from(['"a"', '"m"', '"x y"', "7"]))
        | st.tuples(st.sampled_from(_NAMES[2:5]), _LIKELY)
        | st.tuples(st.just("code"), _VALUES),
        max_size=3,
    ),
    st.lists(st.tuples(st.sampled_from(_NAMES), _VALUES), max_size=3),
)


@st.composite
def _lines(draw: st.DrawFn) -> bytes:
    """A resource's line, or JSON of any shape, perhaps with a byte changed, added or cut."""
    text = draw(_RESOURCE | _VALUES)
    line = text.encode(draw(st.sampled_from(["utf-8", "utf-8", "latin-1"])), "surrogatepass")
    edit = draw(st.sampled_from(["none", "none", "none", "replace", "insert", "cut"]))
    where = draw(st.integers(0, len(line)))
    byte = bytes([draw(st.integers(0, 255))])
    if edit == "replace":
        line = line[:where] + byte + line[where + 1 :]
    elif edit == "insert":
        line = line[:where] + byte + line[where:]
    elif edit == "cut":
        line = line[:where]
    return line


@settings(max_examples=500)
@given(_lines())
def test_the_narrow_read_keys_every_line_as_the_full_parse_does(line):
    """Resources, odd shapes, repeated names, bad bytes and cut lines: the same key or problem."""
    assert full_key(line) == key(line)


@pytest.mark.parametrize("depth", [1, 100, 190, 250, 600, 5000])
def test_deep_nesting_is_keyed_as_the_full_parse_does(depth):
    """Nesting deeper than the narrow read takes is parsed in full, with its key or problem."""
    line = b'{"resourceType":"Observation","subject":{"reference":"Patient/a"},"x":%s1%s}' % (
        b"[" * depth,
        b"]" * depth,
    )
    assert full_key(line) == key(line)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b'{"resourceType":"Patient","id":"a","name":[{"text":"A"}]}', ("a", PATIENT)),
        (b'{"resourceType":"Observation","subject":{"reference":"Patient/a"}}', ("a", RESOURCE)),
        (
            b'{"resourceType":"Observation","subject":{},"patient":{"reference":"Patient/b"}}',
            ("b", RESOURCE),
        ),
        (
            b'{"resourceType":"Medication","id":"m","code":{"text":"x"},"form":{}}',
            ("m", MEDICATION),
        ),
        (b'{"resourceType":"Observation","subject":"Patient/a"}', (ProblemKind.NO_SUBJECT,)),
        (
            b'{"resourceType":"Observation","subject":{"reference":"Patient/a"},"subject":"a"}',
            (ProblemKind.NO_SUBJECT,),
        ),
        (b'{"resourceType":"Observation","x":"\xff"}', (ProblemKind.NOT_UTF8,)),
        (b'{"resourceType":"Observation","x":1} 2', (ProblemKind.NOT_JSON,)),
        (b'["resourceType"]', (ProblemKind.NOT_JSON,)),
    ],
)
def test_lines_are_keyed_by_their_patient_or_are_a_problem(line, expected):
    """A few lines of each kind, and the key or problem each gives."""
    found = key(line)
    assert expected == found[: len(expected)]
    assert full_key(line) == found

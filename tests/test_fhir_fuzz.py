"""Corrupted bundles: every input gives a reading or InvalidBundle, never another exception."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from _fhir import LOINC, SNOMED, bundle, entry, patient
from conftest import EXAMPLES
from fasciculate import InvalidBundle
from fasciculate.fhir import questionnaire_response, read_bundle

# Every shape the reader handles, in one bundle, so that corruption can reach each of them.
EVERYTHING = bundle(
    patient(deceasedDateTime="2026-12-01"),
    entry({"resourceType": "Medication", "id": "m1", "code": {"text": "Omeprazole"}}),
    entry(
        {
            "resourceType": "MedicationStatement",
            "status": "active",
            "medicationReference": {"reference": "Medication/m1"},
        }
    ),
    entry(
        {
            "resourceType": "MedicationRequest",
            "status": "active",
            "medicationReference": {"reference": "#c"},
            "contained": [{"resourceType": "Medication", "id": "c", "code": {"text": "Lithium"}}],
        }
    ),
    entry(
        {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": SNOMED, "code": "246586009"}]},
            "valueBoolean": True,
        }
    ),
    entry(
        {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "72166-2"}]},
            "valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "8517006"}]},
            "effectiveDateTime": "2026-01-01",
        }
    ),
    entry(
        questionnaire_response(
            {
                "assessed_on": "2026-11-20",
                "twitching": {"regions": ["calf"], "onset_date": "2026-11-01"},
                "medications": [{"name": "x", "code": {"system": "s", "code": "c"}}],
                "labs": [{"analyte": "ferritin", "value": 20, "unit": "ng/mL"}],
            }
        )
    ),
)
BUNDLES = [
    EVERYTHING,
    *(json.loads(path.read_bytes()) for path in sorted((EXAMPLES / "fhir").glob("*.json"))),
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["", "2026-13-45", "1980", "mmol/L", "active", "\u200b", "urn:uuid:x"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


@st.composite
def corrupted(draw: st.DrawFn) -> dict[str, Any]:
    bundle = copy.deepcopy(draw(st.sampled_from(BUNDLES)))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(bundle)[1:]))
        parent = bundle
        for step in path[:-1]:
            parent = parent[step]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
    return bundle


@given(corrupted())
def test_a_corrupted_bundle_reads_or_fails_cleanly(bundle):
    """Deleting or replacing any element never raises anything but InvalidBundle (with paths)."""
    problems: tuple = ()
    try:
        read_bundle(json.dumps(bundle))
    except InvalidBundle as error:
        problems = error.problems
        assert problems, "an InvalidBundle always lists its problems"
    assert all(isinstance(problem.path, str) for problem in problems)

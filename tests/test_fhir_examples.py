"""The example FHIR bundles give the urgency each was written for, with nothing left unread."""

from __future__ import annotations

import tomllib

import pytest

import fasciculate
from conftest import EXAMPLES
from fasciculate import Urgency
from fasciculate.fhir import read_bundle

FHIR_EXAMPLES = EXAMPLES / "fhir"
EXPECTED = tomllib.loads((FHIR_EXAMPLES / "expected.toml").read_text())


def test_every_example_has_an_expectation_and_each_urgency_has_two():
    """Each bundle is listed in expected.toml, and every urgency has at least two bundles."""
    assert {path.stem for path in FHIR_EXAMPLES.glob("*.json")} == set(EXPECTED)
    urgencies = [Urgency(entry["urgency"]) for entry in EXPECTED.values()]
    assert all(urgencies.count(urgency) >= 2 for urgency in Urgency)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_bundle_gives_its_intended_urgency(name: str):
    """Reading the bundle and assessing it gives the recorded urgency; no conflicts."""
    reading = read_bundle((FHIR_EXAMPLES / f"{name}.json").read_bytes())
    assert Urgency(EXPECTED[name]["urgency"]) == fasciculate.assess(reading.presentation).urgency
    assert () == reading.report.conflicts
    assert [] == [note for note in reading.report.notes if "body site" in note]

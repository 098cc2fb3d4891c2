"""``assess_json`` writes exactly the bytes pydantic writes for the typed assessment.

The typed assessment's ``model_dump_json()`` returns what the JSON writer wrote for it, so the
reference here is pydantic's own serialiser, run on the models.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic_core import to_json

import fasciculate
from conftest import EXAMPLES
from fasciculate import InvalidPresentation, Presentation
from fasciculate.engine import Engine
from fasciculate.testing import presentations

PRESENTATIONS = sorted((EXAMPLES / "presentations").glob("*.json"))


def _typed(document: bytes | Presentation) -> bytes:
    """The typed assessment serialised by pydantic, checked against its ``model_dump_json()``."""
    assessment = fasciculate.assess(document)
    expected = to_json(assessment)
    assert expected == assessment.model_dump_json().encode()
    return expected


@pytest.mark.parametrize("path", PRESENTATIONS, ids=lambda path: path.stem)
def test_every_example_gives_the_typed_bytes(path):
    """For each bundled example, both paths give the same bytes, on first and repeated calls."""
    document = path.read_bytes()
    expected = _typed(document)
    assert expected == fasciculate.assess_json(document)
    assert expected == fasciculate.assess_json(document)  # now from the cached parts


@given(presentations(complete=False) | presentations(complete=True))
def test_generated_presentations_give_the_typed_bytes(presentation):
    """For any valid presentation, the JSON path and the typed path agree byte for byte."""
    assert _typed(presentation) == fasciculate.assess_json(presentation)


@given(presentations(complete=True))
def test_a_category_carries_its_evidence_in_its_conditions_only(presentation):
    """A category's JSON has no evidence lists of its own; in Python it gathers its conditions'."""
    document = json.loads(fasciculate.assess_json(presentation))
    assessment = fasciculate.assess(presentation)
    for category, typed in zip(document["differential"], assessment.differential, strict=True):
        assert not {"supporting", "conflicting"} & set(category)
        gathered = [
            item for condition in category["conditions"] for item in condition["supporting"]
        ]
        assert gathered == [item.model_dump(mode="json") for item in typed.supporting]
        against = [
            item for condition in category["conditions"] for item in condition["conflicting"]
        ]
        assert against == [item.model_dump(mode="json") for item in typed.conflicting]


@given(st.lists(presentations(), min_size=2, max_size=4))
def test_a_batch_gives_each_presentation_its_own_bytes(batch):
    """Parts cached for one presentation never leak into the JSON of the next."""
    expected = [_typed(item) for item in batch]
    assert expected == [fasciculate.assess_json(item) for item in batch]
    assert expected == [fasciculate.assess_json(item) for item in reversed(batch)][::-1]


@given(st.lists(presentations(), min_size=1, max_size=4))
def test_warm_caches_give_what_empty_ones_give(batch):
    """An engine that has seen many presentations answers each as a new engine would."""
    for presentation in batch:
        expected = Engine().assess_json(presentation)
        assert expected == fasciculate.assess_json(presentation)


@pytest.mark.parametrize(
    "document",
    [b"{", b'{"findings": {"weakness": "maybe"}}', b"[]", b'{"patient": {"age": -1}}'],
)
def test_invalid_input_raises_the_same_error(document):
    """Bad input fails the same way on both paths, naming the same problems."""
    with pytest.raises(InvalidPresentation) as typed:
        fasciculate.assess(document)
    with pytest.raises(InvalidPresentation) as raw:
        fasciculate.assess_json(document)
    assert str(typed.value) == str(raw.value)

"""Returned assessments share parts between calls: none of them can be edited, and the output never
depends on which of two equal inputs an engine met first."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

import fasciculate

EXAMPLES = sorted(Path(__file__).parent.parent.joinpath("examples/presentations").glob("*.json"))


def _parts(value: object) -> Iterator[object]:
    yield value
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _parts(getattr(value, name))
    elif isinstance(value, dict):
        for item in value.values():
            yield from _parts(item)
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _parts(item)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_no_part_of_a_returned_assessment_can_be_edited(path: Path) -> None:
    presentation = json.loads(path.read_text())
    before = fasciculate.assess(presentation).model_dump_json()
    for part in _parts(fasciculate.assess(presentation)):
        assert not isinstance(part, list), "a list inside an assessment can be edited"
        if isinstance(part, BaseModel):
            name = next(iter(type(part).model_fields))
            with pytest.raises(ValidationError, match="frozen"):
                setattr(part, name, None)
        elif isinstance(part, dict):
            with pytest.raises(TypeError, match="read-only"):
                part["edited"] = 1
            with pytest.raises(TypeError, match="read-only"):
                part.clear()
    assert before == fasciculate.assess(presentation).model_dump_json()
    assert before.encode() == fasciculate.assess_json(presentation)


def test_the_root_level_counts_are_read_only_but_copy_and_compare_as_dicts() -> None:
    presentation = json.loads(EXAMPLES[0].parent.joinpath("l4-radiculopathy.json").read_text())
    assessment = fasciculate.assess(presentation)
    counts = assessment.root_level.counts
    with pytest.raises(TypeError, match="read-only"):
        counts["L5"] = 99
    assert dict(counts) == counts
    assert copy.deepcopy(assessment) == assessment
    assert fasciculate.Assessment.model_validate_json(assessment.model_dump_json()) == assessment
    assert fasciculate.assess(presentation).root_level.counts == {"L3/L4": 2, "L5": 0, "S1": 0}


@pytest.mark.parametrize("zeros", [(0.0, -0.0), (-0.0, 0.0), ("-0", 0.0)])
def test_a_negative_zero_prints_like_zero_whichever_comes_first(zeros: tuple[object, ...]) -> None:
    base = json.loads(EXAMPLES[0].parent.joinpath("post-exercise-calf.json").read_text())
    outputs = []
    for zero in zeros:
        presentation = copy.deepcopy(base)
        presentation["twitching"]["duration_days"] = zero
        presentation["exposures"]["sleep_hours"] = zero
        outputs.append(fasciculate.assess_json(presentation))
        assert b'"-0' not in outputs[-1]
    assert outputs[0] == outputs[1]

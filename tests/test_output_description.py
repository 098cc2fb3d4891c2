"""One description of the output, two encodings: the models' fields drive both paths."""

from __future__ import annotations

import copy
import json
import pickle

import pytest
from pydantic import Field, create_model
from pydantic_core import to_json

import fasciculate
from fasciculate import Assessment, CategoryResult, ConditionResult
from fasciculate import _output_json as output_json
from fasciculate._assess import _engine
from fasciculate._output import ASSESSMENT, Output
from fasciculate._output_frame import frame
from fasciculate._output_json import JsonOutput
from fasciculate.engine import Engine

SADDLE = {"findings": {"saddle_sensory_loss": "present"}}


def test_the_json_writer_writes_the_models_fields_in_their_order():
    """The JSON writer's keys are ``model_fields``, in order, at every level it lays out."""
    document = json.loads(fasciculate.assess_json(SADDLE))
    assert list(Assessment.model_fields) == list(_engine().json.fields)
    assert list(Assessment.model_fields) == list(document)
    for category in document["differential"]:
        assert list(CategoryResult.model_fields) == list(category)
        for condition in category["conditions"]:
            assert list(ConditionResult.model_fields) == list(condition)


def test_a_new_field_is_one_edit_in_the_model_and_one_value():
    """A model with a new field, given its value once, comes out the same on both paths."""
    extended = create_model(
        "ExtendedAssessment",
        __base__=Assessment,
        fired_count=(int, Field(description="How many rules fired.")),
        reviewed=(bool, False),
    )
    values = {**ASSESSMENT, "fired_count": lambda _, case: len(case.referral.fired)}
    engine = _engine()
    output = Output(engine.kb, model=extended, values=values)
    writer = JsonOutput(output)
    facts = Engine(kb=engine.kb).facts(SADDLE)
    referral, differential = engine.evaluate(facts)
    typed = output.assessment(referral, differential, facts)
    written = writer(referral, differential, facts)
    assert to_json(typed) == written
    document = json.loads(written)
    assert ["knowledge_base", "fasciculate_version", "fired_count", "reviewed"] == list(document)[
        -4:
    ]
    assert (len(referral.fired), False) == (document["fired_count"], document["reviewed"])
    assert typed == extended.model_validate_json(written)


def test_a_field_without_a_value_fails_when_the_table_is_checked():
    """A required field the table does not make, or a value for no field, is refused at once."""
    extended = create_model("Unmade", __base__=Assessment, fired_count=(int, ...))
    with pytest.raises(TypeError, match=r"without a default: \['fired_count'\]"):
        frame(extended, ASSESSMENT)
    with pytest.raises(TypeError, match=r"does not declare: \['colour'\]"):
        frame(Assessment, {**ASSESSMENT, "colour": lambda _, __: "blue"})


def test_a_category_field_the_json_layout_does_not_write_is_refused():
    """The differential's JSON layout checks the category and condition models it writes."""
    graded = create_model("Graded", __base__=CategoryResult, grade=(int, ...))
    with pytest.raises(TypeError, match=r"without a default: \['grade'\]"):
        output_json.check_layout(graded, ConditionResult)
    swapped = create_model("Swapped", score=(float, ...), probability=(float, ...))
    with pytest.raises(TypeError, match="probability, then score"):
        output_json.check_layout(CategoryResult, swapped)
    flagged = create_model("Flagged", __base__=ConditionResult, reviewed=(bool, False))
    _, keys = output_json.check_layout(CategoryResult, flagged)
    assert (b'"reviewed":', "reviewed", b"false") == keys[-1]


@pytest.mark.parametrize(
    "name", ["FactUsed", "EvidenceItem", "FiredRule", "Trigger", "LabInterpretation"]
)
def test_a_field_the_part_templates_do_not_write_is_refused(monkeypatch, name):
    """The templates of the parts that cite facts, and of laboratory results, are made from
    their models' fields: a required field they do not fill in fails when the writer is made."""
    extended = create_model(
        f"Reviewed{name}", __base__=getattr(output_json, name), reviewer=(str, ...)
    )
    monkeypatch.setattr(output_json, name, extended)
    with pytest.raises(TypeError, match=r"without a default: \['reviewer'\]"):
        JsonOutput(_engine().output)


def test_the_typed_dump_is_the_written_json_and_options_still_apply():
    """``model_dump_json()`` gives pydantic's bytes; with options, pydantic's own output."""
    assessment = fasciculate.assess(SADDLE)
    assert fasciculate.assess_json(SADDLE) == assessment.model_dump_json().encode()
    assert to_json(assessment) == assessment.model_dump_json().encode()
    assert to_json(assessment, indent=2) == assessment.model_dump_json(indent=2).encode()
    slim = json.loads(assessment.model_dump_json(include={"urgency"}))
    assert {"urgency": "emergency"} == slim


@pytest.mark.parametrize(
    "remade",
    [
        lambda a: a.model_copy(update={"urgency": fasciculate.Urgency.ROUTINE}),
        lambda a: copy.deepcopy(a).model_copy(update={"summary": "changed"}),
        lambda a: pickle.loads(pickle.dumps(a)).model_copy(update={"summary": "changed"}),  # noqa: S301
    ],
    ids=["copy", "deepcopy", "pickle"],
)
def test_a_changed_copy_dumps_its_own_values(remade):
    """A copy with changed fields never returns the bytes written for the original."""
    changed = remade(fasciculate.assess(SADDLE))
    assert to_json(changed) == changed.model_dump_json().encode()
    assert fasciculate.assess_json(SADDLE) != changed.model_dump_json().encode()


def test_a_fresh_engine_dumps_what_the_shared_one_writes():
    """An engine's typed assessments dump the JSON its own writer writes."""
    engine = Engine()
    typed = engine.assess(SADDLE)
    assert engine.assess_json(SADDLE) == typed.model_dump_json().encode()

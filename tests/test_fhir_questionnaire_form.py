"""The intake form as a clinician and a renderer see it: wording, codes, answers, units, profile."""

from __future__ import annotations

import re

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

import fasciculate
from _fhir import walk
from fasciculate import InvalidBundle, knowledge_base
from fasciculate.fhir import (
    QUESTIONNAIRE_URL,
    presentation_from_questionnaire_response,
    questionnaire,
    questionnaire_response,
)

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
UNIT = "http://hl7.org/fhir/StructureDefinition/questionnaire-unit"
UNIT_OPTION = "http://hl7.org/fhir/StructureDefinition/questionnaire-unitOption"
OURS = "https://fasciculate.readthedocs.io/fhir/CodeSystem/"
ENABLE_WHEN_EXPRESSION = (
    "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression"
)


def _items() -> dict[str, dict[str, object]]:
    return {item["linkId"]: item for item in walk(questionnaire()["item"])}


def _answerable() -> list[dict[str, object]]:
    return [item for item in _items().values() if item["type"] != "group"]


def _response(*items: dict[str, object]) -> dict[str, object]:
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": QUESTIONNAIRE_URL,
        "status": "completed",
        "item": list(items),
    }


def test_every_item_is_a_question_for_a_clinician():
    """No docstring wording, no field name, no markup: each answerable item asks a question."""
    for item in _answerable():
        text = str(item["text"])
        assert "?" in text, text
        assert "`" not in text, text
        assert not re.search(r"\b[a-z]+_[a-z_]+\b", text), text  # a snake_case field name
        assert "Empty means" not in text, text
        assert str(item["linkId"]) not in text


def test_groups_have_headings_for_people():
    """Group headings are words, not knowledge-base group ids."""
    for item in _items().values():
        if item["type"] == "group":
            assert "_" not in str(item["text"]), item["text"]


def test_items_carry_snomed_ct_or_loinc_codes_where_one_exists():
    """Findings carry the fact table's SNOMED CT code; age and sex their LOINC codes."""
    items = _items()
    for key, fact in knowledge_base().facts.items():
        if fact.kind == "finding" and fact.snomed is not None:
            assert [{"system": SNOMED, "code": fact.snomed}] == items[f"findings.{key}"]["code"]
    assert {"system": LOINC, "code": "30525-0", "display": "Age"} in items["patient.age"]["code"]
    assert {"system": LOINC, "code": "46098-0", "display": "Sex"} in items["patient.sex"]["code"]
    snomed = knowledge_base().facts["babinski"].snomed
    assert [{"system": SNOMED, "code": snomed}] == items["examination.babinski"]["code"]
    coded = [item for item in _answerable() if item.get("code")]
    assert len(coded) >= 18


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"valueCoding": {"system": LOINC, "code": "LA33-6", "display": "Yes"}}, "present"),
        ({"valueCoding": {"system": LOINC, "code": "LA32-8", "display": "No"}}, "absent"),
        ({"valueCoding": {"system": LOINC, "code": "LA4489-6"}}, "unknown"),
        ({"valueCoding": {"system": f"{OURS}tri-state", "code": "present"}}, "present"),
        ({"valueCoding": {"system": f"{OURS}tri-state", "code": "absent"}}, "absent"),
        ({"valueBoolean": True}, "present"),
        ({"valueBoolean": False}, "absent"),
    ],
)
def test_yes_no_items_accept_the_loinc_answers_and_our_own_codes(answer, expected):
    """LA33-6 Yes, LA32-8 No, LA4489-6 Unknown, present / absent / unknown and booleans."""
    response = _response({"linkId": "findings.weakness", "answer": [answer]})
    presentation = presentation_from_questionnaire_response(response)
    assert expected == presentation.findings[fasciculate.Finding("weakness")]


def test_a_loinc_code_that_is_not_a_yes_no_answer_is_refused():
    """A LOINC answer outside the list is a problem naming the accepted answers."""
    response = _response(
        {
            "linkId": "findings.weakness",
            "answer": [{"valueCoding": {"system": LOINC, "code": "LA1"}}],
        }
    )
    with pytest.raises(InvalidBundle, match="LA33-6"):
        presentation_from_questionnaire_response(response)


def test_numbers_carry_their_ucum_unit():
    """Age, duration, caffeine and sleep state their UCUM unit with the SDC unit extension."""
    items = _items()
    expected = {
        "patient.age": "a",
        "twitching.duration_days": "d",
        "exposures.caffeine_mg_per_day": "mg/d",
        "exposures.sleep_hours": "h",
    }
    for link_id, code in expected.items():
        (extension,) = items[link_id]["extension"]
        assert UNIT == extension["url"]
        assert (UCUM, code) == (
            extension["valueCoding"]["system"],
            extension["valueCoding"]["code"],
        )


def test_a_lab_value_is_a_quantity_with_ucum_unit_options_not_free_text():
    """labs.value offers the knowledge base's UCUM units; no free-text unit item is left."""
    items = _items()
    assert "labs.unit" not in items
    value = items["labs.value"]
    assert "quantity" == value["type"]
    offered = {
        ext["valueCoding"]["code"] for ext in value["extension"] if ext["url"] == UNIT_OPTION
    }
    assert {"mmol/L", "mg/dL", "ng/mL", "U/L", "[IU]/L", "g/L", "nmol/L", "ng/L"} <= offered
    assert not {"mEq/L", "µg/L", "mIU/L", "uIU/mL"} & offered  # spellings, not UCUM codes


def test_a_quantity_answer_reads_back_into_value_and_unit():
    """valueQuantity gives the lab's value and unit; a number in its item's unit is read too."""
    lab = {
        "linkId": "labs",
        "item": [
            {"linkId": "labs.analyte", "answer": [{"valueCoding": {"code": "potassium"}}]},
            {
                "linkId": "labs.value",
                "answer": [
                    {
                        "valueQuantity": {
                            "value": 2.3,
                            "unit": "mmol/L",
                            "system": UCUM,
                            "code": "mmol/L",
                        }
                    }
                ],
            },
        ],
    }
    age = {"linkId": "patient.age", "answer": [{"valueQuantity": {"value": 40, "code": "a"}}]}
    presentation = presentation_from_questionnaire_response(
        _response({"linkId": "patient", "item": [age]}, lab)
    )
    assert 40 == presentation.patient.age
    (result,) = presentation.labs
    assert (2.3, "mmol/L") == (result.value, result.unit)
    assert "emergency" == fasciculate.assess(presentation).urgency


def test_a_number_in_another_unit_is_refused():
    """An age in months is not silently read as years."""
    age = {"linkId": "patient.age", "answer": [{"valueQuantity": {"value": 40, "code": "mo"}}]}
    with pytest.raises(InvalidBundle, match="valueInteger"):
        presentation_from_questionnaire_response(_response({"linkId": "patient", "item": [age]}))


@pytest.mark.parametrize(
    ("items", "name"),
    [
        (
            [{"linkId": "medications.code", "answer": [{"valueString": "sertraline 50 mg"}]}],
            "sertraline 50 mg",
        ),
        (
            [
                {"linkId": "medications.name", "answer": [{"valueString": "Lustral"}]},
                {"linkId": "medications.code", "answer": [{"valueString": "sertraline"}]},
            ],
            "Lustral (sertraline)",
        ),
    ],
)
def test_the_medication_code_item_accepts_free_text(items, name):
    """A renderer's free-text answer to the open-choice code item becomes the medication's name."""
    response = _response({"linkId": "medications", "item": items})
    (medication,) = presentation_from_questionnaire_response(response).medications
    assert name == medication.name
    assert medication.code is None


def test_the_claimed_sdc_profile_is_the_one_the_form_meets():
    """SDC behave: units on numbers and quantities only, enableWhenExpression in FHIRPath."""
    form = questionnaire()
    assert ["http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-behave"] == form[
        "meta"
    ]["profile"]
    for item in walk(form["item"]):
        for extension in item.get("extension", []):
            if extension["url"] == ENABLE_WHEN_EXPRESSION:
                assert "text/fhirpath" == extension["valueExpression"]["language"]
                assert "enableWhen" not in item  # one or the other
                continue
            allowed = {UNIT: {"integer", "decimal"}, UNIT_OPTION: {"quantity"}}[extension["url"]]
            assert item["type"] in allowed, item["linkId"]
            assert UCUM == extension["valueCoding"]["system"]
    Questionnaire.model_validate(form)


def test_the_form_uses_only_codes_it_can_stand_behind():
    """Outside code systems: SNOMED CT, LOINC (codes, answers), HL7 words for lab results."""
    systems = {
        coding["system"]
        for item in _answerable()
        for coding in [
            *item.get("code", []),
            *(o["valueCoding"] for o in item.get("answerOption", [])),
        ]
    }
    foreign = {system for system in systems if not system.startswith(OURS)}
    assert {
        SNOMED,
        LOINC,
        "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
    } == foreign


def test_a_written_response_uses_the_forms_answers_and_is_valid_fhir():
    """fasciculate writes LOINC yes/no answers and lab quantities, accepted by fhir.resources."""
    data = {
        "findings": {"weakness": "present", "pain": "absent", "cramps": "unknown"},
        "patient": {"age": 40},
        "labs": [{"analyte": "potassium", "value": 2.3, "unit": "mmol/L"}],
        "medications": [{"name": "sertraline", "drug_class": "ssri"}],
    }
    response = questionnaire_response(data)
    QuestionnaireResponse.model_validate(response)
    answers = {item["linkId"]: item.get("answer") for item in walk(response["item"])}
    assert [{"valueCoding": {"system": LOINC, "code": "LA33-6", "display": "Yes"}}] == answers[
        "findings.weakness"
    ]
    assert [
        {"valueQuantity": {"value": 2.3, "unit": "mmol/L", "system": UCUM, "code": "mmol/L"}}
    ] == answers["labs.value"]
    assert fasciculate.Presentation.model_validate(
        data
    ) == presentation_from_questionnaire_response(response)

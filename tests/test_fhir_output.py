"""Assessments as FHIR (RiskAssessment, ServiceRequest) and as CDS Hooks 2.0 cards."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import jsonschema
import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.riskassessment import RiskAssessment
from fhir.resources.R4B.servicerequest import ServiceRequest
from hypothesis import given

import fasciculate
from _builders import negative
from _fhir import ICD10CM, SNOMED
from conftest import EXAMPLES, SYNTHEA
from fasciculate import Urgency
from fasciculate.fhir import (
    assessment_to_cards,
    assessment_to_fhir,
    read_bundle,
)
from fasciculate.testing import presentations

CARD_SCHEMA = json.loads(
    (Path(__file__).parent / "schemas" / "cds-hooks-card.schema.json").read_text()
)
VALIDATOR = jsonschema.Draft202012Validator(
    CARD_SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)
FHIR_EXAMPLES = EXAMPLES / "fhir"
EXPECTED = tomllib.loads((FHIR_EXAMPLES / "expected.toml").read_text())

# One presentation per urgency, written from the urgency scale in docs/howto/fhir.md.
BY_URGENCY = {
    Urgency.SELF_CARE: negative(),
    Urgency.ROUTINE: negative(findings={"pain": "present"}),
    Urgency.URGENT: negative(findings={"slurred_speech": "present"}),
    Urgency.EMERGENCY: negative(findings={"saddle_sensory_loss": "present"}),
}
PRIORITY = {Urgency.ROUTINE: "routine", Urgency.URGENT: "urgent", Urgency.EMERGENCY: "stat"}
INDICATOR = {
    Urgency.SELF_CARE: "info",
    Urgency.ROUTINE: "info",
    Urgency.URGENT: "warning",
    Urgency.EMERGENCY: "critical",
}


def _readings():
    return [read_bundle((FHIR_EXAMPLES / f"{name}.json").read_bytes()) for name in sorted(EXPECTED)]


def _resources(bundle: dict) -> dict[str, dict]:
    return {entry["resource"]["resourceType"]: entry["resource"] for entry in bundle["entry"]}


@pytest.mark.parametrize("urgency", list(Urgency))
def test_the_bundle_is_valid_r4_with_a_referral_only_when_advised(urgency: Urgency):
    """Valid Bundle and RiskAssessment; above self-care a ServiceRequest (proposal, priority)."""
    assessment = fasciculate.assess(BY_URGENCY[urgency])
    assert urgency == assessment.urgency
    bundle = assessment_to_fhir(assessment)
    Bundle.model_validate(bundle)
    resources = _resources(bundle)
    risk = RiskAssessment.model_validate(resources["RiskAssessment"])
    assert str(urgency) == risk.prediction[0].outcome.coding[0].code
    if urgency is Urgency.SELF_CARE:
        assert {"RiskAssessment"} == set(resources)
        return
    request = ServiceRequest.model_validate(resources["ServiceRequest"])
    assert ("proposal", PRIORITY[urgency]) == (request.intent, request.priority)
    assert bundle["entry"][0]["fullUrl"] == request.supportingInfo[0].reference


def test_fired_rules_are_the_basis_and_the_notes_of_the_risk_assessment():
    """Each fired rule is a basis entry (rule id) and a note with its facts and source."""
    assessment = fasciculate.assess(BY_URGENCY[Urgency.EMERGENCY])
    risk = _resources(assessment_to_fhir(assessment))["RiskAssessment"]
    assert [r.id for r in assessment.rules_fired] == [
        b["identifier"]["value"] for b in risk["basis"]
    ]
    assert "CES-SADDLE" in risk["note"][0]["text"]
    assert "Source:" in risk["note"][0]["text"]


def test_the_differential_follows_the_urgency_in_the_predictions():
    """After the urgency, one prediction per category, ranked, probabilities summing to 1."""
    assessment = fasciculate.assess(
        (EXAMPLES / "presentations" / "restless-legs-low-ferritin.json").read_bytes()
    )
    risk = _resources(assessment_to_fhir(assessment))["RiskAssessment"]
    categories = risk["prediction"][1:]
    assert [str(c.category) for c in assessment.differential] == [
        p["outcome"]["coding"][0]["code"] for p in categories
    ]
    assert 1.0 == pytest.approx(sum(p["probabilityDecimal"] for p in categories), abs=1e-3)
    assert "restless_legs_syndrome" == categories[0]["outcome"]["coding"][0]["code"]
    assert "(absent)" in categories[1]["rationale"]
    detail = assessment_to_cards(assessment)[0]["detail"]
    assert f"1. Restless legs syndrome: {assessment.differential[0].probability:.0%}" in detail


@pytest.mark.parametrize("reading", _readings(), ids=sorted(EXPECTED))
def test_every_example_gives_valid_fhir_and_cards_citing_the_patients_own_resources(reading):
    """For each example bundle: valid R4 output, valid cards, resolvable evidence cited."""
    assessment = fasciculate.assess(reading.presentation)
    bundle = assessment_to_fhir(assessment, reading=reading)
    Bundle.model_validate(bundle)
    cards = assessment_to_cards(assessment, reading=reading)
    for card in cards:
        VALIDATOR.validate(card)
    request = _resources(bundle).get("ServiceRequest")
    if request is None:
        return
    inputs = {fact.input for rule in assessment.rules_fired for fact in rule.facts}
    cited = {ref for field in inputs for ref in reading.evidence.get(field, ())}
    resolved = {reading.server_references[ref] for ref in cited if ref in reading.server_references}
    assert resolved <= {info["reference"] for info in request["supportingInfo"]}


@pytest.mark.parametrize("urgency", list(Urgency))
def test_cards_follow_the_cds_hooks_schema_and_the_indicator_table(urgency: Urgency):
    """Schema-valid card, indicator per urgency, summary < 140, suggestion creating the referral."""
    assessment = fasciculate.assess(BY_URGENCY[urgency])
    (card,) = assessment_to_cards(assessment)
    VALIDATOR.validate(card)
    assert INDICATOR[urgency] == card["indicator"]
    assert len(card["summary"]) < 140
    assert {"label", "url"} <= set(card["source"])
    if urgency is Urgency.SELF_CARE:
        assert "suggestions" not in card
        return
    (action,) = card["suggestions"][0]["actions"]
    assert "create" == action["type"]
    ServiceRequest.model_validate(action["resource"])
    assert PRIORITY[urgency] == action["resource"]["priority"]


def test_the_card_detail_gives_reasons_facts_questions_and_sources_in_markdown():
    """The detail lists each fired rule with its facts, the open questions and linked sources."""
    assessment = fasciculate.assess({"findings": {"slurred_speech": "present"}})
    detail = assessment_to_cards(assessment)[0]["detail"]
    assert "`MND-BULBAR`" in detail
    assert "(from `findings.slurred_speech`)" in detail
    assert "#### Still to ask" in detail
    assert "](https://www.nice.org.uk/guidance/ng42)" in detail


def test_a_long_summary_is_shortened_below_the_limit():
    """Summaries are cut below 140 characters with an ellipsis."""
    assessment = fasciculate.assess(BY_URGENCY[Urgency.ROUTINE])
    long = assessment.model_copy(update={"summary": "x" * 300})
    (card,) = assessment_to_cards(long)
    VALIDATOR.validate(card)
    assert card["summary"].endswith("…")


def test_the_schema_rejects_what_the_specification_forbids():
    """The card schema catches what the specification forbids, and accepts its own example."""
    bad = [
        {"summary": "x" * 140, "indicator": "info", "source": {"label": "a"}},
        {"summary": "x", "indicator": "hard-stop", "source": {"label": "a"}},
        {"summary": "x", "indicator": "info", "source": {}},
        {
            "summary": "x",
            "indicator": "info",
            "source": {"label": "a"},
            "suggestions": [{"label": "s"}],
        },
        {
            "summary": "x",
            "indicator": "info",
            "source": {"label": "a"},
            "overrideReasons": [{"code": "c"}],
        },
        {
            "summary": "x",
            "indicator": "info",
            "source": {"label": "a"},
            "suggestions": [{"label": "s", "actions": [{"type": "create", "description": "d"}]}],
            "selectionBehavior": "any",
        },
    ]
    assert [] == [card for card in bad if VALIDATOR.is_valid(card)]
    # The specification's example card (CDS Hooks 2.0, "Example response"), abridged.
    example = {
        "uuid": "4e0a3a1e-3283-4575-ab82-028d55fe2719",
        "summary": "Example Card",
        "indicator": "info",
        "detail": "This is an example card.",
        "source": {"label": "Static CDS Service Example", "url": "https://example.com"},
        "links": [{"label": "Google", "url": "https://google.com", "type": "absolute"}],
    }
    VALIDATOR.validate(example)


def _systems(value: object) -> set[str]:
    if isinstance(value, dict):
        found = {value["system"]} if isinstance(value.get("system"), str) else set()
        return found.union(*(_systems(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(_systems(item) for item in value))
    return set()


def test_outputs_write_only_our_own_code_systems_checked_icd10cm_and_the_referral_code():
    """No outside code reaches an output but ICD-10-CM R25.3 and SNOMED CT Patient referral."""
    outputs: list[object] = []  # the intake form's codes: tests/test_fhir_questionnaire_form.py
    for reading in _readings():
        assessment = fasciculate.assess(reading.presentation)
        outputs.append(assessment_to_fhir(assessment, reading=reading))
        outputs.append(assessment_to_cards(assessment))
    ours = "https://fasciculate.readthedocs.io/fhir/CodeSystem/"
    foreign = {s for out in outputs for s in _systems(out) if not s.startswith(ours)}
    assert {ICD10CM, SNOMED} == foreign
    snomed = {c["code"] for out in outputs for c in _codings(out) if c["system"] == SNOMED}
    assert {"3457005"} == snomed


def _codings(value: object) -> list[dict]:
    if isinstance(value, dict):
        own = [value] if isinstance(value.get("system"), str) and "code" in value else []
        return own + [c for item in value.values() for c in _codings(item)]
    if isinstance(value, list):
        return [c for item in value for c in _codings(item)]
    return []


@pytest.mark.parametrize(
    "path",
    sorted(SYNTHEA.glob("*.json")),
    ids=lambda path: path.name.split("_")[0],
)
def test_real_synthea_patients_give_valid_fhir_and_cards(path: Path):
    """From a real EHR export to a valid R4 Bundle and schema-valid cards."""
    reading = read_bundle(path.read_bytes())
    assessment = fasciculate.assess(reading.presentation)
    Bundle.model_validate(
        assessment_to_fhir(assessment, subject=reading.subject, evidence=reading.evidence)
    )
    for card in assessment_to_cards(assessment, subject=reading.subject, evidence=reading.evidence):
        VALIDATOR.validate(card)


@pytest.mark.parametrize(
    ("reference", "kind"),
    [
        ("Observation/1", "Observation"),
        ("https://ehr.example/fhir/Condition/a-1", "Condition"),
        ("https://ehr.example/fhir/Observation/1/_history/2", "Observation"),
        ("urn:uuid:00000000-0000-4000-8000-000000000001", None),
        ("#contained", None),
    ],
)
def test_reference_types_are_read_from_literal_references(reference, kind):
    """The type is read from literal references; opaque ones (urn:uuid) need reference_types.

    A reference whose type can be read is cited with it; one that names nothing on the server
    (its type unknown, no reading to resolve it) is not cited at all.
    """
    assessment = fasciculate.assess({"findings": {"slurred_speech": "present"}})
    evidence = {"findings.slurred_speech": [reference]}
    request = _resources(assessment_to_fhir(assessment, evidence=evidence))["ServiceRequest"]
    cited = [{"reference": reference, "type": kind}] if kind else []
    assert cited == request["supportingInfo"][1:]
    assert cited == request.get("reasonReference", [])


def test_server_references_become_typed_reasons():
    """Evidence with server URLs is cited as typed reasonReference and supportingInfo."""
    assessment = fasciculate.assess({"findings": {"slurred_speech": "present"}})
    evidence = {"findings.slurred_speech": ["https://ehr.example/fhir/Observation/9"]}
    request = _resources(assessment_to_fhir(assessment, evidence=evidence))["ServiceRequest"]
    ServiceRequest.model_validate(request)
    assert [{"reference": evidence["findings.slurred_speech"][0], "type": "Observation"}] == (
        request["reasonReference"]
    )
    assert "Observation" == request["supportingInfo"][1]["type"]


def test_urn_uuid_references_are_typed_from_the_reading_and_resolved_by_its_server_ids():
    """urn:uuid evidence is typed by reference_types and written as its server reference."""
    reference = "urn:uuid:00000000-0000-4000-8000-000000000009"
    assessment = fasciculate.assess({"findings": {"slurred_speech": "present"}})
    reading = read_bundle(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {
                    "fullUrl": reference,
                    "resource": {
                        "resourceType": "Condition",
                        "id": "c9",
                        "subject": {"reference": "Patient/1"},
                        "code": {"coding": [{"system": ICD10CM, "code": "R47.1"}]},
                    },
                }
            ],
        }
    )
    assert {reference: "Condition"} == dict(reading.reference_types)
    request = _resources(assessment_to_fhir(assessment, reading=reading))["ServiceRequest"]
    ServiceRequest.model_validate(request)
    assert [{"reference": "Condition/c9", "type": "Condition"}] == request["reasonReference"]
    evidence = {"findings.slurred_speech": [reference]}
    untyped = _resources(assessment_to_fhir(assessment, evidence=evidence))["ServiceRequest"]
    assert "reasonReference" not in untyped


@given(presentations())
def test_any_assessment_gives_valid_fhir_and_cards(presentation):
    """Whatever the presentation, the FHIR Bundle is valid R4 and every card fits the schema."""
    assessment = fasciculate.assess(presentation)
    bundle = assessment_to_fhir(assessment, subject="Patient/1")
    Bundle.model_validate(bundle)
    assert (assessment.urgency is Urgency.SELF_CARE) == (len(bundle["entry"]) == 1)
    (card,) = assessment_to_cards(assessment, subject="Patient/1")
    VALIDATOR.validate(card)
    assert INDICATOR[assessment.urgency] == card["indicator"]

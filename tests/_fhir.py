"""Builders for FHIR R4 test bundles in the shapes EHRs export (HL7 Symptoms IG for symptoms)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
SYMPTOM_CATEGORY = "http://hl7.org/fhir/uv/symptoms/CodeSystem/SymptomTemporary"
PATIENT_URL = "urn:uuid:00000000-0000-4000-8000-000000000001"

_ids = itertools.count(2)


def _url() -> str:
    return f"urn:uuid:00000000-0000-4000-8000-{next(_ids):012d}"


def entry(resource: dict[str, Any], url: str | None = None) -> dict[str, Any]:
    return {"fullUrl": url or _url(), "resource": resource}


def walk(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every item of a Questionnaire (or QuestionnaireResponse) item tree, depth first."""
    for item in items:
        yield item
        yield from walk(item.get("item", []))


def bundle(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection", "entry": list(entries)}


def patient(birth: str = "1970-05-01", gender: str = "female", **extra: Any) -> dict[str, Any]:
    resource = {"resourceType": "Patient", "gender": gender, "birthDate": birth, **extra}
    return entry(resource, PATIENT_URL)


def _concept(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def symptom(
    code: str,
    display: str,
    *,
    absent: bool = False,
    when: str = "2026-11-20",
    body_site: str | None = None,
    components: list[tuple[str, str, str]] = (),  # type: ignore[assignment]
    start: str | None = None,
) -> dict[str, Any]:
    """A Symptoms IG SymptomObservation (or SymptomAbsentObservation when *absent*)."""
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "code": _concept(LOINC, "111551-8", "Symptom absent")
        if absent
        else _concept(LOINC, "75325-1", "Symptom"),
        "subject": {"reference": PATIENT_URL},
        "performer": [{"reference": PATIENT_URL}],
        "valueCodeableConcept": _concept(SNOMED, code, display),
    }
    if not absent:
        resource["category"] = [{"coding": [{"system": SYMPTOM_CATEGORY, "code": "symptom"}]}]
    if start:
        resource["effectivePeriod"] = {"start": start, "end": when}
    else:
        resource["effectiveDateTime"] = when
    if body_site:
        resource["bodySite"] = {"text": body_site}
    if components:
        resource["component"] = [
            {"code": _concept(LOINC, loinc, name), "valueCodeableConcept": {"text": text}}
            for loinc, name, text in components
        ]
    return entry(resource)


def lab(
    loinc: str, display: str, value: float, unit: str, when: str = "2026-11-18"
) -> dict[str, Any]:
    return entry(
        {
            "resourceType": "Observation",
            "status": "final",
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                            "code": "laboratory",
                        }
                    ]
                }
            ],
            "code": _concept(LOINC, loinc, display),
            "subject": {"reference": PATIENT_URL},
            "effectiveDateTime": when,
            "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
        }
    )


def condition(
    system: str, code: str, display: str, *, status: str = "active", verification: str = "confirmed"
) -> dict[str, Any]:
    return entry(
        {
            "resourceType": "Condition",
            "clinicalStatus": _concept(
                "http://terminology.hl7.org/CodeSystem/condition-clinical", status, status
            ),
            "verificationStatus": _concept(
                "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                verification,
                verification,
            ),
            "code": _concept(system, code, display),
            "subject": {"reference": PATIENT_URL},
            "onsetDateTime": "2024-01-10",
        }
    )


def medication(
    display: str, *, code: str | None = None, system: str = RXNORM, status: str = "active"
) -> dict[str, Any]:
    concept: dict[str, Any] = {"text": display}
    if code:
        concept["coding"] = [{"system": system, "code": code, "display": display}]
    return entry(
        {
            "resourceType": "MedicationRequest",
            "status": status,
            "intent": "order",
            "medicationCodeableConcept": concept,
            "subject": {"reference": PATIENT_URL},
            "authoredOn": "2026-06-01",
        }
    )


TWITCH = ("82470000", "Fasciculation")
TREND = ("89253-9", "Trend")
FREQUENCY = ("104156-5", "Condition frequency - Reported")

"""FHIR R4 bundles made from presentations, spread over every channel the exported CQL reads.

Each bundle holds one patient: a Patient (its birth date gives the age), the presentation's answers
as a QuestionnaireResponse to fasciculate's Questionnaire, and, taken out of the response, some
findings as Symptoms IG Observations (present and absent), the laboratory results as LOINC
Observations (value in the unit given, the interpretation), and the medications as
MedicationRequests coded in RxNorm (in words where a class has no code). The same bundle goes to
the Python reader and to the CQL.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from _fhir import LOINC, RXNORM, SNOMED, UCUM
from fasciculate import Presentation, TriState
from fasciculate.fhir import code_maps, questionnaire_response

INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
#: The Symptoms IG's LOINC codes of an Observation of a symptom present and absent.
SYMPTOM, SYMPTOM_ABSENT = "75325-1", "111551-8"

_SYMPTOM_CODE = {finding: code for code, finding in sorted(code_maps().symptom_snomed.items())}
_RXNORM = {drug_class: code for code, drug_class in sorted(code_maps().rxnorm.items())}


def _concept(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def _birth(age: int, today: dt.date) -> str:
    return today.replace(year=today.year - age, day=min(today.day, 28)).isoformat()


def _lab(lab: dict[str, Any], patient: str, today: dt.date) -> dict[str, Any]:
    loinc = next(code for code, name in code_maps().loinc.items() if name == lab["analyte"])
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "code": _concept(LOINC, loinc),
        "subject": {"reference": patient},
        "effectiveDateTime": today.isoformat(),
    }
    if lab.get("value") is not None:
        unit = lab["unit"]
        resource["valueQuantity"] = {
            "value": lab["value"],
            "unit": unit,
            "system": UCUM,
            "code": unit,
        }
    if lab.get("interpretation"):
        resource["interpretation"] = [_concept(INTERPRETATION, lab["interpretation"])]
    return resource


def _medication(medication: dict[str, Any], patient: str) -> dict[str, Any]:
    # A drug class without an RxNorm code of its own ("other") is a medicine named in words: it
    # still tells both readers that the list of medicines is known (each class not on it absent).
    drug_class = medication.get("drug_class")
    concept: dict[str, Any] = {"text": "a medicine"}
    if drug_class in _RXNORM:
        concept = _concept(RXNORM, _RXNORM[drug_class])
    return {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": concept,
        "subject": {"reference": patient},
    }


def _symptom(finding: str, answer: str, patient: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": _concept(LOINC, SYMPTOM if answer == TriState.PRESENT else SYMPTOM_ABSENT),
        "subject": {"reference": patient},
        "valueCodeableConcept": _concept(SNOMED, _SYMPTOM_CODE[finding]),
    }


def bundle_of(presentation: Presentation, patient_id: str, today: dt.date) -> dict[str, Any]:
    """One patient's bundle holding *presentation*, read as of *today* (see the module)."""
    data = presentation.model_dump(mode="json", exclude_none=True)
    reference = f"Patient/{patient_id}"
    patient: dict[str, Any] = {"resourceType": "Patient", "id": patient_id}
    age = data.get("patient", {}).pop("age", None)
    if age is not None:
        patient["birthDate"] = _birth(age, today)
    # Assessed today (the reader's as_of and the CQL's Today()), the onset as long before.
    assessed = data.pop("assessed_on", None)
    onset = data.get("twitching", {}).get("onset_date")
    if onset is not None and assessed is not None:
        before = dt.date.fromisoformat(assessed) - dt.date.fromisoformat(onset)
        data["twitching"]["onset_date"] = (today - before).isoformat()
    data["assessed_on"] = today.isoformat()
    resources: list[dict[str, Any]] = [patient]
    resources += [_lab(lab, reference, today) for lab in data.pop("labs", [])]
    resources += [_medication(item, reference) for item in data.pop("medications", [])]
    findings = data.get("findings", {})
    # Every other finding with a SNOMED CT code goes as a Symptoms IG Observation instead.
    moved = itertools.islice((f for f in sorted(findings) if f in _SYMPTOM_CODE), 0, None, 2)
    for finding in list(moved):
        answer = findings.pop(finding)
        if answer != TriState.UNKNOWN:
            resources.append(_symptom(finding, answer, reference))
    response = questionnaire_response(Presentation.model_validate(data), subject=reference)
    resources.append(response)
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": f"urn:uuid:{patient_id}-{number}", "resource": resource}
            for number, resource in enumerate(resources)
        ],
    }

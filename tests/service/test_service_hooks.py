"""The three hooks against the running service: which charts and orders get which cards."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from service._service_support import SYNTHEA, THIAZIDE, TWITCHING_PATIENT, fhir_resources

ALFREDA = "6d23a95e-7e18-4201-90ec-9501fa89fbd2"  # Synthea: hydrochlorothiazide, no twitching
PATIENT_VIEW = "/cds-services/fasciculate-patient-view"
ORDER_SELECT = "/cds-services/fasciculate-order-select"
ORDER_SIGN = "/cds-services/fasciculate-order-sign"


def _record(patient: str) -> list[dict[str, Any]]:
    def about(r: dict[str, Any]) -> bool:
        ref = (r.get("subject") or r.get("patient") or {}).get("reference")
        return ref == f"Patient/{patient}" or (
            r["resourceType"] == "Patient" and r["id"] == patient
        )

    return [r for r in fhir_resources() if about(r)]


def _prefetch(patient: str) -> dict[str, Any]:
    """Every prefetch key filled from the record (the EHR did the fetching)."""
    record = _record(patient)

    def search(kind: str) -> dict[str, Any]:
        hits = [{"resource": r} for r in record if r["resourceType"] == kind]
        return {"resourceType": "Bundle", "type": "searchset", "entry": hits}

    return {
        "patient": next(r for r in record if r["resourceType"] == "Patient"),
        "observations": search("Observation"),
        "conditions": search("Condition"),
        "medications": search("MedicationRequest"),
        "questionnaireResponses": search("QuestionnaireResponse"),
    }


def _draft(drug: str, rxnorm: str, rid: str = "draft-1") -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {
            "text": drug,
            "coding": [
                {
                    "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                    "code": rxnorm,
                    "display": drug,
                }
            ],
        },
        "subject": {"reference": f"Patient/{TWITCHING_PATIENT}"},
    }


def _orders(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in resources],
    }


def test_patient_view_with_twitching_gets_the_assessment(cds):
    body = cds.request("patient-view", TWITCHING_PATIENT, prefetch=_prefetch(TWITCHING_PATIENT))
    response = cds.post(PATIENT_VIEW, body)
    assert 200 == response.status_code, response.text
    (card,) = response.json()["cards"]
    assert card["source"]["topic"]["code"] == "twitching-assessment"
    assert "Urgency: routine" in card["detail"]


def test_patient_view_without_twitching_gets_no_card(cds):
    body = cds.request("patient-view", ALFREDA, prefetch=_prefetch(ALFREDA))
    response = cds.post(PATIENT_VIEW, body)
    assert 200 == response.status_code, response.text
    assert {"cards": []} == response.json()


def test_every_synthea_chart_gets_no_card_through_the_fhir_server(cds, fhir_hits):
    """Four real charts, none about twitching, read from the FHIR server: no card, no error."""
    patients = [
        json.loads(path.read_text("utf-8"))["entry"][0]["resource"]["id"]
        for path in SYNTHEA.glob("*.json")
    ]
    before = fhir_hits["search Observation"]
    for patient in patients:
        response = cds.post(PATIENT_VIEW, cds.request("patient-view", patient))
        assert 200 == response.status_code, response.text
        assert [] == response.json()["cards"]
    # Brent Beer's 8 potassium and calcium results come in two pages of 5.
    assert fhir_hits["search Observation"] - before > len(patients)


def test_order_select_diuretic_with_low_potassium_gets_a_warning(cds):
    drafts = _orders(_draft("Furosemide 40 MG Oral Tablet", "315971"))
    context = {"selections": ["MedicationRequest/draft-1"], "draftOrders": drafts}
    body = cds.request("order-select", TWITCHING_PATIENT, prefetch=_prefetch(TWITCHING_PATIENT))
    body["context"].update(context)
    response = cds.post(ORDER_SELECT, body)
    assert 200 == response.status_code, response.text
    (card,) = response.json()["cards"]
    assert "warning" == card["indicator"]
    assert card["summary"].startswith("Furosemide 40 MG Oral Tablet ordered while potassium 3.20")
    assert "`Observation/" in card["detail"]  # the evidence: the low result
    assert ["MedicationRequest/draft-1"] == [
        a["resourceId"] for s in card["suggestions"] for a in s["actions"]
    ]


def test_order_select_reads_only_the_selected_orders(cds):
    drafts = _orders(_draft("Furosemide 40 MG Oral Tablet", "315971"))
    body = cds.request("order-select", TWITCHING_PATIENT, prefetch=_prefetch(TWITCHING_PATIENT))
    body["context"].update({"selections": [], "draftOrders": drafts})
    response = cds.post(ORDER_SELECT, body)
    assert {"cards": []} == response.json()


def test_order_sign_without_a_trigger_gets_no_card(cds):
    drafts = _orders(_draft("Acetaminophen 325 MG Oral Tablet", "313782"))
    body = cds.request("order-sign", TWITCHING_PATIENT)
    body["context"]["draftOrders"] = drafts
    response = cds.post(ORDER_SIGN, body)
    assert 200 == response.status_code, response.text
    assert {"cards": []} == response.json()


def test_order_sign_of_a_twitching_referral_gets_the_assessment(cds):
    referral = {
        "resourceType": "ServiceRequest",
        "id": "ref-1",
        "status": "draft",
        "intent": "order",
        "code": {"text": "Neurology referral"},
        "reasonCode": [{"coding": [{"system": "http://snomed.info/sct", "code": "82470000"}]}],
        "subject": {"reference": f"Patient/{TWITCHING_PATIENT}"},
    }
    body = cds.request("order-sign", TWITCHING_PATIENT)
    body["context"]["draftOrders"] = _orders(
        referral, _draft("Hydrochlorothiazide 25 MG", "316049")
    )
    response = cds.post(ORDER_SIGN, body)
    assert 200 == response.status_code, response.text
    topics = sorted(card["source"]["topic"]["code"] for card in response.json()["cards"])
    assert ["order-lowers-electrolyte", "twitching-assessment"] == topics


def test_the_thiazide_example_is_the_twitching_patient():
    """The fixture patient is the bundled example (a check on the test data itself)."""
    example = json.loads(THIAZIDE.read_text("utf-8"))
    assert len(example["entry"]) == len(_record(TWITCHING_PATIENT))


def _lab(loinc: str, value: float, unit: str, rid: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
        "subject": {"reference": "Patient/lab-1"},
        "effectiveDateTime": dt.datetime.now(dt.UTC).date().isoformat(),
        "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org"},
    }


def _lab_chart(*labs: dict[str, Any]) -> dict[str, Any]:
    return {
        "patient": {
            "resourceType": "Patient",
            "id": "lab-1",
            "gender": "male",
            "birthDate": "1950-01-01",
        },
        "observations": {"resourceType": "Bundle", "entry": [{"resource": lab} for lab in labs]},
        "conditions": None,
        "medications": None,
        "questionnaireResponses": None,
    }


def test_a_critical_potassium_makes_the_card_critical(cds):
    draft = _draft("Furosemide 40 MG Oral Tablet", "315971") | {
        "subject": {"reference": "Patient/lab-1"}
    }
    body = cds.request(
        "order-sign", "lab-1", prefetch=_lab_chart(_lab("2823-3", 2.4, "mmol/L", "k"))
    )
    body["context"]["draftOrders"] = _orders(draft)
    (card,) = cds.post(ORDER_SIGN, body).json()["cards"]
    assert "critical" == card["indicator"]
    assert "critical low" in card["detail"]
    assert card["suggestions"][0]["isRecommended"]


def test_a_proton_pump_inhibitor_with_low_magnesium_but_normal_potassium(cds):
    labs = (_lab("2823-3", 4.1, "mmol/L", "k"), _lab("19123-9", 1.4, "mg/dL", "mg"))
    omeprazole = {
        **_draft("Omeprazole 20 MG Delayed Release Oral Capsule", "198053"),
        "subject": {"reference": "Patient/lab-1"},
    }
    body = cds.request("order-sign", "lab-1", prefetch=_lab_chart(*labs))
    body["context"]["draftOrders"] = _orders(omeprazole)
    (card,) = cds.post(ORDER_SIGN, body).json()["cards"]
    assert "warning" == card["indicator"]
    assert "while magnesium 0.58 mmol/L is low" in card["summary"]
    assert "Potassium" not in card["detail"]


def test_an_answered_intake_questionnaire_alone_is_relevant(cds):
    example = json.loads(THIAZIDE.read_text("utf-8"))
    answers = next(
        e["resource"]
        for e in example["entry"]
        if e["resource"]["resourceType"] == "QuestionnaireResponse"
    )
    answers = {**answers, "id": "qr-1", "subject": {"reference": "Patient/lab-1"}}
    prefetch = _lab_chart()
    prefetch["questionnaireResponses"] = {
        "resourceType": "Bundle",
        "entry": [{"resource": answers}],
    }
    body = cds.request("patient-view", "lab-1", prefetch=prefetch)
    response = cds.post(PATIENT_VIEW, body)
    assert 200 == response.status_code, response.text
    assert 1 == len(response.json()["cards"])


def test_a_low_result_since_repeated_normal_gives_no_warning(cds):
    """Only the latest result counts: potassium 3.1 last week, 4.2 today."""
    old = _lab("2823-3", 3.1, "mmol/L", "k-old")
    old["effectiveDateTime"] = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=7)).isoformat()
    draft = _draft("Furosemide 40 MG Oral Tablet", "315971")
    draft["subject"] = {"reference": "Patient/lab-1"}
    chart = _lab_chart(old, _lab("2823-3", 4.2, "mmol/L", "k-new"))
    body = cds.request("order-sign", "lab-1", prefetch=chart)
    body["context"]["draftOrders"] = _orders(draft)
    assert {"cards": []} == cds.post(ORDER_SIGN, body).json()


def test_a_fasciculation_condition_alone_is_relevant(cds):
    condition = {
        "resourceType": "Condition",
        "id": "c1",
        "subject": {"reference": "Patient/lab-1"},
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active",
                }
            ]
        },
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "R25.3"}]},
        "onsetDateTime": (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=3)).isoformat(),
    }
    prefetch = _lab_chart()
    prefetch["conditions"] = {"resourceType": "Bundle", "entry": [{"resource": condition}]}
    body = cds.request("patient-view", "lab-1", prefetch=prefetch)
    response = cds.post(PATIENT_VIEW, body)
    assert 200 == response.status_code, response.text
    assert 1 == len(response.json()["cards"])

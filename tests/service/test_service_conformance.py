"""A conformance client shaped like the Inferno CDS Hooks / CRD test kit's checks.

Discovery: every service has hook, id, title, description, prefetch templates and
usageRequirements. Cards: the CDS Hooks card schema (summary under 140 characters, indicator,
source, selectionBehavior with suggestions, actions with a resource or resourceId), a source topic,
uuids unique on every call, override reasons on warning and critical cards, absolute links, and a
suggested resource that is valid FHIR R4.
"""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import pytest
from fhir.resources.R4B.servicerequest import ServiceRequest

from fasciculate.service import prefetch_templates
from service._service_support import ROOT, TWITCHING_PATIENT, as_served

SCHEMA = json.loads((ROOT / "tests" / "schemas" / "cds-hooks-card.schema.json").read_text("utf-8"))
HOOKS = {"patient-view", "order-select", "order-sign"}
_URGENT = json.loads((ROOT / "examples" / "fhir" / "urgent-bulbar.json").read_text("utf-8"))


def _cards(cds, hook: str, service: str, context: dict[str, Any] | None = None) -> list[Any]:
    body = cds.request(hook, TWITCHING_PATIENT)
    body["context"].update(context or {})
    response = cds.post(f"/cds-services/{service}", body)
    assert 200 == response.status_code, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()["cards"]


def _referral_context() -> dict[str, Any]:
    referral = {
        "resourceType": "ServiceRequest",
        "id": "ref-1",
        "status": "draft",
        "intent": "order",
        "subject": {"reference": f"Patient/{TWITCHING_PATIENT}"},
        "reasonCode": [{"text": "Twitching of the left thigh"}],
    }
    furosemide = {
        "resourceType": "MedicationRequest",
        "id": "med-1",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {"text": "Furosemide 40 MG Oral Tablet"},
        "subject": {"reference": f"Patient/{TWITCHING_PATIENT}"},
    }
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": referral}, {"resource": furosemide}],
    }
    return {
        "draftOrders": bundle,
        "selections": ["ServiceRequest/ref-1", "MedicationRequest/med-1"],
    }


def test_discovery_lists_every_service_with_the_required_fields(cds):
    response = cds.get("/cds-services")
    assert 200 == response.status_code
    services = response.json()["services"]
    assert HOOKS == {service["hook"] for service in services}
    for service in services:
        assert {"hook", "id", "title", "description", "prefetch", "usageRequirements"} <= set(
            service
        )
        assert re.fullmatch(r"[A-Za-z0-9_.~-]+", service["id"])
        assert prefetch_templates() == service["prefetch"]


def test_prefetch_templates_name_the_patient_and_the_kb_codes():
    templates = prefetch_templates()
    assert "Patient/{{context.patientId}}" == templates["patient"]
    assert all("{{context.patientId}}" in template for template in templates.values())
    observations = templates["observations"]
    for code in ("2823-3", "6298-4", "2601-3", "19123-9", "75325-1"):
        assert f"http://loinc.org|{code}" in observations
    assert templates["medications"].startswith("MedicationRequest?")
    assert templates["conditions"].startswith("Condition?")
    assert templates["questionnaireResponses"].startswith("QuestionnaireResponse?")


@pytest.mark.parametrize(
    ("hook", "service", "context"),
    [
        ("patient-view", "fasciculate-patient-view", None),
        ("order-select", "fasciculate-order-select", _referral_context()),
        ("order-sign", "fasciculate-order-sign", _referral_context()),
    ],
)
def test_cards_conform(cds, hook, service, context):
    cards = _cards(cds, hook, service, context)
    assert cards
    for card in cards:
        jsonschema.validate(card, SCHEMA)
        assert len(card["summary"]) < 140
        assert card["source"]["label"]
        assert card["source"]["topic"]["code"]
        if card["indicator"] in {"warning", "critical"}:
            assert all(reason["display"] for reason in card["overrideReasons"])
        for link in card.get("links", []):
            assert "absolute" == link["type"]
            assert link["url"].startswith("https://")
        if card.get("suggestions"):
            assert card["selectionBehavior"] in {"at-most-one", "any"}
        for suggestion in card.get("suggestions", []):
            for action in suggestion["actions"]:
                if action["type"] == "create":
                    ServiceRequest.model_validate(action["resource"])


def test_uuids_are_unique_on_every_call(cds):
    context = _referral_context()
    seen: list[str] = []
    for _ in range(3):
        for card in _cards(cds, "order-sign", "fasciculate-order-sign", context):
            seen.append(card["uuid"])
            seen += [s["uuid"] for s in card.get("suggestions", [])]
    assert len(seen) == len(set(seen))
    assert len(seen) >= 9


def test_an_urgent_chart_gets_a_warning_with_links(cds):
    """A bulbar chart (the bundled urgent example) as prefetch: warning, NICE NG42 linked."""
    body = cds.request("patient-view", "bulbar-1")
    resources = [entry["resource"] for entry in as_served(_URGENT, "bulbar-1", "b")["entry"]]
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    body["prefetch"] = {
        "patient": patient,
        "observations": {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": r} for r in resources if r["resourceType"] != "Patient"],
        },
        "conditions": None,
        "medications": None,
        "questionnaireResponses": None,
    }
    response = cds.post("/cds-services/fasciculate-patient-view", body)
    assert 200 == response.status_code, response.text
    (card,) = response.json()["cards"]
    assert "warning" == card["indicator"]
    assert any("nice.org.uk/guidance/ng42" in link["url"] for link in card["links"])

"""Malformed calls and missing data: the right 4xx with an OperationOutcome, and nothing breaks."""

from __future__ import annotations

import json
import socket
import uuid

import pytest

from service._service_support import TWITCHING_PATIENT

PATIENT_VIEW = "/cds-services/fasciculate-patient-view"


def _outcome(response, status: int) -> str:
    assert status == response.status_code, response.text
    body = response.json()
    assert "OperationOutcome" == body["resourceType"]
    (issue,) = body["issue"]
    assert "error" == issue["severity"]
    return issue["diagnostics"]


def _still_serving(cds) -> None:
    assert 200 == cds.get("/cds-services").status_code
    body = cds.request("patient-view", TWITCHING_PATIENT)
    assert 1 == len(cds.post(PATIENT_VIEW, body).json()["cards"])


def test_bad_json_is_400(cds):
    response = cds.post(
        PATIENT_VIEW, content=b'{"hook": ', headers={"Content-Type": "application/json"}
    )
    assert "not valid JSON" in _outcome(response, 400)


@pytest.mark.parametrize(
    "content",
    [
        json.dumps({"hook": "patient-view"}).encode("utf-16"),  # JSON must be UTF-8 (RFC 8259)
        b'{"hook": "patient-view", "hookInstance": "\\ud800"}',  # a lone surrogate: no text
        b'{"hook": "patient-view", "hookInstance": "\xff"}',  # not UTF-8
    ],
    ids=["utf-16", "lone surrogate", "bad utf-8"],
)
def test_json_that_is_not_utf_8_text_is_400(cds, content):
    """Refused as bad JSON, before anything reads it; the service goes on."""
    response = cds.post(PATIENT_VIEW, content=content, headers={"Content-Type": "application/json"})
    assert "not valid JSON" in _outcome(response, 400)
    _still_serving(cds)


def test_a_json_array_is_400(cds):
    assert "JSON object" in _outcome(cds.post(PATIENT_VIEW, [1, 2]), 400)


def test_wrong_hook_is_400(cds):
    body = cds.request("order-sign", TWITCHING_PATIENT)
    assert "hook" in _outcome(cds.post(PATIENT_VIEW, body), 400)


@pytest.mark.parametrize("missing", ["context", "hookInstance"])
def test_missing_member_is_400(cds, missing):
    body = cds.request("patient-view", TWITCHING_PATIENT)
    del body[missing]
    assert missing in _outcome(cds.post(PATIENT_VIEW, body), 400)


@pytest.mark.parametrize(
    ("service", "hook", "key"),
    [
        ("fasciculate-patient-view", "patient-view", "patientId"),
        ("fasciculate-order-select", "order-select", "selections"),
        ("fasciculate-order-sign", "order-sign", "draftOrders"),
    ],
)
def test_missing_context_key_is_400(cds, service, hook, key):
    body = cds.request(hook, TWITCHING_PATIENT)
    body["context"].update({"selections": [], "draftOrders": {"resourceType": "Bundle"}})
    body["context"].pop(key)
    assert f"context.{key}" in _outcome(cds.post(f"/cds-services/{service}", body), 400)


def test_a_10_mb_body_is_413_and_nothing_breaks(cds):
    big = json.dumps({"hook": "patient-view", "padding": "x" * 10_000_000}).encode()
    response = cds.post(PATIENT_VIEW, content=big, headers={"Content-Type": "application/json"})
    assert "exceeds" in _outcome(response, 413)
    _still_serving(cds)


def test_wrong_content_type_is_415(cds):
    response = cds.post(
        PATIENT_VIEW, content=b"hook=patient-view", headers={"Content-Type": "text/plain"}
    )
    assert "Content-Type" in _outcome(response, 415)


def test_unknown_service_is_404(cds):
    response = cds.post("/cds-services/no-such-service", cds.request("patient-view", "x"))
    assert "no-such-service" in _outcome(response, 404)


def test_unknown_path_is_404_and_wrong_method_405(cds):
    _outcome(cds.get("/nothing-here"), 404)
    _outcome(cds.get(PATIENT_VIEW), 405)


def test_no_prefetch_and_no_fhir_server_is_412(cds):
    body = cds.request("patient-view", TWITCHING_PATIENT)
    del body["fhirServer"]
    assert "fhirServer" in _outcome(cds.post(PATIENT_VIEW, body), 412)


def test_a_failing_fhir_server_is_412(cds):
    body = cds.request("patient-view", TWITCHING_PATIENT)
    body["fhirAuthorization"]["access_token"] = "wrong"  # noqa: S105 - the FHIR server refuses it
    assert "answered 401" in _outcome(cds.post(PATIENT_VIEW, body), 412)


def test_an_unreachable_fhir_server_is_412(cds):
    body = cds.request("patient-view", TWITCHING_PATIENT, fhirServer="http://127.0.0.1:9/fhir")
    assert "did not answer" in _outcome(cds.post(PATIENT_VIEW, body), 412)


@pytest.mark.parametrize("key", ["patient", "observations"])
def test_a_fhir_server_that_answers_no_fhir_is_412(cds, key):
    body = cds.request("patient-view", TWITCHING_PATIENT, fhirServer=f"{cds.fhir.url}/junk")
    body["prefetch"] = {k: None for k in ("patient", "observations") if k != key}
    assert "not FHIR" in _outcome(cds.post(PATIENT_VIEW, body), 412)


def test_a_fhir_server_off_the_allow_list_is_412(make_service):
    cds = make_service(fhir_servers=["https://ehr.example.org/fhir"])
    body = cds.request("patient-view", TWITCHING_PATIENT)
    assert "not an allowed server" in _outcome(cds.post(PATIENT_VIEW, body), 412)


def test_null_prefetch_means_no_data(cds):
    """Every key null: nothing to read, so no card (and no call to the FHIR server)."""
    body = cds.request("patient-view", TWITCHING_PATIENT)
    del body["fhirServer"]
    body["prefetch"] = dict.fromkeys(
        ("patient", "observations", "conditions", "medications", "questionnaireResponses")
    )
    response = cds.post(PATIENT_VIEW, body)
    assert 200 == response.status_code
    assert {"cards": []} == response.json()


def test_keys_not_prefetched_are_fetched(cds, fhir_hits):
    """Some keys sent (null), the rest fetched: the twitching observations still come through."""
    before = fhir_hits["search Observation"]
    body = cds.request("patient-view", TWITCHING_PATIENT, prefetch={"conditions": None})
    response = cds.post(PATIENT_VIEW, body)
    assert 1 == len(response.json()["cards"])
    assert 1 == fhir_hits["search Observation"] - before


def test_a_prefetch_that_is_not_fhir_is_400(cds):
    body = cds.request("patient-view", TWITCHING_PATIENT, prefetch={"patient": "Patient/1"})
    assert "prefetch.patient" in _outcome(cds.post(PATIENT_VIEW, body), 400)


def test_an_unreadable_record_is_422_not_an_empty_card_list(cds):
    observation = {
        "resourceType": "Observation",
        "id": "k1",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "2823-3"}]},
        "subject": {"reference": f"Patient/{TWITCHING_PATIENT}"},
        "effectiveDateTime": "2026-12-01",
        "valueQuantity": {"value": 3.1, "unit": "furlongs"},
    }
    body = cds.request(
        "patient-view",
        TWITCHING_PATIENT,
        prefetch={"observations": {"resourceType": "Bundle", "entry": [{"resource": observation}]}},
    )
    assert "cannot be read" in _outcome(cds.post(PATIENT_VIEW, body), 422)


def test_cors_is_off_by_default(cds):
    headers = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    response = cds.http.options(PATIENT_VIEW, headers=headers)
    assert "access-control-allow-origin" not in response.headers


def test_cors_when_configured(make_service):
    cds = make_service(cors_origins=["https://app.example"])
    headers = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    response = cds.http.options(PATIENT_VIEW, headers=headers)
    assert "https://app.example" == response.headers["access-control-allow-origin"]


def test_health_needs_no_token(cds):
    response = cds.get("/health", token=None)
    assert 200 == response.status_code
    assert "ok" == response.json()["status"]


def test_hook_instance_is_logged_without_the_token(cds, caplog):
    body = cds.request("patient-view", TWITCHING_PATIENT)
    token = cds.token(PATIENT_VIEW)
    with caplog.at_level("DEBUG", logger="fasciculate.service"):
        cds.post(PATIENT_VIEW, body, token=token)
        cds.post(PATIENT_VIEW, body, token=token)  # a replay: refused, and logged at debug level
    calls = [r for r in caplog.records if r.getMessage() == "cds-call"]
    fields = calls[-1].fields
    assert body["hookInstance"] == fields["hookInstance"]
    assert "routine" == fields["urgency"]
    assert fields["latencyMs"] > 0
    assert any(r.getMessage() == "unauthorized" for r in caplog.records)
    assert token not in caplog.text
    assert token.split(".")[2] not in " ".join(
        json.dumps(r.__dict__, default=str) for r in caplog.records
    )
    assert uuid.UUID(fields["hookInstance"])


def test_a_body_declared_far_too_big_is_refused_unread(cds):
    """Content-Length of 200 MB: 413 at once, without waiting for the body."""
    path = PATIENT_VIEW
    token = cds.token(path)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        "Content-Type: application/json\r\nContent-Length: 200000000\r\n\r\n{"
    )
    with socket.create_connection(("127.0.0.1", cds.running.port), timeout=10) as sock:
        sock.sendall(head.encode())
        answer = sock.recv(4096).decode()
    assert answer.startswith("HTTP/1.1 413")
    _still_serving(cds)

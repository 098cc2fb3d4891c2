"""Writing back (issue 15, items 7 and 8): new ids each call, a transaction that resolves.

The output Bundle is POSTed to the EHR as it is: a ``transaction`` whose entries create a
RiskAssessment and a ServiceRequest, referring to each other by ``urn:uuid:`` and to the patient's
own resources by their ids on the server the input came from.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.riskassessment import RiskAssessment
from fhir.resources.R4B.servicerequest import ServiceRequest

import fasciculate
from _builders import negative
from _fhir import ICD10CM, PATIENT_URL, bundle, condition, lab, patient
from conftest import EXAMPLES
from fasciculate import Urgency
from fasciculate.fhir import assessment_to_cards, assessment_to_fhir, read_bundle

AT = dt.datetime(2026, 11, 21, 9, 30, tzinfo=dt.UTC)
SERVER = "https://ehr.example/fhir"
BY_URGENCY = {
    Urgency.SELF_CARE: negative(),
    Urgency.ROUTINE: negative(findings={"pain": "present"}),
    Urgency.URGENT: negative(findings={"slurred_speech": "present"}),
    Urgency.EMERGENCY: negative(findings={"saddle_sensory_loss": "present"}),
}
PRIORITY = {Urgency.ROUTINE: "routine", Urgency.URGENT: "urgent", Urgency.EMERGENCY: "stat"}
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_MOMENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d")


def counter() -> Any:
    """Ids 00000000-0000-4000-8000-000000000001, ...002, ... in order."""
    numbers = itertools.count(1)
    return lambda: uuid.UUID(f"00000000-0000-4000-8000-{next(numbers):012d}")


def on_server(data: dict[str, Any], *, post: bool = False) -> dict[str, Any]:
    """*data* as an EHR serves it: each resource with an id, each fullUrl its server URL.

    With *post*, a transaction that was to create them instead (their ids are placeholders).
    """
    served = json.loads(json.dumps(data).replace(PATIENT_URL, "Patient/123"))
    for number, item in enumerate(served["entry"], start=1):
        resource = item["resource"]
        resource["id"] = "123" if resource["resourceType"] == "Patient" else f"r{number}"
        item["fullUrl"] = f"{SERVER}/{resource['resourceType']}/{resource['id']}"
        if post:
            item["fullUrl"] = f"urn:uuid:00000000-0000-4000-8000-{number:012d}"
            item["request"] = {"method": "POST", "url": resource["resourceType"]}
    served["type"] = "transaction" if post else "searchset"
    return served


def emergency_bundle() -> dict[str, Any]:
    """A critical potassium and a dysarthria Condition: an emergency citing both."""
    return bundle(
        patient(),
        lab("2823-3", "Potassium", 2.3, "mmol/L"),
        condition(ICD10CM, "R47.1", "Dysarthria and anarthria"),
    )


def references(value: object) -> list[str]:
    """Every ``reference`` anywhere in *value*."""
    if isinstance(value, dict):
        own = [value["reference"]] if isinstance(value.get("reference"), str) else []
        return own + [ref for item in value.values() for ref in references(item)]
    if isinstance(value, list):
        return [ref for item in value for ref in references(item)]
    return []


def _resources(output: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["resource"]["resourceType"]: item["resource"] for item in output["entry"]}


def test_every_call_has_new_identifiers():
    """Two calls for one assessment (two patients alike) share no id, card uuid or fullUrl."""
    assessment = fasciculate.assess(BY_URGENCY[Urgency.URGENT])
    first, second = (assessment_to_fhir(assessment) for _ in range(2))
    ids = [
        {first["id"], *(e["fullUrl"] for e in first["entry"])},
        {second["id"], *(e["fullUrl"] for e in second["entry"])},
    ]
    assert set() == ids[0] & ids[1]
    cards = [assessment_to_cards(assessment)[0] for _ in range(2)]
    assert cards[0]["uuid"] != cards[1]["uuid"]
    assert cards[0]["suggestions"][0]["uuid"] != cards[1]["suggestions"][0]["uuid"]
    assert len({card["suggestions"][0]["actions"][0]["resource"]["id"] for card in cards}) == 2


def test_an_id_factory_and_a_time_make_the_output_reproducible():
    """Given ids and a time, the same arguments give the same output; ids are used in order."""
    assessment = fasciculate.assess(BY_URGENCY[Urgency.EMERGENCY])
    first = assessment_to_fhir(assessment, ids=counter(), at=AT)
    assert first == assessment_to_fhir(assessment, ids=counter(), at=AT)
    resources = _resources(first)
    assert (
        "00000000-0000-4000-8000-000000000001",
        "00000000-0000-4000-8000-000000000002",
        "00000000-0000-4000-8000-000000000003",
    ) == (resources["RiskAssessment"]["id"], resources["ServiceRequest"]["id"], first["id"])
    (card,) = assessment_to_cards(assessment, ids=counter(), at=AT)
    assert card == assessment_to_cards(assessment, ids=counter(), at=AT)[0]
    assert card["uuid"].endswith("0001")


def test_by_default_only_the_ids_and_the_time_change_between_calls():
    """Without ids or at, two outputs are the same once ids and times are masked."""
    assessment = fasciculate.assess(BY_URGENCY[Urgency.ROUTINE])

    def masked(value: object) -> str:
        return _MOMENT.sub("T", _UUID.sub("U", json.dumps(value)))

    assert masked(assessment_to_fhir(assessment)) == masked(assessment_to_fhir(assessment))
    assert masked(assessment_to_cards(assessment)) == masked(assessment_to_cards(assessment))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"ids": lambda: "not-a-uuid"}, "ids: the factory returned 'not-a-uuid'"),
        ({"ids": "uuid4"}, "ids: expected a callable"),
        ({"at": dt.datetime(2026, 11, 21, 9, 30)}, "at: expected a datetime with a time zone"),  # noqa: DTZ001
        ({"at": "2026-11-21"}, "at: expected a datetime with a time zone"),
    ],
)
def test_a_bad_id_factory_or_time_is_a_clear_error(options, message):
    """A factory that makes no UUID, or a time without a zone, is an error naming the argument."""
    assessment = fasciculate.assess(BY_URGENCY[Urgency.URGENT])
    with pytest.raises(ValueError, match=re.escape(message)):
        assessment_to_fhir(assessment, **options)
    with pytest.raises(ValueError, match=re.escape(message)):
        assessment_to_cards(assessment, **options)


@pytest.mark.parametrize("urgency", list(Urgency))
def test_the_bundle_is_a_transaction_to_post_as_it_is(urgency: Urgency):
    """Type transaction; each entry POSTs its resource, at a urn:uuid fullUrl matching its id."""
    output = assessment_to_fhir(fasciculate.assess(BY_URGENCY[urgency]), at=AT)
    Bundle.model_validate(output)
    assert "transaction" == output["type"]
    for item in output["entry"]:
        resource = item["resource"]
        assert {"method": "POST", "url": resource["resourceType"]} == item["request"]
        assert f"urn:uuid:{resource['id']}" == item["fullUrl"]
    risk = RiskAssessment.model_validate(_resources(output)["RiskAssessment"])
    assert AT == risk.occurrenceDateTime


@pytest.mark.parametrize("urgency", [Urgency.ROUTINE, Urgency.URGENT, Urgency.EMERGENCY])
def test_the_referral_is_coded_dated_and_prioritised(urgency: Urgency):
    """SNOMED CT 3457005 Patient referral, authoredOn the time of the call, priority by urgency."""
    output = assessment_to_fhir(fasciculate.assess(BY_URGENCY[urgency]), at=AT)
    request = ServiceRequest.model_validate(_resources(output)["ServiceRequest"])
    (coding,) = request.code.coding
    assert ("http://snomed.info/sct", "3457005", "Patient referral") == (
        coding.system,
        coding.code,
        coding.display,
    )
    assert (AT, PRIORITY[urgency], "proposal") == (
        request.authoredOn,
        request.priority,
        request.intent,
    )


def test_references_resolve_to_the_servers_ids():
    """From a server's bundle: subject Patient/123, reasons its Observation and Condition ids."""
    reading = read_bundle(on_server(emergency_bundle()))
    assert "Patient/123" == reading.server_references[reading.subject]
    assessment = fasciculate.assess(reading.presentation)
    assert Urgency.EMERGENCY == assessment.urgency
    output = assessment_to_fhir(assessment, reading=reading, at=AT)
    Bundle.model_validate(output)
    own = {item["fullUrl"] for item in output["entry"]}
    on_the_server = {
        f"{item['resource']['resourceType']}/{item['resource']['id']}"
        for item in on_server(emergency_bundle())["entry"]
    }
    assert set() == set(references(output)) - own - on_the_server
    request = _resources(output)["ServiceRequest"]
    assert {"reference": "Patient/123", "type": "Patient"} == request["subject"]
    reasons = {(r["type"], r["reference"]) for r in request["reasonReference"]}
    assert {("Observation", "Observation/r2"), ("Condition", "Condition/r3")} <= reasons
    assert request["supportingInfo"][0] == {
        "reference": output["entry"][0]["fullUrl"],
        "type": "RiskAssessment",
    }
    (card,) = assessment_to_cards(assessment, reading=reading, at=AT)
    action = card["suggestions"][0]["actions"][0]["resource"]
    ServiceRequest.model_validate(action)
    assert set() == set(references(card)) - on_the_server


def test_ids_a_transaction_was_to_create_are_not_server_ids():
    """Entries the input bundle POSTs have placeholder ids: nothing refers to them."""
    reading = read_bundle(on_server(emergency_bundle(), post=True))
    assert {} == dict(reading.server_references)
    output = assessment_to_fhir(fasciculate.assess(reading.presentation), reading=reading)
    own = {item["fullUrl"] for item in output["entry"]}
    assert set() == set(references(output)) - own


@pytest.mark.parametrize("path", sorted((EXAMPLES / "fhir").glob("*.json")), ids=lambda p: p.stem)
def test_bundle_local_references_are_left_out_and_counted(path: Path):
    """urn:uuid references of the input name nothing on the server: left out, and said so."""
    reading = read_bundle(path.read_bytes())
    assessment = fasciculate.assess(reading.presentation)
    output = assessment_to_fhir(assessment, reading=reading, at=AT)
    Bundle.model_validate(output)
    own = {item["fullUrl"] for item in output["entry"]}
    assert set() == set(references(output)) - own
    request = _resources(output).get("ServiceRequest")
    if request is None:
        return
    assert {"display": "the assessed patient"} == request["subject"]
    cited = {ref for refs in reading.evidence.values() for ref in refs}
    if cited & {ref for rule in assessment.rules_fired for ref in _inputs(reading, rule)}:
        assert "had no server id and are not referenced" in request["note"][0]["text"]


def _inputs(reading, rule) -> set[str]:
    return {
        ref
        for fact in rule.facts
        for field in fact.input.split(",")
        for ref in reading.evidence.get(field, ())
    }


def test_explicit_server_references_are_kept_and_urn_uuids_dropped():
    """Without a reading, literal server references are written, urn:uuid ones are not."""
    assessment = fasciculate.assess({"findings": {"slurred_speech": "present"}})
    evidence = {
        "findings.slurred_speech": [
            "urn:uuid:00000000-0000-4000-8000-000000000009",
            f"{SERVER}/Observation/9",
        ]
    }
    output = assessment_to_fhir(assessment, subject="Patient/7", evidence=evidence)
    request = _resources(output)["ServiceRequest"]
    assert [{"reference": f"{SERVER}/Observation/9", "type": "Observation"}] == (
        request["reasonReference"]
    )
    assert "Patient/7" == request["subject"]["reference"]
    assert "1 resources of the input bundle" in request["note"][0]["text"]


def test_the_command_line_writes_a_transaction_referring_to_the_server(tmp_path: Path):
    """`fasciculate assess --fhir B --format fhir` in a process: the server's patient, POSTs."""
    path = tmp_path / "served.json"
    path.write_text(json.dumps(on_server(emergency_bundle())))
    done = subprocess.run(
        [sys.executable, "-m", "fasciculate", "assess", "--fhir", str(path), "--format", "fhir"],
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert (0, b"") == (done.returncode, done.stderr)
    output = json.loads(done.stdout)
    Bundle.model_validate(output)
    assert "transaction" == output["type"]
    assert "Patient/123" == _resources(output)["ServiceRequest"]["subject"]["reference"]

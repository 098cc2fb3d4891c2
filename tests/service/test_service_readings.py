"""A record read again: the same answer with fresh ids, and a changed record read afresh."""

from __future__ import annotations

import datetime as dt
import gc
import pickle
from typing import Any

import pytest

import fasciculate
from fasciculate.fhir import read_bundle
from fasciculate.service._readings import Assessed, Readings, Record
from service._service_support import TWITCHING_PATIENT, fhir_resources

PATIENT_VIEW = "/cds-services/fasciculate-patient-view"
DAY = dt.date(2026, 1, 5)


def _record() -> list[dict[str, Any]]:
    def about(r: dict[str, Any]) -> bool:
        ref = (r.get("subject") or r.get("patient") or {}).get("reference")
        return ref == f"Patient/{TWITCHING_PATIENT}" or r.get("id") == TWITCHING_PATIENT

    return [r for r in fhir_resources() if about(r)]


def _prefetch(record: list[dict[str, Any]], *, observations: bool = True) -> dict[str, Any]:
    def search(kind: str) -> dict[str, Any]:
        hits = [{"resource": r} for r in record if r["resourceType"] == kind]
        return {"resourceType": "Bundle", "type": "searchset", "entry": hits}

    return {
        "patient": next(r for r in record if r["resourceType"] == "Patient"),
        "observations": search("Observation") if observations else None,
        "conditions": search("Condition"),
        "medications": search("MedicationRequest"),
        "questionnaireResponses": search("QuestionnaireResponse"),
    }


def _ids(card: dict[str, Any]) -> list[str]:
    (suggestion,) = card["suggestions"]
    (action,) = suggestion["actions"]
    return [card["uuid"], suggestion["uuid"], action["resource"]["id"]]


def _without_ids(card: dict[str, Any]) -> dict[str, Any]:
    (suggestion,) = card["suggestions"]
    (action,) = suggestion["actions"]
    resource = {k: v for k, v in action["resource"].items() if k not in {"id", "authoredOn"}}
    action = {**action, "resource": resource}
    suggestion = {k: v for k, v in suggestion.items() if k != "uuid"} | {"actions": [action]}
    return {k: v for k, v in card.items() if k != "uuid"} | {"suggestions": [suggestion]}


def test_the_same_record_again_gets_the_same_card_with_new_ids(cds):
    """A chart opened twice: equal cards, but the card, suggestion and ServiceRequest ids new."""
    prefetch = _prefetch(_record())
    first, second = (
        cds.post(PATIENT_VIEW, cds.request("patient-view", TWITCHING_PATIENT, prefetch=prefetch))
        for _ in range(2)
    )
    (one,), (two,) = first.json()["cards"], second.json()["cards"]
    assert _without_ids(one) == _without_ids(two)
    assert not set(_ids(one)) & set(_ids(two))


def test_a_changed_record_is_read_again(cds):
    """The same patient with the observations gone (the low potassium): a card without them."""
    record = _record()
    body = cds.request("patient-view", TWITCHING_PATIENT, prefetch=_prefetch(record))
    (before,) = cds.post(PATIENT_VIEW, body).json()["cards"]
    changed = _prefetch(record, observations=False)
    body = cds.request("patient-view", TWITCHING_PATIENT, prefetch=changed)
    (after,) = cds.post(PATIENT_VIEW, body).json()["cards"]
    assert "Potassium" in before["detail"]
    assert "Potassium" not in after["detail"]


@pytest.mark.parametrize(("kept", "assessed"), [(None, 1), (0, 2)])
def test_records_kept_decides_whether_a_record_is_assessed_again(
    make_service, monkeypatch, kept, assessed
):
    """By default the second call with a record reuses its assessment; ``records_kept = 0``: not."""
    cds = make_service() if kept is None else make_service(records_kept=kept)
    calls = []
    assess = fasciculate.assess

    def counted(presentation: Any) -> Any:
        calls.append(presentation)
        return assess(presentation)

    monkeypatch.setattr(fasciculate, "assess", counted)
    prefetch = _prefetch(_record())
    prefetch["patient"] = {**prefetch["patient"], "meta": {"versionId": f"kept-{kept}"}}
    for _ in range(2):
        body = cds.request("patient-view", TWITCHING_PATIENT, prefetch=prefetch)
        assert 1 == len(cds.post(PATIENT_VIEW, body).json()["cards"])
    assert assessed == len(calls)


def _reader(calls: list[str]) -> Any:
    def read(resources: list[dict[str, Any]], patient: str, day: dt.date) -> Any:
        calls.append(patient)
        bundle = {"resourceType": "Bundle", "type": "collection", "entry": []}
        bundle["entry"] = [{"resource": r} for r in resources]
        return read_bundle(bundle, as_of=day, patient=patient)

    return read


def _patient(pid: str) -> list[dict[str, Any]]:
    return [{"resourceType": "Patient", "id": pid, "gender": "female"}]


def test_readings_keep_the_most_recently_used_records():
    """At most *kept* records; the least recently used goes first; a new day reads again."""
    calls: list[str] = []
    readings = Readings(kept=2)
    for pid in ("a", "b", "a", "c", "a", "b"):
        readings.record(_patient(pid), pid, DAY, _reader(calls))
    # a, b read; a kept; c read (b out, a used more lately); a kept; b read again (c out).
    assert ["a", "b", "c", "b"] == calls
    assert 2 == len(readings)
    readings.record(_patient("a"), "a", DAY + dt.timedelta(days=1), _reader(calls))
    assert ["a", "b", "c", "b", "a"] == calls


def test_readings_keep_no_failure_and_nothing_when_told_to():
    """A read that raises is not kept; ``kept=0`` reads every time."""
    readings = Readings()

    def failing(*_args: object) -> Any:
        raise ValueError("unreadable")

    with pytest.raises(ValueError, match="unreadable"):
        readings.record(_patient("a"), "a", DAY, failing)
    assert 0 == len(readings)
    calls: list[str] = []
    none_kept = Readings(kept=0)
    for _ in range(2):
        none_kept.record(_patient("a"), "a", DAY, _reader(calls))
    assert ["a", "a"] == calls
    assert 0 == len(none_kept)


def test_a_record_s_first_cards_are_its_template_and_later_ones_copies_with_new_ids():
    """The first call gets the template made for it; a later one new ids; the template stays."""
    template = {"uuid": "card-1", "summary": "Routine", "when": "2026-01-05T10:00:00+00:00"}
    built: list[object] = []

    def build(reading: object) -> Assessed:
        built.append(reading)
        return Assessed((template,), "routine", frozenset({"card-1"}), template["when"])

    record = Record(pickled=pickle.dumps(None), fresh=None)  # build does not read it
    first, urgency = record.cards(build)
    second, _ = record.cards(build)
    assert [template] == first
    assert "routine" == urgency
    assert 1 == len(built)
    assert "card-1" != second[0]["uuid"]
    assert template["when"] != second[0]["when"]  # the later call's own time
    assert {"uuid": "card-1", "summary": "Routine", "when": "2026-01-05T10:00:00+00:00"} == template


def test_a_kept_record_holds_its_reading_pickled_once_its_call_is_served():
    """The call that read a record uses the reading as read; a later one gets an equal reading
    unpickled, and the records kept are a handful of objects each to the cyclic collector."""
    calls: list[str] = []
    readings = Readings(kept=64)
    resources = _record()
    first = readings.record(resources, TWITCHING_PATIENT, DAY, _reader(calls))
    as_read = first.reading
    assert as_read is first.reading  # the call that read it: the same object
    readings.record(_patient("other"), "other", DAY, _reader(calls))  # the next call
    again = readings.record(resources, TWITCHING_PATIENT, DAY, _reader(calls))
    assert again is first
    assert [TWITCHING_PATIENT, "other"] == calls
    assert again.reading is not as_read
    assert as_read == again.reading
    assert again.relevant(lambda reading: reading == as_read)
    assert again.relevant(lambda _: False)  # worked out once
    gc.collect()
    before = len(gc.get_objects())
    for number in range(50):
        readings.record([*resources, *_patient(f"p{number}")], TWITCHING_PATIENT, DAY, _reader([]))
    readings.record(_patient("last"), "last", DAY, _reader([]))  # the 50th call served
    gc.collect()
    assert len(gc.get_objects()) - before < 50 * 20  # was about 2,000 objects a record


def test_a_record_not_kept_keeps_its_reading_as_read():
    """``kept=0``: nothing is pickled, and the reading stays the one read."""
    readings = Readings(kept=0)
    record = readings.record(_patient("a"), "a", DAY, _reader([]))
    reading = record.reading
    readings.record(_patient("b"), "b", DAY, _reader([]))
    assert reading is record.reading

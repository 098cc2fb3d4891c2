"""Feedback on cards: validated, stored in the SQLite file, none lost when many arrive at once."""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from fasciculate.service import feedback_records

FEEDBACK = "/cds-services/fasciculate-patient-view/feedback"


def _item(outcome: str = "accepted", **extra) -> dict:
    item = {
        "card": str(uuid.uuid4()),
        "outcome": outcome,
        "outcomeTimestamp": dt.datetime.now(dt.UTC).isoformat(),
    }
    item.update(extra)
    return item


def test_feedback_is_stored_with_its_override_reason(cds):
    reason = {"reason": {"code": "already-addressed", "system": "urn:x"}, "userComment": "seen"}
    accepted = _item(acceptedSuggestions=[{"id": "s-1"}])
    overridden = _item("overridden", overrideReason=reason)
    response = cds.post(FEEDBACK, {"feedback": [accepted, overridden]})
    assert 200 == response.status_code, response.text
    assert {"stored": 2} == response.json()
    records = {r["card"]: r for r in feedback_records(cds.config.database)}
    assert ["s-1"] == records[accepted["card"]]["accepted_suggestions"]
    stored = records[overridden["card"]]
    assert ("overridden", "already-addressed", "seen") == (
        stored["outcome"],
        stored["override_code"],
        stored["user_comment"],
    )
    assert "fasciculate-patient-view" == stored["service"]
    assert stored["client"] == "https://ehr.test.invalid"


def test_the_database_is_a_real_sqlite_file(cds):
    cds.post(FEEDBACK, {"feedback": [_item()]})
    with sqlite3.connect(cds.config.database) as db:
        assert db.execute("SELECT count(*) FROM feedback").fetchone()[0] >= 1


@pytest.mark.parametrize(
    "body",
    [
        {"feedback": []},
        {"feedback": [{"card": "x", "outcome": "ignored", "outcomeTimestamp": "2026-12-01"}]},
        {"feedback": [{"outcome": "accepted", "outcomeTimestamp": "2026-12-01T10:00:00Z"}]},
        {"cards": []},
    ],
)
def test_invalid_feedback_is_400_and_stores_nothing(cds, body):
    before = len(feedback_records(cds.config.database))
    response = cds.post(FEEDBACK, body)
    assert 400 == response.status_code
    assert "feedback" in response.json()["issue"][0]["diagnostics"]
    assert before == len(feedback_records(cds.config.database))


def test_feedback_for_an_unknown_service_is_404(cds):
    response = cds.post("/cds-services/nothing/feedback", {"feedback": [_item()]})
    assert 404 == response.status_code


def test_no_feedback_is_lost_when_it_arrives_at_once(cds):
    cards = [_item() for _ in range(40)]

    def send(item: dict) -> int:
        return cds.post(FEEDBACK, {"feedback": [item]}).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(send, cards))
    assert [200] * len(cards) == statuses
    stored = {r["card"] for r in feedback_records(cds.config.database)}
    assert {item["card"] for item in cards} <= stored


def test_feedback_of_one_service_only(cds):
    item = _item()
    cds.post("/cds-services/fasciculate-order-sign/feedback", {"feedback": [item]})
    only = feedback_records(cds.config.database, service="fasciculate-order-sign")
    assert item["card"] in {r["card"] for r in only}
    assert {"fasciculate-order-sign"} == {r["service"] for r in only}

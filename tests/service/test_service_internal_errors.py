"""An unexpected exception inside the service: a clean 500, logged, and the next call is answered.

The server is the real one (uvicorn on loopback); what fails is a part of the service itself, made
to raise for the test: the assessment (a call of a hook), or the feedback database (a trigger that
refuses every insert, added to the configured database file from outside the service).
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

import fasciculate
from service._service_support import TWITCHING_PATIENT, fhir_resources

PATIENT_VIEW = "/cds-services/fasciculate-patient-view"
#: Words of the internal error that must reach the log and never the client.
INTERNAL = "internal detail 7f3a"


def _feedback() -> dict[str, object]:
    item = {"card": "card-1", "outcome": "accepted", "outcomeTimestamp": "2026-01-05T10:00:00Z"}
    return {"feedback": [item]}


def _unseen(cds: Any) -> dict[str, Any]:
    """A patient-view call with a record the service has not read before (so it assesses it).

    The Patient is sent as prefetch with a new ``meta.versionId``; the rest comes from the FHIR
    server as usual.
    """
    patient = next(
        r
        for r in fhir_resources()
        if r["resourceType"] == "Patient" and r["id"] == TWITCHING_PATIENT
    )
    prefetch = {"patient": {**patient, "meta": {"versionId": uuid.uuid4().hex}}}
    return cds.request("patient-view", TWITCHING_PATIENT, prefetch=prefetch)


def _broken(*_args: object, **_kwargs: object) -> object:
    raise RuntimeError(INTERNAL)


@contextlib.contextmanager
def _assessment_raises(cds: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:  # noqa: ARG001
    monkeypatch.setattr(fasciculate, "assess", _broken)
    yield
    monkeypatch.undo()


@contextlib.contextmanager
def _database_fails(cds: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:  # noqa: ARG001
    """Every insert into the service's feedback database fails, until the block ends."""
    with contextlib.closing(sqlite3.connect(cds.config.database)) as db:
        db.execute(
            "CREATE TRIGGER broken BEFORE INSERT ON feedback "
            f"BEGIN SELECT RAISE(ABORT, 'disk I/O error ({INTERNAL})'); END"
        )
        db.commit()
    try:
        yield
    finally:
        with contextlib.closing(sqlite3.connect(cds.config.database)) as db:
            db.execute("DROP TRIGGER broken")
            db.commit()


@pytest.mark.parametrize(
    "case",
    [(_assessment_raises, PATIENT_VIEW), (_database_fails, PATIENT_VIEW + "/feedback")],
    ids=["the assessment raises", "the feedback database fails"],
)
def test_an_unexpected_exception_is_a_clean_500(cds, monkeypatch, caplog, case):
    """A 500 OperationOutcome without a traceback or the error's words; the error is logged."""
    failing, path = case
    body = _unseen(cds) if path == PATIENT_VIEW else _feedback()
    with (
        failing(cds, monkeypatch),
        caplog.at_level(logging.ERROR, logger="fasciculate.service"),
    ):
        response = cds.post(path, body)

    assert 500 == response.status_code
    assert "application/fhir+json" == response.headers["content-type"]
    answer = response.json()
    assert "OperationOutcome" == answer["resourceType"]
    (issue,) = answer["issue"]
    assert {"severity": "error", "code": "exception"} == {
        "severity": issue["severity"],
        "code": issue["code"],
    }
    assert "the service failed to compute a result" == issue["diagnostics"]
    assert INTERNAL not in response.text
    assert "Traceback" not in response.text
    assert "cards" not in answer  # never a 200 (or anything) that looks like "no guidance"

    (logged,) = [r for r in caplog.records if r.getMessage() == "error"]
    assert path == logged.fields["path"]
    assert logged.exc_info is not None
    assert INTERNAL in str(logged.exc_info[1])


def test_the_call_after_a_500_is_answered(cds, monkeypatch):
    """The failure leaves nothing behind: the same call, and a feedback post, then succeed."""
    body = _unseen(cds)
    monkeypatch.setattr(fasciculate, "assess", _broken)
    assert 500 == cds.post(PATIENT_VIEW, body).status_code
    monkeypatch.undo()

    # The same record again (the one whose assessment failed): assessed now, not a kept failure.
    cards = cds.post(PATIENT_VIEW, {**body, "hookInstance": str(uuid.uuid4())}).json()["cards"]
    assert 1 == len(cards)
    assert {"stored": 1} == cds.post(PATIENT_VIEW + "/feedback", _feedback()).json()
    assert 200 == cds.get("/cds-services").status_code

"""Card feedback (CDS Hooks 2.0 ``POST {base}/cds-services/{id}/feedback``), kept in SQLite.

One row per feedback item: the card's uuid, accepted or overridden, the override reason and the
clinician's comment, the suggestions accepted, when, from which client. The database is a real
file (write-ahead logging, one transaction per request), so records survive a restart and can be
read while the service runs (``fasciculate feedback --config FILE``).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    received_at TEXT NOT NULL,
    service TEXT NOT NULL,
    client TEXT,
    card TEXT NOT NULL,
    outcome TEXT NOT NULL,
    outcome_timestamp TEXT NOT NULL,
    override_system TEXT,
    override_code TEXT,
    override_display TEXT,
    user_comment TEXT,
    accepted_suggestions TEXT NOT NULL
)
"""
_COLUMNS = (
    "id, received_at, service, client, card, outcome, outcome_timestamp, override_system, "
    "override_code, override_display, user_comment, accepted_suggestions"
)


class _In(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class _Reason(_In):
    code: Annotated[str, Field(min_length=1)]
    system: str | None = None
    display: str | None = None


class _Override(_In):
    reason: _Reason | None = None
    userComment: str | None = Field(default=None, max_length=2000)  # noqa: N815 - spec spelling


class _Accepted(_In):
    id: Annotated[str, Field(min_length=1)]


class Item(_In):
    """One feedback item as the CDS Hooks 2.0 specification spells it."""

    card: Annotated[str, Field(min_length=1, max_length=100)]
    outcome: Literal["accepted", "overridden"]
    outcomeTimestamp: dt.datetime  # noqa: N815 - spec spelling
    acceptedSuggestions: tuple[_Accepted, ...] = ()  # noqa: N815 - spec spelling
    overrideReason: _Override | None = None  # noqa: N815 - spec spelling


class Feedback(_In):
    """The body of a feedback request: a non-empty list of items."""

    feedback: Annotated[tuple[Item, ...], Field(min_length=1, max_length=100)]


class FeedbackStore:
    """The SQLite feedback file; safe to share between the server's threads."""

    def __init__(self, path: Path) -> None:
        """Open (and create, with its folder) the database at *path*."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)

    def add(self, service: str, client: str | None, feedback: Feedback) -> int:
        """Store every item of *feedback* in one transaction; the number stored."""
        now = dt.datetime.now(dt.UTC).isoformat()
        rows = [
            (
                now,
                service,
                client,
                item.card,
                item.outcome,
                item.outcomeTimestamp.isoformat(),
                reason.system if (reason := _reason(item)) else None,
                reason.code if reason else None,
                reason.display if reason else None,
                item.overrideReason.userComment if item.overrideReason else None,
                json.dumps([s.id for s in item.acceptedSuggestions]),
            )
            for item in feedback.feedback
        ]
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany(
                    f"INSERT INTO feedback ({_COLUMNS.partition(', ')[2]}) "  # noqa: S608 - constant
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return len(rows)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()


def _reason(item: Item) -> _Reason | None:
    return item.overrideReason.reason if item.overrideReason else None


def feedback_records(path: str | Path, *, service: str | None = None) -> list[dict[str, Any]]:
    """Every feedback record in the database at *path*, oldest first (for one service if given).

    Raises:
        FileNotFoundError: If there is no database at *path*.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no feedback database at {path}")
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        db.row_factory = sqlite3.Row
        query = f"SELECT {_COLUMNS} FROM feedback"  # noqa: S608 - constant
        rows = (
            db.execute(query + " WHERE service = ? ORDER BY id", (service,))
            if service
            else db.execute(query + " ORDER BY id")
        )
        records = [dict(row) for row in rows]
    finally:
        db.close()
    for record in records:
        record["accepted_suggestions"] = json.loads(record["accepted_suggestions"])
    return records

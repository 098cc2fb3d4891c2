"""fasciculate.bulk as a caller uses it, checked by mypy --strict."""

from __future__ import annotations

from pathlib import Path

from fasciculate import Urgency
from fasciculate.bulk import (
    PatientResult,
    ProblemKind,
    RecordProblem,
    RunSummary,
    screen_export,
    write_parquet,
)


def urgent_patients(folder: Path) -> tuple[list[str], RunSummary]:
    """The patients at urgent or above, and the run's summary."""
    screening = screen_export(folder, as_of="2026-12-01", workers=2)
    urgent = [
        outcome.patient
        for outcome in screening
        if isinstance(outcome, PatientResult) and outcome.urgency >= Urgency.URGENT
    ]
    return urgent, screening.summary


def unreadable_lines(folder: str) -> list[tuple[str | None, int | None]]:
    """The file and line of every line that was not JSON."""
    return [
        (outcome.file, outcome.line)
        for outcome in screen_export(folder, as_of="2026-12-01")
        if isinstance(outcome, RecordProblem) and outcome.kind is ProblemKind.NOT_JSON
    ]


def to_parquet(folder: str, out: Path) -> int:
    """Every outcome as a Parquet row."""
    return write_parquet(screen_export(folder, as_of="2026-12-01", full=True), out)

"""The outcomes of a screening as a Parquet table (the ``parquet`` extra: pyarrow).

One row per outcome, in order, written in row groups of ``ROW_GROUP`` rows as they come, so that
memory stays flat: a patient's result fills ``patient``, ``records``, ``urgency``, ``rules``,
``leading``, ``must_not_miss`` and ``open_questions`` (and ``assessment``, the JSON, when kept); a
problem fills ``problem``, ``message`` and ``problems``, with ``patient`` or ``file`` and
``line``. The columns are the same whatever the outcomes, so files from several runs concatenate.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

from fasciculate._bulk_types import Outcome, PatientResult

#: Rows per row group (and per batch held in memory).
ROW_GROUP = 65_536


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa  # noqa: PLC0415 - optional (the `parquet` extra)
        import pyarrow.parquet as pq  # noqa: PLC0415
    except ImportError:
        raise ImportError(
            "writing Parquet needs pyarrow: pip install 'fasciculate[parquet]'"
        ) from None
    return pa, pq


def schema() -> Any:  # noqa: ANN401 - a pyarrow.Schema (pyarrow is optional)
    """The table's columns as a ``pyarrow.Schema``."""
    pa, _ = _pyarrow()
    text, strings = pa.string(), pa.list_(pa.string())
    problem = pa.struct([("field", text), ("message", text), ("value", text)])
    return pa.schema(
        [
            ("patient", text),
            ("file", text),
            ("line", pa.int64()),
            ("records", pa.int64()),
            ("urgency", text),
            ("rules", strings),
            ("leading", text),
            ("must_not_miss", strings),
            ("open_questions", pa.int64()),
            ("problem", text),
            ("message", text),
            ("problems", pa.list_(problem)),
            ("assessment", text),
        ]
    )


def row(outcome: Outcome) -> dict[str, Any]:
    """*outcome* as a row: the columns it fills (the others are null)."""
    if isinstance(outcome, PatientResult):
        return {
            "patient": outcome.patient,
            "records": outcome.records,
            "urgency": str(outcome.urgency),
            "rules": list(outcome.rules),
            "leading": str(outcome.leading),
            "must_not_miss": [str(category) for category in outcome.must_not_miss],
            "open_questions": outcome.open_questions,
            "assessment": outcome.assessment.decode() if outcome.assessment else None,
        }
    return {
        "patient": outcome.patient,
        "file": outcome.file,
        "line": outcome.line,
        "records": outcome.records,
        "problem": str(outcome.kind),
        "message": outcome.message,
        "problems": [
            {"field": p.path, "message": p.message, "value": p.value} for p in outcome.problems
        ],
    }


def write_parquet(outcomes: Iterable[Outcome], path: str | Path | BinaryIO) -> int:
    """Write *outcomes* to the Parquet file *path* as they come; the number of rows written.

    *path* may also be a binary file open for writing (it is left open).

    Raises:
        ImportError: If pyarrow is not installed (``pip install 'fasciculate[parquet]'``).
    """
    pa, pq = _pyarrow()
    table_schema = schema()
    rows = 0
    sink = str(path) if isinstance(path, str | Path) else path
    with pq.ParquetWriter(sink, table_schema) as writer:
        batch: list[dict[str, Any]] = []
        for outcome in outcomes:
            batch.append(row(outcome))
            if len(batch) == ROW_GROUP:
                writer.write_table(pa.Table.from_pylist(batch, schema=table_schema))
                rows += len(batch)
                batch = []
        if batch or not rows:  # an empty run still writes a table with the columns
            writer.write_table(pa.Table.from_pylist(batch, schema=table_schema))
            rows += len(batch)
    return rows

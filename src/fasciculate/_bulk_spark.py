"""A Bulk Data export screened on Spark (the ``spark`` extra), the same Python code per patient.

Nothing of the rules is re-implemented for Spark: each file is cut into parts at line ends (a
``.gz`` file is one part), each part keyed in a task of its own as on one machine (the same
lines, line numbers and problems, truncated ``.gz`` files included), a line of an uncompressed
file travelling as its place in the file (offset and length), read back by the task that
assesses its patient; the Medications are collected to the driver, kept as on one machine
(:class:`~fasciculate._bulk_medications.Medications`, in file and line order) and broadcast; the
other lines are grouped by patient with ``groupByKey``, each group takes the Medications it
references, its lines are read back, and it is read and assessed by
:func:`~fasciculate._bulk_screen.assess_group`, the function the process pool runs. The outcomes
become rows of :func:`~fasciculate.bulk.schema`'s columns, in the order the single-machine
screening writes them, ready for ``DataFrame.write.parquet``.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from fasciculate._bulk_keys import MEDICATION, Keyed
from fasciculate._bulk_medications import Medications
from fasciculate._bulk_parquet import row
from fasciculate._bulk_scan import Part, Places, keyed, parts
from fasciculate._bulk_screen import PART_BYTES, assess_group
from fasciculate._bulk_sort import group_of
from fasciculate._bulk_types import Outcome, ProblemKind, RecordProblem, RunSummary
from fasciculate._vocab import Urgency
from fasciculate.fhir._dates import as_day

_COLUMNS = (
    "patient",
    "file",
    "line",
    "records",
    "urgency",
    "rules",
    "leading",
    "must_not_miss",
    "open_questions",
    "problem",
    "message",
    "problems",
    "assessment",
)


#: The columns of the key that orders the outcomes as one machine writes them: the problems of
#: the scan first (by file and line), then each patient's, by patient id (then file and line).
_ORDER = ("_order", "_patient", "_file", "_line")


def spark_schema() -> Any:  # noqa: ANN401 - a pyspark StructType (pyspark is optional)
    """The columns of :func:`fasciculate.bulk.schema` as a Spark ``StructType``."""
    from pyspark.sql import types as t  # noqa: PLC0415 - optional (the `spark` extra)

    text, strings = t.StringType(), t.ArrayType(t.StringType())
    problem = t.StructType([t.StructField(name, text) for name in ("field", "message", "value")])
    kinds: dict[str, Any] = {
        "line": t.LongType(),
        "records": t.LongType(),
        "open_questions": t.LongType(),
        "rules": strings,
        "must_not_miss": strings,
        "problems": t.ArrayType(problem),
    }
    return t.StructType([t.StructField(name, kinds.get(name, text)) for name in _COLUMNS])


def _scanned(part: Part) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """The lines of one part of a file, each with the key that orders it among the outcomes.

    A line of an uncompressed file travels as its place (offset, length), read back from the
    file by the task that assesses its patient. A Medication's key starts with 2: it is no
    outcome, but looked up.
    """
    for offset, found in keyed(part):
        if isinstance(found, RecordProblem):
            yield _alone(part.index, found), found
        elif found[3] == MEDICATION:
            yield (2, found[0], 0, 0), found
        else:
            patient, index, number, role, used, line = found
            resource = line if part.compressed else (offset, len(line))
            yield (1, patient, 0, 0), (patient, index, number, role, used, resource)


def _alone(index: int, problem: RecordProblem) -> tuple[Any, ...]:
    """The key of a problem found while scanning file *index*: first, in file and line order."""
    return (0, "", index, problem.line or 0)


def _outcomes(
    groups: Iterable[tuple[str, Any]],
    *,
    as_of: dt.date,
    paths: Sequence[Path],
    full: bool,
    medications: Any,  # noqa: ANN401 - a pyspark Broadcast of Medications
) -> Iterator[tuple[tuple[Any, ...], Outcome]]:
    """The outcomes of one partition's patients, their lines read back from the files."""
    files = [path.name for path in paths]
    held: Medications = medications.value
    with Places(paths) as places:
        for patient, keyed_lines in groups:
            # (file, line) is unique: the resources themselves are never compared
            lines = sorted(
                (index, number, role, used, line)
                for _, index, number, role, used, line in keyed_lines
            )
            for found in group_of(patient, lines, files):
                if isinstance(found, RecordProblem):  # about a patient the export does not hold
                    yield (1, patient, files.index(found.file or ""), found.line or 0), found
                else:
                    outcome = assess_group(
                        held.attach(found), as_of=as_of, files=files, full=full, places=places
                    )
                    yield (1, patient, 0, 0), outcome


def _keyed_row(item: tuple[tuple[Any, ...], Outcome]) -> tuple[Any, ...]:
    """The outcome's row, after the columns of its key (:data:`_ORDER`)."""
    key, outcome = item
    fields = row(outcome)
    return (*key, *(fields.get(name) for name in _COLUMNS))


def _keyed_schema() -> Any:  # noqa: ANN401 - a pyspark StructType (pyspark is optional)
    """:func:`spark_schema` after the columns of the key that orders the outcomes."""
    from pyspark.sql import types as t  # noqa: PLC0415 - optional (the `spark` extra)

    kinds = (t.IntegerType(), t.StringType(), t.LongType(), t.LongType())
    keys = [
        t.StructField(name, kind, nullable=False) for name, kind in zip(_ORDER, kinds, strict=True)
    ]
    return t.StructType(keys + list(spark_schema().fields))


class SparkScreening:
    """A screening on Spark: :attr:`outcomes` is the DataFrame; :meth:`summary` counts it.

    Built by :func:`fasciculate.bulk.screen_export_spark`.

    Attributes:
        outcomes: One row per outcome, in the single-machine order (a Spark ``DataFrame``).
    """

    def __init__(self, lines: Any, outcomes: Any, listed: RunSummary) -> None:  # noqa: ANN401
        """Keep the scanned lines (to count them), the outcomes, the files and Medications read."""
        self._lines = lines
        self.outcomes = outcomes
        self._listed = listed

    def summary(self) -> RunSummary:
        """Count the records read and the outcomes, as :class:`RunSummary` does (two Spark jobs)."""
        from pyspark.sql import functions as f  # noqa: PLC0415 - optional (the `spark` extra)

        listed = self._listed
        summary = RunSummary(files=list(listed.files), not_read=list(listed.not_read))
        for _ in range(listed.medications):
            summary.read_medication()
        summary.records_in = int(self._lines.map(lambda item: _records_of(item[1])).sum())
        counts = self.outcomes.groupBy("urgency", "problem").agg(
            f.sum("records").alias("records"), f.count("*").alias("outcomes")
        )
        for urgency, problem, records, outcomes in counts.collect():
            summary.records_out += records
            summary.outcomes += outcomes
            if problem is None:
                summary.by_urgency[Urgency(urgency)] += outcomes
            else:
                summary.rejected[ProblemKind(problem)] += outcomes
        return summary


def _records_of(item: Keyed | RecordProblem) -> int:
    return item.records if isinstance(item, RecordProblem) else 1


def screen_export_spark(  # noqa: PLR0913 - keyword-only options of one run
    spark: Any,  # noqa: ANN401 - a pyspark SparkSession (pyspark is optional)
    folder: str | Path,
    *,
    as_of: dt.date | dt.datetime | str,
    full: bool = False,
    partitions: int | None = None,
    part_bytes: int = PART_BYTES,
) -> SparkScreening:
    """Screen every patient of the Bulk Data export in *folder* on Spark.

    The same outcomes, in the same order, as :func:`fasciculate.bulk.screen_export`, as rows of
    a DataFrame with the columns of :func:`fasciculate.bulk.schema`. The export's Medications
    are collected to the driver and broadcast (a Spark job, run here): they are a formulary,
    small beside the rest (about 480 bytes each: the how-to's "Medications" gives the bound).

    Args:
        spark: The ``SparkSession``.
        folder: The export's folder, as a path every executor can read (a shared file system,
            or ``/dbfs/...`` on Databricks).
        as_of: The reference date for every patient.
        full: Keep each patient's whole assessment as JSON (the ``assessment`` column).
        partitions: Partitions of the grouping by patient (default: Spark's parallelism).
        part_bytes: Bytes of an uncompressed file keyed by one task (the driver cuts each
            file at line ends, reading it once; a ``.gz`` file is one task).

    Raises:
        InvalidExport: If *folder* is not a folder or holds no NDJSON file.
    """
    from pyspark import StorageLevel  # noqa: PLC0415 - optional (the `spark` extra)

    from fasciculate._bulk_sort import export_files  # noqa: PLC0415

    day = as_day(as_of)
    if day is None:
        raise TypeError("as_of is required: the reference date for ages and the lab window")
    listed = RunSummary()
    paths = export_files(Path(folder), listed)
    names = [path.name for path in paths]
    context = spark.sparkContext
    cut = list(parts(paths, part_bytes))
    lines = context.parallelize(cut, len(cut)).flatMap(_scanned).cache()
    found = lines.filter(lambda item: item[0][0] == 2).map(lambda item: item[1]).collect()
    medications, duplicates = Medications.of(found, names)
    listed.medications = len(found) - len(duplicates)
    # The lines that are problems on their own, few: one partition (one Python task), not one
    # per part.
    alone = (
        lines.filter(lambda item: item[0][0] == 0)
        .union(
            context.parallelize([(_alone(names.index(p.file or ""), p), p) for p in duplicates], 1)
        )
        .coalesce(1)
    )
    about = lines.filter(lambda item: item[0][0] == 1).map(lambda item: (item[0][1], item[1]))
    answer = functools.partial(
        _outcomes, as_of=day, paths=paths, full=full, medications=context.broadcast(medications)
    )
    grouped = about.groupByKey(partitions or context.defaultParallelism).mapPartitions(answer)
    rows = alone.union(grouped).map(_keyed_row)
    table = spark.createDataFrame(rows, _keyed_schema(), verifySchema=False)
    # Kept once computed, in the JVM: the sort samples it before it sorts it, and the summary
    # counts it; the assessments run once, and the rows cross from Python once.
    table = table.persist(StorageLevel.MEMORY_AND_DISK)
    frame = table.orderBy(*_ORDER).drop(*_ORDER)
    return SparkScreening(lines, frame, listed)

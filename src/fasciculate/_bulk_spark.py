"""A Bulk Data export screened on Spark (the ``spark`` extra), the same Python code per patient.

Nothing of the rules is re-implemented for Spark, and the Python work is the assessments and
the keying of the lines; the rest is Spark's own, in the JVM:

1. Each file is cut into parts at line ends (a ``.gz`` file is one part), and each part is keyed
   in a task of its own (``mapInArrow``) as on one machine: the same lines, line numbers and
   problems, truncated ``.gz`` files included. A line becomes a row of :data:`_SCANNED`: its
   patient, file, line number, role and the Medication it references, and for an uncompressed
   file its place (offset and length), read back by the task that assesses its patient; a
   ``.gz`` file's line travels itself. The rows are cached (columnar, in the JVM).
2. The Medications are collected to the driver, kept as on one machine
   (:class:`~fasciculate._bulk_medications.Medications`, in file and line order) and broadcast.
3. The lines about patients are partitioned by ranges of patient ids and sorted within each
   partition by Spark (no Python in the shuffle); each partition's rows come to Python in
   order, as Arrow batches, so a patient's lines are consecutive: each group takes the
   Medications it references, its lines are read back, and it is read and assessed by
   :func:`~fasciculate._bulk_screen.assess_group`, the function the process pool runs.
4. The outcomes go back as Arrow batches of :func:`~fasciculate.bulk.schema`'s columns. The
   problems found on their own come first, in file and line order (one task), then the
   patients' outcomes, partition after partition: the order the single-machine screening
   writes, with no sort of the outcomes.
"""

from __future__ import annotations

import datetime as dt
import functools
import heapq
import pickle
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from fasciculate._bulk_keys import MEDICATION
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

#: What a scanned line is (the ``kind`` column): a problem on its own, a line about a patient,
#: or a Medication (no outcome: looked up).
_PROBLEM, _ABOUT, _MEDICATION = 0, 1, 2

#: The columns of a scanned line: its kind; the patient (a Medication's id); the file's index
#: and the line's number; the records it accounts for; its role and the Medication it
#: references; its place in an uncompressed file, or the line itself; for a problem or a
#: Medication, what the scan found (pickled: it goes from one of this module's tasks to another).
_SCANNED = (
    "kind int, patient string, file int, line long, records long, role binary, used string, "
    "offset long, length long, text binary, found binary"
)

#: Rows of an Arrow batch handed back to Spark.
_BATCH = 4096


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


def _arrow_schema(spark_type: Any) -> Any:  # noqa: ANN401 - pyarrow and pyspark types
    """The Arrow schema of batches of *spark_type*'s rows, as Spark reads them back."""
    from pyspark.sql.pandas.types import to_arrow_schema  # noqa: PLC0415 - optional

    return to_arrow_schema(spark_type)


class _Batches:
    """Rows gathered by column, handed out as Arrow record batches of *schema*."""

    def __init__(self, schema: Any) -> None:  # noqa: ANN401 - a pyarrow.Schema
        self._schema = schema
        self._columns: list[list[Any]] = [[] for _ in schema.names]

    def add(self, values: Sequence[Any]) -> Any:  # noqa: ANN401 - a batch or None
        """Add one row; a batch when :data:`_BATCH` rows are gathered, else ``None``."""
        for column, value in zip(self._columns, values, strict=True):
            column.append(value)
        return self.batch() if len(self._columns[0]) >= _BATCH else None

    def batch(self) -> Any:  # noqa: ANN401 - a pyarrow.RecordBatch or None
        """The rows gathered as one batch (``None`` when there are none); then none are."""
        if not self._columns[0]:
            return None
        import pyarrow as pa  # noqa: PLC0415 - optional (the `spark` extra)

        made = pa.RecordBatch.from_arrays(
            [
                pa.array(column, type=field.type)
                for column, field in zip(self._columns, self._schema, strict=True)
            ],
            schema=self._schema,
        )
        self._columns = [[] for _ in self._schema.names]
        return made


def _scan(batches: Iterable[Any], *, cut: Sequence[Part], schema: Any) -> Iterator[Any]:  # noqa: ANN401
    """The lines of the parts whose numbers the *batches* hold, as rows of :data:`_SCANNED`."""
    gathered = _Batches(schema)
    for numbers in batches:
        for number in numbers.column(0).to_pylist():
            part = cut[number]
            for offset, found in keyed(part):
                if isinstance(found, RecordProblem):
                    values: tuple[Any, ...] = (
                        _PROBLEM, None, part.index, found.line or 0, found.records,
                        None, None, None, None, None, pickle.dumps(found),
                    )  # fmt: skip
                elif found[3] == MEDICATION:
                    values = (
                        _MEDICATION, found[0], found[1], found[2], 1,
                        None, None, None, None, None, pickle.dumps(found),
                    )  # fmt: skip
                else:
                    patient, index, line_number, role, used, line = found
                    place = (None, None, line) if part.compressed else (offset, len(line), None)
                    values = (_ABOUT, patient, index, line_number, 1, role, used, *place, None)
                made = gathered.add(values)
                if made is not None:
                    yield made
    if (last := gathered.batch()) is not None:
        yield last


def _in_order(item: tuple[int, RecordProblem]) -> tuple[int, int]:
    """Where a problem found on its own comes (file index, problem): by file, then line."""
    index, problem = item
    return index, problem.line or 0


def _row(outcome: Outcome) -> tuple[Any, ...]:
    """The outcome's row: the values of :data:`_COLUMNS`."""
    fields = row(outcome)
    return tuple(fields.get(name) for name in _COLUMNS)


def _problems(
    batches: Iterable[Any],
    *,
    also: Sequence[tuple[int, RecordProblem]],
    schema: Any,  # noqa: ANN401 - a pyarrow.Schema
) -> Iterator[Any]:
    """The outcome rows of the problems found on their own, in file and line order.

    The *batches* hold the scan's, in that order already; *also* (file index, problem), the
    Medications found twice, sorted the same way, are merged in.
    """

    def scanned() -> Iterator[tuple[int, RecordProblem]]:
        for batch in batches:
            indexes = batch.column("file").to_pylist()
            for index, found in zip(indexes, batch.column("found").to_pylist(), strict=True):
                yield index, pickle.loads(found)  # noqa: S301 - this module's task wrote it

    gathered = _Batches(schema)
    for _, problem in heapq.merge(scanned(), also, key=_in_order):
        if (made := gathered.add(_row(problem))) is not None:
            yield made
    if (last := gathered.batch()) is not None:
        yield last


def _lines_of(batches: Iterable[Any]) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """Each line's patient, and the line as :func:`group_of` takes it, in the batches' order."""
    for batch in batches:
        columns = [
            batch.column(name).to_pylist()
            for name in ("patient", "file", "line", "role", "used", "offset", "length", "text")
        ]
        for patient, index, number, role, used, offset, length, text in zip(*columns, strict=True):
            resource = text if offset is None else (offset, length)
            yield patient, (index, number, role, used, resource)


def _outcomes(  # noqa: PLR0913 - one partition's work and what it needs
    batches: Iterable[Any],
    *,
    as_of: dt.date,
    paths: Sequence[Path],
    full: bool,
    medications: Any,  # noqa: ANN401 - a pyspark Broadcast of Medications
    schema: Any,  # noqa: ANN401 - a pyarrow.Schema
) -> Iterator[Any]:
    """The outcome rows of one partition's patients, whose lines come sorted by patient."""
    files = [path.name for path in paths]
    held: Medications = medications.value
    gathered = _Batches(schema)
    with Places(paths) as places:
        for patient, lines in _grouped(_lines_of(batches)):
            for found in group_of(patient, lines, files):
                # A problem: about a patient the export does not hold, one per line, in order.
                outcome = (
                    found
                    if isinstance(found, RecordProblem)
                    else assess_group(
                        held.attach(found), as_of=as_of, files=files, full=full, places=places
                    )
                )
                if (made := gathered.add(_row(outcome))) is not None:
                    yield made
    if (last := gathered.batch()) is not None:
        yield last


def _grouped(
    lines: Iterable[tuple[str, tuple[Any, ...]]],
) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    """Consecutive lines of one patient as one group."""
    patient: str | None = None
    group: list[tuple[Any, ...]] = []
    for about, line in lines:
        if about != patient:
            if patient is not None:
                yield patient, group
            patient, group = about, []
        group.append(line)
    if patient is not None:
        yield patient, group


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
        summary.records_in = int(self._lines.agg(f.sum("records")).first()[0] or 0)
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
    from pyspark.sql import functions as f  # noqa: PLC0415
    from pyspark.sql import types as t  # noqa: PLC0415

    from fasciculate._bulk_sort import export_files  # noqa: PLC0415

    day = as_day(as_of)
    if day is None:
        raise TypeError("as_of is required: the reference date for ages and the lab window")
    listed = RunSummary()
    paths = export_files(Path(folder), listed)
    names = [path.name for path in paths]
    context = spark.sparkContext
    cut = list(parts(paths, part_bytes))
    scanned_type = t._parse_datatype_string(_SCANNED)  # noqa: SLF001 - Spark's own DDL parser
    outcome_type = spark_schema()
    # One part a task: spark.range places one number in each of its partitions.
    scan = functools.partial(_scan, cut=cut, schema=_arrow_schema(scanned_type))
    lines = spark.range(0, len(cut), 1, max(len(cut), 1)).mapInArrow(scan, scanned_type)
    lines = lines.persist(StorageLevel.MEMORY_AND_DISK)
    kind = f.col("kind")
    found = [
        pickle.loads(item.found)  # noqa: S301 - written by this module's own task
        for item in lines.filter(kind == _MEDICATION).select("found").collect()
    ]
    medications, duplicates = Medications.of(found, names)
    listed.medications = len(found) - len(duplicates)
    rows = _arrow_schema(outcome_type)
    twice = sorted(((names.index(p.file or ""), p) for p in duplicates), key=_in_order)
    # The problems found on their own, few: one task, in file and line order.
    alone = (
        lines.filter(kind == _PROBLEM)
        .coalesce(1)
        .mapInArrow(functools.partial(_problems, also=twice, schema=rows), outcome_type)
    )
    answer = functools.partial(
        _outcomes,
        as_of=day,
        paths=paths,
        full=full,
        medications=context.broadcast(medications),
        schema=rows,
    )
    # Partitioned by ranges of patient ids and sorted: each partition's patients come in order,
    # each one's lines together, and the partitions follow one another in that order.
    about = (
        lines.filter(kind == _ABOUT)
        .select("patient", "file", "line", "role", "used", "offset", "length", "text")
        .repartitionByRange(partitions or context.defaultParallelism, "patient")
        .sortWithinPartitions("patient", "file", "line")
    )
    # Kept once computed, in the JVM: writing them and counting them (the summary) run the
    # assessments once.
    outcomes = alone.union(about.mapInArrow(answer, outcome_type))
    return SparkScreening(lines, outcomes.persist(StorageLevel.MEMORY_AND_DISK), listed)

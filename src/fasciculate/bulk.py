"""Population screening from a FHIR Bulk Data ``$export``, every record accounted for.

::

    screening = fasciculate.bulk.screen_export("export/", as_of="2026-12-01", workers=2)
    for outcome in screening:              # a PatientResult or a RecordProblem, in order
        sink.write(outcome.to_json())
    print(screening.summary.text())         # records in = records out

    # or, with the `parquet` extra, a table with one row per outcome:
    fasciculate.bulk.write_parquet(screen_export("export/", as_of="2026-12-01"), "out.parquet")

The export is a folder of NDJSON files, one resource per line (``Patient.ndjson``,
``Observation.ndjson``, ``Condition.ndjson``, ``MedicationRequest.ndjson``,
``Medication.ndjson``, ``QuestionnaireResponse.ndjson``; gzip-compressed ``.ndjson.gz`` too;
files of resource types fasciculate does not read are left unopened and listed in the summary).
The resources are grouped by patient with an external sort on disk (memory stays flat; a line of
an uncompressed file is sorted as its place in the file and read back), each patient's group,
with the Medications it references (``Medication/<id>``, kept by id in memory: a formulary), is
read by :func:`fasciculate.fhir.read_bundle` at the explicit ``as_of`` date and assessed.

Iterating never raises for anything in the export: each patient gives a :class:`PatientResult`
or a :class:`RecordProblem` (the reader rejected their resources), and each line that cannot be
tied to a patient gives a :class:`RecordProblem` naming its file and line. Patients come out in
order of their id, after the lines that name no patient: the same output for any number of
workers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from fasciculate._bulk_parquet import ROW_GROUP, schema, write_parquet
from fasciculate._bulk_screen import PART_BYTES, Screening
from fasciculate._bulk_sort import READ_TYPES
from fasciculate._bulk_spark import SparkScreening, screen_export_spark, spark_schema
from fasciculate._bulk_types import (
    MAX_LINE_BYTES,
    InvalidExport,
    Outcome,
    PatientResult,
    ProblemKind,
    RecordProblem,
    RunSummary,
)
from fasciculate._processes import available_cores


def screen_export(  # noqa: PLR0913 - keyword-only options of one run
    folder: str | Path,
    *,
    as_of: dt.date | dt.datetime | str,
    workers: int = 1,
    full: bool = False,
    temp_dir: str | Path | None = None,
    run_bytes: int = 64 * 1024 * 1024,
    part_bytes: int = PART_BYTES,
    progress: Callable[[str, int], object] | None = None,
) -> Screening:
    """Screen every patient of the Bulk Data export in *folder*.

    Args:
        folder: The export's folder.
        as_of: The reference date for every patient's age, lab window and ``assessed_on``
            (a date, a datetime or an ISO 8601 string). Required: a population is screened at
            one date, never at each patient's latest record.
        workers: Processes keying the files and assessing patients (1: this process).
            :func:`available_cores` is what ``fasciculate screen-bulk`` uses. With more than
            one, the workers start by importing the calling script, as ``multiprocessing``
            does: run the screening from under ``if __name__ == "__main__":``.
        full: Keep each patient's whole assessment as JSON (:attr:`PatientResult.assessment`).
        temp_dir: Where the sorted runs are written (default: the system's temporary folder);
            about 60 bytes a line of an uncompressed file (the line is read back from the file:
            the export must not change during the run), the line itself for a ``.gz`` file.
        run_bytes: Bytes of sort records held in memory before a run is written to disk (a
            record is about 60 bytes for a line of an uncompressed file, the line itself for
            one of a ``.gz`` file).
        part_bytes: Bytes of an uncompressed file keyed by one worker at a time (a part ends
            at a line's end).
        progress: Called now and then with what is being counted and how many so far.

    Returns:
        The screening: iterate it for the outcomes; its ``summary`` counts them.

    Raises:
        InvalidExport: If *folder* is not a folder or holds no NDJSON file.
        InvalidBundle: If *as_of* is not a date.
    """
    return Screening(
        folder,
        as_of=as_of,
        workers=workers,
        full=full,
        temp_dir=temp_dir,
        run_bytes=run_bytes,
        part_bytes=part_bytes,
        progress=progress,
    )


__all__ = [
    "MAX_LINE_BYTES",
    "READ_TYPES",
    "ROW_GROUP",
    "InvalidExport",
    "Outcome",
    "PatientResult",
    "ProblemKind",
    "RecordProblem",
    "RunSummary",
    "Screening",
    "SparkScreening",
    "available_cores",
    "schema",
    "screen_export",
    "screen_export_spark",
    "spark_schema",
    "write_parquet",
]

"""``fasciculate screen-bulk``: a FHIR Bulk Data export in, one JSON line per patient out.

The outcomes of :func:`fasciculate.bulk.screen_export` are written to standard output as they
come, one JSON line each; progress goes to standard error every few seconds, and the run summary
(records in and out, patients assessed by urgency, problems by class) at the end, also as JSON to
``--summary FILE``. The status is 0 when every record gave an assessment, 2 when any did not.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import time
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from fasciculate._cli_io import EXIT_BAD_INPUT, EXIT_IO, EXIT_OK, CommandFailed, Output, say

if TYPE_CHECKING:
    from fasciculate.bulk import Outcome

#: Seconds between two progress lines on standard error.
PROGRESS_EVERY = 2.0


def add_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``screen-bulk`` to *commands*."""
    from fasciculate.bulk import available_cores  # noqa: PLC0415 - keeps FHIR out of start-up

    command = commands.add_parser(
        "screen-bulk",
        help="screen every patient of a FHIR Bulk Data export (NDJSON folder)",
        description="Screen every patient of a FHIR Bulk Data $export: a folder of NDJSON files, "
        "one resource per line (Patient, Observation, Condition, MedicationRequest, Medication, "
        "QuestionnaireResponse; .ndjson.gz too). Each patient gives one JSON line, in order of "
        'patient id: {"patient": ID, "records": N, "urgency": ..., "rules": [...], "leading": '
        '..., "must_not_miss": [...], "open_questions": N}, or {"patient": ID, "records": N, '
        '"problem": CLASS, "message": ..., "problems": [...]}; a line that names no patient '
        'gives {"file": NAME, "line": N, "records": 1, "problem": CLASS, "message": ...}. A '
        "Medication is looked up by the patients' resources that reference it (Medication/ID). "
        "The records of all lines and the Medications read add up to the records read. A "
        "summary goes to standard error; the status is 2 when any record gave no assessment.",
    )
    command.add_argument("folder", metavar="DIR", help="the export's folder")
    command.add_argument(
        "--as-of",
        metavar="YYYY-MM-DD",
        type=dt.date.fromisoformat,
        required=True,
        help="the reference date for every patient's age and lab window (required)",
    )
    command.add_argument(
        "--workers",
        metavar="N",
        type=int,
        default=available_cores(),
        help="processes keying the files and assessing patients (default: the cores available)",
    )
    command.add_argument(
        "--output",
        choices=("summary", "full"),
        default="summary",
        help="summary: urgency, fired rule ids, leading category, must-not-miss categories, "
        "open questions; full: the whole assessment too (default: summary)",
    )
    command.add_argument(
        "--parquet",
        metavar="FILE",
        help="write the outcomes to this Parquet file, one row each, instead of JSON lines to "
        "standard output (needs the extra fasciculate[parquet])",
    )
    command.add_argument("--summary", metavar="FILE", help="also write the run summary as JSON")
    command.add_argument(
        "--temp-dir", metavar="DIR", help="where the sorted runs go (default: system temp)"
    )


class _Progress:
    """A line on standard error at most every ``PROGRESS_EVERY`` seconds."""

    def __init__(self) -> None:
        self.last = time.monotonic()

    def __call__(self, what: str, count: int) -> None:
        now = time.monotonic()
        if now - self.last >= PROGRESS_EVERY:
            self.last = now
            say(f"{count:,} {what}")


def _parquet_file(name: str | None) -> BinaryIO | None:
    """The Parquet file *name*, open for writing (before the run: a bad name fails at once)."""
    if name is None:
        return None
    try:
        import pyarrow as pa  # noqa: F401, PLC0415 - checked before the run, not at its end
    except ImportError:
        message = "--parquet needs pyarrow: pip install 'fasciculate[parquet]'"
        raise CommandFailed(message, EXIT_IO) from None
    try:
        return Path(name).open("wb")
    except OSError as error:
        raise CommandFailed(f"cannot write {name}: {error.strerror or error}", EXIT_IO) from None


def _write(outcomes: Iterator[Outcome], out: Output, parquet: BinaryIO | None) -> None:
    """Write every outcome: as JSON lines to *out*, or as rows to the *parquet* file."""
    try:
        if parquet is not None:
            from fasciculate.bulk import write_parquet  # noqa: PLC0415

            with parquet:
                write_parquet(outcomes, parquet)
            return
        for outcome in outcomes:
            out.write(outcome.to_json())
        out.flush()
    except BrokenProcessPool:
        raise CommandFailed(
            "a worker process stopped (out of memory?); run again with fewer --workers", EXIT_IO
        ) from None
    except OSError as error:  # the temporary folder or the Parquet file: full, removed
        raise CommandFailed(
            f"cannot write the sorted runs or the output: {error.strerror or error}; "
            "give a folder with room with --temp-dir",
            EXIT_IO,
        ) from None


def run(args: argparse.Namespace) -> int:
    """Run ``screen-bulk`` with the parsed *args*; the exit status."""
    from fasciculate._processes import worker_problem  # noqa: PLC0415
    from fasciculate.bulk import InvalidExport, screen_export  # noqa: PLC0415

    problem = worker_problem(args.workers)
    if problem:
        raise CommandFailed(problem, EXIT_BAD_INPUT)
    out = Output()
    try:
        screening = screen_export(
            args.folder,
            as_of=args.as_of,
            workers=args.workers,
            full=args.output == "full",
            temp_dir=args.temp_dir,
            progress=_Progress(),
        )
    except InvalidExport as error:
        raise CommandFailed(str(error), EXIT_BAD_INPUT) from None
    parquet = _parquet_file(args.parquet)
    outcomes = screening.run()
    with contextlib.closing(outcomes):  # stops the worker processes on any way out
        _write(outcomes, out, parquet)
    summary = screening.summary
    say(summary.text())
    if args.summary:
        text = json.dumps(summary.as_dict(), indent=2) + "\n"
        try:
            Path(args.summary).write_text(text, encoding="utf-8")
        except OSError as error:
            raise CommandFailed(f"cannot write {args.summary}: {error.strerror}", EXIT_IO) from None
    return EXIT_BAD_INPUT if summary.rejected else EXIT_OK

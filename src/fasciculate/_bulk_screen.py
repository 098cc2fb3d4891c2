"""Screen a Bulk Data export: each patient's resources read as one bundle, assessed, in order.

The patients come out of the external sort (:mod:`fasciculate._bulk_sort`) in patient order. Each
one's resources, and the Medications they reference, are handed to the FHIR reader as a Bundle of
type collection, so that subject, status, date, lab-window and medication rules are those of
:func:`fasciculate.fhir.read_bundle`, and assessed.
With several workers, one process pool first keys the parts of the export's files
(:mod:`fasciculate._bulk_scan`: this process gets small sort records, not the lines), then
assesses chunks of patients, each patient's lines read back from the files by the worker; a
bounded number of parts or chunks is in flight at a time (memory stays flat), and they come back
in the order sent: the output is the same bytes for any number of workers.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import re
import tempfile
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from fasciculate._assess import summarize, summarize_json
from fasciculate._bulk_scan import Places
from fasciculate._bulk_sort import Group, Sorter, export_files
from fasciculate._bulk_types import (
    Outcome,
    PatientResult,
    ProblemKind,
    RecordProblem,
    RunSummary,
)
from fasciculate._errors import InvalidPresentation, Problem
from fasciculate._processes import chunks, ordered_map
from fasciculate.fhir import read_bundle
from fasciculate.fhir._dates import as_day

#: Patients sent to a worker at a time.
CHUNK = 64
#: Bytes of an uncompressed file that one worker keys at a time.
PART_BYTES = 4 * 1024 * 1024
_ENTRY = re.compile(r"\bentry\.(\d+)(?:\.resource)?(\.)?")


def _bundle(resources: Sequence[bytes]) -> bytes:
    entries = b'},{"resource":'.join(resources)
    return b'{"resourceType":"Bundle","type":"collection","entry":[{"resource":%s}]}' % entries


def _located(problem: Problem, group: Group, files: Sequence[str]) -> Problem:
    """*problem*, each ``entry.N`` in its path rewritten as the file and line of that resource."""

    def where(found: re.Match[str]) -> str:
        index = int(found[1])
        if index >= len(group.origins):
            return found[0]
        file, line = group.origins[index]
        return f"{files[file]}:{line}" + (" " if found[2] else "")

    return Problem(_ENTRY.sub(where, problem.path), problem.message, problem.value)


def assess_group(
    group: Group,
    *,
    as_of: dt.date,
    files: Sequence[str],
    full: bool,
    places: Places | None = None,
) -> Outcome:
    """One patient's outcome: their assessment, or why their resources could not be read.

    *places* reads back the resources the group holds by their place in the export's files.

    Raises:
        OSError: If a file of the export cannot be read back.
    """
    records = group.records
    bundle = _bundle(group.read(places))
    try:
        reading = read_bundle(bundle, as_of=as_of, patient=f"Patient/{group.patient}")
        # The outcome's fields are read from the evaluators' results; the assessment's JSON is
        # written only when kept, and the typed assessment is never built.
        if full:
            summary, document = summarize_json(reading.presentation)
        else:
            summary, document = summarize(reading.presentation), None
    except InvalidPresentation as error:
        problems = tuple(_located(problem, group, files) for problem in error.problems)
        more = error.total - len(problems)
        message = (
            f"the FHIR reader rejected this patient's resources ({error.total} "
            f"problem{'s' if error.total != 1 else ''}{f', {more} not listed' if more else ''}): "
            "correct them in the export and screen again"
        )
        return RecordProblem(
            ProblemKind.REJECTED, records, message, patient=group.patient, problems=problems
        )
    except Exception as error:  # noqa: BLE001 - one patient's failure must not end the run
        message = (
            f"fasciculate failed on this patient ({type(error).__name__}: {error}); "
            "this is a bug in fasciculate: please report it with the patient's resources"
        )
        return RecordProblem(ProblemKind.INTERNAL_ERROR, records, message, patient=group.patient)
    return PatientResult(
        patient=group.patient,
        records=records,
        urgency=summary["urgency"],
        rules=tuple(summary["rules"]),
        leading=summary["leading"],
        must_not_miss=tuple(summary["must_not_miss"]),
        open_questions=summary["open_questions"],
        assessment=document,
    )


def _answer(
    chunk: Sequence[Group | RecordProblem],
    *,
    as_of: dt.date,
    paths: Sequence[Path],
    full: bool,
) -> list[Outcome]:
    """The outcomes of *chunk*, each patient's resources read back from the export's files."""
    files = [path.name for path in paths]
    with Places(paths) as places:
        return [
            item
            if isinstance(item, RecordProblem)
            else assess_group(item, as_of=as_of, files=files, full=full, places=places)
            for item in chunk
        ]


class Screening:
    """A screening of one export: iterate it for the outcomes; ``summary`` counts them.

    Built by :func:`fasciculate.bulk.screen_export`.

    Attributes:
        as_of: The reference date.
        summary: The :class:`~fasciculate.bulk.RunSummary` of the outcomes yielded so far.
    """

    def __init__(  # noqa: PLR0913 - the keyword-only options of screen_export
        self,
        folder: str | Path,
        *,
        as_of: dt.date | dt.datetime | str,
        workers: int = 1,
        full: bool = False,
        temp_dir: str | Path | None = None,
        run_bytes: int = 64 * 1024 * 1024,
        part_bytes: int = PART_BYTES,
        progress: Callable[[str, int], object] | None = None,
    ) -> None:
        """Check the folder and the options; nothing is read until the screening is iterated."""
        day = as_day(as_of)
        if day is None:
            raise TypeError("as_of is required: the reference date for ages and the lab window")
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be a whole number of processes, 1 or more: {workers!r}")
        if isinstance(part_bytes, bool) or not isinstance(part_bytes, int) or part_bytes < 1:
            raise ValueError(
                f"part_bytes must be a whole number of bytes, 1 or more: {part_bytes!r}"
            )
        self.as_of: dt.date = day
        self.summary = RunSummary()
        self._files = export_files(Path(folder), self.summary)
        self._workers = workers
        self._full = full
        self._temp_dir = temp_dir
        self._run_bytes = run_bytes
        self._part_bytes = part_bytes
        self._progress = progress
        self._started = False

    def __iter__(self) -> Iterator[Outcome]:
        """The outcomes (:meth:`run`)."""
        return self.run()

    def run(self) -> Generator[Outcome]:
        """Scan the export (yielding its unreadable lines), then yield each patient's outcome.

        Closing the generator before its end stops the worker processes and removes the runs.

        Raises:
            RuntimeError: If the screening was already run (its summary counts one run).
        """
        if self._started:
            raise RuntimeError("a screening runs once: call screen_export again to run it again")
        self._started = True
        with contextlib.ExitStack() as stack:
            work = stack.enter_context(
                tempfile.TemporaryDirectory(prefix="fasciculate-bulk-", dir=self._temp_dir)
            )
            mapped: Callable[..., Iterable[Any]] = (
                map
                if self._workers == 1
                else stack.enter_context(ordered_map(self._workers, "fasciculate.bulk"))
            )
            sorter = Sorter(
                self._files,
                Path(work),
                self.summary,
                self._run_bytes,
                self._part_bytes,
                self._progress,
            )
            for problem in sorter.scan(mapped):
                self.summary.count(problem)
                yield problem
            answer = functools.partial(
                _answer, as_of=self.as_of, paths=self._files, full=self._full
            )
            for outcomes in mapped(answer, chunks(sorter.groups(), CHUNK)):
                for outcome in outcomes:
                    self.summary.count(outcome)
                    yield outcome
                if self._progress is not None:
                    self._progress("records screened", self.summary.records_out)

"""A Bulk Data export's resources grouped by patient, without holding the export in memory.

An external sort: every line read is keyed by the patient it is about (a Patient's id, another
resource's ``subject`` or ``patient`` reference) and buffered as one line of six tab-separated
fields (patient, file, line, ``P`` for a Patient or ``R``, the id of the Medication a medication
request or statement references, the resource), with the file and line numbers zero-padded so
that the bytes sort as the tuple does (the tab sorts below every character of a FHIR id). When
the buffer holds ``run_bytes`` it is sorted and written to a run file; the runs are then merged
(:func:`heapq.merge`) into one stream in patient order, cut into one group per patient. Memory
holds one buffer and one patient's resources at a time, whatever the size of the export.

A Medication is nobody's: it is not sorted but kept aside
(:class:`~fasciculate._bulk_medications.Medications`), and each patient's group takes the
Medications its resources reference (``Medication/<id>``), so that the FHIR reader resolves them
as it does in a bundle.

A line that names no patient, is not JSON or not UTF-8 becomes a :class:`RecordProblem` during
the scan (in file and line order); a group without a Patient resource, one problem per line
during the merge.
"""

from __future__ import annotations

import contextlib
import gzip
import heapq
import itertools
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

import attrs

from fasciculate._bulk_keys import MEDICATION, PATIENT, Keyed, key
from fasciculate._bulk_medications import Medications
from fasciculate._bulk_types import (
    MAX_LINE_BYTES,
    InvalidExport,
    ProblemKind,
    RecordProblem,
    RunSummary,
)
from fasciculate.fhir._resources import READ_TYPES as _READER_TYPES

#: The resource types the FHIR reader reads, each from its file; a file named after any other
#: type is not opened.
READ_TYPES = _READER_TYPES

_BOM = b"\xef\xbb\xbf"
_SUFFIXES = (".ndjson", ".ndjson.gz")


@attrs.frozen
class Group:
    """One patient's resources, as JSON bytes, with the file index and line each came from.

    Attributes:
        patient: The Patient's id.
        resources: The patient's lines, then the Medications they reference that the export holds.
        origins: The file index and line of each resource.
        records: How many of the resources are the patient's own lines (the Medications are not).
        references: The ids of the Medications the patient's resources reference, in order.
    """

    patient: str
    resources: tuple[bytes, ...]
    origins: tuple[tuple[int, int], ...]
    records: int
    references: tuple[str, ...] = ()


def export_files(folder: Path, summary: RunSummary) -> list[Path]:
    """The NDJSON files of *folder* to read, by name; those of other resource types noted.

    A file's resource type is the part of its name before the first dot (``Observation.ndjson``,
    ``Observation.002.ndjson.gz``); a name that does not start with a type is read all the same.

    Raises:
        InvalidExport: If *folder* is not a folder or holds no ``.ndjson``/``.ndjson.gz`` file.
    """
    if not folder.is_dir():
        raise InvalidExport(
            f"{folder} is not a folder: give the folder of a Bulk Data $export "
            "(Patient.ndjson, Observation.ndjson, ...)"
        )
    names = sorted(p for p in folder.iterdir() if p.name.endswith(_SUFFIXES) and p.is_file())
    if not names:
        raise InvalidExport(
            f"{folder} holds no .ndjson or .ndjson.gz file: a Bulk Data $export writes one "
            "file per resource type (Patient.ndjson, Observation.ndjson, ...)"
        )
    files = []
    for path in names:
        kind = path.name.split(".", 1)[0]
        if kind[:1].isupper() and kind.isalpha() and kind not in READ_TYPES:
            summary.not_read.append(path.name)
        else:
            files.append(path)
    summary.files.extend(path.name for path in files)
    return files


class _Stopped(Exception):
    """A file could not be read to its end."""


def _lines(path: Path) -> Iterator[tuple[int, bytes | None]]:
    """Number and line (without its newline; ``None`` when too long) of every non-blank line.

    Raises:
        _Stopped: If the file cannot be read to its end.
    """
    try:
        with gzip.open(path, "rb") if path.name.endswith(".gz") else path.open("rb") as source:
            number = 0
            while line := source.readline(MAX_LINE_BYTES + 1):
                number += 1
                if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
                    _skip(source.readline)
                    yield number, None
                    continue
                if number == 1:
                    line = line.removeprefix(_BOM)
                if line.strip():
                    yield number, line.rstrip(b"\r\n")
    except (OSError, EOFError, zlib.error) as error:
        raise _Stopped(str(error) or type(error).__name__) from None


def _skip(readline: Callable[[int], bytes]) -> None:
    while chunk := readline(1 << 16):
        if chunk.endswith(b"\n"):
            return


def scan_file(index: int, path: Path) -> Iterator[Keyed | RecordProblem]:
    """Each non-blank line of file *index* (at *path*), tied to its patient or a problem.

    A file that stops before its end gives a last problem that accounts for no line.
    """
    number = 0
    try:
        for number, line in _lines(path):
            if line is None:
                message = f"the line is longer than {MAX_LINE_BYTES:,} bytes: one resource per line"
                yield RecordProblem(ProblemKind.TOO_LONG, 1, message, file=path.name, line=number)
                continue
            found = key(line)
            if len(found) == 2:  # a problem and its message
                yield RecordProblem(found[0], 1, found[1], file=path.name, line=number)
            else:
                yield found[0], index, number, found[1], found[2], found[3]
    except _Stopped as stopped:
        yield RecordProblem(
            ProblemKind.UNREADABLE_FILE,
            0,
            f"the file stops after line {number} ({stopped}): the lines before were "
            "read; download or copy the file again",
            file=path.name,
            line=number + 1,
        )


def group_of(
    patient: str, lines: Iterable[tuple[int, int, bytes, str, bytes]], files: Sequence[str]
) -> Iterator[Group | RecordProblem]:
    """The group of *patient*'s lines (file index, line, role, Medication referenced, resource).

    Without a Patient among them, each line is a problem of its own instead.
    """
    resources, origins, patients = [], [], 0
    references: dict[str, None] = {}  # in order, once each
    for index, number, role, medication, resource in lines:
        resources.append(resource)
        origins.append((index, number))
        patients += role == PATIENT
        if medication:
            references[medication] = None
    if patients:
        yield Group(patient, tuple(resources), tuple(origins), len(resources), tuple(references))
        return
    message = (
        f"about Patient/{patient}, but the export holds no Patient {patient}: export the Patient "
        "too (Patient.ndjson), or correct the reference"
    )
    for index, number in origins:
        yield RecordProblem(ProblemKind.UNKNOWN_PATIENT, 1, message, file=files[index], line=number)


@attrs.define
class Sorter:
    """The external sort of one export: :meth:`scan` it, then read its :meth:`groups`."""

    files: list[Path]
    workdir: Path
    summary: RunSummary
    run_bytes: int
    progress: Callable[[str, int], object] | None = None
    medications: Medications = attrs.field(factory=Medications)
    _buffer: list[bytes] = attrs.field(factory=list)
    _size: int = 0
    _runs: list[Path] = attrs.field(factory=list)

    def scan(self) -> Iterator[RecordProblem]:
        """Read every file into sorted runs and Medications; yield the lines that cannot be."""
        names = [path.name for path in self.files]
        for index, path in enumerate(self.files):
            for item in scan_file(index, path):
                if isinstance(item, RecordProblem):
                    self.summary.records_in += item.records
                    yield item
                    continue
                self.summary.records_in += 1
                if self.progress is not None and self.summary.records_in % 65536 == 0:
                    self.progress("records read", self.summary.records_in)
                patient, index_, number, role, medication, line = item
                if role == MEDICATION:
                    problem = self.medications.add(item, names)
                    if problem is None:
                        self.summary.read_medication()
                    else:
                        yield problem
                    continue
                self._add(
                    b"%s\t%06d\t%012d\t%s\t%s\t%s\n"
                    % (patient.encode(), index_, number, role, medication.encode(), line)
                )

    def _add(self, record: bytes) -> None:
        self._buffer.append(record)
        self._size += len(record)
        if self._size >= self.run_bytes:
            self._spill()

    def _spill(self) -> None:
        self._buffer.sort()
        run = self.workdir / f"run-{len(self._runs):05d}"
        with run.open("wb") as out:
            out.writelines(self._buffer)
        self._runs.append(run)
        self._buffer, self._size = [], 0

    def groups(self) -> Iterator[Group | RecordProblem]:
        """Each patient's resources in patient order; a resource about no known patient alone."""
        self._buffer.sort()
        names = [path.name for path in self.files]
        with _opened(self._runs) as runs:
            merged = heapq.merge(*runs, self._buffer)
            for patient, records in itertools.groupby(merged, _patient_of):
                for item in group_of(patient.decode(), map(_decoded, records), names):
                    yield item if isinstance(item, RecordProblem) else self.medications.attach(item)
        self._buffer = []


@contextlib.contextmanager
def _opened(paths: list[Path]) -> Iterator[list[BinaryIO]]:
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(path.open("rb")) for path in paths]


def _patient_of(record: bytes) -> bytes:
    return record[: record.index(b"\t")]


def _decoded(record: bytes) -> tuple[int, int, bytes, str, bytes]:
    _, index, number, role, medication, resource = record.split(b"\t", 5)
    return int(index), int(number), role, medication.decode(), resource[:-1]

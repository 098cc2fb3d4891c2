"""A Bulk Data export's resources grouped by patient, without holding the export in memory.

An external sort: every line read is keyed by the patient it is about (a Patient's id, another
resource's ``subject`` or ``patient`` reference) and buffered as one line of five tab-separated
fields (patient, file, line, ``P`` for a Patient or ``R``, the resource), with the file and line
numbers zero-padded so that the bytes sort as the tuple does (the tab sorts below every character
of a FHIR id). When the
buffer holds ``run_bytes`` it is sorted and written to a run file; the runs are then merged
(:func:`heapq.merge`) into one stream in patient order, cut into one group per patient. Memory
holds one buffer and one patient's resources at a time, whatever the size of the export.

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
from pydantic_core import from_json

from fasciculate._bulk_types import (
    MAX_LINE_BYTES,
    InvalidExport,
    ProblemKind,
    RecordProblem,
    RunSummary,
)
from fasciculate.fhir._resources import READ_TYPES as _READER_TYPES
from fasciculate.fhir._subject import patient_id

#: The resource types the FHIR reader reads, each from its file; a file named after any other
#: type is not opened. A Medication is nobody's: it is not grouped by patient (a medicine that
#: refers to one outside the patient's resources is read by its display).
READ_TYPES = _READER_TYPES - {"Medication"}

_BOM = b"\xef\xbb\xbf"
_SUFFIXES = (".ndjson", ".ndjson.gz")
_ID_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.")


@attrs.frozen
class Group:
    """One patient's resources, as JSON bytes, with the file index and line each came from."""

    patient: str
    resources: tuple[bytes, ...]
    origins: tuple[tuple[int, int], ...]


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


def _reference(resource: dict[str, object]) -> str | None:
    for member in ("subject", "patient"):
        target = resource.get(member)
        if isinstance(target, dict) and isinstance(ref := target.get("reference"), str) and ref:
            return ref
    return None


def key(line: bytes) -> tuple[str, bool] | tuple[ProblemKind, str]:  # noqa: PLR0911 - one per kind
    """The patient a line is about and whether it is their Patient, or a problem and its message."""
    try:
        resource = from_json(line)
    except ValueError as error:
        try:
            line.decode()
        except UnicodeDecodeError as bad:
            return ProblemKind.NOT_UTF8, (
                f"not UTF-8 text: byte {line[bad.start]:#04x} at offset {bad.start}; "
                "a Bulk Data export is UTF-8 (re-export it, or convert the file with iconv)"
            )
        return ProblemKind.NOT_JSON, (
            f"not JSON ({error}): each line of an NDJSON file is one FHIR resource, "
            "one JSON object on one line"
        )
    kind = resource.get("resourceType") if isinstance(resource, dict) else None
    if not isinstance(kind, str):
        shown = "a JSON object without resourceType" if isinstance(resource, dict) else "JSON"
        return ProblemKind.NOT_JSON, (
            f"{shown} ({type(resource).__name__}), not a FHIR resource: each line is one JSON "
            'object with its "resourceType"'
        )
    if kind == "Patient":
        ident = resource.get("id")
        if isinstance(ident, str) and 0 < len(ident) <= 64 and set(ident) <= _ID_CHARACTERS:
            return ident, True
        return ProblemKind.NO_SUBJECT, (
            f"a Patient without a valid id (got {ident!r:.70}): the resources about it name it "
            "as Patient/<id>; give it an id of 1-64 letters, digits, '-' or '.'"
        )
    reference = _reference(resource)
    if reference is None:
        return ProblemKind.NO_SUBJECT, (
            f"the {kind} names no patient: give it subject.reference (or patient.reference) "
            "Patient/<id>"
        )
    found = patient_id(reference)
    if found is None:
        return ProblemKind.UNKNOWN_PATIENT, (
            f"the {kind} is about {reference!r:.80}, which is not a reference to a Patient: in "
            "a Bulk Data export, resources name their patient as Patient/<id>"
        )
    return found, False


#: One line tied to its patient: patient id, file index, line number, whether it is the Patient,
#: and the resource's JSON.
Keyed = tuple[str, int, int, bool, bytes]


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
            if isinstance(found[0], ProblemKind):
                yield RecordProblem(found[0], 1, str(found[1]), file=path.name, line=number)
            else:
                yield found[0], index, number, bool(found[1]), line
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
    patient: str, lines: Iterable[tuple[int, int, bool, bytes]], files: Sequence[str]
) -> Iterator[Group | RecordProblem]:
    """The group of *patient*'s lines (file index, line, is a Patient, resource) in that order.

    Without a Patient among them, each line is a problem of its own instead.
    """
    resources, origins, patients = [], [], 0
    for index, number, is_patient, resource in lines:
        resources.append(resource)
        origins.append((index, number))
        patients += is_patient
    if patients:
        yield Group(patient, tuple(resources), tuple(origins))
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
    _buffer: list[bytes] = attrs.field(factory=list)
    _size: int = 0
    _runs: list[Path] = attrs.field(factory=list)

    def scan(self) -> Iterator[RecordProblem]:
        """Read every file into sorted runs; yield the lines that name no patient, in order."""
        for index, path in enumerate(self.files):
            for item in scan_file(index, path):
                if isinstance(item, RecordProblem):
                    self.summary.records_in += item.records
                    yield item
                    continue
                self.summary.records_in += 1
                if self.progress is not None and self.summary.records_in % 65536 == 0:
                    self.progress("records read", self.summary.records_in)
                patient, index_, number, is_patient, line = item
                flag = b"P" if is_patient else b"R"
                self._add(
                    b"%s\t%06d\t%012d\t%s\t%s\n" % (patient.encode(), index_, number, flag, line)
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
                yield from group_of(patient.decode(), map(_decoded, records), names)
        self._buffer = []


@contextlib.contextmanager
def _opened(paths: list[Path]) -> Iterator[list[BinaryIO]]:
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(path.open("rb")) for path in paths]


def _patient_of(record: bytes) -> bytes:
    return record[: record.index(b"\t")]


def _decoded(record: bytes) -> tuple[int, int, bool, bytes]:
    _, index, number, flag, resource = record.split(b"\t", 4)
    return int(index), int(number), flag == b"P", resource[:-1]

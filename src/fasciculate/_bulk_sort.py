"""A Bulk Data export's resources grouped by patient, without holding the export in memory.

An external sort: every line read is keyed by the patient it is about (a Patient's id, another
resource's ``subject`` or ``patient`` reference) and buffered as one sort record of six
tab-separated fields (patient, file, line, ``P`` for a Patient or ``R``, the id of the Medication
a medication request or statement references, the resource: for a line of an uncompressed file
its place there, byte offset and length, for a ``.gz`` file the line), with the file and line
numbers zero-padded so that the bytes sort as the tuple does (the tab sorts below every character
of a FHIR id). The files are keyed in parts (:mod:`fasciculate._bulk_scan`), by this process or
by a pool's workers, the parts' records taken in order. When the buffer holds ``run_bytes`` it is
sorted and written to a run file; the runs are then merged (:func:`heapq.merge`) into one stream
in patient order, cut into one group per patient, whose lines are read back from their files
(:meth:`Group.read`) where the patient is assessed. Memory holds one buffer and one patient's
resources at a time, whatever the size of the export.

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
import functools
import heapq
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, cast

import attrs

from fasciculate._bulk_keys import PATIENT, Keyed
from fasciculate._bulk_medications import Medications
from fasciculate._bulk_scan import Part, Places, parts, scan_part
from fasciculate._bulk_types import (
    InvalidExport,
    ProblemKind,
    RecordProblem,
    RunSummary,
)
from fasciculate.fhir._resources import READ_TYPES as _READER_TYPES

#: The resource types the FHIR reader reads, each from its file; a file named after any other
#: type is not opened.
READ_TYPES = _READER_TYPES

_SUFFIXES = (".ndjson", ".ndjson.gz")


#: A resource's JSON, or its place (byte offset, length) in its uncompressed file.
Resource = bytes | tuple[int, int]
#: Applies a function to each item and gives the results in order (:func:`map`, a pool's map).
Mapper = Callable[
    [Callable[[Part], list[bytes | Keyed | RecordProblem]], Iterable[Part]],
    Iterable[list[bytes | Keyed | RecordProblem]],
]


@attrs.frozen
class Group:
    """One patient's resources (JSON, or places to read it from), with the file and line of each.

    Attributes:
        patient: The Patient's id.
        resources: The patient's lines, then the Medications they reference that the export holds;
            a line of an uncompressed file as its place there (offset, length), until read back
            (:meth:`read`).
        origins: The file index and line of each resource.
        records: How many of the resources are the patient's own lines (the Medications are not).
        references: The ids of the Medications the patient's resources reference, in order.
    """

    patient: str
    resources: tuple[Resource, ...]
    origins: tuple[tuple[int, int], ...]
    records: int
    references: tuple[str, ...] = ()

    def read(self, places: Places | None = None) -> tuple[bytes, ...]:
        """The resources' JSON, each given by its place read back from its file by *places*.

        Raises:
            OSError: If a file of the export cannot be read.
            ValueError: If the group holds places and *places* is not given.
        """
        if places is None:
            if not all(isinstance(resource, bytes) for resource in self.resources):
                raise ValueError("the group holds places in the export's files: give places")
            return cast("tuple[bytes, ...]", self.resources)
        return tuple(
            resource if isinstance(resource, bytes) else places.read(file, *resource)
            for resource, (file, _) in zip(self.resources, self.origins, strict=True)
        )


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


def group_of(
    patient: str, lines: Iterable[tuple[int, int, bytes, str, Resource]], files: Sequence[str]
) -> Iterator[Group | RecordProblem]:
    """The group of *patient*'s lines (file index, line, role, Medication referenced, resource).

    A resource is its JSON, or its place in its file (offset, length).

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
    part_bytes: int
    progress: Callable[[str, int], object] | None = None
    medications: Medications = attrs.field(factory=Medications)
    _buffer: list[bytes] = attrs.field(factory=list)
    _size: int = 0
    _runs: list[Path] = attrs.field(factory=list)

    def scan(self, mapped: Mapper = map) -> Iterator[RecordProblem]:
        """Read every file into sorted runs and Medications; yield the lines that cannot be.

        *mapped* applies :func:`~fasciculate._bulk_scan.scan_part` to each part of the files and
        gives the results in order (:func:`map`, or a pool's ordered map).
        """
        names = [path.name for path in self.files]
        for found in mapped(scan_part, parts(self.files, self.part_bytes)):
            for item in found:
                if isinstance(item, bytes):
                    self.summary.records_in += 1
                    self._add(item)
                elif isinstance(item, RecordProblem):
                    self.summary.records_in += item.records
                    yield item
                else:  # a Medication
                    self.summary.records_in += 1
                    problem = self.medications.add(item, names)
                    if problem is None:
                        self.summary.read_medication()
                    else:
                        yield problem
            if self.progress is not None:
                self.progress("records read", self.summary.records_in)

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
        decoded = functools.partial(
            _decoded, compressed=[path.name.endswith(".gz") for path in self.files]
        )
        with _opened(self._runs) as runs:
            merged = heapq.merge(*runs, self._buffer)
            for patient, records in itertools.groupby(merged, _patient_of):
                for item in group_of(patient.decode(), map(decoded, records), names):
                    yield item if isinstance(item, RecordProblem) else self.medications.attach(item)
        self._buffer = []


@contextlib.contextmanager
def _opened(paths: list[Path]) -> Iterator[list[BinaryIO]]:
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(path.open("rb")) for path in paths]


def _patient_of(record: bytes) -> bytes:
    return record[: record.index(b"\t")]


def _decoded(record: bytes, *, compressed: Sequence[bool]) -> tuple[int, int, bytes, str, Resource]:
    """A sort record's file index, line, role, Medication referenced and resource (or place)."""
    _, index, number, role, medication, resource = record.split(b"\t", 5)
    file = int(index)
    if compressed[file]:
        return file, int(number), role, medication.decode(), resource[:-1]
    offset, length = resource.split()
    return file, int(number), role, medication.decode(), (int(offset), int(length))

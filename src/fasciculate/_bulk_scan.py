"""The lines of a Bulk Data export, in file and line order, each tied to its patient or a problem.

This process reads the lines; keying them (:func:`~fasciculate._bulk_keys.key`, which parses
each) is done a batch of lines at a time, by this process or by the worker processes of a pool
(:mod:`fasciculate._bulk_pool`), whichever *keys* is given. A worker returns only what it found
(the patient, the role, the Medication referenced, a Medication's reduced resource, or a
problem), not the lines it was sent: they are kept here, in order, until their keys come back.
Either way the keyed lines and the problems are the same, in the same order.
"""

from __future__ import annotations

import collections
import gzip
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from fasciculate._bulk_keys import MEDICATION, Keyed, key
from fasciculate._bulk_types import MAX_LINE_BYTES, ProblemKind, RecordProblem

_BOM = b"\xef\xbb\xbf"
#: A batch of lines to key holds this many lines, or this many bytes, whichever comes first.
BATCH_LINES, BATCH_BYTES = 1024, 1 << 20

#: What a line is (:func:`~fasciculate._bulk_keys.key`), its resource left out but a Medication's.
Found = tuple[str, bytes, str, bytes] | tuple[ProblemKind, str]
#: Keys batches of lines, in order: :func:`serial_keys`, or the same function run by a pool.
Keys = Callable[[Iterable[list[bytes]]], Iterator[list[Found]]]
#: A line read: its file index, line number and bytes; or a problem met reading it.
_Read = tuple[int, int, bytes] | RecordProblem


def keys_of(lines: list[bytes]) -> list[Found]:
    """What each of *lines* is; the resource (the line itself) left out but a Medication's."""
    found = [key(line) for line in lines]
    return [f if len(f) == 2 or f[1] == MEDICATION else (f[0], f[1], f[2], b"") for f in found]


def serial_keys(batches: Iterable[list[bytes]]) -> Iterator[list[Found]]:
    """The keys of each batch of lines, found by this process."""
    return map(keys_of, batches)


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


def _read(files: Iterable[tuple[int, Path]]) -> Iterator[_Read]:
    """Each non-blank line of each file, or the problem of a line too long or a file cut short.

    A file that stops before its end gives a last problem that accounts for no line.
    """
    for index, path in files:
        number = 0
        try:
            for number, line in _lines(path):
                if line is not None:
                    yield index, number, line
                    continue
                message = f"the line is longer than {MAX_LINE_BYTES:,} bytes: one resource per line"
                yield RecordProblem(ProblemKind.TOO_LONG, 1, message, file=path.name, line=number)
        except _Stopped as stopped:
            yield RecordProblem(
                ProblemKind.UNREADABLE_FILE,
                0,
                f"the file stops after line {number} ({stopped}): the lines before were "
                "read; download or copy the file again",
                file=path.name,
                line=number + 1,
            )


def _batches(items: Iterator[_Read]) -> Iterator[list[_Read]]:
    batch: list[_Read] = []
    size = 0
    for item in items:
        batch.append(item)
        size += 0 if isinstance(item, RecordProblem) else len(item[2])
        if len(batch) == BATCH_LINES or size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def scan(
    files: Sequence[tuple[int, Path]], keys: Keys = serial_keys
) -> Iterator[Keyed | RecordProblem]:
    """Each non-blank line of *files* (index and path), tied to its patient, or a problem."""
    names = {index: path.name for index, path in files}
    waiting: collections.deque[list[_Read]] = collections.deque()

    def lines() -> Iterator[list[bytes]]:
        for batch in _batches(_read(files)):
            waiting.append(batch)
            yield [item[2] for item in batch if not isinstance(item, RecordProblem)]

    for found in keys(lines()):
        keyed = iter(found)
        for item in waiting.popleft():
            if isinstance(item, RecordProblem):
                yield item
                continue
            index, number, line = item
            what = next(keyed)
            if len(what) == 2:  # a problem and its message
                yield RecordProblem(what[0], 1, what[1], file=names[index], line=number)
            else:
                patient, role, medication, resource = what
                yield (
                    patient,
                    index,
                    number,
                    role,
                    medication,
                    (resource if role == MEDICATION else line),
                )


def scan_file(index: int, path: Path) -> Iterator[Keyed | RecordProblem]:
    """Each non-blank line of file *index* (at *path*), tied to its patient or a problem."""
    return scan([(index, path)])

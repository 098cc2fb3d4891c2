"""The lines of a Bulk Data export read in parts, keyed, and read back by their place in a file.

Scanning is cut into parts (:class:`Part`: whole lines of one file), so that several
processes can key the lines of one export at once (:func:`scan_part`); the process that sorts
gets, for each line of an uncompressed file, only its sort record: the patient, the file and
line, the role, the Medication referenced and the line's place in its file (byte offset and
length), not the line. When the patient's turn comes, :class:`Places` reads the lines back from
the file (in the process that assesses the patient). A gzip-compressed file cannot be read at a
place: it is one part, and its sort records hold the lines themselves.

Line numbers count every line of the file, blank ones included; a part knows how many lines of
its file come before it (:func:`parts` counts them while cutting), so its lines are numbered as
if the file were read from its start.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Self

import attrs

from fasciculate._bulk_keys import MEDICATION, Keyed, key
from fasciculate._bulk_types import MAX_LINE_BYTES, ProblemKind, RecordProblem

_BOM = b"\xef\xbb\xbf"
_BLOCK = 1 << 16


@attrs.frozen
class Part:
    """Whole lines of one file to scan: from byte *start* to *end*, after *before* lines.

    Attributes:
        index: The file's index among the export's files.
        path: The file.
        start: The byte offset of the part's first line.
        end: The byte offset after its last line (``None``: to the end of the file).
        before: How many lines of the file come before the part.
    """

    index: int
    path: Path
    start: int = 0
    end: int | None = None
    before: int = 0

    @property
    def compressed(self) -> bool:
        """Whether the file is gzip-compressed (read whole, its lines kept in the records)."""
        return self.path.name.endswith(".gz")


def parts(files: Sequence[Path], size: int) -> Iterator[Part]:
    """The files cut into parts of about *size* bytes at line ends (a ``.gz`` file: one part).

    A file that cannot be read to its end while being cut gives a last part to its end: scanning
    that part meets the same failure and reports it.
    """
    for index, path in enumerate(files):
        if path.name.endswith(".gz"):
            yield Part(index, path)
            continue
        start, before = 0, 0
        try:
            with path.open("rb") as source:
                while block := source.read(size):
                    end, lines = start + len(block), block.count(b"\n")
                    if not block.endswith(b"\n"):
                        ahead = _to_line_end(source)
                        end, lines = end + ahead, lines + 1
                    yield Part(index, path, start, end, before)
                    start, before = end, before + lines
                    source.seek(end)
        except OSError:
            yield Part(index, path, start, None, before)


def _to_line_end(source: BinaryIO) -> int:
    """Bytes read up to and including the next newline (or to the end of the file)."""
    ahead = 0
    while chunk := source.read(_BLOCK):
        found = chunk.find(b"\n")
        if found >= 0:
            return ahead + found + 1
        ahead += len(chunk)
    return ahead


class Stopped(Exception):
    """A file could not be read to its end."""


def lines(part: Part) -> Iterator[tuple[int, int, bytes | None]]:
    """Number, byte offset and text (without its newline; ``None`` when too long) of each line.

    Blank lines are counted, not yielded. A ``.gz`` file's offsets are those of its text.

    Raises:
        Stopped: If the file cannot be read to its end.
    """
    try:
        with gzip.open(part.path, "rb") if part.compressed else part.path.open("rb") as source:
            source.seek(part.start)
            number, offset, end = part.before, part.start, part.end
            while (end is None or offset < end) and (line := source.readline(MAX_LINE_BYTES + 1)):
                number += 1
                at, offset = offset, offset + len(line)
                if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
                    offset += _skip(source.readline)
                    yield number, at, None
                    continue
                if number == 1 and line.startswith(_BOM):
                    line, at = line[len(_BOM) :], at + len(_BOM)
                if line.strip():
                    yield number, at, line.rstrip(b"\r\n")
    except (OSError, EOFError, zlib.error) as error:
        raise Stopped(str(error) or type(error).__name__) from None


def _skip(readline: Callable[[int], bytes]) -> int:
    skipped = 0
    while chunk := readline(_BLOCK):
        skipped += len(chunk)
        if chunk.endswith(b"\n"):
            break
    return skipped


def keyed(part: Part) -> Iterator[tuple[int, Keyed | RecordProblem]]:
    """Each non-blank line of *part*, with its byte offset: tied to its patient, or a problem.

    A file that stops before its end gives a last problem that accounts for no line.
    """
    name, number = part.path.name, part.before
    try:
        for number, offset, line in lines(part):
            if line is None:
                message = f"the line is longer than {MAX_LINE_BYTES:,} bytes: one resource per line"
                yield (
                    offset,
                    RecordProblem(ProblemKind.TOO_LONG, 1, message, file=name, line=number),
                )
                continue
            found = key(line)
            if len(found) == 2:  # a problem and its message
                yield offset, RecordProblem(found[0], 1, found[1], file=name, line=number)
            else:
                yield offset, (found[0], part.index, number, found[1], found[2], found[3])
    except Stopped as stopped:
        message = (
            f"the file stops after line {number} ({stopped}): the lines before were "
            "read; download or copy the file again"
        )
        yield 0, RecordProblem(ProblemKind.UNREADABLE_FILE, 0, message, file=name, line=number + 1)


def scan_part(part: Part) -> list[bytes | Keyed | RecordProblem]:
    """The lines of *part* in order: a sort record each, a Medication as keyed, or a problem.

    A sort record is one line of six tab-separated fields (patient, file, line, role, Medication
    referenced, then the resource: its line, or for an uncompressed file its offset and length),
    the file and line numbers zero-padded so that the bytes sort as the tuple does.
    """
    found: list[bytes | Keyed | RecordProblem] = []
    for offset, item in keyed(part):
        if isinstance(item, RecordProblem) or item[3] == MEDICATION:
            found.append(item)
            continue
        patient, index, number, role, medication, line = item
        resource = line if part.compressed else b"%d %d" % (offset, len(line))
        found.append(
            b"%s\t%06d\t%012d\t%s\t%s\t%s\n"
            % (patient.encode(), index, number, role, medication.encode(), resource)
        )
    return found


class Places:
    """Reads resources back from the export's uncompressed files by byte offset and length.

    Use it as a context manager: the files it opened are closed at its end.
    """

    def __init__(self, paths: Sequence[Path]) -> None:
        """Read from *paths* (the export's files, by index), each opened when first read."""
        self._paths = paths
        self._open: dict[int, BinaryIO] = {}

    def read(self, index: int, offset: int, length: int) -> bytes:
        """The *length* bytes at *offset* of file *index*."""
        source = self._open.get(index)
        if source is None:
            source = self._open[index] = self._paths[index].open("rb", buffering=0)
        source.seek(offset)
        return source.read(length)

    def __enter__(self) -> Self:
        """The reader."""
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the files opened."""
        for source in self._open.values():
            source.close()
        self._open.clear()

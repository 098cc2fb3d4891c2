"""``fasciculate screen``: a cohort as JSON Lines in, one line per record out, in order.

Each record is one JSON object on one line; it may carry its own identifier (the member ``id``,
or the one named by ``--id-field``), which is taken out before the presentation is read and
echoed in the record's output line. A record that is not a valid presentation answers with its
problems in its place. Lines are read one at a time (at most ``MAX_INPUT_BYTES`` each), so a cohort
of any size streams in constant memory; a progress bar goes to standard error when it is a
terminal and ``tqdm`` is installed (the ``progress`` extra); a closing summary always goes there.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import os
import stat
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any, BinaryIO

import attrs
from pydantic_core import from_json, to_json

from fasciculate._assess import assess_json_with_urgency, summarize
from fasciculate._cli_io import (
    EXIT_BAD_INPUT,
    EXIT_INTERRUPTED,
    EXIT_IO,
    EXIT_OK,
    CommandFailed,
    Interrupts,
    Output,
    open_input,
    say,
)
from fasciculate._errors import InvalidPresentation, Problem
from fasciculate._processes import chunks, ordered_map, worker_problem
from fasciculate._validation import MAX_INPUT_BYTES, encoding_problem
from fasciculate._vocab import Urgency

if TYPE_CHECKING:
    from tqdm import tqdm

_BOM = b"\xef\xbb\xbf"
_NO_ID = object()  # the record has no identifier (as opposed to an identifier null)


def _records(count: int) -> str:
    return f"{count} record{'' if count == 1 else 's'}"


@attrs.define
class _Tally:
    """What has been screened so far."""

    by_urgency: collections.Counter[Urgency] = attrs.field(factory=collections.Counter)
    rejected: int = 0
    first_rejected: list[int] = attrs.field(factory=list)  # the line numbers of the first ten

    @property
    def records(self) -> int:
        """How many records were answered."""
        return sum(self.by_urgency.values()) + self.rejected

    def count(self, number: int, urgency: Urgency | None) -> None:
        """Count record *number*: assessed at *urgency*, or rejected (``None``)."""
        if urgency is not None:
            self.by_urgency[urgency] += 1
            return
        self.rejected += 1
        if len(self.first_rejected) < 10:
            self.first_rejected.append(number)

    def summary(self) -> str:
        """``N records: A assessed (by urgency), R rejected (lines ...)``."""
        return f"{_records(self.records)}: {self.counts()}"

    def counts(self) -> str:
        """``A assessed (by urgency), R rejected (lines ...)``."""
        assessed = sum(self.by_urgency.values())
        counts = ", ".join(f"{u} {self.by_urgency[u]}" for u in sorted(Urgency, reverse=True))
        text = f"{assessed} assessed ({counts}), {self.rejected} rejected"
        if self.rejected:
            shown = ", ".join(map(str, self.first_rejected))
            more = ", ..." if self.rejected > len(self.first_rejected) else ""
            text += f" (line{'s' if self.rejected > 1 else ''} {shown}{more})"
        return text


def screen(name: str, *, id_field: str, output: str, workers: int = 1) -> int:
    """Screen the JSON Lines of *name* (``-``: standard input); the exit status.

    With more than one worker the records are assessed in a pool of *workers* processes, in
    chunks of :data:`CHUNK`, and written in order a chunk at a time: the same bytes. One
    process writes a file's answers in batches (:func:`_batches`), and a pipe's or a
    terminal's each as it is made, before the next line is awaited.
    """
    problem = worker_problem(workers)
    if problem:
        raise CommandFailed(problem, EXIT_BAD_INPUT)
    out = Output()
    source = open_input(name)
    where = "standard input" if name == "-" else name
    screener = _Screener(id_field=id_field, key=to_json(id_field), summary=output == "summary")
    tally = _Tally()
    bar = _progress_bar(source)
    try:
        with (
            contextlib.closing(source) if name != "-" else contextlib.nullcontext(),
            Interrupts() as interrupts,
            contextlib.ExitStack() as stack,
        ):
            records = _lines(source, where, bar.update if bar is not None else None)
            if workers == 1:
                answers = ((number, *screener.answer(number, line)) for number, line in records)
                # A file never waits for its next line: its answers go out a batch at a time. A
                # pipe or a terminal may: each answer goes out before the next line is awaited.
                batched = _file_size(source) is not None
                answered: Iterable[list[_Answer]] = (
                    _batches(answers) if batched else ([answer] for answer in answers)
                )
            else:
                mapped = stack.enter_context(ordered_map(workers, "fasciculate._cli_screen"))
                answered = mapped(
                    functools.partial(_answer_chunk, screener), chunks(records, CHUNK)
                )
            for chunk in answered:
                with interrupts.held():  # a chunk is written and counted, or none of it
                    out.write(b"".join([answer for _, answer, _ in chunk]))
                    out.flush()  # a reader downstream sees each chunk (or record) at once
                    for number, _, urgency in chunk:
                        tally.count(number, urgency)
    except BrokenProcessPool:
        _close(bar)
        message = (
            f"a worker process stopped (out of memory?) after {_records(tally.records)} written; "
            "run again with fewer --workers"
        )
        raise CommandFailed(message, EXIT_IO) from None
    except KeyboardInterrupt:
        _close(bar)
        say(f"interrupted after {_records(tally.records)} written: {tally.counts()}")
        return EXIT_INTERRUPTED
    except CommandFailed as failure:
        _close(bar)
        if not tally.records:
            raise
        message = f"{failure.message}; stopped after {_records(tally.records)} written"
        raise CommandFailed(message, failure.status) from None
    _close(bar)
    say(tally.summary())
    return EXIT_BAD_INPUT if tally.rejected else EXIT_OK


#: Records sent to a worker at a time (``--workers`` above 1).
CHUNK = 64
#: A record's number, its output line and its urgency (``None``: rejected).
_Answer = tuple[int, bytes, Urgency | None]


#: A batch of answers written at once by one process: at most CHUNK lines, ended sooner once
#: this many bytes are gathered (a full assessment, about 20-50 KB, is a batch of its own).
BATCH_BYTES = 16 * 1024


def _batches(answers: Iterator[_Answer]) -> Iterator[list[_Answer]]:
    """*answers* gathered into batches, one write each instead of one a line.

    A batch ends at :data:`CHUNK` answers, or sooner once it holds :data:`BATCH_BYTES` bytes.
    When reading stops (an error, Ctrl-C), the answers of the batch under way are not written,
    as with ``--workers``: the stop's message counts the lines written, every one whole.
    """
    batch: list[_Answer] = []
    size = 0
    for answer in answers:
        batch.append(answer)
        size += len(answer[1])
        if size >= BATCH_BYTES or len(batch) == CHUNK:
            full, batch, size = batch, [], 0
            yield full
    if batch:
        yield batch


def _answer_chunk(screener: _Screener, chunk: list[tuple[int, bytes | None]]) -> list[_Answer]:
    """The answers to a chunk of records, in a worker process."""
    return [(number, *screener.answer(number, line)) for number, line in chunk]


_TOO_LONG = (
    f"the line is longer than {MAX_INPUT_BYTES:,} bytes; a presentation is one patient on one line"
)


@attrs.define
class _Screener:
    """Answers one record at a time."""

    id_field: str
    key: bytes  # the identifier's member name as JSON, looked for in the raw line
    summary: bool

    def answer(self, number: int, line: bytes | None) -> tuple[bytes, Urgency | None]:
        """The output line for record *number* and its urgency (``None``: rejected).

        *line* is ``None`` when it was too long to read.
        """
        identifier: object = _NO_ID
        try:
            identifier, record = self._split_id(line)
            if self.summary:
                fields = summarize(record)
                return _line(number, identifier, fields), fields["urgency"]
            urgency, assessment = assess_json_with_urgency(record)
        except InvalidPresentation as error:
            problems = [
                {"field": p.path, "message": p.message, "value": p.value} for p in error.problems
            ]
            more = error.total - len(problems)
            return _line(number, identifier, {"problems": problems} | _more(more)), None
        head = _line(number, identifier, {})[:-2]  # without the closing brace and newline
        return b'%s,"assessment":%s}\n' % (head, assessment), urgency

    def _split_id(self, line: bytes | None) -> tuple[object, bytes | dict[str, Any]]:
        """The record's identifier (or ``_NO_ID``) and the presentation without it."""
        if line is None:
            raise InvalidPresentation([Problem("", _TOO_LONG)])
        if self.key not in line:  # the common, fast case: the bytes are read as they are
            return _NO_ID, line
        try:
            record = from_json(line)
        except ValueError:  # malformed: the presentation reader says how
            return _NO_ID, line
        if not isinstance(record, dict) or self.id_field not in record:
            return _NO_ID, line
        identifier = record.pop(self.id_field)
        if isinstance(identifier, bool) or not isinstance(identifier, str | int | None):
            problem = Problem(
                self.id_field, "an identifier is a string or an integer", repr(identifier)[:60]
            )
            raise InvalidPresentation([problem])
        return identifier, record


def _more(count: int) -> dict[str, int]:
    return {"more_problems": count} if count else {}


def _line(number: int, identifier: object, fields: dict[str, Any]) -> bytes:
    head: dict[str, Any] = {"line": number}
    if identifier is not _NO_ID:
        head["id"] = identifier
    return to_json({**head, **fields}) + b"\n"


def _lines(
    source: BinaryIO, where: str, advance: Callable[[int], object] | None
) -> Iterator[tuple[int, bytes | None]]:
    """Number and line of every record (``None`` for one too long to read); blank lines skipped."""
    number, seen = 0, False
    while line := source.readline(MAX_INPUT_BYTES + 1):
        number += 1
        size = len(line)
        if size > MAX_INPUT_BYTES and not line.endswith(b"\n"):
            size += _skip_line(source)
            line = None
        elif number == 1:
            _check_encoding(line, where)
            line = line.removeprefix(_BOM)
        if advance is not None:
            advance(size)
        if line is not None and not line.strip():
            continue
        if not seen and line is not None:
            _check_json_lines(line, number, where)
        seen = True
        yield number, line


def _skip_line(source: BinaryIO) -> int:
    skipped = 0
    while chunk := source.readline(1 << 16):
        skipped += len(chunk)
        if chunk.endswith(b"\n"):
            break
    return skipped


def _check_encoding(line: bytes, where: str) -> None:
    problem = encoding_problem(line, what=where)
    if problem is not None:
        raise CommandFailed(problem.message, EXIT_BAD_INPUT)


def _check_json_lines(line: bytes, number: int, where: str) -> None:
    """Refuse, with one message, a JSON array or pretty-printed JSON (seen in the first record)."""
    text = line.strip()
    expects = "`fasciculate screen` expects JSON Lines, one JSON object per line"
    if text.startswith(b"["):
        raise CommandFailed(
            f"{where} is a JSON array: {expects} (convert it with: jq -c '.[]')", EXIT_BAD_INPUT
        )
    if text.startswith(b"{") and not text.endswith(b"}"):
        raise CommandFailed(
            f"line {number} of {where} is not a whole JSON object: it looks like JSON written over "
            f"several lines (pretty-printed); {expects} (convert it with: jq -c .)",
            EXIT_BAD_INPUT,
        )


def _progress_bar(source: BinaryIO) -> tqdm[Any] | None:
    """A progress bar on standard error when it is a terminal and tqdm is installed."""
    stderr = sys.stderr
    try:
        if stderr is None or not stderr.isatty():
            return None
        from tqdm import tqdm  # noqa: PLC0415 - optional (the `progress` extra)
    except (ImportError, OSError, ValueError):
        return None
    return tqdm(
        total=_file_size(source),
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        desc="screen",
        leave=False,
        file=stderr,
    )


def _file_size(source: BinaryIO) -> int | None:
    """The size of the regular file *source* reads; ``None`` for a pipe, terminal or stream."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        status = os.fstat(source.fileno())
        return status.st_size if stat.S_ISREG(status.st_mode) else None
    return None


def _close(bar: tqdm[Any] | None) -> None:
    if bar is not None:
        bar.close()

"""The command line's streams in-process: each way reading or writing fails, one line and a status.

The same failures are produced for real in ``test_cli_shell.py``; here each stream is replaced by
one that fails on cue, so that every branch is exercised (and measured by coverage).
"""

from __future__ import annotations

import errno
import io
import json
import signal
import sys

import pytest

from conftest import EXAMPLES
from fasciculate.cli import main

RECORD = json.dumps(json.loads((EXAMPLES / "presentations" / "cauda-equina.json").read_bytes()))
LINE = (RECORD + "\n").encode()


class FailingBinary(io.BytesIO):
    """A binary stream that fails with *error* from the *after*-th write on."""

    def __init__(self, error: BaseException, after: int = 0) -> None:
        super().__init__()
        self.error, self.after, self.writes = error, after, 0

    def write(self, data: object) -> int:  # type: ignore[override]
        self.writes += 1
        if self.writes > self.after:
            raise self.error
        return super().write(data)  # type: ignore[arg-type]


def _stdout(monkeypatch: pytest.MonkeyPatch, binary: io.BytesIO) -> None:
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(binary, write_through=True))


def _stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (BrokenPipeError(errno.EPIPE, "Broken pipe"), "its reader closed it (broken pipe)"),
        (OSError(errno.ENOSPC, "No space left on device"), "No space left on device"),
        (ValueError("I/O operation on closed file."), "it is closed"),
    ],
)
def test_a_failing_output_is_one_line_and_status_1(monkeypatch, capsys, error, reason):
    """Writing fails (broken pipe, full disk, closed file): status 1, one line naming why."""
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    _stdout(monkeypatch, FailingBinary(error))
    assert 1 == main(["schema"])
    assert f"fasciculate: cannot write standard output: {reason}\n" == sys.stderr.getvalue()
    del capsys


def test_a_closed_output_fails_before_reading(monkeypatch, capsys):
    """No standard output at all (`>&-`): status 1 before the input is read."""
    monkeypatch.setattr(sys, "stdout", None)
    _stdin(monkeypatch, RECORD.encode())
    assert 1 == main(["assess", "-"])
    assert "fasciculate: cannot write standard output: it is closed\n" == capsys.readouterr().err
    assert RECORD == sys.stdin.read()  # untouched


@pytest.mark.parametrize("command", [["assess", "-"], ["screen", "-"]])
def test_a_closed_input(monkeypatch, capsys, command):
    """No standard input at all (`<&-`): status 1."""
    monkeypatch.setattr(sys, "stdin", None)
    assert 1 == main(command)
    assert "fasciculate: cannot read standard input: it is closed\n" == capsys.readouterr().err


class FailingReader(io.BytesIO):
    """A binary stream that gives its lines, then fails with *error*."""

    def __init__(self, data: bytes, error: BaseException) -> None:
        super().__init__(data)
        self.error = error

    def read(self, _size: int | None = -1) -> bytes:
        raise self.error

    def readline(self, size: int | None = -1) -> bytes:
        line = super().readline(size)
        if not line:
            raise self.error
        return line


def test_a_read_error_is_one_line(monkeypatch, capsys):
    """Reading fails (an I/O error): status 1, one line."""
    monkeypatch.setattr(
        sys, "stdin", io.TextIOWrapper(FailingReader(b"", OSError(errno.EIO, "Input/output error")))
    )
    assert 1 == main(["assess", "-"])
    assert (
        "fasciculate: cannot read standard input: Input/output error\n" == capsys.readouterr().err
    )


def test_a_failing_output_during_screen_says_how_far_it_got(monkeypatch, capsysbinary):
    """The reader goes after two records: status 1, and the records written are counted."""
    _stdin(monkeypatch, LINE * 5)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    _stdout(monkeypatch, FailingBinary(BrokenPipeError(errno.EPIPE, "Broken pipe"), after=2))
    assert 1 == main(["screen", "-"])
    assert (
        "fasciculate: cannot write standard output: its reader closed it (broken pipe); "
        "stopped after 2 records written\n"
    ) == sys.stderr.getvalue()
    del capsysbinary


def test_ctrl_c_while_reading_counts_the_records_written(monkeypatch, capsysbinary):
    """Ctrl-C while waiting for the next record: status 130 and the count so far."""
    reader = FailingReader((RECORD + "\n{}\n").encode(), KeyboardInterrupt())
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(reader))
    assert 130 == main(["screen", "-", "--output", "summary"])
    out, err = capsysbinary.readouterr()
    assert 2 == len(out.splitlines())
    assert (
        b"fasciculate: interrupted after 2 records written: 2 assessed "
        b"(emergency 1, urgent 0, routine 1, self_care 0), 0 rejected\n"
    ) == err


class RecordingBinary(io.BytesIO):
    """A binary stream that keeps each write apart."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []

    def write(self, data: object) -> int:  # type: ignore[override]
        self.writes.append(bytes(data))  # type: ignore[call-overload]
        return super().write(data)  # type: ignore[arg-type]


@pytest.mark.parametrize("output", ["summary", "full"])
def test_a_file_is_written_in_batches_of_whole_lines(monkeypatch, tmp_path, output):
    """Reading a file, one process writes up to 64 lines a write, ending a batch once it has
    16 KB (a full assessment is a batch of its own); reading a pipe, each line as it is made.
    The same bytes either way."""
    path = tmp_path / "cohort.jsonl"
    path.write_bytes(LINE * 100)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    batched = RecordingBinary()
    _stdout(monkeypatch, batched)
    assert 0 == main(["screen", str(path), "--output", output])
    _stdin(monkeypatch, LINE * 100)
    streamed = RecordingBinary()
    _stdout(monkeypatch, streamed)
    assert 0 == main(["screen", "-", "--output", output])
    assert batched.getvalue() == streamed.getvalue()
    assert [1] * 100 == [write.count(b"\n") for write in streamed.writes]
    assert all(write.endswith(b"\n") for write in batched.writes)
    for write in batched.writes[:-1]:  # each batch ends at 64 lines or once it has 16 KB
        lines = write.count(b"\n")
        before = len(write) - len(write.splitlines(keepends=True)[-1])
        assert lines == 64 or (len(write) >= 16 * 1024 > before), (lines, len(write))
    assert len(batched.writes) == (2 if output == "summary" else 100)


class InterruptedWriter(io.BytesIO):
    """A binary stream during whose first write Ctrl-C is pressed."""

    def write(self, data: object) -> int:  # type: ignore[override]
        if not self.tell():
            signal.raise_signal(signal.SIGINT)
        return super().write(data)  # type: ignore[arg-type]


def test_ctrl_c_during_a_write_waits_for_the_line_to_be_written(monkeypatch):
    """Ctrl-C while a line is being written: the line is finished and counted, then the stop."""
    # Python's own handler, as in a command-line process (Spark, run earlier in the same test
    # process, installs its own); put back afterwards.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _interrupted_during_a_write(monkeypatch)
    finally:
        signal.signal(signal.SIGINT, previous)


def _interrupted_during_a_write(monkeypatch: pytest.MonkeyPatch) -> None:
    _stdin(monkeypatch, LINE * 3)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    binary = InterruptedWriter()
    _stdout(monkeypatch, binary)
    assert 130 == main(["screen", "-", "--output", "summary"])
    assert 1 == len(binary.getvalue().splitlines())
    assert sys.stderr.getvalue().startswith("fasciculate: interrupted after 1 record written: ")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored


def test_ctrl_c_elsewhere_is_interrupted(monkeypatch, capsys):
    """Ctrl-C outside a screen (here, while reading a presentation): status 130, one line."""
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(FailingReader(b"", KeyboardInterrupt())))
    assert 130 == main(["assess", "-"])
    assert "fasciculate: interrupted\n" == capsys.readouterr().err


def test_fhir_in_utf16_is_named(monkeypatch, capsys):
    """A FHIR Bundle in UTF-16 is named as such; with a UTF-8 BOM it is read."""
    bundle = (EXAMPLES / "fhir" / "emergency-critical-potassium.json").read_text()
    _stdin(monkeypatch, bundle.encode("utf-16"))
    assert 2 == main(["assess", "--fhir", "-"])
    assert capsys.readouterr().err.startswith("fasciculate: standard input is UTF-16")
    _stdin(monkeypatch, b"\xef\xbb\xbf" + bundle.encode())
    assert 0 == main(["assess", "--fhir", "-"])

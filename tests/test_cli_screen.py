"""``fasciculate screen``: JSON lines in, a line out per record, rejected records in their place."""

from __future__ import annotations

import collections
import contextlib
import fcntl
import json
import os
import pty
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fasciculate
from conftest import EXAMPLES
from fasciculate.cli import main
from fasciculate.testing import presentation_dicts

CLI = [sys.executable, "-m", "fasciculate"]
PRESENTATIONS = sorted((EXAMPLES / "presentations").glob("*.json"))


def _screen(capsysbinary: pytest.CaptureFixture[bytes], path: str) -> tuple[int, list[dict], str]:
    code = main(["screen", path])
    out, err = capsysbinary.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err.decode()


def _jsonl(tmp_path, lines: list[bytes]):
    path = tmp_path / "cohort.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def _compact(path) -> bytes:
    return json.dumps(json.loads(path.read_bytes())).encode()


def test_every_record_gets_its_assessment_in_order(capsysbinary, tmp_path):
    """Each line gives one output line with its line number and the same JSON as assess_json."""
    records = [_compact(path) for path in PRESENTATIONS]
    code, lines, err = _screen(capsysbinary, str(_jsonl(tmp_path, records)))
    assert 0 == code
    assert list(range(1, len(records) + 1)) == [line["line"] for line in lines]
    for record, line in zip(records, lines, strict=True):
        assert json.loads(fasciculate.assess_json(record)) == line["assessment"]
    counts = collections.Counter(line["assessment"]["urgency"] for line in lines)
    by_urgency = ", ".join(
        f"{u} {counts[u]}" for u in ("emergency", "urgent", "routine", "self_care")
    )
    expected = f"{len(records)} records: {len(records)} assessed ({by_urgency}), 0 rejected"
    assert f"fasciculate: {expected}\n" == err


def test_a_bad_record_keeps_its_place_with_every_problem(capsysbinary, tmp_path):
    """A rejected record answers with its problems; the others are still assessed; status 2."""
    good = _compact(PRESENTATIONS[0])
    bad = b'{"twitching": {"duration_days": -1}, "findings": {"weakness": "yes"}}'
    path = _jsonl(tmp_path, [good, b"", bad, b"not json", good])
    code, lines, err = _screen(capsysbinary, str(path))
    assert 2 == code
    assert [1, 3, 4, 5] == [line["line"] for line in lines]  # the blank line 2 is skipped
    assert ["assessment", "problems", "problems", "assessment"] == [
        next(key for key in line if key != "line") for line in lines
    ]
    assert ["twitching.duration_days", "findings.weakness"] == [
        problem["field"] for problem in lines[1]["problems"]
    ]
    assert "malformed JSON" in lines[2]["problems"][0]["message"]
    assert (
        "fasciculate: 4 records: 2 assessed (emergency 0, urgent 0, routine 2, self_care 0), "
        "2 rejected (lines 3, 4)\n"
    ) == err


def test_an_empty_file_gives_no_lines(capsysbinary, tmp_path):
    """No records: nothing out, status 0."""
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    summary = "0 records: 0 assessed (emergency 0, urgent 0, routine 0, self_care 0), 0 rejected"
    assert (0, [], f"fasciculate: {summary}\n") == _screen(capsysbinary, str(path))


def test_a_missing_file_is_named_without_a_traceback(capsysbinary, tmp_path):
    """A missing file exits 1 (an input that failed) with its name, and writes nothing."""
    code, lines, err = _screen(capsysbinary, str(tmp_path / "absent.jsonl"))
    assert (1, []) == (code, lines)
    assert err.startswith("fasciculate: cannot read")
    assert "Traceback" not in err


def test_screen_reads_standard_input_in_a_real_process():
    """`fasciculate screen -` streams from standard input in a subprocess."""
    records = b"\n".join(_compact(path) for path in PRESENTATIONS[:3]) + b"\n{}\n"
    done = subprocess.run(
        [sys.executable, "-m", "fasciculate", "screen", "-"],
        input=records,
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert 0 == done.returncode, done.stderr
    assert 4 == len(done.stdout.splitlines())
    assert done.stderr.startswith(b"fasciculate: 4 records: 4 assessed (")


def test_the_bundled_cohort_screens_as_documented(capsysbinary):
    """examples/cohort.jsonl: two records assessed and one rejected, as the docs show."""
    code, lines, _ = _screen(capsysbinary, str(EXAMPLES / "cohort.jsonl"))
    assert (2, [1, 2, 3]) == (code, [line["line"] for line in lines])
    assert ["self_care", "emergency"] == [line["assessment"]["urgency"] for line in lines[:2]]


def _lines_of(capsysbinary, argv: list[str]) -> tuple[int, list[dict], str]:
    code = main(argv)
    out, err = capsysbinary.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err.decode()


def test_a_record_identifier_is_echoed_and_not_read_as_a_field(capsysbinary, tmp_path):
    """The member `id` is taken out of the record and echoed; the assessment is of the rest."""
    record = json.loads(PRESENTATIONS[0].read_bytes())
    path = _jsonl(
        tmp_path,
        [
            json.dumps({"id": "patient-7", **record}).encode(),
            json.dumps({**record, "id": 42}).encode(),
            json.dumps(record).encode(),
            json.dumps({"id": None, **record}).encode(),
        ],
    )
    code, lines, _ = _lines_of(capsysbinary, ["screen", str(path)])
    assert 0 == code
    assert ["patient-7", 42, "absent", None] == [line.get("id", "absent") for line in lines]
    expected = json.loads(fasciculate.assess_json(record))
    assert all(expected == line["assessment"] for line in lines)
    assert ["line", "id", "assessment"] == list(lines[0])


def test_id_field_names_another_member(capsysbinary, tmp_path):
    """--id-field NAME echoes that member; `id` is then an unknown field like any other."""
    path = _jsonl(tmp_path, [b'{"mrn": "A-1", "patient": {"age": 40}}', b'{"id": 3}'])
    code, lines, _ = _lines_of(capsysbinary, ["screen", str(path), "--id-field", "mrn"])
    assert 2 == code
    assert "A-1" == lines[0]["id"]
    assert "id" not in lines[1]
    assert ["id"] == [problem["field"] for problem in lines[1]["problems"]]


def test_an_identifier_must_be_a_string_or_an_integer(capsysbinary, tmp_path):
    """An identifier that is an object, a list, a number with a fraction or a boolean is refused."""
    bad = [b'{"id": [1]}', b'{"id": {"a": 1}}', b'{"id": 1.5}', b'{"id": true}']
    code, lines, _ = _lines_of(capsysbinary, ["screen", str(_jsonl(tmp_path, bad))])
    assert 2 == code
    for line in lines:
        assert [("id", "an identifier is a string or an integer")] == [
            (problem["field"], problem["message"]) for problem in line["problems"]
        ]


def test_a_presentation_field_cannot_be_the_identifier(capsysbinary, tmp_path):
    """--id-field patient would take a field of the presentation away: refused, status 2."""
    code, lines, err = _lines_of(
        capsysbinary, ["screen", str(_jsonl(tmp_path, [b"{}"])), "--id-field", "patient"]
    )
    assert (2, []) == (code, lines)
    assert "fasciculate: --id-field patient is a presentation field; name another member\n" == err


def test_summary_output_is_small_and_agrees_with_assess(capsysbinary, tmp_path):
    """--output summary: id, urgency, fired rule ids, leading category, must-not-miss, open
    questions; each line well under a kilobyte where the full assessment is 25-50."""
    records = [json.loads(path.read_bytes()) for path in PRESENTATIONS]
    path = _jsonl(
        tmp_path, [json.dumps({"id": n, **r}).encode() for n, r in enumerate(records, start=1)]
    )
    code = main(["screen", str(path), "--output", "summary"])
    out, _ = capsysbinary.readouterr()
    assert 0 == code
    for number, (record, raw) in enumerate(zip(records, out.splitlines(), strict=True), start=1):
        assert {"line": number, "id": number, **_summary_of(record)} == json.loads(raw)
        assert len(raw) < 1000


def _summary_of(record: dict) -> dict:
    """The summary fields, as the assessment of *record* gives them."""
    assessment = fasciculate.assess(record)
    return {
        "urgency": assessment.urgency,
        "rules": [rule.id for rule in assessment.rules_fired],
        "leading": assessment.differential[0].category,
        "must_not_miss": [c.category for c in assessment.differential if c.must_not_miss],
        "open_questions": len(assessment.missing),
    }


@settings(max_examples=120, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(presentation_dicts() | presentation_dicts(complete=True), min_size=1, max_size=6))
def test_summary_output_agrees_with_assess_on_generated_presentations(capsysbinary, records):
    """The summary is read from the evaluators, without building the assessment: the same
    values as the assessment's, for presentations of every kind (complete screens included).
    It decides the screen without listing its questions (it counts them), so the number of
    open questions and the urgency are checked on screens open and closed alike."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cohort.jsonl"
        path.write_bytes(b"".join(json.dumps(record).encode() + b"\n" for record in records))
        code = main(["screen", str(path), "--output", "summary"])
    out, _ = capsysbinary.readouterr()
    assert 0 == code
    for number, (record, raw) in enumerate(zip(records, out.splitlines(), strict=True), start=1):
        assert {"line": number, **_summary_of(record)} == json.loads(raw)


def test_a_json_array_gets_one_problem_saying_json_lines(capsysbinary, tmp_path):
    """A JSON array (on one line or many) or pretty-printed JSON: one message, status 2."""
    records = [json.loads(path.read_bytes()) for path in PRESENTATIONS[:2]]
    cases = {
        "array.json": json.dumps(records).encode(),
        "array-pretty.json": b"\n" + json.dumps(records, indent=2).encode(),
        "pretty.json": json.dumps(records[0], indent=2).encode(),
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        code, lines, err = _lines_of(capsysbinary, ["screen", str(path)])
        assert (2, []) == (code, lines)
        assert 1 == err.count("\n")
        assert "`fasciculate screen` expects JSON Lines, one JSON object per line" in err
        assert ("is a JSON array" in err) == name.startswith("array")


def test_a_byte_order_mark_is_read_and_utf16_is_named(capsysbinary, tmp_path):
    """A UTF-8 BOM before the first record is accepted; a UTF-16 file is named, status 2."""
    content = b'{"id": 1, "patient": {"age": 40}}\n{}\n'
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + content)
    code, lines, _ = _lines_of(capsysbinary, ["screen", str(path)])
    assert (0, [1, 2]) == (code, [line["line"] for line in lines])
    assert 1 == lines[0]["id"]
    path.write_bytes(content.decode().encode("utf-16"))
    code, lines, err = _lines_of(capsysbinary, ["screen", str(path)])
    assert (2, []) == (code, lines)
    assert (
        f"fasciculate: {path} is UTF-16 (it starts with a UTF-16 byte order mark); "
        "save it as UTF-8\n"
    ) == err


def test_a_line_past_the_size_limit_is_rejected_in_its_place(capsysbinary, tmp_path):
    """A line over 1 MiB is skipped unread with one problem; the records after it are screened."""
    huge = b'{"patient": {"sex": "' + b"x" * (1 << 20) + b'"}}'
    path = _jsonl(tmp_path, [b"{}", huge, b"{}"])
    code, lines, _ = _lines_of(capsysbinary, ["screen", str(path)])
    assert 2 == code
    assert [1, 2, 3] == [line["line"] for line in lines]
    assert ["the line is longer than 1,048,576 bytes"] == [
        problem["message"].split(";")[0] for problem in lines[1]["problems"]
    ]


def test_many_problems_in_a_record_are_capped_with_a_count(capsysbinary, tmp_path):
    """A record with 30 unknown fields lists 20 problems and says how many more there were."""
    record = json.dumps({f"field{i}": i for i in range(30)}).encode()
    code, lines, _ = _lines_of(capsysbinary, ["screen", str(_jsonl(tmp_path, [record]))])
    assert 2 == code
    assert (20, 10) == (len(lines[0]["problems"]), lines[0]["more_problems"])


def _on_a_terminal(argv: list[str], *, code: str | None = None) -> tuple[int, bytes, bytes]:
    """Run the command line with standard error on an 80-column pseudo-terminal.

    Returns the status, the standard output and what the terminal received.
    """
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    seen: list[bytes] = []

    def read() -> None:
        with contextlib.suppress(OSError):  # EIO once the terminal's last writer has gone
            while chunk := os.read(primary, 65536):
                seen.append(chunk)

    reader = threading.Thread(target=read)
    reader.start()
    command = [sys.executable, "-c", code, *argv] if code else [*CLI, *argv]
    try:
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=secondary) as process:
            os.close(secondary)
            stdout = process.stdout.read() if process.stdout else b""
            status = process.wait(timeout=120)
        reader.join(timeout=120)
    finally:
        os.close(primary)
    return status, stdout, b"".join(seen)


def test_progress_is_shown_on_a_terminal_only():
    """With standard error a terminal (and tqdm installed), a progress bar; never on stdout."""
    pytest.importorskip("tqdm")
    cohort = str(EXAMPLES / "cohort.jsonl")
    status, stdout, terminal = _on_a_terminal(["screen", cohort])
    assert 2 == status
    assert 3 == len(stdout.splitlines())
    assert b"screen: " in terminal  # the bar's label
    assert b"fasciculate: 3 records: 2 assessed" in terminal
    done = subprocess.run([*CLI, "screen", cohort], capture_output=True, check=False, timeout=120)
    assert done.stderr.startswith(b"fasciculate: 3 records: ")
    assert 1 == done.stderr.count(b"\n")  # not a terminal: the summary alone


def test_without_tqdm_a_terminal_gets_the_summary_alone():
    """tqdm is optional: without it, the screen runs and ends with its summary."""
    code = (
        "import sys; sys.modules['tqdm'] = None; from fasciculate.cli import main; "
        "sys.exit(main(sys.argv[1:]))"
    )
    status, stdout, terminal = _on_a_terminal(["screen", str(EXAMPLES / "cohort.jsonl")], code=code)
    assert (2, 3) == (status, len(stdout.splitlines()))
    assert terminal.startswith(b"fasciculate: 3 records: ")
    assert 1 == terminal.count(b"\n")


def _mixed_cohort(tmp_path) -> Path:
    """Valid records with and without identifiers, invalid ones, a blank line, an overlong one:
    more records than one worker's chunk, so that several chunks are in flight."""
    records = [_compact(path) for path in PRESENTATIONS]
    identified = [b'{"id": "p%d",%s' % (n, record[1:]) for n, record in enumerate(records)]
    odd = [b"", b"not json", b'{"id": [1]}', b'{"patient": {"sex": "' + b"x" * (1 << 20) + b'"}}']
    return _jsonl(tmp_path, (records + identified) * 5 + odd + records)


@pytest.mark.parametrize("output", ["full", "summary"])
def test_workers_write_the_same_bytes_as_one_process(capfdbinary, tmp_path, output):
    """--workers 3 gives the output, status and summary of --workers 1, byte for byte."""
    path = str(_mixed_cohort(tmp_path))
    runs = []
    for workers in ("1", "3"):
        code = main(["screen", "--output", output, "--workers", workers, path])
        runs.append((code, *capfdbinary.readouterr()))
    assert runs[0] == runs[1]
    code, out, err = runs[0]
    assert 2 == code
    records = 2 * 5 * len(PRESENTATIONS) + 3 + len(PRESENTATIONS)  # the blank line skipped
    assert records == len(out.splitlines())
    assert b"3 rejected" in err


@pytest.mark.parametrize("workers", [0, -1, 10_000])
def test_workers_must_be_one_to_twice_the_cores(capsysbinary, tmp_path, workers):
    """--workers 0, or a mistyped 10000: one line naming the option and the range, status 2,
    nothing written."""
    path = _jsonl(tmp_path, [b"{}"])
    most = max(4, 2 * len(os.sched_getaffinity(0)))
    assert 2 == main(["screen", "--workers", str(workers), str(path)])
    out, err = capsysbinary.readouterr()
    assert b"" == out
    assert f"fasciculate: --workers {workers}: give 1 to {most} (".encode() in err
    assert 1 == err.count(b"\n")


def _writing_to_stdout(pid: int) -> bool | None:
    """Whether process *pid* is in a write to its standard output that waits (the pipe is full).

    Read from ``/proc/PID/syscall`` (the system call and its first argument, the descriptor)
    where the kernel shows it, on x86-64 (write is call 1); None where it cannot be told.
    """
    if os.uname().machine != "x86_64":
        return None
    try:
        fields = Path(f"/proc/{pid}/syscall").read_text().split()
    except OSError:
        return None
    if not fields or fields[0] == "running":
        return False
    return fields[:2] == ["1", "0x1"]


def _group_left(group: int) -> list[str]:
    """The processes still alive in process group *group* (read from /proc; zombies not)."""
    left = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            # pid (comm) state ppid pgrp ...: the fields after the command's closing bracket
            state, _, pgrp = stat.read_text().rsplit(")", 1)[1].split()[:3]
            if int(pgrp) == group and state != "Z":
                left.append(stat.parent.name)
    return left


def _assert_group_ends(group: int) -> None:
    """Within 30 s, no process of *group* is left (the workers, the fork server)."""
    deadline = time.monotonic() + 30
    while _group_left(group) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [] == _group_left(group)


@pytest.mark.skipif(
    _writing_to_stdout(os.getpid()) is None, reason="needs Linux /proc/PID/syscall on x86-64"
)
@pytest.mark.parametrize(
    ("workers", "unbuffered", "interrupts", "output"),
    [
        ("1", "", 1, "full"),
        ("1", "1", 1, "full"),
        ("1", "1", 1, "summary"),  # one process, a file: many lines a write
        ("2", "", 1, "full"),
        ("2", "1", 1, "full"),
        ("2", "1", 2, "full"),
    ],
)
def test_ctrl_c_while_a_slow_reader_lags_loses_no_line_counted(
    tmp_path, workers, unbuffered, interrupts, output
):
    """Ctrl-C while the output pipe is full: every record counted as written is there, whole.

    Unbuffered, standard output is a raw file, whose write that the signal interrupts returns
    having written part of its bytes: the rest must still be written. A second Ctrl-C right
    after the first stops the workers too, without hanging; none is left behind.
    """
    copies = 20 if output == "full" else 400  # summaries: enough to fill the pipe
    path = _jsonl(tmp_path, [_compact(path) for path in PRESENTATIONS] * copies)
    command = [*CLI, "screen", "--workers", workers, "--output", output, str(path)]
    env = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    child = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, env=env
    )
    try:
        deadline = time.monotonic() + 60
        while not _writing_to_stdout(child.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _writing_to_stdout(child.pid), "the output pipe never filled"
        for _ in range(interrupts):
            os.killpg(child.pid, signal.SIGINT)  # Ctrl-C goes to the whole foreground group
            time.sleep(0.01)
        out, err = child.communicate(timeout=120)
        _assert_group_ends(child.pid)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)  # the workers too, should the test fail
        child.wait()
    assert 130 == child.returncode, err
    written = int(err.decode().split("interrupted after ")[1].split(" ")[0])
    lines = out.splitlines()
    assert written == len(lines) >= 1
    assert list(range(1, written + 1)) == [json.loads(line)["line"] for line in lines]
    assert out.endswith(b"\n")
    assert b"Traceback" not in err


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs Linux /proc")
def test_workers_exit_when_their_parent_is_killed(tmp_path):
    """kill -9 of `fasciculate screen --workers 2`: its workers do not stay behind."""
    path = _jsonl(tmp_path, [_compact(path) for path in PRESENTATIONS] * 50)
    command = [*CLI, "screen", "--workers", "2", str(path)]
    child = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 60
        while len(_group_left(child.pid)) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)  # the parent, the fork server, two workers (and a tracker)
        assert len(_group_left(child.pid)) >= 4, "the workers never started"
        child.kill()
        child.wait()
        _assert_group_ends(child.pid)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)

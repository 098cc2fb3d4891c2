"""``fasciculate screen``: JSON lines in, a line out per record, rejected records in their place."""

from __future__ import annotations

import collections
import json
import subprocess
import sys
from typing import TYPE_CHECKING

import fasciculate
from conftest import EXAMPLES
from fasciculate.cli import main

if TYPE_CHECKING:
    import pytest

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

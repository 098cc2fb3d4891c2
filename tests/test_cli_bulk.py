"""`fasciculate screen-bulk` in a real process: JSON lines out, a summary, no traceback ever."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

from conftest import EXAMPLES

EXPORT = EXAMPLES / "bulk-export"


def _run(*args: str | Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "fasciculate", "screen-bulk", *map(str, args)],
        capture_output=True,
        check=False,
        timeout=300,
    )


def _lines(done: subprocess.CompletedProcess[bytes]) -> list[dict[str, object]]:
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_the_example_export_screens_with_its_summary(tmp_path):
    """One line per patient in id order, the summary on stderr and as JSON, status 0."""
    summary = tmp_path / "summary.json"
    done = _run(EXPORT, "--as-of", "2026-12-01", "--workers", "1", "--summary", summary)
    assert 0 == done.returncode, done.stderr
    lines = _lines(done)
    patients = [line["patient"] for line in lines]
    assert 28 == len(patients)
    assert sorted(patients) == patients
    assert {"patient", "records", "urgency", "rules", "leading", "must_not_miss"} <= set(lines[0])
    counts = json.loads(summary.read_text())
    assert 1 == counts["medications"]
    assert counts["records_in"] == counts["records_out"]
    assert counts["records_out"] == sum(line["records"] for line in lines) + counts["medications"]
    stderr = done.stderr.decode()
    n = counts["records_in"]
    assert f"{n} records in, {n} out: 1 Medication read, 28 patients" in stderr
    assert "not read (no resource type fasciculate reads): Encounter.ndjson.gz" in stderr


def test_one_worker_and_two_write_the_same_bytes():
    """The process pool keeps the order: the output is the same bytes as one process's."""
    one = _run(EXPORT, "--as-of", "2026-12-01", "--workers", "1", "--output", "full")
    two = _run(EXPORT, "--as-of", "2026-12-01", "--workers", "2", "--output", "full")
    assert (0, 0) == (one.returncode, two.returncode), two.stderr
    assert one.stdout == two.stdout
    assert all("assessment" in line for line in _lines(one))


def test_bad_records_are_answered_in_place_and_the_status_says_so(tmp_path):
    """Bad lines and a truncated file give problem lines naming file and line; status 2."""
    folder = tmp_path / "export"
    folder.mkdir()
    patients = gzip.decompress((EXPORT / "Patient.ndjson.gz").read_bytes())
    (folder / "Patient.ndjson").write_bytes(patients + b"{oops\n")
    (folder / "Condition.ndjson.gz").write_bytes(
        (EXPORT / "Condition.ndjson.gz").read_bytes()[:-30]
    )
    done = _run(folder, "--as-of", "2026-12-01")
    assert 2 == done.returncode
    stderr = done.stderr.decode()
    assert "Traceback" not in stderr
    problems = [line for line in _lines(done) if "problem" in line]
    assert {("Patient.ndjson", "not_json"), ("Condition.ndjson.gz", "unreadable_file")} == {
        (p["file"], p["problem"]) for p in problems
    }
    assert "rejected (not_json 1, unreadable_file 1)" in stderr


def test_bad_arguments_are_one_line_without_a_traceback(tmp_path):
    """No folder, an empty folder, a missing --as-of: one message naming the fix, status 2."""
    missing = _run(tmp_path / "nowhere", "--as-of", "2026-12-01")
    empty = _run(tmp_path, "--as-of", "2026-12-01")
    no_date = _run(EXPORT)
    workers = _run(EXPORT, "--as-of", "2026-12-01", "--workers", "0")
    for done in (missing, empty, no_date, workers):
        assert 2 == done.returncode
        assert b"Traceback" not in done.stderr
        assert b"" == done.stdout
    assert b"is not a folder: give the folder of a Bulk Data $export" in missing.stderr
    assert b"holds no .ndjson or .ndjson.gz file" in empty.stderr
    assert b"--as-of" in no_date.stderr
    assert b"--workers 0: give 1 to " in workers.stderr


def test_the_command_is_listed_in_the_help():
    """`fasciculate --help` lists screen-bulk."""
    done = subprocess.run(
        [sys.executable, "-m", "fasciculate", "--help"], capture_output=True, check=True
    )
    assert b"screen-bulk" in done.stdout


def test_a_summary_file_that_cannot_be_written_is_named(tmp_path: Path):
    """--summary into a missing folder fails with its name, after the output was written."""
    done = _run(EXPORT, "--as-of", "2026-12-01", "--summary", tmp_path / "no" / "summary.json")
    assert 1 == done.returncode
    assert b"cannot write" in done.stderr
    assert b"Traceback" not in done.stderr


def test_medications_are_read_and_a_bad_one_is_answered_in_place(tmp_path):
    """A MedicationRequest naming its Medication by id only is read through Medication.ndjson;
    a second Medication under the same id is a problem line; the summary counts both."""
    folder = tmp_path / "export"
    folder.mkdir()
    rxnorm = "http://www.nlm.nih.gov/research/umls/rxnorm"
    resources = {
        "Patient": [{"resourceType": "Patient", "id": "p1", "birthDate": "1958-03-04"}],
        "MedicationRequest": [
            {
                "resourceType": "MedicationRequest",
                "status": "active",
                "intent": "order",
                "medicationReference": {"reference": "Medication/m1"},
                "subject": {"reference": "Patient/p1"},
            }
        ],
        "Medication": [
            {
                "resourceType": "Medication",
                "id": "m1",
                "code": {"coding": [{"system": rxnorm, "code": "4603"}]},
            },
            {"resourceType": "Medication", "id": "m1", "code": {"text": "paracetamol"}},
        ],
    }
    for kind, lines in resources.items():
        (folder / f"{kind}.ndjson").write_text("".join(json.dumps(r) + "\n" for r in lines))
    summary = tmp_path / "summary.json"
    done = _run(folder, "--as-of", "2026-12-01", "--output", "full", "--summary", summary)
    assert 2 == done.returncode, done.stderr
    problem, result = _lines(done)
    assert ("Medication.ndjson", 2, "bad_medication") == (
        problem["file"],
        problem["line"],
        problem["problem"],
    )
    assert ("p1", 2) == (result["patient"], result["records"])
    leading = result["assessment"]["differential"][0]
    facts = [
        fact["fact"]
        for condition in leading["conditions"]
        for feature in condition["supporting"]
        for fact in feature["facts"]
    ]
    assert "med_loop_diuretic" in facts  # the ingredient code of the Medication referenced
    counts = json.loads(summary.read_text())
    assert (4, 4, 1) == (counts["records_in"], counts["records_out"], counts["medications"])
    assert "1 Medication read, 1 patients assessed" in done.stderr.decode()

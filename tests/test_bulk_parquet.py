"""Screening outcomes as Parquet (the `parquet` extra): one row per outcome, as its line."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from conftest import EXAMPLES
from fasciculate.bulk import (
    PatientResult,
    ProblemKind,
    RecordProblem,
    schema,
    screen_export,
    write_parquet,
)

pq = pytest.importorskip("pyarrow.parquet")

EXPORT = EXAMPLES / "bulk-export"
AS_OF = dt.date(2026, 12, 1)


def test_every_outcome_is_one_row_with_the_fields_of_its_line(tmp_path):
    """The rows are the outcomes, in order, with the fields of their JSON lines."""
    outcomes = list(screen_export(EXPORT, as_of=AS_OF))
    outcomes.append(RecordProblem(ProblemKind.NOT_JSON, 1, "m", file="f", line=3))
    path = tmp_path / "out.parquet"
    assert len(outcomes) == write_parquet(outcomes, path)
    table = pq.read_table(path)
    assert schema() == table.schema
    rows = table.to_pylist()
    for outcome, row in zip(outcomes, rows, strict=True):
        line = json.loads(outcome.to_json())
        assert line == {key: row[key] for key in line}
    assert isinstance(outcomes[0], PatientResult)
    assert {"file": "f", "line": 3, "problem": "not_json", "problems": []} == {
        key: rows[-1][key] for key in ("file", "line", "problem", "problems")
    }


def test_an_empty_run_writes_the_columns(tmp_path):
    """No outcome still gives a table with every column."""
    path = tmp_path / "empty.parquet"
    assert 0 == write_parquet([], path)
    assert schema() == pq.read_table(path).schema


def test_the_command_writes_parquet_instead_of_lines(tmp_path):
    """--parquet FILE: no lines on standard output, the rows in the file, the summary as usual."""
    path = tmp_path / "out.parquet"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "fasciculate",
            "screen-bulk",
            str(EXPORT),
            "--as-of",
            "2026-12-01",
            "--workers",
            "2",
            "--parquet",
            str(path),
        ],
        capture_output=True,
        check=False,
        timeout=300,
    )
    assert (0, b"") == (done.returncode, done.stdout), done.stderr
    table = pq.read_table(path)
    assert 28 == table.num_rows
    assert b"534 records in, 534 out: 1 Medication read, 28 patients" in done.stderr
    assert 533 == sum(table.column("records").to_pylist())  # the Medication is no row's


def test_without_pyarrow_the_command_says_which_extra(tmp_path):
    """Without pyarrow, --parquet fails at once naming the extra, and writes nothing."""
    code = (
        "import sys; sys.modules['pyarrow'] = None; from fasciculate.cli import main; "
        f"sys.exit(main(['screen-bulk', {str(EXPORT)!r}, '--as-of', '2026-12-01', "
        f"'--parquet', {str(tmp_path / 'x.parquet')!r}]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, check=False, timeout=300
    )
    assert 1 == done.returncode
    assert b"--parquet needs pyarrow: pip install 'fasciculate[parquet]'" in done.stderr
    assert not (tmp_path / "x.parquet").exists()

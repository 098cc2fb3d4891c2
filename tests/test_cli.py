"""The command line: reports, JSON, schema, rules, and clean failures on bad input."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from _builders import negative
from conftest import EXAMPLES
from fasciculate import knowledge_base
from fasciculate.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_assess_text_report_names_urgency_rules_sources_and_questions(capsys):
    """The text report shows the urgency, each fired rule with its source and the open questions."""
    path = EXAMPLES / "presentations" / "bulbar-features.json"
    code, out, err = run(capsys, "assess", str(path))
    assert (0, "") == (code, err)
    assert out.startswith("URGENCY: URGENT")
    assert "MND-BULBAR [urgent] Bulbar features" in out
    assert "https://www.nice.org.uk/guidance/ng42" in out
    assert "Open questions that could raise the urgency" in out
    assert "not a diagnosis" in out


def test_assess_json_is_the_full_assessment(capsys):
    """--format json prints the assessment with urgency, rules, missing and the KB stamp."""
    path = EXAMPLES / "presentations" / "cauda-equina.json"
    code, out, _ = run(capsys, "assess", str(path), "--format", "json")
    data = json.loads(out)
    assert 0 == code
    assert "emergency" == data["urgency"]
    assert {"id", "urgency", "source", "facts"} <= set(data["rules_fired"][0])
    assert {"version", "sha256"} == set(data["knowledge_base"])
    assert 64 == len(data["knowledge_base"]["sha256"])


def test_assess_reads_stdin(capsys, monkeypatch):
    """`assess -` reads the presentation from standard input."""
    stdin = io.TextIOWrapper(io.BytesIO(json.dumps(negative()).encode()))
    monkeypatch.setattr(sys, "stdin", stdin)
    code, out, _ = run(capsys, "assess", "-")
    assert 0 == code
    assert out.startswith("URGENCY: SELF_CARE")


def test_schema_is_the_presentation_json_schema(capsys):
    """`schema` prints a JSON Schema that forbids unknown fields."""
    code, out, _ = run(capsys, "schema")
    schema = json.loads(out)
    assert 0 == code
    assert schema["additionalProperties"] is False
    assert "findings" in schema["properties"]


def test_rules_lists_every_rule_with_its_source(capsys):
    """`rules --format json` lists every rule with condition and source, text lists them too."""
    kb = knowledge_base()
    code, out, _ = run(capsys, "rules", "--format", "json")
    rows = json.loads(out)
    assert 0 == code
    assert [rule.id for rule in kb.rules] + ["SCREEN-INCOMPLETE"] == [row["id"] for row in rows]
    assert all(row["source"] in kb.sources for row in rows)
    code, out, _ = run(capsys, "rules")
    assert all(rule.id in out for rule in kb.rules)


BAD_INPUTS: dict[str, tuple[bytes, str]] = {
    "empty": (b"", "the input is empty"),
    "whitespace only": (b"  \n", "the input is empty"),
    "malformed json": (b'{"patient": {', "malformed JSON"),
    "not an object": (b"[1, 2]", "expected a JSON object"),
    "random bytes": (b"\xff\xfdgarbage", "malformed JSON"),
    "UTF-16": ('{"findings": {}}'.encode("utf-16"), "the input is UTF-16"),
    "unknown top-level field": (
        b'{"patinet": {}}',
        "patinet: unknown field; did you mean 'patient'",
    ),
    "unknown nested field": (b'{"patient": {"agee": 3}}', "patient.agee: unknown field"),
    "wrong type": (b'{"patient": {"age": "old"}}', "patient.age"),
    "age out of range": (b'{"patient": {"age": 130}}', "patient.age"),
    "negative duration": (b'{"twitching": {"duration_days": -1}}', "twitching.duration_days"),
    "unknown region": (b'{"twitching": {"regions": ["elbowz"]}}', "twitching.regions.0"),
    "unknown finding": (b'{"findings": {"weaknes": "present"}}', "did you mean 'weakness'"),
    "bad tri-state": (b'{"findings": {"weakness": "yes"}}', "findings.weakness"),
    "unknown unit": (
        b'{"labs": [{"analyte": "potassium", "value": 3, "unit": "mmol"}]}',
        "labs.0.unit: unknown unit 'mmol' for potassium",
    ),
    "implausible lab": (
        b'{"labs": [{"analyte": "potassium", "value": 35, "unit": "mmol/L"}]}',
        "labs.0.value",
    ),
    "unknown analyte": (
        b'{"labs": [{"analyte": "sodium", "value": 140, "unit": "mmol/L"}]}',
        "labs.0.analyte",
    ),
    "missing lab value": (
        b'{"labs": [{"analyte": "potassium", "unit": "mmol/L"}]}',
        "with a unit needs its value too",
    ),
    "empty medication": (b'{"medications": [{}]}', "medications.0"),
    "onset without date": (
        b'{"twitching": {"onset_date": "2026-01-01"}}',
        "needs assessed_on",
    ),
    "onset after assessment": (
        b'{"assessed_on": "2026-01-01", "twitching": {"onset_date": "2026-02-01"}}',
        "after assessed_on",
    ),
    "not a finite number": (b'{"exposures": {"sleep_hours": NaN}}', "exposures.sleep_hours"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_exits_2_naming_the_field(case: str, capsys, tmp_path: Path):
    """Each kind of bad input exits 2 with the field and fix named, prints no report."""
    content, expected = BAD_INPUTS[case]
    path = tmp_path / "input.json"
    path.write_bytes(content)
    code, out, err = run(capsys, "assess", str(path))
    assert (2, "") == (code, out)
    assert expected in err
    assert "Traceback" not in err


def test_several_problems_are_reported_at_once(capsys, tmp_path: Path):
    """All problems in one input are listed together, not only the first."""
    path = tmp_path / "input.json"
    path.write_text('{"patient": {"age": -3}, "findings": {"pain": "maybe"}, "extra": 1}')
    code, _, err = run(capsys, "assess", str(path))
    assert 2 == code
    assert "3 problems in the presentation" in err
    for field in ("patient.age", "findings.pain", "extra"):
        assert field in err


def test_missing_file_exits_1(capsys, tmp_path: Path):
    """A file that does not exist is reported, not raised: status 1, an input that failed."""
    code, out, err = run(capsys, "assess", str(tmp_path / "nope.json"))
    assert (1, "") == (code, out)
    assert f"fasciculate: cannot read {tmp_path / 'nope.json'}: No such file or directory\n" == err


@pytest.mark.parametrize("content", [b"", b"{", b'{"findings": {"weakness": 1}}'])
def test_real_process_prints_no_traceback(content: bytes):
    """Run as a real process, bad input gives exit 2, a message and no traceback."""
    result = subprocess.run(
        [sys.executable, "-m", "fasciculate", "assess", "-"],
        input=content,
        capture_output=True,
        check=False,
    )
    assert (2, b"") == (result.returncode, result.stdout)
    assert b"fasciculate: invalid presentation" in result.stderr
    assert b"Traceback" not in result.stderr

"""The command line with FHIR: --fhir input, --format fhir|cards, the questionnaire command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from _fhir import bundle, lab, patient
from conftest import EXAMPLES, SYNTHEA
from fasciculate.cli import main

EMERGENCY = EXAMPLES / "fhir" / "emergency-critical-potassium.json"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_assess_fhir_text_report_ends_with_the_mapping_summary(capsys):
    """The readable report of a bundle shows the urgency and then what was mapped or skipped."""
    code, out, err = run(capsys, "assess", "--fhir", str(EMERGENCY))
    assert (0, "") == (code, err)
    assert out.startswith("URGENCY: EMERGENCY")
    assert "FHIR mapping (as of 2026-11-20)" in out


def test_assess_fhir_as_fhir_prints_a_transaction_bundle(capsys):
    """--format fhir prints a transaction whose ServiceRequest is stat.

    The example's patient has no server id (a urn:uuid fullUrl), so it is named, not referenced.
    """
    code, out, _ = run(capsys, "assess", "--fhir", str(EMERGENCY), "--format", "fhir")
    output = json.loads(out)
    resources = {e["resource"]["resourceType"]: e["resource"] for e in output["entry"]}
    assert (0, "transaction") == (code, output["type"])
    assert "stat" == resources["ServiceRequest"]["priority"]
    assert {"display": "the assessed patient"} == resources["ServiceRequest"]["subject"]


def test_assess_fhir_as_cards_prints_a_cds_hooks_response(capsys):
    """--format cards prints {"cards": [...]} with a critical card for an emergency."""
    code, out, _ = run(capsys, "assess", "--fhir", str(EMERGENCY), "--format", "cards")
    assert 0 == code
    assert ["critical"] == [card["indicator"] for card in json.loads(out)["cards"]]


def test_a_plain_presentation_can_also_be_answered_as_cards(capsys):
    """--format cards works for a presentation JSON too."""
    path = EXAMPLES / "presentations" / "bulbar-features.json"
    code, out, _ = run(capsys, "assess", str(path), "--format", "cards")
    assert (0, "warning") == (code, json.loads(out)["cards"][0]["indicator"])


def test_as_of_fixes_the_reference_date(capsys):
    """--as-of sets the age reference date."""
    sample = next(SYNTHEA.glob("Brent_*.json"))
    code, out, _ = run(capsys, "assess", "--fhir", str(sample), "--as-of", "2030-07-04")
    assert 0 == code
    assert "as of 2030-07-04" in out


def test_questionnaire_prints_the_sdc_questionnaire(capsys):
    """`questionnaire` prints the intake Questionnaire as FHIR JSON."""
    code, out, _ = run(capsys, "questionnaire")
    assert (0, "Questionnaire") == (code, json.loads(out)["resourceType"])


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"{", "malformed JSON"),
        (b'{"resourceType": "Observation"}', "resourceType: expected a FHIR Bundle"),
        (
            json.dumps(bundle(patient(), lab("2823-3", "K", 4.0, "mg"))).encode(),
            "entry.1.resource.valueQuantity: unit 'mg' is not accepted for potassium",
        ),
    ],
)
def test_a_bad_bundle_exits_2_with_the_path_and_no_traceback(content, expected, tmp_path: Path):
    """Run as a real process, a bad bundle gives exit 2, the field path and the fix."""
    path = tmp_path / "bundle.json"
    path.write_bytes(content)
    result = subprocess.run(
        [sys.executable, "-m", "fasciculate", "assess", "--fhir", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (2, "") == (result.returncode, result.stdout)
    assert "fasciculate: invalid FHIR Bundle" in result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_file_and_fhir_are_mutually_exclusive():
    """Giving both a presentation file and --fhir is a usage error (exit 2)."""
    with pytest.raises(SystemExit) as caught:
        main(["assess", "x.json", "--fhir", "y.json"])
    assert 2 == caught.value.code


def test_as_of_without_fhir_is_refused(capsys):
    """--as-of only means something for a bundle; with a presentation it is an error, exit 2."""
    path = EXAMPLES / "presentations" / "bulbar-features.json"
    code, out, err = run(capsys, "assess", str(path), "--as-of", "2026-01-01")
    assert (2, "") == (code, out)
    assert "--as-of applies to --fhir input" in err

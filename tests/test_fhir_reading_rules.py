"""The FHIR reader's safety rules: whose data, which result stands, which date, which failure.

Each test reproduces a way the reader once changed a patient's urgency for a wrong reason.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import fasciculate
from _fhir import (
    ICD10CM,
    LOINC,
    PATIENT_URL,
    TWITCH,
    bundle,
    condition,
    entry,
    lab,
    medication,
    patient,
    symptom,
)
from fasciculate import InvalidBundle, MedicationClass
from fasciculate.fhir import questionnaire_response, read_bundle

JANE = "urn:uuid:00000000-0000-4000-8000-00000000ja4e"
JOHN = "urn:uuid:00000000-0000-4000-8000-00000000j04n"


def _about(item: dict[str, Any], who: str | None) -> dict[str, Any]:
    """*item* (an entry) with its subject set to *who* (removed when None)."""
    item = copy.deepcopy(item)
    item["resource"].pop("performer", None)
    if who is None:
        item["resource"].pop("subject", None)
    else:
        item["resource"]["subject"] = {"reference": who}
    return item


def _person(url: str, ident: str, birth: str = "1950-01-01") -> dict[str, Any]:
    resource = {"resourceType": "Patient", "id": ident, "gender": "male", "birthDate": birth}
    return entry(resource, url)


def _urgency(data: dict[str, Any], **options: Any) -> str:
    return str(fasciculate.assess(read_bundle(data, **options).presentation).urgency)


# --- Whose data ---------------------------------------------------------------------------------


def test_another_patients_potassium_is_skipped_and_reported():
    """Jane's bundle holding John's potassium of 2.3: not read, reported as another patient's."""
    johns = _about(lab("2823-3", "Potassium", 2.3, "mmol/L"), "Patient/john")
    data = bundle(
        _person(JANE, "jane"),
        _about(symptom(*TWITCH, body_site="Left calf"), "Patient/jane"),
        johns,
    )
    reading = read_bundle(data)
    assert [] == reading.presentation.labs
    (skipped,) = [e for e in reading.report.skipped if e.reference == johns["fullUrl"]]
    assert "about Patient/john, not the patient being assessed" in skipped.reason
    assert any("another patient" in note for note in reading.report.notes)
    assert "emergency" != str(fasciculate.assess(reading.presentation).urgency)


def test_references_name_the_patient_by_full_url_id_or_server_url():
    """A subject given as the fullUrl, Patient/<id> or an absolute server URL is the patient."""
    data = bundle(
        _person("https://ehr.example/fhir/Patient/jane", "jane"),
        _about(lab("2823-3", "Potassium", 2.3, "mmol/L"), "Patient/jane"),
        _about(symptom("26544005", "Muscle weakness"), "https://ehr.example/fhir/Patient/jane"),
        _about(
            symptom("40739000", "Dysphagia"),
            "https://ehr.example/fhir/Patient/jane/_history/2",
        ),
    )
    reading = read_bundle(data)
    assert [2.3] == [result.value for result in reading.presentation.labs]
    assert {"weakness", "swallowing_difficulty"} == set(reading.presentation.findings)


def test_several_patients_and_no_choice_is_an_invalid_bundle_that_says_how_to_choose():
    """Two Patients: which one is assessed must be said, with patient= or --patient."""
    data = bundle(_person(JANE, "jane"), _person(JOHN, "john"))
    with pytest.raises(InvalidBundle) as caught:
        read_bundle(data)
    message = str(caught.value)
    assert "the bundle holds 2 Patients" in message
    assert "patient='Patient/<id>'" in message
    assert "--patient" in message


def test_the_patient_argument_chooses_and_everything_else_is_skipped():
    """patient= reads John's resources only; Jane's, and those naming nobody, are skipped."""
    johns = _about(lab("2823-3", "Potassium", 2.3, "mmol/L"), "Patient/john")
    janes = _about(lab("2823-3", "Potassium", 4.1, "mmol/L"), JANE)
    nobodys = _about(lab("2823-3", "Potassium", 4.2, "mmol/L"), None)
    data = bundle(_person(JANE, "jane"), _person(JOHN, "john"), johns, janes, nobodys)
    for choice in ("Patient/john", "john", JOHN):
        reading = read_bundle(data, patient=choice)
        assert JOHN == reading.subject
        assert [2.3] == [result.value for result in reading.presentation.labs]
        reasons = {e.reference: e.reason for e in reading.report.skipped}
        assert "another patient" in reasons[JANE]
        assert "about urn:uuid" in reasons[janes["fullUrl"]]
        assert "names no subject" in reasons[nobodys["fullUrl"]]
    assert "emergency" == _urgency(data, patient="Patient/john")


def test_a_patient_not_in_the_bundle_is_an_error_naming_those_that_are():
    """patient= naming no Patient of the bundle lists the Patients it holds."""
    with pytest.raises(InvalidBundle) as caught:
        read_bundle(bundle(_person(JANE, "jane")), patient="Patient/nobody")
    (problem,) = caught.value.problems
    assert ("patient", True) == (problem.path, JANE in problem.message)


def test_resources_naming_no_subject_are_the_patients_when_the_bundle_is_about_one_patient():
    """A bundle about one patient alone: a resource naming no subject is theirs."""
    data = bundle(patient(), _about(lab("2823-3", "Potassium", 2.3, "mmol/L"), None))
    assert [2.3] == [result.value for result in read_bundle(data).presentation.labs]


def test_resources_naming_no_subject_are_skipped_when_another_patient_is_named():
    """Once a resource is about someone else, one naming nobody cannot be told apart: skipped."""
    data = bundle(
        patient(),
        _about(lab("2823-3", "Potassium", 2.3, "mmol/L"), None),
        _about(symptom("26544005", "Muscle weakness"), "Patient/someone-else"),
    )
    reading = read_bundle(data)
    assert ([], {}) == (reading.presentation.labs, reading.presentation.findings)


def test_a_bundle_without_a_patient_about_two_subjects_needs_a_choice():
    """No Patient resource and resources about two patients: an error, or patient= chooses."""
    data = bundle(
        _about(lab("2823-3", "Potassium", 2.3, "mmol/L"), "Patient/a"),
        _about(lab("2823-3", "Potassium", 4.1, "mmol/L"), "Patient/b"),
    )
    with pytest.raises(InvalidBundle, match="about 2 subjects"):
        read_bundle(data)
    reading = read_bundle(data, patient="Patient/b")
    assert ("Patient/b", [4.1]) == (
        reading.subject,
        [result.value for result in reading.presentation.labs],
    )


def _fasciculate(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "fasciculate.cli", *args],
        input=stdin,
        capture_output=True,
        check=False,
        timeout=120,
    )


def test_the_command_line_chooses_the_patient_with_dash_dash_patient(tmp_path: Path):
    """--patient picks John; without it a two-patient bundle exits 2 saying how to choose."""
    path = tmp_path / "two.json"
    johns = _about(lab("2823-3", "Potassium", 2.3, "mmol/L"), "Patient/john")
    path.write_text(json.dumps(bundle(_person(JANE, "jane"), _person(JOHN, "john"), johns)))
    chosen = _fasciculate("assess", "--fhir", str(path), "--patient", "Patient/john")
    assert 0 == chosen.returncode, chosen.stderr
    assert chosen.stdout.startswith(b"URGENCY: EMERGENCY")
    unchosen = _fasciculate("assess", "--fhir", str(path))
    assert 2 == unchosen.returncode
    assert b"--patient Patient/<id>" in unchosen.stderr
    assert b"Traceback" not in unchosen.stderr


# --- Determinism --------------------------------------------------------------------------------

_DETERMINISM = """
import json, sys
from fasciculate import InvalidBundle
from fasciculate.fhir import read_bundle
try:
    reading = read_bundle(sys.stdin.read())
except InvalidBundle as error:
    print("InvalidBundle", [(p.path, p.message) for p in error.problems])
else:
    print([(str(r.analyte), r.value) for r in reading.presentation.labs])
"""


def test_two_analytes_on_one_result_read_the_same_under_every_hash_seed():
    """Potassium and magnesium codes on one result: the same answer for every PYTHONHASHSEED."""
    both = lab("2823-3", "Potassium", 2.3, "mmol/L")
    both["resource"]["code"]["coding"].append({"system": LOINC, "code": "19123-9"})
    document = json.dumps(bundle(patient(), both)).encode()
    answers = set()
    for seed in ("0", "1", "2", "3", "4", "5", "6", "7"):
        done = subprocess.run(
            [sys.executable, "-c", _DETERMINISM],
            input=document,
            capture_output=True,
            check=True,
            timeout=120,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        answers.add(done.stdout.decode().strip())
    (answer,) = answers
    assert answer.startswith("InvalidBundle [('entry.1.resource.code'")
    assert "2 analytes (potassium, magnesium)" in answer


def test_two_codes_of_one_analyte_are_one_result():
    """Serum and whole-blood potassium codes together name one analyte: read, no problem."""
    both = lab("2823-3", "Potassium", 2.3, "mmol/L")
    both["resource"]["code"]["coding"].append({"system": LOINC, "code": "6298-4"})
    reading = read_bundle(bundle(patient(), both))
    assert ["potassium"] == [result.analyte for result in reading.presentation.labs]
    assert f"{LOINC}|2823-3" == reading.report.mapped[-1].code


# --- Superseded and unfinished data -------------------------------------------------------------


def _potassium(value: float, when: str, status: str = "final") -> dict[str, Any]:
    result = lab("2823-3", "Potassium", value, "mmol/L", when=when)
    result["resource"]["status"] = status
    return result


def test_a_corrected_result_supersedes_a_preliminary_one_at_the_same_time():
    """Preliminary 2.3 and corrected 4.1 at the same instant: 4.1 stands, 2.3 is superseded."""
    preliminary = _potassium(2.3, "2026-11-18T09:00:00Z", "preliminary")
    corrected = _potassium(4.1, "2026-11-18T09:00:00Z", "corrected")
    reading = read_bundle(bundle(patient(), preliminary, corrected))
    assert [4.1] == [result.value for result in reading.presentation.labs]
    reasons = {e.reference: e.reason for e in reading.report.skipped}
    assert "preliminary potassium result superseded by the final" in reasons[preliminary["fullUrl"]]
    assert "emergency" != str(fasciculate.assess(reading.presentation).urgency)


def test_the_latest_final_result_per_analyte_stands():
    """An old 2.3 and yesterday's 4.1: 4.1 stands; the old one is reported as superseded."""
    old = _potassium(2.3, "2026-10-01")
    new = _potassium(4.1, "2026-11-18T08:00:00+01:00", "amended")
    reading = read_bundle(bundle(patient(), new, old))
    assert [4.1] == [result.value for result in reading.presentation.labs]
    assert any(old["fullUrl"] == e.reference for e in reading.report.skipped)


def test_an_unfinished_result_newer_than_the_final_ones_is_read_beside_them_and_noted():
    """A newer preliminary 2.3 after a final 4.1 is read too (never replacing it), with a note."""
    final = _potassium(4.1, "2026-11-17")
    preliminary = _potassium(2.3, "2026-11-18", "preliminary")
    reading = read_bundle(bundle(patient(), preliminary, final))
    assert [2.3, 4.1] == [result.value for result in reading.presentation.labs]
    assert any("preliminary potassium result read" in note for note in reading.report.notes)


@pytest.mark.parametrize("status", ["registered", "unknown", None])
def test_an_unfinished_result_never_replaces_a_final_one(status: str | None):
    """A registered, unknown or status-less 4.1 after a final 2.3: the 2.3 still counts."""
    unfinished = _potassium(4.1, "2026-11-18", status or "final")
    if status is None:
        del unfinished["resource"]["status"]
    reading = read_bundle(bundle(patient(), _potassium(2.3, "2026-11-10"), unfinished))
    assert [2.3, 4.1] == [result.value for result in reading.presentation.labs]
    assert "emergency" == str(fasciculate.assess(reading.presentation).urgency)


@pytest.mark.parametrize("status", ["entered-in-error", "cancelled"])
def test_results_in_error_or_cancelled_are_skipped(status: str):
    """A potassium entered in error or cancelled is not read, and said so."""
    reading = read_bundle(bundle(patient(), _potassium(2.3, "2026-11-18", status)))
    assert ([], [f"status {status}"]) == (
        reading.presentation.labs,
        [e.reason for e in reading.report.skipped],
    )


def test_an_abated_condition_without_clinical_status_is_resolved():
    """abatement[x] and no clinicalStatus: the condition is over; it is skipped."""
    ckd = condition(ICD10CM, "N18.9", "CKD")
    del ckd["resource"]["clinicalStatus"]
    ckd["resource"]["abatementDateTime"] = "2025-01-01"
    reading = read_bundle(bundle(patient(), ckd))
    assert {} == reading.presentation.findings
    assert "abatement given and no clinicalStatus" in reading.report.skipped[0].reason


def test_refuted_conditions_are_skipped_not_read_as_absent():
    """A refuted pregnancy leaves pregnancy unknown rather than answering 'absent'."""
    refuted = condition(ICD10CM, "Z33.1", "Pregnant", verification="refuted")
    reading = read_bundle(bundle(patient(), refuted))
    assert ({}, "verificationStatus refuted") == (
        reading.presentation.findings,
        reading.report.skipped[0].reason,
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"doNotPerform": True}, "doNotPerform"),
        ({"intent": "proposal"}, "intent proposal"),
        ({"intent": "plan"}, "intent plan"),
    ],
)
def test_requests_not_to_give_or_not_ordered_are_not_current_medication(change, reason):
    """doNotPerform and intents other than orders are not medication the patient takes."""
    request = medication("Furosemide 40 MG")
    request["resource"].update(change)
    reading = read_bundle(bundle(patient(), request))
    assert [] == reading.presentation.medications
    assert reason in reading.report.skipped[0].reason


def test_an_original_order_is_current_medication():
    """intent original-order is an order."""
    request = medication("Furosemide 40 MG")
    request["resource"]["intent"] = "original-order"
    reading = read_bundle(bundle(patient(), request))
    classes = [m.drug_class for m in reading.presentation.medications]
    assert [MedicationClass.LOOP_DIURETIC] == classes


def _intake(findings: dict[str, str], authored: str, status: str = "completed") -> dict[str, Any]:
    response = questionnaire_response({"findings": findings})
    response["authored"] = authored
    response["status"] = status
    response["subject"] = {"reference": PATIENT_URL}
    return entry(response)


def test_the_latest_completed_intake_wins_not_the_bundle_order():
    """Two completed intakes: the later authored counts wherever it stands in the bundle."""
    later = _intake({"weakness": "absent"}, "2026-11-20T10:00:00Z")
    earlier = _intake({"weakness": "present"}, "2026-11-19T10:00:00Z")
    reading = read_bundle(bundle(patient(), later, earlier))
    assert {"weakness": "absent"} == reading.presentation.findings
    reasons = {e.reference: e.reason for e in reading.report.skipped}
    assert "superseded by a later response" in reasons[earlier["fullUrl"]]


@pytest.mark.parametrize("status", ["in-progress", "stopped", "entered-in-error"])
def test_only_completed_or_amended_intakes_count(status: str):
    """An unfinished or erroneous intake is skipped, and said so."""
    unfinished = _intake({"weakness": "present"}, "2026-11-20T10:00:00Z", status)
    reading = read_bundle(bundle(patient(), unfinished))
    assert {} == reading.presentation.findings
    assert f"status {status}" in reading.report.skipped[0].reason


# --- The reference date -------------------------------------------------------------------------


def _critical_potassium_and(*others: dict[str, Any]) -> dict[str, Any]:
    return bundle(
        patient(),
        lab("2823-3", "Potassium", 2.3, "mmol/L", when="2026-11-18"),
        medication("Furosemide 40 MG"),
        *others,
    )


def test_a_mistyped_future_date_never_moves_the_window():
    """A Condition dated 2062 (for 2026) is noted; the critical potassium stays in the window."""
    typo = condition(ICD10CM, "N18.9", "CKD")
    typo["resource"]["onsetDateTime"] = "2062-11-18"
    reading = read_bundle(_critical_potassium_and(typo))
    assert dt.date(2026, 11, 18) == reading.report.as_of
    assert any("2062-11-18 is in the future" in note for note in reading.report.notes)
    assert "emergency" == str(fasciculate.assess(reading.presentation).urgency)


def test_the_reference_date_comes_from_resources_the_reader_understood():
    """A later Observation fasciculate does not read does not set the reference date."""
    unread = entry(
        {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "8867-4", "display": "Heart rate"}]},
            "effectiveDateTime": "2027-06-01",
        }
    )
    reading = read_bundle(_critical_potassium_and(unread), lab_window_days=90)
    assert dt.date(2026, 11, 18) == reading.report.as_of
    assert [2.3] == [result.value for result in reading.presentation.labs]


@pytest.mark.parametrize(
    "as_of",
    [
        dt.date(2026, 11, 20),
        dt.datetime(2026, 11, 20, 23, 59, tzinfo=dt.UTC),
        "2026-11-20",
        "2026-11-20T10:00:00+01:00",
    ],
)
def test_as_of_is_a_date_a_datetime_or_an_iso_string(as_of: object):
    """Every form gives the same reference date."""
    reading = read_bundle(_critical_potassium_and(), as_of=as_of)  # type: ignore[arg-type]
    assert dt.date(2026, 11, 20) == reading.report.as_of


@pytest.mark.parametrize("as_of", ["20/11/2026", "2026-11-20T25:00:00Z", 20261120])
def test_an_unreadable_as_of_is_an_invalid_bundle_naming_it(as_of: object):
    """A bad as_of names the argument and the forms accepted."""
    with pytest.raises(InvalidBundle) as caught:
        read_bundle(_critical_potassium_and(), as_of=as_of)  # type: ignore[arg-type]
    assert ["as_of"] == [problem.path for problem in caught.value.problems]


@pytest.mark.parametrize(
    ("element", "text"),
    [
        ("effectiveDateTime", "20261118"),
        ("effectiveDateTime", "2026-11-18T25:99"),
        ("effectiveDateTime", "2026-11-18T10:00:00"),
        ("effectiveDateTime", "\u0662\u0660\u0662\u0666-11-18"),
        ("effectiveDateTime", "2026-02-30"),
    ],
)
def test_dates_that_are_not_fhir_dates_are_problems_not_guesses(element: str, text: str):
    """Compact dates, impossible times, a time without zone, non-ASCII digits: each a problem."""
    result = lab("2823-3", "Potassium", 2.3, "mmol/L")
    result["resource"][element] = text
    with pytest.raises(InvalidBundle) as caught:
        read_bundle(bundle(patient(), result))
    (problem,) = caught.value.problems
    assert (f"entry.1.resource.{element}", repr(text)) == (problem.path, problem.value)
    assert "not a FHIR date" in problem.message


def test_a_bad_date_used_only_for_the_reference_date_is_a_problem_too():
    """A Condition's recordedDate of 20261118 is reported, not skipped over."""
    ckd = condition(ICD10CM, "N18.9", "CKD")
    ckd["resource"]["recordedDate"] = "20261118"
    with pytest.raises(InvalidBundle) as caught:
        read_bundle(bundle(patient(), ckd))
    assert ["entry.1.resource.recordedDate"] == [p.path for p in caught.value.problems]


# --- Every failure is an InvalidBundle ----------------------------------------------------------

_BROKEN = {
    "invalid UTF-8": b'{"resourceType": "Bundle", "type": "collection", "id": "\xff\xfe"}',
    "deep nesting": b'{"resourceType": "Bundle", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "5,001-digit number": b'{"resourceType": "Bundle", "total": ' + b"7" * 5001 + b"}",
}


@pytest.mark.parametrize("name", sorted(_BROKEN))
def test_unreadable_input_is_an_invalid_bundle(name: str):
    """Invalid UTF-8, 100,000 nested arrays and a 5,001-digit number: InvalidBundle, one problem."""
    with pytest.raises(InvalidBundle) as caught:
        read_bundle(_BROKEN[name])
    assert 1 == len(caught.value.problems)


def test_a_mapping_nested_too_deeply_is_an_invalid_bundle():
    """A Python mapping nested 100,000 deep (in a questionnaire's items) is an InvalidBundle."""
    item: dict[str, Any] = {"linkId": "x"}
    for _ in range(100_000):
        item = {"linkId": "x", "item": [item]}
    response = {"resourceType": "QuestionnaireResponse", "status": "completed", "item": [item]}
    with pytest.raises(InvalidBundle):
        read_bundle({"resourceType": "Bundle", "entry": [{"resource": response}]})


@pytest.mark.parametrize("name", sorted(_BROKEN))
def test_unreadable_input_from_the_command_line_exits_2_without_a_traceback(name: str):
    """The command line answers status 2 and a short message, never a traceback."""
    done = _fasciculate("assess", "--fhir", "-", stdin=_BROKEN[name])
    assert 2 == done.returncode
    assert b"Traceback" not in done.stderr
    assert 3 >= len(done.stderr.decode().strip().splitlines())


def test_a_boolean_is_never_a_lab_value():
    """A JSON boolean as a lab value is a problem at its path, never 1.0 mmol/L of potassium."""
    result = lab("2823-3", "Potassium", 2.3, "mmol/L")
    result["resource"]["valueQuantity"]["value"] = True
    with pytest.raises(InvalidBundle) as caught:
        read_bundle(bundle(patient(), result))
    (problem,) = caught.value.problems
    assert "entry.1.resource.valueQuantity.value" == problem.path
    assert "boolean is not a number" in problem.message


def test_a_boolean_is_never_a_number_in_the_intake_either():
    """An intake lab value answered true is a problem, never 1.0."""
    answers = questionnaire_response(
        {"labs": [{"analyte": "potassium", "value": 2.3, "unit": "mmol/L"}]}
    )
    labs = answers["item"][-1]["item"]
    next(item for item in labs if item["linkId"] == "labs.value")["answer"] = [
        {"valueDecimal": True}
    ]
    with pytest.raises(InvalidBundle, match="boolean is not a number"):
        read_bundle(bundle(patient(), entry(answers)))


@pytest.mark.parametrize("choice", ["", 7])
def test_a_patient_argument_that_is_no_reference_is_an_error(choice: object):
    """patient= must be a reference or an id."""
    with pytest.raises(InvalidBundle) as caught:
        read_bundle(bundle(patient()), patient=choice)  # type: ignore[arg-type]
    assert ["patient"] == [problem.path for problem in caught.value.problems]


def test_two_copies_of_the_patient_are_one_patient():
    """The same Patient twice (as CDS Hooks prefetch and a search can give it): read once."""
    copy_url = "https://ehr.example/fhir/Patient/jane"
    data = bundle(_person(JANE, "jane"), _person(copy_url, "jane"))
    reading = read_bundle(data, as_of="2026-11-20")
    assert (JANE, 76) == (reading.subject, reading.presentation.patient.age)
    assert ["second copy of the Patient"] == [e.reason for e in reading.report.skipped]


def test_two_analytes_on_one_result_is_a_problem_at_its_code():
    """In process too: the problem names the code element and both analytes."""
    both = lab("2823-3", "Potassium", 2.3, "mmol/L")
    both["resource"]["code"]["coding"].append({"system": LOINC, "code": "19123-9"})
    with pytest.raises(InvalidBundle) as caught:
        read_bundle(bundle(patient(), both))
    (problem,) = caught.value.problems
    assert ("entry.1.resource.code", "['2823-3', '19123-9']") == (problem.path, problem.value)


def test_an_intake_with_a_bad_authored_date_is_a_problem():
    """authored 20261120 on a completed intake is reported, not ordered as undated."""
    intake = _intake({"weakness": "present"}, "20261120")
    with pytest.raises(InvalidBundle) as caught:
        read_bundle(bundle(patient(), intake))
    assert ["entry.1.resource.authored"] == [p.path for p in caught.value.problems]

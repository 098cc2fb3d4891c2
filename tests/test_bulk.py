"""fasciculate.bulk: a Bulk Data export screened patient by patient, every record accounted for."""

from __future__ import annotations

import collections
import datetime as dt
import gzip
import json
import multiprocessing
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fasciculate
from conftest import EXAMPLES, ROOT, SYNTHEA
from fasciculate.bulk import (
    InvalidExport,
    PatientResult,
    ProblemKind,
    RecordProblem,
    screen_export,
)
from fasciculate.fhir import questionnaire_response, read_bundle

EXPORT = EXAMPLES / "bulk-export"
AS_OF = dt.date(2026, 12, 1)
_LAB = {
    "resourceType": "Observation",
    "status": "final",
    "code": {"coding": [{"system": "http://loinc.org", "code": "2823-3"}]},
    "effectiveDateTime": "2026-11-20",
}


def _read_lines(path: Path) -> list[bytes]:
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return [line for line in data.split(b"\n") if line.strip()]


def _screen(folder: Path, **options: object) -> tuple[list[object], object]:
    screening = screen_export(folder, as_of=AS_OF, **options)  # type: ignore[arg-type]
    return list(screening), screening.summary


def _line(resource: dict[str, object]) -> bytes:
    return json.dumps(resource).encode() + b"\n"


def test_the_example_export_gives_one_result_per_patient_in_order():
    """Every patient of the bundled export is assessed once, in id order; records in = out."""
    outcomes, summary = _screen(EXPORT)
    patients = [_read_lines(EXPORT / "Patient.ndjson.gz")]
    ids = sorted(json.loads(line)["id"] for line in patients[0])
    assert ids == [o.patient for o in outcomes]
    assert all(isinstance(o, PatientResult) for o in outcomes)
    read = [p for p in sorted(EXPORT.glob("*.ndjson.gz")) if not p.name.startswith("Encounter")]
    expected = sum(len(_read_lines(path)) for path in read)
    medications = len(_read_lines(EXPORT / "Medication.ndjson.gz"))
    assert 1 == medications == summary.medications
    assert expected == summary.records_in == summary.records_out
    assert expected == sum(o.records for o in outcomes) + medications
    assert ["Encounter.ndjson.gz"] == summary.not_read
    assert summary.assessed == len(ids)
    assert not summary.rejected


def test_the_example_export_is_what_its_generator_writes(tmp_path):
    """The command in the export's SOURCES.md writes exactly the committed files."""
    command = [sys.executable, str(ROOT / "benchmarks" / "make_bulk_export.py"), str(tmp_path)]
    subprocess.run([*command, "--patients", "24", "--gzip"], check=True, capture_output=True)
    written = sorted(path.name for path in tmp_path.iterdir())
    assert sorted(path.name for path in EXPORT.glob("*.ndjson.gz")) == written
    for name in written:
        assert (EXPORT / name).read_bytes() == (tmp_path / name).read_bytes(), (
            f"{name} differs: regenerate the export with the command in SOURCES.md"
        )


def test_a_synthea_patient_reads_as_its_own_bundle_does():
    """A patient from the export gets the assessment of their original Synthea bundle."""
    outcomes, _ = _screen(EXPORT, full=True)
    by_patient = {o.patient: o for o in outcomes}
    for path in sorted(SYNTHEA.glob("*.json")):
        bundle = json.loads(path.read_text(encoding="utf-8"))
        patient = next(
            e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
        )
        expected = fasciculate.assess(read_bundle(bundle, as_of=AS_OF).presentation)
        result = by_patient[patient["id"]]
        assert expected.urgency == result.urgency
        assert [rule.id for rule in expected.rules_fired] == list(result.rules)
        assert expected.differential[0].category == result.leading
        flagged = [c.category for c in expected.differential if c.must_not_miss]
        assert flagged == list(result.must_not_miss)
        assert len(expected.missing) == result.open_questions
        assert expected == fasciculate.Assessment.model_validate_json(result.assessment)


def test_the_same_bytes_for_any_number_of_workers_and_sort_runs(tmp_path):
    """One worker, two workers and an external sort in many small runs write the same output."""
    one, _ = _screen(EXPORT)
    pooled, _ = _screen(EXPORT, workers=2)
    spilled, _ = _screen(EXPORT, run_bytes=4096, temp_dir=tmp_path)
    assert b"".join(o.to_json() for o in one) == b"".join(o.to_json() for o in pooled)
    assert b"".join(o.to_json() for o in one) == b"".join(o.to_json() for o in spilled)
    assert not list(tmp_path.iterdir())  # the runs are removed


def _by_patient(folder: Path) -> tuple[dict[str, list[dict[str, object]]], list[dict[str, object]]]:
    """The resources of the export in *folder* by patient id, and its Medications."""
    patients: dict[str, list[dict[str, object]]] = collections.defaultdict(list)
    medications = []
    for path in sorted(folder.glob("*.ndjson*")):
        for line in _read_lines(path):
            resource = json.loads(line)
            if resource["resourceType"] == "Medication":
                medications.append(resource)
            elif resource["resourceType"] == "Patient":
                patients[resource["id"]].append(resource)
            elif resource["resourceType"] != "Encounter":
                patients[resource["subject"]["reference"].removeprefix("Patient/")].append(resource)
    return patients, medications


def _bundle(resources: list[dict[str, object]]) -> dict[str, object]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": resource} for resource in resources],
    }


def test_every_patient_of_the_example_export_reads_as_one_bundle_of_their_resources():
    """Each patient's assessment is that of one bundle of their resources and the Medications.

    The example export's thiazide prescriptions are half by reference to its one Medication.
    """
    outcomes, _ = _screen(EXPORT, full=True)
    patients, medications = _by_patient(EXPORT)
    assert ["hctz-25"] == [medication["id"] for medication in medications]
    referencing = 0
    for outcome in outcomes:
        resources = patients[outcome.patient]
        referencing += any("medicationReference" in resource for resource in resources)
        reading = read_bundle(_bundle(resources + medications), as_of=AS_OF)
        expected = fasciculate.assess(reading.presentation)
        assert expected == fasciculate.Assessment.model_validate_json(outcome.assessment)
    assert 4 == referencing


_RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
_FUROSEMIDE = {
    "resourceType": "Medication",
    "id": "furo-40",
    "meta": {"lastUpdated": "2026-01-02T03:04:05Z"},
    "code": {"coding": [{"system": _RXNORM, "code": "4603"}]},  # an ingredient code, no name
    "form": {"text": "tablet"},
}


def _request(patient: str, reference: dict[str, str]) -> dict[str, object]:
    return {
        "resourceType": "MedicationRequest",
        "id": f"rx-{patient}",
        "status": "active",
        "intent": "order",
        "medicationReference": reference,
        "subject": {"reference": f"Patient/{patient}"},
        "authoredOn": "2026-06-01",
    }


def _medication_export(tmp_path: Path) -> tuple[Path, dict[str, list[dict[str, object]]]]:
    """Furosemide by reference only (``med``), by a reference the export lacks (``away``,
    ``nameless``), each with a low potassium: the export, and each patient's resources."""
    patients: dict[str, list[dict[str, object]]] = {}
    for patient, reference in (
        ("med", {"reference": "Medication/furo-40"}),
        ("away", {"reference": "Medication/elsewhere", "display": "Furosemide 40 MG"}),
        ("nameless", {"reference": "Medication/elsewhere"}),
    ):
        patients[patient] = [
            {"resourceType": "Patient", "id": patient, "gender": "male", "birthDate": "1958-03-04"},
            _LAB
            | {"id": f"k-{patient}", "subject": {"reference": f"Patient/{patient}"}}
            | {"valueQuantity": {"value": 3.1, "unit": "mmol/L"}},
            _request(patient, reference),
        ]
    folder = tmp_path / "export"
    folder.mkdir()
    for kind in ("Patient", "Observation", "MedicationRequest"):
        resources = [r for group in patients.values() for r in group if r["resourceType"] == kind]
        (folder / f"{kind}.ndjson").write_bytes(b"".join(map(_line, resources)))
    (folder / "Medication.ndjson").write_bytes(_line(_FUROSEMIDE))
    return folder, patients


def test_a_medication_referenced_by_id_only_reads_as_in_one_bundle(tmp_path):
    """Furosemide named only by Medication/<id>: the bulk path finds the loop diuretic as the
    bundle reader does (same urgency, rules, assessment); without it, display or nothing."""
    folder, patients = _medication_export(tmp_path)
    outcomes, summary = _screen(folder, full=True)
    by_patient = {o.patient: o for o in outcomes}
    assert (1, 10) == (summary.medications, summary.records_in)
    for patient, resources in patients.items():
        held = [_FUROSEMIDE] if patient == "med" else []
        reading = read_bundle(_bundle(resources + held), as_of=AS_OF)
        expected = fasciculate.assess(reading.presentation)
        result = by_patient[patient]
        assert (expected.urgency, [r.id for r in expected.rules_fired]) == (
            result.urgency,
            list(result.rules),
        )
        assert expected == fasciculate.Assessment.model_validate_json(result.assessment)
        classes = [str(m.drug_class) for m in reading.presentation.medications]
        assert {"med": ["loop_diuretic"], "away": ["loop_diuretic"], "nameless": []}[
            patient
        ] == classes
    assert "LAB-POTASSIUM-LOW" in by_patient["med"].rules
    unresolved = read_bundle(_bundle(patients["med"]), as_of=AS_OF)
    assert fasciculate.assess(
        unresolved.presentation
    ) != fasciculate.Assessment.model_validate_json(by_patient["med"].assessment)


def _bad_export(tmp_path: Path) -> tuple[Path, int, int]:
    """The example export, plain, with a bad record of every kind; its records, those cut off."""
    folder = tmp_path / "export"
    folder.mkdir()
    for path in EXPORT.glob("*.ndjson.gz"):
        (folder / path.name.removesuffix(".gz")).write_bytes(gzip.decompress(path.read_bytes()))
    observations = folder / "Observation.ndjson"
    bad = [
        b'{"resourceType": "Observation", "status": \n',  # not JSON
        b'{"resourceType": "Observation", "note": "caf\xe9"}\n',  # not UTF-8 (Latin-1)
        b"[1, 2]\n",  # JSON, not a resource
        b"\n",  # blank: not a record
        _line(_LAB),  # no subject
        _line(_LAB | {"subject": {"reference": "Patient/ghost"}}),  # no such Patient
        _line(_LAB | {"subject": {"reference": "urn:uuid:1234"}}),  # not a Patient reference
        _line({"resourceType": "Patient", "gender": "female"}),  # a Patient without an id
        _line({"resourceType": "Patient", "id": "bad-unit"}),
        _line(
            _LAB
            | {"subject": {"reference": "Patient/bad-unit"}}
            | {"valueQuantity": {"value": 3.1, "unit": "furlongs"}}
        ),
    ]
    with observations.open("ab") as out:
        out.writelines([*bad, _line({"resourceType": "Patient", "id": "bad-med"})])
    hctz = json.loads(_read_lines(folder / "Medication.ndjson")[0])
    with (folder / "Medication.ndjson").open("ab") as out:
        out.writelines(
            [
                b'{"resourceType": "Medication", "id": \n',  # not JSON
                _line(_FUROSEMIDE | {"id": ""}),  # no id
                _line(_FUROSEMIDE | {"id": hctz["id"]}),  # another medicine under the id
                _line(hctz | {"meta": {"versionId": "2"}}),  # the same again: read
                _line({"resourceType": "Medication", "id": "bad-code", "code": "furosemide"}),
            ]
        )
    with (folder / "MedicationRequest.ndjson").open("ab") as out:
        out.write(_line(_request("bad-med", {"reference": "Medication/bad-code"})))
    truncated = gzip.compress(
        b"".join(_line(_LAB | {"subject": {"reference": f"Patient/t{n}"}}) for n in range(400))
    )
    truncated = truncated[: len(truncated) // 2]
    (folder / "MedicationStatement.ndjson.gz").write_bytes(truncated)
    partial = zlib.decompressobj(wbits=31).decompress(truncated)
    records = sum(len(_read_lines(p)) for p in folder.glob("*.ndjson") if "Encounter" not in p.name)
    complete = partial.split(b"\n")[:-1]  # a line cut short by the break is never read
    return folder, records + len(complete), len(complete)


def test_every_record_is_accounted_for_with_a_bad_record_of_every_kind(tmp_path):
    """Records in = records out, each bad record answered with its class, file and line."""
    folder, records, truncated = _bad_export(tmp_path)
    outcomes, summary = _screen(folder)
    assert records == summary.records_in == summary.records_out
    assert 3 == summary.medications  # the first, its copy and the one with a bad code
    assert records == sum(o.records for o in outcomes) + summary.medications
    problems = [o for o in outcomes if isinstance(o, RecordProblem)]
    kinds = collections.Counter(problem.kind for problem in problems)
    assert {
        ProblemKind.NOT_JSON: 3,
        ProblemKind.NOT_UTF8: 1,
        ProblemKind.NO_SUBJECT: 2,
        ProblemKind.UNKNOWN_PATIENT: 2 + truncated,
        ProblemKind.BAD_MEDICATION: 2,
        ProblemKind.REJECTED: 2,
        ProblemKind.UNREADABLE_FILE: 1,
    } == dict(kinds)
    assert kinds == summary.rejected
    # the truncated file's lines before the break are about patients it has no Patient for
    ghosts = [p for p in problems if p.kind is ProblemKind.UNKNOWN_PATIENT]
    assert {"Observation.ndjson", "MedicationStatement.ndjson.gz"} == {p.file for p in ghosts}
    lines = _read_lines(folder / "Observation.ndjson")
    first_bad = len(lines) - 9  # the blank line is not among them
    by_line = {(p.file, p.line): p for p in problems if p.file == "Observation.ndjson"}
    assert ProblemKind.NOT_JSON is by_line["Observation.ndjson", first_bad].kind
    assert "not JSON (EOF while parsing" in by_line["Observation.ndjson", first_bad].message
    assert ProblemKind.NOT_UTF8 is by_line["Observation.ndjson", first_bad + 1].kind
    assert "byte 0xe9" in by_line["Observation.ndjson", first_bad + 1].message
    bad_code, rejected = (p for p in problems if p.kind is ProblemKind.REJECTED)  # by id
    assert ("bad-unit", 2) == (rejected.patient, rejected.records)
    assert rejected.problems[0].path.startswith(f"Observation.ndjson:{first_bad + 9} ")
    assert "furlongs" in str(rejected.problems[0])
    # a Medication the reader rejects rejects the patients who take it, as in a bundle
    assert ("bad-med", 2) == (bad_code.patient, bad_code.records)
    assert "Medication.ndjson:6 code" == bad_code.problems[0].path
    medications = [p for p in problems if p.file == "Medication.ndjson"]
    assert [(2, "not_json"), (3, "bad_medication"), (4, "bad_medication")] == [
        (p.line, p.kind) for p in medications
    ]
    assert "Medication without a valid id (got '')" in medications[1].message
    assert "another code than at Medication.ndjson:1 (which is read)" in medications[2].message
    stopped = next(p for p in problems if p.kind is ProblemKind.UNREADABLE_FILE)
    assert 0 == stopped.records
    assert "download or copy the file again" in stopped.message
    assert summary.assessed == len(_read_lines(folder / "Patient.ndjson"))


def test_a_bad_record_of_every_kind_comes_out_the_same_with_two_workers(tmp_path):
    """Two workers: the bad records' outcomes, in the same order, and the same summary."""
    folder, records, _ = _bad_export(tmp_path)
    one, one_summary = _screen(folder)
    pooled, pooled_summary = _screen(folder, workers=2)
    assert b"".join(o.to_json() for o in one) == b"".join(o.to_json() for o in pooled)
    assert one_summary.text() == pooled_summary.text()
    assert records == pooled_summary.records_in == pooled_summary.records_out


@pytest.mark.parametrize(("part_bytes", "workers"), [(1, 1), (300, 2), (4096, 2)])
def test_files_keyed_in_small_parts_give_the_same_outcomes(tmp_path, part_bytes, workers):
    """Files cut in parts shorter than a line or of a few lines: the same outcomes and summary."""
    folder, records, _ = _bad_export(tmp_path)
    conditions = folder / "Condition.ndjson"  # a BOM, CRLF, blank lines, no last newline
    lines = conditions.read_bytes().splitlines()
    conditions.write_bytes(b"\xef\xbb\xbf" + b"\r\n\r\n".join(lines))
    one, one_summary = _screen(folder)
    parted, parted_summary = _screen(folder, part_bytes=part_bytes, workers=workers)
    assert b"".join(o.to_json() for o in one) == b"".join(o.to_json() for o in parted)
    assert one_summary.text() == parted_summary.text()
    assert records == parted_summary.records_in == parted_summary.records_out


def test_an_uncompressed_export_reads_as_its_gzip_copy(tmp_path):
    """The example export's files decompressed give the same outcomes as the .gz files."""
    folder = tmp_path / "export"
    folder.mkdir()
    for path in EXPORT.glob("*.ndjson.gz"):
        (folder / path.name.removesuffix(".gz")).write_bytes(gzip.decompress(path.read_bytes()))
    compressed, _ = _screen(EXPORT, full=True)
    uncompressed, _ = _screen(folder, full=True, workers=2)
    assert b"".join(o.to_json() for o in compressed) == b"".join(o.to_json() for o in uncompressed)


def test_closing_a_screening_early_stops_its_workers(tmp_path):
    """A screening closed during its scan or its assessments leaves no worker and no run behind."""
    folder, _, _ = _bad_export(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    for taken in (1, 20):  # a line that is not JSON; a patient
        before = set(multiprocessing.active_children())
        screening = screen_export(folder, as_of=AS_OF, workers=2, temp_dir=work).run()
        for _ in range(taken):
            next(screening)
        screening.close()
        assert before == set(multiprocessing.active_children())
        assert not list(work.iterdir())


def test_a_line_too_long_is_one_record(tmp_path):
    """A line longer than MAX_LINE_BYTES is skipped to its end and answered as too long."""
    folder = tmp_path / "export"
    shutil.copytree(EXPORT, folder)
    huge = (
        b'{"resourceType": "Observation", "note": "'
        + b"x" * fasciculate.bulk.MAX_LINE_BYTES
        + b'"}\n'
    )
    (folder / "Observation.0.ndjson").write_bytes(huge + _line(_LAB))
    outcomes, summary = _screen(folder)
    assert summary.records_in == summary.records_out
    assert [ProblemKind.TOO_LONG, ProblemKind.NO_SUBJECT] == [
        o.kind for o in outcomes if isinstance(o, RecordProblem)
    ]


def test_a_questionnaire_response_round_trips_through_the_export():
    """A presentation written as a QuestionnaireResponse is read back whole (power grades too)."""
    presentation = fasciculate.parse_presentation(
        {"examination": {"power": {"hip_flexion": 4, "knee_extension": 5}}, "patient": {"age": 40}}
    )
    response = questionnaire_response(presentation, subject="Patient/p")
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": {"resourceType": "Patient", "id": "p"}}, {"resource": response}],
    }
    read = read_bundle(bundle, as_of=AS_OF).presentation
    assert presentation.examination == read.examination


def test_the_export_must_be_a_folder_of_ndjson_files(tmp_path):
    """A missing folder, or one without NDJSON, is refused at once with what to give."""
    with pytest.raises(InvalidExport, match="is not a folder"):
        screen_export(tmp_path / "nowhere", as_of=AS_OF)
    with pytest.raises(InvalidExport, match=r"holds no \.ndjson or \.ndjson\.gz file"):
        screen_export(tmp_path, as_of=AS_OF)


def test_as_of_and_workers_are_checked():
    """as_of is required and must be a date; workers is 1 or more."""
    with pytest.raises(TypeError, match="as_of is required"):
        screen_export(EXPORT, as_of=None)  # type: ignore[arg-type]
    with pytest.raises(fasciculate.InvalidBundle, match="as_of"):
        screen_export(EXPORT, as_of="yesterday")
    with pytest.raises(ValueError, match="workers must be"):
        screen_export(EXPORT, as_of=AS_OF, workers=0)
    with pytest.raises(ValueError, match="part_bytes must be"):
        screen_export(EXPORT, as_of=AS_OF, part_bytes=0)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
_RESOURCES = st.fixed_dictionaries(
    {
        "resourceType": st.sampled_from(
            [
                "Patient",
                "Observation",
                "Condition",
                "MedicationRequest",
                "Medication",
                "QuestionnaireResponse",
                "Encounter",
            ]
        ),
    },
    optional={
        "id": st.sampled_from(["a", "b", "c", "", "x y", 7]),
        "subject": st.fixed_dictionaries(
            {
                "reference": st.sampled_from(
                    ["Patient/a", "Patient/b", "Patient/zz", "urn:uuid:1", 3]
                )
            }
        ),
        "medicationReference": st.fixed_dictionaries(
            {"reference": st.sampled_from(["Medication/a", "Medication/b", "#a", "Medication/"])}
        ),
        "status": st.sampled_from(["final", "active", "completed", "entered-in-error", 5]),
        "code": _JSON,
        "valueQuantity": _JSON,
        "effectiveDateTime": st.sampled_from(["2026-11-20", "2026-13-01", "soon", "2027-01-01"]),
        "item": _JSON,
        "birthDate": st.sampled_from(["1970-01-01", "1970", "never"]),
    },
)
_LINES = st.lists(
    st.one_of(
        _RESOURCES.map(lambda r: json.dumps(r).encode()),
        st.binary(max_size=20).filter(lambda b: b"\n" not in b and b"\r" not in b),
    ),
    max_size=12,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(files=st.lists(_LINES, min_size=1, max_size=3), part_bytes=st.integers(1, 200))
def test_whatever_the_lines_every_record_is_accounted_for(tmp_path_factory, files, part_bytes):
    """Random resources and random bytes: iterating never raises, records in = records out.

    Files keyed in parts of any size give the same outcomes.
    """
    folder = tmp_path_factory.mktemp("fuzz")
    expected = 0
    for number, lines in enumerate(files):
        (folder / f"Observation.{number}.ndjson").write_bytes(
            b"".join(line + b"\n" for line in lines)
        )
        expected += sum(
            1
            for index, line in enumerate(lines)
            if line.removeprefix(b"\xef\xbb\xbf" if index == 0 else b"").strip()
        )
    outcomes, summary = _screen(folder)
    assert expected == summary.records_in == summary.records_out
    assert expected == sum(o.records for o in outcomes) + summary.medications
    assert ProblemKind.INTERNAL_ERROR not in summary.rejected
    patients = [o.patient for o in outcomes if o.patient is not None]
    assert len(patients) == len(set(patients))
    parted, _ = _screen(folder, part_bytes=part_bytes)
    assert [o.to_json() for o in outcomes] == [o.to_json() for o in parted]


def test_progress_is_reported_and_a_screening_runs_once():
    """The progress callback sees the records screened grow to the total; a second run refuses."""
    seen: list[tuple[str, int]] = []
    screening = screen_export(EXPORT, as_of=AS_OF, progress=lambda what, n: seen.append((what, n)))
    list(screening)
    counts = [count for what, count in seen if what == "records screened"]
    assert counts == sorted(counts)
    assert screening.summary.records_out == counts[-1]
    with pytest.raises(RuntimeError, match="a screening runs once"):
        list(screening)

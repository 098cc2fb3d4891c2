"""Knowledge base, second edition, items 1-3: laboratory values at both ends, total calcium and
albumin, and results given only in words; each through ``assess()`` and the command line."""

from __future__ import annotations

from typing import Any

import pytest

import fasciculate
from _builders import negative
from _cli_process import assess_in_a_process
from _fhir import LOINC, UCUM, _concept, bundle, entry, patient
from fasciculate import InvalidPresentation, Urgency
from fasciculate.fhir import presentation_from_bundle, read_bundle


def labs(*results: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A complete negative screen (self-care on its own) with these laboratory results."""
    return negative(labs=list(results), **changes)


def value(analyte: str, number: float, unit: str) -> dict[str, Any]:
    return {"analyte": analyte, "value": number, "unit": unit}


def words(analyte: str, interpretation: str) -> dict[str, Any]:
    return {"analyte": analyte, "interpretation": interpretation}


# --- item 1: both ends (each case was self_care or lower than stated in the first edition) -------

CASES = {
    "potassium 6.3 (the issue's case)": (labs(value("potassium", 6.3, "mmol/L")), "urgent"),
    "potassium 6.5: severe": (labs(value("potassium", 6.5, "mmol/L")), "emergency"),
    "potassium 5.4: above range": (labs(value("potassium", 5.4, "mmol/L")), "routine"),
    "adjusted calcium 3.3 (the issue's case)": (
        labs(value("calcium_adjusted", 3.3, "mmol/L")),
        "urgent",
    ),
    "adjusted calcium 3.41: severe": (
        labs(value("calcium_adjusted", 3.41, "mmol/L")),
        "emergency",
    ),
    "adjusted calcium 2.7: above range": (
        labs(value("calcium_adjusted", 2.7, "mmol/L")),
        "routine",
    ),
    "creatine kinase 20,000 with exercise and dehydration (the issue's case)": (
        labs(
            value("creatine_kinase", 20000, "U/L"),
            exposures={"strenuous_exercise_48h": "present", "dehydration": "present"},
        ),
        "emergency",
    ),
    "creatine kinase 6,000 with dark urine": (
        labs(value("creatine_kinase", 6000, "U/L"), findings={"dark_urine": "present"}),
        "emergency",
    ),
    "creatine kinase 6,000 on atorvastatin": (
        labs(value("creatine_kinase", 6000, "U/L"), medications=[{"name": "atorvastatin 40 mg"}]),
        "emergency",
    ),
    "creatine kinase 5,000 with no rhabdomyolysis setting": (
        labs(
            value("creatine_kinase", 5000, "U/L"),
            exposures={"strenuous_exercise_48h": "absent", "dehydration": "absent"},
            findings={"dark_urine": "absent"},
            medications=[{"drug_class": "ssri"}],
        ),
        "urgent",
    ),
    "magnesium 5.0 mg/dL: critically high": (labs(value("magnesium", 5.0, "mg/dL")), "emergency"),
    "magnesium 1.1 mmol/L: above range": (labs(value("magnesium", 1.1, "mmol/L")), "routine"),
    "ionised calcium 1.4: above range": (labs(value("calcium_ionised", 1.4, "mmol/L")), "routine"),
    "vitamin D 40 nmol/L: may be inadequate": (
        labs(value("vitamin_d", 40, "nmol/L")),
        "routine",
    ),
    "vitamin B12 250 ng/L: indeterminate": (labs(value("vitamin_b12", 250, "ng/L")), "routine"),
    # --- item 2: total calcium, and albumin ---
    "total calcium 6.4 mg/dL, no albumin: critical": (
        labs(value("calcium_total", 6.4, "mg/dL")),
        "emergency",
    ),
    "total calcium 1.9 with albumin 45 g/L: adjusted 1.8, critical": (
        labs(value("calcium_total", 1.9, "mmol/L"), value("albumin", 45, "g/L")),
        "emergency",
    ),
    "total calcium 3.2 with albumin 2.5 g/dL: adjusted 3.5, severe": (
        labs(value("calcium_total", 3.2, "mmol/L"), value("albumin", 2.5, "g/dL")),
        "emergency",
    ),
    "total calcium 14 mg/dL, no albumin: read as severe": (
        labs(value("calcium_total", 14, "mg/dL")),
        "emergency",
    ),
    # --- item 3: results given only in words ---
    "potassium LL": (labs(words("potassium", "LL")), "emergency"),
    "potassium HH": (labs(words("potassium", "HH")), "emergency"),
    "calcium AA": (labs(words("calcium_adjusted", "AA")), "emergency"),
    "magnesium L": (labs(words("magnesium", "L")), "routine"),
    "ferritin H": (labs(words("ferritin", "H")), "routine"),
    "vitamin B12 LL": (labs(words("vitamin_b12", "LL")), "emergency"),
    "creatine kinase HH": (labs(words("creatine_kinase", "HH")), "urgent"),
    "creatine kinase HH after exercise": (
        labs(words("creatine_kinase", "HH"), exposures={"strenuous_exercise_48h": "present"}),
        "emergency",
    ),
    "potassium N": (labs(words("potassium", "N")), "self_care"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_laboratory_case_gives_its_urgency(case: str):
    """Each case gives the urgency of the second edition (written from its laboratory sources)."""
    data, expected = CASES[case]
    assert Urgency(expected) == fasciculate.assess(data).urgency


@pytest.mark.parametrize(
    "case",
    [
        "potassium 6.3 (the issue's case)",
        "adjusted calcium 3.3 (the issue's case)",
        "creatine kinase 20,000 with exercise and dehydration (the issue's case)",
        "total calcium 6.4 mg/dL, no albumin: critical",
        "total calcium 1.9 with albumin 45 g/L: adjusted 1.8, critical",
        "potassium LL",
    ],
)
def test_laboratory_case_through_the_command_line(case: str):
    """The same urgency from ``fasciculate assess`` run as a real process."""
    data, expected = CASES[case]
    assert expected == assess_in_a_process(data)["urgency"]


def test_an_abnormal_result_never_sits_beside_a_summary_that_says_nothing_is_wrong():
    """Potassium 6.3 beside a negative screen: the summary names it, never 'no red flags'."""
    result = fasciculate.assess(labs(value("potassium", 6.3, "mmol/L")))
    assert "Moderate hyperkalaemia" in result.summary
    assert "no red flags found" not in result.summary
    report = assess_in_a_process(labs(value("potassium", 6.3, "mmol/L")), text=True)
    assert "no red flags found" not in report
    assert "LAB-POTASSIUM-MODERATE-HIGH" in report


def test_every_out_of_range_flag_of_every_analyte_is_at_least_routine():
    """For every analyte, a value just beyond each limit is flagged and is never self-care."""
    kb = fasciculate.knowledge_base()
    checked = 0
    for lab in kb.labs.values():
        beyond = [(limit, -0.01) for limit in (lab.lower, lab.critical_low) if limit is not None]
        beyond += [(limit, +0.01) for limit in (lab.upper, lab.critical_high) if limit]
        for limit, step in beyond:
            result = fasciculate.assess(labs(value(str(lab.analyte), limit + step, lab.unit)))
            assert result.labs[0].flag not in {"normal", "not_classified"}, (lab.analyte, limit)
            assert result.urgency >= Urgency.ROUTINE, (lab.analyte, limit)
            checked += 1
    assert checked >= 20


def test_the_adjusted_calcium_is_shown_with_its_formula_inputs_and_source():
    """Albumin with total calcium gives a computed adjusted calcium, its formula and inputs."""
    data = labs(value("calcium_total", 2.05, "mmol/L"), value("albumin", 25, "g/L"))
    result = fasciculate.assess(data)
    computed = result.labs[-1]
    assert ("calcium_adjusted", 2.35, "labs.0,labs.1", "cks-hypercalcaemia") == (
        computed.analyte,
        computed.value,
        computed.input,
        computed.source,
    )
    assert computed.formula is not None
    assert "2.05 + 0.02 x (40 - 25) = 2.35" in computed.formula
    assert "cks-hypercalcaemia" in {source.id for source in result.sources}
    shown = assess_in_a_process(data)["labs"][-1]
    assert computed.formula == shown["formula"]
    report = assess_in_a_process(data, text=True)
    assert "2.05 + 0.02 x (40 - 25) = 2.35" in report


def test_several_results_adjust_at_both_extremes():
    """Lowest calcium with highest albumin, highest calcium with lowest albumin: the worst reads."""
    data = labs(
        value("calcium_total", 2.0, "mmol/L"),
        value("calcium_total", 2.5, "mmol/L"),
        value("albumin", 30, "g/L"),
        value("albumin", 50, "g/L"),
    )
    computed = [lab.value for lab in fasciculate.assess(data).labs if lab.formula]
    assert [1.8, 2.7] == sorted(computed)
    assert Urgency.EMERGENCY == fasciculate.assess(data).urgency


def test_albumin_alone_is_accepted_in_both_units_and_changes_nothing():
    """Albumin in g/L or g/dL is read (g/dL x 10); alone it is context and raises nothing."""
    for number, unit in ((38, "g/L"), (3.8, "g/dL")):
        result = fasciculate.assess(labs(value("albumin", number, unit)))
        assert (38.0, Urgency.SELF_CARE) == (result.labs[0].value, result.urgency)


def test_a_result_in_words_is_shown_as_given_and_cited():
    """A words-only result has no value, its interpretation as the flag, and fires with it."""
    result = fasciculate.assess(labs(words("potassium", "LL")))
    (lab,) = result.labs
    assert (None, "LL", "critical_low", "reported LL") == (
        lab.value,
        lab.interpretation,
        lab.flag,
        lab.reported,
    )
    critical = next(rule for rule in result.rules_fired if rule.id == "LAB-POTASSIUM-CRITICAL-LOW")
    assert [("potassium_reported_critically_low", "labs.0")] == [
        (fact.fact, fact.input) for fact in critical.facts
    ]


@pytest.mark.parametrize(
    ("result", "message"),
    [
        ({"analyte": "potassium"}, "needs a value with its unit, or an interpretation"),
        ({"analyte": "potassium", "value": 4.0}, "with a value needs its unit too"),
        ({"analyte": "potassium", "interpretation": "LOW"}, "labs.0.interpretation"),
    ],
)
def test_a_result_needs_a_value_or_words_and_says_so(result: dict[str, Any], message: str):
    """A result with neither a value nor an interpretation is refused, naming the fix."""
    with pytest.raises(InvalidPresentation, match=message):
        fasciculate.assess(labs(result))


# --- FHIR: albumin, total calcium and interpretation-only Observations ---------------------------

_V3 = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"


def _observation(
    loinc: str,
    display: str,
    quantity: tuple[float, str] | None,
    interpretation: str | None,
    *,
    when: str = "2026-11-18",
    status: str = "final",
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "status": status,
        "code": _concept(LOINC, loinc, display),
        "effectiveDateTime": when,
    }
    if quantity is not None:
        number, unit = quantity
        resource["valueQuantity"] = {"value": number, "unit": unit, "system": UCUM, "code": unit}
    if interpretation is not None:
        resource["interpretation"] = [_concept(_V3, interpretation, interpretation)]
    return entry(resource)


def test_fhir_albumin_and_total_calcium_are_read_and_adjusted():
    """LOINC 1751-7 albumin (g/dL) and 17861-6 total calcium (mg/dL) give an adjusted calcium."""
    document = bundle(
        patient(),
        _observation("17861-6", "Calcium [Mass/volume] in Serum or Plasma", (7.6, "mg/dL"), None),
        _observation("1751-7", "Albumin [Mass/volume] in Serum or Plasma", (4.5, "g/dL"), None),
    )
    presentation = presentation_from_bundle(document)
    assert ["calcium_total", "albumin"] == [str(lab.analyte) for lab in presentation.labs]
    result = fasciculate.assess(presentation)
    adjusted = next(lab for lab in result.labs if lab.formula)
    assert round(adjusted.value or 0, 4) == round(7.6 / 4.008 - 0.1, 4)
    assert Urgency.EMERGENCY == result.urgency  # adjusted 1.796 <= 1.8


def test_fhir_interpretation_without_a_value_is_read_as_words():
    """An Observation with interpretation LL and no valueQuantity becomes a words-only result."""
    document = bundle(patient(), _observation("2823-3", "Potassium", None, "LL"))
    presentation = presentation_from_bundle(document)
    assert [("potassium", None, "LL")] == [
        (str(lab.analyte), lab.value, lab.interpretation) for lab in presentation.labs
    ]
    assert Urgency.EMERGENCY == fasciculate.assess(presentation).urgency


def test_fhir_value_with_interpretation_keeps_both():
    """A value with its interpretation keeps both; the worse of the two readings decides."""
    document = bundle(patient(), _observation("2823-3", "Potassium", (4.0, "mmol/L"), "HH"))
    (lab,) = presentation_from_bundle(document).labs
    assert (4.0, "HH") == (lab.value, lab.interpretation)
    assert Urgency.EMERGENCY == fasciculate.assess(presentation_from_bundle(document)).urgency


def test_fhir_words_only_result_is_superseded_by_a_later_final_value():
    """Words alone are one result among the analyte's: the latest final result stands."""
    document = bundle(
        patient(),
        _observation("2823-3", "Potassium", None, "LL", when="2026-11-10"),
        _observation("2823-3", "Potassium", (4.0, "mmol/L"), None, when="2026-11-18"),
    )
    reading = read_bundle(document)
    assert [("potassium", 4.0, None)] == [
        (str(lab.analyte), lab.value, lab.interpretation) for lab in reading.presentation.labs
    ]
    assert any("superseded" in item.reason for item in reading.report.skipped)


def test_fhir_words_recorded_twice_are_one_result_and_a_newer_preliminary_one_is_read():
    """The same words at the same time are one result; newer unfinished words raise, with a note."""
    document = bundle(
        patient(),
        _observation("2823-3", "Potassium", None, "H", when="2026-11-10"),
        _observation("2823-3", "Potassium", None, "H", when="2026-11-10"),
        _observation("2823-3", "Potassium", None, "HH", when="2026-11-18", status="preliminary"),
    )
    reading = read_bundle(document)
    assert [("potassium", "H"), ("potassium", "HH")] == [
        (str(lab.analyte), lab.interpretation) for lab in reading.presentation.labs
    ]
    assert any("recorded twice" in item.reason for item in reading.report.mapped)
    assert any("preliminary potassium result read" in note for note in reading.report.notes)
    assert Urgency.EMERGENCY == fasciculate.assess(reading.presentation).urgency


def test_unverified_sources_are_marked_and_the_rules_citing_them_say_so():
    """Sources marked for verification are flagged, and every rule citing one says 'unverified'."""
    kb = fasciculate.knowledge_base()
    unverified = {key for key, source in kb.sources.items() if source.unverified}
    assert {"us-critical-values", "us-critical-values-magnesium", "rcpath-2017-ck"} == unverified
    for key in unverified:
        assert "[verify" in kb.sources[key].title
    citing = [rule for rule in kb.rules if rule.source in unverified]
    assert len(citing) >= 4
    assert [] == [rule.id for rule in citing if "nverified" not in rule.rationale]
    shown = fasciculate.assess(labs(value("creatine_kinase", 6000, "U/L"))).sources
    assert [True] == [source.unverified for source in shown if source.id == "rcpath-2017-ck"]

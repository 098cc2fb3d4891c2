"""The referral rule table, rule by rule, against cases written from the clinical sources."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given

import fasciculate
from _builders import NORMAL_EXAM, SCREEN, SEED_RED_FLAGS, negative
from fasciculate import Urgency, knowledge_base
from fasciculate.conditions import FactAtom, atoms
from fasciculate.engine import Engine
from fasciculate.testing import presentations


def fired(data: dict[str, Any]) -> set[str]:
    return {rule.id for rule in fasciculate.assess(data).rules_fired}


def lab(analyte: str, value: float, unit: str) -> dict[str, Any]:
    return {"labs": [{"analyte": analyte, "value": value, "unit": unit}]}


# Each case: the smallest change to a complete negative screen that should fire the rule, written
# from the cited sources (not from rules.toml), with every rule it should fire and its urgency.
CASES: dict[str, tuple[dict[str, Any], set[str], Urgency]] = {
    "SEED-PERSISTENT": (
        negative(twitching={"duration_days": 30}),
        {"SEED-PERSISTENT"},
        Urgency.ROUTINE,
    ),
    "SEED-WORSENING": (
        negative(twitching={"course": "worsening"}),
        {"SEED-WORSENING"},
        Urgency.ROUTINE,
    ),
    "SEED-WEAKNESS": (
        negative(findings={"weakness": "present"}),
        {"SEED-WEAKNESS"},
        Urgency.ROUTINE,
    ),
    "SEED-NUMBNESS": (
        negative(findings={"numbness": "present"}),
        {"SEED-NUMBNESS"},
        Urgency.ROUTINE,
    ),
    "SEED-PAIN": (negative(findings={"pain": "present"}), {"SEED-PAIN"}, Urgency.ROUTINE),
    "SEED-WASTING": (
        negative(findings={"visible_wasting": "present"}),
        {"SEED-WASTING", "MND-WASTING"},
        Urgency.URGENT,
    ),
    "SEED-WALKING": (
        negative(findings={"walking_difficulty": "present"}),
        {"SEED-WALKING"},
        Urgency.ROUTINE,
    ),
    "SEED-SPREADING": (
        negative(twitching={"regions": ["calf", "arm"]}),
        {"SEED-SPREADING"},
        Urgency.ROUTINE,
    ),
    "SEED-INTERFERENCE": (
        negative(findings={"daily_life_interference": "present"}),
        {"SEED-INTERFERENCE"},
        Urgency.ROUTINE,
    ),
    "SEED-INJURY": (
        negative(findings={"onset_after_injury": "present"}),
        {"SEED-INJURY"},
        Urgency.ROUTINE,
    ),
    "CES-SADDLE": (
        negative(findings={"saddle_sensory_loss": "present"}),
        {"CES-SADDLE", "SEED-NUMBNESS"},
        Urgency.EMERGENCY,
    ),
    "CES-BLADDER": (
        negative(findings={"bladder_dysfunction": "present"}),
        {"CES-BLADDER"},
        Urgency.EMERGENCY,
    ),
    "CES-BOWEL": (
        negative(findings={"bowel_dysfunction": "present"}),
        {"CES-BOWEL"},
        Urgency.EMERGENCY,
    ),
    "CES-SPHINCTER": (
        negative(examination={"anal_sphincter_laxity": "present"}),
        {"CES-SPHINCTER"},
        Urgency.EMERGENCY,
    ),
    "CES-BILATERAL-SCIATICA": (
        negative(findings={"bilateral_sciatica": "present"}),
        {"CES-BILATERAL-SCIATICA", "SEED-PAIN"},
        Urgency.EMERGENCY,
    ),
    "CES-BILATERAL-WEAKNESS": (
        negative(findings={"bilateral_leg_weakness": "present"}),
        {"CES-BILATERAL-WEAKNESS", "SEED-WEAKNESS"},
        Urgency.EMERGENCY,
    ),
    "CES-SEXUAL": (
        negative(findings={"sexual_dysfunction": "present", "back_pain": "present"}),
        {"CES-SEXUAL"},
        Urgency.EMERGENCY,
    ),
    "NEURO-RAPID-SYMMETRIC-WEAKNESS": (
        negative(findings={"rapid_symmetric_weakness": "present"}),
        {"NEURO-RAPID-SYMMETRIC-WEAKNESS", "SEED-WEAKNESS"},
        Urgency.EMERGENCY,
    ),
    "NEURO-SUDDEN-WEAKNESS": (
        negative(findings={"sudden_weakness": "present"}),
        {"NEURO-SUDDEN-WEAKNESS", "SEED-WEAKNESS"},
        Urgency.EMERGENCY,
    ),
    "NEURO-ORTHOPNOEA-WEAKNESS": (
        negative(findings={"breathless_lying_flat": "present", "weakness": "present"}),
        {"NEURO-ORTHOPNOEA-WEAKNESS", "SEED-WEAKNESS", "MND-RESPIRATORY"},
        Urgency.EMERGENCY,
    ),
    "NEURO-BREATHLESS-REST": (
        negative(findings={"breathless_at_rest": "present"}),
        {"NEURO-BREATHLESS-REST"},
        Urgency.EMERGENCY,
    ),
    "NEURO-TETANY-SEIZURE": (
        negative(findings={"tetany": "present"}),
        {"NEURO-TETANY-SEIZURE"},
        Urgency.EMERGENCY,
    ),
    "LAB-POTASSIUM-CRITICAL-LOW": (
        negative(**lab("potassium", 2.5, "mmol/L")),
        {"LAB-POTASSIUM-CRITICAL-LOW", "LAB-POTASSIUM-LOW"},
        Urgency.EMERGENCY,
    ),
    "LAB-POTASSIUM-CRITICAL-HIGH": (
        negative(**lab("potassium", 6.5, "mEq/L")),
        {"LAB-POTASSIUM-CRITICAL-HIGH", "LAB-POTASSIUM-MODERATE-HIGH", "LAB-POTASSIUM-HIGH"},
        Urgency.EMERGENCY,
    ),
    "LAB-CALCIUM-ADJUSTED-CRITICAL-LOW": (
        negative(**lab("calcium_adjusted", 7.2, "mg/dL")),
        {"LAB-CALCIUM-ADJUSTED-CRITICAL-LOW", "LAB-CALCIUM-LOW"},
        Urgency.EMERGENCY,
    ),
    "LAB-CALCIUM-ADJUSTED-CRITICAL-HIGH": (
        negative(**lab("calcium_adjusted", 3.41, "mmol/L")),
        {"LAB-CALCIUM-ADJUSTED-CRITICAL-HIGH", "LAB-CALCIUM-MODERATE-HIGH", "LAB-CALCIUM-HIGH"},
        Urgency.EMERGENCY,
    ),
    "LAB-CALCIUM-IONISED-CRITICAL-LOW": (
        negative(**lab("calcium_ionised", 0.8, "mmol/L")),
        {"LAB-CALCIUM-IONISED-CRITICAL-LOW", "LAB-CALCIUM-LOW"},
        Urgency.EMERGENCY,
    ),
    "LAB-MAGNESIUM-CRITICAL-LOW": (
        negative(**lab("magnesium", 0.97, "mg/dL")),
        {"LAB-MAGNESIUM-CRITICAL-LOW", "LAB-MAGNESIUM-LOW"},
        Urgency.EMERGENCY,
    ),
    "LAB-POTASSIUM-LOW": (
        negative(**lab("potassium", 3.2, "mmol/L")),
        {"LAB-POTASSIUM-LOW"},
        Urgency.ROUTINE,
    ),
    "LAB-MAGNESIUM-LOW": (
        negative(**lab("magnesium", 1.5, "mg/dL")),
        {"LAB-MAGNESIUM-LOW"},
        Urgency.ROUTINE,
    ),
    "LAB-CALCIUM-LOW": (
        negative(**lab("calcium_total", 8.2, "mg/dL")),
        {"LAB-CALCIUM-LOW"},
        Urgency.ROUTINE,
    ),
    "LAB-VITAMIN-D-DEFICIENT": (
        negative(**lab("vitamin_d", 10, "ng/mL")),
        {"LAB-VITAMIN-D-DEFICIENT", "LAB-VITAMIN-D-LOW"},
        Urgency.ROUTINE,
    ),
    "LAB-VITAMIN-B12-DEFICIENT": (
        negative(**lab("vitamin_b12", 100, "pmol/L")),
        {"LAB-VITAMIN-B12-DEFICIENT", "LAB-VITAMIN-B12-LOW"},
        Urgency.ROUTINE,
    ),
    # --- second edition (issue 12): high ends, total calcium, creatine kinase, words only ---
    "LAB-CALCIUM-TOTAL-CRITICAL-LOW": (
        negative(**lab("calcium_total", 6.5, "mg/dL")),
        {"LAB-CALCIUM-TOTAL-CRITICAL-LOW", "LAB-CALCIUM-LOW"},
        Urgency.EMERGENCY,
    ),
    "LAB-MAGNESIUM-CRITICAL-HIGH": (
        negative(**lab("magnesium", 5.0, "mg/dL")),
        {"LAB-MAGNESIUM-CRITICAL-HIGH", "LAB-MAGNESIUM-HIGH"},
        Urgency.EMERGENCY,
    ),
    "LAB-CK-RHABDOMYOLYSIS": (
        negative(
            **lab("creatine_kinase", 20000, "U/L"),
            exposures={"strenuous_exercise_48h": "present", "dehydration": "present"},
        ),
        {"LAB-CK-RHABDOMYOLYSIS", "LAB-CK-MARKED"},
        Urgency.EMERGENCY,
    ),
    "LAB-REPORTED-CRITICAL": (
        negative(labs=[{"analyte": "albumin", "interpretation": "LL"}]),
        {"LAB-REPORTED-CRITICAL", "LAB-REPORTED-ABNORMAL"},
        Urgency.EMERGENCY,
    ),
    "LAB-POTASSIUM-MODERATE-HIGH": (
        negative(**lab("potassium", 6.3, "mmol/L")),
        {"LAB-POTASSIUM-MODERATE-HIGH", "LAB-POTASSIUM-HIGH"},
        Urgency.URGENT,
    ),
    "LAB-CALCIUM-MODERATE-HIGH": (
        negative(**lab("calcium_adjusted", 3.3, "mmol/L")),
        {"LAB-CALCIUM-MODERATE-HIGH", "LAB-CALCIUM-HIGH"},
        Urgency.URGENT,
    ),
    "LAB-CK-MARKED": (
        negative(
            **lab("creatine_kinase", 5000, "U/L"),
            exposures={"strenuous_exercise_48h": "absent", "dehydration": "absent"},
            findings={"dark_urine": "absent"},
            medications=[{"name": "amlodipine"}],
        ),
        {"LAB-CK-MARKED"},
        Urgency.URGENT,
    ),
    "LAB-POTASSIUM-HIGH": (
        negative(**lab("potassium", 5.4, "mmol/L")),
        {"LAB-POTASSIUM-HIGH"},
        Urgency.ROUTINE,
    ),
    "LAB-MAGNESIUM-HIGH": (
        negative(**lab("magnesium", 1.01, "mmol/L")),
        {"LAB-MAGNESIUM-HIGH"},
        Urgency.ROUTINE,
    ),
    "LAB-CALCIUM-HIGH": (
        negative(**lab("calcium_ionised", 1.33, "mmol/L")),
        {"LAB-CALCIUM-HIGH"},
        Urgency.ROUTINE,
    ),
    "LAB-VITAMIN-D-LOW": (
        negative(**lab("vitamin_d", 40, "nmol/L")),
        {"LAB-VITAMIN-D-LOW"},
        Urgency.ROUTINE,
    ),
    "LAB-VITAMIN-B12-LOW": (
        negative(**lab("vitamin_b12", 300, "ng/L")),
        {"LAB-VITAMIN-B12-LOW"},
        Urgency.ROUTINE,
    ),
    "LAB-REPORTED-ABNORMAL": (
        negative(labs=[{"analyte": "ferritin", "interpretation": "L"}]),
        {"LAB-REPORTED-ABNORMAL"},
        Urgency.ROUTINE,
    ),
    "MND-PROGRESSIVE-WEAKNESS": (
        negative(findings={"progressive_weakness": "present"}),
        {"MND-PROGRESSIVE-WEAKNESS", "SEED-WEAKNESS"},
        Urgency.URGENT,
    ),
    "MND-WASTING": (
        negative(examination={"wasting": "present"}),
        {"MND-WASTING", "SEED-WASTING"},
        Urgency.URGENT,
    ),
    "MND-OBJECTIVE-WEAKNESS-PROGRESSING": (
        negative(examination={"strength": "reduced"}, twitching={"course": "worsening"}),
        {"MND-OBJECTIVE-WEAKNESS-PROGRESSING", "SEED-WEAKNESS", "SEED-WORSENING"},
        Urgency.URGENT,
    ),
    "MND-BULBAR": (
        negative(twitching={"regions": ["tongue"]}),
        {"MND-BULBAR"},
        Urgency.URGENT,
    ),
    "MND-RESPIRATORY": (
        negative(findings={"morning_headache": "present", "weakness": "present"}),
        {"MND-RESPIRATORY", "MND-SLEEP-HEADACHE-ALONE", "SEED-WEAKNESS"},
        Urgency.URGENT,
    ),
    "MND-SLEEP-HEADACHE-ALONE": (
        negative(findings={"daytime_sleepiness": "present"}),
        {"MND-SLEEP-HEADACHE-ALONE"},
        Urgency.ROUTINE,
    ),
    "MND-UMN-SIGNS": (
        negative(examination={"ankle_reflex": "brisk"}, twitching={"course": "worsening"}),
        {"MND-UMN-SIGNS", "MND-BRISK-REFLEX-ALONE", "SEED-WORSENING"},
        Urgency.URGENT,
    ),
    "MND-BRISK-REFLEX-ALONE": (
        negative(examination={"knee_reflex": "brisk"}),
        {"MND-BRISK-REFLEX-ALONE"},
        Urgency.ROUTINE,
    ),
    "MND-FALLS-DEXTERITY": (
        negative(findings={"falls": "present", "weakness": "present"}),
        {"MND-FALLS-DEXTERITY", "SEED-WEAKNESS", "SEED-WALKING"},
        Urgency.URGENT,
    ),
    "RAD-PROGRESSIVE-DEFICIT": (
        negative(findings={"radiating_leg_pain": "present", "progressive_weakness": "present"}),
        {"RAD-PROGRESSIVE-DEFICIT", "MND-PROGRESSIVE-WEAKNESS", "SEED-PAIN", "SEED-WEAKNESS"},
        Urgency.URGENT,
    ),
    "NEURO-RAPID-SINGLE-LIMB": (
        negative(findings={"rapid_single_limb_weakness": "present"}),
        {"NEURO-RAPID-SINGLE-LIMB", "SEED-WEAKNESS"},
        Urgency.URGENT,
    ),
    # Second edition (issue 12: spinal red flags, motor deficit, scope).
    "SPINE-CANCER-NEURO": (
        negative(findings={"cancer_history": "present", "radiating_leg_pain": "present"}),
        {"SPINE-CANCER-NEURO", "SEED-PAIN"},
        Urgency.EMERGENCY,
    ),
    "SPINE-CANCER-BACK-PAIN": (
        negative(findings={"cancer_history": "present", "back_pain": "present"}),
        {"SPINE-CANCER-BACK-PAIN"},
        Urgency.URGENT,
    ),
    "SPINE-INFECTION-NEURO": (
        negative(findings={"back_pain": "present", "fever": "present", "numbness": "present"}),
        {"SPINE-INFECTION-NEURO", "SPINE-INFECTION-RISK", "SEED-NUMBNESS"},
        Urgency.EMERGENCY,
    ),
    "SPINE-INFECTION-RISK": (
        negative(findings={"back_pain": "present", "iv_drug_use": "present"}),
        {"SPINE-INFECTION-RISK"},
        Urgency.URGENT,
    ),
    "SPINE-HAEMATOMA-NEURO": (
        negative(
            findings={"back_pain": "present", "anticoagulation": "present"},
            examination={"sensory_loss": "present"},
        ),
        {"SPINE-HAEMATOMA-NEURO", "SEED-NUMBNESS"},
        Urgency.EMERGENCY,
    ),
    "SPINE-WEIGHT-LOSS": (
        negative(findings={"weight_loss": "present"}, patient={"age": 50}),
        {"SPINE-WEIGHT-LOSS"},
        Urgency.URGENT,
    ),
    "RAD-SEVERE-MOTOR-DEFICIT": (
        negative(examination={"strength": "reduced", "power": {"knee_extension": 3}}),
        {"RAD-SEVERE-MOTOR-DEFICIT", "SEED-WEAKNESS"},
        Urgency.URGENT,
    ),
    "RAD-FOOT-DROP": (
        negative(findings={"foot_drop": "present"}),
        {"RAD-FOOT-DROP", "SEED-WEAKNESS"},
        Urgency.URGENT,
    ),
    "RAD-KNEE-EXTENSION-REFLEX": (
        negative(
            findings={"weak_knee_extension": "present"}, examination={"knee_reflex": "reduced"}
        ),
        {"RAD-KNEE-EXTENSION-REFLEX", "SEED-WEAKNESS"},
        Urgency.URGENT,
    ),
    "OUT-OF-SCOPE-AGE": (
        negative(patient={"age": 15}),
        {"OUT-OF-SCOPE-AGE"},
        Urgency.ROUTINE,
    ),
    "MND-FAMILY-HISTORY": (
        negative(findings={"family_history_mnd": "present", "weakness": "present"}),
        {"MND-FAMILY-HISTORY", "SEED-WEAKNESS"},
        Urgency.URGENT,
    ),
    "LAB-TSH-ABNORMAL": (
        negative(**lab("tsh", 0.05, "mU/L")),
        {"LAB-TSH-ABNORMAL"},
        Urgency.ROUTINE,
    ),
}


def test_every_rule_has_a_case():
    """The cases cover every rule of the table, and name no rule that does not exist."""
    assert {rule.id for rule in knowledge_base().rules} == set(CASES)


def test_complete_negative_screen_is_self_care_with_no_rule():
    """With every red flag answered absent and a normal examination, nothing fires."""
    result = fasciculate.assess(negative())
    assert (Urgency.SELF_CARE, (), ()) == (result.urgency, result.rules_fired, result.missing)


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_fires_on_its_case_and_gives_its_urgency(rule_id: str):
    """Each rule fires on its clinical case, together with exactly the expected companions."""
    data, expected, urgency = CASES[rule_id]
    assert expected == fired(data)
    assert urgency == fasciculate.assess(data).urgency


@pytest.mark.parametrize(
    ("rule_id", "data"),
    [
        ("SEED-PERSISTENT", negative(twitching={"duration_days": 13.9})),
        ("SEED-SPREADING", negative(twitching={"regions": ["calf", "anterior_thigh", "foot"]})),
        ("CES-SEXUAL", negative(findings={"sexual_dysfunction": "present"})),
        ("NEURO-ORTHOPNOEA-WEAKNESS", negative(findings={"breathless_lying_flat": "present"})),
        ("LAB-POTASSIUM-CRITICAL-LOW", negative(**lab("potassium", 2.51, "mmol/L"))),
        ("LAB-POTASSIUM-LOW", negative(**lab("potassium", 3.5, "mmol/L"))),
        ("LAB-POTASSIUM-CRITICAL-HIGH", negative(**lab("potassium", 6.4, "mmol/L"))),
        ("LAB-MAGNESIUM-CRITICAL-LOW", negative(**lab("magnesium", 0.41, "mmol/L"))),
        ("LAB-CALCIUM-ADJUSTED-CRITICAL-LOW", negative(**lab("calcium_adjusted", 1.81, "mmol/L"))),
        ("LAB-CALCIUM-LOW", negative(**lab("calcium_total", 2.2, "mmol/L"))),
        ("LAB-VITAMIN-D-DEFICIENT", negative(**lab("vitamin_d", 30, "nmol/L"))),
        ("LAB-POTASSIUM-HIGH", negative(**lab("potassium", 5.3, "mmol/L"))),
        ("LAB-POTASSIUM-MODERATE-HIGH", negative(**lab("potassium", 5.9, "mmol/L"))),
        ("LAB-CALCIUM-MODERATE-HIGH", negative(**lab("calcium_adjusted", 3.0, "mmol/L"))),
        ("LAB-CALCIUM-ADJUSTED-CRITICAL-HIGH", negative(**lab("calcium_adjusted", 3.4, "mmol/L"))),
        ("LAB-CALCIUM-TOTAL-CRITICAL-LOW", negative(**lab("calcium_total", 6.6, "mg/dL"))),
        ("LAB-MAGNESIUM-CRITICAL-HIGH", negative(**lab("magnesium", 4.9, "mg/dL"))),
        ("LAB-CK-MARKED", negative(**lab("creatine_kinase", 4999, "U/L"))),
        (
            "LAB-CK-RHABDOMYOLYSIS",
            negative(**lab("creatine_kinase", 4999, "U/L"), findings={"dark_urine": "present"}),
        ),
        ("MND-UMN-SIGNS", negative(examination={"knee_reflex": "reduced"})),
        ("MND-UMN-SIGNS", negative(examination={"knee_reflex": "brisk"})),
        ("MND-RESPIRATORY", negative(findings={"daytime_sleepiness": "present"})),
        ("MND-RESPIRATORY", negative(findings={"morning_headache": "present"})),
        ("SPINE-CANCER-NEURO", negative(findings={"cancer_history": "present"})),
        ("SPINE-CANCER-BACK-PAIN", negative(findings={"back_pain": "present"})),
        ("SPINE-INFECTION-NEURO", negative(findings={"back_pain": "present", "fever": "present"})),
        ("SPINE-INFECTION-RISK", negative(findings={"fever": "present"})),
        ("SPINE-HAEMATOMA-NEURO", negative(findings={"anticoagulation": "present"})),
        ("SPINE-WEIGHT-LOSS", negative(findings={"weight_loss": "present"}, patient={"age": 49})),
        ("RAD-SEVERE-MOTOR-DEFICIT", negative(examination={"power": {"knee_extension": 4}})),
        ("RAD-KNEE-EXTENSION-REFLEX", negative(findings={"weak_knee_extension": "present"})),
        ("OUT-OF-SCOPE-AGE", negative(patient={"age": 16})),
        ("MND-FAMILY-HISTORY", negative(findings={"family_history_mnd": "present"})),
        ("LAB-TSH-ABNORMAL", negative(**lab("tsh", 4.0, "mU/L"))),
        ("LAB-TSH-ABNORMAL", negative(**lab("tsh", 0.4, "mU/L"))),
        ("MND-FALLS-DEXTERITY", negative(findings={"falls": "present"})),
        ("MND-OBJECTIVE-WEAKNESS-PROGRESSING", negative(examination={"strength": "reduced"})),
    ],
)
def test_rule_does_not_fire_just_short_of_its_condition(rule_id: str, data: dict[str, Any]):
    """Just below a threshold, or with one conjunct missing, the rule stays silent."""
    assert rule_id not in fired(data)


@pytest.mark.parametrize("flag", SEED_RED_FLAGS)
def test_each_seed_red_flag_alone_gives_at_least_routine(flag: str):
    """Every red flag of the seed article, alone on a negative screen, means at least routine."""
    result = fasciculate.assess(negative(findings={flag: "present"}))
    assert result.urgency >= Urgency.ROUTINE


def test_unknown_screen_item_keeps_screen_open_and_is_asked():
    """Leaving one indicated emergency question unanswered gives routine and asks exactly it."""
    data = negative(findings={"back_pain": "present"})  # back pain calls for the CES screen
    del data["findings"]["saddle_sensory_loss"]
    result = fasciculate.assess(data)
    assert Urgency.ROUTINE == result.urgency
    assert ["SCREEN-INCOMPLETE"] == [rule.id for rule in result.rules_fired]
    assert [("saddle_sensory_loss", Urgency.EMERGENCY)] == [
        (question.fact, question.could_raise_to) for question in result.missing
    ]
    assert () == result.not_asked


def test_unknown_screen_item_not_indicated_is_set_aside():
    """The same question with nothing that calls for it: self-care, and listed as not asked."""
    data = negative()
    del data["findings"]["saddle_sensory_loss"]
    result = fasciculate.assess(data)
    assert Urgency.SELF_CARE == result.urgency
    assert () == result.missing
    assert [("saddle_sensory_loss", Urgency.EMERGENCY, ("IND-CAUDA-EQUINA",))] == [
        (item.fact, item.could_raise_to, tuple(unmet.id for unmet in item.indications))
        for item in result.not_asked
    ]


def test_unknown_conjunct_is_not_asked_when_the_other_part_is_absent():
    """Sexual dysfunction only matters with back or leg pain: with both absent it is not asked."""
    data = negative()
    del data["findings"]["sexual_dysfunction"]
    assert Urgency.SELF_CARE == fasciculate.assess(data).urgency


def test_missing_examination_is_asked():
    """Without an examination the screen stays open and the examination items are asked for."""
    data = negative(findings={"back_pain": "present"})  # calls for the examination
    del data["examination"]
    result = fasciculate.assess(data)
    asked = {question.fact for question in result.missing}
    assert Urgency.ROUTINE == result.urgency
    assert {"anal_sphincter_laxity", "brisk_reflexes", "babinski", "exam_wasting"} <= asked


def test_one_reflex_normal_other_unexamined_is_still_open():
    """A normal knee reflex with the ankle reflex unexamined leaves brisk reflexes unknown."""
    data = negative(
        examination={**NORMAL_EXAM, "ankle_reflex": None}, findings={"back_pain": "present"}
    )
    result = fasciculate.assess(data)
    assert ["brisk_reflexes"] == [question.fact for question in result.missing]


def test_unmeasured_labs_do_not_hold_the_screen_open():
    """Blood tests are evidence when present, never demanded: no labs still allows self-care."""
    assert "labs" not in negative()
    assert Urgency.SELF_CARE == fasciculate.assess(negative()).urgency


def test_fired_rules_name_their_facts_and_inputs():
    """Every fired clinical rule lists the facts it used and where they came from."""
    result = fasciculate.assess(negative(findings={"falls": "present", "weakness": "present"}))
    rule = next(rule for rule in result.rules_fired if rule.id == "MND-FALLS-DEXTERITY")
    assert [("falls", "findings.falls"), ("weakness", "findings.weakness")] == [
        (fact.fact, fact.input) for fact in rule.facts
    ]


def test_lab_evidence_shows_value_unit_and_comparison():
    """A lab rule cites the converted value, its unit, the comparison and the lab entry."""
    result = fasciculate.assess(negative(**lab("magnesium", 0.9, "mg/dL")))
    critical = next(r for r in result.rules_fired if r.id == "LAB-MAGNESIUM-CRITICAL-LOW")
    (fact,) = critical.facts
    assert ("0.370218 mmol/L", "labs.0") == (fact.value, fact.input)
    assert fact.condition == "magnesium_lowest <= 0.4 (magnesium.critical_low)"


def test_worst_of_several_lab_results_is_used():
    """With two potassium results, the lowest decides the low rules and the highest the high."""
    data = negative(
        labs=[
            {"analyte": "potassium", "value": 4.0, "unit": "mmol/L"},
            {"analyte": "potassium", "value": 2.4, "unit": "mmol/L"},
            {"analyte": "potassium", "value": 6.6, "unit": "mmol/L"},
        ]
    )
    assert {
        "LAB-POTASSIUM-CRITICAL-LOW",
        "LAB-POTASSIUM-LOW",
        "LAB-POTASSIUM-CRITICAL-HIGH",
        "LAB-POTASSIUM-MODERATE-HIGH",
        "LAB-POTASSIUM-HIGH",
    } == fired(data)


def test_onset_date_gives_duration():
    """An onset date with an assessment date 20 days later counts as persistent."""
    data = negative(
        assessed_on="2026-03-21", twitching={"duration_days": None, "onset_date": "2026-03-01"}
    )
    assert "SEED-PERSISTENT" in fired(data)


def test_facts_cover_every_fact_atom_the_rules_use():
    """Every yes/no fact a rule uses is produced by the facts builder."""
    levels = Engine().facts(fasciculate.Presentation()).levels
    used = {
        atom.name
        for rule in knowledge_base().rules
        for atom in atoms(rule.condition)
        if isinstance(atom, FactAtom)
    }
    assert used <= set(levels)
    assert set(SCREEN) <= set(levels)


@given(presentations())
def test_fired_rules_are_reported_most_urgent_first_in_table_order(presentation):
    """rules_fired runs from the most urgent down, ties in rule-table order, SCREEN-INCOMPLETE last
    among the rules of its own urgency and above."""
    kb = knowledge_base()
    order = {rule.id: number for number, rule in enumerate(kb.rules)}
    order[kb.screen_incomplete.id] = len(kb.rules)  # after every rule of the same urgency
    fired = fasciculate.assess(presentation).rules_fired
    expected = sorted(fired, key=lambda rule: (-rule.urgency.rank, order[rule.id]))
    assert [rule.id for rule in expected] == [rule.id for rule in fired]


def test_an_open_screen_is_reported_after_the_routine_rules_that_fired():
    """With a routine rule fired and the screen open, SCREEN-INCOMPLETE follows the rule."""
    result = fasciculate.assess({"twitching": {"duration_days": 30}})
    ids = [rule.id for rule in result.rules_fired]
    assert ["SEED-PERSISTENT", "SCREEN-INCOMPLETE"] == ids

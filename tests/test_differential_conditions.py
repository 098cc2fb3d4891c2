"""Conditions within categories, a differential that never contradicts the referral (issue 13).

The presentations are the clinician's examples of issue 13, written from the sources: saddle
numbness with a new bladder disturbance after lifting; slurred speech and difficulty swallowing at
36; tongue fasciculation with every trigger denied; a critical potassium; reduced strength in two
regions at 62; an eyelid twitch.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import fasciculate
from _builders import negative
from conftest import EXAMPLES
from fasciculate import Assessment, CategoryResult, ConditionResult, Urgency, testing
from fasciculate.cli import main
from fasciculate.fhir import assessment_to_cards

DENIED_TRIGGERS = {
    "caffeine_mg_per_day": 0,
    "sleep_hours": 8,
    "stress": "low",
    "strenuous_exercise_48h": "absent",
    "dehydration": "absent",
    "nicotine": "absent",
}
TRIGGER_FEATURES = {
    "TRG-CAFFEINE",
    "TRG-SLEEP",
    "TRG-STRESS",
    "TRG-EXERCISE",
    "TRG-DEHYDRATION",
    "TRG-NICOTINE",
}
BENIGN = ("everyday_triggers", "benign_fasciculation_syndrome", "restless_legs_syndrome")


def category(result: Assessment, name: str) -> CategoryResult:
    return next(c for c in result.differential if c.category == name)


def condition(result: Assessment, name: str) -> ConditionResult:
    return next(c for cat in result.differential for c in cat.conditions if c.condition == name)


def text_report(data: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    path = tmp_path / "presentation.json"
    path.write_text(json.dumps(data))
    assert 0 == main(["assess", str(path)])
    return capsys.readouterr().out


SADDLE_AFTER_LIFTING = {
    "findings": {
        "saddle_sensory_loss": "present",
        "bladder_dysfunction": "present",
        "onset_after_injury": "present",
    }
}


def test_saddle_numbness_and_bladder_after_lifting_leads_with_cauda_equina(tmp_path, capsys):
    """The emergency's category leads, as cauda equina, flagged, and the report names the rules."""
    result = fasciculate.assess(SADDLE_AFTER_LIFTING)
    first = result.differential[0]
    assert Urgency.EMERGENCY == result.urgency
    assert ("serious_neurological", "cauda_equina") == (first.category, first.leading_condition)
    assert {"CES-SADDLE", "CES-BLADDER"} == set(first.referral_rules)
    assert first.must_not_miss
    assert first.conditions[0].must_not_miss
    assert first.probability > 0.9
    assert {"CES-SADDLE", "CES-SPHINCTERS"} <= {i.feature for i in first.conditions[0].supporting}
    assert not {"stretching", "warm_compresses"} & {a.id for a in result.advice}
    report = text_report(SADDLE_AFTER_LIFTING, tmp_path, capsys)
    assert "first because of the referral: CES-SADDLE [emergency]" in report
    assert "leading: Cauda equina or spinal compression" in report


SLURRED_AT_36 = {
    "patient": {"age": 36},
    "findings": {"slurred_speech": "present", "swallowing_difficulty": "present"},
}


def test_bulbar_features_at_36_lead_with_motor_neurone_disease():
    """Bulbar features at 36 put serious disease first; under 40 argues against MND only."""
    result = fasciculate.assess(SLURRED_AT_36)
    first = result.differential[0]
    assert Urgency.URGENT == result.urgency
    assert ("serious_neurological", "motor_neurone_disease") == (
        first.category,
        first.leading_condition,
    )
    assert first.probability > 0.5
    assert "SER-YOUNG" in {
        item.feature for item in condition(result, "motor_neurone_disease").conflicting
    }
    for sibling in ("cauda_equina", "acute_weakness"):
        assert () == condition(result, sibling).conflicting
    for name in BENIGN:
        assert category(result, name).probability < 0.2


def test_tongue_fasciculation_with_every_trigger_denied():
    """Every trigger asked and denied counts against everyday triggers; serious disease leads."""
    data = {"twitching": {"regions": ["tongue"]}, "exposures": DENIED_TRIGGERS}
    result = fasciculate.assess(data)
    assert ("serious_neurological", "motor_neurone_disease") == (
        result.differential[0].category,
        result.differential[0].leading_condition,
    )
    lifestyle = condition(result, "lifestyle_triggers")
    denied = {item.feature for item in lifestyle.conflicting if not item.holds}
    assert TRIGGER_FEATURES <= denied
    assert "TRG-RED-FLAGS" in {item.feature for item in lifestyle.conflicting}
    asked = fasciculate.assess({"twitching": {"regions": ["tongue"]}})
    assert category(result, "everyday_triggers").score < category(asked, "everyday_triggers").score


def test_a_critical_potassium_card_names_the_metabolic_cause_never_benign(tmp_path, capsys):
    """The card and report put the metabolic condition first, named with its rule; no 'benign'."""
    data = json.loads((EXAMPLES / "presentations" / "critical-hypokalaemia.json").read_text())
    result = fasciculate.assess(data)
    first = result.differential[0]
    assert ("everyday_triggers", "electrolyte_metabolic") == (
        first.category,
        first.leading_condition,
    )
    assert "LAB-POTASSIUM-CRITICAL-LOW" in first.referral_rules
    assert first.must_not_miss
    assert "benign" not in first.label.lower()
    assert "benign" not in first.conditions[0].label.lower()
    detail = assessment_to_cards(result)[0]["detail"]
    line = next(line for line in detail.splitlines() if line.startswith("1. "))
    assert line.startswith(
        "1. Everyday triggers and metabolic causes: Electrolyte or metabolic disturbance"
    )
    assert "`LAB-POTASSIUM-CRITICAL-LOW`, emergency" in line
    assert "benign" not in line.lower()
    report = text_report(data, tmp_path, capsys)
    assert "first because of the referral: LAB-POTASSIUM-CRITICAL-LOW [emergency]" in report
    assert "(benign)" not in report


def test_reduced_strength_in_two_regions_at_62_excludes_bfs():
    """Objective weakness effectively excludes BFS (a normal examination is its definition)."""
    data = {
        "patient": {"age": 62},
        "twitching": {"regions": ["calf", "hand"], "duration_days": 90, "course": "stable"},
        "examination": {"strength": "reduced"},
    }
    result = fasciculate.assess(data)
    bfs = category(result, "benign_fasciculation_syndrome")
    assert result.differential[0].category == "serious_neurological"
    assert bfs.probability < 0.01
    against = {item.feature: (item.weight, item.source) for item in bfs.conflicting}
    assert (-6.0, "blexrud-1993") == against["BFS-NORMAL-STRENGTH"]
    assert category(result, "serious_neurological").must_not_miss


def test_tetany_with_low_calcium_points_to_the_metabolic_cause():
    """Tetany with a low calcium supports the electrolyte condition, not serious disease."""
    data = negative(
        findings={"tetany": "present"},
        labs=[{"analyte": "calcium_adjusted", "value": 1.9, "unit": "mmol/L"}],
    )
    result = fasciculate.assess(data)
    metabolic = condition(result, "electrolyte_metabolic")
    assert ("everyday_triggers", "electrolyte_metabolic") == (
        result.differential[0].category,
        result.differential[0].leading_condition,
    )
    assert {"MET-TETANY-SEIZURE", "MET-TETANY-LOW-CALCIUM-MAGNESIUM", "TRG-ELECTROLYTES"} <= {
        item.feature for item in metabolic.supporting
    }
    assert () == category(result, "serious_neurological").supporting


def test_an_eyelid_twitch_is_its_own_benign_region():
    """Eyelid twitching is not bulbar: with a calf it is one region, and it flags nothing."""
    eyelid = fasciculate.assess(negative(twitching={"regions": ["eyelid", "calf"]}))
    assert Urgency.SELF_CARE == eyelid.urgency
    assert not any(c.must_not_miss for c in eyelid.differential)
    assert "TRG-EYELID" in {i.feature for i in condition(eyelid, "lifestyle_triggers").supporting}
    assert eyelid.differential[0].category == "everyday_triggers"
    face = fasciculate.assess(negative(twitching={"regions": ["face", "calf"]}))
    assert "SEED-SPREADING" in {rule.id for rule in face.rules_fired}
    assert fasciculate.BodyRegion.EYELID == "eyelid"


def test_several_regions_falls_and_age_are_context_only():
    """Context moves the probability of MND but never raises must-not-miss on its own."""
    data = negative(
        patient={"age": 70},
        twitching={"regions": ["calf", "hand", "trunk"]},
        findings={"spreading": "present", "falls": "present"},
    )
    result = fasciculate.assess(data)
    mnd = condition(result, "motor_neurone_disease")
    assert {"SER-MULTI-REGION", "SER-FALLS-DEXTERITY", "SER-AGE"} <= {
        item.feature for item in mnd.supporting
    }
    assert result.urgency < Urgency.URGENT
    assert not mnd.must_not_miss
    assert not any(c.must_not_miss for c in result.differential)


def test_weight_loss_is_context_before_50_and_a_red_flag_from_50():
    """Weight loss alone is context at 40; from 50 (or with back pain) it is urgent (item 4)."""
    findings = {"spreading": "present", "falls": "present", "weight_loss": "present"}
    young = fasciculate.assess(
        negative(patient={"age": 40}, twitching={"regions": ["calf", "hand"]}, findings=findings)
    )
    assert "SER-WEIGHT-LOSS" in {
        item.feature for item in condition(young, "motor_neurone_disease").supporting
    }
    assert young.urgency < Urgency.URGENT
    assert not any(c.must_not_miss for c in young.differential)
    older = fasciculate.assess(negative(patient={"age": 70}, findings={"weight_loss": "present"}))
    assert Urgency.URGENT == older.urgency
    assert "SPINE-WEIGHT-LOSS" in {rule.id for rule in older.rules_fired}
    assert older.differential[0].category == "serious_neurological"


@pytest.mark.parametrize(
    "changes",
    [
        {"examination": {"strength": "reduced"}},
        {"examination": {"wasting": "present"}},
        {"examination": {"babinski": "present"}},
        {"findings": {"slurred_speech": "present"}},
        {"findings": {"progressive_weakness": "present"}},
        {"findings": {"bowel_dysfunction": "present"}},
        {"findings": {"sudden_weakness": "present"}},
    ],
)
def test_hard_features_raise_must_not_miss(changes):
    """Objective weakness, wasting, UMN or bulbar signs, cauda equina or progressive weakness."""
    result = fasciculate.assess(negative(**changes))
    assert category(result, "serious_neurological").must_not_miss


def _highest_rules(result: Assessment) -> list[fasciculate.FiredRule]:
    return [rule for rule in result.rules_fired if rule.urgency == result.urgency]


@given(testing.presentations() | testing.red_flags() | testing.presentations(complete=True))
def test_the_leading_category_agrees_with_the_highest_fired_rule(presentation):
    """With an urgent or emergency rule fired, its category is first, named as the reason."""
    result = fasciculate.assess(presentation)
    first = result.differential[0]
    if result.urgency < Urgency.URGENT:
        assert all(not c.referral_rules for c in result.differential)
        assert [c.probability for c in result.differential] == sorted(
            (c.probability for c in result.differential), reverse=True
        )
        return
    highest = _highest_rules(result)
    assert first.category in {rule.category for rule in highest}
    assert {r.id for r in highest if r.category == first.category} <= set(first.referral_rules)
    named = {
        condition.condition
        for rule in highest
        if rule.category == first.category
        for condition in first.conditions
        if condition.condition in _named_conditions(rule.id)
    }
    assert not named or first.leading_condition in named
    assert first.must_not_miss
    assert "benign" not in first.label.lower()
    assert "benign" not in first.conditions[0].label.lower()
    line = next(
        line
        for line in assessment_to_cards(result)[0]["detail"].splitlines()
        if line.startswith("1. ")
    )
    assert f"`{first.referral_rules[0]}`" in line


def _named_conditions(rule_id: str) -> set[str]:
    from fasciculate import knowledge_base  # noqa: PLC0415

    rule = next(rule for rule in knowledge_base().rules if rule.id == rule_id)
    return {rule.condition_id} if rule.condition_id else set()


@given(testing.presentations())
def test_evidence_against_one_condition_never_argues_against_a_sibling(presentation):
    """Age (under 40 or 55-79) moves MND alone: cauda equina and acute weakness are unchanged."""
    young = presentation.model_copy(update={"patient": fasciculate.Patient(age=30)})
    older = presentation.model_copy(update={"patient": fasciculate.Patient(age=65)})
    first, second = fasciculate.assess(young), fasciculate.assess(older)
    for name in ("cauda_equina", "acute_weakness"):
        assert math.isclose(condition(first, name).score, condition(second, name).score)
        assert condition(first, name).conflicting == condition(second, name).conflicting


@given(testing.red_flags())
def test_red_flags_count_against_the_benign_categories(presentation):
    """A bulbar, UMN, cauda equina or sudden-weakness red flag weighs against every benign one."""
    result = fasciculate.assess(presentation)
    hard = {"slurred_speech", "swallowing_difficulty", "saddle_sensory_loss", "sudden_weakness"}
    if not hard & {f for f, v in presentation.findings.items() if v == "present"}:
        return
    for name in ("lifestyle_triggers", "benign_fasciculation_syndrome", "restless_legs_syndrome"):
        assert any(item.holds and item.weight <= -2 for item in condition(result, name).conflicting)


def test_every_weight_names_its_magnitude_source_and_it_is_cited():
    """Each evidence item says where its weight's size comes from: all expert estimates today."""
    result = fasciculate.assess(SLURRED_AT_36)
    sources = {source.id: source for source in result.sources}
    items = [i for c in result.differential for k in c.conditions for i in k.supporting]
    assert items
    for item in items:
        assert item.weight_source == "expert-estimate"
        assert sources[item.weight_source].expert_estimate


def test_blexrud_and_ng42_are_cited_where_the_issue_asks():
    """Post-viral and health-care-worker BFS cite Blexrud 1993; MND peak age is NG42's 55-79."""
    data = negative(
        patient={"age": 56},
        twitching={"duration_days": 60},
        findings={"recent_viral_illness": "present", "health_care_worker": "present"},
    )
    result = fasciculate.assess(data)
    bfs = {
        i.feature: i.source for i in category(result, "benign_fasciculation_syndrome").supporting
    }
    assert ("blexrud-1993", "blexrud-1993") == (bfs["BFS-VIRAL"], bfs["BFS-HEALTH-CARE"])
    age = next(i for i in condition(result, "motor_neurone_disease").supporting)
    assert ("SER-AGE", "nice-ng42") == (age.feature, age.source)
    assert "Ann Neurol 1993;34:622-625" in next(
        s.title for s in result.sources if s.id == "blexrud-1993"
    )
    assert "SER-AGE" not in {
        i.feature
        for i in condition(
            fasciculate.assess(negative(patient={"age": 80})), "motor_neurone_disease"
        ).supporting
    }


@given(
    testing.negative_screens(),
    st.lists(st.sampled_from(["arm", "hand", "trunk", "face", "eyelid"]), unique=True),
    st.sampled_from(["present", "absent", "unknown"]),
    st.sampled_from(["present", "absent", "unknown"]),
    st.integers(16, 95),
)
def test_context_alone_never_raises_must_not_miss(presentation, regions, falls, weight_loss, age):
    """A negative screen plus several regions, falls, weight loss or any age is never flagged.

    Weight loss from age 50 is a red flag of its own (SPINE-WEIGHT-LOSS, urgent), not context.
    """
    assume(weight_loss != "present" or age < 50)
    twitching = presentation.twitching.model_copy(
        update={"regions": [*presentation.twitching.regions, *regions]}
    )
    changed = presentation.model_copy(
        update={
            "twitching": twitching,
            "patient": fasciculate.Patient(age=age),
            "findings": {
                **presentation.findings,
                fasciculate.Finding("falls"): fasciculate.TriState(falls),
                fasciculate.Finding("weight_loss"): fasciculate.TriState(weight_loss),
            },
        }
    )
    result = fasciculate.assess(changed)
    assert result.urgency < Urgency.URGENT
    assert not any(category.must_not_miss for category in result.differential)

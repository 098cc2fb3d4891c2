"""Knowledge base, second edition (issue 12, items 4-10), through assess() and the CLI.

Every case here was reproduced on the first edition (knowledge base 2026.11.0) and answered
differently there: the comment beside each case says what the first edition gave.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from typing import Any

import pytest

import fasciculate
from _builders import negative
from _fhir import ICD10CM, bundle, condition, patient
from fasciculate import Analyte, Urgency
from fasciculate.fhir import read_bundle


def cli_json(data: dict[str, Any]) -> dict[str, Any]:
    """The assessment printed by ``fasciculate assess - --format json`` in a real subprocess."""
    result = subprocess.run(
        [sys.executable, "-m", "fasciculate", "assess", "-", "--format", "json"],
        input=json.dumps(data).encode(),
        capture_output=True,
        check=False,
    )
    assert (0, b"") == (result.returncode, result.stderr)
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def both(data: dict[str, Any]) -> tuple[Urgency, set[str], dict[str, Any]]:
    """The urgency and fired rules from assess(), checked against the CLI's JSON."""
    result = fasciculate.assess(data)
    printed = cli_json(data)
    fired = {rule.id for rule in result.rules_fired}
    assert (str(result.urgency), fired) == (
        printed["urgency"],
        {rule["id"] for rule in printed["rules_fired"]},
    )
    return result.urgency, fired, printed


# --- item 4: serious spinal pathology -------------------------------------------------------------

SPINAL = [
    # cancer history with radicular pain: routine before (pain), now an emergency (NICE CG75)
    (
        {"cancer_history": "present", "radiating_leg_pain": "present"},
        {},
        Urgency.EMERGENCY,
        "SPINE-CANCER-NEURO",
    ),
    # cancer history with limb weakness: routine before, now an emergency
    (
        {"cancer_history": "present", "weakness": "present"},
        {},
        Urgency.EMERGENCY,
        "SPINE-CANCER-NEURO",
    ),
    # back pain with fever and sensory loss on examination: routine before, now an emergency (CKS)
    (
        {"back_pain": "present", "fever": "present"},
        {"examination": {"sensory_loss": "present"}},
        Urgency.EMERGENCY,
        "SPINE-INFECTION-NEURO",
    ),
    # back pain with IV drug use and weakness: routine before, now an emergency
    (
        {"back_pain": "present", "iv_drug_use": "present", "weakness": "present"},
        {},
        Urgency.EMERGENCY,
        "SPINE-INFECTION-NEURO",
    ),
    # immunosuppression with back pain, no deficit: self-care before, now urgent
    (
        {"back_pain": "present", "immunosuppression": "present"},
        {},
        Urgency.URGENT,
        "SPINE-INFECTION-RISK",
    ),
    # unexplained weight loss with back pain: self-care before (weight_loss was used by no rule)
    ({"weight_loss": "present", "back_pain": "present"}, {}, Urgency.URGENT, "SPINE-WEIGHT-LOSS"),
    # unexplained weight loss at 63: self-care before
    ({"weight_loss": "present"}, {"patient": {"age": 63}}, Urgency.URGENT, "SPINE-WEIGHT-LOSS"),
    # back pain on anticoagulation with a new numbness: routine before
    (
        {"back_pain": "present", "anticoagulation": "present", "numbness": "present"},
        {},
        Urgency.EMERGENCY,
        "SPINE-HAEMATOMA-NEURO",
    ),
]


@pytest.mark.parametrize(("findings", "more", "urgency", "rule"), SPINAL)
def test_serious_spinal_pathology(findings, more, urgency, rule):
    """Cancer, infection risks and weight loss with spinal features escalate as NICE/CKS say."""
    got, fired, _ = both(negative(findings=findings, **more))
    assert (urgency, True) == (got, rule in fired)


def test_weight_loss_under_50_without_back_pain_is_not_urgent():
    """Weight loss alone below 50 does not fire the weight-loss rule (no over-triage)."""
    _, fired, _ = both(negative(findings={"weight_loss": "present"}, patient={"age": 35}))
    assert "SPINE-WEIGHT-LOSS" not in fired


# --- item 5: focal motor deficit --------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        # objective foot drop: routine before
        negative(findings={"foot_drop": "present", "weakness": "present"}),
        # weak knee extension with a reduced knee jerk: routine before
        negative(
            findings={"weak_knee_extension": "present", "weakness": "present"},
            examination={"knee_reflex": "reduced", "strength": "reduced"},
        ),
        # dorsiflexion graded MRC 3 (no such input before; "reduced" strength was routine)
        negative(
            findings={"weakness": "present"},
            examination={"strength": "reduced", "power": {"ankle_dorsiflexion": 3}},
        ),
    ],
    ids=["foot-drop", "knee-extension-and-jerk", "mrc-3"],
)
def test_severe_or_objective_myotomal_deficit_is_urgent(data):
    """A myotomal deficit (foot drop, L3/L4 pattern, grade <= 3) is urgent without 'progressive'."""
    got, _, _ = both(data)
    assert Urgency.URGENT == got


def test_a_lower_grade_is_never_less_urgent():
    """MRC grades are monotone: each step down from 5 to 0 never lowers the urgency."""
    urgencies = [
        fasciculate.assess(negative(examination={"power": {"knee_extension": grade}})).urgency
        for grade in range(5, -1, -1)
    ]
    assert urgencies == sorted(urgencies)
    assert (Urgency.SELF_CARE, Urgency.ROUTINE, Urgency.URGENT) == (
        urgencies[0],
        urgencies[1],
        urgencies[2],
    )


def test_a_grade_outside_0_to_5_is_refused_by_the_cli():
    """A grade of 6 (or a bool) is a clear error naming the field, not a traceback."""
    data = negative(examination={"power": {"knee_extension": 6}})
    result = subprocess.run(
        [sys.executable, "-m", "fasciculate", "assess", "-"],
        input=json.dumps(data).encode(),
        capture_output=True,
        check=False,
    )
    assert 2 == result.returncode
    assert b"examination.power.knee_extension" in result.stderr
    assert b"Traceback" not in result.stderr


# --- item 6: contradictory answers ---------------------------------------------------------------


def test_foot_drop_with_weakness_answered_absent_is_a_reported_conflict():
    """Foot drop present, weakness absent: read as weakness and reported (routine before)."""
    data = negative(findings={"foot_drop": "present", "weakness": "absent"})
    got, fired, printed = both(data)
    assert Urgency.URGENT == got
    assert {"SEED-WEAKNESS", "RAD-FOOT-DROP"} <= fired
    conflicts = {(c["fact"], c["answered"], c["input"]) for c in printed["conflicts"]}
    assert ("weakness", "findings.weakness", "findings.foot_drop") in conflicts
    assert ("exam_weakness", "examination.strength", "findings.foot_drop") in conflicts


def test_joint_pain_with_pain_answered_absent_is_pain_and_a_conflict():
    """Joint pain present, pain absent: pain is read as present (self-care before)."""
    got, fired, printed = both(negative(findings={"joint_pain": "present", "pain": "absent"}))
    assert (Urgency.ROUTINE, True) == (got, "SEED-PAIN" in fired)
    assert [("pain", "DERIVE-JOINT-PAIN")] == [
        (c["fact"], c["derivation"]) for c in printed["conflicts"]
    ]


def test_no_conflict_without_a_contradiction():
    """Foot drop with weakness present is consistent: nothing is reported."""
    data = negative(findings={"foot_drop": "present", "weakness": "present"})
    data["examination"]["strength"] = "reduced"
    assert () == fasciculate.assess(data).conflicts


def test_conflicts_are_byte_identical_on_the_json_fast_path():
    """assess_json writes the conflicts exactly as assess().model_dump_json() does."""
    data = negative(
        findings={"foot_drop": "present", "weakness": "absent", "joint_pain": "present"},
        examination={"power": {"plantar_flexion": 4}},
    )
    typed = fasciculate.assess(data)
    assert len(typed.conflicts) >= 3
    assert typed.model_dump_json().encode() == fasciculate.assess_json(data)


# --- item 7: single MND features alone are routine ---------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        negative(findings={"daytime_sleepiness": "present"}),
        negative(findings={"morning_headache": "present"}),
        negative(examination={"knee_reflex": "brisk"}),
    ],
    ids=["daytime-sleepiness", "morning-headache", "one-brisk-knee-reflex"],
)
def test_single_mnd_feature_alone_is_routine(data):
    """Alone these were urgent in the first edition; the red-flag tool needs a companion."""
    got, _, _ = both(data)
    assert Urgency.ROUTINE == got


@pytest.mark.parametrize(
    "companion",
    [
        {"findings": {"weakness": "present"}},
        {"twitching": {"course": "worsening"}},
        {"findings": {"visible_wasting": "present"}},
        {"findings": {"slurred_speech": "present"}},
    ],
    ids=["weakness", "progression", "wasting", "bulbar"],
)
def test_single_mnd_feature_with_a_companion_is_urgent(companion):
    """With weakness, wasting, bulbar features or progression the same features are urgent."""
    for feature in (
        {"findings": {"daytime_sleepiness": "present"}},
        {"examination": {"knee_reflex": "brisk"}},
    ):
        data = negative(**feature)
        for key, value in companion.items():
            data[key] = {**data[key], **value}
        assert Urgency.URGENT == fasciculate.assess(data).urgency


# --- item 9: scope ----------------------------------------------------------------------------


def test_under_16_is_out_of_scope_never_self_care():
    """A negative screen at 15 was self-care; now routine with a cited out-of-scope rule."""
    got, fired, printed = both(negative(patient={"age": 15}))
    assert (Urgency.ROUTINE, {"OUT-OF-SCOPE-AGE"}) == (got, fired)
    (rule,) = printed["rules_fired"]
    assert "nice-ng127" == rule["source"]
    assert "NG127" in rule["rationale"]


def test_red_flags_still_fire_under_16():
    """Out of scope never hides an emergency."""
    data = negative(patient={"age": 12}, findings={"saddle_sensory_loss": "present"})
    assert Urgency.EMERGENCY == fasciculate.assess(data).urgency


def test_age_not_given_is_asked():
    """Without an age the screen is open: self-care needs an adult."""
    data = negative()
    del data["patient"]["age"]
    result = fasciculate.assess(data)
    assert Urgency.ROUTINE == result.urgency
    assert ["age_under_16"] == [question.fact for question in result.missing]


# --- item 10: inputs used by nothing, and new inputs -----------------------------------------


def test_abnormal_tsh_is_routine():
    """TSH 0.05 mU/L (thyrotoxicosis range) beside twitching needs review (no TSH input before)."""
    data = negative(labs=[{"analyte": "tsh", "value": 0.05, "unit": "mIU/L"}])
    got, fired, printed = both(data)
    assert (Urgency.ROUTINE, {"LAB-TSH-ABNORMAL"}) == (got, fired)
    assert "high" != printed["labs"][0]["flag"]


def test_family_history_of_mnd_lowers_the_threshold_only_as_an_extra_rule():
    """Subjective weakness with a family history of MND is urgent; without it, routine."""
    with_history = negative(findings={"family_history_mnd": "present", "weakness": "present"})
    without = negative(findings={"weakness": "present"})
    assert Urgency.URGENT == both(with_history)[0]
    assert Urgency.ROUTINE == fasciculate.assess(without).urgency


def test_statins_are_classed_from_the_name():
    """Atorvastatin given by name is read as a statin: it completes the rhabdomyolysis rule."""
    ck = fasciculate.knowledge_base().labs[Analyte.CREATINE_KINASE]
    labs = [{"analyte": "creatine_kinase", "value": 2 * ck.critical_high, "unit": ck.unit}]
    named = negative(medications=[{"name": "Atorvastatin 20 mg"}], labs=labs)
    fired = {rule.id: rule for rule in fasciculate.assess(named).rules_fired}
    rhabdomyolysis = fired["LAB-CK-RHABDOMYOLYSIS"]
    assert ("med_statin", "present") in {(fact.fact, fact.value) for fact in rhabdomyolysis.facts}
    unfired = {rule.id for rule in fasciculate.assess(negative(labs=labs)).rules_fired}
    assert "LAB-CK-RHABDOMYOLYSIS" not in unfired


def test_formerly_unused_inputs_are_used_by_the_differential():
    """thyroid_disease, peripheral_neuropathy and double_vision each move the differential."""
    for finding in ("thyroid_disease", "peripheral_neuropathy", "double_vision"):
        result = fasciculate.assess(negative(findings={finding: "present"}))
        used = {
            fact.fact
            for category in result.differential
            for item in (*category.supporting, *category.conflicting)
            for fact in item.facts
        }
        assert finding in used, finding


# --- item 8: problem-list Conditions and "new" findings ------------------------------------------


def _incontinence(recorded: str) -> dict[str, Any]:
    entry = condition(ICD10CM, "R32", "Urinary incontinence")
    del entry["resource"]["onsetDateTime"]
    entry["resource"]["recordedDate"] = recorded
    return bundle(patient(), entry)


def test_old_problem_list_incontinence_is_not_a_new_bladder_disturbance():
    """Recorded in 2019: the question stays open and the report says why (emergency before)."""
    reading = read_bundle(_incontinence("2019-03-01"), as_of=dt.date(2026, 12, 1))
    assert "bladder_dysfunction" not in reading.presentation.findings
    (skipped,) = [e for e in reading.report.skipped if e.resource_type == "Condition"]
    assert "14 days" in skipped.reason
    assert "girft-ces-2023" in skipped.reason
    assert Urgency.EMERGENCY != fasciculate.assess(reading.presentation).urgency


def test_recent_problem_list_incontinence_is_new():
    """Recorded last week: a new bladder disturbance, an emergency."""
    reading = read_bundle(_incontinence("2026-11-25"), as_of=dt.date(2026, 12, 1))
    assert Urgency.EMERGENCY == fasciculate.assess(reading.presentation).urgency


def test_orthopnoea_on_a_heart_failure_problem_list_is_not_read_as_new():
    """Orthopnoea since 2021 (heart failure) gives no emergency from the problem list (it did)."""
    entry = condition(ICD10CM, "R06.01", "Orthopnea")
    entry["resource"]["onsetDateTime"] = "2021-06-01"
    data = bundle(patient(), entry, condition(ICD10CM, "M62.81", "Muscle weakness (generalized)"))
    reading = read_bundle(data, as_of=dt.date(2026, 12, 1))
    assert "breathless_lying_flat" not in reading.presentation.findings
    assert Urgency.EMERGENCY != fasciculate.assess(reading.presentation).urgency


def test_old_problem_list_entry_through_the_cli(tmp_path):
    """Through the CLI the old entry is skipped (the summary counts it), and no emergency."""
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(_incontinence("2019-03-01")))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "fasciculate",
            "assess",
            "--fhir",
            str(path),
            "--as-of",
            "2026-12-01",
        ],
        capture_output=True,
        check=False,
        text=True,
    )
    assert 0 == result.returncode, result.stderr
    assert not result.stdout.startswith("URGENCY: EMERGENCY")
    assert "1 skipped (Condition 1)" in result.stdout


def test_problem_list_entry_without_a_date_leaves_the_question_open():
    """Without onsetDateTime or recordedDate nobody can tell the disturbance is new."""
    entry = condition(ICD10CM, "R15.9", "Full incontinence of feces")
    del entry["resource"]["onsetDateTime"]
    reading = read_bundle(bundle(patient(), entry), as_of=dt.date(2026, 12, 1))
    assert "bowel_dysfunction" not in reading.presentation.findings
    (skipped,) = [e for e in reading.report.skipped if e.resource_type == "Condition"]
    assert "cannot tell whether bowel_dysfunction is new" in skipped.reason


def _incontinence_beside_weakness(recorded: str) -> dict[str, Any]:
    """Incontinence recorded on *recorded*, and a muscle weakness Condition dated 2026-11-30."""
    weakness = condition(ICD10CM, "M62.81", "Muscle weakness (generalized)")
    weakness["resource"]["onsetDateTime"] = "2026-11-30"
    return bundle(*_incontinence(recorded)["entry"], weakness)


@pytest.mark.parametrize(
    ("recorded", "new"), [("2019-03-01", False), ("2026-11-25", True), ("2026-11-10", False)]
)
def test_problem_list_window_with_the_reference_date_defaulted(recorded, new):
    """Without as_of the reference date is the bundle's latest date (2026-11-30), known only once
    every entry is read: the window is decided then, as with as_of given."""
    reading = read_bundle(_incontinence_beside_weakness(recorded))
    assert dt.date(2026, 11, 30) == reading.report.as_of
    assert new == ("bladder_dysfunction" in reading.presentation.findings)
    urgency = fasciculate.assess(reading.presentation).urgency
    assert new == (Urgency.EMERGENCY == urgency)
    entries = (*reading.report.mapped, *reading.report.skipped)
    (incontinence,) = [e for e in entries if e.field == "findings.bladder_dysfunction"]
    if new:
        assert incontinence in reading.report.mapped
    else:
        assert "more than 14 days" in incontinence.reason
        assert "before 2026-11-30" in incontinence.reason

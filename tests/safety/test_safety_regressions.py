"""Regression tests for the safety bugs the symbolic proof found in the rule table.

Each presentation is a complete negative screen with one change; before the fix each was answered
self-care or below its specified urgency.
"""

from __future__ import annotations

from typing import Any

import pytest

import fasciculate
from _builders import negative
from fasciculate import Urgency

FOUND: list[tuple[str, dict[str, Any], Urgency]] = [
    # Orthopnoea is an unexplained respiratory feature (NICE NG42): was self-care when alone.
    ("orthopnoea alone", negative(findings={"breathless_lying_flat": "present"}), Urgency.URGENT),
    # Orthopnoea with limb weakness is an emergency (NG127), whatever form the weakness takes.
    (
        "orthopnoea with rapidly progressive single-limb weakness",
        negative(
            findings={"breathless_lying_flat": "present", "rapid_single_limb_weakness": "present"}
        ),
        Urgency.EMERGENCY,
    ),
    # Pain is a seed red flag; pain radiating down the leg is pain: was self-care.
    ("radiating leg pain", negative(findings={"radiating_leg_pain": "present"}), Urgency.ROUTINE),
    # Falls and trips are balance problems (seed red flag): was self-care without weakness.
    ("falls", negative(findings={"falls": "present"}), Urgency.ROUTINE),
    # Loss of dexterity is weakness noticed in use (seed red flag): was self-care.
    ("loss of dexterity", negative(findings={"loss_of_dexterity": "present"}), Urgency.ROUTINE),
    # Found after merging the differential's radicular findings: numbness over a dermatome was
    # self-care with "numbness" answered absent.
    *(
        (name, negative(findings={name: "present"}), Urgency.ROUTINE)
        for name in ("numbness_medial_leg", "numbness_lateral_leg")
    ),
    # Weakness of a named movement already counted as objective weakness; kept as a guard.
    *(
        (name, negative(findings={name: "present"}), Urgency.ROUTINE)
        for name in ("weak_knee_extension", "weak_plantar_flexion")
    ),
    # Second edition: foot drop is an objective myotomal deficit, urgent without "progressive"
    # (nhs-lothian-spine): was routine.
    ("foot_drop", negative(findings={"foot_drop": "present"}), Urgency.URGENT),
]


@pytest.mark.parametrize(("name", "data", "expected"), FOUND, ids=[case[0] for case in FOUND])
def test_found_bug_stays_fixed(name: str, data: dict[str, Any], expected: Urgency):
    """A presentation the first rule table under-escalated now gets its specified urgency."""
    assert expected == fasciculate.assess(data).urgency, name


def test_unanswered_orthopnoea_is_asked_when_the_presentation_calls_for_it():
    """With weakness (it indicates the respiratory follow-up), unanswered orthopnoea is asked.

    Orthopnoea with weakness is an emergency (NICE NG127), so it is asked first.
    """
    data = negative(findings={"weakness": "present"})
    del data["findings"]["breathless_lying_flat"]
    result = fasciculate.assess(data)
    assert Urgency.ROUTINE == result.urgency
    assert ("breathless_lying_flat", Urgency.EMERGENCY) == (
        result.missing[0].fact,
        result.missing[0].could_raise_to,
    )


def test_unanswered_orthopnoea_is_set_aside_without_weakness_wasting_or_progression():
    """On an otherwise negative screen the respiratory follow-up is not indicated (NICE NG42).

    The screen is complete (self-care), and the question is listed as not asked, with the
    indication that was not met; answered present, it still escalates (``FOUND`` above).
    """
    data = negative()
    del data["findings"]["breathless_lying_flat"]
    result = fasciculate.assess(data)
    assert Urgency.SELF_CARE == result.urgency
    assert [] == list(result.missing)
    [set_aside] = [item for item in result.not_asked if item.fact == "breathless_lying_flat"]
    assert ["IND-MND-RESPIRATORY"] == [indication.id for indication in set_aside.indications]


def test_unanswered_follow_up_questions_do_not_hold_the_screen_open():
    """Dermatome and myotome follow-ups are evidence when present, never demanded.

    Foot drop is asked once weakness is present (RAD-FOOT-DROP), so with weakness absent it is
    not needed either.
    """
    data = negative()
    del data["findings"]["foot_drop"]
    follow_ups = ("numbness_medial_leg", "numbness_lateral_leg", "weak_knee_extension")
    assert [] == [name for name in follow_ups if name in data["findings"]]
    assert Urgency.SELF_CARE == fasciculate.assess(data).urgency


def test_dermatome_numbness_is_cited_as_numbness_from_its_own_field():
    """The numbness rule cites the dermatome answer the clinician gave."""
    result = fasciculate.assess(negative(findings={"numbness_lateral_leg": "present"}))
    rule = next(rule for rule in result.rules_fired if rule.id == "SEED-NUMBNESS")
    assert [("numbness", "findings.numbness_lateral_leg")] == [
        (f.fact, f.input) for f in rule.facts
    ]

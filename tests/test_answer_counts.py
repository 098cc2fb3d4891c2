"""Answers to reach a decision (issue 14): never more than before, and few for a benign twitch.

``fasciculate.testing.answers_to_decide`` answers ``next_questions`` in order from a presentation;
with ``every_question_core`` it walks as before the focused screen. The exact figures per example
are printed by ``benchmarks/bench_answers.py`` (and the README's table).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import EXAMPLES
from fasciculate import Presentation, Urgency
from fasciculate.testing import answers_to_decide, negative_screens, presentations, red_flags

PRESENTATIONS = sorted((EXAMPLES / "presentations").glob("*.json"))


@pytest.mark.parametrize("path", PRESENTATIONS, ids=lambda path: path.stem)
def test_no_example_takes_more_answers_than_before(path):
    """From its presenting complaint, every example reaches its decision in no more answers."""
    before = answers_to_decide(path.read_bytes(), every_question_core=True)
    after = answers_to_decide(path.read_bytes())
    assert after.answers <= before.answers
    assert before.urgency == after.urgency
    assert len(set(after.asked)) == len(after.asked)  # each question asked once


def test_the_issue_example_reaches_self_care_in_thirteen_answers():
    """The 24-year-old with a calf twitch after a training plan: 13 answers (43 before).

    The 13 core questions. The example gives tingling as absent, which sets tetany and seizure
    aside; an interview from nothing asks tingling, the indicator, first (14 answers, the CLI
    reference's run).
    """
    path = EXAMPLES / "presentations" / "training-plan-calf.json"
    after = answers_to_decide(path.read_bytes())
    assert (13, Urgency.SELF_CARE) == (after.answers, after.urgency)
    assert 43 == answers_to_decide(path.read_bytes(), every_question_core=True).answers
    assert "saddle_sensory_loss" not in after.asked


@settings(max_examples=60)
@given(negative_screens())
def test_a_benign_twitch_reaches_self_care_in_about_a_dozen_answers(presentation: Presentation):
    """A recent, stable twitch around the knee with no red flag: self-care in 13 to 16 answers.

    The 13 core questions; the weight-loss question at 50 or over (a red flag for malignancy
    from that age, NICE CKS sciatica); tingling unless it is known (the paraesthesia of a low
    calcium or magnesium calls for the questions about tetany and seizures: one question "no"
    sets two aside), and those two when it is present or recorded as not known.
    """
    after = answers_to_decide(presentation)
    assert Urgency.SELF_CARE == after.urgency
    expected = 13 + ((presentation.patient.age or 0) >= 50)
    expected += {"absent": 0, "present": 2, "unknown": 2}.get(
        presentation.findings.get("tingling", ""), 1
    )
    assert expected == after.answers


@settings(max_examples=60)
@given(st.one_of(presentations(), presentations(complete=True), negative_screens(), red_flags()))
def test_no_generated_presentation_takes_more_answers_than_before(
    presentation: Presentation,
):
    """From the presenting complaint, the focused screen never needs more answers.

    An indicator is asked before the questions it calls for only when its "no" could set aside
    more questions than it takes to answer (``next_questions``), so a presentation where it does
    not is asked no more than before.
    """
    before = answers_to_decide(presentation, every_question_core=True)
    after = answers_to_decide(presentation)
    assert after.answers <= before.answers
    assert after.urgency == before.urgency or before.unanswerable

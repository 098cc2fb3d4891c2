"""Mutation testing of the knowledge base: the safety suite detects every harmful mutant.

A mutant is killed when the symbolic proof finds an assignment on which it breaks the
specification (answers below or above it, does not ask a question the specification calls for
that could raise the urgency, leaves an open screen at self-care, or fires a rule that its cited
facts do not justify). Each kill is confirmed on the real evaluator: an engine of the mutant's
knowledge base (``fasciculate.engine.Engine``) answers the counterexample exactly as the compiled
formulas say.

A few mutants change nothing a clinician would see in the urgency: they remove rules that
another rule always covers. They are listed in ``EQUIVALENT`` with the reason, and the test proves
that each one answers every assignment exactly as the packaged table does; a listed mutant that
starts to be killed, or one that survives unlisted, fails the test.
"""

from __future__ import annotations

import pytest

from _safety_report import record
from fasciculate import knowledge_base
from fasciculate.engine import Engine
from safety_mutants import ASKING_KINDS, Mutant, mutants
from safety_symbolic import Proof, Violation, concrete, describe, presentation_data, rank_of, timed

KB = knowledge_base()
MUTANTS = list(mutants(KB))
ORIGINAL = Proof.build(KB, None)

# Mutants that leave the urgency of every assignment unchanged, each with the reason.
_WASTING = (
    "SEED-WASTING has the same condition as MND-WASTING at a lower urgency: whenever it fires, "
    "MND-WASTING fires at urgent. Kept so the explanation cites the seed article's red flag."
)
_RADICULAR = (
    "RAD-PROGRESSIVE-DEFICIT needs progressive_weakness, which alone fires "
    "MND-PROGRESSIVE-WEAKNESS at the same urgency. Kept because it names the spinal pathway "
    "(radiculopathy with a progressive motor deficit) in the explanation."
)
_DEFICIENT = (
    "{rule} sits inside {wider} at the same urgency (deficient is below the lower limit, "
    "{limit}): whenever it fires, {wider} fires at routine. Kept so the explanation names the "
    "deficiency and its treatment threshold."
)
_VITAMIN_D = _DEFICIENT.format(
    rule="LAB-VITAMIN-D-DEFICIENT", wider="LAB-VITAMIN-D-LOW", limit="30 < 50 nmol/L"
)
_VITAMIN_B12 = _DEFICIENT.format(
    rule="LAB-VITAMIN-B12-DEFICIENT", wider="LAB-VITAMIN-B12-LOW", limit="180 < 350 ng/L"
)
EQUIVALENT: dict[str, str] = {
    "drop LAB-VITAMIN-D-DEFICIENT": _VITAMIN_D,
    "lower LAB-VITAMIN-D-DEFICIENT to self_care": _VITAMIN_D,
    "LAB-VITAMIN-D-DEFICIENT: vitamin_d_lowest < 30 (vitamin_d.deficient) -> 29": _VITAMIN_D,
    "drop LAB-VITAMIN-B12-DEFICIENT": _VITAMIN_B12,
    "lower LAB-VITAMIN-B12-DEFICIENT to self_care": _VITAMIN_B12,
    "LAB-VITAMIN-B12-DEFICIENT: vitamin_b12_lowest < 180 (vitamin_b12.deficient) -> 179": (
        _VITAMIN_B12
    ),
    "drop SEED-WASTING": _WASTING,
    "lower SEED-WASTING to self_care": _WASTING,
    "SEED-WASTING: drop term 'visible_wasting'": _WASTING,
    "SEED-WASTING: drop term 'exam_wasting'": _WASTING,
    "drop RAD-PROGRESSIVE-DEFICIT": _RADICULAR,
    "lower RAD-PROGRESSIVE-DEFICIT to routine": _RADICULAR,
    "RAD-PROGRESSIVE-DEFICIT: drop term 'back_pain'": _RADICULAR,
    "RAD-PROGRESSIVE-DEFICIT: drop term 'radiating_leg_pain'": _RADICULAR,
    "RAD-PROGRESSIVE-DEFICIT: drop term 'known_lumbar_radiculopathy'": _RADICULAR,
    "RAD-PROGRESSIVE-DEFICIT: drop term 'back_pain | radiating_leg_pain | "
    "known_lumbar_radiculopathy'": _RADICULAR,
}
# Derivations whose specific finding is an emergency on its own: the general fact they make present
# can raise nothing further. Kept for the conflict report (an answer contradicting them is shown to
# the clinician) and for the differential.
_EMERGENCY_ALONE = (
    "{} is an emergency on its own ({}), so the general fact it implies cannot raise the urgency; "
    "kept so that a contradicting answer is reported under `conflicts`."
)
EQUIVALENT.update(
    {
        "drop DERIVE-RAPID-SYMMETRIC-WEAKNESS": _EMERGENCY_ALONE.format(
            "rapid_symmetric_weakness", "NEURO-RAPID-SYMMETRIC-WEAKNESS"
        ),
        "drop DERIVE-SUDDEN-WEAKNESS": _EMERGENCY_ALONE.format(
            "sudden_weakness", "NEURO-SUDDEN-WEAKNESS"
        ),
        "drop DERIVE-BILATERAL-LEG-WEAKNESS": _EMERGENCY_ALONE.format(
            "bilateral_leg_weakness", "CES-BILATERAL-WEAKNESS"
        ),
        "drop DERIVE-SADDLE-NUMBNESS": _EMERGENCY_ALONE.format("saddle_sensory_loss", "CES-SADDLE"),
        "drop DERIVE-BILATERAL-SCIATICA": _EMERGENCY_ALONE.format(
            "bilateral_sciatica", "CES-BILATERAL-SCIATICA"
        ),
        "drop DERIVE-FOOT-DROP-EXAM-WEAKNESS": (
            "foot drop makes weakness present (DERIVE-FOOT-DROP-WEAKNESS), and with it "
            "RAD-FOOT-DROP fires at urgent, above every rule that reads exam_weakness alone at "
            "urgent or below. Kept so that a normal strength beside a foot drop is reported "
            "under `conflicts`."
        ),
    }
)


# Mutants of the focused screen that drop an indicator the specification does not call for: the
# knowledge base asks more than the sources require there. Each answers every assignment as the
# packaged table does, and asks every question the specification calls for.
_WALKING = (
    "difficulty walking is a seed red flag (SEED-WALKING): present, it makes the urgency at least "
    "routine whatever is asked, and the specification calls for the questions {} opens with leg "
    "weakness, back or leg pain, numbness or a feature of MND, not with difficulty walking alone. "
    "Kept: the knowledge base asks them of difficulty walking as well."
)
_TEMPO = (
    "how fast weakness came on: each of IND-WEAKNESS-TEMPO's questions is a kind of weakness, "
    "which the indication's own `weakness` indicator asks them with (answered or not); with "
    "weakness answered absent the specification does not call for them, and {} is a red flag on "
    "its own. Kept: the knowledge base asks them with {} too."
)
_CRITICAL_WORD = (
    "a laboratory's critical-low word (LL) is also low (L): the input cannot say one without the "
    "other, and IND-METABOLIC reads the low word too."
)
EQUIVALENT.update(
    {
        **{
            f"{indication}: drop indicator 'walking_difficulty'": _WALKING.format(indication)
            for indication in (
                "IND-CAUDA-EQUINA",
                "IND-WEAKNESS-TEMPO",
                "IND-MND-BULBAR",
                "IND-MND-RESPIRATORY",
            )
        },
        "IND-WEAKNESS-TEMPO: drop indicator 'visible_wasting'": _TEMPO.format(
            "visible wasting (MND-WASTING)", "wasting"
        ),
        "IND-WEAKNESS-TEMPO: drop indicator 'worsening'": _TEMPO.format(
            "a worsening course (SEED-WORSENING)", "a worsening course"
        ),
        "IND-MND-BULBAR: drop indicator 'region_tongue'": (
            "twitching of the tongue is tongue fasciculation, a bulbar feature that fires "
            "MND-BULBAR (urgent) on its own: the other bulbar questions fire the same rule and "
            "can raise nothing further."
        ),
        **{
            f"IND-METABOLIC: drop indicator '{analyte}_reported_critically_low'": _CRITICAL_WORD
            for analyte in (
                "potassium",
                "magnesium",
                "calcium_adjusted",
                "calcium_total",
                "calcium_ionised",
            )
        },
    }
)


def kill(proof: Proof, *, questions: bool = True) -> Violation | None:
    """The first property the mutant breaks (*questions*: whether what it asks can differ)."""
    checks = (
        proof.off_spec,
        *((proof.asks_less,) if questions else ()),
        proof.self_care_while_open,
        proof.unexplained,
        proof.any_unjustified,
        proof.not_monotone,
    )
    for check in checks:
        violation = check()
        if violation is not None:
            return violation
    return None


# Exhaustive: `make test` runs it in a second pytest run without coverage (tracing every line of
# these evaluations makes them about three times slower; the rest of the suite covers the code).
@pytest.mark.slow
@pytest.mark.exhaustive
@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda mutant: mutant.id)
def test_safety_suite_kills_the_mutant(mutant: Mutant):
    """The proof finds a counterexample, confirmed on the mutant's real evaluator."""
    proof = Proof.build(mutant.kb, None)
    # A mutant of the rule table leaves the indications as they are (the packaged ones are
    # proved to ask every question the specification calls for); the rest may not.
    violation, seconds = timed(lambda: kill(proof, questions=mutant.kind in ASKING_KINDS))
    if mutant.id in EQUIVALENT:
        assert violation is None, "an equivalent mutant is now killed: update EQUIVALENT"
        difference = proof.differs_from(ORIGINAL)
        record("kb mutants", mutant.kind, total=1, killed=0, equivalent=1, seconds=seconds)
        assert difference is None, describe(difference, None, mutant.kb)
        return
    record(
        "kb mutants",
        mutant.kind,
        total=1,
        killed=int(violation is not None),
        equivalent=0,
        seconds=seconds,
    )
    assert violation is not None, f"mutant survived: {mutant.id}"
    data = presentation_data(violation.levels, violation.quantities, kb=mutant.kb)
    real = Engine(kb=mutant.kb).assess(data).urgency.rank
    formulas = rank_of(
        proof.compiled.result.as_int(),
        concrete(proof.world, violation.levels, violation.quantities),
    )
    assert formulas == real, describe(violation, None, mutant.kb)


def test_there_are_mutants_of_every_kind():
    """The generator makes mutants of all nine kinds (four of them of the focused screen)."""
    kinds = {mutant.kind for mutant in MUTANTS}
    assert 9 == len(kinds)
    assert set(EQUIVALENT) <= {mutant.id for mutant in MUTANTS}

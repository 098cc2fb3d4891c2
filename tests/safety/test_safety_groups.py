"""Enumeration within clinical groups, through the real ``fasciculate.assess()``.

Every combination of present / absent / unknown within each group of related screening items
(3^k each), on a complete negative screen, is validated as a ``Presentation`` and assessed. Each
answer must equal the independent specification, be explained by a fired, cited rule, and agree
with the compiled z3 formulas of the symbolic proof (so the proof is about the code that runs).

The groups of the focused screen (issue 14) start instead from a *core-only* screen: the core
questions answered negative and nothing else, so every question the presentation does not answer
is unknown, and whether it holds the screen open depends on the indications the group varies.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import attrs
import pytest

import fasciculate
from _builders import SEED_RED_FLAGS, negative
from _safety_report import record
from fasciculate import Presentation, Urgency, knowledge_base
from safety_spec import UNKNOWN, screen_of, spec_of
from safety_symbolic import Proof, concrete, presentation_data, rank_of, timed
from safety_z3eval import fix, to_python

KB = knowledge_base()
PROOF = Proof.build(KB, None)


@attrs.frozen
class Group:
    """Related screening items, and optional laboratory results, enumerated together."""

    items: tuple[str, ...]
    labs: dict[str, tuple[float | None, ...]] = attrs.field(factory=dict)
    #: The levels each item takes: a laboratory's words are given or not, never unknown.
    levels: tuple[int, ...] = (0, 1, 2)
    #: The screen the group starts from: a complete negative screen, or only the core answered.
    base: str = "negative"


GROUPS = {
    "seed red flags": Group(
        (
            "weakness",
            "numbness",
            "pain",
            "visible_wasting",
            "walking_difficulty",
            "spreading",
            "daily_life_interference",
            "onset_after_injury",
            "worsening",
        )
    ),
    "cauda equina": Group(
        (
            "saddle_sensory_loss",
            "bladder_dysfunction",
            "bowel_dysfunction",
            "bilateral_sciatica",
            "bilateral_leg_weakness",
            "sexual_dysfunction",
            "anal_sphincter_laxity",
            "back_pain",
            "radiating_leg_pain",
        )
    ),
    "bulbar and respiratory": Group(
        (
            "slurred_speech",
            "swallowing_difficulty",
            "tongue_twitching",
            "breathless_on_exertion",
            "morning_headache",
            "daytime_sleepiness",
            "breathless_lying_flat",
            "breathless_at_rest",
            "weakness",
        )
    ),
    "motor neurone": Group(
        (
            "progressive_weakness",
            "rapid_single_limb_weakness",
            "rapid_symmetric_weakness",
            "sudden_weakness",
            "falls",
            "loss_of_dexterity",
            "exam_weakness",
            "babinski",
            "brisk_reflexes",
            "exam_wasting",
        )
    ),
    # Not measured, normal, low, at the critical limit (and critically high where one exists).
    "labs and tetany": Group(
        ("tetany", "seizure"),
        {
            "potassium": (None, 4.2, 3.1, 2.5, 6.5),
            "magnesium": (None, 0.85, 0.6, 0.4),
            "calcium_adjusted": (None, 2.4, 2.1, 1.8, 3.5),
            "calcium_ionised": (None, 1.2, 1.0, 0.8),
            "calcium_total": (None, 2.4, 2.0),
        },
    ),
    "vitamins": Group(
        ("tetany", "seizure"),
        {
            "vitamin_d": (None, 60.0, 50.0, 49.0, 30.0, 29.0),
            "vitamin_b12": (None, 400.0, 350.0, 349.0, 180.0, 179.0),
        },
    ),
    # Second edition: the high end of each electrolyte, at and either side of every band.
    "high electrolytes": Group(
        ("tetany",),
        {
            "potassium": (None, 5.3, 5.4, 5.9, 6.0, 6.4, 6.5),
            "magnesium": (None, 1.0, 1.01, 2.04, 2.05),
            "calcium_adjusted": (None, 2.6, 2.61, 3.0, 3.01, 3.4, 3.41),
            "calcium_ionised": (None, 1.32, 1.33),
        },
    ),
    "creatine kinase and total calcium": Group(
        ("strenuous_exercise", "dehydration", "dark_urine", "med_statin"),
        {
            "creatine_kinase": (None, 900.0, 4999.0, 5000.0, 20000.0),
            "calcium_total": (None, 1.622, 1.63, 2.6, 2.61, 3.01, 3.41),
        },
    ),
    "results in words": Group(
        (
            "potassium_reported_low",
            "potassium_reported_critically_low",
            "potassium_reported_high",
            "potassium_reported_critically_high",
            "creatine_kinase_reported_critically_high",
            "calcium_total_reported_critically_low",
            "ferritin_reported_low",
            "albumin_reported_critically_high",
            "strenuous_exercise",
        ),
        levels=(0, 2),
    ),
    # Second edition: spinal red flags, motor deficit, scope (nice-cg75, cks-sciatica, ...).
    "serious spinal pathology": Group(
        (
            "cancer_history",
            "fever",
            "iv_drug_use",
            "immunosuppression",
            "anticoagulation",
            "recent_spinal_procedure",
            "back_pain",
            "radiating_leg_pain",
            "weakness",
            "weight_loss",
        )
    ),
    # Named movements, their general questions and an MRC grade (not graded, 5, 4, 3, 0): the
    # implications and their contradictions.
    "motor deficit and contradictions": Group(
        (
            "foot_drop",
            "weak_knee_extension",
            "weak_plantar_flexion",
            "weakness",
            "exam_weakness",
            "reduced_knee_reflex",
            "joint_pain",
            "pain",
        ),
        {"power": (None, 5.0, 4.0, 3.0, 0.0)},
    ),
    "single MND features": Group(
        (
            "morning_headache",
            "daytime_sleepiness",
            "brisk_reflexes",
            "weakness",
            "worsening",
            "family_history_mnd",
            "visible_wasting",
            "babinski",
        )
    ),
    "scope and thyroid": Group(
        ("age_under_16", "weight_loss", "back_pain"),
        {"tsh": (None, 2.0, 0.39, 0.4, 4.0, 4.01)},
    ),
    # Issue 14, the focused screen, from a core-only screen (everything not answered unknown): the
    # indicators of the indications (back pain, leg pain, weakness, numbness, difficulty walking,
    # progression, wasting), reported, and objective weakness.
    "focused screen: indicators": Group(
        (
            "back_pain",
            "pain",
            "weakness",
            "numbness",
            "walking_difficulty",
            "worsening",
            "visible_wasting",
            "exam_weakness",
        ),
        base="core only",
    ),
    # The same screen: indicators beside the questions they open (the CES screen, the respiratory
    # follow-up, the examination, the infection red flags, tetany), each answered or not, and a
    # low potassium that calls for the questions about tetany.
    "focused screen: indicated questions": Group(
        (
            "back_pain",
            "weakness",
            "saddle_sensory_loss",
            "breathless_at_rest",
            "brisk_reflexes",
            "fever",
            "tetany",
        ),
        {"potassium": (None, 3.1)},
        base="core only",
    ),
}

# The fit young adult: ten days of calf twitching, every core question answered negative,
# nothing else asked.
CORE_ONLY: dict[str, Any] = {
    "patient": {"age": 24},
    "twitching": {"regions": ["calf"], "duration_days": 10, "course": "stable"},
    "findings": dict.fromkeys(SEED_RED_FLAGS, "absent"),
    "examination": {"strength": "normal", "wasting": "absent", "sensory_loss": "absent"},
}
BASES = {"negative": negative(), "core only": CORE_ONLY}


@attrs.frozen
class Base:
    """A starting screen: the presentation, and every item's level and quantity on it."""

    presentation: dict[str, Any]
    levels: dict[str, int]
    quantities: dict[str, float | None]


def _base(data: dict[str, Any]) -> Base:
    screen = screen_of(Presentation.model_validate(data))
    return Base(
        data,
        {name: screen.levels.get(name, UNKNOWN) for name in PROOF.world.items},
        {name: screen.quantities.get(name) for name in PROOF.world.quantity_names},
    )


BASE_SCREENS = {name: _base(data) for name, data in BASES.items()}


def combinations(group: Group) -> Iterator[tuple[dict[str, int], dict[str, float | None]]]:
    lab_names = list(group.labs)
    for levels in itertools.product(group.levels, repeat=len(group.items)):
        named = dict(zip(group.items, levels, strict=True))
        if named.get("reduced_knee_reflex") == 1 and named.get("brisk_reflexes", 0) == 0:
            continue  # an unexamined knee with brisk reflexes absent cannot be written down
        # (World.domain excludes it too).
        if any(  # a critical word is also out of range: LL is low (what the input can say)
            level == 2 and named.get(name.replace("critically_", ""), 2) != 2
            for name, level in named.items()
            if "_reported_critically_" in name
        ):
            continue
        for values in itertools.product(*(group.labs[name] for name in lab_names)):
            quantities: dict[str, float | None] = {}
            for name, value in zip(lab_names, values, strict=True):
                quantities[f"{name}_lowest"] = quantities[f"{name}_highest"] = value
            yield dict(zip(group.items, levels, strict=True)), quantities


def z3_values(levels: dict[str, int], quantities: dict[str, float | None]) -> dict[str, Any]:
    values: dict[str, Any] = dict(levels)
    for name, value in quantities.items():
        values[f"{name}_given"] = value is not None
        values[name] = Fraction(repr(float(value))) if value is not None else Fraction(0)
    return values


def fixed_pairs(group: Group) -> dict[Any, Any]:
    """Every variable outside the group, at its level on the group's starting screen."""
    base = BASE_SCREENS[group.base]
    varied_labs = {f"{name}_{end}" for name in group.labs for end in ("lowest", "highest")}
    varied_labs &= set(PROOF.world.quantity_names)
    everything = concrete(
        PROOF.world,
        {name: level for name, level in base.levels.items() if name not in group.items},
        {name: v for name, v in base.quantities.items() if name not in varied_labs},
    )
    varied = {PROOF.world.items[name] for name in group.items}
    for name in varied_labs:
        varied |= {PROOF.world.given[name], PROOF.world.value[name]}
    return {var: value for var, value in everything.items() if var not in varied}


def explanation_problems(result: fasciculate.Assessment) -> list[str]:
    """What is missing from the explanation of one assessment."""
    problems = []
    cited = {source.id for source in result.sources}
    if result.urgency > Urgency.SELF_CARE:
        top = [rule for rule in result.rules_fired if rule.urgency == result.urgency]
        if not top:
            problems.append("no fired rule at the answer's urgency")
        problems += [f"{rule.id} source not listed" for rule in top if rule.source not in cited]
    elif result.missing or result.rules_fired:
        problems.append("self-care with open questions or fired rules")
    return problems


# Exhaustive: `make test` runs it in a second pytest run without coverage (tracing every line of
# these evaluations makes them about three times slower; the rest of the suite covers the code).
@pytest.mark.slow
@pytest.mark.exhaustive
@pytest.mark.parametrize("name", sorted(GROUPS))
def test_every_combination_in_the_group(name: str):
    """Each combination: assess() == specification == z3 formulas, with a cited rule behind it."""
    group = GROUPS[name]
    pairs = fixed_pairs(group)
    table, _ = to_python(fix(PROOF.compiled.result.as_int(), pairs))
    spec, _ = to_python(fix(PROOF.spec.as_int(), pairs))

    def run() -> tuple[int, list[str]]:
        count, failures = 0, []
        for levels, quantities in combinations(group):
            count += 1
            data = presentation_data(levels, quantities, BASE_SCREENS[group.base].presentation, KB)
            presentation = Presentation.model_validate(data)
            result = fasciculate.assess(presentation)
            values = z3_values({**BASE_SCREENS[group.base].levels, **levels}, quantities)
            expected = spec_of(presentation)
            answers = (result.urgency.rank, expected.rank, table(values), spec(values))
            problems = explanation_problems(result)
            if len(set(answers)) != 1 or problems:
                failures.append(
                    f"{levels} {quantities}: assess/spec/z3/z3-spec {answers} {problems}"
                )
        return count, failures

    (count, failures), seconds = timed(run)
    record("enumeration", name, items=len(group.items), combinations=count, seconds=seconds)
    assert [] == failures[:5], f"{len(failures)} of {count} combinations disagree"


@pytest.mark.parametrize("name", sorted(GROUPS))
def test_python_form_of_the_formulas_matches_z3(name: str):
    """The fast Python form of the z3 terms equals z3's own evaluation on sampled combinations."""
    group = GROUPS[name]
    pairs = fixed_pairs(group)
    table, _ = to_python(fix(PROOF.compiled.result.as_int(), pairs))
    chooser = random.Random(name)  # noqa: S311 - a reproducible sample, not a secret
    population = list(combinations(group))
    sample = chooser.sample(population, min(100, len(population)))
    for levels, quantities in sample:
        base = BASE_SCREENS[group.base]
        full_levels = {**base.levels, **levels}
        full_quantities = {**base.quantities, **quantities}
        native = rank_of(
            PROOF.compiled.result.as_int(), concrete(PROOF.world, full_levels, full_quantities)
        )
        assert native == table(z3_values(full_levels, quantities))

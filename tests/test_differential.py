"""The differential: ranking, probabilities, evidence, restless legs, root level, triggers."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import fasciculate
from _builders import negative
from conftest import EXAMPLES
from fasciculate import Category, knowledge_base, testing
from fasciculate.conditions import FactAtom, atoms

KB = knowledge_base()
FINDINGS = sorted(fact.id for fact in KB.facts.values() if fact.kind == "finding")
TRI = st.sampled_from(["present", "absent", "unknown"])


def scores(data: dict[str, Any]) -> dict[Category, float]:
    return {c.category: c.score for c in fasciculate.assess(data).differential}


def top(data: dict[str, Any]) -> Category:
    return fasciculate.assess(data).differential[0].category


presentations = st.builds(
    lambda findings, age, duration, regions, caffeine, sleep: {
        "patient": {"age": age},
        "twitching": {"duration_days": duration, "regions": regions},
        "findings": findings,
        "exposures": {"caffeine_mg_per_day": caffeine, "sleep_hours": sleep},
    },
    st.dictionaries(st.sampled_from(FINDINGS), TRI, max_size=25),
    st.none() | st.integers(0, 100),
    st.none() | st.floats(0, 3650),
    st.lists(st.sampled_from([r.value for r in fasciculate.Region]), unique=True, max_size=4),
    st.none() | st.floats(0, 2000),
    st.none() | st.floats(0, 14),
)


def test_weights_point_one_way():
    """Each feature's present and absent weights do not share a sign (checked at load, too)."""
    for feature in KB.features:
        assert feature.present * feature.absent <= 0, feature.id


def test_every_feature_cites_a_source_and_every_category_has_features():
    """Every feature is cited; every category has features for and against it."""
    for feature in KB.features:
        assert feature.source in KB.sources
    for category in Category:
        weights = [f.present for f in KB.features if f.category == category]
        assert any(w > 0 for w in weights)
        assert any(w < 0 for w in weights) or any(
            f.absent < 0 for f in KB.features if f.category == category
        )


@given(presentations)
def test_probabilities_sum_to_one_and_are_deterministic(data):
    """The five probabilities sum to 1, are ranked, and the same input gives the same output.

    The categories of the most urgent urgent or emergency rules come first, the others follow;
    each group is ordered by probability. Each category's probability is the sum of its
    conditions'.
    """
    first, second = fasciculate.assess(data), fasciculate.assess(data)
    probabilities = [c.probability for c in first.differential]
    assert set(Category) == {c.category for c in first.differential}
    assert math.isclose(1.0, sum(probabilities), rel_tol=1e-9)
    top = {rule.category for rule in first.rules_fired if rule.urgency == first.urgency}
    referred = first.urgency >= fasciculate.Urgency.URGENT
    leading = [c.category in top for c in first.differential] if referred else [False] * 5
    assert leading == sorted(leading, reverse=True)
    count = sum(leading)
    for group in (probabilities[:count], probabilities[count:]):
        assert group == sorted(group, reverse=True)
    for category in first.differential:
        assert math.isclose(
            category.probability, sum(c.probability for c in category.conditions), rel_tol=1e-9
        )
        assert category.leading_condition == category.conditions[0].condition
    assert first.model_dump_json() == second.model_dump_json()


def _made_present(fact: str) -> set[str]:
    """*fact* and every fact it makes present (kb/derivations.toml: saddle numbness is numbness)."""
    found = {fact}
    for derivation in KB.derivations:
        when = derivation.when
        if isinstance(when, FactAtom) and when.name in found:
            found.add(derivation.sets)
    return found


def _towards_only(category: Category, fact: str) -> bool:
    present = _made_present(fact)
    mentions = [
        f
        for f in KB.features
        if f.category == category
        and present & {a.name for a in atoms(f.condition) if isinstance(a, FactAtom)}
    ]
    return bool(mentions) and all(f.present >= 0 >= f.absent for f in mentions)


TOWARDS = [
    (category, fact) for category in Category for fact in FINDINGS if _towards_only(category, fact)
]


@given(presentations, st.sampled_from(TOWARDS))
def test_adding_a_supporting_finding_never_lowers_its_category(data, pair):
    """Setting a finding that only points towards a category to present never lowers its score."""
    category, fact = pair
    before = scores(data)[category]
    data["findings"] = {**data["findings"], fact: "present"}
    assert scores(data)[category] >= before - 1e-12


def _resolves(document: dict[str, Any], path: str) -> bool:
    node: Any = document
    for part in path.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return False
    return node is not None


@given(presentations)
def test_every_cited_fact_comes_from_the_input(data):
    """Every fact cited by rules, evidence and triggers names a field of the input."""
    result = fasciculate.assess(data)
    cited = [fact for rule in result.rules_fired for fact in rule.facts]
    for category in result.differential:
        for item in (*category.supporting, *category.conflicting):
            cited += item.facts
    for trigger in result.triggers:
        cited += trigger.facts
    sent = json.loads(json.dumps(data))
    for fact in cited:
        assert _resolves(sent, fact.input), (fact.fact, fact.input)


def test_evidence_shows_absent_features_as_not_holding():
    """A feature decided by an absent finding is reported with holds = False."""
    result = fasciculate.assess(negative())
    radiculopathy = next(c for c in result.differential if c.category == "lumbar_radiculopathy")
    back = next(item for item in radiculopathy.conflicting if item.feature == "RAD-BACK-PAIN")
    assert (False, -0.5) == (back.holds, back.weight)
    assert [("back_pain", "absent", "findings.back_pain")] == [
        (fact.fact, fact.value, fact.input) for fact in back.facts
    ]


def test_serious_disease_is_flagged_must_not_miss_whatever_its_rank():
    """With one hard serious feature present the category is flagged even when it does not lead."""
    data = negative(
        findings={
            "urge_to_move": "present",
            "worse_at_rest": "present",
            "relieved_by_movement": "present",
            "worse_evening": "present",
        },
    )
    data["examination"]["strength"] = "reduced"
    result = fasciculate.assess(data)
    serious = next(c for c in result.differential if c.category == "serious_neurological")
    assert "routine" == result.urgency
    assert serious.rank > 1
    assert serious.must_not_miss
    assert ["SER-OBJECTIVE-WEAKNESS"] == [item.feature for item in serious.supporting]
    mnd = serious.conditions[0]
    assert ("motor_neurone_disease", True) == (mnd.condition, mnd.must_not_miss)


def test_age_alone_does_not_raise_the_must_not_miss_flag():
    """Age is context, not a feature of disease: it alone does not flag serious disease."""
    result = fasciculate.assess(negative(patient={"age": 60}))
    serious = next(c for c in result.differential if c.category == "serious_neurological")
    assert ["SER-AGE"] == [item.feature for item in serious.supporting]
    assert not serious.must_not_miss


RLS_ALL = {
    "urge_to_move": "present",
    "worse_at_rest": "present",
    "relieved_by_movement": "present",
    "worse_evening": "present",
    "leg_swelling": "absent",
    "joint_pain": "absent",
    "positional_discomfort": "absent",
    "habitual_foot_tapping": "absent",
    "cramps": "absent",
}


def test_restless_legs_criteria_reported_one_by_one():
    """All five IRLSSG criteria met gives all_met = met; one unknown makes it unknown."""
    result = fasciculate.assess(negative(findings=RLS_ALL))
    assert ["met"] * 5 == [c.status for c in result.restless_legs.criteria]
    assert "met" == result.restless_legs.all_met
    partial = {**RLS_ALL}
    del partial["worse_evening"]
    result = fasciculate.assess(negative(findings=partial))
    assert ["met", "met", "met", "unknown", "met"] == [
        c.status for c in result.restless_legs.criteria
    ]
    assert "unknown" == result.restless_legs.all_met


def test_a_mimic_leaves_criterion_five_to_judgement():
    """A present mimic (leg cramps) makes criterion 5 'needs judgement' (IRLSSG: not *solely*
    accounted for), never 'not met', and it names the mimic."""
    result = fasciculate.assess(negative(findings={**RLS_ALL, "cramps": "present"}))
    fifth = result.restless_legs.criteria[4]
    assert ("needs_judgement", ["cramps"]) == (fifth.status, [fact.fact for fact in fifth.facts])
    assert "needs_judgement" == result.restless_legs.all_met
    undecided = {**RLS_ALL, "cramps": "present"}
    del undecided["worse_evening"]
    assert "unknown" == fasciculate.assess(negative(findings=undecided)).restless_legs.all_met


def test_weights_and_criteria_agree_on_the_mimics():
    """The RLS-MIMIC weight reads exactly criterion 5's list of mimics."""
    mimic = next(f for f in KB.features if f.id == "RLS-MIMIC")
    fifth = next(c for c in KB.rls_criteria if c.number == 5)
    assert (fifth.when, fifth.condition) == (mimic.when, mimic.condition)
    assert fifth.mimics


def test_restless_legs_secondary_causes():
    """Low ferritin, pregnancy and an SSRI are reported as secondary causes."""
    data = negative(
        findings={**RLS_ALL, "pregnancy": "present"},
        labs=[{"analyte": "ferritin", "value": 40, "unit": "ng/mL"}],
        medications=[{"name": "Sertraline 50 mg tablet"}],
    )
    result = fasciculate.assess(data)
    assert ["RLS-IRON", "RLS-SECONDARY", "RLS-MEDICATION"] == [
        item.feature for item in result.restless_legs.secondary_causes
    ]
    assert "restless_legs_syndrome" == result.differential[0].category


@pytest.mark.parametrize(
    ("changes", "level"),
    [
        (
            {"findings": {"weak_knee_extension": "present", "numbness_medial_leg": "present"}},
            "L3/L4",
        ),
        ({"findings": {"foot_drop": "present", "numbness_lateral_leg": "present"}}, "L5"),
        (
            {
                "findings": {"weak_plantar_flexion": "present"},
                "examination": {"ankle_reflex": "reduced"},
            },
            "S1",
        ),
        ({"findings": {"foot_drop": "present"}}, None),
        (
            {
                "findings": {
                    "foot_drop": "present",
                    "numbness_lateral_leg": "present",
                    "weak_plantar_flexion": "present",
                },
                "examination": {"ankle_reflex": "reduced"},
            },
            None,
        ),
    ],
)
def test_root_level_when_the_pattern_allows(changes, level):
    """A level is named with two or more of its features and more than any other level."""
    assert level == fasciculate.assess(negative(**changes)).root_level.level


@pytest.mark.parametrize(
    ("exposures", "fires"),
    [
        ({"caffeine_mg_per_day": 401}, True),
        ({"caffeine_mg_per_day": 400}, False),
        ({"sleep_hours": 6.9}, True),
        ({"sleep_hours": 7}, False),
    ],
)
def test_trigger_thresholds(exposures, fires):
    """Caffeine over 400 mg/day and sleep under 7 h are triggers; the limits themselves are not."""
    result = fasciculate.assess(negative(exposures=exposures))
    found = {t.id for t in result.triggers}
    assert fires == bool(found & {"TRG-CAFFEINE", "TRG-SLEEP"})


def test_trigger_names_fact_and_threshold_and_ties_advice():
    """A trigger carries the value and the comparison it crossed, and its advice is given."""
    result = fasciculate.assess(negative(exposures={"caffeine_mg_per_day": 650}))
    (trigger,) = result.triggers
    fact = trigger.facts[0]
    assert ("650 mg/d", "caffeine_mg_per_day > 400 (caffeine_mg_per_day)") == (
        fact.value,
        fact.condition,
    )
    tied = [a for a in result.advice if a.triggers]
    assert [("reduce_stimulants", ("TRG-CAFFEINE",))] == [(a.id, a.triggers) for a in tied]


def test_medication_class_from_name():
    """A medication given only by name is classed from the name table (furosemide: loop)."""
    result = fasciculate.assess(negative(medications=[{"name": "Furosemide 40 MG Oral Tablet"}]))
    assert ["MET-MEDICATION"] == [t.id for t in result.triggers]


def test_advice_always_has_general_measures_and_safety_net():
    """General measures and the safety net come with every assessment."""
    result = fasciculate.assess(negative())
    assert {"stretching", "warm_compresses"} <= {a.id for a in result.advice}
    assert any("at least 14 days" in line for line in result.safety_net)
    assert any("muscle weakness" in line for line in result.safety_net)


def test_general_measures_are_not_offered_with_an_urgent_referral():
    """Stretching and warm compresses are left out when the referral is urgent or an emergency."""
    result = fasciculate.assess(negative(findings={"slurred_speech": "present"}))
    assert "urgent" == result.urgency
    assert set() == {a.id for a in result.advice} & {"stretching", "warm_compresses"}
    assert result.safety_net


def test_undecided_criteria_cite_no_facts():
    """A criterion that is unknown cites nothing, since nothing in the input decides it."""
    result = fasciculate.assess({})
    assert [("unknown", ())] * 5 == [(c.status, c.facts) for c in result.restless_legs.criteria]


@pytest.mark.parametrize(
    ("name", "counts", "facts"),
    [
        (
            "l4-radiculopathy",
            {"L3/L4": 2, "L5": 0, "S1": 0},
            [
                ("reduced_knee_reflex", "examination.knee_reflex"),
                ("region_anterior_thigh", "twitching.regions"),
                ("region_knee", "twitching.regions"),
            ],
        ),
        (
            "s1-radiculopathy",
            {"L3/L4": 0, "L5": 0, "S1": 3},
            [
                ("weak_plantar_flexion", "findings.weak_plantar_flexion"),
                ("reduced_ankle_reflex", "examination.ankle_reflex"),
                ("region_calf", "twitching.regions"),
            ],
        ),
    ],
)
def test_root_level_cites_the_facts_of_its_pattern(name, counts, facts):
    """The likely root level lists exactly the present facts that point to it, with their fields."""
    document = (EXAMPLES / "presentations" / f"{name}.json").read_bytes()
    root = fasciculate.assess(document).root_level
    assert counts == root.counts
    assert facts == [(item.fact, item.input) for item in root.facts]
    assert all("present" == item.value for item in root.facts)


@given(testing.presentations() | testing.presentations(complete=True))
@example(fasciculate.Presentation())  # nothing decided: only the rules' own sources
def test_sources_are_exactly_those_cited_by_the_parts(presentation):
    """`sources` lists every source a part of the assessment cites, and no other."""
    result = fasciculate.assess(presentation)
    items = [
        *(item for category in result.differential for item in category.supporting),
        *(item for category in result.differential for item in category.conflicting),
    ]
    cited = {
        *(rule.source for rule in result.rules_fired),
        *(item.source for item in items),
        *(advice.source for advice in result.advice),
        *(lab.source for lab in result.labs),
    }
    assert sorted(cited) == [source.id for source in result.sources]


def test_a_quantity_known_not_to_hold_is_cited_with_its_negated_comparison():
    """Evidence against a feature shows the comparison that failed, prefixed with "not"."""
    result = fasciculate.assess({"patient": {"age": 30}, "twitching": {"duration_days": 3}})
    shown = {
        (item.feature, item.holds, fact.condition)
        for category in result.differential
        for item in (*category.supporting, *category.conflicting)
        for fact in item.facts
        if fact.condition
    }
    assert ("BFS-PERSISTENT", False, "not duration_days >= 14 (persistent_days)") in shown
    assert ("SER-YOUNG", True, "age < 40") in shown


@given(testing.presentations() | testing.presentations(complete=True))
def test_supporting_evidence_adds_and_conflicting_evidence_subtracts(presentation):
    """Every supporting item has a positive weight, every conflicting one a negative weight."""
    for category in fasciculate.assess(presentation).differential:
        assert all(item.weight > 0 for item in category.supporting)
        assert all(item.weight < 0 for item in category.conflicting)

"""Integrity of the knowledge base tables, checked against the figures of the cited sources."""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from typing import Any

import pytest

import fasciculate
from _builders import SCREEN
from fasciculate import Analyte, KnowledgeBaseError, LabResult, Urgency, knowledge_base
from fasciculate._kb_differential import differential_tables, rule_category
from fasciculate.conditions import CompareAtom, FactAtom, Quantity, atoms, parse

KB = knowledge_base()


def test_every_entry_cites_a_known_source():
    """Rules, thresholds and lab ranges all cite a source of the bibliography."""
    cited = {rule.source for rule in KB.rules} | {t.source for t in KB.thresholds.values()}
    cited |= {lab.range_source for lab in KB.labs.values()}
    cited |= {lab.critical_source for lab in KB.labs.values() if lab.critical_source}
    assert cited <= set(KB.sources)


def test_expert_estimates_are_marked():
    """The one source that is not published is flagged as an expert estimate."""
    assert [s.id for s in KB.sources.values() if s.expert_estimate] == ["expert-estimate"]
    assert KB.thresholds["persistent_days"].source == "expert-estimate"


def test_every_screening_item_is_used_by_a_rule():
    """Every red flag of the seed article and the guidelines appears in some rule's condition."""
    used = {
        atom.name
        for rule in KB.rules
        for atom in atoms(rule.condition)
        if isinstance(atom, FactAtom)
    }
    assert set(SCREEN) - {"back_pain", "radiating_leg_pain", "known_lumbar_radiculopathy"} <= used


def test_every_derivation_is_cited_and_sets_a_fact_the_rules_read():
    """Each implication between facts cites a source and makes present a fact some rule uses."""
    used = {a.name for rule in KB.rules for a in atoms(rule.condition) if isinstance(a, FactAtom)}
    assert [] == [d.id for d in KB.derivations if d.source not in KB.sources]
    assert [] == [d.id for d in KB.derivations if d.sets not in used]
    assert len({d.id for d in KB.derivations}) == len(KB.derivations)


def test_every_rule_raises_urgency_and_has_rationale():
    """No rule sets self_care; each has a title and a rationale."""
    for rule in KB.rules:
        assert rule.urgency > Urgency.SELF_CARE
        assert rule.title
        assert len(rule.rationale) > 20


# Critical limits and ranges as the sources state them (mmol/L unless noted): rcpath-2017,
# uk-lab-consensus, uk-nos-2013, nice-ng239, irlssg-2018.
CLINICAL_LIMITS = {
    Analyte.POTASSIUM: {"lower": 3.5, "upper": 5.3, "critical_low": 2.5, "critical_high": 6.5},
    # Section 10: 5.0 mg/dL on US lists, 2.05 mmol/L so that 5.0 mg/dL (2.057) itself is critical.
    Analyte.MAGNESIUM: {"lower": 0.70, "upper": 1.00, "critical_low": 0.4, "critical_high": 2.05},
    # Section 10: 6.5 mg/dL, 1.622 mmol/L so that 6.5 mg/dL (1.6218) itself is critical.
    Analyte.CALCIUM_TOTAL: {"lower": 2.20, "upper": 2.60, "critical_low": 1.622},
    Analyte.CREATINE_KINASE: {"critical_high": 5000.0},
    Analyte.CALCIUM_ADJUSTED: {"lower": 2.20, "upper": 2.60, "critical_low": 1.8},
    Analyte.CALCIUM_IONISED: {"lower": 1.16, "upper": 1.32, "critical_low": 0.80},
    Analyte.VITAMIN_D: {"deficient": 30.0, "lower": 50.0},
    Analyte.VITAMIN_B12: {"deficient": 180.0, "lower": 350.0},
}


@pytest.mark.parametrize("analyte", sorted(CLINICAL_LIMITS))
def test_limits_match_the_sources(analyte: Analyte):
    """Reference ranges and critical limits equal the figures of the cited sources."""
    limits = KB.labs[analyte].limits()
    for name, value in CLINICAL_LIMITS[analyte].items():
        assert value == limits[name]


# Conversions by molar mass and valence: (analyte, value, unit) -> value in the canonical unit.
CONVERSIONS = [
    (Analyte.MAGNESIUM, 2.431, "mg/dL", 1.0),
    (Analyte.MAGNESIUM, 2.0, "meq/L", 1.0),
    (Analyte.CALCIUM_ADJUSTED, 4.008, "mg/dL", 1.0),
    (Analyte.CALCIUM_IONISED, 4.008, "mg/dL", 1.0),
    (Analyte.VITAMIN_D, 10.0, "ng/mL", 24.96),
    (Analyte.VITAMIN_B12, 73.78, "pmol/L", 100.0),
    (Analyte.VITAMIN_B12, 200.0, "pg/mL", 200.0),
    (Analyte.FERRITIN, 40.0, "ng/mL", 40.0),
    (Analyte.POTASSIUM, 3.0, "mEq/L", 3.0),
]


@pytest.mark.parametrize(("analyte", "value", "unit", "si"), CONVERSIONS)
def test_unit_conversion_matches_molar_masses(analyte, value, unit, si):
    """Each conversion factor reproduces the molar-mass formula (Mg 24.31, Ca 40.08 g/mol...)."""
    result = LabResult(analyte=analyte, value=value, unit=unit)
    assert si == pytest.approx(result.si_value, rel=1e-9)


def test_loinc_codes_are_unique_across_analytes():
    """A LOINC code maps to one analyte only (uncorrected calcium is never read as adjusted)."""
    codes = [code for lab in KB.labs.values() for code in lab.loinc]
    assert len(codes) == len(set(codes))
    assert "49765-1" in KB.labs[Analyte.CALCIUM_TOTAL].loinc
    assert "6298-4" in KB.labs[Analyte.POTASSIUM].loinc


def test_quantities_are_only_compared_in_their_worse_direction():
    """Every comparison in the rule table points the way that makes values worse."""
    for rule in KB.rules:
        for atom in atoms(rule.condition):
            if isinstance(atom, CompareAtom):
                upward = atom.op in {">=", ">"}
                assert upward == (KB.quantities[atom.quantity].worse == "higher"), rule.id


def test_sha256_is_stable_within_a_process():
    """The fingerprint is a 64-hex-digit SHA-256 and the loader is cached."""
    assert knowledge_base() is KB
    assert len(KB.sha256) == 64
    int(KB.sha256, 16)


GRAMMAR = {
    "duration_days": Quantity("duration_days", "higher"),
    "k_lowest": Quantity("k_lowest", "lower"),
}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("duration_days <= 3", "would let a worse value lower urgency"),
        ("k_lowest >= 2", "would let a worse value lower urgency"),
        ("nonsense", "unknown fact"),
        ("weakness & (pain", "ends too early"),
        ("weakness pain", "unexpected"),
        ("weakness & ! pain", "cannot read"),
        ("volume >= 3", "unknown quantity"),
        ("duration_days >= @nope", "unknown threshold"),
        ("duration_days >= weakness", "expected a number"),
    ],
)
def test_parser_rejects_bad_conditions(text: str, message: str):
    """Unsafe or malformed conditions are rejected when the knowledge base loads."""
    with pytest.raises(KnowledgeBaseError, match=message.replace("(", r"\(")):
        parse(
            text, facts=frozenset({"weakness", "pain"}), quantities=GRAMMAR, thresholds={"t": 1.0}
        )


def test_parser_reads_precedence_and_thresholds():
    """`&` binds tighter than `|`, and @names resolve to their values."""
    condition = parse(
        "weakness | pain & duration_days >= @t",
        facts=frozenset({"weakness", "pain"}),
        quantities=GRAMMAR,
        thresholds={"t": 14.0},
    )
    assert "weakness | pain & duration_days >= 14 (t)" == condition.render()


@pytest.mark.parametrize(
    ("analyte", "value", "unit", "flag"),
    [
        (Analyte.POTASSIUM, 2.5, "mmol/L", "critical_low"),
        (Analyte.POTASSIUM, 2.51, "mmol/L", "low"),
        (Analyte.POTASSIUM, 3.5, "mmol/L", "normal"),
        (Analyte.POTASSIUM, 5.4, "mmol/L", "high"),
        (Analyte.POTASSIUM, 6.5, "mmol/L", "critical_high"),
        (Analyte.MAGNESIUM, 1.0, "mg/dL", "low"),
        (Analyte.MAGNESIUM, 0.97, "mg/dL", "critical_low"),
        (Analyte.CALCIUM_ADJUSTED, 7.2, "mg/dL", "critical_low"),
        (Analyte.VITAMIN_D, 11.0, "ng/mL", "deficient"),
        (Analyte.VITAMIN_D, 16.0, "ng/mL", "low"),
        (Analyte.VITAMIN_D, 30.0, "ng/mL", "normal"),
        (Analyte.VITAMIN_B12, 150.0, "pg/mL", "deficient"),
        (Analyte.FERRITIN, 74.0, "ng/mL", "not_classified"),
        (Analyte.CREATINE_KINASE, 900.0, "U/L", "not_classified"),
        (Analyte.CREATINE_KINASE, 5000.0, "U/L", "critical_high"),
        (Analyte.CALCIUM_TOTAL, 6.5, "mg/dL", "critical_low"),
        (Analyte.CALCIUM_TOTAL, 6.6, "mg/dL", "low"),
        (Analyte.MAGNESIUM, 5.0, "mg/dL", "critical_high"),
        (Analyte.MAGNESIUM, 4.9, "mg/dL", "high"),
        (Analyte.ALBUMIN, 3.5, "g/dL", "not_classified"),
    ],
)
def test_lab_results_are_classified_after_conversion(analyte, value, unit, flag):
    """Each result is converted to SI, then flagged against the limits (critical inclusive)."""
    result = fasciculate.assess({"labs": [{"analyte": analyte, "value": value, "unit": unit}]})
    (lab,) = result.labs
    assert (flag, "labs.0") == (lab.flag, lab.input)


# --- the differential's tables and the categories the rules declare (issue 13) -------------------


def _tables() -> dict[str, dict[str, Any]]:
    """The packaged tables that the differential loader reads, parsed afresh (to alter)."""
    names = ("sources.toml", "differential.toml", "advice.toml", "medications.toml")
    kb = resources.files("fasciculate").joinpath("kb")
    return {name: tomllib.loads(kb.joinpath(name).read_text("utf-8")) for name in names}


def _load(data: dict[str, dict[str, Any]]) -> dict[str, Any]:
    facts = frozenset(KB.facts)
    grammar = {key: Quantity(key, q.worse) for key, q in KB.quantities.items()}
    named = {key: row.value for key, row in KB.thresholds.items()}
    for lab in KB.labs.values():
        named.update({f"{lab.analyte}.{key}": value for key, value in lab.limits().items()})
    return differential_tables(data, facts, grammar, named, KB.sources)


def test_every_rule_declares_the_category_it_argues_for():
    """Each rule names a category, and any condition it names belongs to that category."""
    for rule in KB.rules:
        assert rule.category in set(fasciculate.Category)
        if rule.condition_id is not None:
            assert KB.conditions[rule.condition_id].category == rule.category
    urgent = [rule for rule in KB.rules if rule.urgency >= Urgency.URGENT]
    assert all(rule.condition_id for rule in urgent)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({}, "has no `category`: add the differential category it argues for"),
        ({"category": "gout"}, "unknown category 'gout'; use one of"),
        (
            {"category": "everyday_triggers", "condition": "cauda_equina"},
            "condition 'cauda_equina' is not a condition of category",
        ),
    ],
)
def test_a_rule_without_a_valid_category_is_rejected_clearly(row, message):
    """A rule added without `category` (or with a wrong one) fails to load, saying how to fix it."""
    with pytest.raises(KnowledgeBaseError, match=re.escape(message)) as caught:
        rule_category({"id": "NEW-RULE", **row}, KB.conditions)
    assert "rule NEW-RULE in rules.toml" in str(caught.value)


def test_the_packaged_differential_tables_load_as_the_knowledge_base_holds_them():
    """The loader, run on the packaged tables, gives the knowledge base's own features."""
    assert KB.features == _load(_tables())["features"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda row: row.pop("magnitude"), "has no `magnitude`"),
        (lambda row: row.update(condition="gout"), "`condition` must name a condition"),
        (lambda row: row.update(criterion=5), "give either `when` or `criterion`"),
        (lambda row: row.update(magnitude="nowhere"), "cites unknown source 'nowhere'"),
        (lambda row: row.update(hard=True, present=-1.0), "a hard feature must point towards"),
    ],
)
def test_a_feature_must_say_where_its_weight_comes_from(change, message):
    """Every feature names its condition and the source of its weight's size."""
    data = _tables()
    change(data["differential.toml"]["feature"][0])
    with pytest.raises(KnowledgeBaseError, match=re.escape(message)):
        _load(data)


def test_weights_of_features_are_all_expert_estimates_today():
    """No source gives a likelihood ratio for twitching: every magnitude is an expert estimate."""
    assert {"expert-estimate"} == {feature.magnitude for feature in KB.features}
    hard = {f.id for f in KB.features if f.hard}
    assert {"SER-MULTI-REGION", "SER-FALLS-DEXTERITY", "SER-AGE", "SER-WEIGHT-LOSS"}.isdisjoint(
        hard
    )
    assert all(KB.conditions[f.condition_id].must_not_miss for f in KB.features if f.hard)

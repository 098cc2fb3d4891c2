"""Integrity of the knowledge base tables, checked against the clinical pack's figures."""

from __future__ import annotations

import pytest

import fasciculate
from _builders import SCREEN
from fasciculate import Analyte, KnowledgeBaseError, LabResult, Urgency
from fasciculate._conditions import CompareAtom, FactAtom, Quantity, atoms, parse
from fasciculate._kb import knowledge_base

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
    """Every red flag of CLINICAL.md sections 3-4 appears in some rule's condition."""
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


# Critical limits and ranges as CLINICAL.md section 4 and 6 state them (mmol/L unless noted).
CLINICAL_LIMITS = {
    Analyte.POTASSIUM: {"lower": 3.5, "upper": 5.3, "critical_low": 2.5},
    Analyte.MAGNESIUM: {"lower": 0.70, "upper": 1.00, "critical_low": 0.4},
    Analyte.CALCIUM_ADJUSTED: {"lower": 2.20, "upper": 2.60, "critical_low": 1.8},
    Analyte.CALCIUM_IONISED: {"lower": 1.16, "upper": 1.32, "critical_low": 0.80},
    Analyte.VITAMIN_D: {"deficient": 30.0, "lower": 50.0},
    Analyte.VITAMIN_B12: {"deficient": 180.0, "lower": 350.0},
    Analyte.FERRITIN: {"lower": 75.0},
}


@pytest.mark.parametrize("analyte", sorted(CLINICAL_LIMITS))
def test_limits_match_the_clinical_pack(analyte: Analyte):
    """Reference ranges and critical limits equal the figures in CLINICAL.md."""
    limits = KB.labs[analyte].limits()
    for name, value in CLINICAL_LIMITS[analyte].items():
        assert value == limits[name]


# Conversions from CLINICAL.md section 6: (analyte, value, unit) -> value in the canonical unit.
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
def test_unit_conversion_matches_the_clinical_pack(analyte, value, unit, si):
    """Each conversion factor reproduces CLINICAL.md's formula."""
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
        (Analyte.FERRITIN, 75.0, "ng/mL", "normal"),
        (Analyte.FERRITIN, 74.0, "ng/mL", "low"),
        (Analyte.CREATINE_KINASE, 900.0, "U/L", "not_classified"),
    ],
)
def test_lab_results_are_classified_after_conversion(analyte, value, unit, flag):
    """Each result is converted to SI, then flagged against the limits (critical inclusive)."""
    result = fasciculate.assess({"labs": [{"analyte": analyte, "value": value, "unit": unit}]})
    (lab,) = result.labs
    assert (flag, "labs.0") == (lab.flag, lab.input)

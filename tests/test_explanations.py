"""The explanation an assessment gives is faithful to the knowledge base and to the input."""

from __future__ import annotations

from hypothesis import given

import fasciculate
from fasciculate import Presentation, Urgency, knowledge_base
from fasciculate.conditions import CompareAtom, FactAtom, atoms, evaluate
from fasciculate.engine import Engine
from fasciculate.testing import presentations

KB = knowledge_base()
ENGINE = Engine(kb=KB)
RULES = {rule.id: rule for rule in (*KB.rules, KB.screen_incomplete)}
ORDER = {fact: order for order, fact in enumerate([*KB.facts, *KB.quantities])}


@given(presentations())
def test_fired_rules_carry_their_table_row_and_exact_evidence(presentation: Presentation):
    """Each fired rule repeats its table row; each fact shows its label, value and comparison."""
    result = fasciculate.assess(presentation)
    for fired in result.rules_fired:
        rule = RULES[fired.id]
        row = (rule.urgency, rule.title, rule.rationale, rule.source)
        assert row == (fired.urgency, fired.title, fired.rationale, fired.source)
        compares = {a.quantity: a for a in atoms(rule.condition) if isinstance(a, CompareAtom)}
        for fact in fired.facts:
            if fact.fact in KB.facts:
                assert (KB.facts[fact.fact].label, "present", None) == (
                    fact.label,
                    fact.value,
                    fact.condition,
                )
            else:
                quantity = KB.quantities[fact.fact]
                assert quantity.label == fact.label
                assert fact.value.endswith(f" {quantity.unit}")
                assert compares[fact.fact].holds(float(fact.value.split(" ")[0]))
                assert fact.condition is not None
                assert fact.condition.startswith(f"{fact.fact} ")
    ranks = [fired.urgency.rank for fired in result.rules_fired]
    assert sorted(ranks, reverse=True) == ranks


def _order_key(
    presentation: Presentation, result: fasciculate.Assessment, question: fasciculate.OpenQuestion
) -> tuple[int, int, int]:
    """The order of the open questions, as the issue states it, computed from the tables.

    First the highest urgency the answer bears on (its own, or that of the open or set-aside
    questions of an undecided indication it is an indicator of); then how many undecided
    indications it could decide; then the knowledge base's order.
    """
    facts = ENGINE.facts(presentation)

    def level(atom: object) -> int:
        if isinstance(atom, FactAtom):
            return facts.levels[atom.name]
        assert isinstance(atom, CompareAtom)
        value = facts.quantities[atom.quantity]
        if value is None:
            return 1 if KB.quantities[atom.quantity].when_missing == "ask" else 0
        return 2 if atom.holds(value) else 0

    reported = {q.fact: q.could_raise_to.rank for q in (*result.not_asked, *result.missing)}
    undecided = [
        item
        for item in KB.indications
        if evaluate(item.condition, level) == 1
        and question.fact
        in {getattr(a, "name", getattr(a, "quantity", "")) for a in atoms(item.condition)}
    ]
    bears = max(
        [
            question.could_raise_to.rank,
            *(
                reported.get(q, 0)
                for item in undecided
                for q in item.questions
                if q not in KB.core.questions
            ),
        ]
    )
    return (-bears, -len(undecided), ORDER[question.fact])


@given(presentations())
def test_open_questions_are_the_table_questions_in_order(presentation: Presentation):
    """Each open question is the fact's own question, names rules that could fire, and is ranked."""
    result = fasciculate.assess(presentation)
    for question in result.missing:
        info = KB.facts.get(question.fact) or KB.quantities[question.fact]
        assert info.question == question.question
        assert question.rules
        assert question.could_raise_to == max(RULES[rule].urgency for rule in question.rules)
        assert question.could_raise_to > result.urgency or question.could_raise_to > (
            Urgency.SELF_CARE
        )
        for rule in question.rules:
            names = {
                getattr(a, "name", getattr(a, "quantity", None))
                for a in atoms(RULES[rule].condition)
            }
            assert question.fact in names
    keys = [_order_key(presentation, result, question) for question in result.missing]
    assert sorted(keys) == keys
    assert bool(result.missing) == any(r.id == "SCREEN-INCOMPLETE" for r in result.rules_fired)


def test_quantity_evidence_is_rendered_with_its_named_threshold():
    """A duration rule cites the duration with its unit and the named threshold it met."""
    result = fasciculate.assess(
        {"twitching": {"duration_days": 20.5}, "findings": {"weakness": "present"}}
    )
    rule = next(rule for rule in result.rules_fired if rule.id == "SEED-PERSISTENT")
    (fact,) = rule.facts
    assert ("duration_days", "20.5 d", "twitching.duration_days") == (
        fact.fact,
        fact.value,
        fact.input,
    )
    assert "duration_days >= 14 (persistent_days)" == fact.condition


def test_open_question_names_every_rule_it_could_fire():
    """Unanswered weakness, with falls present, is asked as what could make falls urgent."""
    data = {
        "findings": {"falls": "present"},
        "twitching": {"regions": ["knee"], "duration_days": 2, "course": "stable"},
    }
    result = fasciculate.assess(data)
    weakness = next(q for q in result.missing if q.fact == "weakness")
    assert Urgency.URGENT == weakness.could_raise_to
    assert "MND-FALLS-DEXTERITY" in weakness.rules
    assert "Does the patient report weakness of the affected muscles?" == weakness.question

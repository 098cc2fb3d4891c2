"""The condition language and the evaluator's less-travelled paths (found by mutation testing)."""

from __future__ import annotations

import itertools

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fasciculate
from _builders import negative
from fasciculate import KnowledgeBaseError, Presentation, Urgency, knowledge_base
from fasciculate._conditions import compile_condition, compile_decisions, compile_table
from fasciculate._facts import facts_from
from fasciculate._referral import ReferralEvaluator
from fasciculate.conditions import All, Any_, CompareAtom, FactAtom, Quantity, atoms, parse
from fasciculate.engine import Engine

FACTS = frozenset({"a", "b", "c"})
GRAMMAR = {"d": Quantity("d", "higher"), "k": Quantity("k", "lower")}


def read(text: str):
    return parse(text, facts=FACTS, quantities=GRAMMAR, thresholds={"t": 2.0})


def test_single_fact_and_single_term_are_not_wrapped():
    """A lone fact parses to the atom itself, a lone conjunction to one All node."""
    assert FactAtom("a") == read("a")
    assert All((FactAtom("a"), FactAtom("b"))) == read("a & b")
    assert Any_((FactAtom("a"), FactAtom("b"))) == read("a | b")


def test_parentheses_group_and_render_back():
    """Parentheses group a disjunction inside a conjunction, and render the same way."""
    condition = read("a & (b | c)")
    assert All((FactAtom("a"), Any_((FactAtom("b"), FactAtom("c"))))) == condition
    assert "a & (b | c)" == condition.render()


def test_strict_comparisons_in_the_worse_direction_are_allowed():
    """`>` on a higher-is-worse quantity and `<` on a lower-is-worse one both parse."""
    assert CompareAtom("d", ">", 3.0) == read("d > 3")
    assert CompareAtom("k", "<", 2.0, "t") == read("k < @t")


def test_literal_threshold_renders_without_a_name():
    """A literal number renders bare; a named threshold shows its name."""
    assert "d >= 3" == read("d >= 3").render()
    assert "d >= 2 (t)" == read("d >= @t").render()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("(a | b", "condition '(a | b': ends too early"),
        ("(a | b c", "condition '(a | b c': missing ')'"),
        ("a & )", "condition 'a & )': expected a fact or quantity, found ')'"),
    ],
)
def test_parse_errors_quote_the_condition(text: str, message: str):
    """Every parse error names the condition and says what is wrong."""
    with pytest.raises(KnowledgeBaseError) as error:
        read(text)
    assert message == str(error.value)


def test_rule_levels_match_each_compiled_rule():
    """The one-function table gives the same level as each rule's own compiled function."""
    evaluator = ReferralEvaluator(knowledge_base())
    for values in itertools.islice(itertools.product((0, 1, 2), repeat=6), 0, None, 7):
        levels = [values[i % 6] for i in range(len(evaluator.atoms))]
        expected = tuple(function(levels) for _, function, _ in evaluator._compiled)
        assert expected == evaluator.rule_levels(levels)


@given(st.data())
def test_decisions_list_exactly_the_wanted_levels_of_the_table(data):
    """compile_decisions lists what filtering compile_table's levels by the wanted ones gives."""
    kb = knowledge_base()
    conditions = tuple(feature.condition for feature in kb.features)
    seen = {atom: None for condition in conditions for atom in atoms(condition)}
    index = {atom: position for position, atom in enumerate(seen)}
    wanted = tuple(
        data.draw(st.tuples(st.booleans(), st.just(value=False), st.booleans())) for _ in conditions
    )
    payloads = tuple(range(100, 100 + len(conditions)))
    decided = compile_decisions(conditions, wanted, payloads, index)
    table = compile_table(conditions, index)
    levels = data.draw(
        st.lists(st.sampled_from((0, 1, 2)), min_size=len(index), max_size=len(index))
    )
    expected = [
        (level, payload)
        for level, payload, keep in zip(table(levels), payloads, wanted, strict=True)
        if keep[level]
    ]
    assert expected == decided(levels)


@pytest.mark.parametrize(
    ("drop", "fact"),
    [("duration_days", "duration_days"), ("regions", "region_count")],
)
def test_unanswered_duration_or_regions_keep_the_screen_open(drop: str, fact: str):
    """Without a duration (or without any region), the screen is open and that is asked."""
    data = negative()
    del data["twitching"][drop]
    result = fasciculate.assess(data)
    assert Urgency.ROUTINE == result.urgency
    assert [fact] == [question.fact for question in result.missing]
    fresh = Engine().assess(data)
    assert (Urgency.ROUTINE, (fact,)) == (fresh.urgency, tuple(q.fact for q in fresh.missing))


def test_generated_code_sees_only_min_and_max():
    """Compiled conditions run with min and max as their only built-ins, and no module globals."""
    kb = knowledge_base()
    condition = kb.rules[0].condition
    index = {atom: position for position, atom in enumerate(atoms(condition))}
    wanted = ((True, False, True),)
    for function in (
        compile_condition(condition, index),
        compile_table((condition,), index),
        compile_decisions((condition,), wanted, (None,), index),
    ):
        assert {"min": min, "max": max} == function.__globals__["__builtins__"]
        assert not set(function.__globals__) - {"__builtins__", "decided", "level", "levels", "p0"}


def test_compiled_comparisons_see_no_built_ins():
    """The compiled quantity comparisons run with no built-ins at all."""
    table = ReferralEvaluator(knowledge_base())._atoms
    assert {} == table._compare.__globals__["__builtins__"]
    assert {"__builtins__", "compare"} == set(table._compare.__globals__)


def test_facts_of_another_knowledge_base_are_refused():
    """Facts whose vectors do not fit the evaluator's knowledge base raise, naming the cause."""
    kb = knowledge_base()
    facts = facts_from(Presentation(), kb)
    shorter = attrs.evolve(facts, ordered=facts.ordered[:-1])
    with pytest.raises(KnowledgeBaseError, match=r"^facts were read with another knowledge base$"):
        ReferralEvaluator(kb)(shorter)

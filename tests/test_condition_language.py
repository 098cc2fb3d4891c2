"""The condition language and the evaluator's less-travelled paths (found by mutation testing)."""

from __future__ import annotations

import pytest

import fasciculate
from _builders import negative
from fasciculate import KnowledgeBaseError, Urgency
from fasciculate.conditions import All, Any_, CompareAtom, FactAtom, Quantity, parse
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

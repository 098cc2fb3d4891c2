"""Generated code you can step into, equal to what it replaces, and seeing nothing else.

Readable names, sources in linecache, lines in tracebacks; each compiled rule, table and decision
list equal to the condition language's interpreter; the built-ins it sees. These tests read the
generated functions themselves, which no public name shows.
"""

from __future__ import annotations

import inspect
import itertools
import linecache
import random
import traceback

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fasciculate
from fasciculate import KnowledgeBaseError, Presentation, knowledge_base
from fasciculate._conditions import (
    compile_compares,
    compile_condition,
    compile_decisions,
    compile_scores,
    compile_table,
)
from fasciculate._generated import define, source_of
from fasciculate._referral import ReferralEvaluator
from fasciculate.conditions import (
    FALSE,
    TRUE,
    UNKNOWN,
    All,
    Any_,
    CompareAtom,
    Condition,
    FactAtom,
    atoms,
    evaluate,
)
from fasciculate.engine import Engine

KB = fasciculate.knowledge_base()
RULES = {rule.id: rule for rule in KB.rules}


@pytest.fixture(scope="module", autouse=True)
def _assessed() -> None:
    """Build the evaluators (they compile the knowledge base) by assessing once."""
    fasciculate.assess({})


def test_each_rule_is_a_readable_file_with_its_condition_as_written():
    """``<fasciculate rule ID>``: one ``return`` line, commented with the rule's condition."""
    for rule in KB.rules:
        lines = linecache.getlines(f"<fasciculate rule {rule.id}>")
        assert "def level(v):\n" == lines[0], rule.id
        assert lines[1].startswith("    return ")
        assert (
            lines[1]
            .rstrip("\n")
            .endswith(f"# {rule.id}: {' '.join(rule.condition.render().split())}")
        )


def test_the_rule_table_lists_every_rule_most_urgent_first():
    """The table function: a line per rule, in urgency order, each naming its rule."""
    lines = linecache.getlines("<fasciculate referral rules, most urgent first>")
    named = [line.split("# ", 1)[1].split(":", 1)[0] for line in lines if "# " in line]
    assert sorted(named) == sorted(RULES)
    ranks = [RULES[rule_id].urgency.rank for rule_id in named]
    assert sorted(ranks, reverse=True) == ranks


@pytest.mark.parametrize(
    "name",
    [
        "indications",
        "quantity comparisons",
        "differential features",
        "differential scores",
        "differential criteria and root levels",
        "safety-net comparisons",
        "output frame Assessment",
        "output frame CategoryResult",
        "output frame ConditionResult",
    ],
)
def test_every_generated_table_is_registered(name):
    """The indications, the comparisons and the differential's conditions are readable too."""
    lines = linecache.getlines(f"<fasciculate {name}>")
    assert lines
    assert lines[0].startswith("def ")
    assert all(line.endswith("\n") for line in lines)


def test_a_fault_inside_generated_code_shows_the_generated_line():
    """A traceback names the readable file and prints the generated line (as attrs' code does)."""
    index = {FactAtom("a"): 0, FactAtom("b"): 5}
    condition = All((FactAtom("a"), FactAtom("b")))
    function = compile_condition(condition, index, name="test condition", label="TEST-RULE")
    with pytest.raises(IndexError) as raised:
        function([2])
    text = "".join(traceback.format_exception(raised.value))
    assert 'File "<fasciculate test condition>", line 2, in level' in text
    assert "return (v[0] if v[0] <= v[5] else v[5])  # TEST-RULE: a & b" in text


def test_inspect_reads_the_source_and_pdb_can_list_it():
    """``inspect.getsource`` (what pdb's ``list`` uses) returns the generated function."""
    index = {FactAtom("a"): 0, FactAtom("b"): 1}
    function = compile_table((FactAtom("a"), FactAtom("b")), index, name="test table")
    assert source_of(function) == inspect.getsource(function)
    assert source_of(function) == (
        "def levels(v):\n    return (\n        v[0],  # #0: a\n        v[1],  # #1: b\n    )\n"
    )
    assert (2, 0) == function([2, 0])


def test_decisions_are_readable_and_carry_their_payloads():
    """compile_decisions: each tested condition one commented line; the payloads in its scope."""
    index = {FactAtom("a"): 0}
    function = compile_decisions(
        (FactAtom("a"),), ((False, False, True),), ("payload",), index, name="test decisions"
    )
    assert [(2, "payload")] == function([2])
    assert [] == function([0])
    assert "    x = v[0]  # #0: a\n" in source_of(function)


def test_a_name_taken_by_another_source_gets_its_own_file():
    """Two different sources under one name never overwrite each other's lines."""
    first = define("test clash", "def f():\n    return 1\n", "f")
    second = define("test clash", "def f():\n    return 2\n", "f")
    again = define("test clash", "def f():\n    return 1\n", "f")
    assert (1, 2, 1) == (first(), second(), again())
    assert first.__code__.co_filename == again.__code__.co_filename == "<fasciculate test clash>"
    assert second.__code__.co_filename.startswith("<fasciculate test clash ")
    assert "return 2" in source_of(second)
    assert "return 1" in source_of(first)


def test_generated_code_calls_nothing_but_min_and_max():
    """The builtins of generated code are Kleene and/or only: nothing else is reachable."""
    function = define("test builtins", "def f():\n    return open\n", "f")
    with pytest.raises(NameError):
        function()


_COMPARES = tuple(
    dict.fromkeys(
        atom for rule in KB.rules for atom in atoms(rule.condition) if isinstance(atom, CompareAtom)
    )
)
_THRESHOLDS = sorted({atom.threshold for atom in _COMPARES})


@given(
    st.dictionaries(
        st.sampled_from(sorted(KB.quantities)),
        st.none()
        | st.sampled_from([*_THRESHOLDS, -0.0, 0.0])
        | st.floats(allow_nan=False, allow_infinity=False),
    ),
    st.lists(st.booleans(), min_size=len(_COMPARES), max_size=len(_COMPARES)),
)
def test_the_compiled_comparisons_give_the_atoms_levels(given_quantities, asks):
    """Each compiled comparison: a missing quantity unknown when asked for, else absent; a
    given one present exactly when the atom holds (the evaluators and the safety net use it)."""
    quantities = dict.fromkeys(KB.quantities) | given_quantities
    compare = compile_compares("test comparisons", _COMPARES, asks)
    expected = [
        (UNKNOWN if ask else FALSE)
        if (value := quantities[atom.quantity]) is None
        else TRUE
        if atom.holds(value)
        else FALSE
        for atom, ask in zip(_COMPARES, asks, strict=True)
    ]
    assert expected == compare(quantities)


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


@given(st.data())
def test_scores_add_the_weights_the_decisions_list(data):
    """compile_scores adds, per slot and in order, the weights of what compile_decisions lists
    (the same floats, bit for bit), and marks a slot when a telling weight is positive."""
    kb = knowledge_base()
    conditions = tuple(feature.condition for feature in kb.features)
    seen = {atom: None for condition in conditions for atom in atoms(condition)}
    index = {atom: position for position, atom in enumerate(seen)}
    weight = st.sampled_from([0.0, -0.0, -0.3, 0.7]) | st.floats(-3, 3)  # zeros: not added
    weights = tuple((data.draw(weight), 0.0, data.draw(weight)) for _ in conditions)
    slots = tuple(data.draw(st.integers(0, 4)) for _ in conditions)
    telling = tuple(data.draw(st.booleans()) for _ in conditions)
    wanted = tuple((absent != 0.0, False, present != 0.0) for absent, _, present in weights)
    rows = tuple(zip(weights, slots, telling, strict=True))
    decided = compile_decisions(conditions, wanted, rows, index)
    scored = compile_scores(conditions, weights, slots, telling, index)
    levels = data.draw(
        st.lists(st.sampled_from((0, 1, 2)), min_size=len(index), max_size=len(index))
    )
    priors = data.draw(st.lists(st.floats(-5, 5), min_size=5, max_size=5))
    expected, marked = list(priors), [False] * 5
    for level, (weight, slot, tells) in decided(levels):
        expected[slot] += weight[level]
        marked[slot] = marked[slot] or (weight[level] > 0 and tells)
    scores, hard = list(priors), [False] * 5
    assert scored(levels, scores, hard) is None
    assert (expected, marked) == (scores, hard)


def test_scores_take_any_float_and_refuse_a_weight_for_unknown():
    """A weight that has no literal (inf) still adds; an unknown level may carry none."""
    index = {FactAtom("a"): 0}
    scored = compile_scores((FactAtom("a"),), ((float("-inf"), 0.0, 1.5),), (0,), (True,), index)
    scores, hard = [0.0], [False]
    scored([0], scores, hard)
    assert ([float("-inf")], [False]) == (scores, hard)
    scores = [0.0]
    scored([2], scores, hard)
    assert ([1.5], [True]) == (scores, hard)
    with pytest.raises(ValueError, match="unknown level carries no weight"):
        compile_scores((FactAtom("a"),), ((0.0, 0.5, 0.0),), (0,), (False,), index)


@pytest.mark.parametrize("parts", [2, 6, 7, 150])
@pytest.mark.parametrize("kind", [All, Any_])
def test_long_and_deep_conditions_compile_to_their_levels(parts, kind):
    """Long lists of parts and deep nesting compile (one call past six parts; calls alone
    past the nesting Python allows for conditional expressions) and give the tree's levels.

    The deep condition alternates and/or up to 60 levels: past the 100 brackets at which the
    conditional expressions give way to calls, and within the recursion a mutation tester's
    wrapped functions leave."""
    leaves = [FactAtom(f"a{n}") for n in range(parts)]
    deep: Condition = leaves[0]
    for number, leaf in enumerate(leaves[1:60]):
        deep = (All if number % 2 else Any_)((deep, leaf))
    index = {leaf: n for n, leaf in enumerate(leaves)}
    written = source_of(compile_condition(deep, index))
    assert (" if " not in written) == (parts == 150)  # 59 levels: past the nesting allowed
    flat = source_of(compile_condition(kind(tuple(leaves)), index))
    assert (" if " in flat) == (parts <= 6)  # more than six parts: one call
    for condition in (kind(tuple(leaves)), deep):
        function = compile_condition(condition, index)
        table = compile_table((condition, condition), index)
        draw = random.Random(parts)  # noqa: S311 - test data, not secrets
        for _ in range(60):
            levels = [draw.choice((0, 1, 2)) for _ in leaves]
            expected = evaluate(condition, lambda atom, levels=levels: levels[index[atom]])
            assert expected == function(levels) == table(levels)[0]


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
        compile_scores((condition,), ((1.0, 0.0, 1.0),), (0,), (True,), index),
    ):
        assert {"min": min, "max": max} == function.__globals__["__builtins__"]
        names = {"__builtins__", "decided", "level", "levels", "scored", "p0"}
        assert not set(function.__globals__) - names


def test_compiled_comparisons_see_no_built_ins():
    """The compiled quantity comparisons run with no built-ins at all."""
    table = ReferralEvaluator(knowledge_base())._atoms
    assert {} == table._compare.__globals__["__builtins__"]
    assert {"__builtins__", "compare"} == set(table._compare.__globals__)


def test_facts_of_another_knowledge_base_are_refused():
    """Facts whose vectors do not fit the evaluator's knowledge base raise, naming the cause."""
    kb = knowledge_base()
    facts = Engine(kb=kb).facts(Presentation())
    shorter = attrs.evolve(facts, ordered=facts.ordered[:-1])
    with pytest.raises(KnowledgeBaseError, match=r"^facts were read with another knowledge base$"):
        ReferralEvaluator(kb)(shorter)


@pytest.mark.parametrize("rule", knowledge_base().rules, ids=lambda rule: rule.id)
def test_compiled_rule_agrees_with_the_tree_on_every_assignment(rule):
    """The fast compiled form of each rule equals the plain tree interpreter on all 3^k inputs."""
    evaluator = ReferralEvaluator(knowledge_base())
    index = {atom: position for position, atom in enumerate(evaluator.atoms)}
    compiled = dict(zip([r.id for r in knowledge_base().rules], evaluator._compiled, strict=True))
    _, function, _ = compiled[rule.id]
    own = list(dict.fromkeys(atoms(rule.condition)))
    for levels in itertools.product((0, 1, 2), repeat=len(own)):
        values = [0] * len(evaluator.atoms)
        for atom, level in zip(own, levels, strict=True):
            values[index[atom]] = level
        expected = evaluate(rule.condition, lambda atom, values=values: values[index[atom]])
        assert expected == function(values)

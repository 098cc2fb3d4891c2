"""Generated code you can step into: readable names, sources in linecache, lines in tracebacks."""

from __future__ import annotations

import inspect
import linecache
import traceback

import pytest
from hypothesis import given
from hypothesis import strategies as st

import fasciculate
from fasciculate._conditions import (
    compile_compares,
    compile_condition,
    compile_decisions,
    compile_table,
)
from fasciculate._generated import define, source_of
from fasciculate.conditions import FALSE, TRUE, UNKNOWN, All, CompareAtom, FactAtom, atoms

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
    assert "return min(v[0], v[5])  # TEST-RULE: a & b" in text


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

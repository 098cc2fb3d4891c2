"""Beyond sampling: the exported ELM's logic is proved equal to the rule table's with z3.

The ELM (the committed, compiled library) is translated into z3 node by node, Kleene levels for
booleans (`tests/_elm_z3.py`); the referral evaluator's semantics are built into z3 from the
knowledge base independently: the derivations row by row, each rule's condition, the indications
and the focused screen, and the urgency. For every possible reading of the facts and quantities
(the library's `Read` and `Quantity` defines, left free), z3 finds no assignment where they
differ. The reading of FHIR itself is covered by execution (test_cpg_execution.py).
"""

from __future__ import annotations

import json

import attrs
import pytest
import z3

from _elm_z3 import Elm, Table, Variables
from fasciculate import Rule, knowledge_base
from fasciculate.cpg import ELM_FILE, committed

KB = knowledge_base()


@pytest.fixture(scope="module")
def both() -> tuple[Elm, Table, Variables]:
    variables = Variables()
    table = Table(KB, variables)
    return Elm(json.loads(committed(ELM_FILE)), variables), table, variables


def _differ(left: z3.ArithRef, right: z3.ArithRef, variables: Variables) -> z3.ModelRef | None:
    solver = z3.Solver()
    solver.add(left != right)
    solver.add(*variables.bounds())
    result = solver.check()
    assert result != z3.unknown
    return solver.model() if result == z3.sat else None


@pytest.mark.parametrize("rule", KB.rules, ids=lambda rule: rule.id)
def test_each_rule_of_the_elm_is_the_rule_tables(
    both: tuple[Elm, Table, Variables], rule: Rule
) -> None:
    elm, table, variables = both
    found = _differ(elm.define(f"Rule {rule.id}"), table.condition(rule.condition), variables)
    assert found is None, found


def test_each_indication_and_focused_rule_of_the_elm_is_the_tables(
    both: tuple[Elm, Table, Variables],
) -> None:
    elm, table, variables = both
    for row in KB.indications:
        found = _differ(
            elm.define(f"Indication {row.id}"), table.condition(row.condition), variables
        )
        assert found is None, (row.id, found)
    for rule in KB.rules:
        found = _differ(
            elm.define(f"Focused Rule {rule.id}"), table.focused(rule.condition), variables
        )
        assert found is None, (rule.id, found)


@pytest.mark.slow
@pytest.mark.exhaustive
def test_the_elm_urgency_is_the_evaluators(both: tuple[Elm, Table, Variables]) -> None:
    elm, table, variables = both
    found = _differ(elm.define("Urgency Rank"), table.urgency_rank(), variables)
    assert found is None, found


@pytest.mark.slow
@pytest.mark.exhaustive
def test_the_proof_finds_the_difference_a_mutant_makes(
    both: tuple[Elm, Table, Variables],
) -> None:
    # Not vacuous: a rule read in place of another differs, and so does the urgency of a table
    # with a rule dropped (a reading where only that rule fires).
    elm, table, variables = both
    saddle, bladder = (
        next(r for r in KB.rules if r.id == i) for i in ("CES-SADDLE", "CES-BLADDER")
    )
    assert _differ(elm.define(f"Rule {saddle.id}"), table.condition(bladder.condition), variables)
    mutant = attrs.evolve(KB, rules=tuple(r for r in KB.rules if r.id != saddle.id))
    assert _differ(elm.define("Urgency Rank"), Table(mutant, variables).urgency_rank(), variables)

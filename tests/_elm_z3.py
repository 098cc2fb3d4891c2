"""The exported ELM's logic as z3 terms, and the referral evaluator's semantics as z3 terms.

Booleans are Kleene levels (z3 integers 0 false, 1 null, 2 true), as the rule table's; a number is
a pair (known, value). The reading layer of the library (``Read <fact>``, ``Quantity <name>``) is
left free: the proof covers everything the library computes from what it read, for every
possible reading. What is read from FHIR is covered by execution (test_cpg_execution.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

import z3

from fasciculate import KnowledgeBase
from fasciculate.conditions import All, Any_, Atom, CompareAtom, Condition, FactAtom

Num = tuple[z3.BoolRef, z3.ArithRef]
Value = z3.ArithRef | Num

_COMPARE: dict[str, Callable[[Any, Any], z3.BoolRef]] = {
    "Less": lambda a, b: a < b,
    "LessOrEqual": lambda a, b: a <= b,
    "Greater": lambda a, b: a > b,
    "GreaterOrEqual": lambda a, b: a >= b,
}
_OPS = {"<": "Less", "<=": "LessOrEqual", ">": "Greater", ">=": "GreaterOrEqual"}


class Variables:
    """The free readings: a Kleene level per fact, a (known, value) pair per quantity."""

    def __init__(self) -> None:
        self.facts: dict[str, z3.ArithRef] = {}
        self.quantities: dict[str, Num] = {}

    def fact(self, name: str) -> z3.ArithRef:
        if name not in self.facts:
            self.facts[name] = z3.Int(f"read_{name}")
        return self.facts[name]

    def quantity(self, name: str) -> Num:
        if name not in self.quantities:
            self.quantities[name] = (z3.Bool(f"known_{name}"), z3.Real(f"value_{name}"))
        return self.quantities[name]

    def bounds(self) -> list[z3.BoolRef]:
        """Every fact level is 0, 1 or 2."""
        return [z3.And(level >= 0, level <= 2) for level in self.facts.values()]


def _kleene(test: z3.BoolRef) -> z3.ArithRef:
    return z3.If(test, z3.IntVal(2), z3.IntVal(0))


class Elm:
    """The ELM library as z3 terms, define by define."""

    def __init__(self, library: Mapping[str, Any], variables: Variables) -> None:
        statements = library["library"]["statements"]["def"]
        self.defines = {s["name"]: s for s in statements if s.get("type") != "FunctionDef"}
        self.functions = {s["name"]: s for s in statements if s.get("type") == "FunctionDef"}
        self.variables = variables
        self._cache: dict[str, Value] = {}

    def define(self, name: str) -> Value:
        """The term of the define *name*."""
        if name.startswith("Read "):
            return self.variables.fact(name.removeprefix("Read "))
        if name.startswith("Quantity "):
            return self.variables.quantity(name.removeprefix("Quantity "))
        if name not in self._cache:
            self._cache[name] = self.term(self.defines[name]["expression"], {})
        return self._cache[name]

    def term(self, node: Mapping[str, Any], scope: Mapping[str, Value]) -> Value:  # noqa: C901, PLR0911, PLR0912 - one branch per node type
        kind = node["type"]
        if kind in {"And", "Or"}:
            left, right = (self.term(part, scope) for part in node["operand"])
            pick = z3.If(left <= right, left, right) if kind == "And" else None
            return pick if pick is not None else z3.If(left >= right, left, right)
        if kind in {"IsTrue", "IsFalse", "IsNull"}:
            level = self.term(node["operand"], scope)
            return _kleene(level == {"IsTrue": 2, "IsFalse": 0, "IsNull": 1}[kind])
        if kind == "Not":
            return 2 - self.term(node["operand"], scope)
        if kind == "If":
            condition = self.term(node["condition"], scope)
            then, otherwise = self.term(node["then"], scope), self.term(node["else"], scope)
            if isinstance(then, tuple):
                msg = "a number-valued If"
                raise NotImplementedError(msg)
            return z3.If(condition == 2, then, otherwise)
        if kind == "Literal":
            value = node["value"]
            if node["valueType"].endswith("Boolean"):
                return z3.IntVal(2 if value == "true" else 0)
            if node["valueType"].endswith("Integer"):
                return z3.IntVal(int(value))
            return z3.RealVal(Fraction(value))
        if kind == "ToDecimal":  # an Integer quantity (the age) compared with a Decimal
            return self.term(node["operand"], scope)
        if kind == "Null":
            return z3.IntVal(1)
        if kind == "ExpressionRef":
            return self.define(node["name"])
        if kind == "OperandRef":
            return scope[node["name"]]
        if kind == "FunctionRef":
            function = self.functions[node["name"]]
            arguments = [self.term(part, scope) for part in node["operand"]]
            names = [operand["name"] for operand in function["operand"]]
            return self.term(function["expression"], dict(zip(names, arguments, strict=True)))
        if kind in _COMPARE:
            left, right = (self.term(part, scope) for part in node["operand"])
            if isinstance(left, tuple):  # a quantity that may be unmeasured
                known, value = left
                return z3.If(known, _kleene(_COMPARE[kind](value, right)), z3.IntVal(1))
            return _kleene(_COMPARE[kind](left, right))
        if kind == "Max":
            elements = [self.term(part, scope) for part in node["source"]["element"]]
            best = elements[0]
            for element in elements[1:]:
                best = z3.If(element > best, element, best)
            return best
        msg = f"ELM node {kind} is not translated"
        raise NotImplementedError(msg)


class Table:
    """The referral evaluator's semantics (``_facts``, ``_referral``, ``_screen``) as z3 terms."""

    def __init__(self, kb: KnowledgeBase, variables: Variables) -> None:
        self.kb = kb
        self.variables = variables
        levels = {name: variables.fact(name) for name in kb.facts}
        # kb/derivations.toml, row by row, as _facts applies them: a holding `when` sets present.
        for row in kb.derivations:
            holds = self.atom(row.when, levels) == 2
            levels[row.sets] = z3.If(holds, z3.IntVal(2), levels[row.sets])
        self.levels = levels

    def atom(self, atom: Atom, levels: Mapping[str, z3.ArithRef]) -> z3.ArithRef:
        if isinstance(atom, FactAtom):
            return levels[atom.name]
        known, value = self.variables.quantity(atom.quantity)
        # The threshold as the decimal its float prints (the CQL's literal): no float lies
        # strictly between the two, so on float values the comparisons agree.
        threshold = z3.RealVal(Fraction(repr(atom.threshold)))
        compare = _COMPARE[_OPS[atom.op]](value, threshold)
        return z3.If(known, _kleene(compare), z3.IntVal(1))

    def condition(
        self, condition: Condition, leaf: Callable[[Atom], z3.ArithRef] | None = None
    ) -> z3.ArithRef:
        if isinstance(condition, FactAtom | CompareAtom):
            return leaf(condition) if leaf else self.atom(condition, self.levels)
        parts = [self.condition(part, leaf) for part in condition.parts]
        best = parts[0]
        for part in parts[1:]:
            if isinstance(condition, All):
                best = z3.If(part < best, part, best)
            else:
                assert isinstance(condition, Any_)
                best = z3.If(part > best, part, best)
        return best

    def focused(self, condition: Condition) -> z3.ArithRef:
        """*condition* with each unanswered question that no indication calls for read absent."""
        core = set(self.kb.core.questions)
        indications = {row.id: self.condition(row.condition) for row in self.kb.indications}

        def leaf(atom: Atom) -> z3.ArithRef:
            level = self.atom(atom, self.levels)
            name = atom.name if isinstance(atom, FactAtom) else atom.quantity
            if name in core:
                return level
            listing = [
                indications[row.id] == 0 for row in self.kb.indications if name in row.questions
            ]
            return z3.If(z3.And(level == 1, *listing), z3.IntVal(0), level)

        return self.condition(condition, leaf)

    def urgency_rank(self) -> z3.ArithRef:
        """The urgency's rank, as :class:`~fasciculate._referral.ReferralEvaluator` decides it."""
        base: z3.ArithRef = z3.IntVal(0)
        for rule in self.kb.rules:
            rank = z3.IntVal(rule.urgency.rank)
            fires = self.condition(rule.condition) == 2
            base = z3.If(z3.And(fires, rank > base), rank, base)
        open_ = z3.Or(
            *(
                z3.And(rule.urgency.rank > base, self.focused(rule.condition) == 1)
                for rule in self.kb.rules
            )
        )
        screen = z3.IntVal(self.kb.screen_incomplete.urgency.rank)
        return z3.If(open_, z3.If(screen > base, screen, base), base)

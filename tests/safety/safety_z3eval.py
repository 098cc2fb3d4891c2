"""Evaluate z3 terms on many concrete assignments quickly.

z3's own ``substitute`` + ``simplify`` takes a fraction of a millisecond per call, too slow for
hundreds of thousands of combinations. So a term is first simplified by z3 with everything fixed
but the varying variables, and the small term z3 returns is turned into a Python function by
walking its syntax tree. The translation is checked against z3's own evaluation on samples.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

import z3

_INFIX = {
    z3.Z3_OP_EQ: "==",
    z3.Z3_OP_LE: "<=",
    z3.Z3_OP_GE: ">=",
    z3.Z3_OP_LT: "<",
    z3.Z3_OP_GT: ">",
    z3.Z3_OP_ADD: "+",
    z3.Z3_OP_MUL: "*",
    z3.Z3_OP_SUB: "-",
}


def _emit(term: Any, names: dict[str, int]) -> str:  # noqa: C901, PLR0911 - a tree walk
    if z3.is_true(term):
        return "True"
    if z3.is_false(term):
        return "False"
    if z3.is_int_value(term):
        return str(term.as_long())
    if z3.is_rational_value(term):
        fraction = term.as_fraction()
        return f"F({fraction.numerator}, {fraction.denominator})"
    if z3.is_const(term) and term.decl().kind() == z3.Z3_OP_UNINTERPRETED:
        name = term.decl().name()
        names.setdefault(name, len(names))
        return f"v[{names[name]}]"
    kind = term.decl().kind()
    args = [_emit(child, names) for child in term.children()]
    if kind == z3.Z3_OP_AND:
        return "(" + " and ".join(args) + ")"
    if kind == z3.Z3_OP_OR:
        return "(" + " or ".join(args) + ")"
    if kind == z3.Z3_OP_NOT:
        return f"(not {args[0]})"
    if kind == z3.Z3_OP_ITE:
        return f"({args[1]} if {args[0]} else {args[2]})"
    if kind == z3.Z3_OP_UMINUS:
        return f"(-{args[0]})"
    if kind in _INFIX:
        return "(" + f" {_INFIX[kind]} ".join(args) + ")"
    raise NotImplementedError(f"z3 operator {term.decl()} in {term}")


def to_python(term: Any) -> tuple[Callable[[Mapping[str, Any]], Any], list[str]]:
    """A Python function of a mapping ``{variable name: value}`` equal to the z3 *term*."""
    names: dict[str, int] = {}
    body = _emit(term, names)
    order = sorted(names, key=names.__getitem__)
    function = eval(f"lambda v: {body}", {"F": Fraction})  # noqa: S307 - our own z3 term

    def call(values: Mapping[str, Any]) -> Any:
        return function([values[name] for name in order])

    return call, order


def fix(term: Any, pairs: Mapping[Any, Any]) -> Any:
    """*term* with some variables fixed, simplified by z3."""
    return z3.simplify(z3.substitute(term, *pairs.items())) if pairs else z3.simplify(term)

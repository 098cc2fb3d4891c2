"""The condition language of the rule table.

A condition is a small monotone formula::

    condition  := term ("|" term)*
    term       := factor ("&" factor)*
    factor     := "(" condition ")" | FACT | QUANTITY OP VALUE
    OP         := ">=" | ">" | "<=" | "<"
    VALUE      := NUMBER | "@" NAME ("." NAME)*

There is no negation, so every formula is monotone: making any fact "more present" can never turn
a holding condition into a failing one. Formulas are evaluated in Kleene's three-valued logic on the
levels absent 0 < unknown 1 < present 2, where ``&`` is ``min`` and ``|`` is ``max``.
"""

from __future__ import annotations

import itertools
import math
import operator
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Literal, TypeVar

import attrs

from fasciculate._errors import KnowledgeBaseError
from fasciculate._generated import comment, define
from fasciculate._vocab import FALSE, TRUE, UNKNOWN

Op = Literal[">=", ">", "<=", "<"]

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}


@attrs.frozen
class FactAtom:
    """A yes/no fact, true when present."""

    name: str

    def render(self) -> str:
        """The fact's name."""
        return self.name


@attrs.frozen
class CompareAtom:
    """A quantity compared with a threshold, e.g. ``duration_days >= 14``.

    Attributes:
        quantity: The quantity's id.
        op: The comparison.
        threshold: The threshold value, in the quantity's unit.
        ref: Where the threshold came from (``persistent_days``, ``potassium.critical_low``), or
            ``None`` for a literal number.
    """

    quantity: str
    op: Op
    threshold: float
    ref: str | None = None

    def holds(self, value: float) -> bool:
        """Whether *value* meets the comparison."""
        return _COMPARE[self.op](value, self.threshold)

    def render(self) -> str:
        """The comparison as written, with the resolved threshold."""
        shown = f"{self.threshold:g}"
        named = f" ({self.ref})" if self.ref else ""
        return f"{self.quantity} {self.op} {shown}{named}"


Atom = FactAtom | CompareAtom


@attrs.frozen
class All:
    """Holds when every part holds (Kleene ``min``)."""

    parts: tuple[Condition, ...]

    def render(self) -> str:
        """The parts joined by ``&``."""
        return " & ".join(_render_part(part) for part in self.parts)


@attrs.frozen
class Any_:  # noqa: N801 - ``Any`` would shadow typing.Any for readers
    """Holds when any part holds (Kleene ``max``)."""

    parts: tuple[Condition, ...]

    def render(self) -> str:
        """The parts joined by ``|``."""
        return " | ".join(_render_part(part) for part in self.parts)


Condition = FactAtom | CompareAtom | All | Any_


def _render_part(part: Condition) -> str:
    text = part.render()
    return f"({text})" if isinstance(part, Any_) else text


def atoms(condition: Condition) -> Iterator[Atom]:
    """Every atom of *condition*, left to right (repeats included)."""
    if isinstance(condition, FactAtom | CompareAtom):
        yield condition
    else:
        for part in condition.parts:
            yield from atoms(part)


def evaluate(condition: Condition, level: Callable[[Atom], int]) -> int:
    """The Kleene level of *condition*, given the *level* of each atom."""
    if isinstance(condition, FactAtom | CompareAtom):
        return level(condition)
    values = (evaluate(part, level) for part in condition.parts)
    return min(values) if isinstance(condition, All) else max(values)


def compile_condition(
    condition: Condition, index: Mapping[Atom, int], *, name: str = "condition", label: str = ""
) -> Callable[[list[int]], int]:
    """Compile *condition* into a function of the atom levels, indexed by *index*.

    The generated code is built from the parsed tree (never from input text) and is equivalent to
    :func:`evaluate`; it exists because assessments run in tight batch loops. It is compiled
    under the readable *name* (``<fasciculate NAME>`` in tracebacks; see :mod:`._generated`),
    with *label* and the condition as written in a comment.
    """
    source = (
        f"def level(v):\n    return {_python(condition, index, itertools.count())}  "
        f"{_comment(label, condition)}\n"
    )
    function: Callable[[list[int]], int] = define(name, source, "level")
    return function


_Payload = TypeVar("_Payload")


def _comment(label: str, condition: Condition) -> str:
    return comment(f"{label}: {condition.render()}" if label else condition.render())


def compile_table(
    conditions: tuple[Condition, ...],
    index: Mapping[Atom, int],
    *,
    name: str = "conditions",
    labels: tuple[str, ...] | None = None,
) -> Callable[[list[int]], tuple[int, ...]]:
    """Compile several conditions into one function returning all their levels at once.

    One line per condition, with its label (*labels*, in order; default its number) and the
    condition as written in a comment, compiled under the readable *name*.
    """
    labels = labels or tuple(f"#{number}" for number in range(len(conditions)))
    names = itertools.count()
    lines = ["def levels(v):", "    return ("]
    lines += [
        f"        {_python(condition, index, names)},  {_comment(label, condition)}"
        for condition, label in zip(conditions, labels, strict=True)
    ]
    lines.append("    )")
    function: Callable[[list[int]], tuple[int, ...]] = define(
        name, "\n".join(lines) + "\n", "levels"
    )
    return function


def compile_compares(
    name: str, compares: tuple[CompareAtom, ...], asks: list[bool]
) -> Callable[[Mapping[str, float | None]], list[int]]:
    """One function giving the level of every comparison from the quantities, in order.

    A comparison holds (``TRUE``) or not (``FALSE``); a missing quantity is ``UNKNOWN`` where
    *asks* says it should be asked for, else ``FALSE``. Registered as ``<fasciculate NAME>``.
    """
    lines = ["def compare(q):", "    return ["]
    lines += [
        f"        ({UNKNOWN if asks[number] else FALSE} if (x := q[{atom.quantity!r}]) is None "
        f"else {TRUE} if x {atom.op} {atom.threshold!r} else {FALSE}),  {comment(atom.render())}"
        for number, atom in enumerate(compares)
    ]
    lines.append("    ]")
    function: Callable[[Mapping[str, float | None]], list[int]] = define(
        name, "\n".join(lines) + "\n", "compare", builtins={}
    )
    return function


def compile_decisions(  # noqa: PLR0913 - the conditions, what is wanted of each, and names
    conditions: tuple[Condition, ...],
    wanted: tuple[tuple[bool, bool, bool], ...],
    payloads: tuple[_Payload, ...],
    index: Mapping[Atom, int],
    *,
    name: str = "decisions",
    labels: tuple[str, ...] | None = None,
) -> Callable[[list[int]], list[tuple[int, _Payload]]]:
    """Compile conditions into one function listing those decided at a wanted level.

    For each condition in order, the function computes its level and, when ``wanted[i][level]``
    holds, lists ``(level, payloads[i])``; conditions at any other level cost one comparison and
    build nothing. Equivalent to filtering the levels of :func:`compile_table`. Compiled under the
    readable *name*, each condition's line commented with its label and the condition.
    """
    labels = labels or tuple(f"#{number}" for number in range(len(conditions)))
    lines = ["def decided(v):", "    found = []", "    add = found.append"]
    names = itertools.count()
    scope: dict[str, object] = {}
    for number, condition in enumerate(conditions):
        tests = [level for level in (TRUE, FALSE) if wanted[number][level]]
        if not tests:
            continue
        scope[f"p{number}"] = payloads[number]
        expression = _python(condition, index, names)
        lines.append(f"    x = {expression}  {_comment(labels[number], condition)}")
        for order, level in enumerate(tests):
            lines.append(f"    {'elif' if order else 'if'} x == {level}:")
            lines.append(f"        add(({level}, p{number}))")
    lines.append("    return found")
    function: Callable[[list[int]], list[tuple[int, _Payload]]] = define(
        name, "\n".join(lines) + "\n", "decided", scope
    )
    return function


def compile_scores(  # noqa: PLR0913 - the conditions, their weights and targets, and names
    conditions: tuple[Condition, ...],
    weights: tuple[tuple[float, float, float], ...],
    slots: tuple[int, ...],
    telling: tuple[bool, ...],
    index: Mapping[Atom, int],
    *,
    name: str = "scores",
    labels: tuple[str, ...] | None = None,
) -> Callable[[list[int], list[float], list[bool]], None]:
    """Compile conditions into one function adding each one's weight at its level to a score.

    *weights* are each condition's (absent, unknown, present) weights; the unknown one must be
    zero (an unknown level adds nothing). The function ``scored(v, s, h)`` computes each
    condition's level in order and, where its weight at that level is not zero, adds it to
    ``s[slots[i]]``; a positive weight of a *telling* condition sets ``h[slots[i]]``. The same
    sums in the same order as adding the weights of :func:`compile_decisions`' list: a finite
    weight is written as its exact ``repr``, another (``inf``, ``nan``) is read from the
    function's scope. Compiled under the readable *name*.
    """
    if any(weight[UNKNOWN] != 0.0 for weight in weights):
        msg = "an unknown level carries no weight: the middle of each weight triple must be 0"
        raise ValueError(msg)
    labels = labels or tuple(f"#{number}" for number in range(len(conditions)))
    lines = ["def scored(v, s, h):"]
    names = itertools.count()
    scope: dict[str, object] = {}
    for number, condition in enumerate(conditions):
        tests = [level for level in (TRUE, FALSE) if weights[number][level] != 0.0]
        if not tests:
            continue
        slot = slots[number]
        expression = _python(condition, index, names)
        lines.append(f"    x = {expression}  {_comment(labels[number], condition)}")
        for order, level in enumerate(tests):
            weight = weights[number][level]
            written = repr(weight)
            if not math.isfinite(weight):
                written = f"w{number}_{level}"
                scope[written] = weight
            lines.append(f"    {'elif' if order else 'if'} x == {level}:")
            lines.append(f"        s[{slot}] += {written}")
            if weight > 0 and telling[number]:
                lines.append(f"        h[{slot}] = True")
    lines.append("    return None")
    function: Callable[[list[int], list[float], list[bool]], None] = define(
        name, "\n".join(lines) + "\n", "scored", scope
    )
    return function


#: Kleene "and"s and "or"s of at most this many parts are conditional expressions; longer ones
#: one call to ``min`` or ``max``, which costs less than as many comparisons.
_FOLDED_PARTS = 6
#: The deepest nesting of brackets written as conditional expressions: a condition that would
#: nest deeper is written with ``min`` and ``max`` calls alone (CPython refuses 200 levels).
_NESTING = 100


def _python(condition: Condition, index: Mapping[Atom, int], names: Iterator[int]) -> str:
    """The expression of *condition*'s level over the atom levels ``v``.

    Kleene "and" is the lower level and "or" the higher, written as conditional expressions
    rather than calls to ``min`` and ``max``, which cost about four times as much: ``a & b`` is
    ``(v[0] if v[0] <= v[5] else v[5])``. A part that is not an atom is evaluated once, into a
    local named from *names* (``_3``), unique within the generated function. A long list of
    parts is one call; a condition whose expression would nest too deep is written with calls
    alone, as :func:`_calls` writes it.
    """
    expression = _folded(condition, index, names)
    return expression if _nesting(expression) <= _NESTING else _calls(condition, index)


def _folded(condition: Condition, index: Mapping[Atom, int], names: Iterator[int]) -> str:
    if isinstance(condition, FactAtom | CompareAtom):
        return f"v[{index[condition]}]"
    if len(condition.parts) > _FOLDED_PARTS:
        inner = ", ".join(_folded(part, index, names) for part in condition.parts)
        return f"{'min' if isinstance(condition, All) else 'max'}({inner})"
    keeps = "<=" if isinstance(condition, All) else ">="
    parts = iter(condition.parts)
    expression = _folded(next(parts), index, names)
    for part in parts:
        left, first = _once(expression, names)
        right, second = _once(_folded(part, index, names), names)
        expression = f"({left} if {first} {keeps} {second} else {right})"
    return expression


def _calls(condition: Condition, index: Mapping[Atom, int]) -> str:
    """*condition*'s level as nested calls to ``min`` and ``max``: one bracket per level."""
    if isinstance(condition, FactAtom | CompareAtom):
        return f"v[{index[condition]}]"
    inner = ", ".join(_calls(part, index) for part in condition.parts)
    return f"{'min' if isinstance(condition, All) else 'max'}({inner})"


def _nesting(expression: str) -> int:
    """How deep the brackets of *expression* nest (it holds no strings)."""
    depth = deepest = 0
    for character in expression:
        if character in "([":
            depth += 1
            deepest = max(deepest, depth)
        elif character in ")]":
            depth -= 1
    return deepest


def _once(expression: str, names: Iterator[int]) -> tuple[str, str]:
    """How to read *expression* twice: its value's name, and what evaluates it first.

    An atom's level (``v[3]``) is read again; anything else is evaluated once into a local.
    """
    if expression.startswith("v["):
        return expression, expression
    name = f"_{next(names)}"
    return name, f"({name} := {expression})"


# --- parsing -------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<ref>@[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*)"
    r"|(?P<name>[a-z_][a-z0-9_]*)|(?P<op>>=|<=|>|<)|(?P<punct>[&|()]))"
)


@attrs.frozen
class Quantity:
    """What the parser needs to know about a quantity: which direction is clinically worse."""

    id: str
    worse: Literal["higher", "lower"]


def parse(
    text: str,
    *,
    facts: frozenset[str],
    quantities: Mapping[str, Quantity],
    thresholds: Mapping[str, float],
    monotone: bool = True,
) -> Condition:
    """Parse *text* into a condition, checking every name against the knowledge base.

    With *monotone* (the default, and always for referral rules) a quantity may only be compared
    in its clinically worse direction. The differential's features are parsed without it, since a
    short duration, say, legitimately supports a benign category.

    Raises:
        KnowledgeBaseError: On a syntax error, an unknown fact, quantity or threshold, or a
            comparison against the quantity's worse direction (which would break monotonicity).
    """
    return _Parser(text, facts, quantities, thresholds, monotone=monotone).parse()


class _Parser:
    def __init__(
        self,
        text: str,
        facts: frozenset[str],
        quantities: Mapping[str, Quantity],
        thresholds: Mapping[str, float],
        *,
        monotone: bool,
    ) -> None:
        self.monotone = monotone
        self.text = text
        self.facts = facts
        self.quantities = quantities
        self.thresholds = thresholds
        self.tokens = self._tokenize(text)
        self.pos = 0

    def _fail(self, message: str) -> KnowledgeBaseError:
        return KnowledgeBaseError(f"condition {self.text!r}: {message}")

    def _tokenize(self, text: str) -> list[tuple[str, str]]:
        tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text.rstrip()):
            match = _TOKEN.match(text, pos)
            if match is None or match.end() == pos:
                raise self._fail(f"cannot read {text[pos:]!r}")
            kind = match.lastgroup or ""
            tokens.append((kind, match.group(kind)))
            pos = match.end()
        return tokens

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        token = self._peek()
        if token is None:
            raise self._fail("ends too early")
        self.pos += 1
        return token

    def parse(self) -> Condition:
        condition = self._condition()
        if self._peek() is not None:
            raise self._fail(f"unexpected {self._peek()!r}")
        return condition

    def _condition(self) -> Condition:
        parts = [self._term()]
        while self._peek() == ("punct", "|"):
            self._take()
            parts.append(self._term())
        return parts[0] if len(parts) == 1 else Any_(tuple(parts))

    def _term(self) -> Condition:
        parts = [self._factor()]
        while self._peek() == ("punct", "&"):
            self._take()
            parts.append(self._factor())
        return parts[0] if len(parts) == 1 else All(tuple(parts))

    def _factor(self) -> Condition:
        kind, value = self._take()
        if (kind, value) == ("punct", "("):
            inner = self._condition()
            if self._take() != ("punct", ")"):
                raise self._fail("missing ')'")
            return inner
        if kind != "name":
            raise self._fail(f"expected a fact or quantity, found {value!r}")
        if self._peek() is not None and self._peek()[0] == "op":  # type: ignore[index]
            return self._comparison(value)
        if value not in self.facts:
            raise self._fail(f"unknown fact {value!r}")
        return FactAtom(value)

    def _comparison(self, name: str) -> CompareAtom:
        quantity = self.quantities.get(name)
        if quantity is None:
            raise self._fail(f"unknown quantity {name!r}")
        _, op = self._take()
        kind, value = self._take()
        if kind == "num":
            threshold, ref = float(value), None
        elif kind == "ref":
            ref = value[1:]
            if ref not in self.thresholds:
                raise self._fail(f"unknown threshold {value!r}")
            threshold = self.thresholds[ref]
        else:
            raise self._fail(f"expected a number or @threshold after {op!r}")
        upward = op in {">=", ">"}
        if self.monotone and upward != (quantity.worse == "higher"):
            raise self._fail(
                f"{name} is worse when {quantity.worse}; comparing it with {op!r} would let a "
                "worse value lower urgency"
            )
        return CompareAtom(name, op, threshold, ref)  # type: ignore[arg-type]

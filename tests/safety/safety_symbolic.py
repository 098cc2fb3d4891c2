"""The rule table and the specification, compiled into z3 formulas over tri-state screening items.

Every yes/no item is a z3 integer in {0, 1, 2} (absent, unknown, present); every quantity is a
``given`` flag and a real value, bounded to its valid input range. Kleene levels are carried as two
booleans (present; at least unknown) and urgencies as three (at least routine / urgent /
emergency), which keeps every query close to pure SAT: milliseconds each.

The rule table is compiled by walking the condition trees of
``KnowledgeBase.rules`` (the parsed objects the evaluator runs), with the same Kleene semantics
(``&`` = min, ``|`` = max), the same treatment of quantities that are not given (``ask``: unknown,
``not_measured``: absent) and the same open-screen law as ``ReferralEvaluator``, so that a proof
about the formulas is a proof about the evaluator; the agreement tests check that it is.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs
import z3

import fasciculate
from fasciculate import KnowledgeBase, Presentation, Rule, Urgency
from fasciculate.conditions import All, Any_, CompareAtom, Condition, FactAtom, atoms
from safety_indications import CORE, FINDINGS, INDICATIONS, SpecIndication
from safety_spec import ASKED_QUANTITIES, CLAUSES, IMPLIED_BY, PRESENT, UNKNOWN, implied

Expr = Any  # a z3 arithmetic or boolean expression


@attrs.frozen
class Level:
    """A Kleene level as two z3 booleans: ``present`` (level 2) and ``possible`` (level >= 1)."""

    present: Expr
    possible: Expr

    @property
    def unknown(self) -> Expr:
        """Level 1: possible but not certain."""
        return z3.And(self.possible, z3.Not(self.present))

    def as_int(self) -> Expr:
        """The level as 0, 1 or 2."""
        return z3.If(self.present, 2, z3.If(self.possible, 1, 0))


def of_int(var: Expr) -> Level:
    """The level of an integer item in {0, 1, 2}."""
    return Level(var == PRESENT, var >= UNKNOWN)


def kmax(*parts: Level) -> Level:
    """Kleene ``or``: the largest level."""
    return Level(z3.Or([p.present for p in parts]), z3.Or([p.possible for p in parts]))


def kmin(*parts: Level) -> Level:
    """Kleene ``and``: the smallest level."""
    return Level(z3.And([p.present for p in parts]), z3.And([p.possible for p in parts]))


def lift(level: Level) -> Level:
    """Answer every unknown as present (the worst completion of an incomplete screen)."""
    return Level(level.possible, level.possible)


def compared(given: Expr, holds: Expr, *, asked: bool | Expr) -> Level:
    """The level of a comparison: its truth when given; unknown (asked) or absent when not."""
    present = z3.And(given, holds)
    if asked is False:
        return Level(present, present)
    return Level(present, z3.Or(present, z3.And(z3.Not(given), asked)))


def focus(level: Level, indicated: Expr) -> Level:
    """An answer on the focused screen: unknown only when its question is indicated."""
    return Level(level.present, z3.Or(level.present, z3.And(level.possible, indicated)))


@attrs.frozen
class Rank:
    """An urgency rank (0-3) as three z3 booleans: ``rank >= 1``, ``>= 2``, ``>= 3``."""

    at_least: tuple[Expr, Expr, Expr]

    def ge(self, rank: int) -> Expr:
        """``self >= rank``."""
        if rank <= 0:
            return z3.BoolVal(val=True)
        return self.at_least[rank - 1] if rank <= 3 else z3.BoolVal(val=False)

    def eq(self, rank: int) -> Expr:
        """``self == rank``."""
        return z3.And(self.ge(rank), z3.Not(self.ge(rank + 1)))

    def lt(self, other: Rank) -> Expr:
        """``self < other``."""
        return z3.Or([z3.And(other.ge(k), z3.Not(self.ge(k))) for k in (1, 2, 3)])

    def ne(self, other: Rank) -> Expr:
        """``self != other``."""
        return z3.Or(self.lt(other), other.lt(self))

    def as_int(self) -> Expr:
        """The rank as an integer term."""
        return z3.If(self.ge(3), 3, z3.If(self.ge(2), 2, z3.If(self.ge(1), 1, 0)))

    def substitute(self, *pairs: tuple[Expr, Expr]) -> Rank:
        """The rank with variables replaced."""
        ge = tuple(z3.substitute(term, *pairs) for term in self.at_least)
        return Rank(ge)  # type: ignore[arg-type]


def highest(levels: Iterable[Level], ranks: Iterable[int]) -> Rank:
    """The highest rank among the levels that are present (0 when none is)."""
    pairs = list(zip(levels, ranks, strict=True))
    ge = tuple(z3.Or([lv.present for lv, r in pairs if r >= k] or [False]) for k in (1, 2, 3))
    return Rank(ge)  # type: ignore[arg-type]


def still_open(base: Rank, levels: Iterable[Level], ranks: Iterable[int]) -> Expr:
    """Some level is unknown and, were it present, would raise *base*."""
    return z3.Or(
        [z3.And(lv.unknown, z3.Not(base.ge(r))) for lv, r in zip(levels, ranks, strict=True)]
        or [False]
    )


def open_screen(base: Rank, screen_open: Expr, screen: int) -> Rank:
    """The open-screen law: an unknown that could raise *base* lifts it to at least *screen*."""
    ge = tuple(z3.Or(base.ge(k), z3.And(screen_open, screen >= k)) for k in (1, 2, 3))
    return Rank(ge)  # type: ignore[arg-type]


_OPS: dict[str, Callable[[Expr, float], Expr]] = {
    ">=": lambda value, threshold: value >= threshold,
    ">": lambda value, threshold: value > threshold,
    "<=": lambda value, threshold: value <= threshold,
    "<": lambda value, threshold: value < threshold,
}


class RecordingAlgebra:
    """Collects the items and quantities a clause uses (to declare the proof's variables)."""

    def __init__(self) -> None:
        self.items: set[str] = set()
        self.quantities: set[str] = set()

    def item(self, name: str) -> int:
        self.items.add(name)
        return implied(self, name, lambda level: level, 0)  # type: ignore[arg-type]

    def _quantity(self, quantity: str, *_: object) -> int:
        self.quantities.add(quantity)
        return 0

    at_least = at_most = below = above = _quantity

    def any_(self, *_: int) -> int:
        return 0

    all_ = any_


def spec_vocabulary() -> tuple[set[str], set[str]]:
    """The items and quantities the specification reads (its clauses and its indications)."""
    recorder = RecordingAlgebra()
    for clause in CLAUSES:
        clause.holds(recorder)  # type: ignore[arg-type]
    for indication in (*INDICATIONS, *FINDINGS):
        indication.when(recorder)
    return recorder.items, recorder.quantities


@attrs.frozen
class KbFocus:
    """The focused screen of a knowledge base: core questions, and (questions, when) pairs."""

    core: frozenset[str]
    indications: tuple[tuple[tuple[str, ...], Condition], ...]


def kb_focus(kb: KnowledgeBase) -> KbFocus:
    """The core questions and the indications of *kb* (their parsed conditions)."""
    return KbFocus(
        frozenset(kb.core.questions),
        tuple((ind.questions, ind.condition) for ind in kb.indications),
    )


def kb_vocabulary(kb: KnowledgeBase) -> tuple[set[str], set[str]]:
    """The fact atoms and quantities the rule table, its derivations and indications use."""
    found = [atom for rule in kb.rules for atom in atoms(rule.condition)]
    found += [derivation.when for derivation in kb.derivations]
    found += [FactAtom(derivation.sets) for derivation in kb.derivations]
    found += [atom for ind in kb.indications for atom in atoms(ind.condition)]
    return (
        {atom.name for atom in found if isinstance(atom, FactAtom)},
        {atom.quantity for atom in found if isinstance(atom, CompareAtom)},
    )


@attrs.frozen
class Background:
    """The fixed context of a proof: quantities (``None``: not given) and the rest of the form."""

    name: str
    quantities: Mapping[str, float | None]
    presentation: Mapping[str, Any]


class World:
    """The z3 variables of one proof: a level per item, a flag and a value per quantity."""

    def __init__(
        self,
        items: Iterable[str],
        quantities: Iterable[str],
        bounds: Mapping[str, tuple[float, float]],
        tag: str = "",
    ) -> None:
        """Declare the variables; *bounds* are the valid input ranges; *tag* names a copy."""
        self.bounds = bounds
        self.items = {name: z3.Int(f"{name}{tag}") for name in sorted(items)}
        self.quantity_names = sorted(quantities)
        self.given = {name: z3.Bool(f"{name}_given{tag}") for name in self.quantity_names}
        self.value = {name: z3.Real(f"{name}{tag}") for name in self.quantity_names}

    def _whole_numbers(self, name: str) -> list[Expr]:
        """The constraints of a counted quantity, and of the items read from the same field."""
        value, given = self.value[name], self.given[name]
        found = []
        if name == "region_count":
            found.append(z3.Implies(given, z3.Or([value == n for n in (1, 2, 3, 4)])))
            found += self._named_sites(value, given)
        if name == "power_lowest":  # MRC grades are whole numbers
            found.append(z3.Implies(given, z3.Or([value == n for n in range(6)])))
        if name == "age":  # whole years; under 16 is read from the age
            found.append(z3.IsInt(value))
            if "age_under_16" in self.items:
                child = self.items["age_under_16"]
                found.append((child == UNKNOWN) == z3.Not(given))
                found.append(z3.Implies(given, (child == PRESENT) == (value < 16)))
        return found

    def _named_sites(self, count: Expr, given: Expr) -> list[Expr]:
        """The tongue, a hand and the face are answered with the sites, and counted in them.

        The bulbar region has no site but the tongue and the face: four regions need one of them.
        """
        named = {name: self.items[name] for name in _NAMED_SITES if name in self.items}
        found = [(level == UNKNOWN) == z3.Not(given) for level in named.values()]
        bulbar = z3.Or(
            [named[n] == PRESENT for n in ("region_tongue", "region_face") if n in named]
        )
        hand = named["region_hand"] == PRESENT if "region_hand" in named else z3.BoolVal(val=False)
        forced = z3.If(bulbar, 1, 0) + z3.If(hand, 1, 0)
        found.append(z3.Implies(given, count >= forced))
        if {"region_tongue", "region_face"} <= set(named):
            found.append(z3.Implies(z3.And(given, count == 4), bulbar))
        return found

    def _expressible(self, name: str, level: Expr, *, medications: bool) -> list[Expr]:
        """What the input can say about item *name* (see :meth:`domain`)."""
        if name.startswith("med_"):
            return [level != UNKNOWN] if medications else []
        if "_reported_" not in name:
            return []
        found = [level != UNKNOWN]
        plain = self.items.get(name.replace("critically_", ""))
        if "_reported_critically_" in name and plain is not None:
            found.append(z3.Implies(level == PRESENT, plain == PRESENT))
        return found

    def domain(self, background: Background | None) -> list[Expr]:
        """The constraints every assignment meets (and the background, when there is one).

        What the input can express bounds the items: a laboratory's words about a result are
        given or not (never unknown), and a critical word is also out of range (LL is low); with
        a medication list given, a medication class is taken or not.
        """
        facts = [z3.And(0 <= level, level <= PRESENT) for level in self.items.values()]
        medications = background is not None and bool(background.presentation.get("medications"))
        for name, level in self.items.items():
            facts += self._expressible(name, level, medications=medications)
        quantities = []
        for name in self.quantity_names:
            value, given = self.value[name], self.given[name]
            low, high = self.bounds.get(name, (0, 10**6))
            quantities.append(z3.And(low <= value, value <= high))
            quantities += self._whole_numbers(name)
            if name.endswith("_lowest") and (high := name.replace("_lowest", "_highest")) in (
                self.given
            ):
                quantities.append(given == self.given[high])
                quantities.append(value <= self.value[high])
            if background is not None:
                fixed = background.quantities.get(name)
                quantities.append(given if fixed is not None else z3.Not(given))
                if fixed is not None:
                    quantities.append(value == fixed)
        if {"brisk_reflexes", "reduced_knee_reflex"} <= set(self.items):
            # An unexamined knee with brisk reflexes answered absent cannot be written down: brisk
            # reflexes are only absent when both reflexes were examined.
            brisk, reduced = self.items["brisk_reflexes"], self.items["reduced_knee_reflex"]
            facts.append(z3.Not(z3.And(brisk == 0, reduced == UNKNOWN)))
        return facts + quantities


class Z3Algebra:
    """The specification's algebra over a :class:`World` (optionally on its worst completion).

    With *indicated* (a z3 boolean per question), an unanswered question that is not indicated
    reads as absent: the focused screen.
    """

    def __init__(
        self, world: World, *, worst: bool = False, indicated: Mapping[str, Expr] | None = None
    ) -> None:
        self.world, self.worst, self.indicated = world, worst, indicated

    def _indicated(self, name: str) -> Expr:
        if self.indicated is None:
            return z3.BoolVal(val=True)
        return self.indicated.get(name, z3.BoolVal(val=False))

    def _out(self, level: Level) -> Level:
        return lift(level) if self.worst else level

    def item(self, name: str) -> Level:
        return self._out(self.answer(name))

    def answer(self, name: str) -> Level:
        """The item's level before the worst completion: its answer, with its implications."""
        raw = of_int(self.world.items[name])
        if self.indicated is not None:
            raw = focus(raw, self._indicated(name))
        parts = [raw, *(self._present(self.answer(s)) for s in IMPLIED_BY.get(name, ()))]
        if name == "exam_weakness":
            grade = self.world.value["power_lowest"]
            weak = compared(self.world.given["power_lowest"], grade < 5, asked=False)
            parts.append(self._present(weak))
        return kmax(*parts)

    @staticmethod
    def _present(level: Level) -> Level:
        return Level(level.present, level.present)

    def _compare(self, quantity: str, holds: Expr) -> Level:
        given = self.world.given[quantity]
        asked = quantity in ASKED_QUANTITIES and self._indicated(quantity)
        return self._out(compared(given, holds, asked=asked))

    def at_least(self, quantity: str, threshold: float) -> Level:
        return self._compare(quantity, self.world.value[quantity] >= threshold)

    def at_most(self, quantity: str, threshold: float) -> Level:
        return self._compare(quantity, self.world.value[quantity] <= threshold)

    def below(self, quantity: str, threshold: float) -> Level:
        return self._compare(quantity, self.world.value[quantity] < threshold)

    def above(self, quantity: str, threshold: float) -> Level:
        return self._compare(quantity, self.world.value[quantity] > threshold)

    def any_(self, *parts: Level) -> Level:
        return kmax(*parts)

    def all_(self, *parts: Level) -> Level:
        return kmin(*parts)


class CitedAlgebra(Z3Algebra):
    """The specification read on the facts a fired rule cites, with everything else absent."""

    def __init__(self, world: World, cited: Mapping[str, Expr]) -> None:
        super().__init__(world)
        self.cited = cited

    def item(self, name: str) -> Level:
        shown = self.cited.get(name, z3.BoolVal(val=False))
        return Level(shown, shown)

    def answer(self, name: str) -> Level:
        return self.item(name)

    def _compare(self, quantity: str, holds: Expr) -> Level:
        shown = z3.And(self.cited.get(quantity, z3.BoolVal(val=False)), holds)
        return Level(shown, shown)


def spec_indicated(
    world: World, indications: tuple[SpecIndication, ...] = INDICATIONS
) -> dict[str, Expr]:
    """Whether each question of the specification is indicated (its indications, real answers)."""
    algebra = Z3Algebra(world)
    whens = [(ind.questions, ind.when(algebra).possible) for ind in indications]
    names = {name for questions, _ in whens for name in questions}
    found = {
        name: z3.Or([when for questions, when in whens if name in questions]) for name in names
    }
    found.update(dict.fromkeys(CORE, z3.BoolVal(val=True)))
    return found


def spec_result(
    world: World,
    *,
    worst: bool = False,
    indications: tuple[SpecIndication, ...] = INDICATIONS,
) -> tuple[Rank, dict[str, Level]]:
    """The specified urgency rank and every clause's level, as z3 terms.

    The base is read on the answers as given; the open screen on the focused screen (*worst*:
    every indicated unanswered question answered present, every other one absent).
    """
    indicated = spec_indicated(world, indications)
    algebra = Z3Algebra(world)
    levels = {clause.id: clause.holds(algebra) for clause in CLAUSES}
    ranks = [clause.urgency.rank for clause in CLAUSES]
    focused = Z3Algebra(world, worst=worst, indicated=indicated)
    focused_levels = [clause.holds(focused) for clause in CLAUSES]
    if worst:
        return highest(focused_levels, ranks), levels
    base = highest(levels.values(), ranks)
    screen_open = still_open(base, focused_levels, ranks)
    return open_screen(base, screen_open, Urgency.ROUTINE.rank), levels


@attrs.frozen
class SpecFocus:
    """The specification's focused screen as z3 terms: what it calls for, and its clause levels."""

    indicated: dict[str, Expr]
    #: Each clause's rank, and its level on the focused screen.
    ranks: tuple[int, ...]
    focused: tuple[Level, ...]
    base: Rank
    _demands: dict[str, Expr] = attrs.field(factory=dict, eq=False, repr=False)

    def demands(self, world: World) -> dict[str, Expr]:
        """For each question, when the specification demands it.

        Unanswered, called for, and its answer could make a clause above the urgency of the
        clauses that hold more certain (present against absent). Built once: it does not depend
        on the knowledge base.
        """
        if not self._demands:
            for name in sorted(self.indicated):
                if name not in world.items:
                    continue
                var = world.items[name]

                def at(level: Level, value: int, var: Expr = var) -> Level:
                    pair = (var, z3.IntVal(value))
                    return Level(
                        z3.substitute(level.present, pair), z3.substitute(level.possible, pair)
                    )

                could_raise = [
                    z3.And(z3.Not(self.base.ge(rank)), raised(at(level, PRESENT), at(level, 0)))
                    for level, rank in zip(self.focused, self.ranks, strict=True)
                ]
                self._demands[name] = z3.And(
                    var == UNKNOWN, self.indicated[name], z3.Or(could_raise)
                )
        return self._demands


@functools.cache
def spec_focus(
    world_key: tuple[tuple[str, ...], tuple[str, ...]],
    indications: tuple[SpecIndication, ...] = INDICATIONS,
) -> SpecFocus:
    """The specification's focused screen on the world named by *world_key*.

    The key is the world's item and quantity names: z3 knows a variable by its name, so every
    world of the same names shares the terms (the knowledge base's mutants among them).
    """
    world = World(*world_key, bounds={})
    indicated = spec_indicated(world, indications)
    levels = [clause.holds(Z3Algebra(world)) for clause in CLAUSES]
    ranks = tuple(clause.urgency.rank for clause in CLAUSES)
    focused = Z3Algebra(world, indicated=indicated)
    return SpecFocus(
        indicated,
        ranks,
        tuple(clause.holds(focused) for clause in CLAUSES),
        highest(levels, ranks),
    )


def raised(higher: Level, lower: Level) -> Expr:
    """``higher > lower`` in Kleene order."""
    return z3.Or(
        z3.And(higher.present, z3.Not(lower.present)),
        z3.And(higher.possible, z3.Not(lower.possible)),
    )


@attrs.frozen
class Compiled:
    """The rule table as z3 terms: rule levels, result rank and what each fired rule cites."""

    rules: tuple[Rule, ...]
    levels: tuple[Level, ...]
    result: Rank
    screen_open: Expr
    worst_result: Rank
    cited: tuple[dict[str, Expr], ...]
    #: The rank of the fired rules alone, and the result under the first edition's law (every
    #: question indicated).
    base: Rank
    unfocused: Rank
    #: Whether each question is indicated (core: true), as z3 booleans.
    indicated: dict[str, Expr]


def _condition(condition: Condition, atom_level: Callable[[Any], Level]) -> Level:
    if isinstance(condition, FactAtom | CompareAtom):
        return atom_level(condition)
    parts = [_condition(part, atom_level) for part in condition.parts]
    if isinstance(condition, All):
        return kmin(*parts)
    if isinstance(condition, Any_):
        return kmax(*parts)
    raise TypeError(condition)  # pragma: no cover - the condition language has four node types


def kb_indicated(focused: KbFocus, atom_level: Callable[[Any], Level]) -> dict[str, Expr]:
    """Whether each question is indicated: core, or some indication listing it may hold."""
    indicated: dict[str, Expr] = {}
    whens = [
        (questions, _condition(when, atom_level).possible)
        for questions, when in focused.indications
    ]
    for name in {name for questions, _ in whens for name in questions}:
        indicated[name] = z3.Or([when for questions, when in whens if name in questions])
    indicated.update(dict.fromkeys(focused.core, z3.BoolVal(val=True)))
    return indicated


def _cited(
    rules: tuple[Rule, ...], levels: tuple[Level, ...], atom_level: Callable[[Any], Level]
) -> list[dict[str, Expr]]:
    """For each rule, when each fact or quantity it reads is cited (the rule fires on it)."""
    cited = []
    for rule, level in zip(rules, levels, strict=True):
        shown: dict[str, Expr] = {}
        for atom in dict.fromkeys(atoms(rule.condition)):
            name = atom.name if isinstance(atom, FactAtom) else atom.quantity
            holds = z3.And(level.present, atom_level(atom).present)
            shown[name] = z3.Or(shown[name], holds) if name in shown else holds
        cited.append(shown)
    return cited


def compile_kb(kb: KnowledgeBase, world: World) -> Compiled:
    """Compile the rule table of *kb* with the semantics of ``ReferralEvaluator``."""

    def raw_level(atom: FactAtom | CompareAtom) -> Level:
        if isinstance(atom, FactAtom):
            return of_int(world.items[atom.name])
        ask = kb.quantities[atom.quantity].when_missing == "ask"
        holds = _OPS[atom.op](world.value[atom.quantity], atom.threshold)
        return compared(world.given[atom.quantity], holds, asked=ask)

    # The derivations of kb/derivations.toml, in order: a specific finding that is present makes
    # its general fact present (only presence carries over), as ``facts_from`` applies them.
    derived: dict[str, Level] = {}
    for derivation in kb.derivations:
        target = derived.get(derivation.sets) or of_int(world.items[derivation.sets])
        source = derivation.when
        if isinstance(source, FactAtom) and source.name in derived:
            when = derived[source.name]
        else:
            when = raw_level(source)
        derived[derivation.sets] = kmax(target, Level(when.present, when.present))

    def atom_level(atom: FactAtom | CompareAtom) -> Level:
        if isinstance(atom, FactAtom) and atom.name in derived:
            return derived[atom.name]
        return raw_level(atom)

    # The focused screen (kb/indications.toml): a question is indicated when it is core or some
    # indication listing it may hold on the answers as given (unknown indicates); an unanswered
    # question that is not indicated reads as absent when deciding whether the screen is open.
    focused = kb_focus(kb)
    indicated = kb_indicated(focused, atom_level)

    def focused_level(atom: FactAtom | CompareAtom) -> Level:
        name = atom.name if isinstance(atom, FactAtom) else atom.quantity
        return focus(atom_level(atom), indicated.get(name, z3.BoolVal(val=False)))

    levels = tuple(_condition(rule.condition, atom_level) for rule in kb.rules)
    ranks = [rule.urgency.rank for rule in kb.rules]
    base = highest(levels, ranks)
    screen = kb.screen_incomplete.urgency.rank
    open_levels = [_condition(rule.condition, focused_level) for rule in kb.rules]
    screen_open = still_open(base, open_levels, ranks)
    result = open_screen(base, screen_open, screen)
    unfocused = open_screen(base, still_open(base, levels, ranks), screen)
    worst_levels = [
        _condition(rule.condition, lambda atom: lift(focused_level(atom))) for rule in kb.rules
    ]
    worst_result = highest(worst_levels, ranks)
    cited = _cited(kb.rules, levels, atom_level)
    return Compiled(
        kb.rules,
        levels,
        result,
        screen_open,
        worst_result,
        tuple(cited),
        base,
        unfocused,
        indicated,
    )


# --- properties: each a z3 formula that is satisfiable exactly when the property is violated ------


@attrs.frozen
class Violation:
    """A counterexample: the property it breaks and the assignment that breaks it."""

    prop: str
    levels: dict[str, int]
    quantities: dict[str, float | None]
    detail: str = ""


@attrs.frozen
class Proof:
    """A proof session: one world, one background, one rule table."""

    kb: KnowledgeBase
    background: Background | None
    world: World
    compiled: Compiled
    spec: Rank
    spec_worst: Rank
    focus: SpecFocus

    @classmethod
    def build(
        cls,
        kb: KnowledgeBase,
        background: Background | None,
        *,
        indications: tuple[SpecIndication, ...] = INDICATIONS,
    ) -> Proof:
        """Declare the variables and compile both sides (the specification's *indications*)."""
        spec_items, spec_quantities = spec_vocabulary()
        kb_items, kb_quantities = kb_vocabulary(kb)
        bounds = {
            "duration_days": (0.0, 36500.0),
            "region_count": (1.0, 4.0),
            "power_lowest": (0.0, 5.0),
            "age": (0.0, 120.0),
        }
        for lab in kb.labs.values():
            bounds[f"{lab.analyte}_lowest"] = bounds[f"{lab.analyte}_highest"] = lab.plausible
        world = World(spec_items | kb_items, spec_quantities | kb_quantities, bounds)
        spec, _ = spec_result(world, indications=indications)
        spec_worst, _ = spec_result(world, worst=True, indications=indications)
        key = (tuple(world.items), tuple(world.quantity_names))
        focused = spec_focus(key, indications)
        return cls(kb, background, world, compile_kb(kb, world), spec, spec_worst, focused)

    def solver(self) -> z3.Solver:
        """A solver holding the domain of the assignments."""
        solver = z3.Solver()
        solver.add(*self.world.domain(self.background))
        return solver

    def find(self, prop: str, violation: Expr, detail: str = "") -> Violation | None:
        """A counterexample to *prop* (``violation`` satisfiable), or ``None`` when proved."""
        solver = self.solver()
        solver.add(violation)
        verdict = solver.check()
        if verdict == z3.unsat:
            return None
        if verdict != z3.sat:  # pragma: no cover - a timeout is a failure, never a proof
            raise AssertionError(f"{prop}: solver answered {verdict}")
        return self._violation(prop, solver.model(), detail)

    def _violation(self, prop: str, model: z3.ModelRef, detail: str) -> Violation:
        levels = {
            name: model.eval(var, model_completion=True).as_long()
            for name, var in self.world.items.items()
        }
        quantities: dict[str, float | None] = {}
        for name in self.world.quantity_names:
            given = z3.is_true(model.eval(self.world.given[name], model_completion=True))
            value = model.eval(self.world.value[name], model_completion=True)
            quantities[name] = float(value.as_fraction()) if given else None
        return Violation(prop, levels, quantities, detail)

    # The properties of the issue, one method each.
    def below_spec(self) -> Violation | None:
        """Safety: the rule table never answers less urgently than the specification."""
        return self.find("urgency >= specification", self.compiled.result.lt(self.spec))

    def off_spec(self) -> Violation | None:
        """The rule table answers differently from the specification (either way)."""
        violation = self.find("urgency == specification", self.compiled.result.ne(self.spec))
        if violation is None:
            return None
        assignment = concrete(self.world, violation.levels, violation.quantities)
        table = rank_of(self.compiled.result.as_int(), assignment)
        spec = rank_of(self.spec.as_int(), assignment)
        word = "below" if table < spec else "above"
        return attrs.evolve(violation, prop=f"urgency {word} the specification ({table} vs {spec})")

    def above_spec(self) -> Violation | None:
        """Specificity: the rule table never answers more urgently than the specification."""
        return self.find("urgency <= specification", self.spec.lt(self.compiled.result))

    def not_monotone(self) -> Violation | None:
        """Raising any set of items, or making any quantities worse, never lowers the urgency.

        Two copies of the assignment, the second pointwise at least as bad as the first: every item
        at least as present (absent <= unknown <= present), every duration and region count at
        least as high, every laboratory result at least as far out (lowest lower, highest higher).
        """
        raised = {var: z3.Int(f"{name}_raised") for name, var in self.world.items.items()}
        order = [z3.And(var <= up, up <= PRESENT) for var, up in raised.items()]
        moved: dict[Expr, Expr] = {}
        for name in self.world.quantity_names:
            var, worse = self.world.value[name], z3.Real(f"{name}_worse")
            low, high = self.world.bounds.get(name, (0, 10**6))
            order.append(z3.And(low <= worse, worse <= high))
            order.append(worse <= var if name.endswith("_lowest") else worse >= var)
            if name == "region_count":
                order.append(z3.Or([worse == n for n in (1, 2, 3, 4)]))
            moved[var] = worse
        higher = self.compiled.result.substitute(*raised.items(), *moved.items())
        solver = self.solver()
        solver.add(*order, higher.lt(self.compiled.result))
        if solver.check() == z3.unsat:
            return None
        model = solver.model()
        violation = self._violation("monotone", model, "")
        changes = [
            f"{name}: {violation.levels[name]}->{model.eval(raised[var]).as_long()}"
            for name, var in self.world.items.items()
            if model.eval(raised[var], model_completion=True).as_long() != violation.levels[name]
        ]
        return attrs.evolve(violation, prop=f"monotone; raising {', '.join(changes)} lowers it")

    def not_monotone_in(self, item: str) -> Violation | None:
        """absent <= unknown <= present for one item, every other item free."""
        var = self.world.items[item]
        at = [self.compiled.result.substitute((var, z3.IntVal(v))) for v in (0, 1, 2)]
        return self.find(f"monotone in {item}", z3.Or(at[1].lt(at[0]), at[2].lt(at[1])), item)

    def self_care_while_open(self) -> Violation | None:
        """self_care only when no answer to the open questions could raise it (table and spec)."""
        could_rise = z3.Or(self.compiled.worst_result.ge(1), self.spec_worst.ge(1))
        return self.find(
            "self_care only on a complete screen",
            z3.And(z3.Not(self.compiled.result.ge(1)), could_rise),
        )

    def escalates_as_before(self) -> Violation | None:
        """A present answer escalates as before; the focused screen only ever closes questions.

        The urgency is at least that of the fired rules (read on every answer, indicated or
        not) and at most the first edition's (every question indicated): the two differ only
        where the first edition kept a screen open at ``routine`` that the presentation does not
        call for.
        """
        compiled = self.compiled
        return self.find(
            "fired rules <= urgency <= the unfocused screen's",
            z3.Or(compiled.result.lt(compiled.base), compiled.unfocused.lt(compiled.result)),
        )

    def asks_less(self, skip: frozenset[str] = frozenset()) -> Violation | None:
        """Every question the specification calls for, and that could raise the urgency, is asked.

        Beyond self-care too: a question the specification indicates, unanswered, whose answer
        could make a clause above the urgency of the clauses that hold more certain (present
        against absent, on the specification's focused screen), is indicated by the knowledge
        base, so that it is among the open questions the clinician is given.
        """
        asked = {
            atom.name
            for rule in self.kb.rules
            for atom in atoms(rule.condition)
            if isinstance(atom, FactAtom)
        }
        demands = self.focus.demands(self.world)
        parts = {
            name: z3.And(demand, z3.Not(self.compiled.indicated.get(name, z3.BoolVal(val=False))))
            for name, demand in demands.items()
            if name in asked and name not in skip
        }
        solver = self.solver()
        solver.add(z3.Or([*parts.values(), z3.BoolVal(val=False)]))
        if solver.check() == z3.unsat:
            return None
        model = solver.model()
        names = [name for name, part in parts.items() if z3.is_true(model.eval(part))]
        return self._violation(
            f"the knowledge base asks every question the specification calls for: "
            f"{', '.join(names)} is not asked",
            model,
            ", ".join(names),
        )

    def indication_withdrawn(self) -> Violation | None:
        """Raising any set of items never withdraws an indicated question (``when`` is monotone)."""
        raised = {var: z3.Int(f"{name}_raised") for name, var in self.world.items.items()}
        order = [z3.And(var <= up, up <= PRESENT) for var, up in raised.items()]
        withdrawn = [
            z3.And(indicated, z3.Not(z3.substitute(indicated, *raised.items())))
            for indicated in self.compiled.indicated.values()
        ]
        return self.find(
            "raising an answer never withdraws an indicated question",
            z3.And(*order, z3.Or([*withdrawn, z3.BoolVal(val=False)])),
        )

    def unexplained(self) -> Violation | None:
        """A result above self_care is reached by a fired rule that has a source."""
        fired = [
            z3.And(level.present, self.compiled.result.eq(rule.urgency.rank))
            for rule, level in zip(self.kb.rules, self.compiled.levels, strict=True)
            if rule.source in self.kb.sources
        ]
        screen = self.kb.screen_incomplete
        if screen.source in self.kb.sources:
            fired.append(
                z3.And(self.compiled.screen_open, self.compiled.result.eq(screen.urgency.rank))
            )
        return self.find(
            "every non-self-care result has a fired rule with a source",
            z3.And(self.compiled.result.ge(1), z3.Not(z3.Or(fired))),
        )

    def any_unjustified(self) -> Violation | None:
        """Some fired rule's cited facts alone meet no clause of its urgency (all rules at once)."""
        unjustified = []
        for position, rule in enumerate(self.kb.rules):
            algebra = CitedAlgebra(self.world, self.compiled.cited[position])
            justified = [
                clause.holds(algebra).present
                for clause in CLAUSES
                if clause.urgency >= rule.urgency
            ]
            unjustified.append(
                z3.And(self.compiled.levels[position].present, z3.Not(z3.Or(justified)))
            )
        return self.find("every fired rule is justified by the facts it cites", z3.Or(unjustified))

    def differs_from(self, other: Proof) -> Violation | None:
        """An assignment on which this rule table and *other*'s answer differently."""
        return self.find(
            "same urgency as the packaged table", self.compiled.result.ne(other.compiled.result)
        )

    def unjustified(self, position: int) -> Violation | None:
        """A fired rule's cited facts alone meet a specification clause of its urgency."""
        rule = self.kb.rules[position]
        algebra = CitedAlgebra(self.world, self.compiled.cited[position])
        justified = [
            clause.holds(algebra).present for clause in CLAUSES if clause.urgency >= rule.urgency
        ]
        return self.find(
            f"{rule.id} is justified by the facts it cites",
            z3.And(self.compiled.levels[position].present, z3.Not(z3.Or(justified))),
            detail=rule.id,
        )


# --- counterexamples as presentations -----------------------------------------------------------

_TRI = {0: "absent", 1: "unknown", 2: "present"}
_EXAM = {
    "babinski": "babinski",
    "exam_wasting": "wasting",
    "exam_sensory_loss": "sensory_loss",
    "anal_sphincter_laxity": "anal_sphincter_laxity",
}
_EXPOSURES = {"strenuous_exercise": "strenuous_exercise_48h", "dehydration": "dehydration"}
_WORDS = {"low": "L", "critically_low": "LL", "high": "H", "critically_high": "HH"}
# One twitching site in each region of the neuraxis, knee first.
# The sites asked about by name, and the region of the neuraxis each is in (Gold Coast criteria);
# the other regions are filled with a site of their own, knee first.
_NAMED_SITES = {"region_tongue": "tongue", "region_face": "face", "region_hand": "hand"}
_REGION_OF = {"tongue": "bulbar", "face": "bulbar", "hand": "cervical"}
_FILLERS = (("lumbosacral", "knee"), ("cervical", "arm"), ("thoracic", "trunk"))
_FINDINGS = frozenset(str(finding) for finding in fasciculate.Finding)


def presentation_data(  # noqa: C901, PLR0912 - one branch per kind of item, read top to bottom
    levels: Mapping[str, int],
    quantities: Mapping[str, float | None],
    base: Mapping[str, Any] | None = None,
    kb: KnowledgeBase | None = None,
) -> dict[str, Any]:
    """A presentation (as JSON data) whose screening items and quantities are the given ones."""
    kb = kb or fasciculate.knowledge_base()
    # Two levels deep is all a presentation has that this function changes.
    data: dict[str, Any] = {
        key: dict(value) if isinstance(value, Mapping) else value
        for key, value in (base or {}).items()
    }
    findings = data.setdefault("findings", {})
    exam = data.setdefault("examination", {})
    twitching = data.setdefault("twitching", {})
    words: list[str] = []
    for name, level in levels.items():
        if name in _FINDINGS:
            findings[name] = _TRI[level]
        elif name in _EXAM:
            exam[_EXAM[name]] = _TRI[level]
        elif name == "exam_weakness":
            exam["strength"] = {0: "normal", 1: None, 2: "reduced"}[level]
        elif name == "brisk_reflexes":
            # The ankle carries brisk; the knee carries reduced_knee_reflex (normal by default).
            exam["knee_reflex"] = {0: "normal", 1: "normal", 2: "normal"}[level]
            exam["ankle_reflex"] = {0: "normal", 1: None, 2: "brisk"}[level]
        elif name == "worsening":
            twitching["course"] = {0: "stable", 1: None, 2: "worsening"}[level]
        elif name in {"reduced_knee_reflex", "age_under_16", *_NAMED_SITES}:
            pass  # written below, with the fields they share
        elif name in _EXPOSURES:
            data.setdefault("exposures", {})[_EXPOSURES[name]] = _TRI[level]
        elif name.startswith("med_"):
            medications = [
                m for m in data.get("medications", []) if m.get("drug_class") != name[4:]
            ]
            if level == PRESENT:
                medications.append({"drug_class": name[4:]})
            elif level == 0 and not medications:
                medications.append({"drug_class": "other"})
            data["medications"] = medications
        elif "_reported_" in name:
            if level == PRESENT:
                words.append(name)
        else:  # pragma: no cover - a new derived fact needs a line here
            raise KeyError(name)
    _shared_fields(levels, quantities, data)
    labs = _lab_data(quantities, words, kb)
    if labs or words or any(name.endswith(("_lowest", "_highest")) for name in quantities):
        data["labs"] = labs
    return data


def _shared_fields(
    levels: Mapping[str, int], quantities: Mapping[str, float | None], data: dict[str, Any]
) -> None:
    """The fields several items and quantities share: knee reflex, age, power, regions."""
    exam, twitching = data["examination"], data["twitching"]
    if "reduced_knee_reflex" in levels:
        exam["knee_reflex"] = {0: "normal", 1: None, 2: "reduced"}[levels["reduced_knee_reflex"]]
    if "age_under_16" in levels and "age" not in quantities:
        age = {0: 30, 1: None, 2: 12}[levels["age_under_16"]]
        data.setdefault("patient", {})["age"] = age
    if "age" in quantities:
        patient = data.setdefault("patient", {})
        patient["age"] = None if quantities["age"] is None else int(quantities["age"])
    if "power_lowest" in quantities:
        grade = quantities["power_lowest"]
        exam["power"] = {} if grade is None else {"knee_extension": int(grade)}
    named = [site for name, site in _NAMED_SITES.items() if levels.get(name) == PRESENT]
    if "duration_days" in quantities:
        twitching["duration_days"] = quantities["duration_days"]
        twitching.pop("onset_date", None)
    if "region_count" in quantities:
        count = quantities["region_count"]
        twitching["regions"] = _sites(named, int(count)) if count is not None else []
    elif named:
        twitching["regions"] = [*twitching.get("regions", []), *named]


def _sites(named: list[str], count: int) -> list[str]:
    """Sites in *count* regions of the neuraxis, the *named* ones among them (and no other)."""
    covered = {_REGION_OF[site] for site in named}
    fillers = [site for region, site in _FILLERS if region not in covered]
    return named + fillers[: count - len(covered)]


def _lab_data(
    quantities: Mapping[str, float | None], words: list[str], kb: KnowledgeBase
) -> list[dict[str, Any]]:
    """The laboratory results: each end's value, then each result given in words."""
    labs = []
    for lab in kb.labs.values():
        low = quantities.get(f"{lab.analyte}_lowest")
        high = quantities.get(f"{lab.analyte}_highest")
        labs += [
            {"analyte": str(lab.analyte), "value": value, "unit": lab.unit}
            for value in dict.fromkeys(v for v in (low, high) if v is not None)
        ]
    for name in words:  # a result in words: the strongest word for each end said
        analyte, _, end = name.partition("_reported_")
        stronger = name.replace("_reported_", "_reported_critically_")
        if end in _WORDS and stronger not in words:
            labs.append({"analyte": analyte, "interpretation": _WORDS[end]})
    return labs


def describe(violation: Violation, background: Background | None, kb: KnowledgeBase) -> str:
    """A counterexample as a readable presentation, with what the library answers for it."""
    base = background.presentation if background is not None else {}
    data = presentation_data(violation.levels, violation.quantities, base, kb)
    by_level = {
        word: sorted(name for name, level in violation.levels.items() if level == value)
        for value, word in ((PRESENT, "present"), (UNKNOWN, "unknown"))
    }
    given = {name: v for name, v in violation.quantities.items() if v is not None}
    lines = [
        f"property violated: {violation.prop}",
        f"background: {background.name if background else 'any'}",
        f"present: {', '.join(by_level['present']) or '-'}",
        f"unknown: {', '.join(by_level['unknown']) or '-'} (every other item absent)",
        f"quantities: {given or '-'}",
        "presentation:",
        json.dumps(data, indent=2, sort_keys=True),
    ]
    try:
        result = fasciculate.assess(data)
        fired = ", ".join(rule.id for rule in result.rules_fired) or "none"
        lines.append(f"fasciculate.assess: {result.urgency} (rules fired: {fired})")
        from safety_spec import spec_of  # noqa: PLC0415 - only needed for the message

        lines.append(f"specification: {spec_of(Presentation.model_validate(data))}")
    except fasciculate.FasciculateError as error:  # pragma: no cover - shown, not expected
        lines.append(f"(not a valid presentation: {error})")
    return "\n".join(lines)


def rank_of(expr: Expr, assignment: Mapping[Expr, Expr]) -> int:
    """Evaluate a z3 term on a concrete assignment with z3 itself."""
    return z3.simplify(z3.substitute(expr, *assignment.items())).as_long()


def concrete(
    world: World, levels: Mapping[str, int], quantities: Mapping[str, float | None]
) -> dict[Expr, Expr]:
    """The z3 substitution for one concrete assignment."""
    pairs: dict[Expr, Expr] = {
        var: z3.IntVal(levels.get(name, UNKNOWN)) for name, var in world.items.items()
    }
    for name in world.quantity_names:
        value = quantities.get(name)
        pairs[world.given[name]] = z3.BoolVal(value is not None)
        pairs[world.value[name]] = z3.RealVal(value if value is not None else 0)
    return pairs


def timed(function: Callable[[], Any]) -> tuple[Any, float]:
    """Run *function*, returning its result and the seconds it took."""
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


# --- the backgrounds of the proofs ----------------------------------------------------------------


def _quantities(**given: float) -> dict[str, float | None]:
    kb = fasciculate.knowledge_base()
    return {name: given.get(name) for name in kb.quantities}


BACKGROUNDS: dict[str, Background | None] = {
    "young-caffeine": Background(
        "young-caffeine",
        _quantities(duration_days=3, region_count=1, age=24),
        {
            "patient": {"age": 24, "sex": "male"},
            "twitching": {"regions": ["knee"], "duration_days": 3},
            "exposures": {"caffeine_mg_per_day": 650, "sleep_hours": 6, "stress": "high"},
        },
    ),
    "older-long-duration": Background(
        "older-long-duration",
        _quantities(duration_days=180, region_count=1, age=68),
        {
            "patient": {"age": 68, "sex": "female"},
            "twitching": {"regions": ["calf"], "duration_days": 180},
        },
    ),
    "abnormal-labs": Background(
        "abnormal-labs",
        _quantities(
            duration_days=10,
            region_count=1,
            age=45,
            potassium_lowest=3.1,
            potassium_highest=3.1,
            magnesium_lowest=0.55,
            magnesium_highest=0.55,
            calcium_adjusted_lowest=2.05,
            calcium_adjusted_highest=2.05,
            vitamin_d_lowest=22,
            vitamin_d_highest=22,
        ),
        {
            "patient": {"age": 45},
            "twitching": {"regions": ["anterior_thigh"], "duration_days": 10},
            "medications": [{"drug_class": "loop_diuretic"}],
        },
    ),
    # Every quantity free: any duration, any number of regions, any laboratory results.
    "any": None,
}


def quantity_classes(proof: Proof) -> int:
    """How many distinct cases the quantities make (not given, and each interval between cuts)."""
    if proof.background is not None:
        return 1
    cuts: dict[str, set[tuple[str, float]]] = {name: set() for name in proof.world.quantity_names}
    for rule in proof.kb.rules:
        for atom in atoms(rule.condition):
            if isinstance(atom, CompareAtom):
                cuts[atom.quantity].add((atom.op, atom.threshold))
    recorder = _CutRecorder(cuts)
    for clause in CLAUSES:
        clause.holds(recorder)  # type: ignore[arg-type]
    total = 1
    paired: set[str] = set()
    for name, found in cuts.items():
        if name in paired:
            continue
        values = sorted({threshold for _, threshold in found})
        classes = 2 * len(values) + 1 + 1  # points, open intervals, and "not given"
        if name.endswith("_lowest") and (high := name.replace("_lowest", "_highest")) in cuts:
            paired.add(high)
            other = sorted({threshold for _, threshold in cuts[high]})
            classes = (2 * len(values) + 1) * (2 * len(other) + 1) + 1
        total *= classes
    return total


class _CutRecorder(RecordingAlgebra):
    def __init__(self, cuts: dict[str, set[tuple[str, float]]]) -> None:
        super().__init__()
        self.cuts = cuts

    def at_least(self, quantity: str, threshold: float) -> int:
        self.cuts[quantity].add((">=", threshold))
        return 0

    def at_most(self, quantity: str, threshold: float) -> int:
        self.cuts[quantity].add(("<=", threshold))
        return 0

    def below(self, quantity: str, threshold: float) -> int:
        self.cuts[quantity].add(("<", threshold))
        return 0

    def above(self, quantity: str, threshold: float) -> int:
        self.cuts[quantity].add((">", threshold))
        return 0

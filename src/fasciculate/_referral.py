"""The referral evaluator: rule table x facts -> urgency, fired rules and open questions.

Each rule's condition is evaluated in Kleene logic. A rule that holds fires and sets its urgency. A
rule that is *unknown* (it could still hold, depending on unanswered questions) and would raise the
urgency keeps the screen open, if an *indicated* question could decide it: rule
``SCREEN-INCOMPLETE`` fires at ``routine`` and every indicated unanswered fact that could make such
a rule hold is returned as an open question. A question is indicated when it is core or when an
indication listing it (``kb/indications.toml``) is not known to be false; the unanswered questions
that are not indicated are set aside (read as absent for the screen, never for the fired rules)
and reported with the indications not met. So ``self_care`` is only ever returned when no
indicated unanswered question could raise it, and a present answer to any question escalates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import compress
from typing import Any, TypeVar

import attrs

from fasciculate._cache import BoundedCache
from fasciculate._conditions import (
    Atom,
    FactAtom,
    atoms,
    compile_condition,
    compile_table,
)
from fasciculate._evidence import AtomGroup, AtomTable, Evidence
from fasciculate._facts import Facts
from fasciculate._kb import Indication, KnowledgeBase, Rule
from fasciculate._screen import Indications
from fasciculate._vocab import FALSE, TRUE, UNKNOWN, Urgency


@attrs.frozen(cache_hash=True)
class FiredRule:
    """A rule that fired, with the facts it used."""

    rule: Rule
    evidence: tuple[Evidence, ...]


@attrs.frozen(cache_hash=True)
class OpenQuestion:
    """An unanswered fact that could raise the urgency if it were present (or worse).

    Or that decides which others are asked: an unanswered indicator of undecided indications
    (*decides*), whose answer "no" could set aside more questions than it takes to answer; with
    no *rules*, it is asked only for that, and *could_raise_to* is the highest urgency of the
    questions it decides about.
    """

    fact: str
    question: str
    could_raise_to: Urgency
    rules: tuple[str, ...]
    decides: tuple[str, ...] = ()


@attrs.frozen(cache_hash=True)
class SetAside:
    """An unanswered fact that could raise the urgency but that no indication calls for."""

    question: OpenQuestion
    indications: tuple[Indication, ...]


@attrs.frozen(cache_hash=True)
class _Screen:
    """What the unanswered questions leave open, for one pattern of atom levels."""

    open: bool
    missing: tuple[OpenQuestion, ...]
    not_asked: tuple[SetAside, ...]
    ask_next: tuple[OpenQuestion, ...]


@attrs.frozen
class Referral:
    """The referral decision for one presentation.

    *missing* are the open questions that could raise the urgency; *ask_next* the questions to
    ask next, in order: those, and the indicators that decide whether some of them are asked.
    """

    urgency: Urgency
    fired: tuple[FiredRule, ...]
    missing: tuple[OpenQuestion, ...]
    not_asked: tuple[SetAside, ...] = ()
    ask_next: tuple[OpenQuestion, ...] = ()


@attrs.frozen
class Tally:
    """The referral decision without its evidence or questions: what a summary reports.

    *rules* are the rules that fired, in the order of :attr:`Referral.fired`;
    *open_questions* is how many :attr:`Referral.missing` lists.
    """

    urgency: Urgency
    rules: tuple[Rule, ...]
    open_questions: int


_Item = TypeVar("_Item", FiredRule, Rule)


def _fired_rank(item: FiredRule) -> int:
    return item.rule.urgency.rank


def _rule_rank(item: Rule) -> int:
    return item.urgency.rank


#: Approximate sizes in bytes of a cached fired rule, and of a cached screen or list of open
#: questions (keyed on the levels of every atom), with their keys (measured).
_FIRED_SIZE = 150
_SCREEN_SIZE = 2000
#: Approximate size in bytes of the atoms that raise a rule, cached with its key.
_RAISING_SIZE = 200
_HOLDS = TRUE.__eq__
_BY_RANK = tuple(sorted(Urgency, key=lambda urgency: urgency.rank))


def _fact_of(atom: Atom) -> str:
    return atom.name if isinstance(atom, FactAtom) else atom.quantity


class ReferralEvaluator:
    """The rule table of a knowledge base, compiled for fast repeated evaluation."""

    def __init__(self, kb: KnowledgeBase) -> None:
        """Compile every rule of *kb*."""
        self.kb = kb
        self._atoms = AtomTable(
            kb, (*kb.atoms(), *Indications.atoms_of(kb)), ask_all=False, name="referral.evidence"
        )
        #: The atoms of the level vectors: every fact of the knowledge base, then comparisons.
        self.atoms: tuple[Atom, ...] = self._atoms.atoms
        index = self._atoms.index
        self._compiled: tuple[tuple[Rule, Callable[[list[int]], int], tuple[int, ...]], ...] = (
            tuple(
                (
                    rule,
                    compile_condition(rule.condition, index, name=f"rule {rule.id}", label=rule.id),
                    tuple(dict.fromkeys(index[atom] for atom in atoms(rule.condition))),
                )
                for rule in kb.rules
            )
        )
        # The hot path evaluates the rules most urgent first (stable), so fired rules come out
        # in report order and the rules that could still raise the urgency are a prefix.
        self._by_urgency = tuple(
            sorted(range(len(kb.rules)), key=lambda position: -kb.rules[position].urgency.rank)
        )
        self._sorted_table = compile_table(
            tuple(kb.rules[position].condition for position in self._by_urgency),
            index,
            name="referral rules, most urgent first",
            labels=tuple(kb.rules[position].id for position in self._by_urgency),
        )
        self._sorted_ranks = tuple(kb.rules[p].urgency.rank for p in self._by_urgency)
        #: Where each rule of the table (in table order) stands in urgency order.
        self._spot_of = tuple(self._by_urgency.index(p) for p in range(len(kb.rules)))
        ranks = self._sorted_ranks
        #: For each urgency rank, how many rules (most urgent first) rank above it.
        self._spots = range(len(kb.rules))
        self._limits = tuple(
            next((spot for spot, rank in enumerate(ranks) if rank <= base), len(ranks))
            for base in range(len(Urgency))
        )
        self._groups = tuple(
            AtomGroup(self._atoms, self._compiled[position][2]) for position in self._by_urgency
        )
        #: Fired rules, per rule, shared between presentations that give equal ones.
        self._shared: tuple[BoundedCache[object, FiredRule], ...] = tuple(
            BoundedCache("referral.fired_rule", size=_FIRED_SIZE) for _ in kb.rules
        )
        self._screens: BoundedCache[tuple[tuple[int, ...], int], _Screen] = BoundedCache(
            "referral.screen", size=_SCREEN_SIZE
        )
        self._questions: BoundedCache[
            tuple[tuple[int, ...], tuple[int, ...]], tuple[OpenQuestion, ...]
        ] = BoundedCache("referral.open_questions", size=_SCREEN_SIZE)
        #: Per rule and levels of its own atoms: the atoms whose answer would raise its level.
        self._raising: BoundedCache[tuple[int, tuple[int, ...]], tuple[int, ...]] = BoundedCache(
            "referral.raising", size=_RAISING_SIZE
        )
        #: Whether the screen is open and how many questions, for :meth:`tally`.
        self._counts: BoundedCache[tuple[tuple[int, ...], int], tuple[bool, int]] = BoundedCache(
            "referral.open_count", size=_SCREEN_SIZE
        )
        self._screen_open = FiredRule(kb.screen_incomplete, ())
        #: Each rule in urgency order, for :meth:`tally`.
        self._rules = tuple(kb.rules[p] for p in self._by_urgency)
        self._screen_rank = kb.screen_incomplete.urgency.rank
        self._fact_order = {fact: order for order, fact in enumerate([*kb.facts, *kb.quantities])}
        self._indications = Indications(kb, self.atoms, index)

    def rule_levels(self, values: list[int]) -> tuple[int, ...]:
        """The Kleene level of every rule, in table order, given the atom *values*."""
        results = self._sorted_table(values)
        return tuple(results[spot] for spot in self._spot_of)

    def __call__(self, facts: Facts) -> Referral:
        """Decide the referral for *facts*."""
        values = self._atoms.levels(facts)
        results = self._sorted_table(values)
        holding, base, limit = self._standing(results)
        fired = [self._fired(spot, values, facts) for spot in holding]
        if UNKNOWN not in results[:limit]:
            return Referral(urgency=_BY_RANK[base], fired=tuple(fired), missing=())
        screen = self._screen(tuple(values[: self._atoms.size]), limit)
        urgency = self._screened(fired, base, screen.open, self._screen_open, _fired_rank)
        return Referral(
            urgency=urgency,
            fired=tuple(fired),
            missing=screen.missing,
            not_asked=screen.not_asked,
            ask_next=screen.ask_next,
        )

    def tally(self, facts: Facts) -> Tally:
        """The urgency, the rules that fired and how many questions are open, for *facts*.

        What :meth:`__call__` decides, without the evidence, the questions themselves, the
        questions set aside or their order: for a summary. The rules and the screen are the
        same code; only the open questions are counted instead of listed.
        """
        values = self._atoms.levels(facts)
        results = self._sorted_table(values)
        holding, base, limit = self._standing(results)
        rules = [self._rules[spot] for spot in holding]
        if UNKNOWN not in results[:limit]:
            return Tally(urgency=_BY_RANK[base], rules=tuple(rules), open_questions=0)
        is_open, count = self._counts.one(
            (tuple(values[: self._atoms.size]), limit), self._new_count
        )
        urgency = self._screened(rules, base, is_open, self.kb.screen_incomplete, _rule_rank)
        return Tally(urgency=urgency, rules=tuple(rules), open_questions=count)

    def _standing(self, results: tuple[int, ...]) -> tuple[Iterable[int], int, int]:
        """Where the rules stand on their *results*, in urgency order.

        The rules that hold (their spots, most urgent first), the base urgency's rank, and how
        many rules rank above it (a prefix, since the ranks are sorted): those could still raise
        the urgency.
        """
        if TRUE not in results:
            return (), 0, self._limits[0]
        base = self._sorted_ranks[results.index(TRUE)]
        return compress(self._spots, map(_HOLDS, results)), base, self._limits[base]

    def _screened(
        self,
        fired: list[_Item],
        base: int,
        is_open: bool,
        item: _Item,
        rank: Callable[[_Item], int],
    ) -> Urgency:
        """The urgency from the base rank *base* and whether the screen *is_open*.

        An open screen adds *item* (``SCREEN-INCOMPLETE``) to *fired*, after the rules of its own
        urgency and above, before the lower ones (*rank* gives an item's urgency rank).
        """
        if not is_open:
            return _BY_RANK[base]
        screen_rank = self._screen_rank
        fired.insert(len([other for other in fired if rank(other) >= screen_rank]), item)
        return _BY_RANK[max(base, screen_rank)]

    def _open_at(self, results: tuple[int, ...], limit: int) -> tuple[int, ...]:
        """The rules (in table order) among the first *limit* in urgency order that are unknown."""
        return tuple(sorted(self._by_urgency[s] for s in range(limit) if results[s] == UNKNOWN))

    def _screen(self, frozen_values: tuple[int, ...], limit: int) -> _Screen:
        """The screen for atom levels *frozen_values*, where *limit* rules rank above the base."""
        return self._screens.one((frozen_values, limit), self._new_screen)

    def _new_screen(self, key: tuple[tuple[int, ...], int]) -> _Screen:
        """The screen for atom levels and a limit: *limit* rules rank above the base.

        Today's open questions (every unknown fact that could raise an open rule) split into the
        indicated ones, asked, and the rest, set aside. The screen stays open only if a rule above
        the base is still unknown once the set-aside facts are read as absent.
        """
        frozen_values, limit = key
        values = list(frozen_values)
        every = self._open_questions(
            self._open_at(self._sorted_table(values), limit), frozen_values
        )
        levels, focused, open_at = self._focused(values, limit)
        missing = self._open_questions(open_at, tuple(focused)) if open_at else ()
        not_asked = tuple(
            SetAside(question, self._indications.unmet(question.fact, levels))
            for question in every
            if not self._indications.indicated(question.fact, levels)
        )
        reported = (*(item.question for item in not_asked), *missing)
        ranks = {question.fact: question.could_raise_to.rank for question in reported}
        ask_next = self._indications.order(
            self._with_indicators(missing, values, levels), levels, ranks, self._fact_order
        )
        return _Screen(
            open=bool(open_at),
            missing=tuple(question for question in ask_next if question.rules),
            not_asked=not_asked,
            ask_next=ask_next,
        )

    def _focused(
        self, values: list[int], limit: int
    ) -> tuple[tuple[int, ...], list[int], tuple[int, ...]]:
        """What the focused screen reads on *values*, where *limit* rules rank above the base.

        The indications' levels; *values* with the set-aside facts read as absent; and the rules
        (in table order) among the first *limit* that stay unknown then: the screen is open if
        there are any.
        """
        levels = self._indications.levels(values)
        focused = self._indications.focus(values, levels)
        return levels, focused, self._open_at(self._sorted_table(focused), limit)

    def _new_count(self, key: tuple[tuple[int, ...], int]) -> tuple[bool, int]:
        """Whether the screen is open for atom levels and a limit, and how many questions.

        The same screen as :meth:`_new_screen`'s, with its open questions counted
        (``len(_Screen.missing)``) rather than listed.
        """
        frozen_values, limit = key
        _, focused, open_at = self._focused(list(frozen_values), limit)
        return bool(open_at), len(self._raising_facts(open_at, focused)) if open_at else 0

    def _with_indicators(
        self, missing: tuple[OpenQuestion, ...], values: list[int], levels: tuple[int, ...]
    ) -> tuple[OpenQuestion, ...]:
        """*missing*, and the indicators worth asking, each naming the indications it decides."""
        reach = {question.fact: question.could_raise_to for question in missing}
        gates = self._indications.gates(values, levels, frozenset(reach))
        if not gates:
            return missing
        rows = self._indications.rows
        indicators = tuple(
            OpenQuestion(
                fact=fact,
                question=self._text(fact),
                could_raise_to=max(
                    reach[name] for n in numbers for name in rows[n].questions if name in reach
                ),
                rules=(),
                decides=tuple(rows[n].id for n in numbers),
            )
            for fact, numbers in gates.items()
            if fact not in reach
        )
        decided = (
            attrs.evolve(question, decides=tuple(rows[n].id for n in gates[question.fact]))
            if question.fact in gates
            else question
            for question in missing
        )
        return (*decided, *indicators)

    def _text(self, fact: str) -> str:
        info = self.kb.facts.get(fact)
        return info.question if info is not None else self.kb.quantities[fact].question

    def _fired(self, spot: int, values: list[Any], facts: Facts) -> FiredRule:
        """The fired rule at *spot* (in urgency order); equal ones are shared."""
        group = self._groups[spot]
        key = group.key(values)
        shared = self._shared[spot]
        shared.lookups += 1
        fired = shared.get(key)
        if fired is None:
            rule = self._compiled[self._by_urgency[spot]][0]
            evidence = self._atoms.evidence(group.positions, values, TRUE, facts)
            fired = shared.store(key, FiredRule(rule, evidence))
        return fired

    def _open_questions(
        self, open_at: tuple[int, ...], frozen_values: tuple[int, ...]
    ) -> tuple[OpenQuestion, ...]:
        """The unknown facts that could make an open rule hold, each with what it could raise."""
        return self._questions.one((open_at, frozen_values), self._new_open_questions)

    def _new_open_questions(
        self, key: tuple[tuple[int, ...], tuple[int, ...]]
    ) -> tuple[OpenQuestion, ...]:
        open_at, frozen_values = key
        raising = self._raising_facts(open_at, list(frozen_values))
        questions = sorted(
            (self._question(fact, rules) for fact, rules in raising.items()),
            key=lambda question: (-question.could_raise_to.rank, self._fact_order[question.fact]),
        )
        return tuple(questions)

    def _raising_facts(self, open_at: tuple[int, ...], values: list[int]) -> dict[str, list[Rule]]:
        """Each unknown fact that could make one of the rules *open_at* hold, with those rules."""
        raising: dict[str, list[Rule]] = {}
        cache = self._raising
        cache.lookups += len(open_at)
        for position in open_at:
            rule, _, atom_positions = self._compiled[position]
            # What raises a rule depends on the levels of its own atoms only, which recur far
            # more often than the levels of every atom.
            own = (position, tuple([values[p] for p in atom_positions]))
            raised = cache.get(own)
            if raised is None:
                raised = cache.store(own, self._raised(position, values))
            for atom_position in raised:
                raising.setdefault(_fact_of(self.atoms[atom_position]), []).append(rule)
        return raising

    def _raised(self, position: int, values: list[int]) -> tuple[int, ...]:
        """The unknown atoms of the rule at *position* whose answer "present" raises its level."""
        _, function, atom_positions = self._compiled[position]
        found = []
        for atom_position in atom_positions:
            if values[atom_position] != UNKNOWN:
                continue
            values[atom_position] = FALSE
            if_absent = function(values)
            values[atom_position] = TRUE
            if_present = function(values)
            values[atom_position] = UNKNOWN
            if if_present > if_absent:
                found.append(atom_position)
        return tuple(found)

    def _question(self, fact: str, rules: list[Rule]) -> OpenQuestion:
        return OpenQuestion(
            fact=fact,
            question=self._text(fact),
            # By rank: comparing the members themselves is a Python-level call per comparison.
            could_raise_to=_BY_RANK[max([rule.urgency.rank for rule in rules])],
            rules=tuple([rule.id for rule in rules]),
        )

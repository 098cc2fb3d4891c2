"""The safety net: the features that would raise the urgency from where the patient is now.

Read from the rule table, not written twice. For each urgency above the patient's, every rule of
that urgency is partially evaluated on what is already known: a finding the patient has counts as
met (so it is never listed), a comparison that already holds counts as met, and what is left is a
feature, or a combination of features, that would still raise the urgency. Examination signs,
medication classes, laboratory words and laboratory values are not things a patient comes back
with, so they never appear; a screening quantity that is asked for (how long the twitching has
lasted, how many body regions) does. Each feature is listed once, at the highest urgency it would
reach.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import TypeAlias

from fasciculate._cache import BoundedCache
from fasciculate._conditions import All, CompareAtom, Condition, FactAtom, atoms, compile_compares
from fasciculate._facts import Facts
from fasciculate._kb import KnowledgeBase
from fasciculate._vocab import TRUE, Urgency

#: What is left of a condition: a feature's words, or ``("all" | "any", parts)``.
_Node: TypeAlias = "str | tuple[str, tuple[_Node, ...]]"

_PREFIX = {
    Urgency.ROUTINE: "Clinical review (routine) if any of",
    Urgency.URGENT: "Urgent referral if any of",
    Urgency.EMERGENCY: "Same-day assessment (emergency) if any of",
}
_OP_WORDS = {">=": "of at least", ">": "above", "<=": "of at most", "<": "below"}
_UNIT_WORDS = {"d": "days", "region(s)": "regions"}
#: Fact groups and kinds a patient does not notice and come back with.
_NOT_NOTICED_GROUPS = frozenset({"medications", "lab_report"})
#: The approximate size in bytes of a cached list of safety-net lines, with its key (measured),
#: and of what is left of one rule.
_LINES_SIZE = 1700
_RULE_SIZE = 300
_DESCENDING = tuple(sorted(Urgency, reverse=True))
#: Gets the levels of a rule's own facts or comparisons, as a tuple.
_Own: TypeAlias = Callable[[tuple[int, ...]], tuple[int, ...]]
#: A rule's number, with the levels of its own facts and of its own comparisons.
_RuleKey: TypeAlias = tuple[int, tuple[int, ...], tuple[int, ...]]


def _getter(positions: list[int]) -> _Own:
    """The levels at *positions* of a tuple of levels, always as a tuple."""
    if not positions:
        return lambda _: ()
    if len(positions) == 1:
        (only,) = positions
        return lambda levels: (levels[only],)
    return operator.itemgetter(*positions)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


class SafetyNet:
    """The safety-net lines of one knowledge base, computed from its rule table and cached."""

    def __init__(self, kb: KnowledgeBase) -> None:
        """Index the facts and comparisons the rules use, and what each would read as."""
        self.kb = kb
        used = [atom for rule in kb.rules for atom in atoms(rule.condition)]
        self._facts = tuple(dict.fromkeys(a.name for a in used if isinstance(a, FactAtom)))
        self._compares = tuple(dict.fromkeys(a for a in used if isinstance(a, CompareAtom)))
        # Which comparisons hold: TRUE or FALSE each (a missing quantity does not hold).
        self._held = compile_compares(
            "safety-net comparisons", self._compares, [False] * len(self._compares)
        )
        # The rule table names many facts, so the getter returns a tuple. It reads
        # ``Facts.ordered``, the levels in the knowledge base's order: a list, indexed faster
        # than the dict of levels is looked up by name.
        place = {name: number for number, name in enumerate(kb.facts)}
        self._levels: Callable[[list[int]], tuple[int, ...]] = operator.itemgetter(
            *(place[name] for name in self._facts)
        )
        self._words = {name: self._fact_words(name) for name in self._facts}
        self._compare_words = {atom: self._compare_text(atom) for atom in self._compares}
        self._memo: BoundedCache[tuple[object, ...], tuple[str, ...]] = BoundedCache(
            "safety_net", size=_LINES_SIZE
        )
        fact_at = {name: number for number, name in enumerate(self._facts)}
        compare_at = {atom: number for number, atom in enumerate(self._compares)}
        #: Each urgency's rules: (number, the getters of the levels of its own facts and of its
        #: own comparisons). What is left of a rule depends on those alone, which recur across
        #: presentations far more often than the levels of every fact.
        self._tiers: dict[Urgency, tuple[tuple[int, _Own, _Own], ...]] = {
            tier: tuple(
                (
                    number,
                    _getter(
                        [fact_at[a.name] for a in atoms(rule.condition) if isinstance(a, FactAtom)]
                    ),
                    _getter(
                        [compare_at[a] for a in atoms(rule.condition) if isinstance(a, CompareAtom)]
                    ),
                )
                for number, rule in enumerate(kb.rules)
                if rule.urgency is tier
            )
            for tier in Urgency
        }
        self._left_texts: BoundedCache[_RuleKey, tuple[str, ...]] = BoundedCache(
            "safety_net.rule", size=_RULE_SIZE
        )

    def _fact_words(self, name: str) -> str | None:
        info = self.kb.facts[name]
        if info.kind == "examination" or info.group in _NOT_NOTICED_GROUPS:
            return None
        return _lower_first(info.label)

    def _compare_text(self, atom: CompareAtom) -> str | None:
        quantity = self.kb.quantities[atom.quantity]
        if quantity.when_missing != "ask":
            return None
        unit = _UNIT_WORDS.get(quantity.unit, quantity.unit)
        return f"{_lower_first(quantity.label)} {_OP_WORDS[atom.op]} {atom.threshold:g} {unit}"

    def __call__(self, urgency: Urgency, facts: Facts) -> tuple[str, ...]:
        """The safety-net lines for a patient at *urgency* with *facts*."""
        held = tuple(self._held(facts.quantities))
        key = (urgency, self._levels(facts.ordered), held)
        self._memo.lookups += 1
        found = self._memo.get(key)
        if found is None:
            found = self._memo.store(key, self._lines(urgency, key[1], held))
        return found

    def _lines(
        self, urgency: Urgency, levels: tuple[int, ...], held: tuple[int, ...]
    ) -> tuple[str, ...]:
        seen: set[str] = set()
        lines = []
        memo = self._left_texts
        get = memo.get
        for tier in _DESCENDING:
            if tier <= urgency:
                break
            items = []
            rules = self._tiers[tier]
            memo.lookups += len(rules)
            for number, own_levels, own_held in rules:
                own = (number, own_levels(levels), own_held(held))
                texts = get(own)
                if texts is None:
                    texts = memo.store(own, self._texts(number, own))
                for text in texts:
                    if text not in seen:
                        seen.add(text)
                        items.append(text)
            if items:
                lines.append(f"{_PREFIX[tier]}: {'; '.join(items)}.")
        return tuple(reversed(lines))

    def _texts(self, number: int, own: _RuleKey) -> tuple[str, ...]:
        """What is left of rule *number*, as one text per alternative (none if settled).

        *own* is ``(number, levels of its facts, levels of its comparisons)``: only those
        the rule reads, so only those decide what is left.
        """
        rule = self.kb.rules[number]
        _, fact_levels, compare_levels = own
        names = [a.name for a in atoms(rule.condition) if isinstance(a, FactAtom)]
        compares = [a for a in atoms(rule.condition) if isinstance(a, CompareAtom)]
        present = {name for name, level in zip(names, fact_levels, strict=True) if level == TRUE}
        holding = {
            atom for atom, level in zip(compares, compare_levels, strict=True) if level == TRUE
        }
        left = self._left(rule.condition, present, holding)
        if isinstance(left, bool):
            return ()
        alternatives = left[1] if isinstance(left, tuple) and left[0] == "any" else (left,)
        # An alternative is a feature or a combination ("all"), never itself a choice ("any"):
        # nested choices are flattened into the top one, which is split here.
        return tuple(dict.fromkeys(_render(alternative) for alternative in alternatives))

    def _left(
        self, condition: Condition, present: set[str], holding: set[CompareAtom]
    ) -> bool | _Node:
        """*condition* with what is known filled in: settled, or the features still needed."""
        if isinstance(condition, FactAtom):
            return condition.name in present or self._words[condition.name] or False
        if isinstance(condition, CompareAtom):
            return condition in holding or self._compare_words[condition] or False
        every = isinstance(condition, All)
        parts = [self._left(part, present, holding) for part in condition.parts]
        settled = {part for part in parts if isinstance(part, bool)}
        if (not every) in settled:  # a false part settles "all", a true part settles "any"
            return not every
        kind = "all" if every else "any"
        flat: list[_Node] = []
        for part in parts:  # (a | b) | c reads as a | b | c
            if isinstance(part, bool):
                continue
            same = isinstance(part, tuple) and part[0] == kind
            flat.extend(part[1] if isinstance(part, tuple) and same else (part,))
        if not flat:
            return every
        return flat[0] if len(flat) == 1 else (kind, tuple(dict.fromkeys(flat)))


def _render(left: _Node) -> str:
    if isinstance(left, str):
        return left
    kind, parts = left
    if kind == "all":
        return " with ".join(_render(part) for part in parts)
    return f"({' or '.join(_render(part) for part in parts)})"  # a choice within a combination

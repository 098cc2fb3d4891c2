"""The differential evaluator: weighted features x facts -> ranked categories with evidence.

Each condition's score is ``ln(prior)`` plus the weight of every decided feature of that condition
(``present`` weight when its test holds, ``absent`` weight when it is known not to hold, nothing
while it is unknown). Probabilities are the softmax over the conditions; a category's probability
is the sum of its conditions', so evidence against one condition never argues against a sibling.
They sum to 1 and are relative, not calibrated. The category of the most urgent ``urgent`` or
``emergency`` rule that fired ranks first, whatever the scores, so the differential never
contradicts the referral. Alongside: the IRLSSG criteria one by one, the likely lumbar root level,
and the triggers found (features that carry advice).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence

from fasciculate._cache import BoundedCache
from fasciculate._conditions import (
    Atom,
    Condition,
    atoms,
    compile_decisions,
    compile_scores,
    compile_table,
)
from fasciculate._differential_results import (
    CategoryScore,
    ConditionScore,
    Contribution,
    CriterionResult,
    Differential,
    RootLevelResult,
)
from fasciculate._evidence import AtomGroup, AtomTable
from fasciculate._facts import Facts
from fasciculate._kb import Feature, KnowledgeBase, Rule
from fasciculate._vocab import TRUE, UNKNOWN, Urgency

#: Approximate sizes in bytes of a cached contribution, criterion or root-level result, and
#: root-level shape, with their keys (measured). A feature that reads a lab value sees a new key
#: for every new value, so its cache fills; the bounds keep a long batch's memory flat.
_CONTRIBUTION_SIZE = 170
_RESULT_SIZE = 500
_SHAPE_SIZE = 150
__all__ = [
    "CategoryScore",
    "ConditionScore",
    "Contribution",
    "CriterionResult",
    "Differential",
    "DifferentialEvaluator",
    "RootLevelResult",
]
_Row = tuple[
    tuple[float, float, float],
    int,
    AtomGroup,
    BoundedCache[object, Contribution],
    Feature,
    bool,
    bool,
    int,
]
_RootShape = tuple[tuple[tuple[str, int], ...], str | None, tuple[int, ...]]
_RLS_SECONDARY = ("RLS-IRON", "RLS-SECONDARY", "RLS-MEDICATION")
#: The urgencies whose rules put their category first.
_REFERRED = frozenset({Urgency.URGENT, Urgency.EMERGENCY})


class DifferentialEvaluator:
    """The differential tables of a knowledge base, compiled for fast repeated evaluation."""

    def __init__(self, kb: KnowledgeBase) -> None:
        """Compile every feature, criterion and root-level condition of *kb*."""
        self.kb = kb
        conditions: list[Condition] = [feature.condition for feature in kb.features]
        conditions += [criterion.condition for criterion in kb.rls_criteria]
        for level in kb.root_levels:
            conditions += level.conditions
        seen: dict[Atom, None] = {}
        for condition in conditions:
            for atom in atoms(condition):
                seen.setdefault(atom, None)
        self._atoms = AtomTable(kb, tuple(seen), ask_all=True, name="differential.evidence")
        index = self._atoms.index
        self._groups = tuple(
            AtomGroup(self._atoms, tuple(dict.fromkeys(index[atom] for atom in atoms(condition))))
            for condition in conditions
        )
        self._infos = tuple(kb.categories.values())
        self._slots = range(len(self._infos))
        self._condition_infos = tuple(kb.conditions.values())
        category_slot = {info.id: number for number, info in enumerate(self._infos)}
        condition_slot = {key: number for number, key in enumerate(kb.conditions)}
        #: Each category's conditions (their slots), in the knowledge base's order.
        self._members = tuple(
            tuple(condition_slot[c.id] for c in self._condition_infos if c.category == info.id)
            for info in self._infos
        )
        self._category_of = tuple(category_slot[c.category] for c in self._condition_infos)
        self._condition_slot = condition_slot
        self._no_reasons: tuple[tuple[Rule, ...], ...] = tuple(() for _ in self._infos)
        self._category_slot = category_slot
        self._serious_kind = tuple(info.must_not_miss for info in self._condition_infos)
        self._log_priors = [math.log(info.prior) for info in self._condition_infos]
        # One row per feature: everything the scoring loop needs, looked up once here. The
        # weights are indexed by level (absent 0, unknown 1, present 2).
        bits = kb.source_bits()
        self._plan: tuple[_Row, ...] = tuple(
            (
                (feature.absent, 0.0, feature.present),
                condition_slot[feature.condition_id],
                self._groups[position],
                BoundedCache("differential.contribution", size=_CONTRIBUTION_SIZE),
                feature,
                feature.id in _RLS_SECONDARY or bool(feature.advice),
                feature.hard,
                bits[feature.source] | bits[feature.magnitude],
            )
            for position, feature in enumerate(kb.features)
        )
        #: Per feature and level (absent, unknown, present): whether it adds a weight.
        self._weighted = tuple(
            (feature.absent != 0.0, False, feature.present != 0.0) for feature in kb.features
        )
        self._features = len(kb.features)
        self._decided = compile_decisions(
            tuple(conditions[: self._features]),
            self._weighted,
            self._plan,
            index,
            name="differential features",
            labels=tuple(feature.id for feature in kb.features),
        )
        #: The features' weights added to the scores, for :meth:`ranked`.
        self._scored = compile_scores(
            tuple(conditions[: self._features]),
            tuple(row[0] for row in self._plan),
            tuple(row[1] for row in self._plan),
            tuple(row[6] for row in self._plan),
            index,
            name="differential scores",
            labels=tuple(feature.id for feature in kb.features),
        )
        #: The levels of the criteria and root-level conditions, which follow the features.
        self._others = compile_table(
            tuple(conditions[self._features :]),
            index,
            name="differential criteria and root levels",
            labels=(
                *(f"restless legs criterion {item.number}" for item in kb.rls_criteria),
                *(f"root {level.level}" for level in kb.root_levels for _ in level.conditions),
            ),
        )
        self._criteria = len(kb.rls_criteria)
        spans, first = [], 0
        for level in kb.root_levels:
            spans.append((level.level, range(first, first + len(level.conditions))))
            first += len(level.conditions)
        #: Each root level with the offsets of its conditions after the criteria.
        self._root_spans: tuple[tuple[str, range], ...] = tuple(spans)
        self._root_conditions = first
        self._root_shapes: BoundedCache[tuple[int, ...], _RootShape] = BoundedCache(
            "differential.root_shape", size=_SHAPE_SIZE
        )
        #: Criterion and root-level results, shared between presentations that give equal ones.
        self._criteria_shared: BoundedCache[object, CriterionResult] = BoundedCache(
            "differential.criterion", size=_RESULT_SIZE
        )
        self._roots_shared: BoundedCache[object, RootLevelResult] = BoundedCache(
            "differential.root_level", size=_RESULT_SIZE
        )

    def __call__(self, facts: Facts, fired: Sequence[Rule] = ()) -> Differential:
        """Score every condition and category for *facts*, with criteria, root level, triggers.

        *fired* are the referral rules that fired: the category of the most urgent ``urgent``
        or ``emergency`` ones ranks first, and their conditions lead within it and are flagged
        must-not-miss, so the differential never contradicts the referral.
        """
        values = self._atoms.levels(facts)
        results = self._others(values)
        scores = list(self._log_priors)
        supporting: list[list[Contribution]] = [[] for _ in scores]
        conflicting: list[list[Contribution]] = [[] for _ in scores]
        triggers: list[Contribution] = []
        secondary: dict[str, Contribution] = {}
        hard = [False for _ in scores]  # a hard feature supports the condition
        cited = 0
        # Only the features decided at a level that carries a weight are visited.
        decided = self._decided(values)
        # One count for the lookups of every feature's cache (stats() sums them by name).
        self._plan[0][3].lookups += len(decided)
        for level, (weights, slot, group, cache, feature, special, telling, bit) in decided:
            weight = weights[level]
            key = group.key(values)  # the atoms' levels decide the feature's level too
            contribution = cache.get(key)
            if contribution is None:
                evidence = self._atoms.evidence(group.positions, values, level, facts)
                contribution = cache.store(key, Contribution(feature, weight, evidence))
            scores[slot] += weight
            cited |= bit
            if weight > 0:
                supporting[slot].append(contribution)
                hard[slot] = hard[slot] or telling
            else:
                conflicting[slot].append(contribution)
            if special:
                if feature.id in _RLS_SECONDARY:
                    secondary[feature.id] = contribution
                if level == TRUE and feature.advice:
                    triggers.append(contribution)

        top, exp, shares, flagged, reasons, ranking, condition_ranking = self._standing(
            scores, hard, fired
        )
        total = sum(exp)
        return Differential(  # positional: a frozen attrs class is quicker built that way
            ranking,
            self._infos,
            tuple([top + math.log(share) for share in shares]),
            tuple([share / total for share in shares]),
            tuple([any(flagged[c] for c in group) for group in self._members]),
            reasons,
            condition_ranking,
            self._condition_infos,
            tuple(scores),
            tuple([value / total for value in exp]),
            tuple(map(tuple, supporting)),
            tuple(map(tuple, conflicting)),
            tuple(flagged),
            cited,
            self._criteria_results(results, values, facts),
            tuple([secondary[key] for key in _RLS_SECONDARY if key in secondary]),
            self._root_level(results, values, facts),
            tuple(triggers),
        )

    def ranked(self, facts: Facts, fired: Sequence[Rule] = ()) -> tuple[list[str], list[str]]:
        """The categories' ids in rank order, and the must-not-miss ones among them.

        What :meth:`__call__` gives in ``ranking`` and ``must_not_miss``, scored the same way
        but without the evidence, criteria, root level and triggers: for a summary.
        """
        scores = list(self._log_priors)
        hard = [False for _ in scores]
        self._scored(self._atoms.levels(facts), scores, hard)
        *_, flagged, _, ranking, _ = self._standing(scores, hard, fired, conditions=False)
        members, infos = self._members, self._infos
        return (
            [infos[slot].id for slot in ranking],
            [infos[slot].id for slot in ranking if any(flagged[c] for c in members[slot])],
        )

    def _standing(
        self,
        scores: list[float],
        hard: list[bool],
        fired: Sequence[Rule],
        *,
        conditions: bool = True,
    ) -> tuple[
        float,
        list[float],
        list[float],
        list[bool],
        tuple[tuple[Rule, ...], ...],
        tuple[int, ...],
        tuple[tuple[int, ...], ...],
    ]:
        """Where the conditions and categories stand, from *scores*, *hard* and *fired*.

        The top score, each condition's exponential share below it, each category's share, the
        flagged conditions, the urgent rules per category, and the ranking of categories and
        (unless not *conditions*: empty then) of the conditions within each.
        """
        top = max(scores)
        exp = [math.exp(score - top) for score in scores]
        flagged = list(map(operator.and_, self._serious_kind, hard))
        reasons, leading, leads = self._referral(fired, flagged)
        shares = [sum([exp[c] for c in group]) for group in self._members]
        ranking, condition_ranking = self._rank(scores, shares, leading, leads, conditions)
        return top, exp, shares, flagged, reasons, ranking, condition_ranking

    def _referral(
        self, fired: Sequence[Rule], flagged: list[bool]
    ) -> tuple[tuple[tuple[Rule, ...], ...], set[int], set[int]]:
        """The urgent or emergency rules per category; the categories and conditions to lead.

        Flags (in *flagged*) every condition an urgent or emergency rule names, and the
        category's first condition when the rule names none.
        """
        referred = [rule for rule in fired if rule.urgency in _REFERRED and rule.category]
        if not referred:
            return self._no_reasons, set(), set()
        reasons: list[list[Rule]] = [[] for _ in self._slots]
        leading: set[int] = set()  # categories of the most urgent rules
        leads: set[int] = set()  # conditions those rules name
        most = max(rule.urgency.rank for rule in referred)
        for rule in referred:
            category = self._category_slot[rule.category]  # type: ignore[index]
            reasons[category].append(rule)
            named = rule.condition_id
            slot = self._condition_slot[named] if named else self._members[category][0]
            flagged[slot] = True
            if rule.urgency.rank == most:
                leading.add(category)
                if named:
                    leads.add(slot)
        return tuple(map(tuple, reasons)), leading, leads

    def _rank(
        self,
        scores: list[float],
        shares: list[float],
        leading: set[int],
        leads: set[int],
        conditions: bool,
    ) -> tuple[tuple[int, ...], tuple[tuple[int, ...], ...]]:
        """Categories and (if *conditions*) the conditions within each: referred first, by score.

        Sorting is stable: ties keep the knowledge base's order.
        """
        lower = [-share for share in shares]
        if leading:
            ranking = tuple(
                sorted(self._slots, key=lambda slot: (slot not in leading, lower[slot]))
            )
        else:
            ranking = tuple(sorted(self._slots, key=lower.__getitem__))
        if not conditions:
            return ranking, ()
        below = [-score for score in scores]
        within = tuple(
            group
            if len(group) == 1
            else tuple(sorted(group, key=lambda slot: (slot not in leads, below[slot])))
            if leads
            else tuple(sorted(group, key=below.__getitem__))
            for group in self._members
        )
        return ranking, within

    def _criteria_results(
        self, results: tuple[int, ...], values: list[int], facts: Facts
    ) -> tuple[CriterionResult, ...]:
        """The criteria, from *results*: the levels of the conditions after the features."""
        found = []
        shared = self._criteria_shared
        shared.lookups += len(self.kb.rls_criteria)
        for offset, criterion in enumerate(self.kb.rls_criteria):
            level = results[offset]  # the criteria come first among the other conditions
            group = self._groups[self._features + offset]
            # Nothing in the input decides an unknown criterion: nothing to cite.
            key = (offset, None) if level == UNKNOWN else (offset, group.key(values))
            result = shared.get(key)
            if result is None:
                evidence = (
                    ()
                    if level == UNKNOWN
                    else self._atoms.evidence(group.positions, values, level, facts)
                )
                result = shared.store(key, CriterionResult(criterion, level, evidence))
            found.append(result)
        return tuple(found)

    def _root_level(
        self, results: tuple[int, ...], values: list[int], facts: Facts
    ) -> RootLevelResult:
        start = self._features + self._criteria
        held = results[self._criteria : self._criteria + self._root_conditions]
        shapes = self._root_shapes
        shapes.lookups += 1
        shape = shapes.get(held)
        if shape is None:
            shape = shapes.store(held, self._root_shape(held, start))
        counts, likely, spots = shape
        key = (held, tuple([self._groups[spot].key(values) for spot in spots]))
        shared = self._roots_shared
        shared.lookups += 1
        result = shared.get(key)
        if result is None:
            evidence = tuple(
                item
                for spot in spots
                for item in self._atoms.evidence(self._groups[spot].positions, values, TRUE, facts)
            )
            result = RootLevelResult(level=likely, counts=counts, evidence=evidence)
            result = shared.store(key, result)
        return result

    def _root_shape(self, held: tuple[int, ...], start: int) -> _RootShape:
        """The counts per level, the likely level and its held conditions, for *held*."""
        counts = tuple(
            (name, sum(1 for spot in span if held[spot] == TRUE)) for name, span in self._root_spans
        )
        ordered = sorted(counts, key=lambda pair: -pair[1])
        best, runner_up = ordered[0], ordered[1] if len(ordered) > 1 else ("", 0)
        likely = best[0] if best[1] >= 2 and best[1] > runner_up[1] else None
        spots = (
            tuple(start + spot for spot in dict(self._root_spans)[likely] if held[spot] == TRUE)
            if likely
            else ()
        )
        return counts, likely, spots  # at most 3 ** (conditions) shapes: a small table

"""The differential evaluator: weighted features x facts -> ranked categories with evidence.

Each category's score is ``ln(prior)`` plus the weight of every decided feature (``present``
weight when its condition holds, ``absent`` weight when it is known not to hold, nothing while it is
unknown). Probabilities are the softmax of the scores: they sum to 1 and are relative, not
calibrated. Alongside: the IRLSSG criteria one by one, the likely lumbar root level, and the
triggers found (features that carry advice).
"""

from __future__ import annotations

import math
import operator
from typing import Any

import attrs

from fasciculate._conditions import Atom, Condition, atoms, compile_decisions, compile_table
from fasciculate._evidence import AtomGroup, AtomTable, Evidence
from fasciculate._facts import Facts
from fasciculate._kb import CategoryInfo, Feature, KnowledgeBase, RlsCriterionInfo
from fasciculate._vocab import TRUE, UNKNOWN


@attrs.frozen(cache_hash=True)
class Contribution:
    """A decided feature and the weight it added to its category."""

    feature: Feature
    weight: float
    evidence: tuple[Evidence, ...]

    @property
    def holds(self) -> bool:
        """Whether the feature's condition held (else it was known not to hold)."""
        return self.weight == self.feature.present


@attrs.frozen
class CategoryScore:
    """One category of the differential, scored."""

    category: CategoryInfo
    score: float
    probability: float
    supporting: tuple[Contribution, ...]
    conflicting: tuple[Contribution, ...]
    must_not_miss: bool


@attrs.frozen(cache_hash=True)
class CriterionResult:
    """One IRLSSG criterion: met (2), unknown (1) or not met (0), with the facts behind it."""

    criterion: RlsCriterionInfo
    level: int
    evidence: tuple[Evidence, ...]


@attrs.frozen(cache_hash=True)
class RootLevelResult:
    """The likely lumbar root level, when the pattern allows one."""

    level: str | None
    counts: tuple[tuple[str, int], ...]
    evidence: tuple[Evidence, ...]


@attrs.frozen
class Differential:
    """Everything the differential evaluator found for one presentation.

    The categories are held column by column, in the knowledge base's category order, with
    ``ranking`` giving that order's positions from most to least likely; :attr:`categories`
    assembles them into one :class:`CategoryScore` each.
    """

    ranking: tuple[int, ...]
    infos: tuple[CategoryInfo, ...]
    scores: tuple[float, ...]
    probabilities: tuple[float, ...]
    supporting: tuple[tuple[Contribution, ...], ...]
    conflicting: tuple[tuple[Contribution, ...], ...]
    must_not_miss: tuple[bool, ...]
    #: The sources of the decided features, as bits of ``KnowledgeBase.source_bits()``.
    cited: int
    rls_criteria: tuple[CriterionResult, ...]
    rls_secondary: tuple[Contribution, ...]
    root_level: RootLevelResult
    triggers: tuple[Contribution, ...]

    @property
    def categories(self) -> tuple[CategoryScore, ...]:
        """The categories, most likely first."""
        return tuple(
            CategoryScore(
                category=self.infos[slot],
                score=self.scores[slot],
                probability=self.probabilities[slot],
                supporting=self.supporting[slot],
                conflicting=self.conflicting[slot],
                must_not_miss=self.must_not_miss[slot],
            )
            for slot in self.ranking
        )


_CACHE_LIMIT = 65536
#: Contributions kept per feature. A feature that reads a lab value sees a new key for every new
#: value, so its cache fills; the bound keeps a long batch's memory flat.
_FEATURE_CACHE_LIMIT = 1024
_Row = tuple[
    tuple[float, float, float],
    int,
    AtomGroup,
    dict[object, Contribution],
    Feature,
    bool,
    bool,
    int,
]
_RootShape = tuple[tuple[tuple[str, int], ...], str | None, tuple[int, ...]]
_RLS_SECONDARY = ("RLS-IRON", "RLS-SECONDARY", "RLS-MEDICATION")


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
        self._atoms = AtomTable(kb, tuple(seen), ask_all=True)
        index = self._atoms.index
        self._groups = tuple(
            AtomGroup(self._atoms, tuple(dict.fromkeys(index[atom] for atom in atoms(condition))))
            for condition in conditions
        )
        self._order = tuple(kb.categories)
        self._infos = tuple(kb.categories.values())
        self._slots = range(len(self._infos))
        self._serious_kind = tuple(info.must_not_miss for info in self._infos)
        self._log_priors = [math.log(kb.categories[key].prior) for key in self._order]
        slot = {key: number for number, key in enumerate(self._order)}
        # One row per feature: everything the scoring loop needs, looked up once here. The
        # weights are indexed by level (absent 0, unknown 1, present 2).
        bits = kb.source_bits()
        self._plan: tuple[_Row, ...] = tuple(
            (
                (feature.absent, 0.0, feature.present),
                slot[feature.category],
                self._groups[position],
                {},
                feature,
                feature.id in _RLS_SECONDARY or bool(feature.advice),
                not feature.context,
                bits[feature.source],
            )
            for position, feature in enumerate(kb.features)
        )
        #: Per feature and level (absent, unknown, present): whether it adds a weight.
        self._weighted = tuple(
            (feature.absent != 0.0, False, feature.present != 0.0) for feature in kb.features
        )
        self._features = len(kb.features)
        self._decided = compile_decisions(
            tuple(conditions[: self._features]), self._weighted, self._plan, index
        )
        #: The levels of the criteria and root-level conditions, which follow the features.
        self._others = compile_table(tuple(conditions[self._features :]), index)
        self._criteria = len(kb.rls_criteria)
        spans, first = [], 0
        for level in kb.root_levels:
            spans.append((level.level, range(first, first + len(level.conditions))))
            first += len(level.conditions)
        #: Each root level with the offsets of its conditions after the criteria.
        self._root_spans: tuple[tuple[str, range], ...] = tuple(spans)
        self._root_conditions = first
        self._root_shapes: dict[tuple[int, ...], _RootShape] = {}
        #: Criterion and root-level results, shared between presentations that give equal ones.
        self._shared: dict[object, Any] = {}

    def __call__(self, facts: Facts) -> Differential:
        """Score every category and report criteria, root level and triggers for *facts*."""
        values = self._atoms.levels(facts)
        results = self._others(values)
        scores = list(self._log_priors)
        supporting: list[list[Contribution]] = [[] for _ in scores]
        conflicting: list[list[Contribution]] = [[] for _ in scores]
        triggers: list[Contribution] = []
        secondary: dict[str, Contribution] = {}
        serious = [False for _ in scores]  # a supporting feature that is not mere context
        cited = 0
        # Only the features decided at a level that carries a weight are visited.
        for level, (weights, slot, group, cache, feature, special, telling, bit) in self._decided(
            values
        ):
            weight = weights[level]
            key = group.key(values)  # the atoms' levels decide the feature's level too
            contribution = cache.get(key)
            if contribution is None:
                evidence = self._atoms.evidence(group.positions, values, level, facts)
                contribution = Contribution(feature, weight, evidence)
                if len(cache) < _FEATURE_CACHE_LIMIT:
                    cache[key] = contribution
            scores[slot] += weight
            cited |= bit
            if weight > 0:
                supporting[slot].append(contribution)
                serious[slot] = serious[slot] or telling
            else:
                conflicting[slot].append(contribution)
            if special:
                if feature.id in _RLS_SECONDARY:
                    secondary[feature.id] = contribution
                if level == TRUE and feature.advice:
                    triggers.append(contribution)

        top = max(scores)
        exp = [math.exp(score - top) for score in scores]
        total = sum(exp)
        lower = [-score for score in scores]
        return Differential(  # positional: a frozen attrs class is quicker built that way
            tuple(sorted(self._slots, key=lower.__getitem__)),  # ranking; stable: ties in order
            self._infos,
            tuple(scores),
            tuple([value / total for value in exp]),  # probabilities
            tuple(map(tuple, supporting)),
            tuple(map(tuple, conflicting)),
            tuple(map(operator.and_, self._serious_kind, serious)),  # must_not_miss
            cited,
            self._criteria_results(results, values, facts),
            tuple([secondary[key] for key in _RLS_SECONDARY if key in secondary]),
            self._root_level(results, values, facts),
            tuple(triggers),
        )

    def _criteria_results(
        self, results: tuple[int, ...], values: list[int], facts: Facts
    ) -> tuple[CriterionResult, ...]:
        """The criteria, from *results*: the levels of the conditions after the features."""
        found = []
        for offset, criterion in enumerate(self.kb.rls_criteria):
            level = results[offset]  # the criteria come first among the other conditions
            group = self._groups[self._features + offset]
            # Nothing in the input decides an unknown criterion: nothing to cite.
            key = (offset, None) if level == UNKNOWN else (offset, group.key(values))
            result = self._shared.get(key)
            if result is None:
                evidence = (
                    ()
                    if level == UNKNOWN
                    else self._atoms.evidence(group.positions, values, level, facts)
                )
                shown = TRUE - level if criterion.inverted else level
                result = CriterionResult(criterion, shown, evidence)
                if len(self._shared) < _CACHE_LIMIT:
                    self._shared[key] = result
            found.append(result)
        return tuple(found)

    def _root_level(
        self, results: tuple[int, ...], values: list[int], facts: Facts
    ) -> RootLevelResult:
        start = self._features + self._criteria
        held = results[self._criteria : self._criteria + self._root_conditions]
        shape = self._root_shapes.get(held)
        if shape is None:
            shape = self._root_shape(held, start)
        counts, likely, spots = shape
        key = (held, tuple([self._groups[spot].key(values) for spot in spots]))
        result = self._shared.get(key)
        if result is None:
            evidence = tuple(
                item
                for spot in spots
                for item in self._atoms.evidence(self._groups[spot].positions, values, TRUE, facts)
            )
            result = RootLevelResult(level=likely, counts=counts, evidence=evidence)
            if len(self._shared) < _CACHE_LIMIT:
                self._shared[key] = result
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
        shape = (counts, likely, spots)
        if len(self._root_shapes) < _CACHE_LIMIT:  # at most 3 ** (conditions): a small table
            self._root_shapes[held] = shape
        return shape

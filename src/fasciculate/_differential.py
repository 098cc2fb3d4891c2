"""The differential evaluator: weighted features x facts -> ranked categories with evidence.

Each category's score is ``ln(prior)`` plus the weight of every decided feature (``present``
weight when its condition holds, ``absent`` weight when it is known not to hold, nothing while it is
unknown). Probabilities are the softmax of the scores: they sum to 1 and are relative, not
calibrated. Alongside: the IRLSSG criteria one by one, the likely lumbar root level, and the
triggers found (features that carry advice).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import attrs

from fasciculate._conditions import Atom, Condition, atoms, compile_table
from fasciculate._evidence import AtomTable, Evidence
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
    """Everything the differential evaluator found for one presentation."""

    categories: tuple[CategoryScore, ...]
    rls_criteria: tuple[CriterionResult, ...]
    rls_secondary: tuple[Contribution, ...]
    root_level: RootLevelResult
    triggers: tuple[Contribution, ...]


_CACHE_LIMIT = 65536
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
        self._table: Callable[[list[int]], tuple[int, ...]] = compile_table(
            tuple(conditions), index
        )
        self._positions = tuple(
            tuple(dict.fromkeys(index[atom] for atom in atoms(condition)))
            for condition in conditions
        )
        self._log_priors = {key: math.log(info.prior) for key, info in kb.categories.items()}
        self._features = len(kb.features)
        self._contributions: dict[tuple[int, int, tuple[Evidence, ...]], Contribution] = {}
        self._criteria = len(kb.rls_criteria)
        self._category_order = {key: order for order, key in enumerate(kb.categories)}

    def __call__(self, facts: Facts) -> Differential:
        """Score every category and report criteria, root level and triggers for *facts*."""
        values = self._atoms.levels(facts)
        results = self._table(values)
        scores = dict(self._log_priors)
        supporting: dict[str, list[Contribution]] = {key: [] for key in scores}
        conflicting: dict[str, list[Contribution]] = {key: [] for key in scores}
        triggers: list[Contribution] = []
        by_id: dict[str, Contribution] = {}
        for position, feature in enumerate(self.kb.features):
            level = results[position]
            if level == UNKNOWN:
                continue
            weight = feature.present if level == TRUE else feature.absent
            if weight == 0.0:
                continue
            evidence = self._atoms.evidence(self._positions[position], values, level, facts)
            key = (position, level, evidence)
            contribution = self._contributions.get(key)
            if contribution is None:
                # Equal contributions are shared, so later caches find them by identity.
                contribution = Contribution(feature, weight, evidence)
                if len(self._contributions) < _CACHE_LIMIT:
                    self._contributions[key] = contribution
            scores[feature.category] += weight
            (supporting if weight > 0 else conflicting)[feature.category].append(contribution)
            by_id[feature.id] = contribution
            if level == TRUE and feature.advice:
                triggers.append(contribution)

        top = max(scores.values())
        exp = {key: math.exp(score - top) for key, score in scores.items()}
        total = sum(exp.values())
        ranked = sorted(
            self.kb.categories.values(),
            key=lambda info: (-scores[info.id], self._category_order[info.id]),
        )
        categories = tuple(
            CategoryScore(
                category=info,
                score=scores[info.id],
                probability=exp[info.id] / total,
                supporting=tuple(supporting[info.id]),
                conflicting=tuple(conflicting[info.id]),
                must_not_miss=info.must_not_miss
                and any(not item.feature.context for item in supporting[info.id]),
            )
            for info in ranked
        )
        return Differential(
            categories=categories,
            rls_criteria=self._criteria_results(results, values, facts),
            rls_secondary=tuple(by_id[key] for key in _RLS_SECONDARY if key in by_id),
            root_level=self._root_level(results, values, facts),
            triggers=tuple(triggers),
        )

    def _criteria_results(
        self, results: tuple[int, ...], values: list[int], facts: Facts
    ) -> tuple[CriterionResult, ...]:
        found = []
        for offset, criterion in enumerate(self.kb.rls_criteria):
            position = self._features + offset
            level = results[position]
            evidence = (
                ()
                if level == UNKNOWN  # nothing in the input decides it: nothing to cite
                else self._atoms.evidence(self._positions[position], values, level, facts)
            )
            if criterion.inverted:
                level = TRUE - level
            found.append(CriterionResult(criterion, level, evidence))
        return tuple(found)

    def _root_level(
        self, results: tuple[int, ...], values: list[int], facts: Facts
    ) -> RootLevelResult:
        position = self._features + self._criteria
        counts: list[tuple[str, int]] = []
        evidence: dict[str, tuple[Evidence, ...]] = {}
        for level in self.kb.root_levels:
            span = range(position, position + len(level.conditions))
            held = [spot for spot in span if results[spot] == TRUE]
            counts.append((level.level, len(held)))
            evidence[level.level] = tuple(
                item
                for spot in held
                for item in self._atoms.evidence(self._positions[spot], values, TRUE, facts)
            )
            position += len(level.conditions)
        ordered = sorted(counts, key=lambda pair: -pair[1])
        best, runner_up = ordered[0], ordered[1] if len(ordered) > 1 else ("", 0)
        likely = best[0] if best[1] >= 2 and best[1] > runner_up[1] else None
        return RootLevelResult(
            level=likely,
            counts=tuple(counts),
            evidence=evidence[likely] if likely else (),
        )

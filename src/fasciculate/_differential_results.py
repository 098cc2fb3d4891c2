"""What the differential evaluator returns, as frozen results (built by `_differential`)."""

from __future__ import annotations

import attrs

from fasciculate._evidence import Evidence
from fasciculate._kb import CategoryInfo, ConditionInfo, Feature, RlsCriterionInfo, Rule
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
class ConditionScore:
    """One condition within a category, scored."""

    condition: ConditionInfo
    score: float
    probability: float
    supporting: tuple[Contribution, ...]
    conflicting: tuple[Contribution, ...]
    must_not_miss: bool


@attrs.frozen
class CategoryScore:
    """One category of the differential: its conditions, most likely (or referred) first."""

    category: CategoryInfo
    score: float
    probability: float
    supporting: tuple[Contribution, ...]
    conflicting: tuple[Contribution, ...]
    must_not_miss: bool
    conditions: tuple[ConditionScore, ...]
    #: The urgent or emergency rules of this category that fired.
    reasons: tuple[Rule, ...]


@attrs.frozen(cache_hash=True)
class CriterionResult:
    """One IRLSSG criterion, with the facts behind it.

    ``level`` is the Kleene level of the criterion's condition (false 0, unknown 1, true 2); for
    the criterion that lists mimics, a condition that holds means the criterion needs judgement.
    """

    criterion: RlsCriterionInfo
    level: int
    evidence: tuple[Evidence, ...]

    @property
    def status(self) -> str:
        """``met``, ``not_met``, ``unknown`` or ``needs_judgement``."""
        if self.level == UNKNOWN:
            return "unknown"
        if self.criterion.mimics:
            return "needs_judgement" if self.level == TRUE else "met"
        return "met" if self.level == TRUE else "not_met"


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
    ``ranking`` giving that order's positions from first to last; the conditions likewise, in the
    knowledge base's condition order, with ``condition_ranking`` giving each category's conditions
    from first to last. :attr:`categories` assembles them into one :class:`CategoryScore` each.
    """

    ranking: tuple[int, ...]
    infos: tuple[CategoryInfo, ...]
    scores: tuple[float, ...]
    probabilities: tuple[float, ...]
    must_not_miss: tuple[bool, ...]
    #: Per category, the urgent or emergency rules of that category that fired.
    reasons: tuple[tuple[Rule, ...], ...]
    condition_ranking: tuple[tuple[int, ...], ...]
    condition_infos: tuple[ConditionInfo, ...]
    condition_scores: tuple[float, ...]
    condition_probabilities: tuple[float, ...]
    condition_supporting: tuple[tuple[Contribution, ...], ...]
    condition_conflicting: tuple[tuple[Contribution, ...], ...]
    condition_must_not_miss: tuple[bool, ...]
    #: The sources of the decided features, as bits of ``KnowledgeBase.source_bits()``.
    cited: int
    rls_criteria: tuple[CriterionResult, ...]
    rls_secondary: tuple[Contribution, ...]
    root_level: RootLevelResult
    triggers: tuple[Contribution, ...]

    def condition(self, slot: int) -> ConditionScore:
        """The condition at position *slot* of the knowledge base's condition order."""
        return ConditionScore(
            condition=self.condition_infos[slot],
            score=self.condition_scores[slot],
            probability=self.condition_probabilities[slot],
            supporting=self.condition_supporting[slot],
            conflicting=self.condition_conflicting[slot],
            must_not_miss=self.condition_must_not_miss[slot],
        )

    @property
    def categories(self) -> tuple[CategoryScore, ...]:
        """The categories, first (most likely, or referred) first.

        A category's evidence is its conditions' evidence, its leading condition's first.
        """
        found = []
        for slot in self.ranking:
            conditions = tuple(map(self.condition, self.condition_ranking[slot]))
            found.append(
                CategoryScore(
                    category=self.infos[slot],
                    score=self.scores[slot],
                    probability=self.probabilities[slot],
                    supporting=tuple(x for c in conditions for x in c.supporting),
                    conflicting=tuple(x for c in conditions for x in c.conflicting),
                    must_not_miss=self.must_not_miss[slot],
                    conditions=conditions,
                    reasons=self.reasons[slot],
                )
            )
        return tuple(found)

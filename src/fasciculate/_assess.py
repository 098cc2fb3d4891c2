"""``assess()``: a presentation in, an explained referral decision out."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib import metadata
from typing import Any

from fasciculate import _referral as referral_types
from fasciculate._assessment import (
    Assessment,
    FactUsed,
    FiredRule,
    KnowledgeBaseStamp,
    OpenQuestion,
    SourceRef,
)
from fasciculate._facts import facts_from
from fasciculate._kb import KnowledgeBase, knowledge_base
from fasciculate._presentation import Presentation
from fasciculate._referral import Referral, ReferralEvaluator
from fasciculate._validation import parse_presentation
from fasciculate._vocab import Urgency

_HEADLINE = {
    Urgency.SELF_CARE: "Self-care with safety-net advice",
    Urgency.ROUTINE: "Routine clinical review",
    Urgency.URGENT: "Urgent specialist referral",
    Urgency.EMERGENCY: "Emergency: same-day assessment",
}


class _Engine:
    """Everything that is the same for every assessment, built once per knowledge base."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.referral = ReferralEvaluator(kb)
        self.stamp = KnowledgeBaseStamp(version=kb.version, sha256=kb.sha256)
        self.sources = {
            key: SourceRef(
                id=source.id,
                title=source.title,
                publisher=source.publisher,
                year=source.year,
                url=source.url,
                expert_estimate=source.expert_estimate,
            )
            for key, source in kb.sources.items()
        }
        self.version = _version()

    def assessment(self, referral: Referral) -> Assessment:
        """Build the output model; its parts are immutable, so equal parts are shared."""
        cited = sorted({fired.rule.source for fired in referral.fired})
        return Assessment.model_construct(
            urgency=referral.urgency,
            summary=_summary(referral),
            rules_fired=tuple(self._fired(fired) for fired in referral.fired),
            missing=tuple(self._question(question) for question in referral.missing),
            sources=tuple(self.sources[key] for key in cited),
            knowledge_base=self.stamp,
            fasciculate_version=self.version,
        )

    @functools.lru_cache(maxsize=8192)  # noqa: B019 - one engine per process, bounded
    def _fired(self, fired: referral_types.FiredRule) -> FiredRule:
        rule = fired.rule
        return FiredRule.model_construct(
            id=rule.id,
            urgency=rule.urgency,
            title=rule.title,
            condition=rule.when,
            rationale=rule.rationale,
            source=rule.source,
            facts=tuple(
                FactUsed.model_construct(
                    fact=item.fact,
                    label=item.label,
                    value=item.value,
                    input=item.input,
                    condition=item.condition,
                )
                for item in fired.evidence
            ),
        )

    @functools.lru_cache(maxsize=1024)  # noqa: B019 - one engine per process, bounded
    def _question(self, question: referral_types.OpenQuestion) -> OpenQuestion:
        return OpenQuestion.model_construct(
            fact=question.fact,
            question=question.question,
            could_raise_to=question.could_raise_to,
            rules=question.rules,
        )


def _version() -> str:
    try:
        return metadata.version("fasciculate")
    except metadata.PackageNotFoundError:  # pragma: no cover - only when run from a bare checkout
        return "0+unknown"


def _summary(referral: Referral) -> str:
    headline = _HEADLINE[referral.urgency]
    top = [fired.rule.title for fired in referral.fired if fired.rule.urgency == referral.urgency]
    if not top:
        return f"{headline}: no red flags found."
    more = f" (+{len(top) - 1} more)" if len(top) > 1 else ""
    return f"{headline}: {top[0]}{more}."


@functools.cache
def _engine() -> _Engine:
    return _Engine(knowledge_base())


def assess(presentation: Presentation | Mapping[str, Any] | str | bytes) -> Assessment:
    """Assess a presentation of muscle twitching.

    Args:
        presentation: A :class:`Presentation`, or a mapping or JSON text that validates into one.

    Returns:
        The :class:`Assessment`: urgency, every fired rule with its facts and source, the open
        questions that could raise the urgency, and the knowledge base's version and fingerprint.

    Raises:
        InvalidPresentation: If the input is not a valid presentation (every problem is listed).

    Example:
        >>> import fasciculate
        >>> result = fasciculate.assess({"findings": {"saddle_sensory_loss": "present"}})
        >>> result.urgency
        <Urgency.EMERGENCY: 'emergency'>
        >>> [rule.id for rule in result.rules_fired]
        ['CES-SADDLE']
    """
    engine = _engine()
    facts = facts_from(parse_presentation(presentation), engine.kb)
    return engine.assessment(engine.referral(facts))

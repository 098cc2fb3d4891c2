"""Turn the evaluators' frozen results into the output models of :mod:`fasciculate._assessment`.

Output parts are immutable and many repeat across presentations (the same rule fired on the same
fact), so conversions are cached: batch runs share the parts instead of rebuilding them.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable
from importlib import metadata
from typing import Any, TypeVar

from pydantic import BaseModel

from fasciculate import _differential as diff
from fasciculate import _facts
from fasciculate import _referral as ref
from fasciculate._assessment import (
    Advice,
    AnswerConflict,
    Assessment,
    CategoryResult,
    Criterion,
    CriterionStatus,
    EvidenceItem,
    FactUsed,
    FiredRule,
    KnowledgeBaseStamp,
    LabInterpretation,
    OpenQuestion,
    RestlessLegs,
    RootLevel,
    SourceRef,
    Trigger,
)
from fasciculate._evidence import Evidence
from fasciculate._facts import Facts, LabFact
from fasciculate._kb import KnowledgeBase
from fasciculate._vocab import FALSE, TRUE, Urgency

_HEADLINE = {
    Urgency.SELF_CARE: "Self-care with safety-net advice",
    Urgency.ROUTINE: "Routine clinical review",
    Urgency.URGENT: "Urgent specialist referral",
    Urgency.EMERGENCY: "Emergency: same-day assessment",
}
_GENERAL_ADVICE = frozenset({Urgency.SELF_CARE, Urgency.ROUTINE})
_MET, _NOT_MET, _UNDECIDED = CriterionStatus.MET, CriterionStatus.NOT_MET, CriterionStatus.UNKNOWN
_STATUS = {TRUE: _MET, FALSE: _NOT_MET}


_Model = TypeVar("_Model", bound=BaseModel)


def _build(model: type[_Model], **values: object) -> _Model:
    """Instantiate *model* from trusted, complete values without validating them again.

    What ``BaseModel.model_construct`` does, minus its per-field default handling: every field is
    given here. The values come from the frozen knowledge base and evaluators, and a test checks
    that every built assessment re-validates to an equal model.
    """
    instance = model.__new__(model)
    object.__setattr__(instance, "__dict__", values)
    object.__setattr__(instance, "__pydantic_fields_set__", set(values))
    object.__setattr__(instance, "__pydantic_extra__", None)
    object.__setattr__(instance, "__pydantic_private__", None)
    return instance


def _version() -> str:
    try:
        return metadata.version("fasciculate")
    except metadata.PackageNotFoundError:  # pragma: no cover - only when run from a bare checkout
        return "0+unknown"


def summary(referral: ref.Referral) -> str:
    headline = _HEADLINE[referral.urgency]
    top = [fired.rule.title for fired in referral.fired if fired.rule.urgency == referral.urgency]
    if not top:
        return f"{headline}: no red flags found."
    more = f" (+{len(top) - 1} more)" if len(top) > 1 else ""
    return f"{headline}: {top[0]}{more}."


def _safety_net(kb: KnowledgeBase) -> tuple[str, ...]:
    """The red flags of the seed article, and the same-day ones, as lines for the patient."""
    days = kb.thresholds["persistent_days"].value
    seed = [f.label for f in kb.facts.values() if f.group == "seed_red_flag"]
    same_day = [
        f.label.lower()
        for f in kb.facts.values()
        if f.group in {"cauda_equina", "neurological_emergency"}
    ]
    return (
        f"Twitching that lasts more than {days:g} days or keeps getting worse",
        *(f"Twitching with {label[0].lower()}{label[1:]}" for label in seed),
        "Same day, any of: " + "; ".join(same_day),
    )


def all_met(criteria: tuple[diff.CriterionResult, ...]) -> CriterionStatus:
    """Whether all the IRLSSG criteria are met: not met if any is not, unknown if any is."""
    levels = {result.level for result in criteria}
    if FALSE in levels:
        return _NOT_MET
    return _UNDECIDED if levels - {TRUE} else _MET


_Key = TypeVar("_Key")
_Value = TypeVar("_Value")


def _memo(method: Callable[[Output, _Key], _Value]) -> Callable[[Output, _Key], _Value]:
    """Cache a one-argument method in a plain dict per builder.

    The keys are shared objects with cached hashes. Bounded: past the limit nothing new is kept.
    """
    name = method.__name__

    def cached(self: Output, key: _Key) -> _Value:
        memo = self.memos[name]
        found: Any = memo.get(key, _MISSING)
        if found is _MISSING:
            found = method(self, key)
            if len(memo) < _MEMO_LIMIT:
                memo[key] = found
        return found  # type: ignore[no-any-return]

    return functools.wraps(method)(cached)


_MISSING = object()
_MEMO_LIMIT = 65536


class Output:
    """Builds :class:`Assessment` objects for one knowledge base."""

    def __init__(self, kb: KnowledgeBase) -> None:
        """Prepare everything that is the same for every assessment."""
        self.kb = kb
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
        self.memos: dict[str, dict[Any, Any]] = defaultdict(dict)
        self.version = _version()
        self.safety_net = _safety_net(kb)
        self.source_bits = kb.source_bits()
        self.lab_bits = {key: self.source_bits[lab.range_source] for key, lab in kb.labs.items()}
        self.general_advice = tuple(item for item in kb.advice.values() if item.general)

    def assessment(
        self, referral: ref.Referral, differential: diff.Differential, facts: Facts
    ) -> Assessment:
        """The output model for one presentation."""
        advice_key = self.advice_key(referral, differential)
        root = differential.root_level
        return _build(
            Assessment,
            urgency=referral.urgency,
            summary=summary(referral),
            rules_fired=tuple(self.fired_rule(fired) for fired in referral.fired),
            missing=tuple(self.open_question(question) for question in referral.missing),
            conflicts=tuple(self.conflict(conflict) for conflict in facts.conflicts),
            sources=tuple(
                self.sources[key]
                for key in self.source_ids(self.cited(referral, differential, facts, advice_key))
            ),
            differential=tuple(
                self._category(rank, score)
                for rank, score in enumerate(differential.categories, start=1)
            ),
            restless_legs=self.restless_legs(
                (differential.rls_criteria, differential.rls_secondary)
            ),
            root_level=self.root_level(root),
            labs=tuple(self.lab(lab) for lab in facts.labs),
            triggers=tuple(self.trigger(contribution) for contribution in differential.triggers),
            advice=self.advice(advice_key),
            safety_net=self.safety_net,
            knowledge_base=self.stamp,
            fasciculate_version=self.version,
        )

    def advice_key(
        self, referral: ref.Referral, differential: diff.Differential
    ) -> tuple[tuple[str, ...], bool]:
        # General comfort measures suit self-care and routine review; with an urgent or emergency
        # referral only the advice tied to a trigger found is given.
        general = referral.urgency in _GENERAL_ADVICE
        return tuple([c.feature.id for c in differential.triggers]), general

    def cited(
        self,
        referral: ref.Referral,
        differential: diff.Differential,
        facts: Facts,
        advice_key: tuple[tuple[str, ...], bool],
    ) -> int:
        """Every source the assessment cites, as bits of ``KnowledgeBase.source_bits()``."""
        bits = self.source_bits
        cited = differential.cited | self.advice_sources(advice_key)
        for fired in referral.fired:
            cited |= bits[fired.rule.source]
        for lab in facts.labs:
            cited |= self.lab_bits[lab.analyte]
        return cited

    @_memo
    def advice_sources(self, key: tuple[tuple[str, ...], bool]) -> int:
        """The sources of the advice for *key*, as bits."""
        cited = 0
        for item in self.advice(key):
            cited |= self.source_bits[item.source]
        return cited

    @_memo
    def source_ids(self, cited: int) -> tuple[str, ...]:
        """The ids of the sources in the bit set *cited*, sorted."""
        return tuple(key for key, bit in self.source_bits.items() if cited & bit)

    @_memo
    def restless_legs(
        self, key: tuple[tuple[diff.CriterionResult, ...], tuple[diff.Contribution, ...]]
    ) -> RestlessLegs:
        criteria, secondary = key
        return _build(
            RestlessLegs,
            criteria=tuple(self.criterion(result) for result in criteria),
            all_met=all_met(criteria),
            secondary_causes=tuple(self.evidence_item(c) for c in secondary),
        )

    @_memo
    def root_level(self, root: diff.RootLevelResult) -> RootLevel:
        facts = self.facts_used(root.evidence)
        return _build(RootLevel, level=root.level, counts=dict(root.counts), facts=facts)

    @_memo
    def facts_used(self, evidence: tuple[Evidence, ...]) -> tuple[FactUsed, ...]:
        return tuple(
            _build(
                FactUsed,
                fact=item.fact,
                label=item.label,
                value=item.value,
                input=item.input,
                condition=item.condition,
            )
            for item in evidence
        )

    @_memo
    def fired_rule(self, fired: ref.FiredRule) -> FiredRule:
        rule = fired.rule
        return _build(
            FiredRule,
            id=rule.id,
            urgency=rule.urgency,
            title=rule.title,
            condition=rule.when,
            rationale=rule.rationale,
            source=rule.source,
            facts=self.facts_used(fired.evidence),
        )

    @_memo
    def open_question(self, question: ref.OpenQuestion) -> OpenQuestion:
        return _build(
            OpenQuestion,
            fact=question.fact,
            question=question.question,
            could_raise_to=question.could_raise_to,
            rules=question.rules,
        )

    @_memo
    def conflict(self, conflict: _facts.Conflict) -> AnswerConflict:
        labels = {key: info.label for key, info in self.kb.facts.items()}
        labels.update({key: info.label for key, info in self.kb.quantities.items()})
        general, specific = labels[conflict.fact], labels[conflict.implied_by]
        return _build(
            AnswerConflict,
            fact=conflict.fact,
            label=general,
            answered=conflict.answered,
            implied_by=conflict.implied_by,
            input=conflict.input,
            derivation=conflict.derivation,
            note=(
                f"{conflict.answered} says '{general}' is absent, but {conflict.input} gives "
                f"'{specific}', which implies it: read as present. Check both answers."
            ),
        )

    @_memo
    def evidence_item(self, contribution: diff.Contribution) -> EvidenceItem:
        feature = contribution.feature
        return _build(
            EvidenceItem,
            feature=feature.id,
            label=feature.label,
            holds=contribution.holds,
            weight=contribution.weight,
            source=feature.source,
            facts=self.facts_used(contribution.evidence),
        )

    def _category(self, rank: int, score: diff.CategoryScore) -> CategoryResult:
        items = self.memos["evidence_item"]
        return _build(
            CategoryResult,
            category=score.category.id,
            label=score.category.label,
            rank=rank,
            probability=score.probability,
            score=score.score,
            must_not_miss=score.must_not_miss,
            supporting=tuple([items.get(c) or self.evidence_item(c) for c in score.supporting]),
            conflicting=tuple([items.get(c) or self.evidence_item(c) for c in score.conflicting]),
        )

    @_memo
    def criterion(self, result: diff.CriterionResult) -> Criterion:
        return _build(
            Criterion,
            number=result.criterion.number,
            text=result.criterion.text,
            status=_STATUS.get(result.level, _UNDECIDED),
            facts=self.facts_used(result.evidence),
        )

    @_memo
    def lab(self, lab: LabFact) -> LabInterpretation:
        info = self.kb.labs[lab.analyte]
        limits = ", ".join(f"{name} {value:g}" for name, value in info.limits().items())
        return _build(
            LabInterpretation,
            analyte=lab.analyte,
            value=lab.value,
            unit=lab.unit,
            reported=lab.reported,
            flag=info.classify(lab.value),
            reference=f"{limits} {info.unit}" if limits else "no limits applied",
            source=info.range_source,
            input=lab.path,
        )

    @_memo
    def trigger(self, contribution: diff.Contribution) -> Trigger:
        feature = contribution.feature
        return _build(
            Trigger,
            id=feature.id,
            label=feature.label,
            source=feature.source,
            facts=self.facts_used(contribution.evidence),
            advice=feature.advice,
        )

    @_memo
    def advice(self, key: tuple[tuple[str, ...], bool]) -> tuple[Advice, ...]:
        trigger_ids, general = key
        tied: dict[str, list[str]] = {}
        features = {feature.id: feature for feature in self.kb.features}
        for trigger in trigger_ids:
            for advice_id in features[trigger].advice:
                tied.setdefault(advice_id, []).append(trigger)
        extra = self.general_advice if general else ()
        chosen = [*tied, *(item.id for item in extra if item.id not in tied)]
        return tuple(
            _build(
                Advice,
                id=advice_id,
                text=self.kb.advice[advice_id].text,
                source=self.kb.advice[advice_id].source,
                triggers=tuple(tied.get(advice_id, ())),
            )
            for advice_id in chosen
        )

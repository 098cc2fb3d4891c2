"""Turn the evaluators' frozen results into the output models of :mod:`fasciculate._assessment`.

Output parts are immutable and many repeat across presentations (the same rule fired on the same
fact), so conversions are cached: batch runs share the parts instead of rebuilding them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
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
    ConditionResult,
    Criterion,
    CriterionStatus,
    EvidenceItem,
    FactUsed,
    FiredRule,
    KnowledgeBaseStamp,
    LabInterpretation,
    OpenQuestion,
    ReadOnlyDict,
    RestlessLegs,
    RootLevel,
    SetAsideQuestion,
    SourceRef,
    Trigger,
    UnmetIndication,
)
from fasciculate._cache import BoundedCache
from fasciculate._evidence import Evidence
from fasciculate._fact_paths import answered_in
from fasciculate._facts import Facts, LabFact
from fasciculate._kb import KnowledgeBase
from fasciculate._safety_net import SafetyNet
from fasciculate._version import VERSION
from fasciculate._vocab import Interpretation, LabFlag, Urgency

_HEADLINE = {
    Urgency.SELF_CARE: "Self-care with safety-net advice",
    Urgency.ROUTINE: "Routine clinical review",
    Urgency.URGENT: "Urgent specialist referral",
    Urgency.EMERGENCY: "Emergency: same-day assessment",
}
_GENERAL_ADVICE = frozenset({Urgency.SELF_CARE, Urgency.ROUTINE})
_MET, _NOT_MET, _UNDECIDED = CriterionStatus.MET, CriterionStatus.NOT_MET, CriterionStatus.UNKNOWN
#: The flag of a result given only in words.
_WORDS_FLAG = {
    Interpretation.LL: LabFlag.CRITICAL_LOW,
    Interpretation.L: LabFlag.LOW,
    Interpretation.N: LabFlag.NORMAL,
    Interpretation.H: LabFlag.HIGH,
    Interpretation.HH: LabFlag.CRITICAL_HIGH,
    Interpretation.A: LabFlag.ABNORMAL,
    Interpretation.AA: LabFlag.CRITICAL,
}
_JUDGEMENT = CriterionStatus.NEEDS_JUDGEMENT


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


def summary(referral: ref.Referral) -> str:
    headline = _HEADLINE[referral.urgency]
    top = [fired.rule.title for fired in referral.fired if fired.rule.urgency == referral.urgency]
    if not top:
        return f"{headline}: no red flags found."
    more = f" (+{len(top) - 1} more)" if len(top) > 1 else ""
    return f"{headline}: {top[0]}{more}."


def all_met(criteria: tuple[diff.CriterionResult, ...]) -> CriterionStatus:
    """Whether all the IRLSSG criteria are met.

    Not met if any is not; else unknown if any is; else needs judgement if any does.
    """
    found = {result.status for result in criteria}
    for status in (_NOT_MET, _UNDECIDED, _JUDGEMENT):
        if status in found:
            return status
    return _MET


_Key = TypeVar("_Key")
_Value = TypeVar("_Value")


#: The approximate size in bytes of each cached kind of part, by method name (measured).
_SIZES: dict[str, int] = {}
#: The uncached method of each, by name.
_BUILDERS: dict[str, Callable[[Output, Any], Any]] = {}


def _memo(
    size: int,
) -> Callable[[Callable[[Output, _Key], _Value]], Callable[[Output, _Key], _Value]]:
    """Cache a one-argument method in a :class:`BoundedCache` per builder, *size* bytes an entry.

    The keys are shared objects with cached hashes; the values are never None.
    """

    def decorate(method: Callable[[Output, _Key], _Value]) -> Callable[[Output, _Key], _Value]:
        name = method.__name__
        _SIZES[name] = size
        _BUILDERS[name] = method

        def cached(self: Output, key: _Key) -> _Value:
            cache: BoundedCache[_Key, _Value] = self.caches[name]
            cache.lookups += 1
            found = cache.get(key)
            return found if found is not None else cache.store(key, method(self, key))

        return functools.wraps(method)(cached)

    return decorate


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
                unverified=source.unverified,
            )
            for key, source in kb.sources.items()
        }
        #: The cache of each memoised method, by its name.
        self.caches: dict[str, BoundedCache[Any, Any]] = {
            name: BoundedCache(f"output.{name.strip('_')}", size=size)
            for name, size in _SIZES.items()
        }
        self.version = VERSION
        self.source_bits = kb.source_bits()
        self.lab_bits = {key: self.source_bits[lab.range_source] for key, lab in kb.labs.items()}
        self.safety_nets = SafetyNet(kb)
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
            not_asked=tuple(self.set_aside(item) for item in referral.not_asked),
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
            safety_net=self.safety_nets(referral.urgency, facts),
            knowledge_base=self.stamp,
            fasciculate_version=self.version,
        )

    def advice_key(
        self, referral: ref.Referral, differential: diff.Differential
    ) -> tuple[tuple[str, ...], bool]:
        # General comfort measures suit self-care and routine review; with an urgent or emergency
        # referral only the advice tied to a trigger found, and not a lifestyle measure, is given.
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
        if referral.not_asked:
            cited |= self.set_aside_sources(referral.not_asked)
        for lab in facts.labs:
            cited |= bits[lab.source] if lab.source else self.lab_bits[lab.analyte]
        return cited

    @_memo(64)
    def advice_sources(self, key: tuple[tuple[str, ...], bool]) -> int:
        """The sources of the advice for *key*, as bits."""
        cited = 0
        for item in self.advice(key):
            cited |= self.source_bits[item.source]
        return cited

    @_memo(200)
    def source_ids(self, cited: int) -> tuple[str, ...]:
        """The ids of the sources in the bit set *cited*, sorted."""
        return tuple(key for key, bit in self.source_bits.items() if cited & bit)

    @_memo(500)
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

    @_memo(500)
    def root_level(self, root: diff.RootLevelResult) -> RootLevel:
        facts = self.facts_used(root.evidence)
        return _build(RootLevel, level=root.level, counts=ReadOnlyDict(root.counts), facts=facts)

    @_memo(250)
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

    @_memo(800)
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
            category=rule.category,
            facts=self.facts_used(fired.evidence),
        )

    @_memo(450)
    def open_question(self, question: ref.OpenQuestion) -> OpenQuestion:
        return _build(
            OpenQuestion,
            fact=question.fact,
            question=question.question,
            could_raise_to=question.could_raise_to,
            rules=question.rules,
            inputs=answered_in(question.fact, self.kb),
            decides=question.decides,
        )

    @_memo(800)
    def set_aside(self, item: ref.SetAside) -> SetAsideQuestion:
        question = item.question
        return _build(
            SetAsideQuestion,
            fact=question.fact,
            question=question.question,
            inputs=answered_in(question.fact, self.kb),
            could_raise_to=question.could_raise_to,
            rules=question.rules,
            indications=tuple(
                _build(
                    UnmetIndication,
                    id=indication.id,
                    title=indication.title,
                    when=indication.when,
                    source=indication.source,
                )
                for indication in item.indications
            ),
        )

    @_memo(64)
    def set_aside_sources(self, not_asked: tuple[ref.SetAside, ...]) -> int:
        """The sources of the indications not met, as bits."""
        cited = 0
        for item in not_asked:
            for indication in item.indications:
                cited |= self.source_bits[indication.source]
        return cited

    @_memo(650)
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

    @_memo(400)
    def evidence_item(self, contribution: diff.Contribution) -> EvidenceItem:
        feature = contribution.feature
        return _build(
            EvidenceItem,
            feature=feature.id,
            label=feature.label,
            holds=contribution.holds,
            weight=contribution.weight,
            source=feature.source,
            weight_source=feature.magnitude,
            facts=self.facts_used(contribution.evidence),
        )

    @_memo(150)
    def _items(self, contributions: tuple[diff.Contribution, ...]) -> tuple[EvidenceItem, ...]:
        cache = self.caches["evidence_item"]
        cache.lookups += len(contributions)
        get, store, build = cache.get, cache.store, _BUILDERS["evidence_item"]
        return tuple([get(c) or store(c, build(self, c)) for c in contributions])

    def _category(self, rank: int, score: diff.CategoryScore) -> CategoryResult:
        return _build(
            CategoryResult,
            category=score.category.id,
            label=score.category.label,
            rank=rank,
            probability=score.probability,
            score=score.score,
            must_not_miss=score.must_not_miss,
            leading_condition=score.conditions[0].condition.id,
            referral_rules=tuple(rule.id for rule in score.reasons),
            supporting=self._items(score.supporting),
            conflicting=self._items(score.conflicting),
            conditions=tuple(
                _build(
                    ConditionResult,
                    condition=condition.condition.id,
                    label=condition.condition.label,
                    rank=position,
                    probability=condition.probability,
                    score=condition.score,
                    must_not_miss=condition.must_not_miss,
                    supporting=self._items(condition.supporting),
                    conflicting=self._items(condition.conflicting),
                )
                for position, condition in enumerate(score.conditions, start=1)
            ),
        )

    @_memo(100)
    def criterion(self, result: diff.CriterionResult) -> Criterion:
        return _build(
            Criterion,
            number=result.criterion.number,
            text=result.criterion.text,
            status=CriterionStatus(result.status),
            facts=self.facts_used(result.evidence),
        )

    @_memo(550)
    def lab(self, lab: LabFact) -> LabInterpretation:
        info = self.kb.labs[lab.analyte]
        limits = ", ".join(f"{name} {value:g}" for name, value in info.limits().items())
        if lab.value is not None:
            flag = info.classify(lab.value)
        else:
            flag = _WORDS_FLAG[lab.interpretation]  # type: ignore[index]
        return _build(
            LabInterpretation,
            analyte=lab.analyte,
            value=lab.value,
            unit=lab.unit,
            reported=lab.reported,
            interpretation=lab.interpretation,
            flag=flag,
            reference=f"{limits} {info.unit}" if limits else "no limits applied",
            formula=lab.formula,
            source=lab.source or info.range_source,
            input=lab.path,
        )

    @_memo(300)
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

    @_memo(1100)
    def advice(self, key: tuple[tuple[str, ...], bool]) -> tuple[Advice, ...]:
        trigger_ids, general = key
        tied: dict[str, list[str]] = {}
        features = {feature.id: feature for feature in self.kb.features}
        for trigger in trigger_ids:
            for advice_id in features[trigger].advice:
                tied.setdefault(advice_id, []).append(trigger)
        extra = self.general_advice if general else ()
        chosen = [*tied, *(item.id for item in extra if item.id not in tied)]
        if not general:  # urgent or emergency: no diet, fluid, exercise or comfort advice
            chosen = [item for item in chosen if not self.kb.advice[item].lifestyle]
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

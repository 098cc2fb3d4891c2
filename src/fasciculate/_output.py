"""Turn the evaluators' frozen results into the output models of :mod:`fasciculate._assessment`.

The fields of :class:`Assessment`, :class:`CategoryResult` and :class:`ConditionResult` are
declared once, in the models; :data:`ASSESSMENT`, :data:`CATEGORY` and :data:`CONDITION` say how
each field's value is made from one presentation's evaluation. :func:`frame` checks each table
against the model's ``model_fields`` when this module is imported (a field without a value and
without a default, or a value without a field, fails at import), and gives the fields in the
model's order: the typed path builds the models from it, and the JSON writer of
:mod:`fasciculate._output_json` writes the same fields, in the same order, from it.

Output parts are immutable and many repeat across presentations (the same rule fired on the same
fact), so conversions are cached: batch runs share the parts instead of rebuilding them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
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
from fasciculate._kb_types import Lab
from fasciculate._output_frame import Case, Make, Ranked, compile_frame, frame
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
    """Instantiate *model* from trusted, complete values without validating them again."""
    return _new(model, values)


def _new(model: type[_Model], values: dict[str, object]) -> _Model:
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
    """Builds :class:`Assessment` objects for one knowledge base.

    *model* and *values* are for a model that extends :class:`Assessment` (the worked example of
    the docs' how-to): its fields are built from *values* in the model's order.
    """

    def __init__(
        self,
        kb: KnowledgeBase,
        *,
        model: type[Assessment] = Assessment,
        values: Mapping[str, Make[Case]] | None = None,
    ) -> None:
        """Prepare everything that is the same for every assessment."""
        self.kb = kb
        self.model = model
        self.fields = ASSESSMENT_FIELDS if values is None else frame(model, values)
        self._values = (
            _ASSESSMENT_VALUES
            if values is None
            else compile_frame(f"output frame {model.__name__}", self.fields)
        )
        self.stamp: KnowledgeBaseStamp = KnowledgeBaseStamp(version=kb.version, sha256=kb.sha256)
        self.sources: dict[str, SourceRef] = {
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
        self.version: str = VERSION
        self.source_bits = kb.source_bits()
        self.lab_bits = {key: self.source_bits[lab.range_source] for key, lab in kb.labs.items()}
        self.safety_nets: SafetyNet = SafetyNet(kb)
        self.general_advice = tuple(item for item in kb.advice.values() if item.general)
        #: Writes an assessment's JSON from its case (set by the engine): what an assessment's
        #: ``model_dump_json()`` returns, written on first use.
        self.writer: Callable[[Case], bytes] | None = None

    def case(self, referral: ref.Referral, differential: diff.Differential, facts: Facts) -> Case:
        """What the fields of one presentation's assessment are made from."""
        return Case(referral, differential, facts, self.advice_key(referral, differential))

    def assessment(
        self, referral: ref.Referral, differential: diff.Differential, facts: Facts
    ) -> Assessment:
        """The output model for one presentation."""
        case = self.case(referral, differential, facts)
        built = _new(self.model, self._values(self, case))
        if self.writer is not None:
            object.__setattr__(built, "_json", functools.partial(self.writer, case))
        return built

    def advice_key(
        self, referral: ref.Referral, differential: diff.Differential
    ) -> tuple[tuple[str, ...], bool]:
        # General comfort measures suit self-care and routine review; with an urgent or emergency
        # referral only the advice tied to a trigger found, and not a lifestyle measure, is given.
        general = referral.urgency in _GENERAL_ADVICE
        return tuple([c.feature.id for c in differential.triggers]), general

    def cited(self, case: Case) -> int:
        """Every source the assessment cites, as bits of ``KnowledgeBase.source_bits()``."""
        bits = self.source_bits
        cited = case.differential.cited | self.advice_sources(case.advice_key)
        for fired in case.referral.fired:
            cited |= bits[fired.rule.source]
        if case.referral.not_asked:
            cited |= self.set_aside_sources(case.referral.not_asked)
        for lab in case.facts.labs:
            cited |= bits[lab.source] if lab.source else self.lab_bits[lab.analyte]
        return cited

    def ranked(self, differential: diff.Differential) -> tuple[CategoryResult, ...]:
        """The differential's categories, first first."""
        nested = differential.condition_ranking
        return tuple(
            [
                _new(
                    CategoryResult,
                    _CATEGORY_VALUES(self, Ranked(differential, slot, rank, nested[slot])),
                )
                for rank, slot in enumerate(differential.ranking, start=1)
            ]
        )

    def conditions(self, at: Ranked) -> tuple[ConditionResult, ...]:
        """The conditions of the category *at*, first first."""
        differential = at.differential
        return tuple(
            [
                _new(
                    ConditionResult, _CONDITION_VALUES(self, Ranked(differential, inner, rank, ()))
                )
                for rank, inner in enumerate(at.order, start=1)
            ]
        )

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
        # Each piece of evidence recurs in many tuples: its model is built once and shared.
        return tuple([self.fact_used(item) for item in evidence])

    @_memo(200)
    def fact_used(self, item: Evidence) -> FactUsed:
        return _build(
            FactUsed,
            fact=item.fact,
            label=item.label,
            value=item.value,
            input=item.input,
            condition=item.condition,
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
    def evidence_items(
        self, contributions: tuple[diff.Contribution, ...]
    ) -> tuple[EvidenceItem, ...]:
        cache = self.caches["evidence_item"]
        cache.lookups += len(contributions)
        get, store, build = cache.get, cache.store, _BUILDERS["evidence_item"]
        return tuple([get(c) or store(c, build(self, c)) for c in contributions])

    @_memo(100)
    def criterion(self, result: diff.CriterionResult) -> Criterion:
        return _build(
            Criterion,
            number=result.criterion.number,
            text=result.criterion.text,
            status=CriterionStatus(result.status),
            facts=self.facts_used(result.evidence),
        )

    @staticmethod
    def flag(info: Lab, lab: LabFact) -> LabFlag:
        """The flag of *lab*: from its value against *info*'s limits, else from its words."""
        if lab.value is not None:
            return info.classify(lab.value)
        return _WORDS_FLAG[lab.interpretation]  # type: ignore[index]

    @staticmethod
    def reference(info: Lab) -> str:
        """The limits applied to an analyte, in its canonical unit."""
        limits = ", ".join(f"{name} {value:g}" for name, value in info.limits().items())
        return f"{limits} {info.unit}" if limits else "no limits applied"

    @_memo(550)
    def lab(self, lab: LabFact) -> LabInterpretation:
        info = self.kb.labs[lab.analyte]
        return _build(
            LabInterpretation,
            analyte=lab.analyte,
            value=lab.value,
            unit=lab.unit,
            reported=lab.reported,
            interpretation=lab.interpretation,
            flag=self.flag(info, lab),
            reference=self.reference(info),
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


#: How each field of :class:`Assessment` is made: the one place a new field's value is written
#: (a field with a default may be left out). The JSON writer writes the same fields.
ASSESSMENT: dict[str, Make[Case]] = {
    "urgency": lambda _, case: case.referral.urgency,
    "summary": lambda _, case: summary(case.referral),
    "rules_fired": lambda out, case: tuple(map(out.fired_rule, case.referral.fired)),
    "missing": lambda out, case: tuple(map(out.open_question, case.referral.missing)),
    "not_asked": lambda out, case: tuple(map(out.set_aside, case.referral.not_asked)),
    "conflicts": lambda out, case: tuple(map(out.conflict, case.facts.conflicts)),
    "sources": lambda out, case: tuple(
        [out.sources[key] for key in out.source_ids(out.cited(case))]
    ),
    "differential": lambda out, case: out.ranked(case.differential),
    "restless_legs": lambda out, case: out.restless_legs(
        (case.differential.rls_criteria, case.differential.rls_secondary)
    ),
    "root_level": lambda out, case: out.root_level(case.differential.root_level),
    "labs": lambda out, case: tuple(map(out.lab, case.facts.labs)),
    "triggers": lambda out, case: tuple(map(out.trigger, case.differential.triggers)),
    "advice": lambda out, case: out.advice(case.advice_key),
    "safety_net": lambda out, case: out.safety_nets(case.referral.urgency, case.facts),
    "knowledge_base": lambda out, _: out.stamp,
    "fasciculate_version": lambda out, _: out.version,
}

#: How each field of :class:`CategoryResult` is made (its evidence is its conditions').
CATEGORY: dict[str, Make[Ranked]] = {
    "category": lambda _, at: at.differential.infos[at.slot].id,
    "label": lambda _, at: at.differential.infos[at.slot].label,
    "rank": lambda _, at: at.rank,
    "probability": lambda _, at: at.differential.probabilities[at.slot],
    "score": lambda _, at: at.differential.scores[at.slot],
    "must_not_miss": lambda _, at: at.differential.must_not_miss[at.slot],
    "leading_condition": lambda _, at: at.differential.condition_infos[at.order[0]].id,
    "referral_rules": lambda _, at: tuple([rule.id for rule in at.differential.reasons[at.slot]]),
    "conditions": lambda out, at: out.conditions(at),
}

#: How each field of :class:`ConditionResult` is made.
CONDITION: dict[str, Make[Ranked]] = {
    "condition": lambda _, at: at.differential.condition_infos[at.slot].id,
    "label": lambda _, at: at.differential.condition_infos[at.slot].label,
    "rank": lambda _, at: at.rank,
    "probability": lambda _, at: at.differential.condition_probabilities[at.slot],
    "score": lambda _, at: at.differential.condition_scores[at.slot],
    "must_not_miss": lambda _, at: at.differential.condition_must_not_miss[at.slot],
    "supporting": lambda out, at: out.evidence_items(at.differential.condition_supporting[at.slot]),
    "conflicting": lambda out, at: out.evidence_items(
        at.differential.condition_conflicting[at.slot]
    ),
}

# Checked here, at import: a model field without a value (or a value without a field) fails now.
ASSESSMENT_FIELDS = frame(Assessment, ASSESSMENT)
CATEGORY_FIELDS = frame(CategoryResult, CATEGORY)
CONDITION_FIELDS = frame(ConditionResult, CONDITION)
_ASSESSMENT_VALUES = compile_frame("output frame Assessment", ASSESSMENT_FIELDS)
_CATEGORY_VALUES = compile_frame("output frame CategoryResult", CATEGORY_FIELDS)
_CONDITION_VALUES = compile_frame("output frame ConditionResult", CONDITION_FIELDS)

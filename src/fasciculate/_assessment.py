"""The output models: what :func:`fasciculate.assess` returns.

Plain pydantic models, JSON-serialisable and deterministic, carrying everything a clinician needs to
check the basis of the recommendation: every fired rule with the facts it used and its source, the
open questions, the cited sources and the fingerprint of the knowledge base.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, Literal, NoReturn

from pydantic import BaseModel, ConfigDict, Field

from fasciculate._vocab import Analyte, Category, Interpretation, LabFlag, Urgency


class ReadOnlyDict(dict[str, int]):
    """A ``dict`` that refuses changes: the mappings inside a returned assessment.

    Parts of an assessment are shared between calls (the engine keeps them), so a mapping in one
    must not be editable: a change would show in every later result that shares it. It is still a
    ``dict`` to pydantic, ``json`` and ``==``.
    """

    __slots__ = ()

    def _refuse(self, *_args: object, **_kwargs: object) -> NoReturn:
        msg = "an assessment is read-only; copy it with dict(...) to change it"
        raise TypeError(msg)

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (dict(self),))

    def __copy__(self) -> ReadOnlyDict:
        return self

    def __deepcopy__(self, _memo: object) -> ReadOnlyDict:
        return self


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FactUsed(_Out):
    """A fact a fired rule relied on, traced back to the input."""

    fact: str = Field(description="The fact or quantity id.")
    label: str
    value: str = Field(description="'present', or the quantity with its unit.")
    input: str = Field(description="The input field it came from, e.g. findings.weakness.")
    condition: str | None = Field(default=None, description="For a quantity, the comparison.")


class FiredRule(_Out):
    """A rule of the referral table that fired."""

    id: str
    urgency: Urgency
    title: str
    condition: str = Field(description="The rule's condition as written in the rule table.")
    rationale: str
    source: str = Field(description="Source id; see Assessment.sources.")
    category: Category | None = Field(
        description="The differential category the rule argues for (null for SCREEN-INCOMPLETE, "
        "which argues for none)."
    )
    facts: tuple[FactUsed, ...]


class OpenQuestion(_Out):
    """An unanswered question that could raise the urgency, or that decides which others to ask.

    In ``Assessment.missing`` every question could raise the urgency (it names *rules*).
    :func:`fasciculate.next_questions` also gives the indicators worth asking first: unanswered
    questions that the indications of ``kb/indications.toml`` read, whose "no" could set aside
    more open questions than it takes to answer them (*decides*, no *rules*).
    """

    fact: str
    question: str
    could_raise_to: Urgency = Field(
        description="The highest urgency its answer could raise the referral to; for a question "
        "asked only to decide which others to ask, that of the questions it decides about."
    )
    rules: tuple[str, ...] = Field(
        description="The rules it could make fire (none: it is asked for what it decides)."
    )
    inputs: tuple[str, ...] = Field(
        description="The input fields that answer it, e.g. examination.anal_sphincter_laxity "
        "(labs for a laboratory result)."
    )
    decides: tuple[str, ...] = Field(
        default=(),
        description="The undecided indications (kb/indications.toml) its answer could decide, "
        "and so whether the questions they list are asked.",
    )


class UnmetIndication(_Out):
    """An indication known not to hold: why a question was not asked."""

    id: str = Field(description="The indication's id in kb/indications.toml.")
    title: str
    when: str = Field(description="Its condition as written in kb/indications.toml: false here.")
    source: str = Field(description="Source id; see Assessment.sources.")


class SetAsideQuestion(_Out):
    """A question not asked: it could raise the urgency, but the presentation does not call for it.

    A present answer to it is still read and still escalates.
    """

    fact: str
    question: str
    inputs: tuple[str, ...] = Field(description="The input fields that answer it.")
    could_raise_to: Urgency
    rules: tuple[str, ...] = Field(description="The rules it could make fire.")
    indications: tuple[UnmetIndication, ...] = Field(
        description="The indications that would ask it, none of them met."
    )


class AnswerConflict(_Out):
    """Two answers that contradict each other, resolved towards the worse reading: check them."""

    fact: str = Field(description="The general fact answered absent, now read as present.")
    label: str
    answered: str = Field(description="The input field that said it was absent.")
    implied_by: str = Field(description="The specific fact (or quantity) that implies it.")
    input: str = Field(description="The input field of the specific fact.")
    derivation: str = Field(description="The implication's id in kb/derivations.toml.")
    note: str = Field(description="What was resolved, for the clinician to check.")


class SourceRef(_Out):
    """A cited source."""

    id: str
    title: str
    publisher: str
    year: int
    url: str | None = None
    expert_estimate: bool = False
    unverified: bool = Field(
        default=False,
        description="The primary text was not read in full: verify before relying on it.",
    )


class KnowledgeBaseStamp(_Out):
    """Which knowledge base produced the result: its version and the SHA-256 of its tables."""

    version: str
    sha256: str


class EvidenceItem(_Out):
    """A feature of the differential that was decided, with its weight and the facts behind it."""

    feature: str = Field(description="Feature id in the differential table.")
    label: str
    holds: bool = Field(description="True when the feature is present, False when known absent.")
    weight: float = Field(description="What it added to (or took from) the condition's score.")
    source: str = Field(description="The source the direction of the feature rests on.")
    weight_source: str = Field(
        description="The source of the weight's size: 'expert-estimate' unless a source gives "
        "it as a likelihood ratio (see Assessment.sources)."
    )
    facts: tuple[FactUsed, ...]


class ConditionResult(_Out):
    """One clinical condition within a category, with its own evidence."""

    condition: str = Field(description="Condition id in the differential table.")
    label: str
    rank: int = Field(description="1 for the condition that leads its category.")
    probability: float = Field(description="Relative probability (all conditions sum to 1).")
    score: float = Field(description="ln(prior) plus the weights of its decided features.")
    must_not_miss: bool = Field(
        description="A hard feature of a serious condition, or an urgent or emergency rule "
        "naming it, fired: consider it whatever its rank."
    )
    supporting: tuple[EvidenceItem, ...]
    conflicting: tuple[EvidenceItem, ...]


class CategoryResult(_Out):
    """One category of the differential, with the conditions scored inside it."""

    category: Category
    label: str
    rank: int = Field(
        description="1 for the category ranked first: the category of the most urgent urgent "
        "or emergency rule that fired, else the most likely."
    )
    probability: float = Field(
        description="Relative probability (the five sum to 1; the sum of its conditions'); not "
        "calibrated."
    )
    score: float = Field(description="The log of the sum of its conditions' exp(score).")
    must_not_miss: bool = Field(
        description="Some condition of the category is must-not-miss: consider it whatever its "
        "rank."
    )
    leading_condition: str = Field(description="The id of the condition ranked first within it.")
    referral_rules: tuple[str, ...] = Field(
        description="The urgent or emergency rules of this category that fired: the reason it "
        "ranks first."
    )
    conditions: tuple[ConditionResult, ...] = Field(description="Its conditions, ranked.")

    # Not fields: each condition carries its own evidence, and the JSON does not repeat it.
    @property
    def supporting(self) -> tuple[EvidenceItem, ...]:
        """Its conditions' supporting items, its leading condition's first."""
        return tuple([item for condition in self.conditions for item in condition.supporting])

    @property
    def conflicting(self) -> tuple[EvidenceItem, ...]:
        """Its conditions' conflicting items, its leading condition's first."""
        return tuple([item for condition in self.conditions for item in condition.conflicting])


class CriterionStatus(enum.StrEnum):
    """Whether a diagnostic criterion is met."""

    #: The criterion is met.
    MET = "met"
    #: The criterion is not met.
    NOT_MET = "not_met"
    #: Not enough is known to say.
    UNKNOWN = "unknown"
    #: A mimic is present: whether the symptoms are *solely* accounted for by it is a matter of
    #: clinical judgement (IRLSSG criterion 5).
    NEEDS_JUDGEMENT = "needs_judgement"


class Criterion(_Out):
    """One IRLSSG restless legs criterion."""

    number: int
    text: str
    status: CriterionStatus
    facts: tuple[FactUsed, ...]


class RestlessLegs(_Out):
    """The IRLSSG 2012 criteria one by one, and the secondary causes found."""

    criteria: tuple[Criterion, ...]
    all_met: CriterionStatus = Field(
        description="Whether all five criteria are met: not_met if any is not, else unknown if "
        "any is unknown, else needs_judgement if any needs judgement."
    )
    secondary_causes: tuple[EvidenceItem, ...]


class RootLevel(_Out):
    """The likely lumbar root level of a radiculopathy, when the pattern allows."""

    level: str | None = Field(description="L3/L4, L5 or S1; null when the pattern does not allow.")
    counts: dict[str, int] = Field(description="Features present for each level.")
    facts: tuple[FactUsed, ...]


class Trigger(_Out):
    """An everyday contributor found, with the fact and threshold behind it."""

    id: str
    label: str
    source: str
    facts: tuple[FactUsed, ...]
    advice: tuple[str, ...] = Field(description="Ids of the advice tied to it.")


class Advice(_Out):
    """A self-care measure, tied to the triggers it answers (none for general measures)."""

    id: str
    text: str
    source: str
    triggers: tuple[str, ...]


class LabInterpretation(_Out):
    """One laboratory result, converted to SI and classified against the knowledge base."""

    analyte: Analyte
    value: float | None = Field(
        description="The value in the canonical unit; null for a result given only in words."
    )
    unit: str = Field(description="The canonical (SI) unit.")
    reported: str = Field(description="The value and unit (and interpretation) as sent.")
    interpretation: Interpretation | None = Field(
        default=None, description="The laboratory's interpretation, when it gave one."
    )
    flag: LabFlag = Field(
        description="From the value against the limits; from the interpretation when no value."
    )
    reference: str = Field(description="The limits applied, in the canonical unit.")
    formula: str | None = Field(
        default=None,
        description="For a computed value (albumin-adjusted calcium): the formula and its inputs.",
    )
    source: str
    input: str = Field(
        description="The input field, e.g. labs.0; for a computed value its inputs, "
        "e.g. labs.0,labs.1."
    )


class Assessment(_Out):
    """The result of assessing one presentation.

    An assessment from :func:`fasciculate.assess` keeps the JSON it was written as (by the writer
    of :func:`fasciculate.assess_json`, from the same parts), so ``model_dump_json()`` without
    options returns those bytes, decoded, instead of serialising the models again. Any option,
    or an assessment made another way (validated, copied, unpickled), serialises as usual.
    """

    # Not a field: the JSON written for this assessment (bytes), or what writes it on first use.
    __slots__ = ("_json",)

    urgency: Urgency
    summary: str = Field(description="One line for a list view.")
    rules_fired: tuple[FiredRule, ...]
    missing: tuple[OpenQuestion, ...] = Field(
        description="The indicated questions still unanswered that could raise the urgency, in "
        "the order that decides fastest."
    )
    not_asked: tuple[SetAsideQuestion, ...] = Field(
        description="Unanswered questions that could raise the urgency but that nothing in the "
        "presentation calls for, each with the indications not met: set aside, not asked."
    )
    conflicts: tuple[AnswerConflict, ...] = Field(
        description=(
            "Contradictory answers (a specific finding present, its general question answered "
            "absent), each resolved to present: check them with the patient."
        )
    )
    sources: tuple[SourceRef, ...] = Field(
        description="Every source cited by the fired rules, the differential, triggers and advice."
    )
    differential: tuple[CategoryResult, ...] = Field(description="The five categories, ranked.")
    restless_legs: RestlessLegs
    root_level: RootLevel
    labs: tuple[LabInterpretation, ...] = Field(description="Every lab result, classified.")
    triggers: tuple[Trigger, ...]
    advice: tuple[Advice, ...]
    safety_net: tuple[str, ...] = Field(
        description="Red flags that should bring the patient back, always given with advice."
    )
    knowledge_base: KnowledgeBaseStamp
    fasciculate_version: str

    def model_dump_json(  # noqa: PLR0913 - pydantic's own signature
        self,
        *,
        indent: int | None = None,
        ensure_ascii: bool = False,
        include: Any = None,  # noqa: ANN401 - pydantic's IncEx, which the docs cannot link
        exclude: Any = None,  # noqa: ANN401
        context: Any | None = None,  # noqa: ANN401 - pydantic's own type
        by_alias: bool | None = None,
        exclude_unset: bool = False,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        exclude_computed_fields: bool = False,
        round_trip: bool = False,
        warnings: bool | Literal["none", "warn", "error"] = True,
        fallback: Callable[[Any], Any] | None = None,
        serialize_as_any: bool = False,
        polymorphic_serialization: bool | None = None,
    ) -> str:
        """The assessment as JSON: the bytes it was written as, when asked with no options."""
        options = (
            indent,
            ensure_ascii,
            include,
            exclude,
            context,
            by_alias,
            exclude_unset,
            exclude_defaults,
            exclude_none,
            exclude_computed_fields,
            round_trip,
            warnings,
            fallback,
            serialize_as_any,
            polymorphic_serialization,
        )
        written = getattr(self, "_json", None)
        if written is not None and options == _DEFAULT_DUMP:
            if not isinstance(written, bytes):
                written = written()
                object.__setattr__(self, "_json", written)
            return written.decode()
        return super().model_dump_json(
            indent=indent,
            ensure_ascii=ensure_ascii,
            include=include,
            exclude=exclude,
            context=context,
            by_alias=by_alias,
            exclude_unset=exclude_unset,
            exclude_defaults=exclude_defaults,
            exclude_none=exclude_none,
            exclude_computed_fields=exclude_computed_fields,
            round_trip=round_trip,
            warnings=warnings,
            fallback=fallback,
            serialize_as_any=serialize_as_any,
            polymorphic_serialization=polymorphic_serialization,
        )


#: ``model_dump_json``'s options at their defaults, in the order of its signature.
_DEFAULT_DUMP = (
    None,
    False,
    None,
    None,
    None,
    None,
    False,
    False,
    False,
    False,
    False,
    True,
    None,
    False,
    None,
)

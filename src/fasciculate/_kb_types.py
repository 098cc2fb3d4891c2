"""The typed tables of the knowledge base: frozen value objects, built by `fasciculate._kb`."""

from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import Literal

import attrs

from fasciculate._conditions import Atom, Condition, atoms
from fasciculate._vocab import Analyte, Category, LabFlag, MedicationClass, Urgency


@attrs.frozen
class Source:
    """A citable source."""

    id: str
    title: str
    publisher: str
    year: int
    url: str | None = None
    expert_estimate: bool = False
    #: The primary text was not read in full: the knowledge base marks it for verification.
    unverified: bool = False


@attrs.frozen
class Threshold:
    """A named numeric threshold with its source."""

    id: str
    value: float
    unit: str
    label: str
    source: str
    note: str | None = None


@attrs.frozen
class Lab:
    """Reference range, critical limits and accepted units of one analyte (canonical unit)."""

    analyte: Analyte
    label: str
    unit: str
    units: Mapping[str, float]
    plausible: tuple[float, float]
    range_source: str
    loinc: tuple[str, ...]
    lower: float | None = None
    upper: float | None = None
    deficient: float | None = None
    critical_low: float | None = None
    critical_high: float | None = None
    critical_source: str | None = None
    #: The source of the high critical limit, when it differs from ``critical_source``.
    critical_high_source: str | None = None
    note: str | None = None

    def classify(self, value: float) -> LabFlag:
        """Classify *value* (in the canonical unit); critical limits are inclusive."""
        checks = (
            (self.critical_low, operator.le, LabFlag.CRITICAL_LOW),
            (self.critical_high, operator.ge, LabFlag.CRITICAL_HIGH),
            (self.deficient, operator.lt, LabFlag.DEFICIENT),
            (self.lower, operator.lt, LabFlag.LOW),
            (self.upper, operator.gt, LabFlag.HIGH),
        )
        for limit, beyond, flag in checks:
            if limit is not None and beyond(value, limit):
                return flag
        if self.lower is None and self.upper is None:
            return LabFlag.NOT_CLASSIFIED
        return LabFlag.NORMAL

    def limits(self) -> dict[str, float]:
        """The limits that are set, by name (``lower``, ``critical_low``, ...)."""
        names = ("lower", "upper", "deficient", "critical_low", "critical_high")
        return {name: value for name in names if (value := getattr(self, name)) is not None}


@attrs.frozen
class FactInfo:
    """A yes/no fact the rules and the differential can use."""

    id: str
    kind: Literal["finding", "examination", "derived"]
    group: str
    label: str
    question: str
    snomed: str | None = None
    #: ``ask``: unknown until answered (a question); ``not_measured``: absent unless the input
    #: says so (a laboratory's words about a result are evidence when given, never demanded).
    when_missing: Literal["ask", "not_measured"] = "ask"


@attrs.frozen
class QuantityInfo:
    """A number the rules compare against thresholds."""

    id: str
    label: str
    unit: str
    worse: Literal["higher", "lower"]
    when_missing: Literal["ask", "not_measured"]
    question: str
    analyte: Analyte | None = None


@attrs.frozen(cache_hash=True)
class Rule:
    """One row of the referral rule table.

    Attributes:
        id: The rule's stable id, as in ``FiredRule.id``.
        urgency: The urgency the rule raises the referral to when it fires.
        when: Its condition as written in ``kb/rules.toml`` (``condition`` is the parsed form).
        title: A short name, shown in reports.
        rationale: Why the rule exists, in a sentence or two.
        source: The id of the source it cites (``KnowledgeBase.sources``).
    """

    id: str
    urgency: Urgency
    when: str
    condition: Condition
    title: str
    rationale: str
    source: str
    #: The differential category the rule argues for (``None`` only for SCREEN-INCOMPLETE).
    category: Category | None = None
    #: The condition within the category that it argues for, when the rule names one.
    condition_id: str | None = None


@attrs.frozen(cache_hash=True)
class Derivation:
    """An implication between facts (``kb/derivations.toml``): when *when* holds, *sets* is present.

    *when* is the specific finding, one fact or one comparison as the table writes it (e.g.
    ``foot_drop``, ``power_lowest < 5``).

    Attributes:
        sets: The general fact it makes present. When the input answered it absent, the two
            answers contradict each other: the worse reading wins and the pair is reported.
    """

    id: str
    when: Atom
    sets: str
    source: str
    note: str


@attrs.frozen(cache_hash=True)
class CategoryInfo:
    """A category of the differential; its prior is the sum of its conditions' priors."""

    id: Category
    label: str
    prior: float
    must_not_miss: bool


@attrs.frozen(cache_hash=True)
class ConditionInfo:
    """A clinical condition scored within a category, with its own prior and features."""

    id: str
    category: Category
    label: str
    prior: float
    must_not_miss: bool


@attrs.frozen(cache_hash=True)
class Feature:
    """A weighted piece of evidence for or against one condition of the differential.

    Attributes:
        id: The feature's stable id, as in ``EvidenceItem.feature``.
        category: The category of the differential it speaks for or against.
        label: What it is, in a few words.
        when: Its test as written in ``kb/differential.toml`` (``condition`` is the parsed form).
        condition_id: The clinical condition it scores (``condition`` in the table).
        present: Weight added to the condition's score when the test holds.
        absent: Weight added when the test is known not to hold.
        source: What the direction of the feature rests on.
        magnitude: The source of the weight's size: ``expert-estimate`` unless a source gives it
            as a likelihood ratio.
        advice: Advice ids; a feature with advice is a trigger, reported when it holds.
        hard: A hard feature of a must-not-miss condition raises the flag when it holds.
    """

    id: str
    category: Category
    condition_id: str
    label: str
    when: str
    condition: Condition
    present: float
    absent: float
    source: str
    magnitude: str
    advice: tuple[str, ...] = ()
    hard: bool = False


@attrs.frozen
class RootLevelInfo:
    """A lumbar root level and the conditions that point to it (``conditions``, parsed).

    Attributes:
        level: ``L3/L4``, ``L5`` or ``S1``.
        source: The id of the source it cites.
    """

    level: str
    conditions: tuple[Condition, ...]
    source: str


@attrs.frozen(cache_hash=True)
class RlsCriterionInfo:
    """One of the IRLSSG diagnostic criteria for restless legs syndrome.

    Attributes:
        number: 1 to 5, as numbered by the IRLSSG.
        text: The criterion in words.
        when: Its condition as written in ``kb/differential.toml`` (``condition``, parsed).
        inverted: Whether the criterion is met when the condition does not hold.
    """

    number: int
    text: str
    when: str
    condition: Condition
    #: The condition lists mimics: met when known not to hold, needs judgement when it holds.
    mimics: bool = False


@attrs.frozen
class AdviceInfo:
    """A self-care measure."""

    id: str
    text: str
    source: str
    general: bool = False
    #: A diet, fluid, exercise, sleep, stress or comfort measure: never beside an urgent result.
    lifestyle: bool = False


@attrs.frozen
class CoreQuestions:
    """The questions asked of every presentation (``[core]`` of ``kb/indications.toml``).

    Attributes:
        questions: Fact and quantity ids, in the table's order.
        source: The id of the source it cites.
    """

    questions: tuple[str, ...]
    source: str
    rationale: str


@attrs.frozen(cache_hash=True)
class Indication:
    """When the presentation calls for some questions (a row of ``kb/indications.toml``).

    A question listed here is asked when *condition* is not known to be false (an unanswered
    indicator indicates). Negation-free, like the rules, so a more present answer never takes a
    question away.

    Attributes:
        id: The indication's stable id (``IND-...``).
        questions: The fact and quantity ids it calls for.
        when: Its condition as written in the table (``condition`` is the parsed form).
        source: The id of the source it cites (``expert-estimate`` where none gives it).
    """

    id: str
    title: str
    questions: tuple[str, ...]
    when: str
    condition: Condition
    rationale: str
    source: str


@attrs.frozen
class KnowledgeBase:
    """Every table of the knowledge base, validated."""

    version: str
    sha256: str
    sources: Mapping[str, Source]
    thresholds: Mapping[str, Threshold]
    labs: Mapping[Analyte, Lab]
    facts: Mapping[str, FactInfo]
    quantities: Mapping[str, QuantityInfo]
    rules: tuple[Rule, ...]
    screen_incomplete: Rule
    derivations: tuple[Derivation, ...]
    categories: Mapping[Category, CategoryInfo]
    conditions: Mapping[str, ConditionInfo]
    features: tuple[Feature, ...]
    root_levels: tuple[RootLevelInfo, ...]
    rls_criteria: tuple[RlsCriterionInfo, ...]
    advice: Mapping[str, AdviceInfo]
    medication_names: Mapping[str, MedicationClass]
    #: The questions asked of every presentation.
    core: CoreQuestions
    #: The indications of the other questions, in table order.
    indications: tuple[Indication, ...]

    def source_bits(self) -> dict[str, int]:
        """A bit for each source, in sorted id order: a set of cited sources as one ``int``."""
        return {key: 1 << number for number, key in enumerate(sorted(self.sources))}

    def atoms(self) -> tuple[Atom, ...]:
        """Every distinct atom the rule table uses, in a stable order."""
        seen: dict[Atom, None] = {}
        for rule in self.rules:
            for atom in atoms(rule.condition):
                seen.setdefault(atom, None)
        return tuple(seen)

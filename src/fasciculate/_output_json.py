"""The assessment as JSON bytes, composed without building the output models.

:class:`JsonOutput` writes exactly what pydantic writes for ``Output.assessment(...)``. The parts
that cite facts (a fired rule, a piece of evidence, a trigger) and the laboratory results are
written from templates: the constants of their rule, feature, fact or analyte serialised once,
the values of the presentation (a laboratory value, an input path) filled in. Parts that recur
(those, and a criterion, the advice, the open questions) are cached by what they are written
from, in :class:`~fasciculate._cache.BoundedCache` objects (the laboratory results are not
cached: nearly every one is new); the rest is serialised by pydantic from the model
:class:`~fasciculate._output.Output` builds for it. The values that change with every
presentation (urgency, summary, ranks, probabilities and scores, the laboratory results) are
written on every call. Tests compare the two paths byte for byte, with caches empty, warm and full.

The objects written here are laid out from the models' own ``model_fields``: every template is
made from a model's fields (its keys and their order, a field it does not fill in written as its
default), and a field without a default that a template does not fill in, or one it fills in
that the model does not declare, fails when the template is made (at import, or when the engine
is built). A field
this module has no fast writer for is written from the value the typed path builds for it (or
its default, in a category or condition). The typed path's ``model_dump_json()`` returns what
this module writes.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import TYPE_CHECKING, Any

from pydantic_core import to_json

from fasciculate import _differential as diff
from fasciculate import _referral as ref
from fasciculate._assessment import (
    CategoryResult,
    ConditionResult,
    EvidenceItem,
    FactUsed,
    FiredRule,
    LabInterpretation,
    Trigger,
)
from fasciculate._cache import BoundedCache
from fasciculate._evidence import Evidence
from fasciculate._facts import Facts, LabFact
from fasciculate._output import Output, summary
from fasciculate._output_frame import Case, Make, undeclared
from fasciculate._vocab import Interpretation, LabFlag, Urgency

if TYPE_CHECKING:
    from pydantic import BaseModel

#: What a cached part weighs beyond its bytes (the bytes object, the dict entry, the key).
_OVERHEAD = 120


def _weight(part: bytes) -> int:
    return len(part) + _OVERHEAD


class _Parts:
    """Serialised parts, cached by the key they are written from (bounded)."""

    __slots__ = ("cache", "get", "write")

    def __init__(self, name: str, write: Callable[[Any], bytes]) -> None:
        self.write = write
        self.cache: BoundedCache[Hashable, bytes] = BoundedCache(f"json.{name}", size=_weight)
        #: The cached JSON of a key, or None: ``parts.get(key) or parts.new(key)``.
        self.get = self.cache.get

    def new(self, key: Hashable) -> bytes:
        return self.cache.store(key, self.write(key))

    def one(self, key: Hashable) -> bytes:
        """The JSON of the part for *key*."""
        self.cache.lookups += 1
        return self.get(key) or self.new(key)

    def array(self, keys: tuple[Hashable, ...]) -> bytes:
        """The JSON array of the parts for *keys*."""
        if not keys:
            return b"[]"
        self.cache.lookups += len(keys)
        get = self.get
        return b"[%s]" % b",".join([get(key) or self.new(key) for key in keys])


def _model(build: Callable[[Any], BaseModel]) -> Callable[[Any], bytes]:
    """A writer of the JSON of the model ``build(key)``, serialised by pydantic."""

    def write(key: Hashable) -> bytes:
        model = build(key)
        return model.__pydantic_serializer__.to_json(model)

    return write


def _literal(text: bytes) -> bytes:
    """*text* made safe as the constant part of a ``bytes % values`` format."""
    return text.replace(b"%", b"%%")


def _generic(output: Output, make: Make[Case]) -> Callable[[Case], bytes]:
    """A writer of the JSON of a field's value as the typed path makes it."""
    return lambda case: to_json(make(output, case))


#: Each field of a model, in order: its key, its name, and its default's JSON (or b"").
_Keys = tuple[tuple[bytes, str, bytes], ...]


def _keys(model: type[BaseModel], written: Iterable[str]) -> _Keys:
    """Each field of *model*, in order: its key, its name, and its default's JSON (or b"").

    Raises:
        TypeError: If a field without a default is not in *written*, or *written* names one
            that *model* does not declare.
    """
    fields = model.model_fields
    unknown, missing = undeclared(model, written)
    if unknown or missing:
        msg = (
            f"{model.__name__}: the JSON writer writes fields it does not declare: {unknown}; "
            f"and not its fields without a default: {missing}. Write each in "
            "fasciculate._output_json, as fasciculate._output makes it."
        )
        raise TypeError(msg)
    return tuple(
        (
            to_json(name) + b":",
            name,
            b"" if name in written else to_json(info.get_default(call_default_factory=True)),
        )
        for name, info in fields.items()
    )


#: What stands for a number in a cached layout of the differential (never in JSON text).
_GAP = b"\x00"
#: The fields of a category or a condition written as arrays of parts joined per call.
_ARRAYS = frozenset({"supporting", "conflicting", "conditions"})


def _template(keys: _Keys, constants: dict[str, bytes], arrays: frozenset[str]) -> bytes:
    """A ``bytes % mapping`` template of an object with the *keys* of a model.

    Each field is its default, else its value in *constants* (made safe with :func:`_literal`),
    else ``%(name)s``: a field named in *arrays* as ``[%(name)s]``.
    """
    fields = []
    for key, name, default in keys:
        if default:
            value = _literal(default)
        elif name in constants:
            value = constants[name]
        else:
            value = b"%%(%s)s" % name.encode()
            if name in arrays:
                value = b"[%s]" % value
        fields.append(_literal(key) + value)
    return b"{%s}" % b",".join(fields)


#: The fields of a category or a condition whose values change with every presentation: cut out
#: of the cached layout of a differential, filled from one serialised list of numbers (each
#: category's, then its conditions', in this order: the order of the text).
_NUMBERS = ("probability", "score")
_CATEGORY_FIELDS = (
    *_NUMBERS,
    *("category", "label", "rank", "must_not_miss", "leading_condition", "referral_rules"),
    "conditions",
)
_CONDITION_FIELDS = (
    *_NUMBERS,
    *("condition", "label", "rank", "must_not_miss", "supporting", "conflicting"),
)


def _numbers_in_order(model: type[BaseModel]) -> None:
    """Check that *model* declares probability, then score, then any conditions."""
    order = [name for name in model.model_fields if name in {*_NUMBERS, "conditions"}]
    if order[:2] != list(_NUMBERS):
        msg = f"{model.__name__}: the JSON writer fills in probability, then score: keep that order"
        raise TypeError(msg)


def check_layout(category: type[BaseModel], condition: type[BaseModel]) -> tuple[_Keys, _Keys]:
    """The keys of the differential's layout for the *category* and *condition* models.

    Raises:
        TypeError: If either declares a field without a default that the layout does not write,
            or score before probability.
    """
    _numbers_in_order(category)
    _numbers_in_order(condition)
    return _keys(category, _CATEGORY_FIELDS), _keys(condition, _CONDITION_FIELDS)


# Checked here, at import: a category's or condition's field the layout does not write fails now.
_CATEGORY_KEYS, _CONDITION_KEYS = check_layout(CategoryResult, ConditionResult)


#: The fields of the parts that cite facts, written from a template per rule or feature.
_FACT_FIELDS = ("fact", "label", "value", "input", "condition")
_ITEM_FIELDS = ("feature", "label", "holds", "weight", "source", "weight_source", "facts")
_RULE_FIELDS = ("id", "urgency", "title", "condition", "rationale", "source", "category", "facts")
_TRIGGER_FIELDS = ("id", "label", "source", "facts", "advice")
_FACTS = frozenset({"facts"})
_NONE = to_json(None)


class _Facts:
    """The JSON of the parts that cite facts: fired rules, evidence items, triggers.

    Each is written from a template of its model's fields (checked against the model when
    made), with the constants of its rule or feature in place and the facts it cites joined in,
    each fact from a template of its own: a part citing a new value (a laboratory result, an
    age) costs a few string operations, not a model built and serialised.
    """

    def __init__(self, output: Output) -> None:
        kb = output.kb
        fact_keys = _keys(FactUsed, _FACT_FIELDS)
        item_keys = _keys(EvidenceItem, _ITEM_FIELDS)
        rule_keys = _keys(FiredRule, _RULE_FIELDS)
        trigger_keys = _keys(Trigger, _TRIGGER_FIELDS)
        labels = {key: info.label for key, info in kb.facts.items()}
        labels.update({key: info.label for key, info in kb.quantities.items()})
        constant = _literal_json
        #: Per fact or quantity id: its object with the value, input and condition left open.
        self._fact_templates = {
            key: _template(fact_keys, {"fact": constant(key), "label": constant(label)}, _FACTS)
            for key, label in labels.items()
        }
        self._cache: BoundedCache[Evidence, bytes] = BoundedCache("json.fact", size=_weight)
        #: Per rule id: its object with the facts left open.
        self._rules = {
            rule.id: _template(
                rule_keys,
                {
                    "id": constant(rule.id),
                    "urgency": constant(rule.urgency),
                    "title": constant(rule.title),
                    "condition": constant(rule.when),
                    "rationale": constant(rule.rationale),
                    "source": constant(rule.source),
                    "category": constant(rule.category),
                },
                _FACTS,
            )
            for rule in (*kb.rules, kb.screen_incomplete)
        }
        #: Per feature id and weight (present or absent): its object with the facts left open.
        self._items = {
            (feature.id, weight): _template(
                item_keys,
                {
                    "feature": constant(feature.id),
                    "label": constant(feature.label),
                    # As Contribution.holds reads it: the weight is the present one.
                    "holds": constant(weight == feature.present),
                    "weight": constant(weight),
                    "source": constant(feature.source),
                    "weight_source": constant(feature.magnitude),
                },
                _FACTS,
            )
            for feature in kb.features
            for weight in (feature.absent, feature.present)
        }
        self._triggers = {
            feature.id: _template(
                trigger_keys,
                {
                    "id": constant(feature.id),
                    "label": constant(feature.label),
                    "source": constant(feature.source),
                    "advice": constant(feature.advice),
                },
                _FACTS,
            )
            for feature in kb.features
        }

    def facts(self, evidence: tuple[Evidence, ...]) -> bytes:
        """The facts cited, joined (without the brackets)."""
        cache = self._cache
        cache.lookups += len(evidence)
        get = cache.get
        return b",".join([get(item) or cache.store(item, self._fact(item)) for item in evidence])

    def _fact(self, item: Evidence) -> bytes:
        condition = item.condition
        return self._fact_templates[item.fact] % {
            b"value": to_json(item.value),
            b"input": to_json(item.input),
            b"condition": _NONE if condition is None else to_json(condition),
        }

    def fired_rule(self, fired: ref.FiredRule) -> bytes:
        return self._rules[fired.rule.id] % {b"facts": self.facts(fired.evidence)}

    def evidence_item(self, contribution: diff.Contribution) -> bytes:
        template = self._items[contribution.feature.id, contribution.weight]
        return template % {b"facts": self.facts(contribution.evidence)}

    def trigger(self, contribution: diff.Contribution) -> bytes:
        return self._triggers[contribution.feature.id] % {
            b"facts": self.facts(contribution.evidence)
        }


_LAB_FIELDS = (
    "analyte",
    "value",
    "unit",
    "reported",
    "interpretation",
    "flag",
    "reference",
    "formula",
    "source",
    "input",
)


class _Labs:
    """The JSON of laboratory results, from a template per analyte.

    The analyte and the limits applied are its constants; a result's value, words, flag and
    input are filled in (as :meth:`Output.lab` makes them for the typed path).
    """

    def __init__(self, output: Output) -> None:
        kb = output.kb
        keys = _keys(LabInterpretation, _LAB_FIELDS)
        self._infos = kb.labs
        self._templates = {
            analyte: _template(
                keys,
                {
                    "analyte": _literal_json(analyte),
                    "reference": _literal_json(output.reference(info)),
                },
                frozenset(),
            )
            for analyte, info in kb.labs.items()
        }
        self._flags = {flag: to_json(flag) for flag in LabFlag}
        self._words = {words: to_json(words) for words in (*Interpretation, None)}

    def __call__(self, lab: LabFact) -> bytes:
        info = self._infos[lab.analyte]
        formula, source = lab.formula, lab.source or info.range_source
        return self._templates[lab.analyte] % {
            b"value": to_json(lab.value),
            b"unit": to_json(lab.unit),
            b"reported": to_json(lab.reported),
            b"interpretation": self._words[lab.interpretation],
            b"flag": self._flags[Output.flag(info, lab)],
            b"formula": _NONE if formula is None else to_json(formula),
            b"source": to_json(source),
            b"input": to_json(lab.path),
        }


def _literal_json(value: object) -> bytes:
    """The JSON of *value*, made safe as the constant part of a template."""
    return _literal(to_json(value))


class JsonOutput:
    """Composes the JSON of assessments for one :class:`Output` (and its knowledge base)."""

    def __init__(self, output: Output) -> None:
        """Serialise what every assessment shares, and prepare a cache for each kind of part."""
        self.output = output
        self._facts = _Facts(output)
        self._fired = _Parts("fired_rule", self._facts.fired_rule)
        self._items = _Parts("evidence_item", self._facts.evidence_item)
        self._restless = _Parts("restless_legs", _model(output.restless_legs))
        self._roots = _Parts("root_level", _model(output.root_level))
        self._lab = _Labs(output)
        self._triggers = _Parts("trigger", self._facts.trigger)
        self._conflicts = _Parts("conflict", _model(output.conflict))
        self._questions = _Parts(
            "missing",
            lambda questions: to_json([output.open_question(item) for item in questions]),
        )
        self._set_aside = _Parts(
            "not_asked", lambda items: to_json([output.set_aside(item) for item in items])
        )
        #: Each source's JSON: the cited ones are joined (a list per set of sources would be a
        #: cache entry per presentation citing a new set, for bytes already here).
        self._source_parts = {key: to_json(source) for key, source in output.sources.items()}
        self._advice = _Parts("advice", lambda key: to_json(output.advice(key)))
        self._reasons = _Parts("referral_rules", lambda rules: to_json([rule.id for rule in rules]))
        self._nets = _Parts("safety_net", to_json)
        self._layouts: BoundedCache[tuple[Any, ...], tuple[bytes, ...]] = BoundedCache(
            "json.differential", size=lambda pieces: sum(map(len, pieces)) + 40 * len(pieces)
        )
        self._template, self._writers = self._frame(output)
        self._category_keys, self._condition_keys = _CATEGORY_KEYS, _CONDITION_KEYS
        kb = output.kb
        self._category_ids = tuple(_literal(to_json(key)) for key in kb.categories)
        self._category_labels = tuple(
            _literal(to_json(info.label)) for info in kb.categories.values()
        )
        self._condition_ids = tuple(_literal(to_json(key)) for key in kb.conditions)
        self._condition_labels = tuple(
            _literal(to_json(info.label)) for info in kb.conditions.values()
        )
        self._category_templates = tuple(
            _template(self._category_keys, {"category": key, "label": label}, _ARRAYS)
            for key, label in zip(self._category_ids, self._category_labels, strict=True)
        )
        self._condition_templates = tuple(
            _template(self._condition_keys, {"condition": key, "label": label}, _ARRAYS)
            for key, label in zip(self._condition_ids, self._condition_labels, strict=True)
        )

    def _frame(self, output: Output) -> tuple[bytes, tuple[Callable[[Case], bytes], ...]]:
        """The assessment's object as a ``bytes % values`` template, and a writer per value.

        The keys and their order are the model's fields (through ``output.fields``); a field
        without a fast writer here is written from the value the typed path makes for it.
        """
        urgencies = {urgency: to_json(urgency) for urgency in Urgency}
        stamp, version = to_json(output.stamp), to_json(output.version)
        fast: dict[str, Callable[[Case], bytes]] = {
            "urgency": lambda case: urgencies[case.referral.urgency],
            # A few words from the fired rules: quicker made than a referral is hashed.
            "summary": lambda case: to_json(summary(case.referral)),
            "rules_fired": lambda case: self._fired.array(case.referral.fired),
            "missing": lambda case: self._questions.one(case.referral.missing),
            "not_asked": lambda case: self._set_aside.one(case.referral.not_asked),
            "conflicts": lambda case: self._conflicts.array(case.facts.conflicts),
            "sources": lambda case: self._cited(output.cited(case)),
            "differential": lambda case: self._ranked(case.differential),
            "restless_legs": lambda case: self._restless.one(
                (case.differential.rls_criteria, case.differential.rls_secondary)
            ),
            "root_level": lambda case: self._roots.one(case.differential.root_level),
            "labs": lambda case: b"[%s]" % b",".join(map(self._lab, case.facts.labs)),
            "triggers": lambda case: self._triggers.array(case.differential.triggers),
            "advice": lambda case: self._advice.one(case.advice_key),
            "safety_net": lambda case: self._nets.one(
                output.safety_nets(case.referral.urgency, case.facts)
            ),
            "knowledge_base": lambda _: stamp,
            "fasciculate_version": lambda _: version,
        }
        names = [name for name, _ in output.fields]
        template = b"{%s}" % b",".join(
            [to_json(name).replace(b"%", b"%%") + b":%s" for name in names]
        )
        writers = tuple(fast.get(name) or _generic(output, make) for name, make in output.fields)
        return template, writers

    @property
    def fields(self) -> tuple[str, ...]:
        """The assessment's fields as this writer writes them, in order."""
        return tuple(name for name, _ in self.output.fields)

    def write(self, case: Case) -> bytes:
        """The JSON of the assessment of *case*."""
        return self._template % tuple([write(case) for write in self._writers])

    def __call__(
        self, referral: ref.Referral, differential: diff.Differential, facts: Facts
    ) -> bytes:
        """The JSON of the assessment of *referral*, *differential* and *facts*."""
        return self.write(self.output.case(referral, differential, facts))

    def _cited(self, cited: int) -> bytes:
        """The JSON array of the sources in the bit set *cited*."""
        parts = self._source_parts
        return b"[%s]" % b",".join([parts[key] for key in self.output.source_ids(cited)])

    def _ranked(self, differential: diff.Differential) -> bytes:
        """The differential's JSON."""
        ranking, nested = differential.ranking, differential.condition_ranking
        probabilities, scores = differential.probabilities, differential.scores
        chances, merits = differential.condition_probabilities, differential.condition_scores
        # One call serialises every probability and score, in the order they are written.
        numbers = to_json(
            [
                x
                for slot in ranking
                for x in (
                    probabilities[slot],
                    scores[slot],
                    *(y for inner in nested[slot] for y in (chances[inner], merits[inner])),
                )
            ]
        )[1:-1].split(b",")
        # The layout (everything but the numbers) recurs across presentations: it is cached as
        # the pieces between the numbers.
        layout = (
            ranking,
            nested,
            differential.must_not_miss,
            differential.condition_must_not_miss,
            differential.reasons,
            differential.condition_supporting,
            differential.condition_conflicting,
        )
        layouts = self._layouts
        layouts.lookups += 1
        pieces = layouts.get(layout)
        if pieces is None:
            if layouts.refuses():  # nothing more is kept: write it with its numbers, at once
                return self._write_ranked(layout, numbers)
            pieces = layouts.store(layout, self._layout(layout))
        joined: list[bytes] = [b""] * (2 * len(numbers) + 1)
        joined[::2] = pieces
        joined[1::2] = numbers
        return b"".join(joined)

    def _layout(self, layout: tuple[Any, ...]) -> tuple[bytes, ...]:
        """The differential's JSON cut where each probability and score goes, in order."""
        ranking, nested = layout[0], layout[1]
        count = 2 * sum([1 + len(nested[slot]) for slot in ranking])
        # Written with a NUL byte for each number (JSON text never holds one), cut there.
        pieces = tuple(self._write_ranked(layout, [_GAP] * count).split(_GAP))
        if len(pieces) != count + 1:  # pragma: no cover - JSON escapes NUL
            msg = "a part of the differential's JSON holds a NUL byte"
            raise AssertionError(msg)
        return pieces

    def _write_ranked(self, layout: tuple[Any, ...], numbers: list[bytes]) -> bytes:
        """The JSON of the differential *layout*, each category and condition from its template.

        *numbers* are each category's probability and score, then its conditions', in order.
        """
        ranking, nested, must_not_miss, flagged, reasons, backing, against = layout
        items = self._items
        get, new = items.get, items.new
        conditions_of, categories_of = self._condition_templates, self._category_templates
        at = 0
        categories = []
        for rank, slot in enumerate(ranking, start=1):
            order = nested[slot]
            items.cache.lookups += sum([len(backing[i]) + len(against[i]) for i in order])
            fors = [b",".join([get(c) or new(c) for c in backing[i]]) for i in order]
            againsts = [b",".join([get(c) or new(c) for c in against[i]]) for i in order]
            category_at, at = at, at + 2
            conditions = []
            for place, inner in enumerate(order, start=1):
                conditions.append(
                    conditions_of[inner]
                    % {
                        b"probability": numbers[at],
                        b"score": numbers[at + 1],
                        b"rank": b"%d" % place,
                        b"must_not_miss": b"true" if flagged[inner] else b"false",
                        b"supporting": fors[place - 1],
                        b"conflicting": againsts[place - 1],
                    }
                )
                at += 2
            categories.append(
                categories_of[slot]
                % {
                    b"probability": numbers[category_at],
                    b"score": numbers[category_at + 1],
                    b"rank": b"%d" % rank,
                    b"must_not_miss": b"true" if must_not_miss[slot] else b"false",
                    b"leading_condition": self._condition_ids[order[0]],
                    b"referral_rules": self._reasons.one(reasons[slot]),
                    b"conditions": b",".join(conditions),
                }
            )
        return b"[%s]" % b",".join(categories)

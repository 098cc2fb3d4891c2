"""The assessment as JSON bytes, composed without building the output models.

:class:`JsonOutput` writes exactly what ``Output.assessment(...).model_dump_json()`` writes, but
each part that repeats across presentations (a fired rule with its facts, a piece of evidence, a
criterion, a lab, the cited sources, the advice) is serialised once, by pydantic, from the model
:class:`~fasciculate._output.Output` builds for it, and cached with that part. Only the few values
that change with every presentation (urgency, summary, ranks, probabilities and scores) are
serialised per call. A test compares the two paths byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

from pydantic_core import to_json

from fasciculate import _differential as diff
from fasciculate import _referral as ref
from fasciculate._cache import BoundedCache
from fasciculate._facts import Facts
from fasciculate._output import Output, summary
from fasciculate._vocab import Urgency

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

    def extend(self, out: list[bytes], keys: tuple[Hashable, ...]) -> None:
        """Append the JSON array of the parts for *keys* to *out*."""
        if not keys:
            out.append(b"[]")
            return
        self.cache.lookups += len(keys)
        get = self.get
        out += (b"[", b",".join([get(key) or self.new(key) for key in keys]), b"]")


def _model(build: Callable[[Any], BaseModel]) -> Callable[[Any], bytes]:
    """A writer of the JSON of the model ``build(key)``, serialised by pydantic."""

    def write(key: Hashable) -> bytes:
        model = build(key)
        return model.__pydantic_serializer__.to_json(model)

    return write


def _literal(text: bytes) -> bytes:
    """*text* made safe as the constant part of a ``bytes % values`` format."""
    return text.replace(b"%", b"%%")


class JsonOutput:
    """Composes the JSON of assessments for one :class:`Output` (and its knowledge base)."""

    def __init__(self, output: Output) -> None:
        """Serialise what every assessment shares, and prepare a cache for each kind of part."""
        self.output = output
        self._fired = _Parts("fired_rule", _model(output.fired_rule))
        self._items = _Parts("evidence_item", _model(output.evidence_item))
        self._restless = _Parts("restless_legs", _model(output.restless_legs))
        self._roots = _Parts("root_level", _model(output.root_level))
        self._labs = _Parts("lab", _model(output.lab))
        self._triggers = _Parts("trigger", _model(output.trigger))
        self._conflicts = _Parts("conflict", _model(output.conflict))
        self._questions = _Parts(
            "missing",
            lambda questions: to_json([output.open_question(item) for item in questions]),
        )
        self._set_aside = _Parts(
            "not_asked", lambda items: to_json([output.set_aside(item) for item in items])
        )
        self._sources = _Parts(
            "sources",
            lambda cited: to_json([output.sources[key] for key in output.source_ids(cited)]),
        )
        self._advice = _Parts("advice", lambda key: to_json(output.advice(key)))
        # Urgency, summary, fired rules and open questions depend on the referral alone.
        self._heads = _Parts("head", self._head_json)
        self._head = {
            urgency: b'{"urgency":' + to_json(urgency) + b',"summary":' for urgency in Urgency
        }
        #: The start of each category's object, in the knowledge base's category order.
        self._category_by_slot = tuple(
            b"%s"
            + _literal(b'{"category":%s,"label":%s,' % (to_json(key), to_json(info.label)))
            + b'"rank":%d,"probability":%%s,"score":%%s,"must_not_miss":%s,'
            + b'"leading_condition":%s,"referral_rules":%s,"supporting":['
            for key, info in output.kb.categories.items()
        )
        #: The start of each condition's object, in the knowledge base's condition order.
        self._condition_by_slot = tuple(
            b"%s"
            + _literal(b'{"condition":%s,"label":%s,' % (to_json(key), to_json(info.label)))
            + b'"rank":%d,"probability":%%s,"score":%%s,"must_not_miss":%s,"supporting":['
            for key, info in output.kb.conditions.items()
        )
        self._condition_ids = tuple(to_json(key) for key in output.kb.conditions)
        self._reasons = _Parts("referral_rules", lambda rules: to_json([rule.id for rule in rules]))
        self._layouts = _Parts("differential", self._layout)
        self._nets = _Parts("safety_net", to_json)
        self._tail = b',"knowledge_base":%s,"fasciculate_version":%s}' % (
            to_json(output.stamp),
            to_json(output.version),
        )

    def __call__(
        self, referral: ref.Referral, differential: diff.Differential, facts: Facts
    ) -> bytes:
        """The JSON of the assessment of *referral*, *differential* and *facts*."""
        output = self.output
        advice_key = output.advice_key(referral, differential)
        out = [self._heads.one(referral), b',"conflicts":']
        self._conflicts.extend(out, facts.conflicts)
        out += (
            b',"sources":',
            self._sources.one(output.cited(referral, differential, facts, advice_key)),
            b',"differential":[',
        )
        self._ranked(out, differential)
        out += (
            b'],"restless_legs":',
            self._restless.one((differential.rls_criteria, differential.rls_secondary)),
            b',"root_level":',
            self._roots.one(differential.root_level),
            b',"labs":',
        )
        self._labs.extend(out, facts.labs)
        out.append(b',"triggers":')
        self._triggers.extend(out, differential.triggers)
        out += (
            b',"advice":',
            self._advice.one(advice_key),
            b',"safety_net":',
            self._nets.one(output.safety_nets(referral.urgency, facts)),
            self._tail,
        )
        return b"".join(out)

    def _ranked(self, out: list[bytes], differential: diff.Differential) -> None:
        ranking, nested = differential.ranking, differential.condition_ranking
        probabilities, scores = differential.probabilities, differential.scores
        chances, merits = differential.condition_probabilities, differential.condition_scores
        # The layout (everything but the numbers) recurs across presentations: it is cached as a
        # `bytes % numbers` template, and one call serialises every probability and score.
        layout = (
            ranking,
            nested,
            differential.must_not_miss,
            differential.condition_must_not_miss,
            differential.reasons,
            differential.condition_supporting,
            differential.condition_conflicting,
        )
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
        )
        out.append(self._layouts.one(layout) % tuple(numbers[1:-1].split(b",")))

    def _layout(self, layout: tuple[Any, ...]) -> bytes:
        """The differential's JSON with ``%s`` for each probability and score, in order."""
        ranking, nested, must_not_miss, flagged, reasons, backing, against = layout
        get, new, items = self._items.get, self._items.new, self._items.cache
        parts: list[bytes] = []
        for rank, slot in enumerate(ranking, start=1):
            order = nested[slot]
            items.lookups += sum([len(backing[i]) + len(against[i]) for i in order])
            # Each condition's evidence is serialised once, for the condition and its category.
            fors = [_literal(b",".join([get(c) or new(c) for c in backing[i]])) for i in order]
            againsts = [_literal(b",".join([get(c) or new(c) for c in against[i]])) for i in order]
            parts += (
                self._category_by_slot[slot]
                % (
                    b"" if rank == 1 else b",",
                    rank,
                    b"true" if must_not_miss[slot] else b"false",
                    self._condition_ids[order[0]],
                    _literal(self._reasons.one(reasons[slot])),
                ),
                b",".join([part for part in fors if part]),
                b'],"conflicting":[',
                b",".join([part for part in againsts if part]),
                b'],"conditions":[',
            )
            for place, inner in enumerate(order):
                parts += (
                    self._condition_by_slot[inner]
                    % (
                        b"," if place else b"",
                        place + 1,
                        b"true" if flagged[inner] else b"false",
                    ),
                    fors[place],
                    b'],"conflicting":[',
                    againsts[place],
                    b"]}",
                )
            parts.append(b"]}")
        return b"".join(parts)

    def _head_json(self, referral: ref.Referral) -> bytes:
        out = [self._head[referral.urgency], to_json(summary(referral)), b',"rules_fired":']
        self._fired.extend(out, referral.fired)
        out += (
            b',"missing":',
            self._questions.one(referral.missing),
            b',"not_asked":',
            self._set_aside.one(referral.not_asked),
        )
        return b"".join(out)

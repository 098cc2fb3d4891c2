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
from fasciculate._facts import Facts
from fasciculate._output import Output, summary
from fasciculate._vocab import Urgency

if TYPE_CHECKING:
    from pydantic import BaseModel

#: Serialised parts kept per kind (bounded, so a long batch's memory stays flat); the larger
#: parts (the referral's part, the open questions) keep fewer.
_LIMIT = 16384
_LARGE = 4096


class _Parts:
    """Serialised parts, cached by the key their model is built from (bounded)."""

    __slots__ = ("build", "get", "memo")

    def __init__(self, build: Callable[[Any], BaseModel]) -> None:
        self.build = build
        self.memo: dict[Hashable, bytes] = {}
        #: The cached JSON of a key, or None: ``parts.get(key) or parts.new(key)``.
        self.get = self.memo.get

    def new(self, key: Hashable) -> bytes:
        model = self.build(key)
        found = model.__pydantic_serializer__.to_json(model)
        if len(self.memo) < _LIMIT:
            self.memo[key] = found
        return found

    def one(self, key: Hashable) -> bytes:
        """The JSON of the part for *key*."""
        return self.get(key) or self.new(key)

    def extend(self, out: list[bytes], keys: tuple[Hashable, ...]) -> None:
        """Append the JSON array of the parts for *keys* to *out*."""
        if not keys:
            out.append(b"[]")
            return
        get = self.get
        out += (b"[", b",".join([get(key) or self.new(key) for key in keys]), b"]")


def _literal(text: bytes) -> bytes:
    """*text* made safe as the constant part of a ``bytes % values`` format."""
    return text.replace(b"%", b"%%")


class JsonOutput:
    """Composes the JSON of assessments for one :class:`Output` (and its knowledge base)."""

    def __init__(self, output: Output) -> None:
        """Serialise what every assessment shares, and prepare a cache for each kind of part."""
        self.output = output
        self._fired = _Parts(output.fired_rule)
        self._items = _Parts(output.evidence_item)
        self._restless = _Parts(output.restless_legs)
        self._roots = _Parts(output.root_level)
        self._labs = _Parts(output.lab)
        self._triggers = _Parts(output.trigger)
        self._questions: dict[tuple[ref.OpenQuestion, ...], bytes] = {}
        self._sources: dict[int, bytes] = {}
        self._advice: dict[tuple[tuple[str, ...], bool], bytes] = {}
        self._heads: dict[tuple[object, ...], bytes] = {}
        self._head = {
            urgency: b'{"urgency":' + to_json(urgency) + b',"summary":' for urgency in Urgency
        }
        self._category = {
            key: b"%s"
            + _literal(b'{"category":%s,"label":%s,' % (to_json(key), to_json(info.label)))
            + b'"rank":%d,"probability":%s,"score":%s,"must_not_miss":%s,"supporting":['
            for key, info in output.kb.categories.items()
        }
        self._category_by_slot = tuple(self._category[key] for key in output.kb.categories)
        self._tail = b',"safety_net":%s,"knowledge_base":%s,"fasciculate_version":%s}' % (
            to_json(output.safety_net),
            to_json(output.stamp),
            to_json(output.version),
        )

    def __call__(
        self, referral: ref.Referral, differential: diff.Differential, facts: Facts
    ) -> bytes:
        """The JSON of the assessment of *referral*, *differential* and *facts*."""
        output = self.output
        advice_key = output.advice_key(referral, differential)
        head = self._heads.get((referral.fired, referral.missing))
        if head is None:
            head = self._new_head(referral)
        out = [
            head,
            b',"sources":',
            self._cited(output.cited(referral, differential, facts, advice_key)),
            b',"differential":[',
        ]
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
            self._advice.get(advice_key) or self._new_advice(advice_key),
            self._tail,
        )
        return b"".join(out)

    def _ranked(self, out: list[bytes], differential: diff.Differential) -> None:
        ranking = differential.ranking
        probabilities, scores = differential.probabilities, differential.scores
        # One call serialises every probability and score; numbers never contain a comma.
        numbers = to_json([x for slot in ranking for x in (probabilities[slot], scores[slot])])
        numbers_of = numbers[1:-1].split(b",")
        get, new = self._items.get, self._items.new
        supporting, conflicting = differential.supporting, differential.conflicting
        headers, must_not_miss = self._category_by_slot, differential.must_not_miss
        for rank, slot in enumerate(ranking, start=1):
            for_it, against = supporting[slot], conflicting[slot]
            out += (
                headers[slot]
                % (
                    b"" if rank == 1 else b",",
                    rank,
                    numbers_of[2 * rank - 2],
                    numbers_of[2 * rank - 1],
                    b"true" if must_not_miss[slot] else b"false",
                ),
                b",".join([get(c) or new(c) for c in for_it]),
                b'],"conflicting":[',
                b",".join([get(c) or new(c) for c in against]),
                b"]}",
            )

    def _missing(self, questions: tuple[ref.OpenQuestion, ...]) -> bytes:
        found = self._questions.get(questions)
        if found is None:
            found = to_json([self.output.open_question(question) for question in questions])
            if len(self._questions) < _LARGE:
                self._questions[questions] = found
        return found

    def _cited(self, cited: int) -> bytes:
        found = self._sources.get(cited)
        if found is None:
            found = to_json([self.output.sources[key] for key in self.output.source_ids(cited)])
            if len(self._sources) < _LIMIT:
                self._sources[cited] = found
        return found

    def _new_head(self, referral: ref.Referral) -> bytes:
        # Urgency, summary, fired rules and open questions depend on the fired rules and the
        # open questions alone (the urgency follows from the fired rules).
        out = [self._head[referral.urgency], to_json(summary(referral)), b',"rules_fired":']
        self._fired.extend(out, referral.fired)
        out += (b',"missing":', self._missing(referral.missing))
        found = b"".join(out)
        if len(self._heads) < _LARGE:
            self._heads[referral.fired, referral.missing] = found
        return found

    def _new_advice(self, key: tuple[tuple[str, ...], bool]) -> bytes:
        found = to_json(self.output.advice(key))
        if len(self._advice) < _LIMIT:
            self._advice[key] = found
        return found

"""``assess()``: a presentation in, an explained referral decision and differential out."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from fasciculate._assessment import Assessment, OpenQuestion
from fasciculate._differential import Differential, DifferentialEvaluator
from fasciculate._facts import Facts, facts_from
from fasciculate._kb import KnowledgeBase, knowledge_base
from fasciculate._output import Output
from fasciculate._output_json import JsonOutput
from fasciculate._presentation import Presentation
from fasciculate._referral import Referral, ReferralEvaluator, Tally
from fasciculate._validation import parse_presentation
from fasciculate._vocab import Urgency

#: What every entry point takes: a presentation, or a mapping or JSON text that validates into one.
Input = Presentation | Mapping[str, Any] | str | bytes


class Engine:
    """The compiled evaluators and the output builder for one knowledge base."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.referral = ReferralEvaluator(kb)
        self.differential = DifferentialEvaluator(kb)
        self.output = Output(kb)
        self.json = JsonOutput(self.output)
        # An assessment's model_dump_json() returns what the JSON writer writes for it.
        self.output.writer = self.json.write
        self.version = self.output.version

    def evaluate(self, facts: Facts) -> tuple[Referral, Differential]:
        """The referral for *facts*, and the differential that never contradicts it."""
        referral = self.referral(facts)
        return referral, self.differential(facts, [fired.rule for fired in referral.fired])

    def facts(self, presentation: Input) -> Facts:
        """What the evaluators read from *presentation* (validated first)."""
        return facts_from(parse_presentation(presentation), self.kb)

    def evaluated(self, presentation: Input) -> tuple[Referral, Differential, Facts]:
        """The referral and the differential of *presentation*, and its facts."""
        facts = self.facts(presentation)
        return (*self.evaluate(facts), facts)

    def assess(self, presentation: Input) -> Assessment:
        """:func:`assess` with this engine."""
        return self.output.assessment(*self.evaluated(presentation))

    def assess_json(self, presentation: Input) -> bytes:
        """:func:`assess_json` with this engine."""
        return self.json(*self.evaluated(presentation))

    def next_questions(self, presentation: Input) -> tuple[OpenQuestion, ...]:
        """:func:`next_questions` with this engine."""
        ask_next = self.referral(self.facts(presentation)).ask_next
        return tuple(self.output.open_question(question) for question in ask_next)


@functools.cache
def _engine() -> Engine:
    return Engine(knowledge_base())


def reset() -> None:
    """Drop the shared engine (and its caches with it): the next call compiles a new one."""
    _engine.cache_clear()


def assess(presentation: Presentation | Mapping[str, Any] | str | bytes) -> Assessment:
    """Assess a presentation of muscle twitching.

    Args:
        presentation: A :class:`Presentation`, or a mapping or JSON text that validates into one.

    Returns:
        The :class:`Assessment`: the referral urgency with every fired rule, its facts and source;
        the open questions that could raise the urgency; the ranked differential with the
        evidence for and against each category; the triggers found with their advice and the
        safety net; and the knowledge base's version and fingerprint.

    Raises:
        InvalidPresentation: If the input is not a valid presentation (every problem is listed).

    Example:
        >>> import fasciculate
        >>> result = fasciculate.assess({"findings": {"saddle_sensory_loss": "present"}})
        >>> result.urgency
        <Urgency.EMERGENCY: 'emergency'>
        >>> [rule.id for rule in result.rules_fired]
        ['CES-SADDLE', 'SEED-NUMBNESS']
        >>> result.differential[0].category
        <Category.SERIOUS_NEUROLOGICAL: 'serious_neurological'>
    """
    return _engine().assess(presentation)


def assess_json(presentation: Presentation | Mapping[str, Any] | str | bytes) -> bytes:
    """Assess a presentation and return the assessment as JSON bytes.

    The same bytes as ``assess(presentation).model_dump_json().encode()``, made faster for batch
    work and services: the output models are not built, and each part of the JSON (a fired rule,
    a piece of evidence, a source) is serialised once and reused for every presentation that
    shares it.

    Args:
        presentation: A :class:`Presentation`, or a mapping or JSON text that validates into one.

    Returns:
        The :class:`Assessment` as compact UTF-8 JSON.

    Raises:
        InvalidPresentation: If the input is not a valid presentation (every problem is listed).

    Example:
        >>> import json, fasciculate
        >>> document = b'{"findings": {"saddle_sensory_loss": "present"}}'
        >>> json.loads(fasciculate.assess_json(document))["urgency"]
        'emergency'
        >>> typed = fasciculate.assess(document).model_dump_json().encode()
        >>> fasciculate.assess_json(document) == typed
        True
    """
    return _engine().assess_json(presentation)


def next_questions(
    presentation: Presentation | Mapping[str, Any] | str | bytes,
) -> tuple[OpenQuestion, ...]:
    """The questions to ask next, the first first: what the presentation calls for, unanswered.

    ``assess(presentation).missing`` (the indicated, unanswered questions that could raise the
    urgency), and the indicators worth asking first: unanswered questions that an undecided
    indication of ``kb/indications.toml`` reads, when answering them "no" could set aside more
    questions than it takes (a question with ``decides`` and no ``rules``; tingling, before
    the questions about tetany and seizures it calls for). Without building the rest of the
    assessment. The order decides fastest: first the highest urgency an answer bears on (the
    urgency the question could raise the referral to, or that of the questions it indicates),
    then the questions whose answer decides the most indications, then the knowledge base's
    order. Each question names the input fields its answer goes to. Questions that nothing in
    the presentation calls for are not among them (see ``Assessment.not_asked``); an empty result
    means the screen is complete.

    Args:
        presentation: A :class:`Presentation`, or a mapping or JSON text that validates into one.

    Raises:
        InvalidPresentation: If the input is not a valid presentation (every problem is listed).

    Example:
        >>> import fasciculate
        >>> [q.fact for q in fasciculate.next_questions({})][:3]
        ['weakness', 'walking_difficulty', 'visible_wasting']
        >>> questions = fasciculate.next_questions({"findings": {"pain": "present"}})
        >>> [(q.fact, q.could_raise_to.value) for q in questions[:5]]
        [('weakness', 'urgent'), ('visible_wasting', 'urgent'), ('worsening', 'urgent'), \
('walking_difficulty', 'emergency'), ('back_pain', 'emergency')]
        >>> questions[3].rules, questions[3].decides  # asked for the questions it decides
        ((), ('IND-WEAKNESS-TEMPO',))
        >>> questions[4].inputs
        ('findings.back_pain',)
        >>> calf = {"twitching": {"regions": ["calf"]}, "findings": {"numbness": "absent"}}
        >>> [(q.fact, q.rules, q.decides) for q in fasciculate.next_questions(calf)
        ...  if not q.rules]
        [('tingling', (), ('IND-METABOLIC',))]
    """
    return _engine().next_questions(presentation)


def assess_json_with_urgency(presentation: Input) -> tuple[Urgency, bytes]:
    """:func:`assess_json`, with the urgency beside the JSON (``fasciculate screen`` counts it)."""
    engine = _engine()
    referral, differential, facts = engine.evaluated(presentation)
    return referral.urgency, engine.json(referral, differential, facts)


def summarize(presentation: Input) -> dict[str, Any]:
    """What ``fasciculate screen --output summary`` writes of an assessment, without building it.

    The urgency, the fired rules' ids, the leading category, the must-not-miss categories in
    rank order and the number of open questions: the values :func:`assess` gives in
    ``urgency``, ``rules_fired``, ``differential`` and ``missing``, read from the evaluators
    without the evidence behind them and before any output is made (about half an
    assessment's cost on distinct presentations is writing its output).

    Raises:
        InvalidPresentation: If the input is not a valid presentation (every problem is listed).
    """
    engine = _engine()
    facts = engine.facts(presentation)
    tally = engine.referral.tally(facts)
    ranking, must_not_miss = engine.differential.ranked(facts, tally.rules)
    return _summary(tally, ranking, must_not_miss)


def summarize_json(presentation: Input) -> tuple[dict[str, Any], bytes]:
    """:func:`summarize` and :func:`assess_json` of *presentation*, from one evaluation."""
    engine = _engine()
    referral, differential, facts = engine.evaluated(presentation)
    infos, flagged = differential.infos, differential.must_not_miss
    ranking = [infos[slot].id for slot in differential.ranking]
    must_not_miss = [infos[slot].id for slot in differential.ranking if flagged[slot]]
    tally = Tally(
        urgency=referral.urgency,
        rules=tuple([fired.rule for fired in referral.fired]),
        open_questions=len(referral.missing),
    )
    return _summary(tally, ranking, must_not_miss), engine.json(referral, differential, facts)


def _summary(tally: Tally, ranking: Sequence[str], must_not_miss: Sequence[str]) -> dict[str, Any]:
    """The summary of *tally*, with the categories' ids in rank order and the must-not-miss."""
    return {
        "urgency": tally.urgency,
        "rules": [rule.id for rule in tally.rules],
        "leading": ranking[0],
        "must_not_miss": must_not_miss,
        "open_questions": tally.open_questions,
    }

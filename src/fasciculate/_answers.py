"""How many answers a presentation takes to reach a decision, asking ``next_questions`` in order.

The measure behind the focused screen's figures: start from what the presentation holds that the
referral never asks for (laboratory results, medicines, ...) and from the presenting complaint
(the findings it answers present, as a patient reports them), then answer the first of the
questions to ask next (``fasciculate.next_questions``: the open questions and the indicators worth
asking first) from the presentation (a yes/no question it leaves unanswered is answered
absent), until no question is left open. The same walk with every question core (no indication
table) is the count before the focused screen.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import attrs

from fasciculate._fact_paths import answered_in
from fasciculate._facts import facts_from
from fasciculate._kb import CoreQuestions, KnowledgeBase, knowledge_base
from fasciculate._kb_indications import askable
from fasciculate._presentation import Presentation
from fasciculate._referral import ReferralEvaluator
from fasciculate._validation import parse_presentation
from fasciculate._vocab import TRUE, Urgency

#: The answer "no" for the questions whose field is not a yes/no finding.
_NO: Mapping[str, str] = {
    "examination.strength": "normal",
    "examination.knee_reflex": "normal",
    "examination.ankle_reflex": "normal",
    "twitching.course": "stable",
}
#: Fields whose unanswered value reads as "no" (other fields: the question cannot be answered).
_TRI_STATE = ("findings.", "examination.", "exposures.")


@attrs.frozen
class AnswerCount:
    """The questions answered, in order, until the referral decided.

    Attributes:
        answers: How many answers it took.
        asked: The fact or quantity id of each question answered, in order.
        urgency: The urgency reached.
        unanswerable: Open questions the presentation cannot answer (a number or a list it does
            not give): left open, so the screen may stay open.
    """

    answers: int
    asked: tuple[str, ...]
    urgency: Urgency
    unanswerable: tuple[str, ...]


@functools.cache
def _evaluator(*, every_question_core: bool) -> tuple[KnowledgeBase, ReferralEvaluator]:
    kb = knowledge_base()
    if every_question_core:
        questions = askable(kb.rules, kb.facts, kb.quantities)
        core = CoreQuestions(questions=questions, source=kb.core.source, rationale="all core")
        kb = attrs.evolve(kb, core=core, indications=())
    return kb, ReferralEvaluator(kb)


def _get(document: Mapping[str, Any], path: str) -> Any:  # noqa: ANN401 - JSON values
    section, _, field = path.partition(".")
    found = document.get(section)
    return found.get(field) if field and isinstance(found, Mapping) else found


def _put(document: dict[str, Any], path: str, value: object) -> None:
    section, _, field = path.partition(".")
    if field:
        document.setdefault(section, {})[field] = value
    else:
        document[section] = value


def _no(path: str) -> str | None:
    if path in _NO:
        return _NO[path]
    return "absent" if path.startswith(_TRI_STATE) and path not in _NUMBERS else None


_NUMBERS = frozenset(("exposures.caffeine_mg_per_day", "exposures.sleep_hours"))


def _start(full: dict[str, Any], kb: KnowledgeBase, *, volunteered: bool) -> dict[str, Any]:
    """*full* without the answers to the questions the referral asks (but the complaint's)."""
    levels = facts_from(Presentation.model_validate(full), kb).levels
    asked_paths = {
        path
        for name in askable(kb.rules, kb.facts, kb.quantities)
        if not (volunteered and levels.get(name) == TRUE)
        for path in answered_in(name, kb)
    }
    partial: dict[str, Any] = {}
    for section, value in full.items():
        if isinstance(value, dict):
            kept = {k: v for k, v in value.items() if f"{section}.{k}" not in asked_paths}
            if kept:
                partial[section] = kept
        elif section not in asked_paths:
            partial[section] = value
    return partial


def answers_to_decide(
    presentation: Presentation | Mapping[str, Any] | str | bytes,
    *,
    every_question_core: bool = False,
    volunteered: bool = True,
) -> AnswerCount:
    """Answer the open questions of *presentation* one at a time and count the answers.

    Args:
        presentation: The fully answered presentation the answers are taken from.
        every_question_core: Ask as before the focused screen: every question core.
        volunteered: Start from the presenting complaint: what the presentation answers present
            is given from the start, as a patient reports it; the questions asked rule out the
            rest. Without it, every question the referral can ask starts unanswered.
    """
    kb, evaluate = _evaluator(every_question_core=every_question_core)
    full = parse_presentation(presentation).model_dump(mode="json", exclude_defaults=True)
    partial = _start(full, kb, volunteered=volunteered)
    asked: list[str] = []
    unanswerable: list[str] = []
    while True:
        referral = evaluate(facts_from(Presentation.model_validate(partial), kb))
        waiting = [q for q in referral.ask_next if q.fact not in unanswerable]
        if not waiting:
            return AnswerCount(len(asked), tuple(asked), referral.urgency, tuple(unanswerable))
        fact = waiting[0].fact
        paths = [path for path in answered_in(fact, kb) if _get(partial, path) is None]
        given = [path for path in paths if _get(full, path) is not None]
        for path in given:
            _put(partial, path, _get(full, path))
        if not given:
            given = [path for path in paths if _no(path) is not None][:1]
            for path in given:
                _put(partial, path, _no(path))
        if given:
            asked.append(fact)
        else:
            unanswerable.append(fact)

"""Public-API usage that mypy --strict checks, so the published types stay usable."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import fasciculate
from fasciculate import (
    Assessment,
    Finding,
    InvalidPresentation,
    KnowledgeBase,
    Presentation,
    TriState,
    Urgency,
)
from fasciculate.testing import negative_screens, presentation_dicts, presentations, red_flags

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy


def urgency_of(data: dict[str, object]) -> Urgency:
    """Assess a mapping and return the urgency."""
    result: Assessment = fasciculate.assess(data)
    return result.urgency


def needs_referral(presentation: Presentation) -> bool:
    """Whether a referral is advised."""
    return fasciculate.assess(presentation).urgency > Urgency.SELF_CARE


def open_questions(text: str) -> list[str]:
    """The open questions, or the problems when the input is invalid."""
    try:
        return [question.question for question in fasciculate.assess(text).missing]
    except InvalidPresentation as error:
        return [str(problem) for problem in error.problems]


def weak(presentation: Presentation) -> bool:
    """Whether weakness is reported present."""
    return presentation.examination.babinski is TriState.PRESENT


def generated() -> SearchStrategy[Presentation]:
    """Public Hypothesis strategies keep their types (the `testing` extra)."""
    return presentations() | negative_screens() | red_flags()


def generated_json() -> SearchStrategy[dict[str, Any]]:
    """The JSON form of the same presentations is typed as plain dicts."""
    return presentation_dicts(complete=True)


def weakness_reported(presentation: Presentation) -> bool:
    """Finding members are static: mypy and IDEs see ``Finding.WEAKNESS``."""
    finding: Finding = Finding.WEAKNESS
    return presentation.findings.get(finding) is TriState.PRESENT


def emergency_rules() -> list[str]:
    """The knowledge base is public and typed: rule ids, urgencies and its fingerprint."""
    kb: KnowledgeBase = fasciculate.knowledge_base()
    fingerprint: str = kb.sha256
    return [
        f"{rule.id}@{fingerprint[:8]}" for rule in kb.rules if rule.urgency is Urgency.EMERGENCY
    ]


def report(result: Assessment) -> str:
    """The readable report of an assessment, and the package version."""
    version: str = fasciculate.__version__
    return fasciculate.render_text(result) + version


def where_to_answer(result: Assessment) -> dict[str, tuple[str, ...]]:
    """Each open question names the input fields that answer it."""
    return {question.fact: question.inputs for question in result.missing}


def ask_next(presentation: Presentation) -> list[str]:
    """The next questions are typed open questions; set-aside ones name their unmet indications."""
    questions: tuple[fasciculate.OpenQuestion, ...] = fasciculate.next_questions(presentation)
    aside: tuple[fasciculate.SetAsideQuestion, ...] = fasciculate.assess(presentation).not_asked
    unmet: list[fasciculate.UnmetIndication] = [i for item in aside for i in item.indications]
    indications: tuple[fasciculate.Indication, ...] = fasciculate.knowledge_base().indications
    return [q.fact for q in questions] + [i.id for i in unmet] + [i.when for i in indications]


def urgency_without_rule(data: dict[str, object], rule_id: str) -> Urgency:
    """The urgency a knowledge base without one rule gives (an engine of one's own)."""
    import attrs  # noqa: PLC0415

    from fasciculate.engine import Engine, Facts  # noqa: PLC0415

    kb = fasciculate.knowledge_base()
    engine = Engine(kb=attrs.evolve(kb, rules=tuple(r for r in kb.rules if r.id != rule_id)))
    facts: Facts = engine.facts(data)
    assert facts.levels
    inputs: tuple[str, ...] = engine.inputs("weakness")
    assert inputs
    return engine.assess(data).urgency

"""Public-API usage that mypy --strict checks, so the published types stay usable."""

from __future__ import annotations

import fasciculate
from fasciculate import Assessment, InvalidPresentation, Presentation, TriState, Urgency


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

"""Public-API usage of fasciculate.fhir that mypy --strict checks."""

from __future__ import annotations

import datetime as dt
from typing import Any

import fasciculate
from fasciculate import Presentation, Urgency
from fasciculate.fhir import (
    BundleReading,
    Card,
    assessment_to_cards,
    assessment_to_fhir,
    presentation_from_bundle,
    presentation_from_questionnaire_response,
    questionnaire,
    questionnaire_response,
    read_bundle,
)


def cds_response(bundle: bytes) -> dict[str, list[Card]]:
    """Read a bundle, assess it, answer as a CDS Hooks response body."""
    reading: BundleReading = read_bundle(bundle, as_of=dt.date(2026, 11, 20))
    result = fasciculate.assess(reading.presentation)
    return {"cards": assessment_to_cards(result, subject=reading.subject)}


def referral_bundle(bundle: str) -> dict[str, Any] | None:
    """The FHIR answer when a referral is advised."""
    reading = read_bundle(bundle, lab_window_days=None, as_of="2026-11-20", patient="Patient/1")
    result = fasciculate.assess(reading.presentation)
    if result.urgency is Urgency.SELF_CARE:
        return None
    return assessment_to_fhir(result, subject=reading.subject, evidence=reading.evidence)


def round_trip(presentation: Presentation) -> bool:
    """Whether the intake round trip keeps a presentation."""
    response = questionnaire_response(presentation, subject="Patient/1")
    return presentation == presentation_from_questionnaire_response(response)


def item_count(bundle: dict[str, Any]) -> int:
    """How many items the questionnaire has, and how many findings a bundle reports."""
    return len(questionnaire()["item"]) + len(presentation_from_bundle(bundle).findings)


def referral_proposed(result: fasciculate.Assessment) -> str | None:
    """Cards are typed: the indicator is a literal, the suggestion's action carries a resource."""
    (card,) = assessment_to_cards(result)
    if card["indicator"] == "info":
        return None
    for suggestion in card.get("suggestions", []):
        for action in suggestion.get("actions", []):
            if action["type"] == "create" and "resource" in action:
                return f"{card['source']['label']}: {action['resource']['resourceType']}"
    return None

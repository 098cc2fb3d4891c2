"""What a card needs in a live CDS service beyond :func:`fasciculate.fhir.assessment_to_cards`.

Every card and suggestion gets a fresh uuid on every call (feedback names the card by it, so two
calls must never share one), ``source.topic``, ``overrideReasons`` on warning and critical cards,
and ``links`` to each cited source that has a web address.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from fasciculate import Source
from fasciculate.fhir import Card, CardCoding, Link

#: The project's home, the ``source.url`` of every card.
HOME = "https://fasciculate.readthedocs.io"
#: A card's summary is shorter than this (CDS Hooks 2.0).
SUMMARY_LIMIT = 140
#: The code system of fasciculate's card topics and override reasons.
SYSTEM = "https://fasciculate.readthedocs.io/CodeSystem/cds-hooks"
TOPIC_ASSESSMENT: CardCoding = {
    "system": SYSTEM,
    "code": "twitching-assessment",
    "display": "Assessment of muscle twitching (referral urgency and differential)",
}
TOPIC_ORDER: CardCoding = {
    "system": SYSTEM,
    "code": "order-lowers-electrolyte",
    "display": "An order that lowers a low electrolyte further",
}
#: The reasons a clinician can give for overriding a warning or critical card.
OVERRIDE_REASONS: tuple[CardCoding, ...] = (
    {"system": SYSTEM, "code": "already-addressed", "display": "Already addressed"},
    {"system": SYSTEM, "code": "result-outdated", "display": "Result outdated or repeated since"},
    {"system": SYSTEM, "code": "benefit-outweighs-risk", "display": "Benefit outweighs the risk"},
    {"system": SYSTEM, "code": "patient-declined", "display": "Patient declined"},
    {"system": SYSTEM, "code": "not-relevant", "display": "Not relevant to this patient"},
)
OVERRIDE_CODES = frozenset(reason["code"] for reason in OVERRIDE_REASONS)


def links(sources: Iterable[Source]) -> list[Link]:
    """An absolute link for each source that has a web address, in order, without repeats."""
    seen: dict[str, Link] = {}
    for source in sources:
        if source.url and source.url not in seen:
            label = f"{source.title} ({source.publisher}, {source.year})"
            if len(label) > 100:
                label = label[:99].rstrip() + "…"
            seen[source.url] = {"label": label, "url": source.url, "type": "absolute"}
    return list(seen.values())


def finish(card: Card, *, topic: CardCoding, cited: Iterable[Source]) -> Card:
    """*card* made ready to send: fresh uuids, topic, override reasons, links (a new dict)."""
    out: Card = {**card, "uuid": str(uuid.uuid4())}
    out["source"] = {**card["source"], "topic": topic}
    if "suggestions" in card:
        out["suggestions"] = [{**s, "uuid": str(uuid.uuid4())} for s in card["suggestions"]]
    if card["indicator"] in {"warning", "critical"}:
        out["overrideReasons"] = list(OVERRIDE_REASONS)
    if found := links(cited):
        out["links"] = found
    return out

"""An assessment as CDS Hooks 2.0 cards, for the EHR to show in the clinician's workflow."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Literal

from fasciculate._assessment import Assessment, CategoryResult
from fasciculate._vocab import Urgency
from fasciculate.fhir._card_types import Card, Suggestion
from fasciculate.fhir._output import HOME, service_request
from fasciculate.fhir._report import BundleReading
from fasciculate.fhir._writeback import call

#: Card indicator for each urgency (the mapping documented in docs/howto/fhir.md).
INDICATOR: dict[Urgency, Literal["info", "warning", "critical"]] = {
    Urgency.SELF_CARE: "info",
    Urgency.ROUTINE: "info",
    Urgency.URGENT: "warning",
    Urgency.EMERGENCY: "critical",
}
SUMMARY_LIMIT = 140
_DISCLAIMER = "*Decision support for a healthcare professional; not a diagnosis.*"


def _summary(assessment: Assessment) -> str:
    text = assessment.summary
    if len(text) < SUMMARY_LIMIT:
        return text
    return text[: SUMMARY_LIMIT - 2].rstrip() + "…"


def _detail(assessment: Assessment) -> str:
    sources = {source.id: source for source in assessment.sources}
    lines = [f"**Urgency: {assessment.urgency.replace('_', ' ')}**", ""]
    if assessment.rules_fired:
        lines += ["#### Why", ""]
    for rule in assessment.rules_fired:
        lines.append(f"- **{rule.title}** (`{rule.id}`, {rule.urgency}): {rule.rationale}")
        lines += [f"  - {fact.label}: {fact.value} (from `{fact.input}`)" for fact in rule.facts]
    if not assessment.rules_fired:
        lines.append("No red flag found and every red-flag question is answered.")
    if assessment.differential:
        lines += ["", "#### Differential (relative probability, not calibrated)", ""]
        lines += [_category_line(assessment, category) for category in assessment.differential]
    if assessment.missing:
        lines += ["", "#### Still to ask (could raise the urgency)", ""]
        lines += [f"- {q.question} (could raise to {q.could_raise_to})" for q in assessment.missing]
    if sources:
        lines += ["", "#### Sources", ""]
        for source in sources.values():
            title = f"[{source.title}]({source.url})" if source.url else source.title
            lines.append(f"- {title}, {source.publisher}, {source.year}")
    kb = assessment.knowledge_base
    lines += ["", f"Knowledge base {kb.version} (sha256 `{kb.sha256[:12]}`).", "", _DISCLAIMER]
    return "\n".join(lines)


def _category_line(assessment: Assessment, category: CategoryResult) -> str:
    """One ranked category: its leading condition, and the referral that put it first."""
    flag = " **must not miss**" if category.must_not_miss else ""
    leading = category.conditions[0]
    name = category.label if len(category.conditions) == 1 else f"{category.label}: {leading.label}"
    line = f"{category.rank}. {name}: {_percent(category.probability)}{flag}"
    if category.referral_rules:
        rules = {rule.id: rule for rule in assessment.rules_fired}
        reasons = "; ".join(
            f"{rules[key].title} (`{key}`, {rules[key].urgency})" for key in category.referral_rules
        )
        line += f". First because of the referral: {reasons}"
    return line


def _percent(probability: float) -> str:
    # "0%" would read as ruled out: a small but non-zero probability is shown as "<1%".
    return f"{probability:.0%}" if probability >= 0.005 else "<1%"


def assessment_to_cards(  # noqa: PLR0913 - keyword-only options of one output
    assessment: Assessment,
    *,
    reading: BundleReading | None = None,
    subject: str | None = None,
    evidence: Mapping[str, Sequence[str]] | None = None,
    reference_types: Mapping[str, str] | None = None,
    ids: Callable[[], uuid.UUID | str] | None = None,
    at: dt.datetime | None = None,
) -> list[Card]:
    """The assessment as CDS Hooks 2.0 cards (the ``cards`` of a CDS service response).

    One card: the summary (under 140 characters), the indicator from the urgency (info, warning,
    critical), the source, a markdown detail with every reason, open question and source, and,
    when a referral is advised, a suggestion whose action creates the proposed ServiceRequest.

    Args:
        assessment: The result of :func:`fasciculate.assess`.
        reading: The :class:`~fasciculate.fhir.BundleReading` the assessment came from (the
            patient, the evidence and the server ids the ServiceRequest refers to).
        subject: A reference to the Patient, instead of the reading's (``Patient/123``).
        evidence: The evidence cited by the ServiceRequest, instead of the reading's.
        reference_types: The resource type behind references that do not show it.
        ids: Makes each new identifier (default :func:`uuid.uuid4`), in this order: the card's
            ``uuid``, the ServiceRequest's ``id``, the suggestion's ``uuid``. Every call has new
            ones, so that feedback by card uuid names one card.
        at: The ServiceRequest's ``authoredOn`` (default: now); a timezone-aware datetime.

    Raises:
        ValueError: If *at* has no time zone, or *ids* does not make UUIDs.
    """
    writing = call(
        reading=reading,
        subject=subject,
        evidence=evidence,
        reference_types=reference_types,
        ids=ids,
        at=at,
    )
    card: Card = {
        "uuid": writing.new_id(),
        "summary": _summary(assessment),
        "indicator": INDICATOR[assessment.urgency],
        "detail": _detail(assessment),
        "source": {
            "label": f"fasciculate {assessment.fasciculate_version}",
            "url": HOME,
        },
    }
    request = service_request(assessment, writing)
    if request is not None:
        suggestion: Suggestion = {
            "label": f"Propose referral: {request['code']['text']}",
            "uuid": writing.new_id(),
            "isRecommended": True,
            "actions": [
                {
                    "type": "create",
                    "description": f"Create a {request['priority']} referral proposal "
                    "(ServiceRequest, intent proposal)",
                    "resource": request,
                }
            ],
        }
        card["suggestions"] = [suggestion]
        card["selectionBehavior"] = "at-most-one"
    return [card]

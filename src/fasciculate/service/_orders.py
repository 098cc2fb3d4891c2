"""order-select and order-sign: a draft order that lowers a lab already low, a twitching referral.

The draft orders are read together with the patient's record (so a draft's medication is classed
exactly as :func:`fasciculate.fhir.read_bundle` classes any medication); a draft medication whose
class lowers an analyte (``orders.toml``) while the latest result of that analyte is below its
reference range gives one warning card, critical at or beyond the critical limit, citing the
results it rests on.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any, cast

import attrs

import fasciculate
from fasciculate import Analyte, LabFlag, MedicationClass
from fasciculate.fhir import Action, BundleReading, Card, Suggestion
from fasciculate.service import _card_extras

#: Codes of twitching itself: SNOMED CT 82470000 fasciculation, ICD-10-CM R25.3 fasciculation.
TWITCHING_CODES = frozenset({"82470000", "R25.3"})
#: Words that name twitching in a text, a display or a presentation field.
TWITCHING_WORDS = ("twitch", "fascicul")
_CRITICAL = {LabFlag.CRITICAL_LOW}
_LOW = {LabFlag.LOW, LabFlag.DEFICIENT, LabFlag.CRITICAL_LOW}


@attrs.frozen
class Lowers:
    """One row of ``orders.toml``: a medication class and the analytes it lowers."""

    drug_class: MedicationClass
    analytes: tuple[Analyte, ...]
    source: str
    mechanism: str


@functools.cache
def order_rules() -> dict[MedicationClass, Lowers]:
    """The table of ``orders.toml``, checked against the knowledge base (cached)."""
    text = resources.files("fasciculate.service").joinpath("orders.toml").read_text("utf-8")
    rows = {}
    sources = fasciculate.knowledge_base().sources
    for number, row in enumerate(tomllib.loads(text)["lowers"]):
        if row["source"] not in sources:
            message = f"orders.toml lowers[{number}]: unknown source {row['source']!r}"
            raise fasciculate.KnowledgeBaseError(message)
        rule = Lowers(
            MedicationClass(row["drug_class"]),
            tuple(Analyte(a) for a in row["analytes"]),
            row["source"],
            row["mechanism"],
        )
        rows[rule.drug_class] = rule
    return rows


def is_twitching_referral(resource: Mapping[str, Any]) -> bool:
    """Whether a draft ServiceRequest refers the patient for twitching (by code or by words)."""
    if resource.get("resourceType") != "ServiceRequest":
        return False
    concepts = [resource.get("code") or {}, *(resource.get("reasonCode") or [])]
    for concept in concepts:
        codes = {str(c.get("code")) for c in concept.get("coding") or []}
        words = " ".join(
            [str(concept.get("text") or "")]
            + [str(c.get("display") or "") for c in concept.get("coding") or []]
        ).lower()
        if codes & TWITCHING_CODES or any(word in words for word in TWITCHING_WORDS):
            return True
    return False


def _date(resource: Mapping[str, Any]) -> str:
    """The result's date (``YYYY-MM-DD``; an empty string, sorting first, when it has none)."""
    when = resource.get("effectiveDateTime") or resource.get("issued") or ""
    return str(when)[:10]


def _latest_low(
    reading: BundleReading, record: Mapping[str, Mapping[str, Any]]
) -> dict[Analyte, tuple[float, LabFlag, str]]:
    """For each analyte whose latest numeric result is below its range: value, flag, reference."""
    kb = fasciculate.knowledge_base()
    latest: dict[Analyte, tuple[str, float, LabFlag, str]] = {}
    for index, lab in enumerate(reading.presentation.labs):
        value = lab.si_value
        if value is None:
            continue
        reference = reading.evidence.get(f"labs.{index}", ("",))[0]
        when = _date(record.get(reference, {}))
        if lab.analyte not in latest or when > latest[lab.analyte][0]:
            latest[lab.analyte] = (when, value, kb.labs[lab.analyte].classify(value), reference)
    return {
        analyte: (value, flag, reference)
        for analyte, (_, value, flag, reference) in latest.items()
        if flag in _LOW
    }


def electrolyte_cards(
    reading: BundleReading,
    drafts: Sequence[str],
    record: Mapping[str, Mapping[str, Any]],
) -> list[Card]:
    """A card for each draft medication (by reference, in *drafts*) that lowers a low lab.

    Args:
        reading: The record read together with the draft orders.
        drafts: References (as the reader reports them) of the draft MedicationRequests.
        record: Every resource read, by the same references (for the result dates).
    """
    presentation = reading.presentation
    low = _latest_low(reading, record)
    cards = []
    for index, medication in enumerate(presentation.medications):
        reference = reading.evidence.get(f"medications.{index}", ("",))[0]
        rule = order_rules().get(medication.drug_class) if medication.drug_class else None
        if reference not in drafts or rule is None:
            continue
        found = [(a, low[a]) for a in rule.analytes if a in low]
        if found:
            name = medication.name or str(medication.drug_class).replace("_", " ")
            cards.append(_card(name, reference, rule, found, record))
    return cards


def _card(
    name: str,
    reference: str,
    rule: Lowers,
    found: list[tuple[Analyte, tuple[float, LabFlag, str]]],
    record: Mapping[str, Mapping[str, Any]],
) -> Card:
    kb = fasciculate.knowledge_base()
    critical = any(flag in _CRITICAL for _, (_, flag, _) in found)
    labels = dict.fromkeys(
        f"{kb.labs[a].label.lower()} {v:.2f} {kb.labs[a].unit}" for a, (v, _, _) in found
    )
    summary = (
        f"{name} ordered while {' and '.join(labels)} {'is' if len(labels) == 1 else 'are'} low"
    )
    if len(summary) >= _card_extras.SUMMARY_LIMIT:
        summary = summary[: _card_extras.SUMMARY_LIMIT - 2].rstrip() + "…"
    lines = [f"**{rule.mechanism}**", "", "#### Results below the reference range", ""]
    cited = [kb.sources[rule.source]]
    for analyte, (value, flag, lab_ref) in found:
        lab = kb.labs[analyte]
        when = _date(record.get(lab_ref, {})) or "a date not given"
        lines.append(
            f"- {lab.label}: {value:.2f} {lab.unit} on {when} "
            f"(`{lab_ref}`), {flag.replace('_', ' ')}; reference range {lab.lower}-{lab.upper} "
            f"{lab.unit}"
        )
        cited.append(kb.sources[lab.range_source])
        if flag in _CRITICAL and lab.critical_source:
            cited.append(kb.sources[lab.critical_source])
    lines += ["", f"Draft order: `{reference}`.", "", "#### Sources", ""]
    lines += [f"- {s.title}, {s.publisher}, {s.year}" for s in dict.fromkeys(cited)]
    # CDS Hooks 2.0 spells Action.resourceId as one relative reference (a string);
    # fasciculate.fhir.Action types it as a list, hence the cast.
    delete = {
        "type": "delete",
        "description": f"Remove the draft order of {name} (review the electrolytes first)",
        "resourceId": reference,
    }
    suggestion: Suggestion = {
        "label": f"Remove the draft order of {name}",
        "isRecommended": critical,
        "actions": [cast("Action", delete)],
    }
    card: Card = {
        "summary": summary,
        "indicator": "critical" if critical else "warning",
        "detail": "\n".join(lines),
        "source": {"label": f"fasciculate {fasciculate.__version__}", "url": _card_extras.HOME},
        "suggestions": [suggestion],
        "selectionBehavior": "at-most-one",
    }
    return _card_extras.finish(card, topic=_card_extras.TOPIC_ORDER, cited=cited)

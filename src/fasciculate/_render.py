"""Plain-text renderings of an assessment and of the rule table, for people to read."""

from __future__ import annotations

import textwrap

from fasciculate._assessment import Assessment
from fasciculate._kb import KnowledgeBase

_WIDTH = 100
_DISCLAIMER = "Decision support for a healthcare professional; not a diagnosis."


def _wrap(text: str, indent: str) -> str:
    return textwrap.fill(text, _WIDTH, initial_indent=indent, subsequent_indent=indent)


def assessment_text(assessment: Assessment) -> str:
    """A readable report: urgency, reasons with their facts and sources, open questions."""
    lines = [f"URGENCY: {assessment.urgency.upper()}", _wrap(assessment.summary, ""), ""]
    sources = {source.id: source for source in assessment.sources}
    lines.append("Why")
    for rule in assessment.rules_fired:
        lines.append(f"  {rule.id} [{rule.urgency}] {rule.title}")
        for fact in rule.facts:
            shown = fact.condition or f"{fact.label}: {fact.value}"
            if fact.condition:
                shown = f"{fact.label}: {fact.value} ({fact.condition})"
            lines.append(f"    - {shown}  <- {fact.input}")
        lines.append(_wrap(rule.rationale, "    "))
        source = sources[rule.source]
        where = f" {source.url}" if source.url else ""
        lines.append(
            _wrap(f"Source: {source.title}, {source.publisher}, {source.year}.{where}", "    ")
        )
    if not assessment.rules_fired:
        lines.append("  No rule fired: every red-flag question is answered and none is present.")
    if assessment.missing:
        lines += ["", "Open questions that could raise the urgency"]
        for question in assessment.missing:
            lines.append(
                _wrap(f"- [{question.could_raise_to}] {question.question} ({question.fact})", "  ")
            )
    kb = assessment.knowledge_base
    lines += [
        "",
        (
            f"Knowledge base {kb.version} (sha256 {kb.sha256[:12]}), fasciculate "
            f"{assessment.fasciculate_version}."
        ),
        _DISCLAIMER,
    ]
    return "\n".join(lines)


def rules_text(kb: KnowledgeBase) -> str:
    """The rule table, one block per rule, with its condition and source."""
    lines = [f"Referral rules, knowledge base {kb.version} (sha256 {kb.sha256[:12]})", ""]
    for rule in (*kb.rules, kb.screen_incomplete):
        source = kb.sources[rule.source]
        lines.append(f"{rule.id} [{rule.urgency}] {rule.title}")
        lines.append(f"  when: {rule.when}")
        lines.append(_wrap(rule.rationale, "  "))
        lines.append(f"  source: {source.id} ({source.title}, {source.year})")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def rules_json(kb: KnowledgeBase) -> list[dict[str, object]]:
    """The rule table as JSON-ready rows."""
    return [
        {
            "id": rule.id,
            "urgency": str(rule.urgency),
            "title": rule.title,
            "condition": rule.when,
            "rationale": rule.rationale,
            "source": rule.source,
            "source_title": kb.sources[rule.source].title,
        }
        for rule in (*kb.rules, kb.screen_incomplete)
    ]

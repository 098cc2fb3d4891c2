"""Plain-text renderings of an assessment and of the rule table, for people to read."""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence
from typing import Any

from fasciculate._assessment import Assessment
from fasciculate._kb import KnowledgeBase, knowledge_base
from fasciculate._version import VERSION

_WIDTH = 100
_DISCLAIMER = "Decision support for a healthcare professional; not a diagnosis."


def _wrap(text: str, indent: str, *, then: str | None = None) -> str:
    """*text* filled to the width, its first line indented by *indent*, the rest by *then*."""
    later = indent if then is None else then
    return textwrap.fill(text, _WIDTH, initial_indent=indent, subsequent_indent=later)


def render_text(assessment: Assessment) -> str:
    """The readable report of *assessment*, as ``fasciculate assess`` prints it.

    The urgency and summary; each fired rule with the facts behind it (traced to the input field),
    its rationale and source; laboratory results; the differential; the open questions that could
    raise the urgency, each with the input field that answers it; triggers, advice, the safety
    net and the knowledge base's version and fingerprint. Plain text, wrapped at 100 characters.

    >>> result = fasciculate.assess({"findings": {"saddle_sensory_loss": "present"}})
    >>> print(fasciculate.render_text(result).splitlines()[0])
    URGENCY: EMERGENCY
    """
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
    if assessment.labs:
        lines += ["", "Laboratory results"]
        for lab in assessment.labs:
            shown = "-" if lab.value is None else f"{lab.value:.3g}"
            lines.append(
                f"  {lab.analyte:<18} {lab.reported:<14} -> {shown} {lab.unit:<7} "
                f"{lab.flag.upper():<14} ({lab.reference})"
            )
            if lab.formula:
                lines.append(_wrap(f"computed: {lab.formula} [{lab.source}]", "    "))
    lines += _differential_lines(assessment)
    if assessment.missing:
        lines += ["", "Open questions that could raise the urgency"]
        for question in assessment.missing:
            asked = f"- [{question.could_raise_to}] {question.question}"
            lines.append(_wrap(asked, "  ", then="    "))
            lines.append(_wrap(f"answer in: {', '.join(question.inputs)}", "    "))
    lines += _not_asked_lines(assessment)
    lines += _advice_lines(assessment)
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


#: The name the command line imports.
assessment_text = render_text


def _not_asked_lines(assessment: Assessment) -> list[str]:
    if not assessment.not_asked:
        return []
    lines = [
        "",
        "Not asked: nothing in the presentation calls for these (a present answer still counts)",
    ]
    for item in assessment.not_asked:
        lines.append(_wrap(f"- [{item.could_raise_to}] {item.question}", "  ", then="    "))
        for unmet in item.indications:
            why = f"not indicated: {unmet.id} ({unmet.when}) [{unmet.source}]"
            lines.append(_wrap(why, "    "))
    return lines


def _differential_lines(assessment: Assessment) -> list[str]:
    lines = [
        "",
        "Differential (relative probabilities, not calibrated; ~ marks an expert-estimate weight)",
    ]
    estimates = {source.id for source in assessment.sources if source.expert_estimate}
    titles = {rule.id: rule for rule in assessment.rules_fired}
    for result in assessment.differential:
        flag = "  MUST NOT MISS" if result.must_not_miss else ""
        lines.append(f"  {result.rank}. {result.label:<62} {result.probability:6.1%}{flag}")
        if result.referral_rules:
            reasons = "; ".join(
                f"{rule_id} [{titles[rule_id].urgency}] {titles[rule_id].title}"
                for rule_id in result.referral_rules
            )
            lines.append(_wrap(f"first because of the referral: {reasons}", "       "))
        leading, *others = result.conditions
        if others:
            lines.append(_wrap(f"leading: {leading.label} ({leading.probability:.1%})", "       "))
        for label, items in (("for", leading.supporting), ("against", leading.conflicting)):
            if items:
                shown = ", ".join(
                    f"{'' if item.holds else 'no: '}{item.label} "
                    f"({'~' if item.weight_source in estimates else ''}{item.weight:+.1f})"
                    for item in items[:4]
                )
                more = f", +{len(items) - 4} more" if len(items) > 4 else ""
                lines.append(_wrap(f"{label}: {shown}{more}", "       "))
        lines += [
            _wrap(f"also must not miss: {other.label} ({other.probability:.1%})", "       ")
            for other in others
            if other.must_not_miss
        ]
    rls = assessment.restless_legs
    if any(criterion.status != "unknown" for criterion in rls.criteria):
        marks = " ".join(f"{c.number}:{c.status}" for c in rls.criteria)
        lines.append(f"  Restless legs criteria (IRLSSG): {marks} -> all met: {rls.all_met}")
    if assessment.root_level.level:
        lines.append(f"  Likely root level: {assessment.root_level.level}")
    return lines


def _advice_lines(assessment: Assessment) -> list[str]:
    lines = []
    if assessment.triggers:
        lines += ["", "Triggers found"]
        for trigger in assessment.triggers:
            facts = "; ".join(
                f"{fact.label} {fact.value}" if fact.condition else fact.label
                for fact in trigger.facts
            )
            lines.append(_wrap(f"- {trigger.label}: {facts}", "  "))
    if assessment.advice:
        heading = "Advice to give"
        if assessment.urgency != "self_care":
            heading += " (alongside the referral, not instead of it)"
        lines += ["", heading]
        lines += [_wrap(f"- {item.text}", "  ") for item in assessment.advice]
    if assessment.safety_net:
        lines += ["", "Safety net: what would raise the urgency from here"]
        lines += [_wrap(f"- {item}", "  ") for item in assessment.safety_net]
    return lines


def rules_text(kb: KnowledgeBase) -> str:
    """The rule table, one block per rule, with its condition and source."""
    lines = [f"Referral rules, knowledge base {kb.version} (sha256 {kb.sha256[:12]})", ""]
    for rule in (*kb.rules, kb.screen_incomplete):
        source = kb.sources[rule.source]
        lines.append(f"{rule.id} [{rule.urgency}] {rule.title}")
        lines.append(f"  when: {rule.when}")
        if rule.category is not None:
            within = f" ({rule.condition_id})" if rule.condition_id else ""
            lines.append(f"  argues for: {rule.category}{within}")
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
            "category": None if rule.category is None else str(rule.category),
            "differential_condition": rule.condition_id,
        }
        for rule in (*kb.rules, kb.screen_incomplete)
    ]


def version_text() -> str:
    """The package version, then the knowledge base's version and full SHA-256 fingerprint."""
    kb = knowledge_base()
    return f"fasciculate {VERSION}\nknowledge base {kb.version} (sha256 {kb.sha256})\n"


class PrintVersion(argparse.Action):
    """The command line's ``--version``: prints :func:`version_text` unwrapped, then exits."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:  # noqa: ANN401
        """An option that takes no value, like argparse's own ``version`` action."""
        kwargs.setdefault("help", "show the versions and the knowledge base's SHA-256")
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,  # noqa: ARG002
        values: object,  # noqa: ARG002
        option_string: str | None = None,  # noqa: ARG002
    ) -> None:
        """Print the version text and exit with status 0."""
        sys.stdout.write(version_text())
        parser.exit()

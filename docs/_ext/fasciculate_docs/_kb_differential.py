"""The differential side of the knowledge base.

Categories and their weighted features, the restless legs criteria, the root levels, self-care
advice, and the medication names classed from free text.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from docutils import nodes

from fasciculate_docs._kbcommon import condition, fmt, priors_source
from fasciculate_docs._nodes import Row, blocks, code, joined, para, strong, table, text, xref

if TYPE_CHECKING:
    from fasciculate._kb import KnowledgeBase


def _weight(value: float) -> str:
    return "0" if value == 0 else f"{value:+g}"


def differential(kb: KnowledgeBase) -> list[nodes.Node]:
    """The categories with their priors, then each category's weighted features."""
    source = priors_source()
    categories: list[Row] = [
        (
            f"category-{category.id}",
            [
                blocks(strong(str(category.id)), category.label),
                fmt(category.prior),
                "yes" if category.must_not_miss else "",
                [xref("kbsource", source)],
            ],
        )
        for category in kb.categories.values()
    ]
    out: list[nodes.Node] = [
        table(
            ["Category", "Prior", "Must not miss", "Source of the prior"],
            categories,
            widths=[46, 12, 14, 28],
        )
    ]
    by_category: dict[str, list[Row]] = defaultdict(list)
    for feature in kb.features:
        notes: list[nodes.Node] = []
        if feature.context:
            notes = [text("context (never raises must-not-miss)")]
        if feature.advice:
            notes = [
                text("trigger; advice: "),
                *joined(xref("kbadvice", advice) for advice in feature.advice),
            ]
        by_category[feature.category].append(
            (
                f"feature-{feature.id}",
                [
                    blocks(strong(feature.id), feature.label),
                    condition(feature.when, feature.condition, kb),
                    _weight(feature.present),
                    _weight(feature.absent),
                    [xref("kbsource", feature.source)],
                    notes,
                ],
            )
        )
    for category in kb.categories.values():
        out += [
            nodes.rubric(
                "", "", xref("kbcategory", str(category.id), category.label, literal=False)
            ),
            table(
                ["Feature", "Condition", "If present", "If absent", "Source", "Notes"],
                by_category[category.id],
                widths=[24, 30, 9, 9, 12, 16],
            ),
        ]
    return out


def restless_legs(kb: KnowledgeBase) -> list[nodes.Node]:
    """The IRLSSG criteria, each with the condition that meets it."""
    rows: list[Row] = [
        (
            f"rls-{criterion.number}",
            [
                strong(str(criterion.number)),
                criterion.text,
                condition(criterion.when, criterion.condition, kb),
                "met when the condition is known not to hold" if criterion.inverted else "",
            ],
        )
        for criterion in kb.rls_criteria
    ]
    return [table(["#", "Criterion", "Condition", "Note"], rows, widths=[5, 45, 30, 20])]


def root_levels(kb: KnowledgeBase) -> list[nodes.Node]:
    """The features that point to each lumbar root level."""
    rows: list[Row] = [
        (
            f"rootlevel-{level.level}",
            [
                strong(level.level),
                blocks(*(code(part.render()) for part in level.conditions)),
                [xref("kbsource", level.source)],
            ],
        )
        for level in kb.root_levels
    ]
    return [table(["Level", "Features (one per line)", "Source"], rows, widths=[12, 60, 28])]


def advice(kb: KnowledgeBase) -> list[nodes.Node]:
    """Every self-care measure, with the triggers it answers."""
    answers: dict[str, list[str]] = defaultdict(list)
    for feature in kb.features:
        for advice_id in feature.advice:
            answers[advice_id].append(feature.id)
    rows: list[Row] = [
        (
            f"advice-{item.id}",
            [
                blocks(strong(item.id), "lifestyle: not beside an urgent result")
                if item.lifestyle
                else strong(item.id),
                item.text,
                "general"
                if item.general
                else joined(xref("kbfeature", f) for f in answers[item.id]),
                [xref("kbsource", item.source)],
            ],
        )
        for item in kb.advice.values()
    ]
    return [table(["Advice", "Text", "Given for", "Source"], rows, widths=[16, 46, 24, 14])]


def medications(kb: KnowledgeBase) -> list[nodes.Node]:
    """The medication names the knowledge base classes by itself, by class."""
    names: dict[str, list[str]] = defaultdict(list)
    for name, drug_class in kb.medication_names.items():
        names[str(drug_class)].append(name)
    rows: list[Row] = [
        (None, [code(drug_class), ", ".join(members)]) for drug_class, members in names.items()
    ]
    return [
        para(
            "A medication given by name without a class is classed from this list (case"
            " insensitive); any other name is class 'other'."
        ),
        table(["Class", "Names"], rows, widths=[25, 75]),
    ]

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
    """The categories, the conditions within them with their priors, then each one's features."""
    source = priors_source()
    rows: list[Row] = [
        (
            f"category-{category.id}",
            [
                blocks(strong(str(category.id)), category.label),
                blocks(
                    *(
                        f"{info.id}: {info.label}"
                        for info in kb.conditions.values()
                        if info.category == category.id
                    )
                ),
                blocks(
                    *(
                        f"{fmt(info.prior)}{' (must not miss)' if info.must_not_miss else ''}"
                        for info in kb.conditions.values()
                        if info.category == category.id
                    )
                ),
                [xref("kbsource", source)],
            ],
        )
        for category in kb.categories.values()
    ]
    out: list[nodes.Node] = [
        table(
            ["Category", "Conditions", "Priors", "Source of the priors"],
            rows,
            widths=[26, 44, 16, 14],
        )
    ]
    by_condition: dict[str, list[Row]] = defaultdict(list)
    for feature in kb.features:
        notes: list[nodes.Node] = []
        if feature.hard:
            notes = [text("hard: raises must-not-miss")]
        if feature.advice:
            notes = [
                text("trigger; advice: "),
                *joined(xref("kbadvice", advice) for advice in feature.advice),
            ]
        by_condition[feature.condition_id].append(
            (
                f"feature-{feature.id}",
                [
                    blocks(strong(feature.id), feature.label),
                    condition(feature.when, feature.condition, kb),
                    _weight(feature.present),
                    _weight(feature.absent),
                    [xref("kbsource", feature.source)],
                    [xref("kbsource", feature.magnitude)],
                    notes,
                ],
            )
        )
    for info in kb.conditions.values():
        out += [
            nodes.rubric(
                "",
                "",
                xref(
                    "kbcategory",
                    str(info.category),
                    kb.categories[info.category].label,
                    literal=False,
                ),
                text(f": {info.label}"),
            ),
            table(
                ["Feature", "Condition", "If present", "If absent", "Source", "Magnitude", "Notes"],
                by_condition[info.id],
                widths=[22, 28, 8, 8, 11, 11, 12],
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
                (
                    "lists mimics: met when known not to hold; needs judgement when it holds"
                    if criterion.mimics
                    else ""
                ),
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

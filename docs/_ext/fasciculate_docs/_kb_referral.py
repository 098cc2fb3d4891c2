"""The referral side of the knowledge base: rules, thresholds, laboratory ranges, facts, sources."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fasciculate_docs._kbcommon import cited_by, condition, fmt, links, used_by
from fasciculate_docs._nodes import (
    Inline,
    Row,
    blocks,
    code,
    joined,
    link,
    para,
    strong,
    table,
    text,
    xref,
)

if TYPE_CHECKING:
    from docutils import nodes

    from fasciculate._kb import KnowledgeBase, Rule


def rules(kb: KnowledgeBase) -> list[nodes.Node]:
    """The referral rule table, in the order of ``rules.toml``, then ``SCREEN-INCOMPLETE``."""
    rows: list[Row] = [
        (
            f"rule-{rule.id}",
            [
                blocks(strong(rule.id), rule.title),
                [code(str(rule.urgency))],
                condition(rule.when, rule.condition, kb),
                rule.rationale,
                _argues_for(rule, kb),
                [xref("kbsource", rule.source)],
            ],
        )
        for rule in (*kb.rules, kb.screen_incomplete)
    ]
    return [
        table(
            ["Rule", "Urgency", "Condition", "Rationale", "Argues for", "Source"],
            rows,
            widths=[16, 8, 23, 31, 12, 10],
        )
    ]


def derivations(kb: KnowledgeBase) -> list[nodes.Node]:
    """The implications between facts (``derivations.toml``), in the order they are applied."""
    rows: list[Row] = [
        (
            f"derivation-{item.id}",
            [
                [strong(item.id)],
                [code(item.when.render())],
                [xref("kbfact", item.sets)],
                item.note,
                [xref("kbsource", item.source)],
            ],
        )
        for item in kb.derivations
    ]
    return [
        table(
            ["Derivation", "When", "Sets present", "Why", "Source"],
            rows,
            widths=[26, 18, 16, 28, 12],
        )
    ]


def indications(kb: KnowledgeBase) -> list[nodes.Node]:
    """The core questions, then each indication with the questions it opens."""

    def questions(names: tuple[str, ...]) -> list[nodes.Node]:
        return joined(
            xref("kbquantity" if name in kb.quantities else "kbfact", name) for name in names
        )

    rows: list[Row] = [
        (
            "indication-core",
            [
                [strong("core")],
                questions(kb.core.questions),
                "every presentation",
                kb.core.rationale,
                [xref("kbsource", kb.core.source)],
            ],
        )
    ]
    rows += [
        (
            f"indication-{item.id}",
            [
                blocks(strong(item.id), item.title),
                questions(item.questions),
                condition(item.when, item.condition, kb),
                item.rationale,
                [xref("kbsource", item.source)],
            ],
        )
        for item in kb.indications
    ]
    return [
        table(
            ["Indication", "Questions", "When (unknown indicates)", "Rationale", "Source"],
            rows,
            widths=[14, 22, 22, 32, 10],
        )
    ]


def _argues_for(rule: Rule, kb: KnowledgeBase) -> list[nodes.Node]:
    """The differential category (and condition) a rule declares, linked to its table."""
    if rule.category is None:
        return []
    found: list[nodes.Node] = [xref("kbcategory", str(rule.category))]
    if rule.condition_id:
        found.append(text(f" ({kb.conditions[rule.condition_id].label})"))
    return found


def thresholds(kb: KnowledgeBase) -> list[nodes.Node]:
    """Every named threshold with its value, unit, source and the rules that use it."""
    used = used_by(kb)
    rows: list[Row] = [
        (
            f"threshold-{item.id}",
            [
                [strong(item.id)],
                f"{item.value:g} {item.unit}",
                blocks(item.label, item.note) if item.note else item.label,
                [xref("kbsource", item.source)],
                links(used.get(item.id, [])),
            ],
        )
        for item in kb.thresholds.values()
    ]
    return [
        table(
            ["Threshold", "Value", "Meaning", "Source", "Used by"],
            rows,
            widths=[18, 10, 42, 14, 16],
        )
    ]


def labs(kb: KnowledgeBase) -> list[nodes.Node]:
    """Reference ranges and critical limits; then codes, accepted units and plausible bounds."""
    used = used_by(kb)
    ranges: list[Row] = []
    codes: list[Row] = []
    for lab in kb.labs.values():
        name = str(lab.analyte)
        limit_users = [
            entry
            for key, entries in used.items()
            if key.startswith(f"{name}.")
            for entry in entries
        ]
        ranges.append(
            (
                f"lab-{name}",
                [
                    blocks(strong(name), lab.label),
                    lab.unit,
                    fmt(lab.lower),
                    fmt(lab.upper),
                    fmt(lab.deficient),
                    fmt(lab.critical_low),
                    fmt(lab.critical_high),
                    joined(
                        xref("kbsource", source)
                        for source in dict.fromkeys(
                            s for s in (lab.range_source, lab.critical_source) if s
                        )
                    ),
                    links(limit_users),
                ],
            )
        )
        units = [f"{unit} x {factor:.6g}" for unit, factor in lab.units.items()]
        codes.append(
            (
                None,
                [
                    [xref("kblab", name)],
                    joined(code(loinc) for loinc in lab.loinc),
                    blocks(*units),
                    f"{fmt(lab.plausible[0])}-{fmt(lab.plausible[1])} {lab.unit}",
                    lab.note or "",
                ],
            )
        )
    return [
        table(
            [
                "Analyte",
                "Unit",
                "Lower limit",
                "Upper limit",
                "Deficient below",
                "Critical low (<=)",
                "Critical high (>=)",
                "Sources",
                "Used by",
            ],
            ranges,
            widths=[18, 7, 7, 7, 8, 8, 8, 17, 20],
        ),
        para(
            "Codes and units. A result in an accepted unit is multiplied by the factor to give the"
            " canonical unit; any other unit is an error. Values outside the plausible range are"
            " rejected as a probable unit or typing mistake."
        ),
        table(
            ["Analyte", "LOINC", "Accepted units (x factor)", "Plausible", "Note"],
            codes,
            widths=[16, 20, 22, 14, 28],
        ),
    ]


def facts(kb: KnowledgeBase) -> list[nodes.Node]:
    """Every yes/no fact with its question, then every quantity the rules compare."""
    used = used_by(kb)
    fact_rows: list[Row] = [
        (
            f"fact-{fact.id}",
            [
                blocks(strong(fact.id), fact.label),
                blocks(code(fact.kind), fact.group),
                fact.question,
                [code(fact.snomed)] if fact.snomed else "",
                links(used.get(fact.id, [])),
            ],
        )
        for fact in kb.facts.values()
    ]
    quantity_rows: list[Row] = [
        (
            f"quantity-{quantity.id}",
            [
                blocks(strong(quantity.id), quantity.label),
                quantity.unit,
                f"{quantity.worse}; if missing: {quantity.when_missing.replace('_', ' ')}",
                quantity.question,
                links(used.get(quantity.id, [])),
            ],
        )
        for quantity in kb.quantities.values()
    ]
    return [
        table(
            ["Fact", "Kind / group", "Question asked when unknown", "SNOMED CT", "Used by"],
            fact_rows,
            widths=[22, 14, 36, 10, 18],
        ),
        para(
            "Quantities. Rules compare a quantity only in its clinically worse direction. A missing"
            " quantity marked 'ask' keeps the screen open; one marked 'not measured' (a blood"
            " test) does not."
        ),
        table(
            ["Quantity", "Unit", "Worse; when missing", "Question", "Used by"],
            quantity_rows,
            widths=[24, 8, 18, 30, 20],
        ),
    ]


def sources(kb: KnowledgeBase) -> list[nodes.Node]:
    """The bibliography, each source with every entry that cites it."""
    cited = cited_by(kb)
    rows: list[Row] = []
    for source in kb.sources.values():
        citation: list[Inline] = [text(f"{source.title}. {source.publisher}, {source.year}.")]
        if source.url:
            citation += [text(" "), link(source.url)]
        if source.expert_estimate:
            citation += [text(" "), strong("Expert estimate: no published source.")]
        if source.unverified:
            citation += [text(" "), strong("Unverified: the primary text was not read in full.")]
        rows.append(
            (
                f"source-{source.id}",
                [strong(source.id), citation, links(cited.get(source.id, []))],
            )
        )
    return [table(["Source", "Reference", "Cited by"], rows, widths=[16, 50, 34])]


def stamp(kb: KnowledgeBase) -> list[nodes.Node]:
    """The version and SHA-256 every assessment carries."""
    return [
        para(
            [
                text("Knowledge base version "),
                code(kb.version),
                text(", SHA-256 "),
                code(kb.sha256),
                text(
                    f": {len(kb.rules) + 1} rules, {len(kb.thresholds)} thresholds,"
                    f" {len(kb.labs)} analytes, {len(kb.facts)} facts,"
                    f" {len(kb.quantities)} quantities, {len(kb.sources)} sources."
                ),
            ]
        )
    ]

"""Directives that render the knowledge base from ``fasciculate._kb.knowledge_base()``.

Each table is one directive (``kb-rules``, ``kb-thresholds``, ...) listed in :data:`TABLES`. To
document a new table (the differential weights of ``kb/differential.toml``, for example), write one
function ``KnowledgeBase -> list[Node]`` below, add it to :data:`TABLES`, add a cross-reference kind
to :data:`KINDS` if its entries are linked to, and count its citations in :func:`_citations`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from docutils import nodes
from sphinx.util.docutils import SphinxDirective, SphinxRole

from fasciculate._conditions import CompareAtom, FactAtom, atoms
from fasciculate._kb import KnowledgeBase, Rule, knowledge_base
from fasciculate_docs._nodes import (
    Blocks,
    Inline,
    Para,
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
    from sphinx.application import Sphinx

#: Cross-reference roles (std domain), one per kind of entry, and their target prefixes.
KINDS = {
    "kbrule": "rule",
    "kbfact": "fact",
    "kbquantity": "quantity",
    "kbthreshold": "threshold",
    "kblab": "lab",
    "kbsource": "source",
}


def _fmt(value: float | None) -> str:
    """A number as written in the tables: no exponent, no trailing zeros."""
    return "" if value is None else f"{value:f}".rstrip("0").rstrip(".")


def _used_by(kb: KnowledgeBase) -> dict[str, list[str]]:
    """Which rules use each fact, quantity and named threshold (derived from the conditions)."""
    used: dict[str, list[str]] = defaultdict(list)
    for rule in kb.rules:
        for atom in atoms(rule.condition):
            names = [atom.name] if isinstance(atom, FactAtom) else [atom.quantity, atom.ref]
            for name in names:
                if name is not None and rule.id not in used[name]:
                    used[name].append(rule.id)
    return used


def _citations(kb: KnowledgeBase) -> dict[str, list[nodes.Node]]:
    """For each source, a link to every entry that cites it."""
    cited: dict[str, list[nodes.Node]] = defaultdict(list)
    for rule in (*kb.rules, kb.screen_incomplete):
        cited[rule.source].append(xref("kbrule", rule.id))
    for threshold in kb.thresholds.values():
        cited[threshold.source].append(xref("kbthreshold", threshold.id))
    for lab in kb.labs.values():
        for source in dict.fromkeys(s for s in (lab.range_source, lab.critical_source) if s):
            cited[source].append(xref("kblab", str(lab.analyte)))
    # Differential weights: add their citations here when kb/differential.toml lands.
    return cited


def _rule_links(rule_ids: Iterable[str]) -> list[nodes.Node]:
    return joined(xref("kbrule", rule_id) for rule_id in rule_ids)


def _named_value(kb: KnowledgeBase, ref: str) -> tuple[str, str, str]:
    """``(role, target, "value unit")`` of a threshold or a lab limit (``potassium.lower``)."""
    analyte, _, limit = ref.partition(".")
    if limit:
        lab = next(lab for lab in kb.labs.values() if lab.analyte == analyte)
        return "kblab", analyte, f"{lab.limits()[limit]:g} {lab.unit}"
    threshold = kb.thresholds[ref]
    return "kbthreshold", ref, f"{threshold.value:g} {threshold.unit}"


def _condition(rule: Rule, kb: KnowledgeBase) -> Blocks:
    paragraphs: list[Para] = [code(rule.when)]
    for atom in atoms(rule.condition):
        if isinstance(atom, CompareAtom) and atom.ref is not None:
            kind, target, value = _named_value(kb, atom.ref)
            paragraphs.append([xref(kind, target, f"@{atom.ref}"), text(f" = {value}")])
    return blocks(*paragraphs)


def rules(kb: KnowledgeBase) -> list[nodes.Node]:
    """The referral rule table, in the order of ``rules.toml``, then ``SCREEN-INCOMPLETE``."""
    rows: list[Row] = [
        (
            f"rule-{rule.id}",
            [
                blocks(strong(rule.id), rule.title),
                [code(str(rule.urgency))],
                _condition(rule, kb),
                rule.rationale,
                [xref("kbsource", rule.source)],
            ],
        )
        for rule in (*kb.rules, kb.screen_incomplete)
    ]
    return [
        table(
            ["Rule", "Urgency", "Condition", "Rationale", "Source"],
            rows,
            widths=[18, 9, 25, 36, 12],
        )
    ]


def thresholds(kb: KnowledgeBase) -> list[nodes.Node]:
    """Every named threshold with its value, unit, source and the rules that use it."""
    used = _used_by(kb)
    rows: list[Row] = [
        (
            f"threshold-{item.id}",
            [
                [strong(item.id)],
                f"{item.value:g} {item.unit}",
                blocks(item.label, item.note) if item.note else item.label,
                [xref("kbsource", item.source)],
                _rule_links(used.get(item.id, [])),
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
    used = _used_by(kb)
    ranges: list[Row] = []
    codes: list[Row] = []
    for lab in kb.labs.values():
        name = str(lab.analyte)
        limit_rules = sorted(
            {rule for key, ids in used.items() if key.startswith(f"{name}.") for rule in ids}
        )
        ranges.append(
            (
                f"lab-{name}",
                [
                    blocks(strong(name), lab.label),
                    lab.unit,
                    _fmt(lab.lower),
                    _fmt(lab.upper),
                    _fmt(lab.deficient),
                    _fmt(lab.critical_low),
                    _fmt(lab.critical_high),
                    joined(
                        xref("kbsource", source)
                        for source in dict.fromkeys(
                            s for s in (lab.range_source, lab.critical_source) if s
                        )
                    ),
                    _rule_links(limit_rules),
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
                    f"{_fmt(lab.plausible[0])}-{_fmt(lab.plausible[1])} {lab.unit}",
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
    used = _used_by(kb)
    fact_rows: list[Row] = [
        (
            f"fact-{fact.id}",
            [
                blocks(strong(fact.id), fact.label),
                blocks(code(fact.kind), fact.group),
                fact.question,
                [code(fact.snomed)] if fact.snomed else "",
                _rule_links(used.get(fact.id, [])),
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
                _rule_links(used.get(quantity.id, [])),
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
    cited = _citations(kb)
    rows: list[Row] = []
    for source in kb.sources.values():
        citation: list[Inline] = [text(f"{source.title}. {source.publisher}, {source.year}.")]
        if source.url:
            citation += [text(" "), link(source.url)]
        if source.expert_estimate:
            citation += [text(" "), strong("Expert estimate: no published source.")]
        rows.append(
            (
                f"source-{source.id}",
                [[strong(source.id)], citation, joined(cited.get(source.id, []))],
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


#: Directive name -> the function that renders the table. The hook for new tables.
TABLES: dict[str, Callable[[KnowledgeBase], list[nodes.Node]]] = {
    "kb-stamp": stamp,
    "kb-rules": rules,
    "kb-thresholds": thresholds,
    "kb-labs": labs,
    "kb-facts": facts,
    "kb-sources": sources,
    # "kb-differential": differential,  <- when kb/differential.toml lands
}


def _kb_files() -> list[Path]:
    """The files a generated table depends on: the tables, and this extension's own code."""
    folder = resources.files("fasciculate").joinpath("kb")
    return [*sorted(Path(str(folder)).glob("*.toml")), *sorted(Path(__file__).parent.glob("*.py"))]


class KnowledgeBaseTable(SphinxDirective):
    """Render one table of the knowledge base; its entries become cross-reference targets."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        """Build the table and register each row id as a std-domain object."""
        for path in _kb_files():
            self.env.note_dependency(str(path))
        result = TABLES[self.name](knowledge_base())
        std = self.env.domains.standard_domain
        prefixes = {prefix: kind for kind, prefix in KINDS.items()}
        for node in result:
            for row in node.findall(nodes.row):
                for row_id in list(row["ids"]):
                    prefix, _, name = row_id.partition("-")
                    anchor = nodes.make_id(row_id)
                    row["ids"] = [anchor]
                    self.state.document.ids[anchor] = row
                    std.note_object(prefixes[prefix], name, anchor, location=row)
        return result


class KnowledgeBaseValue(SphinxRole):
    """``{kbvalue}`persistent_days``` renders "14 d", linked to its entry.

    Prose that needs a number from the knowledge base uses this role, so it never copies one.
    """

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        """Look the value up and link it."""
        for path in _kb_files():
            self.env.note_dependency(str(path))
        try:
            kind, target, value = _named_value(knowledge_base(), self.text)
        except (KeyError, StopIteration):
            message = self.inliner.reporter.error(
                f"{self.text!r} is neither a threshold nor a lab limit (analyte.limit)",
                line=self.lineno,
            )
            return [], [message]
        return [xref(kind, target, value, literal=False)], []


def setup(app: Sphinx) -> None:
    """Register the ``kb-*`` directives, the roles that link to their entries and ``kbvalue``."""
    for kind in KINDS:
        app.add_crossref_type(kind, kind)
    for name in TABLES:
        app.add_directive(name, KnowledgeBaseTable)
    app.add_role("kbvalue", KnowledgeBaseValue())

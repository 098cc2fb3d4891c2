"""Directives that publish the validation on published cases (``tests/clinical``) at build time.

``validation-figures`` shows exact triage, under- and over-triage, top-1 and top-3 beside the issue
13 targets and the symptom-checker anchors; ``validation-coverage`` counts the cases by category and
urgency; ``validation-table`` lists every case (expected, got, why), misses included. The scoring is
``tests/clinical/published_cases.py``, the same code the test runs, so the page and the test cannot
disagree.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

from fasciculate import Category, Urgency
from fasciculate_docs._nodes import Row, blocks, code, link, strong, table, text

CLINICAL = Path(__file__).resolve().parents[3] / "tests" / "clinical"
if str(CLINICAL) not in sys.path:
    sys.path.insert(0, str(CLINICAL))

import published_cases  # noqa: E402 - lives beside the test data, found through the path above

if TYPE_CHECKING:
    from sphinx.application import Sphinx


@cache
def _outcomes() -> tuple[published_cases.Outcome, ...]:
    return published_cases.assess_all(published_cases.load_cases())


def _percent(count: int, total: int) -> str:
    return f"{count / total:.1%} ({count}/{total})" if total else "-"


def figures() -> list[nodes.Node]:
    """Our figures beside the targets, then the anchors from the literature."""
    outcomes = _outcomes()
    summary = published_cases.summarise(outcomes)
    targets = published_cases.TARGETS
    serious = [outcome for outcome in outcomes if outcome.case.serious]
    rows: list[Row] = [
        (None, ["exact triage", _percent(summary.exact, summary.n), f">= {targets['exact']:.0%}"]),
        (None, ["under-triage", _percent(summary.under, summary.n), "-"]),
        (None, ["over-triage", _percent(summary.over, summary.n), "-"]),
        (
            None,
            [
                "serious cases under-triaged",
                _percent(len(summary.serious_under), len(serious)),
                "none",
            ],
        ),
        (None, ["expected category first (top-1)", _percent(summary.top1, summary.n), ">= 80%"]),
        (None, ["expected category in top 3", _percent(summary.top3, summary.n), ">= 95%"]),
    ]
    ours = table(["measure", "fasciculate on this set", "target (issue 13)"], rows)
    anchor_rows: list[Row] = [
        (
            None,
            [
                anchor["measure"],
                strong(anchor["value"]),
                blocks(anchor["figure"], link(anchor["url"], anchor["citation"])),
            ],
        )
        for anchor in published_cases.load_anchors()
    ]
    anchors = table(["measure", "symptom checkers", "source"], anchor_rows, widths=[2, 2, 8])
    under = summary.serious_under
    note = nodes.paragraph()
    note += text("Serious cases under-triaged: ")
    if under:
        for index, case_id in enumerate(under):
            if index:
                note += text(", ")
            note += nodes.reference(case_id, case_id, refid=nodes.make_id(f"case-{case_id}"))
    else:
        note += text("none")
    note += text(".")
    return [ours, note, anchors]


def coverage() -> list[nodes.Node]:
    """How many cases there are for each category and urgency."""
    cases = [outcome.case for outcome in _outcomes()]
    rows: list[Row] = []
    for category in Category:
        counts = [
            sum(
                case.expected_category == category and case.expected_urgency == urgency
                for case in cases
            )
            for urgency in Urgency
        ]
        serious = sum(case.expected_category == category and case.serious for case in cases)
        rows.append(
            (
                None,
                [
                    code(str(category)),
                    *(str(count) for count in counts),
                    str(sum(counts)),
                    str(serious),
                ],
            )
        )
    totals = [sum(case.expected_urgency == urgency for case in cases) for urgency in Urgency]
    rows.append(
        (
            None,
            [
                strong("all"),
                *(str(count) for count in totals),
                str(len(cases)),
                str(sum(case.serious for case in cases)),
            ],
        )
    )
    headers = ["expected category", *(str(urgency) for urgency in Urgency), "cases", "serious"]
    return [table(headers, rows)]


def cases_table() -> list[nodes.Node]:
    """Every case: expected, got and why, with its citation."""
    rows: list[Row] = []
    for outcome in _outcomes():
        case = outcome.case
        source = f"{case.citation} DOI {case.doi}." if case.doi else case.citation
        mark = " (serious)" if case.serious else ""
        rows.append(
            (
                f"case-{case.id}",
                [
                    blocks(strong(case.title + mark), link(case.url, source)),
                    blocks(
                        code(str(case.expected_urgency)),
                        code(str(case.expected_category)),
                        case.reasoning,
                    ),
                    blocks(
                        code(str(outcome.urgency)),
                        f"{outcome.triage} triage; expected category ranked {outcome.rank}",
                    ),
                    blocks(
                        published_cases.why(outcome),
                        "Not expressible yet: " + "; ".join(case.unexpressed)
                        if case.unexpressed
                        else "Every stated fact is expressible.",
                    ),
                ],
            )
        )
    return [table(["case and source", "expected", "got", "why"], rows, widths=[5, 4, 3, 5])]


#: Directive name -> the function that renders it.
DIRECTIVES: dict[str, Callable[[], list[nodes.Node]]] = {
    "validation-figures": figures,
    "validation-coverage": coverage,
    "validation-table": cases_table,
}


class ValidationDirective(SphinxDirective):
    """Render one part of the validation; rebuild when a case or the scorer changes."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        """Assess the cases (once per build) and render the part named by the directive."""
        for path in (*sorted((CLINICAL / "cases").glob("*.toml")), *CLINICAL.glob("*.py")):
            self.env.note_dependency(str(path))
        self.env.note_dependency(str(published_cases.ANCHORS))
        result = DIRECTIVES[self.name]()
        for node in result:
            for row in node.findall(nodes.row):
                for row_id in row["ids"]:
                    self.state.document.ids[row_id] = row
        return result


def setup(app: Sphinx) -> None:
    """Register the ``validation-*`` directives."""
    for name in DIRECTIVES:
        app.add_directive(name, ValidationDirective)

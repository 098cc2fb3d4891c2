"""Small builders of docutils nodes, so that the directives read like the tables they render."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from docutils import nodes
from sphinx import addnodes

Cell = nodes.Node | str | Sequence[nodes.Node | str]


def text(value: str) -> nodes.Text:
    """Plain text."""
    return nodes.Text(value)


def code(value: str) -> nodes.literal:
    """Inline code."""
    return nodes.literal(value, value)


def strong(value: str) -> nodes.strong:
    """Bold text."""
    return nodes.strong(value, value)


def xref(kind: str, target: str, shown: str | None = None, *, literal: bool = True) -> nodes.Node:
    """A cross-reference to a knowledge-base entry (checked by ``sphinx-build -n``)."""
    label = shown or target
    inner: nodes.Node = nodes.literal(label, label) if literal else nodes.inline(label, label)
    ref = addnodes.pending_xref(
        "", inner, refdomain="std", reftype=kind, reftarget=target, refexplicit=True
    )
    ref["refwarn"] = True
    return ref


def link(url: str, shown: str | None = None) -> nodes.reference:
    """An external link (rendered, never fetched)."""
    return nodes.reference(shown or url, shown or url, refuri=url)


def joined(items: Iterable[nodes.Node], separator: str = ", ") -> list[nodes.Node]:
    """*items* with *separator* between them."""
    out: list[nodes.Node] = []
    for item in items:
        if out:
            out.append(text(separator))
        out.append(item)
    return out


def para(cell: Cell) -> nodes.paragraph:
    """A paragraph holding *cell* (a node, a string, or a sequence of them)."""
    parts = [cell] if isinstance(cell, nodes.Node | str) else list(cell)
    paragraph = nodes.paragraph()
    for part in parts:
        paragraph += text(part) if isinstance(part, str) else part
    return paragraph


def table(
    headers: Sequence[str],
    rows: Iterable[tuple[str | None, Sequence[Cell]]],
    *,
    widths: Sequence[int] | None = None,
    classes: Sequence[str] = (),
) -> nodes.table:
    """A table; each row is ``(target id or None, cells)``, a cell holding one or more paragraphs.

    A cell that is a list of lists renders one paragraph per inner list.
    """
    tgroup = nodes.tgroup(cols=len(headers))
    for width in widths or [1] * len(headers):
        tgroup += nodes.colspec(colwidth=width)
    head = nodes.row()
    for header in headers:
        head += nodes.entry("", para(header))
    tgroup += nodes.thead("", head)
    body = nodes.tbody()
    for row_id, cells in rows:
        row = nodes.row()
        if row_id:
            row["ids"].append(row_id)
        for cell in cells:
            entry = nodes.entry()
            if isinstance(cell, list) and cell and all(isinstance(c, list) for c in cell):
                for block in cell:
                    entry += para(block)
            else:
                entry += para(cell)
            row += entry
        body += row
    tgroup += body
    return nodes.table("", tgroup, classes=["fasciculate-kb", *classes])

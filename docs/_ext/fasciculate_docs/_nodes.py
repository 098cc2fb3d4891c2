"""Small builders of docutils nodes, so that the directives read like the tables they render."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from docutils import nodes
from sphinx import addnodes

#: Inline content: a node, or a string to show as text.
Inline = nodes.Node | str
#: One paragraph: inline content, or a sequence of it.
Para = Inline | Sequence[Inline]


class Blocks(tuple[Para, ...]):
    """A table cell of several paragraphs."""

    __slots__ = ()


#: A table cell: one paragraph, or several.
Cell = Para | Blocks
#: A table row: the id that makes it a cross-reference target (or ``None``), and its cells.
Row = tuple[str | None, Sequence[Cell]]


def blocks(*paragraphs: Para) -> Blocks:
    """A cell of several paragraphs."""
    return Blocks(paragraphs)


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


def para(content: Para) -> nodes.paragraph:
    """A paragraph holding *content* (a node, a string, or a sequence of them)."""
    parts = [content] if isinstance(content, nodes.Node | str) else list(content)
    paragraph = nodes.paragraph()
    for part in parts:
        paragraph += text(part) if isinstance(part, str) else part
    return paragraph


def table(
    headers: Sequence[str],
    rows: Iterable[Row],
    *,
    widths: Sequence[int] | None = None,
    classes: Sequence[str] = (),
) -> nodes.table:
    """A table of *rows*, each cell one paragraph or several (:class:`Blocks`)."""
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
            for paragraph in cell if isinstance(cell, Blocks) else (cell,):
                entry += para(paragraph)
            row += entry
        body += row
    tgroup += body
    return nodes.table("", tgroup, classes=["fasciculate-kb", *classes])

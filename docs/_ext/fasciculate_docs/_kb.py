"""Directives that render the knowledge base from ``fasciculate._kb.knowledge_base()``.

Each table is one directive (``kb-rules``, ``kb-differential``, ...) listed in :data:`TABLES`, and
each row is a cross-reference target for the roles in :data:`KINDS` (``{kbrule}`CES-SADDLE```).
The ``kbvalue`` role prints a threshold or a laboratory limit with its unit, so prose never copies
a number. To document a new table: write a function ``KnowledgeBase -> list[Node]``, add it to
:data:`TABLES` and :data:`COVERS` (the build fails while a table is undocumented), give its rows
ids ``<prefix>-<name>`` with a prefix from :data:`KINDS`, and count its sources in
``_kbcommon.cited_by``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs
from docutils import nodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective, SphinxRole

from fasciculate._kb import KnowledgeBase, knowledge_base
from fasciculate_docs import _kb_differential, _kb_referral
from fasciculate_docs._kbcommon import dependencies, named_value
from fasciculate_docs._nodes import xref

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

logger = logging.getLogger(__name__)

#: Cross-reference roles (std domain), one per kind of entry, and their row-id prefixes.
KINDS = {
    "kbrule": "rule",
    "kbderivation": "derivation",
    "kbfact": "fact",
    "kbquantity": "quantity",
    "kbthreshold": "threshold",
    "kblab": "lab",
    "kbsource": "source",
    "kbcategory": "category",
    "kbfeature": "feature",
    "kbrls": "rls",
    "kbrootlevel": "rootlevel",
    "kbadvice": "advice",
    "kbindication": "indication",
}

#: Directive name -> the function that renders the table.
TABLES: dict[str, Callable[[KnowledgeBase], list[nodes.Node]]] = {
    "kb-stamp": _kb_referral.stamp,
    "kb-rules": _kb_referral.rules,
    "kb-derivations": _kb_referral.derivations,
    "kb-indications": _kb_referral.indications,
    "kb-thresholds": _kb_referral.thresholds,
    "kb-labs": _kb_referral.labs,
    "kb-facts": _kb_referral.facts,
    "kb-sources": _kb_referral.sources,
    "kb-differential": _kb_differential.differential,
    "kb-restless-legs": _kb_differential.restless_legs,
    "kb-root-levels": _kb_differential.root_levels,
    "kb-advice": _kb_differential.advice,
    "kb-medications": _kb_differential.medications,
}

#: Which fields of ``KnowledgeBase`` each directive renders. The build fails if a field is in no
#: directive, so a new table cannot go undocumented.
COVERS = {
    "kb-stamp": ("version", "sha256"),
    "kb-rules": ("rules", "screen_incomplete"),
    "kb-derivations": ("derivations",),
    "kb-indications": ("core", "indications"),
    "kb-thresholds": ("thresholds",),
    "kb-labs": ("labs",),
    "kb-facts": ("facts", "quantities"),
    "kb-sources": ("sources",),
    "kb-differential": ("categories", "conditions", "features"),
    "kb-restless-legs": ("rls_criteria",),
    "kb-root-levels": ("root_levels",),
    "kb-advice": ("advice",),
    "kb-medications": ("medication_names",),
}


class KnowledgeBaseTable(SphinxDirective):
    """Render one table of the knowledge base; its entries become cross-reference targets."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        """Build the table and register each row id as a std-domain object."""
        for path in dependencies():
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
        for path in dependencies():
            self.env.note_dependency(str(path))
        try:
            kind, target, value = named_value(knowledge_base(), self.text)
        except (KeyError, StopIteration):
            message = self.inliner.reporter.error(
                f"{self.text!r} is neither a threshold nor a lab limit (analyte.limit)",
                line=self.lineno,
            )
            return [], [message]
        return [xref(kind, target, value, literal=False)], []


def check_coverage(app: Sphinx, env: BuildEnvironment) -> None:  # noqa: ARG001 - event signature
    """Warn (an error under ``-W``) for a knowledge-base table that no directive renders."""
    covered = {name for names in COVERS.values() for name in names}
    for field in attrs.fields(KnowledgeBase):
        if field.name not in covered:
            logger.warning("KnowledgeBase.%s is rendered by no kb-* directive", field.name)


def setup(app: Sphinx) -> None:
    """Register the ``kb-*`` directives, the roles that link to their entries and ``kbvalue``."""
    for kind in KINDS:
        app.add_crossref_type(kind, kind)
    for name in TABLES:
        app.add_directive(name, KnowledgeBaseTable)
    app.add_role("kbvalue", KnowledgeBaseValue())
    app.connect("env-check-consistency", check_coverage)

"""What the knowledge-base tables share: number formatting, named values, and the back-links.

"Used by" and "cited by" columns are derived here from the tables themselves (the atoms of every
condition, the source of every entry), so they can never disagree with the data.
"""

from __future__ import annotations

import tomllib
from collections import defaultdict
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from fasciculate._conditions import CompareAtom, FactAtom, atoms
from fasciculate_docs._nodes import Blocks, Para, blocks, code, joined, text, xref

if TYPE_CHECKING:
    from docutils import nodes

    from fasciculate._conditions import Condition
    from fasciculate._kb import KnowledgeBase


def fmt(value: float | None) -> str:
    """A number as written in the tables: no exponent, no trailing zeros."""
    return "" if value is None else f"{value:f}".rstrip("0").rstrip(".")


def kb_folder() -> Path:
    """The packaged ``kb/`` folder."""
    return Path(str(resources.files("fasciculate").joinpath("kb")))


def dependencies() -> list[Path]:
    """The files a generated table depends on: the tables, and this extension's own code."""
    return [*sorted(kb_folder().glob("*.toml")), *sorted(Path(__file__).parent.glob("*.py"))]


def priors_source() -> str:
    """The source of the differential's priors (a table-level key the loader checks, not keeps)."""
    with (kb_folder() / "differential.toml").open("rb") as handle:
        return str(tomllib.load(handle)["priors_source"])


def named_value(kb: KnowledgeBase, ref: str) -> tuple[str, str, str]:
    """``(role, target, "value unit")`` of a threshold or a lab limit (``potassium.lower``)."""
    analyte, _, limit = ref.partition(".")
    if limit:
        lab = next(lab for lab in kb.labs.values() if lab.analyte == analyte)
        return "kblab", analyte, f"{fmt(lab.limits()[limit])} {lab.unit}"
    threshold = kb.thresholds[ref]
    return "kbthreshold", ref, f"{fmt(threshold.value)} {threshold.unit}"


def condition(written: str, parsed: Condition, kb: KnowledgeBase) -> Blocks:
    """A condition as written, then each named value it uses with that value."""
    paragraphs: list[Para] = [code(written)]
    for atom in dict.fromkeys(atoms(parsed)):
        if isinstance(atom, CompareAtom) and atom.ref is not None:
            kind, target, value = named_value(kb, atom.ref)
            paragraphs.append([xref(kind, target, f"@{atom.ref}"), text(f" = {value}")])
    return blocks(*paragraphs)


def _users(kb: KnowledgeBase) -> Iterable[tuple[str, str, Condition]]:
    """Every entry whose condition uses facts: ``(role, target, condition)``."""
    for rule in kb.rules:
        yield "kbrule", rule.id, rule.condition
    for derivation in kb.derivations:
        yield "kbderivation", derivation.id, derivation.when
    for feature in kb.features:
        yield "kbfeature", feature.id, feature.condition
    for criterion in kb.rls_criteria:
        yield "kbrls", str(criterion.number), criterion.condition
    for level in kb.root_levels:
        for part in level.conditions:
            yield "kbrootlevel", level.level, part
    for indication in kb.indications:
        yield "kbindication", indication.id, indication.condition


Entry = tuple[str, str]  # (role, target): a cross-reference to one knowledge-base entry


def links(entries: Iterable[Entry]) -> list[nodes.Node]:
    """Cross-references to *entries*, each once, comma-separated."""
    return joined(xref(role, target) for role, target in dict.fromkeys(entries))


def used_by(kb: KnowledgeBase) -> dict[str, list[Entry]]:
    """Every rule, feature or criterion using each fact, quantity and named threshold."""
    used: dict[str, dict[Entry, None]] = defaultdict(dict)
    for role, target, parsed in _users(kb):
        for atom in atoms(parsed):
            names = [atom.name] if isinstance(atom, FactAtom) else [atom.quantity, atom.ref]
            for name in names:
                if name is not None:
                    used[name][role, target] = None
    return {name: list(users) for name, users in used.items()}


def cited_by(kb: KnowledgeBase) -> dict[str, list[Entry]]:
    """For each source, every entry that cites it."""
    cited: dict[str, list[Entry]] = defaultdict(list)
    for rule in (*kb.rules, kb.screen_incomplete):
        cited[rule.source].append(("kbrule", rule.id))
    for derivation in kb.derivations:
        cited[derivation.source].append(("kbderivation", derivation.id))
    for threshold in kb.thresholds.values():
        cited[threshold.source].append(("kbthreshold", threshold.id))
    for lab in kb.labs.values():
        for source in dict.fromkeys(s for s in (lab.range_source, lab.critical_source) if s):
            cited[source].append(("kblab", str(lab.analyte)))
    cited[priors_source()] += [("kbcategory", str(category)) for category in kb.categories]
    for feature in kb.features:
        cited[feature.source].append(("kbfeature", feature.id))
    for level in kb.root_levels:
        cited[level.source].append(("kbrootlevel", level.level))
    for advice in kb.advice.values():
        cited[advice.source].append(("kbadvice", advice.id))
    cited[kb.core.source].append(("kbindication", "core"))
    for indication in kb.indications:
        cited[indication.source].append(("kbindication", indication.id))
    return cited

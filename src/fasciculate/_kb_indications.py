"""Load ``kb/indications.toml``: which questions every presentation is asked, and which on cue.

Checked when the knowledge base loads: ids unique and ``IND-``-prefixed, every question a fact or
quantity, every ``when`` negation-free and in the rules' condition language, every source cited,
and every question the referral can ask (every fact or quantity a rule reads that stays unknown
until answered) either core or listed by some indication.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from fasciculate._conditions import CompareAtom, FactAtom, Quantity, atoms, parse
from fasciculate._errors import KnowledgeBaseError
from fasciculate._kb_differential import cited, unique
from fasciculate._kb_types import CoreQuestions, FactInfo, Indication, QuantityInfo, Rule, Source

_NEGATION = re.compile(r"[!~]|\bnot\b")
_FILE = "indications.toml"


def askable(
    rules: tuple[Rule, ...], facts: Mapping[str, FactInfo], quantities: Mapping[str, QuantityInfo]
) -> tuple[str, ...]:
    """Every question the referral can ask: what the rules read that is unknown until answered."""
    found: dict[str, None] = {}
    for rule in rules:
        for atom in atoms(rule.condition):
            if isinstance(atom, FactAtom) and facts[atom.name].when_missing == "ask":
                found.setdefault(atom.name, None)
            elif isinstance(atom, CompareAtom) and quantities[atom.quantity].when_missing == "ask":
                found.setdefault(atom.quantity, None)
    return tuple(found)


def indication_tables(  # noqa: PLR0913 - the tables an indication is checked against
    data: Mapping[str, Any],
    *,
    facts: Mapping[str, FactInfo],
    quantities: Mapping[str, QuantityInfo],
    grammar: Mapping[str, Quantity],
    named: Mapping[str, float],
    sources: Mapping[str, Source],
    rules: tuple[Rule, ...],
) -> tuple[CoreQuestions, tuple[Indication, ...]]:
    """The core questions and the indications of *data*, checked against the other tables.

    Raises:
        KnowledgeBaseError: Naming the entry and what to fix.
    """
    known = {*facts, *quantities}
    core_row = data.get("core")
    if not isinstance(core_row, dict):
        raise KnowledgeBaseError(f"{_FILE} needs a [core] table with questions, source, rationale")
    core = CoreQuestions(
        questions=tuple(core_row["questions"]),
        source=core_row["source"],
        rationale=core_row["rationale"],
    )
    _questions_known(f"{_FILE} [core]", core.questions, known)
    cited(f"{_FILE} [core]", core.source, sources)

    rows = data.get("indication", [])
    unique("indication", [row.get("id", "?") for row in rows])
    indications = tuple(
        _indication(row, known=known, facts=facts, grammar=grammar, named=named, sources=sources)
        for row in rows
    )
    covered = {*core.questions, *(q for item in indications for q in item.questions)}
    uncovered = [name for name in askable(rules, facts, quantities) if name not in covered]
    if uncovered:
        raise KnowledgeBaseError(
            f"{_FILE}: questions the referral can ask are neither core nor indicated: "
            f"{', '.join(uncovered)}; add each to [core] questions or to an indication's questions"
        )
    return core, indications


def _indication(  # noqa: PLR0913 - the tables an indication is checked against
    row: Mapping[str, Any],
    *,
    known: set[str],
    facts: Mapping[str, FactInfo],
    grammar: Mapping[str, Quantity],
    named: Mapping[str, float],
    sources: Mapping[str, Source],
) -> Indication:
    ident = row.get("id", "?")
    where = f"indication {ident} in {_FILE}"
    if not isinstance(ident, str) or not ident.startswith("IND-"):
        raise KnowledgeBaseError(f"{where}: the id must start with 'IND-'")
    when = row["when"]
    if _NEGATION.search(when):
        raise KnowledgeBaseError(
            f"{where}: `when` = {when!r} must be negation-free (only facts, comparisons in the "
            "worse direction, '&', '|' and brackets), so a more present answer never takes a "
            "question away"
        )
    try:
        condition = parse(when, facts=frozenset(facts), quantities=grammar, thresholds=named)
    except KnowledgeBaseError as error:
        raise KnowledgeBaseError(f"{where}: {error}") from error
    questions = tuple(row["questions"])
    if not questions:
        raise KnowledgeBaseError(f"{where}: `questions` is empty; list the questions it opens")
    _questions_known(where, questions, known)
    cited(where, row["source"], sources)
    return Indication(
        id=ident,
        title=row["title"],
        questions=questions,
        when=when,
        condition=condition,
        rationale=row["rationale"],
        source=row["source"],
    )


def _questions_known(where: str, questions: tuple[str, ...], known: set[str]) -> None:
    unknown = [name for name in questions if name not in known]
    if unknown:
        raise KnowledgeBaseError(
            f"{where} lists unknown questions {', '.join(map(repr, unknown))}: use fact ids of "
            "facts.toml or quantity ids"
        )
    unique(f"question (in {where})", list(questions))

"""Load the packaged knowledge base (``fasciculate/kb/*.toml``) once into frozen, typed tables.

The tables are data, not code: the loader checks their integrity (unique ids, every entry cited,
every name a rule uses defined, every comparison in the clinically worse direction) and fingerprints
their exact bytes with SHA-256 so that every assessment can name the knowledge base it came from.
"""

from __future__ import annotations

import functools
import hashlib
import tomllib
from collections.abc import Mapping
from importlib import resources
from typing import Any, Literal

import attrs

from fasciculate._conditions import Any_, Atom, Condition, Quantity, atoms, parse
from fasciculate._errors import KnowledgeBaseError
from fasciculate._vocab import Analyte, Urgency

_FILES = ("sources.toml", "thresholds.toml", "labs.toml", "facts.toml", "rules.toml")


@attrs.frozen
class Source:
    """A citable source."""

    id: str
    title: str
    publisher: str
    year: int
    url: str | None = None
    expert_estimate: bool = False


@attrs.frozen
class Threshold:
    """A named numeric threshold with its source."""

    id: str
    value: float
    unit: str
    label: str
    source: str
    note: str | None = None


@attrs.frozen
class Lab:
    """Reference range, critical limits and accepted units of one analyte (canonical unit)."""

    analyte: Analyte
    label: str
    unit: str
    units: Mapping[str, float]
    plausible: tuple[float, float]
    range_source: str
    loinc: tuple[str, ...]
    lower: float | None = None
    upper: float | None = None
    deficient: float | None = None
    critical_low: float | None = None
    critical_high: float | None = None
    critical_source: str | None = None
    note: str | None = None

    def limits(self) -> dict[str, float]:
        """The limits that are set, by name (``lower``, ``critical_low``, ...)."""
        names = ("lower", "upper", "deficient", "critical_low", "critical_high")
        return {name: value for name in names if (value := getattr(self, name)) is not None}


@attrs.frozen
class FactInfo:
    """A yes/no fact the rules and the differential can use."""

    id: str
    kind: Literal["finding", "examination", "derived"]
    group: str
    label: str
    question: str
    snomed: str | None = None


@attrs.frozen
class QuantityInfo:
    """A number the rules compare against thresholds."""

    id: str
    label: str
    unit: str
    worse: Literal["higher", "lower"]
    when_missing: Literal["ask", "not_measured"]
    question: str
    analyte: Analyte | None = None


@attrs.frozen
class Rule:
    """One row of the referral rule table."""

    id: str
    urgency: Urgency
    when: str
    condition: Condition
    title: str
    rationale: str
    source: str


@attrs.frozen
class KnowledgeBase:
    """Every table of the knowledge base, validated."""

    version: str
    sha256: str
    sources: Mapping[str, Source]
    thresholds: Mapping[str, Threshold]
    labs: Mapping[Analyte, Lab]
    facts: Mapping[str, FactInfo]
    quantities: Mapping[str, QuantityInfo]
    rules: tuple[Rule, ...]
    screen_incomplete: Rule

    def atoms(self) -> tuple[Atom, ...]:
        """Every distinct atom the rule table uses, in a stable order."""
        seen: dict[Atom, None] = {}
        for rule in self.rules:
            for atom in atoms(rule.condition):
                seen.setdefault(atom, None)
        return tuple(seen)


def _read(name: str) -> bytes:
    return resources.files("fasciculate").joinpath("kb", name).read_bytes()


def _unique(kind: str, ids: list[str]) -> None:
    duplicates = sorted({item for item in ids if ids.count(item) > 1})
    if duplicates:
        raise KnowledgeBaseError(f"duplicate {kind} ids: {', '.join(duplicates)}")


def _cited(where: str, source: str | None, sources: Mapping[str, Source]) -> None:
    if source is not None and source not in sources:
        raise KnowledgeBaseError(f"{where} cites unknown source {source!r}")


@functools.cache
def knowledge_base() -> KnowledgeBase:
    """The packaged knowledge base, loaded and checked once per process.

    Raises:
        KnowledgeBaseError: If any table is inconsistent.
    """
    raw = {name: _read(name) for name in _FILES}
    digest = hashlib.sha256()
    for name in _FILES:
        digest.update(name.encode() + b"\0" + raw[name] + b"\0")
    data: dict[str, dict[str, Any]] = {
        name: tomllib.loads(content.decode("utf-8")) for name, content in raw.items()
    }
    try:
        return _build(data, digest.hexdigest())
    except (KeyError, TypeError, ValueError) as error:
        raise KnowledgeBaseError(f"malformed knowledge base: {error!r}") from error


def _labs(rows: list[dict[str, Any]]) -> dict[Analyte, Lab]:
    labs: dict[Analyte, Lab] = {}
    for row in rows:
        lab = Lab(
            **{
                **row,
                "analyte": Analyte(row["analyte"]),
                "plausible": tuple(row["plausible"]),
                "loinc": tuple(row["loinc"]),
            }
        )
        labs[lab.analyte] = lab
    if set(labs) != set(Analyte):
        raise KnowledgeBaseError(f"labs.toml must cover every analyte: {sorted(set(Analyte))}")
    return labs


def _build(data: dict[str, dict[str, Any]], sha256: str) -> KnowledgeBase:
    sources = {row["id"]: Source(**row) for row in data["sources.toml"]["source"]}
    _unique("source", [row["id"] for row in data["sources.toml"]["source"]])

    threshold_rows = data["thresholds.toml"]["threshold"]
    _unique("threshold", [row["id"] for row in threshold_rows])
    thresholds = {row["id"]: Threshold(**row) for row in threshold_rows}

    labs = _labs(data["labs.toml"]["lab"])
    facts_data = data["facts.toml"]
    _unique("fact", [row["id"] for row in facts_data["fact"]])
    facts = {row["id"]: FactInfo(**row) for row in facts_data["fact"]}
    quantities = {row["id"]: QuantityInfo(**row) for row in facts_data["quantity"]}
    for lab in labs.values():
        for end, worse in (("lowest", "lower"), ("highest", "higher")):
            quantity = QuantityInfo(
                id=f"{lab.analyte}_{end}",
                label=f"{lab.label} ({end} result)",
                unit=lab.unit,
                worse=worse,  # type: ignore[arg-type]
                when_missing="not_measured",
                question=f"{lab.label}: no result",
                analyte=lab.analyte,
            )
            quantities[quantity.id] = quantity
    _unique("fact or quantity", [*facts, *quantities])

    named: dict[str, float] = {key: row.value for key, row in thresholds.items()}
    for lab in labs.values():
        named.update({f"{lab.analyte}.{key}": value for key, value in lab.limits().items()})

    rules_data = data["rules.toml"]
    _unique("rule", [row["id"] for row in rules_data["rule"]])
    grammar = {key: Quantity(key, q.worse) for key, q in quantities.items()}
    rules = tuple(
        Rule(
            id=row["id"],
            urgency=Urgency(row["urgency"]),
            when=row["when"],
            condition=parse(
                row["when"], facts=frozenset(facts), quantities=grammar, thresholds=named
            ),
            title=row["title"],
            rationale=row["rationale"],
            source=row["source"],
        )
        for row in rules_data["rule"]
    )

    _check_citations(sources, thresholds, labs, rules)
    open_row = rules_data["screen_incomplete"]
    screen_incomplete = Rule(
        id=open_row["id"],
        urgency=Urgency(open_row["urgency"]),
        when="any rule above is unknown and could raise urgency",
        condition=Any_(()),
        title=open_row["title"],
        rationale=open_row["rationale"],
        source=open_row["source"],
    )
    _cited(f"rule {screen_incomplete.id}", screen_incomplete.source, sources)
    _unique("rule", [*(rule.id for rule in rules), screen_incomplete.id])

    return KnowledgeBase(
        version=rules_data["version"],
        sha256=sha256,
        sources=sources,
        thresholds=thresholds,
        labs=labs,
        facts=facts,
        quantities=quantities,
        rules=rules,
        screen_incomplete=screen_incomplete,
    )


def _check_citations(
    sources: Mapping[str, Source],
    thresholds: Mapping[str, Threshold],
    labs: Mapping[Analyte, Lab],
    rules: tuple[Rule, ...],
) -> None:
    for threshold in thresholds.values():
        _cited(f"threshold {threshold.id}", threshold.source, sources)
    for lab in labs.values():
        _cited(f"lab {lab.analyte}", lab.range_source, sources)
        _cited(f"lab {lab.analyte}", lab.critical_source, sources)
        if (lab.critical_low is not None or lab.critical_high is not None) and (
            lab.critical_source is None
        ):
            raise KnowledgeBaseError(f"lab {lab.analyte} has critical limits without a source")
    for rule in rules:
        _cited(f"rule {rule.id}", rule.source, sources)
        if rule.urgency is Urgency.SELF_CARE:
            raise KnowledgeBaseError(f"rule {rule.id}: a rule must raise urgency above self_care")

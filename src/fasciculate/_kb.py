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
from types import MappingProxyType
from typing import Any

from fasciculate._conditions import Any_, CompareAtom, FactAtom, Quantity, parse
from fasciculate._errors import KnowledgeBaseError
from fasciculate._kb_differential import cited, differential_tables, rule_category, unique
from fasciculate._kb_indications import indication_tables
from fasciculate._kb_names import check_named
from fasciculate._kb_types import (
    AdviceInfo,
    CategoryInfo,
    ConditionInfo,
    CoreQuestions,
    Derivation,
    FactInfo,
    Feature,
    Indication,
    KnowledgeBase,
    Lab,
    QuantityInfo,
    RlsCriterionInfo,
    RootLevelInfo,
    Rule,
    Source,
    Threshold,
)
from fasciculate._vocab import REPORTED_ENDS, Analyte, MedicationClass, Region, Urgency

__all__ = [
    "AdviceInfo",
    "CategoryInfo",
    "ConditionInfo",
    "CoreQuestions",
    "Derivation",
    "FactInfo",
    "Feature",
    "Indication",
    "KnowledgeBase",
    "Lab",
    "QuantityInfo",
    "RlsCriterionInfo",
    "RootLevelInfo",
    "Rule",
    "Source",
    "Threshold",
    "knowledge_base",
]

_FILES = (
    "sources.toml",
    "thresholds.toml",
    "labs.toml",
    "facts.toml",
    "rules.toml",
    "derivations.toml",
    "differential.toml",
    "advice.toml",
    "medications.toml",
    "indications.toml",
)


def _read(name: str) -> bytes:
    return resources.files("fasciculate").joinpath("kb", name).read_bytes()


@functools.cache
def knowledge_base() -> KnowledgeBase:
    """The knowledge base every assessment uses: its tables, read-only, with version and SHA-256.

    Loaded from the package's TOML tables and checked once per process, by the first call (not by
    ``import fasciculate``); every call returns the same frozen object, whose mappings cannot be
    changed. The version and fingerprint are those every
    :class:`~fasciculate.Assessment` carries in ``knowledge_base``.

    >>> kb = fasciculate.knowledge_base()
    >>> kb.facts["weakness"].question
    'Does the patient report weakness of the affected muscles?'
    >>> [rule.id for rule in kb.rules if rule.urgency == "emergency"][:2]
    ['CES-SADDLE', 'CES-BLADDER']
    >>> len(kb.sha256)
    64

    Raises:
        KnowledgeBaseError: If any table is inconsistent.
    """
    raw = {name: _read(name) for name in _FILES}
    digest = hashlib.sha256()
    for name in _FILES:
        digest.update(name.encode() + b"\0" + raw[name] + b"\0")
    data: dict[str, dict[str, Any]] = {}
    for name, content in raw.items():
        try:
            data[name] = tomllib.loads(content.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise KnowledgeBaseError(f"kb/{name} is not valid UTF-8 TOML: {error}") from error
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
                "units": MappingProxyType(dict(row["units"])),
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
    unique("source", [row["id"] for row in data["sources.toml"]["source"]])

    threshold_rows = data["thresholds.toml"]["threshold"]
    unique("threshold", [row["id"] for row in threshold_rows])
    thresholds = {row["id"]: Threshold(**row) for row in threshold_rows}

    labs = _labs(data["labs.toml"]["lab"])
    facts_data = data["facts.toml"]
    unique("fact", [row["id"] for row in facts_data["fact"]])
    facts = {row["id"]: FactInfo(**row) for row in facts_data["fact"]}
    facts.update({fact.id: fact for fact in _generated_facts(labs)})
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
    unique("fact or quantity", [*facts, *quantities])

    named: dict[str, float] = {key: row.value for key, row in thresholds.items()}
    for lab in labs.values():
        named.update({f"{lab.analyte}.{key}": value for key, value in lab.limits().items()})

    rules_data = data["rules.toml"]
    unique("rule", [row["id"] for row in rules_data["rule"]])
    grammar = {key: Quantity(key, q.worse) for key, q in quantities.items()}
    differential = differential_tables(data, frozenset(facts), grammar, named, sources)
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
            **rule_category(row, differential["conditions"]),
        )
        for row in rules_data["rule"]
    )

    _check_citations(sources, thresholds, labs, rules)
    derivations = _derivations(
        data["derivations.toml"]["derivation"], facts, grammar, named, sources
    )
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
    cited(f"rule {screen_incomplete.id}", screen_incomplete.source, sources)
    unique("rule", [*(rule.id for rule in rules), screen_incomplete.id])
    core, indications = indication_tables(
        data["indications.toml"],
        facts=facts,
        quantities=quantities,
        grammar=grammar,
        named=named,
        sources=sources,
        rules=rules,
    )

    kb = KnowledgeBase(
        version=rules_data["version"],
        sha256=sha256,
        sources=MappingProxyType(sources),
        thresholds=MappingProxyType(thresholds),
        labs=MappingProxyType(labs),
        facts=MappingProxyType(facts),
        quantities=MappingProxyType(quantities),
        rules=rules,
        screen_incomplete=screen_incomplete,
        derivations=derivations,
        core=core,
        indications=indications,
        **differential,
    )
    check_named(kb)  # the ids Python names must still be there
    return kb


def _check_citations(
    sources: Mapping[str, Source],
    thresholds: Mapping[str, Threshold],
    labs: Mapping[Analyte, Lab],
    rules: tuple[Rule, ...],
) -> None:
    for threshold in thresholds.values():
        cited(f"threshold {threshold.id}", threshold.source, sources)
    for lab in labs.values():
        cited(f"lab {lab.analyte}", lab.range_source, sources)
        cited(f"lab {lab.analyte}", lab.critical_source, sources)
        cited(f"lab {lab.analyte}", lab.critical_high_source, sources)
        if (lab.critical_low is not None or lab.critical_high is not None) and (
            lab.critical_source is None
        ):
            raise KnowledgeBaseError(f"lab {lab.analyte} has critical limits without a source")
    for rule in rules:
        cited(f"rule {rule.id}", rule.source, sources)
        if rule.urgency is Urgency.SELF_CARE:
            raise KnowledgeBaseError(f"rule {rule.id}: a rule must raise urgency above self_care")


def _derivations(
    rows: list[dict[str, Any]],
    facts: Mapping[str, FactInfo],
    grammar: Mapping[str, Quantity],
    named: Mapping[str, float],
    sources: Mapping[str, Source],
) -> tuple[Derivation, ...]:
    """The implications between facts, checked: one atom each, cited, applicable in one pass."""
    unique("derivation", [row["id"] for row in rows])
    derivations: list[Derivation] = []
    for row in rows:
        where = f"derivation {row['id']}"
        when = parse(row["when"], facts=frozenset(facts), quantities=grammar, thresholds=named)
        if not isinstance(when, FactAtom | CompareAtom):
            raise KnowledgeBaseError(f"{where}: `when` must be one fact or one comparison")
        if row["sets"] not in facts:
            raise KnowledgeBaseError(f"{where} sets unknown fact {row['sets']!r}")
        cited(where, row["source"], sources)
        derivations.append(Derivation(when=when, **{k: v for k, v in row.items() if k != "when"}))
    for position, derivation in enumerate(derivations):
        later = {other.sets for other in derivations[position:]}
        if isinstance(derivation.when, FactAtom) and derivation.when.name in later:
            raise KnowledgeBaseError(
                f"derivation {derivation.id} reads {derivation.when.name!r}, which this or a "
                "later row sets: put the row that sets it first"
            )
    return tuple(derivations)


def _generated_facts(labs: Mapping[Analyte, Lab]) -> list[FactInfo]:
    """Facts derived from the structured parts of a presentation, one per vocabulary member."""
    generated = [
        FactInfo(
            id=f"region_{region}",
            kind="derived",
            group="twitching",
            label=f"Twitching in the {region.replace('_', ' ')}",
            question="Where is the twitching (which body regions)?",
        )
        for region in Region
    ]
    generated += [
        FactInfo("side_both", "derived", "twitching", "Both sides", "Which side is affected?"),
        FactInfo("side_one", "derived", "twitching", "One side only", "Which side is affected?"),
        FactInfo("stress_high", "derived", "exposures", "High stress", "How high is stress?"),
    ]
    generated += [
        FactInfo(
            id=f"med_{drug_class}",
            kind="derived",
            group="medications",
            label=f"Medication of class {drug_class}",
            question="Which medications does the patient take?",
        )
        for drug_class in MedicationClass
    ]
    words = {
        "low": "below its range",
        "critically_low": "critically low",
        "high": "above its range",
        "critically_high": "critically high",
    }
    generated += [
        FactInfo(
            id=f"{lab.analyte}_reported_{end}",
            kind="derived",
            group="lab_report",
            label=f"{lab.label} reported {words[end]} (interpretation, no value)",
            question=f"{lab.label}: no interpretation reported",
            when_missing="not_measured",
        )
        for lab in labs.values()
        for end in REPORTED_ENDS
    ]
    return generated

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
from typing import Any

from fasciculate._conditions import Any_, CompareAtom, Condition, FactAtom, Quantity, parse
from fasciculate._errors import KnowledgeBaseError
from fasciculate._kb_types import (
    AdviceInfo,
    CategoryInfo,
    Derivation,
    FactInfo,
    Feature,
    KnowledgeBase,
    Lab,
    QuantityInfo,
    RlsCriterionInfo,
    RootLevelInfo,
    Rule,
    Source,
    Threshold,
)
from fasciculate._vocab import Analyte, Category, MedicationClass, Region, Urgency

__all__ = [
    "AdviceInfo",
    "CategoryInfo",
    "Derivation",
    "FactInfo",
    "Feature",
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
)


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
    facts.update({fact.id: fact for fact in _generated_facts()})
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
    derivations = _derivations(
        data["derivations.toml"]["derivation"], facts, grammar, named, sources
    )
    differential = _differential(data, frozenset(facts), grammar, named, sources)
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
        derivations=derivations,
        **differential,
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


def _derivations(
    rows: list[dict[str, Any]],
    facts: Mapping[str, FactInfo],
    grammar: Mapping[str, Quantity],
    named: Mapping[str, float],
    sources: Mapping[str, Source],
) -> tuple[Derivation, ...]:
    """The implications between facts, checked: one atom each, cited, applicable in one pass."""
    _unique("derivation", [row["id"] for row in rows])
    derivations: list[Derivation] = []
    for row in rows:
        where = f"derivation {row['id']}"
        when = parse(row["when"], facts=frozenset(facts), quantities=grammar, thresholds=named)
        if not isinstance(when, FactAtom | CompareAtom):
            raise KnowledgeBaseError(f"{where}: `when` must be one fact or one comparison")
        if row["sets"] not in facts:
            raise KnowledgeBaseError(f"{where} sets unknown fact {row['sets']!r}")
        _cited(where, row["source"], sources)
        derivations.append(Derivation(when=when, **{k: v for k, v in row.items() if k != "when"}))
    for position, derivation in enumerate(derivations):
        later = {other.sets for other in derivations[position:]}
        if isinstance(derivation.when, FactAtom) and derivation.when.name in later:
            raise KnowledgeBaseError(
                f"derivation {derivation.id} reads {derivation.when.name!r}, which this or a "
                "later row sets: put the row that sets it first"
            )
    return tuple(derivations)


def _generated_facts() -> list[FactInfo]:
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
    return generated


def _differential(
    data: dict[str, dict[str, Any]],
    facts: frozenset[str],
    grammar: Mapping[str, Quantity],
    named: Mapping[str, float],
    sources: Mapping[str, Source],
) -> dict[str, Any]:
    table = data["differential.toml"]
    categories = {
        Category(row["id"]): CategoryInfo(
            id=Category(row["id"]),
            label=row["label"],
            prior=row["prior"],
            must_not_miss=row["must_not_miss"],
        )
        for row in table["category"]
    }
    if set(categories) != set(Category):
        raise KnowledgeBaseError("differential.toml must define every category once")
    _cited("differential priors", table["priors_source"], sources)

    def condition(text: str) -> Condition:
        return parse(text, facts=facts, quantities=grammar, thresholds=named, monotone=False)

    _unique("feature", [row["id"] for row in table["feature"]])
    features = tuple(
        Feature(
            id=row["id"],
            category=Category(row["category"]),
            label=row["label"],
            when=row["when"],
            condition=condition(row["when"]),
            present=float(row.get("present", 0.0)),
            absent=float(row.get("absent", 0.0)),
            source=row["source"],
            advice=tuple(row.get("advice", ())),
            context=row.get("context", False),
        )
        for row in table["feature"]
    )
    root_levels = tuple(
        RootLevelInfo(
            level=row["level"],
            conditions=tuple(condition(text) for text in row["when"]),
            source=row["source"],
        )
        for row in table["root_level"]
    )
    rls_criteria = tuple(
        RlsCriterionInfo(
            number=row["number"],
            text=row["text"],
            when=row["when"],
            condition=condition(row["when"]),
            inverted=row.get("inverted", False),
        )
        for row in table["rls_criterion"]
    )
    advice = {row["id"]: AdviceInfo(**row) for row in data["advice.toml"]["advice"]}
    medication_names = {
        name: MedicationClass(drug_class)
        for drug_class, names in data["medications.toml"]["classes"].items()
        for name in names
    }
    for feature in features:
        _cited(f"feature {feature.id}", feature.source, sources)
        if feature.present * feature.absent > 0:
            raise KnowledgeBaseError(
                f"feature {feature.id}: present and absent weights must not share a sign"
            )
        unknown = set(feature.advice) - set(advice)
        if unknown:
            raise KnowledgeBaseError(f"feature {feature.id} names unknown advice {sorted(unknown)}")
    for item in advice.values():
        _cited(f"advice {item.id}", item.source, sources)
    for level in root_levels:
        _cited(f"root level {level.level}", level.source, sources)
    return {
        "categories": categories,
        "features": features,
        "root_levels": root_levels,
        "rls_criteria": rls_criteria,
        "advice": advice,
        "medication_names": medication_names,
    }

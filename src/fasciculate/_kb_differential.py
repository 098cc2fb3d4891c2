"""The differential tables of the knowledge base: categories, conditions, features, criteria.

Part of loading the knowledge base (:mod:`fasciculate._kb`): reads ``differential.toml``,
``advice.toml`` and ``medications.toml`` into frozen tables, and checks the category (and
condition) each referral rule declares.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from fasciculate._conditions import Condition, Quantity, parse
from fasciculate._errors import KnowledgeBaseError
from fasciculate._kb_types import (
    AdviceInfo,
    CategoryInfo,
    ConditionInfo,
    Feature,
    RlsCriterionInfo,
    RootLevelInfo,
    Source,
)
from fasciculate._vocab import Category, MedicationClass


def unique(kind: str, ids: list[str]) -> None:
    """Fail when *ids* repeat an id."""
    duplicates = sorted({item for item in ids if ids.count(item) > 1})
    if duplicates:
        raise KnowledgeBaseError(f"duplicate {kind} ids: {', '.join(duplicates)}")


def cited(where: str, source: str | None, sources: Mapping[str, Source]) -> None:
    """Fail when *source* is not a source id."""
    if source is not None and source not in sources:
        raise KnowledgeBaseError(f"{where} cites unknown source {source!r}")


def rule_category(row: dict[str, Any], conditions: Mapping[str, ConditionInfo]) -> dict[str, Any]:
    """The differential category (and condition) a rule declares, checked against the table."""
    where = f"rule {row.get('id', '?')} in rules.toml"
    categories = ", ".join(f'"{category}"' for category in Category)
    if "category" not in row:
        raise KnowledgeBaseError(
            f"{where} has no `category`: add the differential category it argues for, one of "
            f"{categories} (and optionally `condition`, one of the conditions of that category in "
            "differential.toml), so that an urgent or emergency referral is never contradicted "
            "by the differential"
        )
    if row["category"] not in set(Category):
        raise KnowledgeBaseError(
            f"{where}: unknown category {row['category']!r}; use one of {categories}"
        )
    category = Category(row["category"])
    condition_id = row.get("condition")
    if condition_id is not None:
        own = [key for key, info in conditions.items() if info.category is category]
        if condition_id not in own:
            raise KnowledgeBaseError(
                f"{where}: condition {condition_id!r} is not a condition of category "
                f"{category!r}; use one of {', '.join(own)} or leave `condition` out"
            )
    return {"category": category, "condition_id": condition_id}


def differential_tables(
    data: dict[str, dict[str, Any]],
    facts: frozenset[str],
    grammar: Mapping[str, Quantity],
    named: Mapping[str, float],
    sources: Mapping[str, Source],
) -> dict[str, Any]:
    table = data["differential.toml"]
    unique("condition", [row["id"] for row in table["condition"]])
    conditions = {
        row["id"]: ConditionInfo(
            id=row["id"],
            category=Category(row["category"]),
            label=row["label"],
            prior=float(row["prior"]),
            must_not_miss=row["must_not_miss"],
        )
        for row in table["condition"]
    }
    categories = {
        Category(row["id"]): CategoryInfo(
            id=Category(row["id"]),
            label=row["label"],
            prior=sum(c.prior for c in conditions.values() if c.category == row["id"]),
            must_not_miss=any(
                c.must_not_miss for c in conditions.values() if c.category == row["id"]
            ),
        )
        for row in table["category"]
    }
    if set(categories) != set(Category) or len(categories) != len(table["category"]):
        raise KnowledgeBaseError("differential.toml must define every category once")
    empty = [str(key) for key, info in categories.items() if info.prior <= 0]
    if empty:
        raise KnowledgeBaseError(f"categories without a condition of positive prior: {empty}")
    cited("differential priors", table["priors_source"], sources)

    def condition(text: str) -> Condition:
        return parse(text, facts=facts, quantities=grammar, thresholds=named, monotone=False)

    rls_criteria = tuple(
        RlsCriterionInfo(
            number=row["number"],
            text=row["text"],
            when=row["when"],
            condition=condition(row["when"]),
            mimics=row.get("mimics", False),
        )
        for row in table["rls_criterion"]
    )
    unique("feature", [row["id"] for row in table["feature"]])
    features = tuple(_feature(row, conditions, rls_criteria, condition) for row in table["feature"])
    root_levels = tuple(
        RootLevelInfo(
            level=row["level"],
            conditions=tuple(condition(text) for text in row["when"]),
            source=row["source"],
        )
        for row in table["root_level"]
    )
    advice = {row["id"]: AdviceInfo(**row) for row in data["advice.toml"]["advice"]}
    medication_names = {
        name: MedicationClass(drug_class)
        for drug_class, names in data["medications.toml"]["classes"].items()
        for name in names
    }
    for feature in features:
        cited(f"feature {feature.id}", feature.source, sources)
        cited(f"feature {feature.id} (magnitude)", feature.magnitude, sources)
        if feature.hard and feature.present <= 0:
            raise KnowledgeBaseError(
                f"feature {feature.id}: a hard feature must point towards its condition "
                "(present > 0): it raises must-not-miss when it holds"
            )
        if feature.present * feature.absent > 0:
            raise KnowledgeBaseError(
                f"feature {feature.id}: present and absent weights must not share a sign"
            )
        unknown = set(feature.advice) - set(advice)
        if unknown:
            raise KnowledgeBaseError(f"feature {feature.id} names unknown advice {sorted(unknown)}")
    for item in advice.values():
        cited(f"advice {item.id}", item.source, sources)
    for level in root_levels:
        cited(f"root level {level.level}", level.source, sources)
    return {
        "categories": MappingProxyType(categories),
        "conditions": MappingProxyType(conditions),
        "features": features,
        "root_levels": root_levels,
        "rls_criteria": rls_criteria,
        "advice": MappingProxyType(advice),
        "medication_names": MappingProxyType(medication_names),
    }


def _feature(
    row: dict[str, Any],
    conditions: Mapping[str, ConditionInfo],
    criteria: tuple[RlsCriterionInfo, ...],
    condition: Callable[[str], Condition],
) -> Feature:
    """One feature row: its condition checked, its test read from `when` or from its criterion."""
    where = f"feature {row['id']} in differential.toml"
    info = conditions.get(row.get("condition", ""))
    if info is None:
        raise KnowledgeBaseError(
            f"{where}: `condition` must name a condition of the table, one of "
            f"{', '.join(conditions)}; got {row.get('condition')!r}"
        )
    if "magnitude" not in row:
        raise KnowledgeBaseError(
            f"{where} has no `magnitude`: name the source that gives the weight as a likelihood "
            'ratio, or "expert-estimate"'
        )
    when: str | None = row.get("when")
    if "criterion" in row:
        numbered = {criterion.number: criterion for criterion in criteria}
        if when is not None or row["criterion"] not in numbered:
            raise KnowledgeBaseError(
                f"{where}: give either `when` or `criterion` (the number of an IRLSSG criterion "
                f"whose condition it reads, one of {sorted(numbered)}), not both"
            )
        when = numbered[row["criterion"]].when
    if when is None:
        raise KnowledgeBaseError(f"{where} has no `when`: give its test, or a `criterion`")
    return Feature(
        id=row["id"],
        category=info.category,
        condition_id=info.id,
        label=row["label"],
        when=when,
        condition=condition(when),
        present=float(row.get("present", 0.0)),
        absent=float(row.get("absent", 0.0)),
        source=row["source"],
        magnitude=row["magnitude"],
        advice=tuple(row.get("advice", ())),
        hard=row.get("hard", False),
    )

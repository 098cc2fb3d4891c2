"""Where each fact comes from: the input field, or fields, that can set it.

Most facts have one input field, so their input path is fixed (``source_path`` of
:func:`fact_paths`); a few can be set by several fields (``multi_source``), and
:class:`~fasciculate._facts.Facts` records which one did. The evaluators key their caches on this:
a single-source fact's level already says its path. :func:`answered_in` lists every field that can
answer a fact or quantity, for the open questions. Tests check these tables against generated
presentations. The tables that depend on the knowledge base are worked out on first use.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

import attrs

from fasciculate._conditions import FactAtom
from fasciculate._generated_vocab import Finding
from fasciculate._kb import knowledge_base
from fasciculate._vocab import REPORTED_ENDS, Analyte, MedicationClass, Region

if TYPE_CHECKING:
    from fasciculate._kb import KnowledgeBase

#: The input path of each finding.
FINDING_PATH: dict[str, str] = {finding: f"findings.{finding}" for finding in Finding}

#: The fields that set a fact directly when another field can set it too.
_READ_FROM: dict[str, tuple[str, ...]] = {
    "exam_weakness": ("examination.strength",),
    "brisk_reflexes": ("examination.knee_reflex", "examination.ankle_reflex"),
    **{f"med_{drug_class}": ("medications",) for drug_class in MedicationClass},
    **{f"{analyte}_reported_{end}": ("labs",) for analyte in Analyte for end in REPORTED_ENDS},
}

#: The input fields of the quantities that are not laboratory results (those come from ``labs``).
QUANTITY_PATHS: dict[str, tuple[str, ...]] = {
    "duration_days": ("twitching.duration_days", "twitching.onset_date"),
    "region_count": ("twitching.regions",),
    "age": ("patient.age",),
    "caffeine_mg_per_day": ("exposures.caffeine_mg_per_day",),
    "sleep_hours": ("exposures.sleep_hours",),
    "power_lowest": ("examination.power",),
}


def _own_paths(fact: str) -> tuple[str, ...]:
    """The fields that set *fact* itself (before any derivation)."""
    if fact in _READ_FROM:
        return _READ_FROM[fact]
    if fact in FINDING_PATH:
        return (FINDING_PATH[fact],)
    if fact.startswith("region_"):
        return ("twitching.regions",)
    message = f"no input field known for fact {fact!r}: add it to fasciculate._fact_paths"
    raise KeyError(message)


def _multi_source(kb: KnowledgeBase) -> dict[str, tuple[str, ...]]:
    """Every fact more than one input field can set, each with those fields.

    Generated: the facts read from several fields, and every fact a derivation of the knowledge
    base (``kb/derivations.toml``) can set, with the fields of what it is derived from (rows may
    build on earlier rows, so a chain leads back to its first field).
    """
    paths: dict[str, tuple[str, ...]] = dict(_READ_FROM)
    for derivation in kb.derivations:
        when = derivation.when
        if isinstance(when, FactAtom):
            name = when.name
            sources = paths[name] if name in paths else _own_paths(name)
        else:
            sources = QUANTITY_PATHS[when.quantity]
        target = derivation.sets
        known = paths[target] if target in paths else _own_paths(target)
        paths[target] = tuple(dict.fromkeys((*known, *sources)))
    return paths


#: Yes/no fields of the structured sections, each the only source of its fact.
SINGLE_SOURCE_PATHS = (
    ("at_rest", "twitching.at_rest"),
    ("after_exercise", "twitching.after_exercise"),
    ("babinski", "examination.babinski"),
    ("exam_wasting", "examination.wasting"),
    ("exam_sensory_loss", "examination.sensory_loss"),
    ("anal_sphincter_laxity", "examination.anal_sphincter_laxity"),
    ("strenuous_exercise", "exposures.strenuous_exercise_48h"),
    ("dehydration", "exposures.dehydration"),
    ("nicotine", "exposures.nicotine"),
)


def _single_source(multi_source: frozenset[str]) -> dict[str, str]:
    """The input path of every fact only one input field can set (not in *multi_source*)."""
    return {
        **{finding: path for finding, path in FINDING_PATH.items() if finding not in multi_source},
        **dict(SINGLE_SOURCE_PATHS),
        **dict.fromkeys(("worsening", "improving"), "twitching.course"),
        **dict.fromkeys(("side_both", "side_one"), "twitching.side"),
        "stress_high": "exposures.stress",
        "age_under_16": "patient.age",
        "reduced_knee_reflex": "examination.knee_reflex",
        "reduced_ankle_reflex": "examination.ankle_reflex",
        **{f"region_{region}": "twitching.regions" for region in Region},
    }


@attrs.frozen
class Paths:
    """The input paths of the facts, as the knowledge base's derivations make them.

    Attributes:
        multi_source_paths: The facts that more than one input field can set (so their input path
            varies with the input), each with those fields: those read from several fields, and
            every fact a derivation of the knowledge base can set (``kb/derivations.toml``).
        multi_source: The facts that more than one input field can set.
        multi_source_findings: The findings that other fields can also set.
        source_path: The input path of every other fact: it has one, given exactly when the fact
            is present or absent.
    """

    multi_source_paths: Mapping[str, tuple[str, ...]]
    multi_source: frozenset[str]
    multi_source_findings: tuple[str, ...]
    source_path: Mapping[str, str]


@functools.cache
def fact_paths() -> Paths:
    """The input paths of the facts of :func:`~fasciculate.knowledge_base`, worked out on first use.

    Not at import: they depend on the knowledge base, which is loaded (and checked, raising
    :class:`~fasciculate.KnowledgeBaseError`) by the first call that needs it.
    """
    multi_source_paths = _multi_source(knowledge_base())
    multi_source = frozenset(multi_source_paths)
    return Paths(
        multi_source_paths=MappingProxyType(multi_source_paths),
        multi_source=multi_source,
        multi_source_findings=tuple(finding for finding in Finding if finding in multi_source),
        source_path=MappingProxyType(_single_source(multi_source)),
    )


def answered_in(name: str, kb: KnowledgeBase) -> tuple[str, ...]:
    """Every input field that can answer fact or quantity *name* (``labs`` for a lab's quantity).

    Raises:
        KeyError: If *name* is neither a fact nor a quantity of *kb* with a known input field.
    """
    known = fact_paths()
    if name in known.multi_source_paths:
        return known.multi_source_paths[name]
    if name in known.source_path:
        return (known.source_path[name],)
    if kb.quantities[name].analyte is not None:
        return ("labs",)
    return QUANTITY_PATHS[name]


def traced(kb: KnowledgeBase) -> list[str]:
    """The names ``Facts.origin`` lists for *kb*, in order: multi-source facts, then quantities."""
    multi_source = fact_paths().multi_source
    return [*(name for name in kb.facts if name in multi_source), *kb.quantities]

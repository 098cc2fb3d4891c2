"""The exhaustive group enumeration as FHIR bundles, for the exported ELM and the Python evaluator.

Each combination of ``test_safety_groups`` (a group, and the levels and laboratory values it
varies on the group's starting screen) becomes the presentation the enumeration assesses, then one
patient's FHIR bundle (``_cpg_bundles.bundle_of``). The comparison is meaningful only if the bundle
says what the presentation says, so the Python reader's reading of each bundle must give the same
facts (the specification's screen: every item's level and every quantity) as the presentation;
a combination whose bundle reads otherwise is reported as not expressible, never compared.

:func:`stratified` is the subset ``make test`` runs: every group's boundary combinations (the
all-absent screen and each single departure from it, each lab value alone; the all-unknown screen
and each single answer on it; everything present) and a fixed sample of the rest.
``benchmarks/cpg_full_enumeration.py`` (``make cpg-enumeration``) runs every combination.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import attrs

from _cpg_bundles import bundle_of
from _cpg_compare import Decision, cql_decisions, differences
from fasciculate import KnowledgeBase, Presentation, assess
from fasciculate.fhir import read_bundle
from safety_spec import UNKNOWN, screen_of
from safety_symbolic import presentation_data
from test_safety_groups import BASE_SCREENS, GROUPS, KB, Group, combinations

#: Combinations drawn from each group beyond its boundary ones, in ``make test``.
SAMPLED = 30


@attrs.frozen
class Combination:
    """One combination of a group: its place in the group's enumeration, levels and quantities."""

    group: str
    index: int
    levels: dict[str, int]
    quantities: dict[str, float | None]

    @property
    def patient(self) -> str:
        """A FHIR id naming the group and the index, e.g. ``cauda-equina-17``."""
        return f"{re.sub(r'[^a-z0-9]+', '-', self.group.lower())}-{self.index}"

    def presentation(self, kb: KnowledgeBase = KB) -> Presentation:
        """The presentation the enumeration assesses for this combination."""
        base = BASE_SCREENS[GROUPS[self.group].base].presentation
        return Presentation.model_validate(
            presentation_data(self.levels, self.quantities, base, kb)
        )


def every_combination(group: str) -> Iterator[Combination]:
    """The group's combinations, in the enumeration's order."""
    for index, (levels, quantities) in enumerate(combinations(GROUPS[group])):
        yield Combination(group, index, levels, quantities)


def count() -> int:
    """How many combinations the enumeration has, over every group."""
    return sum(1 for group in GROUPS for _ in combinations(GROUPS[group]))


def _departures(combination: Combination, group: Group, level: int) -> int:
    """How many items and labs of *combination* differ from every item at *level*, no lab."""
    labs = sum(combination.quantities[f"{lab}_lowest"] is not None for lab in group.labs)
    return labs + sum(value != level for value in combination.levels.values())


def is_boundary(combination: Combination) -> bool:
    """A corner of the group's screen (all absent, all unknown, all present) or one step from it."""
    group = GROUPS[combination.group]
    if _departures(combination, group, 0) <= 1:
        return True
    no_labs = _departures(combination, group, 0) == sum(
        value != 0 for value in combination.levels.values()
    )
    return no_labs and (
        (UNKNOWN in group.levels and _departures(combination, group, UNKNOWN) <= 1)
        or _departures(combination, group, max(group.levels)) == 0
    )


def stratified(sampled: int = SAMPLED) -> list[Combination]:
    """Every group's boundary combinations and *sampled* more of each, the same on every run."""
    chosen = []
    for group in GROUPS:
        boundary: list[Combination] = []
        rest: list[Combination] = []
        for item in every_combination(group):
            (boundary if is_boundary(item) else rest).append(item)
        chooser = random.Random(group)  # noqa: S311 - a reproducible sample, not a secret
        chosen += boundary + chooser.sample(rest, min(sampled, len(rest)))
    return chosen


def facts(presentation: Presentation) -> tuple[dict[str, int], dict[str, float]]:
    """What the specification reads of *presentation*: known item levels, given quantities."""
    screen = screen_of(presentation)
    levels = {name: level for name, level in screen.levels.items() if level != UNKNOWN}
    given = {name: value for name, value in screen.quantities.items() if value is not None}
    return levels, given


@attrs.frozen
class Outcome:
    """The comparison on some combinations."""

    compared: int
    #: Combinations whose bundle the Python reader reads back to other facts (not compared).
    unreadable: list[str]
    #: Patient: (Python's decision, the ELM's decision), where they differ.
    differing: dict[str, tuple[Decision, Decision | None]]


def compare(
    found: Sequence[Combination],
    elm: Path,
    kb: KnowledgeBase = KB,
    *,
    workers: int = 1,
    today: dt.date | None = None,
    timeout: float | None = 600,
) -> Outcome:
    """Run *found* through the ELM (cql-execution) and the Python evaluator, and compare.

    *timeout*: seconds a Node process may take (``None``: no limit, for a long niced run).
    """
    today = today or dt.datetime.now().astimezone().date()
    presentations = [item.presentation(kb) for item in found]
    bundles = [
        bundle_of(presentation, item.patient, today)
        for item, presentation in zip(found, presentations, strict=True)
    ]
    with ThreadPoolExecutor(1) as pool:  # Node decides while Python reads and assesses
        cql = pool.submit(cql_decisions, elm, bundles, kb, workers, timeout)
        python, unreadable = _python_side(found, presentations, bundles, today)
        decided = cql.result()
    for patient in unreadable:
        decided.pop(patient, None)
    return Outcome(len(python), unreadable, differences(python, decided))


def _python_side(
    found: Sequence[Combination],
    presentations: list[Presentation],
    bundles: list[dict[str, Any]],
    today: dt.date,
) -> tuple[dict[str, Decision], list[str]]:
    python: dict[str, Decision] = {}
    unreadable = []
    for item, presentation, bundle in zip(found, presentations, bundles, strict=True):
        read = read_bundle(bundle, as_of=today).presentation
        if facts(read) != facts(presentation):
            unreadable.append(item.patient)
            continue
        assessment = assess(read)
        fired = frozenset(rule.id for rule in assessment.rules_fired)
        python[item.patient] = (str(assessment.urgency), fired)
    return python, unreadable

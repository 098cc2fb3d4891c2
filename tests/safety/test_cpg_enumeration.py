"""The exported ELM decides as the Python evaluator on the exhaustive group enumeration.

Each combination of ``test_safety_groups`` goes as one patient's FHIR bundle to cql-execution
(the committed ELM) and to the Python reader and evaluator; urgency and fired rules must be equal.
``make test`` runs a fixed, stratified subset (every group, its boundary combinations, a sample of
the rest: :func:`cpg_enumeration.stratified`); ``make cpg-enumeration`` runs every combination.
A rule dropped from the knowledge base, compiled to ELM, must disagree on its group's boundary.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import attrs
import pytest

from _cpg_bundles import bundle_of
from _node import ROOT, translate
from _safety_report import record
from cpg_enumeration import GROUPS, KB, compare, every_combination, facts, is_boundary, stratified
from fasciculate.cpg import ELM_FILE, cql_library
from fasciculate.fhir import read_bundle
from safety_symbolic import timed

ELM = ROOT / "src" / "fasciculate" / "cpg" / ELM_FILE


@pytest.mark.exhaustive
def test_the_elm_decides_as_python_on_a_stratified_subset_of_the_enumeration() -> None:
    found = stratified()
    assert set(GROUPS) == {item.group for item in found}
    outcome, seconds = timed(lambda: compare(found, ELM, workers=2))
    record(
        "cql-execution",
        "group enumeration, stratified",
        combinations=len(found),
        boundary=sum(map(is_boundary, found)),
        differing=len(outcome.differing),
        seconds=seconds,
    )
    assert outcome.unreadable == []  # every bundle reads back to its presentation's facts
    assert outcome.compared == len(found)
    assert outcome.differing == {}, "\n".join(
        f"{patient}: python {python}, cql {cql}"
        for patient, (python, cql) in list(outcome.differing.items())[:10]
    )


@pytest.mark.exhaustive
def test_a_dropped_rule_disagrees_on_its_groups_boundary(tmp_path: Path) -> None:
    mutant = attrs.evolve(KB, rules=tuple(rule for rule in KB.rules if rule.id != "MND-BULBAR"))
    cql = tmp_path / "Mutant.cql"
    cql.write_text(cql_library(mutant), encoding="utf-8")
    elm = tmp_path / "Mutant.json"
    elm.write_bytes(translate(cql))
    found = list(filter(is_boundary, every_combination("bulbar and respiratory")))
    differing = compare(found, elm, mutant).differing
    # Each differing patient is one the dropped rule fired for (the urgency with it, if highest).
    assert differing != {}
    lost = {
        patient: python[1] - (cql[1] if cql else frozenset())
        for patient, (python, cql) in differing.items()
    }
    assert all("MND-BULBAR" in rules for rules in lost.values()), lost


def test_a_bundle_that_loses_a_fact_does_not_read_back_to_its_presentation() -> None:
    # A medication list without a statin: statin absent, through a MedicationRequest in words.
    item = next(
        item
        for item in every_combination("creatine kinase and total calcium")
        if item.levels["med_statin"] == 0
    )
    presentation = item.presentation()
    today = dt.date(2026, 12, 6)
    bundle = bundle_of(presentation, item.patient, today)
    assert facts(read_bundle(bundle, as_of=today).presentation) == facts(presentation)
    bundle["entry"] = [
        entry
        for entry in bundle["entry"]
        if entry["resource"]["resourceType"] != "MedicationRequest"
    ]
    assert facts(read_bundle(bundle, as_of=today).presentation) != facts(presentation)

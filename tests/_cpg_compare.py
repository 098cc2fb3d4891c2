"""The exported ELM's decisions beside the Python evaluator's, on the same FHIR bundles.

The CQL side is cql-execution with cql-exec-fhir (``tools/cpg/execute.mjs``), in one or more Node
processes, each given a share of the bundles; the Python side reads each bundle with
:func:`fasciculate.fhir.read_bundle` and assesses it. A decision is the urgency and the set of
fired rules (the open screen counts as the rule that reports it).
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from _node import execute
from fasciculate import KnowledgeBase, assess
from fasciculate.fhir import read_bundle

Decision = tuple[str, frozenset[str]]


def defines(kb: KnowledgeBase) -> list[str]:
    """The defines a decision is made of: the urgency, the open screen, every rule."""
    return ["Urgency", "Screen Open", *(f"Rule {rule.id}" for rule in kb.rules)]


def patient_of(bundle: dict[str, Any]) -> str:
    """The id of the Patient a bundle of ``_cpg_bundles.bundle_of`` is about."""
    patient: str = bundle["entry"][0]["resource"]["id"]
    return patient


def cql_decisions(
    elm: Path,
    bundles: list[dict[str, Any]],
    kb: KnowledgeBase,
    workers: int = 1,
    timeout: float | None = 600,
) -> dict[str, Decision]:
    """The ELM's decision for each bundle's patient, from *workers* Node processes at once."""
    shares = [bundles[start::workers] for start in range(workers)]
    with ThreadPoolExecutor(workers) as pool:
        done = list(pool.map(lambda share: execute(elm, share, defines(kb), timeout), shares))
    decided = {}
    for results in done:
        for patient, values in results.items():
            fired = {rule.id for rule in kb.rules if values[f"Rule {rule.id}"] is True}
            if values["Screen Open"]:
                fired.add(kb.screen_incomplete.id)
            decided[patient] = (values["Urgency"], frozenset(fired))
    return decided


def python_decisions(bundles: list[dict[str, Any]], today: dt.date) -> dict[str, Decision]:
    """The Python evaluator's decision for each bundle's patient, read as of *today*."""
    decided = {}
    for bundle in bundles:
        assessment = assess(read_bundle(bundle, as_of=today).presentation)
        fired = frozenset(rule.id for rule in assessment.rules_fired)
        decided[patient_of(bundle)] = (str(assessment.urgency), fired)
    return decided


def differences(
    python: dict[str, Decision], cql: dict[str, Decision]
) -> dict[str, tuple[Decision, Decision | None]]:
    """Each patient the two decide differently on (or the CQL did not decide): both decisions."""
    return {
        patient: (decision, cql.get(patient))
        for patient, decision in python.items()
        if cql.get(patient) != decision
    }

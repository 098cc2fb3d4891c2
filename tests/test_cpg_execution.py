"""The exported ELM, run by an independent engine, decides as the Python evaluator does.

cql-execution with cql-exec-fhir (npm) runs the committed ELM on FHIR bundles made from generated
presentations (:mod:`fasciculate.testing`); the Python side reads the same bundles with
:func:`fasciculate.fhir.read_bundle` and assesses them. The urgency and the set of fired rules must
be equal on every bundle. Many bundles go to each of two Node processes, since starting one costs
seconds. A knowledge-base mutant (a rule dropped, a threshold weakened) compiled to ELM must
disagree.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from _cpg_bundles import bundle_of
from _cpg_compare import cql_decisions, differences, python_decisions
from _node import ROOT, translate
from fasciculate import KnowledgeBase, Presentation, Rule, knowledge_base
from fasciculate.conditions import CompareAtom
from fasciculate.cpg import ELM_FILE, cql_library
from fasciculate.testing import negative_screens, presentations, red_flags

ELM = ROOT / "src" / "fasciculate" / "cpg" / ELM_FILE
KB = knowledge_base()
_BATCH = 200
_COUNT = 400


def _bundles(found: list[Presentation], today: dt.date) -> list[dict[str, Any]]:
    return [bundle_of(item, f"p{number}", today) for number, item in enumerate(found)]


def _compare(found: list[Presentation]) -> list[str]:
    """Compare the two on bundles of *found*; the urgencies decided."""
    today = dt.datetime.now().astimezone().date()
    bundles = _bundles(found, today)
    python = python_decisions(bundles, today)
    differ = differences(python, cql_decisions(ELM, bundles, KB, workers=2))
    assert differ == {}, json.dumps(
        {
            p: [sorted(py[1] ^ (cql[1] if cql else frozenset())), py[0], cql and cql[0]]
            for p, (py, cql) in differ.items()
        }
    )
    return [urgency for urgency, _ in python.values()]


@st.composite
def _sparse(draw: st.DrawFn) -> Presentation:
    """A generated presentation keeping a few of its findings and results: every urgency."""
    data = draw(presentations()).model_dump(mode="json", exclude_none=True)
    findings = data.get("findings", {})
    kept = draw(st.sets(st.sampled_from(sorted(findings) or ["weakness"]), max_size=3))
    data["findings"] = {key: value for key, value in findings.items() if key in kept}
    data["labs"] = data.get("labs", [])[: draw(st.integers(0, 2))]
    for section in ("examination", "exposures"):
        if draw(st.booleans()):
            data.pop(section, None)
    return Presentation.model_validate(data)


def _mixed() -> st.SearchStrategy[Presentation]:
    return st.one_of(presentations(), negative_screens(), red_flags(), _sparse(), _sparse())


@pytest.mark.exhaustive
def test_the_elm_decides_as_python_on_generated_presentations() -> None:
    compared: list[str] = []
    pending: list[Presentation] = []

    def flush() -> None:
        compared.extend(_compare(pending))
        pending.clear()

    # Many examples, no shrinking: a failure names every differing bundle of its batch.
    @settings(
        max_examples=_COUNT,
        phases=[Phase.generate],
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(_mixed())
    def collect(presentation: Presentation) -> None:
        pending.append(presentation)
        if len(pending) == _BATCH:
            flush()

    collect()
    if pending:
        flush()
    assert len(compared) == _COUNT
    assert set(compared) == {"self_care", "routine", "urgent", "emergency"}


def _mutant_drop(kb: KnowledgeBase, rule_id: str) -> KnowledgeBase:
    return attrs.evolve(kb, rules=tuple(rule for rule in kb.rules if rule.id != rule_id))


def _mutant_threshold(kb: KnowledgeBase, rule_id: str, threshold: float) -> KnowledgeBase:
    def weakened(rule: Rule) -> Rule:
        if rule.id != rule_id or not isinstance(rule.condition, CompareAtom):
            return rule
        return attrs.evolve(rule, condition=attrs.evolve(rule.condition, threshold=threshold))

    return attrs.evolve(kb, rules=tuple(map(weakened, kb.rules)))


@pytest.mark.parametrize(
    ("mutant", "presentation"),
    [
        pytest.param(
            _mutant_drop(KB, "CES-SADDLE"),
            {"findings": {"saddle_sensory_loss": "present"}},
            id="dropped-rule",
        ),
        pytest.param(
            _mutant_threshold(KB, "LAB-CALCIUM-IONISED-CRITICAL-LOW", 0.7),
            {"labs": [{"analyte": "calcium_ionised", "value": 0.75, "unit": "mmol/L"}]},
            id="weakened-threshold",
        ),
    ],
)
def test_a_mutant_of_the_rule_table_makes_the_comparison_fail(
    mutant: KnowledgeBase, presentation: dict[str, Any], tmp_path: Path
) -> None:
    cql = tmp_path / "Mutant.cql"
    cql.write_text(cql_library(mutant), encoding="utf-8")
    elm = tmp_path / "Mutant.json"
    elm.write_bytes(translate(cql))
    today = dt.datetime.now().astimezone().date()
    bundles = _bundles([Presentation.model_validate(presentation)], today)
    python = python_decisions(bundles, today)
    assert cql_decisions(ELM, bundles, KB) == python  # the packaged ELM agrees
    assert cql_decisions(elm, bundles, mutant) != python  # the mutant's does not

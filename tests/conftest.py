"""Shared fixtures and Hypothesis profiles.

``HYPOTHESIS_PROFILE=ci`` (set by ``.ci/run``) runs many more examples than the default ``dev``
profile used for quick local runs.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# The safety suite's summary (numbers of the safety case) is printed at the end of the run.
from _safety_report import (  # noqa: F401 - pytest hooks, registered by being imported here
    pytest_sessionfinish,
    pytest_terminal_summary,
    pytest_testnodedown,
)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
# Four real Synthea R4 patient bundles (Apache-2.0; origin and licence in SOURCES.md beside them).
SYNTHEA = EXAMPLES / "fhir" / "synthea"


def pytest_sessionstart(session: object) -> None:  # noqa: ARG001 - pytest's hook signature
    """Start every session with empty caches.

    mutmut runs each mutant in a fork of one process that has already run the suite; without
    this, the compiled evaluator and its caches would be the parent's. (The knowledge base stays
    cached: test modules hold it from import time.)
    """
    from fasciculate import caches, engine  # noqa: PLC0415

    engine.reset()  # a new engine brings new per-engine caches
    caches.clear_all()


@pytest.fixture(autouse=True)
def _fresh_engine_under_mutmut() -> None:
    """Under mutmut only, build the engine anew for every test.

    mutmut runs, for each mutant, only the tests that called the mutated function while it
    collected its statistics. The engine is built once and cached, so without this only the
    first test to assess would count as calling the evaluators' constructors, and a mutant there
    would be judged by that one test.
    """
    if os.environ.get("MUTANT_UNDER_TEST"):
        from fasciculate import engine  # noqa: PLC0415

        engine.reset()


settings.register_profile("dev", max_examples=60, deadline=None)
settings.register_profile(
    "ci", max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

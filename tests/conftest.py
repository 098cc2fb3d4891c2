"""Shared fixtures and Hypothesis profiles.

``HYPOTHESIS_PROFILE=ci`` (set by ``.ci/run``) runs many more examples than the default ``dev``
profile used for quick local runs.
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, settings

# The safety suite's summary (numbers of the safety case) is printed at the end of the run.
from _safety_report import (  # noqa: F401 - pytest hooks, registered by being imported here
    pytest_sessionfinish,
    pytest_terminal_summary,
    pytest_testnodedown,
)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SHARED = ROOT.parent / "shared"

settings.register_profile("dev", max_examples=60, deadline=None)
settings.register_profile(
    "ci", max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

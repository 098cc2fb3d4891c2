"""The referral rule table as a computable guideline: CPG-on-FHIR PlanDefinition, CQL and ELM.

``fasciculate export --format cpg`` writes :func:`cpg_bundle`; ``make cpg`` regenerates the
committed CQL (:func:`cql_library`) and compiles its ELM with the reference CQL-to-ELM translator.
"""

from __future__ import annotations

from fasciculate.cpg._artifact import (
    CQL_FILE,
    ELM_FILE,
    StaleElm,
    activity_definition,
    committed,
    cpg_bundle,
    library,
    plan_definition,
)
from fasciculate.cpg._cql import LIBRARY, cql_library, unread

__all__ = [
    "CQL_FILE",
    "ELM_FILE",
    "LIBRARY",
    "StaleElm",
    "activity_definition",
    "committed",
    "cpg_bundle",
    "cql_library",
    "library",
    "plan_definition",
    "unread",
]

"""The knowledge-base ids that Python names, checked against the tables when they load.

Most of the package reads the knowledge base generically (a rule is whatever ``rules.toml`` says),
but some code names an entry by its id: the input field that sets a fact, the quantity the CQL
library computes, the threshold that bounds the scope. Renaming such an id in ``kb/*.toml`` would
otherwise leave that code silently reading nothing. :data:`NAMED` lists every such id with the
modules that name it, and :func:`check_named` (run by :func:`~fasciculate.knowledge_base` on every
load) raises :class:`~fasciculate.KnowledgeBaseError` naming the id, the module and the fix. A test
scans the package's source so that a new literal id cannot be left out of the table.

:class:`~fasciculate.Finding` is generated from the fact table (``make generate``) and checked by a
test rather than here, so that the generator can still load a table with a new finding.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from fasciculate._errors import KnowledgeBaseError

if TYPE_CHECKING:
    from fasciculate._kb_types import KnowledgeBase

_FACT_PATHS = "fasciculate._fact_paths"
_FACTS = "fasciculate._facts"
_CQL = "fasciculate.cpg._cql"
_CQL_READ = "fasciculate.cpg._cql_read"
_INDICATED = "fasciculate.fhir._indicated"

#: Each kind of id (the table it lives in), each id Python names, and the modules that name it.
NAMED: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "fact": {
        "exam_weakness": (_FACT_PATHS, _FACTS, _CQL_READ),
        "brisk_reflexes": (_FACT_PATHS, _FACTS, _CQL_READ),
        "age_under_16": (_FACT_PATHS, _FACTS, _CQL_READ),
        "reduced_knee_reflex": (_FACT_PATHS, _CQL_READ),
        "reduced_ankle_reflex": (_FACT_PATHS,),
        "at_rest": (_FACT_PATHS,),
        "after_exercise": (_FACT_PATHS,),
        "babinski": (_FACT_PATHS, "fasciculate.fhir._codes"),
        "exam_wasting": (_FACT_PATHS, "fasciculate.fhir._codes"),
        "exam_sensory_loss": (_FACT_PATHS, "fasciculate.fhir._codes"),
        "anal_sphincter_laxity": (_FACT_PATHS, "fasciculate.fhir._codes"),
        "strenuous_exercise": (_FACT_PATHS,),
        "dehydration": (_FACT_PATHS,),
        "nicotine": (_FACT_PATHS,),
        "worsening": (_FACT_PATHS, _FACTS, _CQL_READ, _INDICATED),
        "improving": (_FACT_PATHS, _FACTS),
        "worse_at_rest": ("fasciculate.fhir._questionnaire",),
        "relieved_by_movement": ("fasciculate.fhir._questionnaire",),
        "worse_evening": ("fasciculate.fhir._questionnaire",),
        "leg_swelling": ("fasciculate.fhir._questionnaire",),
        "positional_discomfort": ("fasciculate.fhir._questionnaire",),
        "habitual_foot_tapping": ("fasciculate.fhir._questionnaire",),
        "sexual_dysfunction": ("fasciculate.testing",),
        "back_pain": ("fasciculate.testing",),
        "known_lumbar_radiculopathy": ("fasciculate.testing",),
    },
    "fact group": dict.fromkeys(
        (
            "seed_red_flag",
            "cauda_equina",
            "neurological_emergency",
            "motor_neuron",
            "radiculopathy",
            "spinal_red_flag",
        ),
        ("fasciculate.testing",),
    ),
    "quantity": {
        "duration_days": (_FACT_PATHS, _FACTS, _CQL_READ, _INDICATED),
        "region_count": (_FACT_PATHS, _FACTS, _CQL_READ, _INDICATED),
        "age": (_FACT_PATHS, _FACTS, _CQL, _CQL_READ, _INDICATED),
        "caffeine_mg_per_day": (_FACT_PATHS, _FACTS),
        "sleep_hours": (_FACT_PATHS, _FACTS),
        "power_lowest": (_FACT_PATHS, _FACTS, _CQL_READ),
    },
    "threshold": {
        "scope_min_age": (_FACTS, _CQL_READ),
        "albumin_factor": (_FACTS, _CQL),
        "albumin_reference": (_FACTS, _CQL),
    },
    "feature": {
        "RLS-IRON": ("fasciculate._differential",),
        "RLS-SECONDARY": ("fasciculate._differential",),
        "RLS-MEDICATION": ("fasciculate._differential",),
    },
}

_TABLES = {
    "fact": "facts.toml [[fact]]",
    "fact group": "the `group` of a fact in facts.toml",
    "quantity": "facts.toml [[quantity]]",
    "threshold": "thresholds.toml",
    "feature": "differential.toml [[feature]]",
}


def _held(kb: KnowledgeBase) -> dict[str, set[str]]:
    """Every id of each kind :data:`NAMED` lists, as the loaded knowledge base holds them."""
    return {
        "fact": set(kb.facts),
        "fact group": {fact.group for fact in kb.facts.values()},
        "quantity": set(kb.quantities),
        "threshold": set(kb.thresholds),
        "feature": {feature.id for feature in kb.features},
    }


def _file(module: str) -> str:
    """The source file of *module*, as a reader finds it (``fasciculate/_facts.py``)."""
    return module.replace(".", "/") + ".py"


def check_named(kb: KnowledgeBase) -> None:
    """Check that every id Python names (:data:`NAMED`) is in the loaded knowledge base *kb*.

    Raises:
        KnowledgeBaseError: Listing every missing id with the modules that name it and the fix.
    """
    held = _held(kb)
    problems = [
        f"{kind} {name!r} ({_TABLES[kind]}) is named by {', '.join(map(_file, places))} but "
        f"the knowledge base has no such {kind}: restore the id in kb/, or rename it in that code "
        "and in NAMED of fasciculate/_kb_names.py"
        for kind, names in NAMED.items()
        for name, places in names.items()
        if name not in held[kind]
    ]
    if problems:
        raise KnowledgeBaseError("; ".join(problems))

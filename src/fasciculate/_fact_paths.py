"""Where each fact comes from: the input field, or fields, that can set it.

Most facts have one input field, so their input path is fixed (:data:`SOURCE_PATH`); a few can be
set by several fields (:data:`MULTI_SOURCE`), and :class:`~fasciculate._facts.Facts` records which
one did. The evaluators key their caches on this: a single-source fact's level already says its
path. A test checks both tables against generated presentations.
"""

from __future__ import annotations

from fasciculate._kb import KnowledgeBase, knowledge_base
from fasciculate._presentation import Finding
from fasciculate._vocab import MedicationClass, Region

#: The input path of each finding.
FINDING_PATH: dict[str, str] = {finding: f"findings.{finding}" for finding in Finding}

#: The facts that more than one input field can set (so their input path varies with the input):
#: those read from several fields, and every fact a derivation of the knowledge base can set
#: (``kb/derivations.toml``). Every other fact has one input path, given exactly when the fact is
#: present or absent.
MULTI_SOURCE = frozenset(
    {
        "exam_weakness",  # examination.strength, and derivations
        "brisk_reflexes",  # examination.knee_reflex, examination.ankle_reflex
        *(f"med_{drug_class}" for drug_class in MedicationClass),  # medications.<n>
        *(derivation.sets for derivation in knowledge_base().derivations),
    }
)

#: The findings that other fields can also set.
MULTI_SOURCE_FINDINGS = tuple(finding for finding in Finding if finding in MULTI_SOURCE)

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

#: The input path of every fact only one input field can set (see :data:`MULTI_SOURCE`).
SOURCE_PATH: dict[str, str] = {
    **{finding: path for finding, path in FINDING_PATH.items() if finding not in MULTI_SOURCE},
    **dict(SINGLE_SOURCE_PATHS),
    **dict.fromkeys(("worsening", "improving"), "twitching.course"),
    **dict.fromkeys(("side_both", "side_one"), "twitching.side"),
    "stress_high": "exposures.stress",
    "age_under_16": "patient.age",
    "reduced_knee_reflex": "examination.knee_reflex",
    "reduced_ankle_reflex": "examination.ankle_reflex",
    **{f"region_{region}": "twitching.regions" for region in Region},
}


def traced(kb: KnowledgeBase) -> list[str]:
    """The names ``Facts.origin`` lists for *kb*, in order: multi-source facts, then quantities."""
    return [*(name for name in kb.facts if name in MULTI_SOURCE), *kb.quantities]

"""fasciculate: clinical decision support for muscle twitching (fasciculation) around the knee.

Decision support for a healthcare professional, not a diagnosis. :func:`assess` takes a
structured :class:`Presentation` and returns an :class:`Assessment`: a referral urgency from a
cited rule table, every fired rule with the facts behind it, and the open questions that could
still raise it. :func:`assess_json` does the same from JSON to JSON bytes, for batch jobs and
services; :func:`render_text` writes the readable report of an assessment; :func:`knowledge_base`
reads the tables every assessment is decided from.
"""

from fasciculate import _version
from fasciculate._assess import assess, assess_json
from fasciculate._assessment import (
    Advice,
    AnswerConflict,
    Assessment,
    CategoryResult,
    ConditionResult,
    Criterion,
    CriterionStatus,
    EvidenceItem,
    FactUsed,
    FiredRule,
    KnowledgeBaseStamp,
    LabInterpretation,
    OpenQuestion,
    RestlessLegs,
    RootLevel,
    SourceRef,
    Trigger,
)
from fasciculate._errors import (
    FasciculateError,
    InvalidBundle,
    InvalidPresentation,
    KnowledgeBaseError,
    Problem,
)
from fasciculate._generated_vocab import Finding
from fasciculate._kb import knowledge_base
from fasciculate._kb_types import (
    AdviceInfo,
    CategoryInfo,
    ConditionInfo,
    CoreQuestions,
    Derivation,
    FactInfo,
    Feature,
    Indication,
    KnowledgeBase,
    Lab,
    QuantityInfo,
    RlsCriterionInfo,
    RootLevelInfo,
    Rule,
    Source,
    Threshold,
)
from fasciculate._presentation import (
    Coding,
    Examination,
    Exposures,
    LabResult,
    Medication,
    Patient,
    Presentation,
    Twitching,
)
from fasciculate._render import render_text
from fasciculate._validation import parse_presentation
from fasciculate._vocab import (
    Analyte,
    BodyRegion,
    Category,
    Course,
    Frequency,
    Interpretation,
    LabFlag,
    Level,
    MedicationClass,
    Movement,
    Reflex,
    Region,
    Sex,
    Side,
    Strength,
    TriState,
    Urgency,
)

#: The version of the installed package, from its metadata (``pyproject.toml`` is the one source).
__version__: str = _version.VERSION

__all__ = [
    "Advice",
    "AdviceInfo",
    "Analyte",
    "AnswerConflict",
    "Assessment",
    "BodyRegion",
    "Category",
    "CategoryInfo",
    "CategoryResult",
    "Coding",
    "ConditionInfo",
    "ConditionResult",
    "CoreQuestions",
    "Course",
    "Criterion",
    "CriterionStatus",
    "Derivation",
    "EvidenceItem",
    "Examination",
    "Exposures",
    "FactInfo",
    "FactUsed",
    "FasciculateError",
    "Feature",
    "Finding",
    "FiredRule",
    "Frequency",
    "Indication",
    "Interpretation",
    "InvalidBundle",
    "InvalidPresentation",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "KnowledgeBaseStamp",
    "Lab",
    "LabFlag",
    "LabInterpretation",
    "LabResult",
    "Level",
    "Medication",
    "MedicationClass",
    "Movement",
    "OpenQuestion",
    "Patient",
    "Presentation",
    "Problem",
    "QuantityInfo",
    "Reflex",
    "Region",
    "RestlessLegs",
    "RlsCriterionInfo",
    "RootLevel",
    "RootLevelInfo",
    "Rule",
    "Sex",
    "Side",
    "Source",
    "SourceRef",
    "Strength",
    "Threshold",
    "TriState",
    "Trigger",
    "Twitching",
    "Urgency",
    "assess",
    "assess_json",
    "knowledge_base",
    "parse_presentation",
    "render_text",
]

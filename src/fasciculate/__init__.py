"""fasciculate: clinical decision support for muscle twitching (fasciculation) around the knee.

Decision support for a healthcare professional, not a diagnosis. :func:`assess` takes a
structured :class:`Presentation` and returns an :class:`Assessment`: a referral urgency from a
cited rule table, every fired rule with the facts behind it, and the open questions that could
still raise it. :func:`assess_json` does the same from JSON to JSON bytes, for batch jobs and
services.
"""

from fasciculate._assess import assess, assess_json
from fasciculate._assessment import (
    Advice,
    Assessment,
    CategoryResult,
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
from fasciculate._presentation import (
    Coding,
    Examination,
    Exposures,
    Finding,
    LabResult,
    Medication,
    Patient,
    Presentation,
    Twitching,
)
from fasciculate._validation import parse_presentation
from fasciculate._vocab import (
    Analyte,
    BodyRegion,
    Category,
    Course,
    Frequency,
    LabFlag,
    Level,
    MedicationClass,
    Reflex,
    Region,
    Sex,
    Side,
    Strength,
    TriState,
    Urgency,
)

__all__ = [
    "Advice",
    "Analyte",
    "Assessment",
    "BodyRegion",
    "Category",
    "CategoryResult",
    "Coding",
    "Course",
    "Criterion",
    "CriterionStatus",
    "EvidenceItem",
    "Examination",
    "Exposures",
    "FactUsed",
    "FasciculateError",
    "Finding",
    "FiredRule",
    "Frequency",
    "InvalidBundle",
    "InvalidPresentation",
    "KnowledgeBaseError",
    "KnowledgeBaseStamp",
    "LabFlag",
    "LabInterpretation",
    "LabResult",
    "Level",
    "Medication",
    "MedicationClass",
    "OpenQuestion",
    "Patient",
    "Presentation",
    "Problem",
    "Reflex",
    "Region",
    "RestlessLegs",
    "RootLevel",
    "Sex",
    "Side",
    "SourceRef",
    "Strength",
    "TriState",
    "Trigger",
    "Twitching",
    "Urgency",
    "assess",
    "assess_json",
    "parse_presentation",
]

"""fasciculate: clinical decision support for muscle twitching (fasciculation) around the knee.

Decision support for a healthcare professional, not a diagnosis. :func:`assess` takes a
structured :class:`Presentation` and returns an :class:`Assessment`: a referral urgency from a
cited rule table, every fired rule with the facts behind it, and the open questions that could
still raise it. :func:`assess_json` does the same from JSON to JSON bytes, for batch jobs and
services; :func:`render_text` writes the readable report of an assessment; :func:`knowledge_base`
reads the tables every assessment is decided from.
"""

from fasciculate import _version

# Not typing.TYPE_CHECKING: importing typing would cost more than the rest of this module. Type
# checkers treat any constant of this name as true.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from fasciculate._assess import assess, assess_json, next_questions
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
        SetAsideQuestion,
        SourceRef,
        Trigger,
        UnmetIndication,
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

#: The version of the package (``pyproject.toml`` reads it from ``fasciculate/_version.py``).
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
    "SetAsideQuestion",
    "Sex",
    "Side",
    "Source",
    "SourceRef",
    "Strength",
    "Threshold",
    "TriState",
    "Trigger",
    "Twitching",
    "UnmetIndication",
    "Urgency",
    "assess",
    "assess_json",
    "knowledge_base",
    "next_questions",
    "parse_presentation",
    "render_text",
]

#: The private module each public name is defined in. ``import fasciculate`` imports none of them:
#: each name is imported on first use (PEP 562), so importing the package costs next to nothing, and
#: the knowledge base is loaded and checked by the first call that needs it (``knowledge_base()``,
#: ``assess()``, ...), which raises :class:`KnowledgeBaseError` if it is broken.
_HOMES: dict[str, tuple[str, ...]] = {
    "_assess": (
        "assess",
        "assess_json",
        "next_questions",
    ),
    "_assessment": (
        "Advice",
        "AnswerConflict",
        "Assessment",
        "CategoryResult",
        "ConditionResult",
        "Criterion",
        "CriterionStatus",
        "EvidenceItem",
        "FactUsed",
        "FiredRule",
        "KnowledgeBaseStamp",
        "LabInterpretation",
        "OpenQuestion",
        "RestlessLegs",
        "RootLevel",
        "SetAsideQuestion",
        "SourceRef",
        "Trigger",
        "UnmetIndication",
    ),
    "_errors": (
        "FasciculateError",
        "InvalidBundle",
        "InvalidPresentation",
        "KnowledgeBaseError",
        "Problem",
    ),
    "_generated_vocab": ("Finding",),
    "_kb": ("knowledge_base",),
    "_kb_types": (
        "AdviceInfo",
        "CategoryInfo",
        "ConditionInfo",
        "CoreQuestions",
        "Derivation",
        "FactInfo",
        "Feature",
        "Indication",
        "KnowledgeBase",
        "Lab",
        "QuantityInfo",
        "RlsCriterionInfo",
        "RootLevelInfo",
        "Rule",
        "Source",
        "Threshold",
    ),
    "_presentation": (
        "Coding",
        "Examination",
        "Exposures",
        "LabResult",
        "Medication",
        "Patient",
        "Presentation",
        "Twitching",
    ),
    "_render": ("render_text",),
    "_validation": ("parse_presentation",),
    "_vocab": (
        "Analyte",
        "BodyRegion",
        "Category",
        "Course",
        "Frequency",
        "Interpretation",
        "LabFlag",
        "Level",
        "MedicationClass",
        "Movement",
        "Reflex",
        "Region",
        "Sex",
        "Side",
        "Strength",
        "TriState",
        "Urgency",
    ),
}
_HOME = {name: module for module, names in _HOMES.items() for name in names}


# Defined for the interpreter only: type checkers read the imports above, and still report a name
# the package does not have.
if not TYPE_CHECKING:

    def __getattr__(name: str) -> object:
        """Import the public name *name* from its module on first use, and keep it here."""
        module = _HOME.get(name)
        if module is None:
            message = f"module 'fasciculate' has no attribute {name!r}"
            raise AttributeError(message)
        value = getattr(__import__(f"fasciculate.{module}", fromlist=[name]), name)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        """The module's names, with the public ones not yet imported."""
        return sorted({*globals(), *__all__})


del TYPE_CHECKING

"""Controlled vocabularies shared by the input models, the facts and the knowledge base.

Every vocabulary is a :class:`enum.StrEnum`, so its members compare equal to their JSON spelling and
appear as ``enum`` values in the JSON Schema.
"""

from __future__ import annotations

import enum
from typing import Self


class Urgency(enum.StrEnum):
    """How soon the patient should be seen, ordered from least to most urgent."""

    #: Reassurance and self-care advice, with a safety net of red flags to come back for.
    SELF_CARE = "self_care"
    #: Clinical review within weeks (GP / primary care).
    ROUTINE = "routine"
    #: Specialist assessment (neurology / spinal) without delay, within about two weeks.
    URGENT = "urgent"
    #: Same day: immediate hospital assessment.
    EMERGENCY = "emergency"

    @property
    def rank(self) -> int:
        """The position on the scale: 0 for ``self_care`` up to 3 for ``emergency``."""
        return _URGENCY_RANK[self]

    def __lt__(self, other: str) -> bool:
        """Order by clinical urgency rather than by spelling."""
        if not isinstance(other, Urgency):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: str) -> bool:
        """Order by clinical urgency rather than by spelling."""
        if not isinstance(other, Urgency):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: str) -> bool:
        """Order by clinical urgency rather than by spelling."""
        if not isinstance(other, Urgency):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: str) -> bool:
        """Order by clinical urgency rather than by spelling."""
        if not isinstance(other, Urgency):
            return NotImplemented
        return self.rank >= other.rank

    @classmethod
    def from_rank(cls, rank: int) -> Self:
        """The urgency at position *rank* of the scale."""
        return cls(_URGENCY_ORDER[rank])


_URGENCY_ORDER = ("self_care", "routine", "urgent", "emergency")
_URGENCY_RANK = {Urgency(name): rank for rank, name in enumerate(_URGENCY_ORDER)}


class TriState(enum.StrEnum):
    """An answer to a yes/no question that may not have been asked yet."""

    #: The finding was looked for and is there.
    PRESENT = "present"
    #: The finding was looked for and is not there.
    ABSENT = "absent"
    #: Nobody has asked or looked yet (the default).
    UNKNOWN = "unknown"

    @property
    def level(self) -> int:
        """Kleene truth level: absent 0 < unknown 1 < present 2."""
        return TRI_LEVEL[self]


#: Kleene truth levels, named for readability where they are compared.
FALSE, UNKNOWN, TRUE = 0, 1, 2
#: The Kleene level of each answer (the table behind :attr:`TriState.level`, for hot loops).
TRI_LEVEL = {TriState.ABSENT: FALSE, TriState.UNKNOWN: UNKNOWN, TriState.PRESENT: TRUE}


class Sex(enum.StrEnum):
    """Sex recorded for the patient."""

    #: Female.
    FEMALE = "female"
    #: Male.
    MALE = "male"
    #: Other or not stated.
    OTHER = "other"


class Region(enum.StrEnum):
    """Where the twitching is felt."""

    #: Front of the thigh (quadriceps).
    ANTERIOR_THIGH = "anterior_thigh"
    #: Back of the thigh (hamstrings).
    POSTERIOR_THIGH = "posterior_thigh"
    #: The knee itself.
    KNEE = "knee"
    #: The calf.
    CALF = "calf"
    #: The foot.
    FOOT = "foot"
    #: The arm.
    ARM = "arm"
    #: The hand.
    HAND = "hand"
    #: The face (not the eyelid).
    FACE = "face"
    #: The eyelid (eyelid myokymia: common and benign; not a bulbar sign).
    EYELID = "eyelid"
    #: The tongue (a bulbar sign).
    TONGUE = "tongue"
    #: The trunk (chest, back or abdomen).
    TRUNK = "trunk"


class BodyRegion(enum.StrEnum):
    """The body regions of the twitching sites.

    The first four are the regions of the neuraxis used by the ALS criteria (El Escorial, Gold
    Coast), which ``region_count`` counts; the eyelid is a region of its own, outside that count.
    """

    #: Face, tongue and throat (cranial nerves).
    BULBAR = "bulbar"
    #: Neck, arms and hands.
    CERVICAL = "cervical"
    #: Chest and abdomen.
    THORACIC = "thoracic"
    #: Lower back, legs and feet.
    LUMBOSACRAL = "lumbosacral"
    #: The eyelid: eyelid myokymia is benign and not a lower motor neuron sign of the ALS criteria.
    EYELID = "eyelid"


#: The regions of the ALS criteria, which ``region_count`` counts.
NEURAXIS_REGIONS = frozenset(
    {BodyRegion.BULBAR, BodyRegion.CERVICAL, BodyRegion.THORACIC, BodyRegion.LUMBOSACRAL}
)


#: Which neuraxis region each twitching site belongs to.
BODY_REGION = {
    Region.ANTERIOR_THIGH: BodyRegion.LUMBOSACRAL,
    Region.POSTERIOR_THIGH: BodyRegion.LUMBOSACRAL,
    Region.KNEE: BodyRegion.LUMBOSACRAL,
    Region.CALF: BodyRegion.LUMBOSACRAL,
    Region.FOOT: BodyRegion.LUMBOSACRAL,
    Region.ARM: BodyRegion.CERVICAL,
    Region.HAND: BodyRegion.CERVICAL,
    Region.FACE: BodyRegion.BULBAR,
    Region.EYELID: BodyRegion.EYELID,
    Region.TONGUE: BodyRegion.BULBAR,
    Region.TRUNK: BodyRegion.THORACIC,
}

#: The regions that count as "in or around the knee".
KNEE_REGIONS = frozenset({Region.ANTERIOR_THIGH, Region.POSTERIOR_THIGH, Region.KNEE, Region.CALF})


class Side(enum.StrEnum):
    """Which side the twitching is on."""

    #: Left only.
    LEFT = "left"
    #: Right only.
    RIGHT = "right"
    #: Both sides.
    BOTH = "both"


class Course(enum.StrEnum):
    """How the twitching has changed since it began."""

    #: Getting better.
    IMPROVING = "improving"
    #: Neither better nor worse.
    STABLE = "stable"
    #: Getting worse (more often, stronger or in more places).
    WORSENING = "worsening"


class Frequency(enum.StrEnum):
    """How often the twitching happens."""

    #: A few times a week or less.
    OCCASIONAL = "occasional"
    #: Every day.
    DAILY = "daily"
    #: Most of the time.
    CONSTANT = "constant"


class Level(enum.StrEnum):
    """A self-rated level, e.g. of stress."""

    #: Low.
    LOW = "low"
    #: Moderate.
    MODERATE = "moderate"
    #: High.
    HIGH = "high"


class Strength(enum.StrEnum):
    """Muscle strength found on examination of the affected limb."""

    #: Full power.
    NORMAL = "normal"
    #: Objective weakness (MRC grade below 5).
    REDUCED = "reduced"


class Movement(enum.StrEnum):
    """A movement of the leg graded for power on examination, with its main root (myotome)."""

    #: Hip flexion (L2, L3).
    HIP_FLEXION = "hip_flexion"
    #: Knee extension, quadriceps (L3, L4).
    KNEE_EXTENSION = "knee_extension"
    #: Knee flexion, hamstrings (L5, S1).
    KNEE_FLEXION = "knee_flexion"
    #: Ankle dorsiflexion (L4, L5): weak in foot drop.
    ANKLE_DORSIFLEXION = "ankle_dorsiflexion"
    #: Great-toe extension (L5).
    GREAT_TOE_EXTENSION = "great_toe_extension"
    #: Ankle eversion (L5, S1).
    ANKLE_EVERSION = "ankle_eversion"
    #: Ankle plantar flexion (S1).
    PLANTAR_FLEXION = "plantar_flexion"


class Reflex(enum.StrEnum):
    """A tendon reflex found on examination."""

    #: Reduced or absent.
    REDUCED = "reduced"
    #: Normal.
    NORMAL = "normal"
    #: Brisk (an upper motor neuron sign).
    BRISK = "brisk"


class MedicationClass(enum.StrEnum):
    """Medication classes the knowledge base knows how to reason about."""

    #: Loop diuretics (furosemide, bumetanide): lower potassium and magnesium.
    LOOP_DIURETIC = "loop_diuretic"
    #: Thiazide diuretics (hydrochlorothiazide, indapamide): lower potassium and magnesium.
    THIAZIDE_DIURETIC = "thiazide_diuretic"
    #: Stimulants (amphetamines, methylphenidate, pseudoephedrine).
    STIMULANT = "stimulant"
    #: Selective serotonin reuptake inhibitors.
    SSRI = "ssri"
    #: Serotonin-noradrenaline reuptake inhibitors.
    SNRI = "snri"
    #: Bupropion.
    BUPROPION = "bupropion"
    #: Mirtazapine (can provoke restless legs).
    MIRTAZAPINE = "mirtazapine"
    #: Beta-2 agonists for asthma (salbutamol/albuterol, terbutaline).
    BETA2_AGONIST = "beta2_agonist"
    #: Systemic corticosteroids.
    CORTICOSTEROID = "corticosteroid"
    #: Proton-pump inhibitors (long-term use lowers magnesium).
    PROTON_PUMP_INHIBITOR = "proton_pump_inhibitor"
    #: Lithium.
    LITHIUM = "lithium"
    #: Sedating antihistamines (can provoke restless legs).
    SEDATING_ANTIHISTAMINE = "sedating_antihistamine"
    #: Dopamine antagonists (antipsychotics, metoclopramide; can provoke restless legs).
    DOPAMINE_ANTAGONIST = "dopamine_antagonist"
    #: Statins (a cause of myopathy and, rarely, rhabdomyolysis: read with creatine kinase).
    STATIN = "statin"
    #: Any other medication.
    OTHER = "other"


class Analyte(enum.StrEnum):
    """Laboratory analytes the knowledge base interprets."""

    #: Potassium, serum or plasma (or whole blood).
    POTASSIUM = "potassium"
    #: Magnesium.
    MAGNESIUM = "magnesium"
    #: Calcium, total, adjusted for albumin.
    CALCIUM_ADJUSTED = "calcium_adjusted"
    #: Calcium, total, not adjusted for albumin (never read as adjusted).
    CALCIUM_TOTAL = "calcium_total"
    #: Calcium, ionised.
    CALCIUM_IONISED = "calcium_ionised"
    #: 25-hydroxy vitamin D.
    VITAMIN_D = "vitamin_d"
    #: Vitamin B12, total.
    VITAMIN_B12 = "vitamin_b12"
    #: Ferritin.
    FERRITIN = "ferritin"
    #: Creatine kinase.
    CREATINE_KINASE = "creatine_kinase"
    #: Albumin, serum or plasma (used to adjust a total calcium).
    ALBUMIN = "albumin"
    #: Thyroid-stimulating hormone (thyroid function).
    TSH = "tsh"


class Category(enum.StrEnum):
    """The five categories of the differential."""

    #: Everyday triggers: caffeine, short sleep, stress, exercise, dehydration, low minerals, drugs.
    EVERYDAY_TRIGGERS = "everyday_triggers"
    #: Benign fasciculation syndrome.
    BENIGN_FASCICULATION_SYNDROME = "benign_fasciculation_syndrome"
    #: Restless legs syndrome.
    RESTLESS_LEGS_SYNDROME = "restless_legs_syndrome"
    #: Lumbar radiculopathy.
    LUMBAR_RADICULOPATHY = "lumbar_radiculopathy"
    #: Serious neurological disease: MND/ALS and mimics needing a neurologist, cauda equina.
    SERIOUS_NEUROLOGICAL = "serious_neurological"


class LabFlag(enum.StrEnum):
    """How a laboratory result compares with the knowledge base's limits (after unit conversion)."""

    #: At or below the critical (phoning) limit.
    CRITICAL_LOW = "critical_low"
    #: Below the deficiency threshold (vitamins).
    DEFICIENT = "deficient"
    #: Below the lower reference limit.
    LOW = "low"
    #: Within the reference range.
    NORMAL = "normal"
    #: Above the upper reference limit.
    HIGH = "high"
    #: At or above the critical (phoning) limit.
    CRITICAL_HIGH = "critical_high"
    #: Reported only in words as outside the reference range, direction not given (``A``).
    ABNORMAL = "abnormal"
    #: Reported only in words as critical, direction not given (``AA``).
    CRITICAL = "critical"
    #: No limits are applied to this analyte (context only).
    NOT_CLASSIFIED = "not_classified"


class Interpretation(enum.StrEnum):
    """A laboratory's interpretation of a result (HL7 ObservationInterpretation codes).

    Laboratories and EHRs often send the interpretation alone ("critically low"), without a value.
    """

    #: Critically low.
    LL = "LL"
    #: Low (below the reference range).
    L = "L"
    #: Normal (within the reference range).
    N = "N"
    #: High (above the reference range).
    H = "H"
    #: Critically high.
    HH = "HH"
    #: Abnormal, direction not given.
    A = "A"
    #: Critically abnormal, direction not given.
    AA = "AA"


#: The ``<analyte>_reported_<end>`` facts each interpretation sets: a critical interpretation is
#: also out of range, and one without a direction counts at both ends (the worse reading).
INTERPRETATION_ENDS: dict[Interpretation, tuple[str, ...]] = {
    Interpretation.LL: ("low", "critically_low"),
    Interpretation.L: ("low",),
    Interpretation.N: (),
    Interpretation.H: ("high",),
    Interpretation.HH: ("high", "critically_high"),
    Interpretation.A: ("low", "high"),
    Interpretation.AA: ("low", "critically_low", "high", "critically_high"),
}

#: Every ``<analyte>_reported_<end>`` end, in order.
REPORTED_ENDS = ("low", "critically_low", "high", "critically_high")

"""An independent specification of safe referral urgency, written from the clinical sources.

Written from the clinical sources themselves (each clause names the ids of ``kb/sources.toml`` it
rests on: the seed article's red flags, the guideline red flags of NICE CKS, GIRFT, NICE NG127 and
NG42, the MND Association/RCGP tool, and the laboratory limits of RCPath, UKKA, CKS, US laboratory
lists and UK consensus), **not** from ``kb/rules.toml``: the two are kept apart so that each checks
the other. The specification names findings by the public vocabulary of the input
(``Presentation.findings`` keys and the examination), and carries its own thresholds, copied from
those sources, never read from the knowledge base.

A specification clause is a monotone formula over screening items. It is written once, against a
small *algebra* (``item``, ``at_least``, ``any_``, ...), so that the same clause text is evaluated
in Python on one presentation (:class:`KleeneAlgebra`) and compiled into solver formulas for the
proof (``safety_symbolic.Z3Algebra``).

Unknown answers follow the project's rule for an incomplete screen, restated for the focused screen
(issue 14): the answer is the highest urgency of the clauses that certainly hold (a present answer
escalates whether or not its question was indicated), and if some clause that would raise it is
still open (unknown) *through questions the presentation calls for*, at least ``routine``. Which
questions it calls for is the specification's own table, ``safety_indications`` (written from the
sources, not read from ``kb/indications.toml``): a question that is not indicated and not answered
is read as absent when deciding whether the screen is open, and only then. So self-care is never
given while an indicated red-flag question is unanswered.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any, Generic, Protocol, TypeVar

import attrs

from fasciculate import Presentation, Urgency
from safety_indications import CORE, INDICATIONS, SpecIndication

T = TypeVar("T")
ABSENT, UNKNOWN, PRESENT = 0, 1, 2

# --- thresholds, copied from the sources (ids of kb/sources.toml), in SI units --------------------
PERSISTENT_DAYS = 14.0  # seed-article gives no number: "use 14 days" (expert-estimate)
SEVERAL_REGIONS = 2.0  # "spreading to several body areas": more than one region of the neuraxis
POTASSIUM_LOW, POTASSIUM_HIGH, POTASSIUM_CRITICAL_LOW = 3.5, 5.3, 2.5
# ukka-hyperkalaemia-2023: moderate hyperkalaemia 6.0-6.4 (urgent), severe >= 6.5 (emergency).
POTASSIUM_MODERATE, POTASSIUM_SEVERE = 6.0, 6.5
MAGNESIUM_LOW, MAGNESIUM_HIGH, MAGNESIUM_CRITICAL_LOW = 0.70, 1.00, 0.4
# us-critical-values-magnesium (unverified): >= 5.0 mg/dL; 5.0 / 2.431 = 2.057 mmol/L, read as
# 2.05 so that a result of exactly 5.0 mg/dL is critical.
MAGNESIUM_CRITICAL_HIGH = 2.05
CALCIUM_ADJUSTED_LOW, CALCIUM_ADJUSTED_HIGH, CALCIUM_ADJUSTED_CRITICAL_LOW = 2.20, 2.60, 1.8
# cks-hypercalcaemia: moderate 3.01-3.40 (urgent), severe > 3.40 (emergency), read
# for an unadjusted total calcium too.
HYPERCALCAEMIA_MODERATE_ABOVE, HYPERCALCAEMIA_SEVERE_ABOVE = 3.00, 3.40
CALCIUM_IONISED_LOW, CALCIUM_IONISED_HIGH, CALCIUM_IONISED_CRITICAL_LOW = 1.16, 1.32, 0.80
# us-critical-values (unverified): total calcium <= 6.5 mg/dL is critical; 6.5 / 4.008 = 1.6218
# mmol/L, read as 1.622 so that a result of exactly 6.5 mg/dL is critical.
CALCIUM_TOTAL_LOW, CALCIUM_TOTAL_HIGH, CALCIUM_TOTAL_CRITICAL_LOW = 2.20, 2.60, 1.622
# rcpath-2017-ck: creatine kinase >= 5000 U/L is phoned (urgent; emergency with rhabdomyolysis).
CREATINE_KINASE_PHONED = 5000.0
VITAMIN_D_LOW = 50.0  # nmol/L, uk-nos-2013 (30-50 may be inadequate; < 30 deficient)
VITAMIN_B12_LOW = 350.0  # ng/L, nice-ng239 (180-350 indeterminate; < 180 deficient)
# cks-hypercalcaemia: adjusted Ca = Ca + 0.02 x (40 - albumin g/L).
ALBUMIN_FACTOR, ALBUMIN_REFERENCE = Fraction("0.02"), Fraction(40)
# --- second edition: spinal red flags, motor deficit, scope, thyroid function ---
SEVERE_MRC_GRADE = 3.0  # NHS Lothian RefHelp: a deficit of grade 3 or less (Oxford scale)
FULL_MRC_GRADE = 5.0  # below full power is weakness
WEIGHT_LOSS_AGE = 50.0  # issue 12: unexplained weight loss "at 50 or over" (expert estimate)
ADULT_AGE = 16  # NICE NG127: recommendations for people aged 16 and over
TSH_LOW, TSH_HIGH = 0.4, 4.0  # a typical adult interval (expert estimate; laboratories differ)

#: Quantities that are screening questions: not given means unknown (asked for). Laboratory
#: results are evidence when present and never demanded: not measured means absent.
ASKED_QUANTITIES = frozenset({"duration_days", "region_count"})


class Algebra(Protocol[T]):
    """What a clause may use: items, comparisons, and monotone ``any_`` / ``all_``."""

    def item(self, name: str) -> T:
        """The level of a yes/no screening item."""

    def at_least(self, quantity: str, threshold: float) -> T:
        """``quantity >= threshold``."""

    def at_most(self, quantity: str, threshold: float) -> T:
        """``quantity <= threshold``."""

    def below(self, quantity: str, threshold: float) -> T:
        """``quantity < threshold``."""

    def above(self, quantity: str, threshold: float) -> T:
        """``quantity > threshold``."""

    def any_(self, *parts: T) -> T:
        """Holds when any part holds."""

    def all_(self, *parts: T) -> T:
        """Holds when every part holds."""


@attrs.frozen
class Clause:
    """One clinical statement: when *holds*, the urgency is at least *urgency*."""

    id: str
    urgency: Urgency
    source: str
    says: str
    holds: Callable[[Algebra[Any]], Any] = attrs.field(repr=False)


# A specific finding that is present makes its general item present, whatever the general question
# was answered (the worse reading of a contradiction). Only presence carries over: an unanswered
# specific question leaves the general one as it was. Written from the clinical reading of each
# item (seed-article, nice-cks-sciatica dermatomes and myotomes, nhs-lothian-spine MRC grades),
# not from kb/derivations.toml.
IMPLIED_BY: dict[str, tuple[str, ...]] = {
    # Weakness of a named movement, or weakness described by its course or extent, is weakness.
    "weakness": (
        "weak_knee_extension",
        "foot_drop",
        "weak_plantar_flexion",
        "progressive_weakness",
        "rapid_single_limb_weakness",
        "rapid_symmetric_weakness",
        "sudden_weakness",
        "bilateral_leg_weakness",
    ),
    # A weak named movement is weakness found on examination (L3/L4, L5, S1 myotomes).
    "exam_weakness": ("weak_knee_extension", "foot_drop", "weak_plantar_flexion"),
    # Numbness over a dermatome (L3/L4, L5) or over the saddle is numbness.
    "numbness": ("numbness_medial_leg", "numbness_lateral_leg", "saddle_sensory_loss"),
    # Radiating leg pain, sciatica in both legs and joint pain are all pain.
    "pain": ("radiating_leg_pain", "bilateral_sciatica", "joint_pain"),
    # Twitching felt in the tongue is tongue fasciculation.
    "tongue_twitching": ("region_tongue",),
}


def implied(a: Algebra[T], name: str, present_only: Callable[[T], T], raw: T) -> T:
    """The level of item *name*: its own answer, or present when a specific finding is present."""
    parts = [raw, *(present_only(a.item(specific)) for specific in IMPLIED_BY.get(name, ()))]
    if name == "exam_weakness":  # any movement graded below full power (MRC 5) is weakness
        parts.append(present_only(a.below("power_lowest", FULL_MRC_GRADE)))
    return a.any_(*parts)


def _any_weakness(a: Algebra[T]) -> T:
    # Every kind of limb weakness the screen asks about, reported or found on examination.
    return a.any_(
        a.item("weakness"),
        a.item("exam_weakness"),
        a.item("progressive_weakness"),
        a.item("rapid_single_limb_weakness"),
        a.item("rapid_symmetric_weakness"),
        a.item("sudden_weakness"),
        a.item("bilateral_leg_weakness"),
    )


def _wasting(a: Algebra[T]) -> T:
    return a.any_(a.item("visible_wasting"), a.item("exam_wasting"))


def _bulbar(a: Algebra[T]) -> T:
    return a.any_(
        a.item("slurred_speech"), a.item("swallowing_difficulty"), a.item("tongue_twitching")
    )


def _mnd_companion(a: Algebra[T]) -> T:
    # The MND red-flag tool's companions of a single feature: weakness, wasting, bulbar features
    # or progression (mnda-rcgp-red-flag: a feature and progression).
    return a.any_(_any_weakness(a), _wasting(a), _bulbar(a), a.item("worsening"))


def _neurological_deficit(a: Algebra[T]) -> T:
    # NICE CG75: limb weakness, difficulty walking, sensory loss, bladder or bowel dysfunction.
    return a.any_(
        _any_weakness(a),
        a.item("walking_difficulty"),
        a.item("numbness"),
        a.item("exam_sensory_loss"),
        a.item("saddle_sensory_loss"),
        a.item("bladder_dysfunction"),
        a.item("bowel_dysfunction"),
    )


def _ck_phoned(a: Algebra[T]) -> T:
    return a.any_(
        a.at_least("creatine_kinase_highest", CREATINE_KINASE_PHONED),
        a.item("creatine_kinase_reported_critically_high"),
    )


# Every analyte a laboratory can report, in words or as a value.
_LABS = ("potassium", "magnesium", "calcium_adjusted", "calcium_ionised", "calcium_total")
_LABS += ("vitamin_d", "vitamin_b12", "ferritin", "creatine_kinase", "albumin", "tsh")

R, U, E = Urgency.ROUTINE, Urgency.URGENT, Urgency.EMERGENCY
SEED = "seed-article"
CES = "nice-cks-sciatica, girft-ces-2023, nice-ng127"
NEURO = "nice-ng127"
MND = "nice-ng42, nice-ng127, mnda-rcgp-red-flag"

CLAUSES: tuple[Clause, ...] = (
    # --- the seed article's red flags, each alone at least routine ---
    Clause(
        "seed.persistent",
        R,
        SEED,
        "persistent or not resolving (14 days, expert estimate)",
        lambda a: a.at_least("duration_days", PERSISTENT_DAYS),
    ),
    Clause("seed.worsening", R, SEED, "worsening twitching", lambda a: a.item("worsening")),
    Clause(
        "seed.weakness",
        R,
        SEED,
        "muscle weakness (reported, examined, or shown as loss of dexterity)",
        lambda a: a.any_(_any_weakness(a), a.item("loss_of_dexterity")),
    ),
    Clause(
        "seed.numbness",
        R,
        SEED,
        "numbness (reported, or sensory loss on examination)",
        lambda a: a.any_(
            a.item("numbness"), a.item("exam_sensory_loss"), a.item("saddle_sensory_loss")
        ),
    ),
    Clause(
        "seed.pain",
        R,
        SEED,
        "pain with the twitching (radiating, bilateral or joint pain is pain)",
        lambda a: a.item("pain"),
    ),
    Clause("seed.wasting", R, SEED, "visible muscle wasting", _wasting),
    Clause(
        "seed.walking",
        R,
        SEED,
        "difficulty walking or balance problems (falls and trips included)",
        lambda a: a.any_(a.item("walking_difficulty"), a.item("falls")),
    ),
    Clause(
        "seed.spreading",
        R,
        SEED,
        "spreading to several body areas",
        lambda a: a.any_(a.item("spreading"), a.at_least("region_count", SEVERAL_REGIONS)),
    ),
    Clause(
        "seed.interference",
        R,
        SEED,
        "significant interference with daily life or sleep",
        lambda a: a.item("daily_life_interference"),
    ),
    Clause(
        "seed.injury",
        R,
        SEED,
        "onset after a specific injury",
        lambda a: a.item("onset_after_injury"),
    ),
    # --- guideline red flags, emergency: suspected cauda equina syndrome ---
    Clause("ces.saddle", E, CES, "saddle sensory loss", lambda a: a.item("saddle_sensory_loss")),
    Clause(
        "ces.bladder", E, CES, "new bladder disturbance", lambda a: a.item("bladder_dysfunction")
    ),
    Clause("ces.bowel", E, CES, "new bowel disturbance", lambda a: a.item("bowel_dysfunction")),
    Clause(
        "ces.sphincter", E, CES, "lax anal sphincter", lambda a: a.item("anal_sphincter_laxity")
    ),
    Clause("ces.sciatica", E, CES, "bilateral sciatica", lambda a: a.item("bilateral_sciatica")),
    Clause(
        "ces.leg_weakness",
        E,
        CES,
        "severe or progressive bilateral leg weakness",
        lambda a: a.item("bilateral_leg_weakness"),
    ),
    Clause(
        "ces.sexual",
        E,
        CES,
        "new sexual dysfunction with back or leg pain",
        lambda a: a.all_(
            a.item("sexual_dysfunction"),
            a.any_(a.item("back_pain"), a.item("radiating_leg_pain"), a.item("bilateral_sciatica")),
        ),
    ),
    # --- guideline red flags, emergency: other neurology, respiration, electrolytes ---
    Clause(
        "neuro.rapid_symmetric",
        E,
        NEURO,
        "rapidly progressive symmetrical weakness",
        lambda a: a.item("rapid_symmetric_weakness"),
    ),
    Clause(
        "neuro.sudden", E, NEURO, "sudden-onset limb weakness", lambda a: a.item("sudden_weakness")
    ),
    Clause(
        "neuro.orthopnoea_weakness",
        E,
        NEURO,
        "limb weakness with breathlessness lying flat",
        lambda a: a.all_(a.item("breathless_lying_flat"), _any_weakness(a)),
    ),
    Clause(
        "neuro.breathless_rest",
        E,
        NEURO,
        "breathless at rest",
        lambda a: a.item("breathless_at_rest"),
    ),
    Clause(
        "neuro.tetany_seizure",
        E,
        "expert-estimate (signs of severe hypocalcaemia or hypomagnesaemia)",
        "tetany, carpopedal spasm or seizure",
        lambda a: a.any_(a.item("tetany"), a.item("seizure")),
    ),
    Clause(
        "lab.critical",
        E,
        "rcpath-2017, sgh-critical-values, ukka-hyperkalaemia-2023, cks-hypercalcaemia, "
        "us-critical-values, us-critical-values-magnesium",
        "critically abnormal results at either end (limits inclusive), or reported critical",
        lambda a: a.any_(
            a.at_most("potassium_lowest", POTASSIUM_CRITICAL_LOW),
            a.at_least("potassium_highest", POTASSIUM_SEVERE),
            a.at_most("calcium_adjusted_lowest", CALCIUM_ADJUSTED_CRITICAL_LOW),
            a.above("calcium_adjusted_highest", HYPERCALCAEMIA_SEVERE_ABOVE),
            a.at_most("calcium_total_lowest", CALCIUM_TOTAL_CRITICAL_LOW),
            a.above("calcium_total_highest", HYPERCALCAEMIA_SEVERE_ABOVE),
            a.at_most("calcium_ionised_lowest", CALCIUM_IONISED_CRITICAL_LOW),
            a.at_most("magnesium_lowest", MAGNESIUM_CRITICAL_LOW),
            a.at_least("magnesium_highest", MAGNESIUM_CRITICAL_HIGH),
            *(a.item(f"{name}_reported_critically_low") for name in _LABS),
            *(
                a.item(f"{name}_reported_critically_high")
                for name in _LABS
                if name != "creatine_kinase"  # phoned at 5000 U/L: urgent (lab.phoned_ck)
            ),
        ),
    ),
    Clause(
        "lab.rhabdomyolysis",
        E,
        "rcpath-2017-ck (creatine kinase phoning limit; the mapping expert-estimate)",
        "creatine kinase at the phoning limit with strenuous exercise, dehydration, dark urine "
        "or a statin",
        lambda a: a.all_(
            _ck_phoned(a),
            a.any_(
                a.item("strenuous_exercise"),
                a.item("dehydration"),
                a.item("dark_urine"),
                a.item("med_statin"),
            ),
        ),
    ),
    # --- guideline red flags, urgent: motor neurone disease and urgent neurology ---
    Clause(
        "mnd.progressive_weakness",
        U,
        MND,
        "progressive weakness with fasciculation",
        lambda a: a.item("progressive_weakness"),
    ),
    Clause("mnd.wasting", U, MND, "visible wasting with fasciculation", _wasting),
    Clause(
        "mnd.bulbar",
        U,
        MND,
        "bulbar features: slurred speech, swallowing difficulty, tongue fasciculation",
        lambda a: a.any_(
            a.item("slurred_speech"), a.item("swallowing_difficulty"), a.item("tongue_twitching")
        ),
    ),
    Clause(
        "mnd.respiratory",
        U,
        MND,
        "breathlessness on exertion or lying flat; morning headache or daytime sleepiness only "
        "with weakness, wasting, bulbar features or progression",
        lambda a: a.any_(
            a.item("breathless_on_exertion"),
            a.item("breathless_lying_flat"),
            a.all_(
                a.any_(a.item("morning_headache"), a.item("daytime_sleepiness")),
                _mnd_companion(a),
            ),
        ),
    ),
    Clause(
        "mnd.sleep_headache_alone",
        R,
        "mnda-rcgp-red-flag (a single non-specific feature: review)",
        "morning headache or daytime sleepiness alone: review",
        lambda a: a.any_(a.item("morning_headache"), a.item("daytime_sleepiness")),
    ),
    Clause(
        "mnd.umn",
        U,
        MND,
        "an extensor plantar, or brisk reflexes with weakness, wasting, bulbar features or "
        "progression, beside fasciculation",
        lambda a: a.any_(a.item("babinski"), a.all_(a.item("brisk_reflexes"), _mnd_companion(a))),
    ),
    Clause(
        "mnd.brisk_alone",
        R,
        "mnda-rcgp-red-flag (a single non-specific feature: review)",
        "a brisk reflex alone: review",
        lambda a: a.item("brisk_reflexes"),
    ),
    Clause(
        "mnd.falls_dexterity",
        U,
        MND,
        "falls, trips or loss of dexterity with weakness",
        lambda a: a.all_(a.any_(a.item("falls"), a.item("loss_of_dexterity")), _any_weakness(a)),
    ),
    Clause(
        "mnd.objective_weakness_progressing",
        U,
        MND + " (MND Association/RCGP tool: a feature and progression)",
        "objective weakness with a worsening course",
        lambda a: a.all_(a.item("exam_weakness"), a.item("worsening")),
    ),
    Clause(
        "rad.progressive_deficit",
        U,
        "nice-cks-sciatica, nice-ng127",
        "radiculopathy with a progressive motor deficit",
        lambda a: a.all_(
            a.any_(
                a.item("back_pain"),
                a.item("radiating_leg_pain"),
                a.item("known_lumbar_radiculopathy"),
            ),
            a.item("progressive_weakness"),
        ),
    ),
    Clause(
        "neuro.rapid_single_limb",
        U,
        NEURO,
        "very rapidly progressive weakness of one limb",
        lambda a: a.item("rapid_single_limb_weakness"),
    ),
    # --- section 10: serious spinal pathology (NICE CG75/NG234, CKS sciatica) ---
    Clause(
        "spine.cancer_neuro",
        E,
        "nice-cg75, nice-ng234 (MSCC coordinator immediately)",
        "history of cancer with radicular pain, limb weakness, difficulty walking, sensory loss, "
        "bladder or bowel dysfunction",
        lambda a: a.all_(
            a.item("cancer_history"),
            a.any_(
                a.item("radiating_leg_pain"), a.item("bilateral_sciatica"), _neurological_deficit(a)
            ),
        ),
    ),
    Clause(
        "spine.cancer_back_pain",
        U,
        "cks-sciatica (suspected secondaries seen within a few days)",
        "back pain with a history of cancer",
        lambda a: a.all_(a.item("cancer_history"), a.item("back_pain")),
    ),
    Clause(
        "spine.infection_neuro",
        E,
        "cks-sciatica (red flags for infection), nice-cg75 (neurological deficit)",
        "back pain with fever, IV drug use or immunosuppression and a neurological deficit",
        lambda a: a.all_(
            a.item("back_pain"),
            a.any_(a.item("fever"), a.item("iv_drug_use"), a.item("immunosuppression")),
            _neurological_deficit(a),
        ),
    ),
    Clause(
        "spine.infection",
        U,
        "cks-sciatica (red flags for infection; the urgency an expert-estimate)",
        "back pain with fever, IV drug use or immunosuppression",
        lambda a: a.all_(
            a.item("back_pain"),
            a.any_(a.item("fever"), a.item("iv_drug_use"), a.item("immunosuppression")),
        ),
    ),
    Clause(
        "spine.haematoma_neuro",
        E,
        "expert-estimate (epidural haematoma or abscess)",
        "back pain on anticoagulation or after a spinal procedure, with a neurological deficit",
        lambda a: a.all_(
            a.item("back_pain"),
            a.any_(a.item("anticoagulation"), a.item("recent_spinal_procedure")),
            _neurological_deficit(a),
        ),
    ),
    Clause(
        "spine.weight_loss",
        U,
        "cks-sciatica (unexplained weight loss: malignancy; age 50 an expert-estimate)",
        "unexplained weight loss with back pain, or at 50 or over",
        lambda a: a.all_(
            a.item("weight_loss"),
            a.any_(a.item("back_pain"), a.at_least("age", WEIGHT_LOSS_AGE)),
        ),
    ),
    # --- section 10: focal motor deficit (NHS Lothian; CKS sciatica) ---
    Clause(
        "rad.severe_deficit",
        U,
        "nhs-lothian-spine (grade 3 or less: early surgical opinion)",
        "a movement graded 3 or less on the MRC scale",
        lambda a: a.at_most("power_lowest", SEVERE_MRC_GRADE),
    ),
    Clause(
        "rad.foot_drop",
        U,
        "nhs-lothian-spine (acute foot drop: early surgical opinion; asked with weakness)",
        "foot drop",
        lambda a: a.all_(a.item("foot_drop"), a.item("weakness")),
    ),
    Clause(
        "rad.knee_extension_reflex",
        U,
        "cks-sciatica (a new myotomal deficit is urgent)",
        "weak knee extension with a reduced knee jerk (L3/L4)",
        lambda a: a.all_(
            a.item("weak_knee_extension"), a.item("reduced_knee_reflex"), a.item("weakness")
        ),
    ),
    # --- section 10: risk of familial MND (NICE NG42: 5-10 % familial) ---
    Clause(
        "mnd.family_history",
        U,
        "nice-ng42 (5-10 % familial; the mapping an expert-estimate)",
        "family history of MND with weakness or progression",
        lambda a: a.all_(
            a.item("family_history_mnd"), a.any_(_any_weakness(a), a.item("worsening"))
        ),
    ),
    # --- section 10: scope (NICE NG127 recommendations from age 16) ---
    Clause(
        "scope.child",
        R,
        "nice-ng127 (adult recommendations from 16; never self-care)",
        "aged under 16",
        lambda a: a.item("age_under_16"),
    ),
    # --- moderate bands, urgent ---
    Clause(
        "lab.moderate",
        U,
        "ukka-hyperkalaemia-2023 (moderate hyperkalaemia), cks-hypercalcaemia (moderate)",
        "moderate hyperkalaemia or hypercalcaemia",
        lambda a: a.any_(
            a.at_least("potassium_highest", POTASSIUM_MODERATE),
            a.above("calcium_adjusted_highest", HYPERCALCAEMIA_MODERATE_ABOVE),
            a.above("calcium_total_highest", HYPERCALCAEMIA_MODERATE_ABOVE),
        ),
    ),
    Clause(
        "lab.phoned_ck",
        U,
        "rcpath-2017-ck (creatine kinase >= 5000 U/L phoned; the mapping expert-estimate)",
        "creatine kinase at or above the phoning limit, or reported critically high",
        _ck_phoned,
    ),
    # --- abnormal, not critical, laboratory results: routine ---
    Clause(
        "lab.out_of_range",
        R,
        "turner-talbot-2013, uk-lab-consensus, uk-nos-2013, nice-ng239 (reassure only with normal "
        "results; an abnormal result never reads as nothing wrong)",
        "a result outside its reference range at either end, or reported outside it",
        lambda a: a.any_(
            a.below("potassium_lowest", POTASSIUM_LOW),
            a.above("potassium_highest", POTASSIUM_HIGH),
            a.below("magnesium_lowest", MAGNESIUM_LOW),
            a.above("magnesium_highest", MAGNESIUM_HIGH),
            a.below("calcium_adjusted_lowest", CALCIUM_ADJUSTED_LOW),
            a.above("calcium_adjusted_highest", CALCIUM_ADJUSTED_HIGH),
            a.below("calcium_ionised_lowest", CALCIUM_IONISED_LOW),
            a.above("calcium_ionised_highest", CALCIUM_IONISED_HIGH),
            a.below("calcium_total_lowest", CALCIUM_TOTAL_LOW),
            a.above("calcium_total_highest", CALCIUM_TOTAL_HIGH),
            a.below("vitamin_d_lowest", VITAMIN_D_LOW),
            a.below("vitamin_b12_lowest", VITAMIN_B12_LOW),
            *(a.item(f"{name}_reported_{end}") for name in _LABS for end in ("low", "high")),
        ),
    ),
    Clause(
        "lab.thyroid",
        R,
        "turner-talbot-2013 (reassure only with normal thyroid function; range expert-estimate)",
        "TSH outside its reference range",
        lambda a: a.any_(a.below("tsh_lowest", TSH_LOW), a.above("tsh_highest", TSH_HIGH)),
    ),
)


def combine(levels: Mapping[str, int], focused: Mapping[str, int] | None = None) -> Urgency:
    """The urgency given the Kleene level of every clause (the incomplete-screen law).

    *levels* are read on the answers as given; *focused* on the answers with every unanswered
    question that is not indicated read as absent (the open screen is decided on these; without
    them, on *levels*: every question indicated, the first edition's law).
    """
    focused = levels if focused is None else focused
    held = [clause.urgency for clause in CLAUSES if levels[clause.id] == PRESENT]
    base = max(held, default=Urgency.SELF_CARE)
    still_open = any(focused[clause.id] == UNKNOWN and clause.urgency > base for clause in CLAUSES)
    return max(base, Urgency.ROUTINE) if still_open else base


# --- evaluation on one screen ------------------------------------------------------------------


@attrs.frozen
class Screen:
    """What the specification reads: item levels and quantities (``None``: not given)."""

    levels: Mapping[str, int]
    quantities: Mapping[str, float | None]


class KleeneAlgebra(Generic[T]):
    """Evaluate clauses on one :class:`Screen` in Kleene logic (absent 0, unknown 1, present 2)."""

    def __init__(self, screen: Screen) -> None:
        self.screen = screen

    def item(self, name: str) -> int:
        own = self.screen.levels.get(name, UNKNOWN)
        return implied(self, name, lambda level: PRESENT if level == PRESENT else ABSENT, own)

    def _compare(self, quantity: str, holds: bool | None) -> int:
        if holds is None:
            return UNKNOWN if quantity in ASKED_QUANTITIES else ABSENT
        return PRESENT if holds else ABSENT

    def _value(self, quantity: str) -> float | None:
        return self.screen.quantities.get(quantity)

    def at_least(self, quantity: str, threshold: float) -> int:
        value = self._value(quantity)
        return self._compare(quantity, None if value is None else value >= threshold)

    def at_most(self, quantity: str, threshold: float) -> int:
        value = self._value(quantity)
        return self._compare(quantity, None if value is None else value <= threshold)

    def below(self, quantity: str, threshold: float) -> int:
        value = self._value(quantity)
        return self._compare(quantity, None if value is None else value < threshold)

    def above(self, quantity: str, threshold: float) -> int:
        value = self._value(quantity)
        return self._compare(quantity, None if value is None else value > threshold)

    def any_(self, *parts: int) -> int:
        return max(parts)

    def all_(self, *parts: int) -> int:
        return min(parts)


class FocusedAlgebra(KleeneAlgebra[T]):
    """The same, with every unanswered question that is not *indicated* read as absent."""

    def __init__(self, screen: Screen, indicated: frozenset[str]) -> None:
        super().__init__(screen)
        self.indicated = indicated

    def item(self, name: str) -> int:
        own = self.screen.levels.get(name, UNKNOWN)
        if own == UNKNOWN and name not in self.indicated:
            own = ABSENT
        return implied(self, name, lambda level: PRESENT if level == PRESENT else ABSENT, own)

    def _compare(self, quantity: str, holds: bool | None) -> int:
        if holds is None and quantity not in self.indicated:
            return ABSENT
        return super()._compare(quantity, holds)


def indicated(
    screen: Screen, indications: tuple[SpecIndication, ...] = INDICATIONS
) -> frozenset[str]:
    """The questions *screen* calls for: the core, and those of every indication that may hold."""
    algebra: KleeneAlgebra[int] = KleeneAlgebra(screen)
    opened = (ind.questions for ind in indications if ind.when(algebra) != ABSENT)
    return CORE.union(*opened)


def clause_levels(
    screen: Screen, *, focused: tuple[SpecIndication, ...] | None = None
) -> dict[str, int]:
    """The Kleene level of every clause on *screen* (*focused*: on the questions it calls for)."""
    algebra: KleeneAlgebra[int] = (
        KleeneAlgebra(screen)
        if focused is None
        else FocusedAlgebra(screen, indicated(screen, focused))
    )
    return {clause.id: clause.holds(algebra) for clause in CLAUSES}


def spec_urgency(screen: Screen, indications: tuple[SpecIndication, ...] = INDICATIONS) -> Urgency:
    """The least urgency a safe answer may give for *screen* (and, exactly, the expected one)."""
    levels = clause_levels(screen)
    unfocused = combine(levels)
    if unfocused == combine(levels, dict.fromkeys(levels, ABSENT)):
        return unfocused  # nothing is open that the focused screen could close
    return combine(levels, clause_levels(screen, focused=indications))


# --- reading a presentation, independently of fasciculate._facts --------------------------------

_TRI = {"absent": ABSENT, "unknown": UNKNOWN, "present": PRESENT}
# The four regions of the neuraxis (Gold Coast criteria), by twitching site. The eyelid is none of
# them: eyelid myokymia is benign and not a lower motor neuron sign (issue 13).
_NEURAXIS = {
    "anterior_thigh": "lumbosacral",
    "posterior_thigh": "lumbosacral",
    "knee": "lumbosacral",
    "calf": "lumbosacral",
    "foot": "lumbosacral",
    "arm": "cervical",
    "hand": "cervical",
    "face": "bulbar",
    "tongue": "bulbar",
    "trunk": "thoracic",
}


def screen_of(presentation: Presentation) -> Screen:
    """Read a presentation the way a clinician would read the form (not via fasciculate._facts)."""
    # The vocabularies are string enums, so every answer compares equal to its JSON spelling.
    levels: dict[str, int] = {
        str(name): _TRI[answer] for name, answer in presentation.findings.items()
    }
    twitching, exam = presentation.twitching, presentation.examination
    regions = [str(region) for region in twitching.regions]
    levels.update(_named_sites(regions))
    age = presentation.patient.age
    if age is not None:
        levels["age_under_16"] = PRESENT if age < ADULT_AGE else ABSENT
    if twitching.course is not None:
        levels["worsening"] = PRESENT if twitching.course == "worsening" else ABSENT
    if exam.strength is not None:
        levels["exam_weakness"] = PRESENT if exam.strength == "reduced" else ABSENT
    if exam.knee_reflex is not None:
        levels["reduced_knee_reflex"] = PRESENT if exam.knee_reflex == "reduced" else ABSENT
    reflexes = [exam.knee_reflex, exam.ankle_reflex]
    if "brisk" in reflexes:
        levels["brisk_reflexes"] = PRESENT
    elif None not in reflexes:
        levels["brisk_reflexes"] = ABSENT
    exposures = presentation.exposures
    for name, answer in (
        ("strenuous_exercise", exposures.strenuous_exercise_48h),
        ("dehydration", exposures.dehydration),
        ("babinski", exam.babinski),
        ("exam_wasting", exam.wasting),
        ("exam_sensory_loss", exam.sensory_loss),
        ("anal_sphincter_laxity", exam.anal_sphincter_laxity),
    ):
        levels[name] = _TRI[answer]

    grades = list(exam.power.values())
    quantities: dict[str, float | None] = {
        "duration_days": presentation.duration_days,
        "region_count": (
            float(len({_NEURAXIS[r] for r in regions if r in _NEURAXIS})) if regions else None
        ),
        "age": float(age) if age is not None else None,
        "power_lowest": float(min(grades)) if grades else None,
    }
    if presentation.medications:
        statin = any(
            medication.drug_class == "statin"
            or (medication.drug_class is None and _STATIN.search((medication.name or "").lower()))
            for medication in presentation.medications
        )
        levels["med_statin"] = PRESENT if statin else ABSENT
    _read_labs(presentation, levels, quantities)
    return Screen(levels=levels, quantities=quantities)


def _named_sites(regions: list[str]) -> dict[str, int]:
    """The list of sites answers "is the tongue (a hand, the face) one of them?"."""
    if not regions:
        return {}
    return {f"region_{site}": PRESENT if site in regions else ABSENT for site in _NAMED}


_NAMED = ("tongue", "hand", "face")


def _read_labs(
    presentation: Presentation, levels: dict[str, int], quantities: dict[str, float | None]
) -> None:
    """The laboratory results: values (with calcium adjusted for albumin) and words."""
    values = {
        analyte: [lab.si_value for lab in presentation.labs if lab.analyte == analyte]
        for analyte in _LABS
    }
    values["calcium_adjusted"] += _adjusted(values["calcium_total"], values["albumin"])
    for analyte in _LABS:
        given = [value for value in values[analyte] if value is not None]
        quantities[f"{analyte}_lowest"] = min(given) if given else None
        quantities[f"{analyte}_highest"] = max(given) if given else None
        # A result in words: a laboratory's LL is critical and low, L low, AA both ends...
        words = {str(lab.interpretation) for lab in presentation.labs if lab.analyte == analyte}
        for end, said in _SAID.items():
            levels[f"{analyte}_reported_{end}"] = PRESENT if words & said else ABSENT


# Which interpretations (HL7 codes) say a result is beyond each end (a critical word
# counts as critical, L / H / A as out of range; A and AA give no direction, so both ends).
_SAID = {
    "low": {"L", "LL", "A", "AA"},
    "critically_low": {"LL", "AA"},
    "high": {"H", "HH", "A", "AA"},
    "critically_high": {"HH", "AA"},
}
_STATIN = re.compile(r"(?<!ny)statin\b")  # every statin is an -statin; nystatin is not


def _adjusted(totals: list[float | None], albumins: list[float | None]) -> list[float | None]:
    """Total calcium adjusted for albumin by the CKS formula, for every pair of results."""
    return [
        float(
            Fraction(repr(total)) + ALBUMIN_FACTOR * (ALBUMIN_REFERENCE - Fraction(repr(albumin)))
        )
        for total in totals
        for albumin in albumins
        if total is not None and albumin is not None
    ]


def spec_of(presentation: Presentation) -> Urgency:
    """The specified urgency of a presentation."""
    return spec_urgency(screen_of(presentation))

"""The specification's own focused screen: which questions a presentation calls for.

Written from the clinical sources (ids of ``kb/sources.toml``; the focused-screen notes of the
second edition), **not** from ``kb/indications.toml``: the two are kept apart so that each checks
the other, like the clauses of ``safety_spec``. A question is an item or an asked quantity of the
specification. It is *core* (asked of every presentation: the seed article's red flags, examined
or reported, duration, course, the sites and the age that decides the scope) or *indicated* by a
monotone condition written against the same algebra as the clauses. An indicator that is not
answered counts as indicating (Kleene: unknown indicates), so every indicator of a ``when`` that is
not itself core costs one answer; the conditions keep to core items where the clinical reading
allows it, and lean on the implications of ``IMPLIED_BY`` (radiating leg pain and sciatica are
pain, a named weakness is weakness): when the general question is answered absent, the specific
one cannot be present.

Only an item that a clause reads directly can hold a clause open; an item read only through an
implication (dermatomal numbness, joint pain, weak plantar flexion) carries presence alone and is
never an open question, so it needs no indication.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

#: Asked of every presentation: the seed article's red flags as the patient reports them, how long
#: and which way the twitching goes, where it is (the sites: the tongue, the hands and the face
#: among them), and the age that decides whether the adult sources apply (seed-article;
#: nice-ng127 from age 16). The examination is not core: the seed article sends a twitch to a
#: clinician only with a red flag or when it persists, and a short-lived twitch with none is
#: self-care with a safety net, unexamined (see ``spec.examination``).
CORE = frozenset(
    {
        "weakness",
        "numbness",
        "pain",
        "visible_wasting",
        "walking_difficulty",
        "spreading",
        "daily_life_interference",
        "onset_after_injury",
        "worsening",
        "duration_days",
        "region_count",
        "region_tongue",
        "region_hand",
        "region_face",
        "age_under_16",
    }
)
PERSISTENT_DAYS = 14.0  # seed-article "persistent", as in safety_spec (expert estimate)

CK_PHONED = 5000.0  # rcpath-2017-ck, as in safety_spec
SPINAL_AGE = 50.0  # cks-sciatica weight loss, age 50 an expert estimate (issue 12)
# Lower limits of the electrolytes whose deficit causes tetany and seizures (uk-lab-consensus).
_LOW_LIMITS = {
    "potassium": 3.5,
    "magnesium": 0.70,
    "calcium_adjusted": 2.20,
    "calcium_ionised": 1.16,
    "calcium_total": 2.20,
}


@attrs.frozen
class SpecIndication:
    """When *when* holds (or may hold), the *questions* are asked."""

    id: str
    questions: tuple[str, ...]
    source: str
    says: str
    when: Callable[[Any], Any] = attrs.field(repr=False)


# The indicators are the reported (core) forms: an examination finding is itself a red flag when
# present, and an unexamined leg must not indicate (unknown indicates) every follow-up question.
def _weakness(a: Any) -> Any:
    return a.item("weakness")


def _sensory(a: Any) -> Any:
    return a.item("numbness")


def _wasting(a: Any) -> Any:
    return a.item("visible_wasting")


def _seed_red_flag(a: Any) -> Any:
    # Any red flag of the seed article, as reported: each sends the twitch to a clinician.
    return a.any_(
        *(
            a.item(name)
            for name in (
                "weakness",
                "numbness",
                "pain",
                "visible_wasting",
                "walking_difficulty",
                "spreading",
                "daily_life_interference",
                "onset_after_injury",
                "worsening",
            )
        ),
        a.at_least("duration_days", PERSISTENT_DAYS),
        a.at_least("region_count", 2.0),
    )


def _mnd_features(a: Any) -> Any:
    # The MND red-flag tool's companions: weakness, wasting, bulbar features (the tongue among
    # the sites), progression (a worsening course, or spread to another region of the neuraxis).
    return a.any_(
        _weakness(a),
        _wasting(a),
        a.item("worsening"),
        a.item("spreading"),
        a.at_least("region_count", 2.0),
        a.item("region_tongue"),
    )


def _leg_or_back_symptoms(a: Any) -> Any:
    # Back pain, leg pain (radiating leg pain and sciatica are pain), leg weakness or numbness.
    return a.any_(a.item("back_pain"), a.item("pain"), _weakness(a), _sensory(a))


INDICATIONS: tuple[SpecIndication, ...] = (
    SpecIndication(
        "spec.examination",
        (
            "exam_weakness",
            "exam_wasting",
            "exam_sensory_loss",
            "brisk_reflexes",
            "babinski",
            "reduced_knee_reflex",
        ),
        "seed-article (a red flag or persistence sends the twitch to a clinician), blexrud-1993 "
        "(benign fasciculation is a diagnosis of a normal neurological examination), "
        "nice-cks-sciatica (back pain: the legs are examined)",
        "a red flag of the seed article, persistence (14 days) or spread, or back pain",
        lambda a: a.any_(_seed_red_flag(a), a.item("back_pain")),
    ),
    SpecIndication(
        "spec.kinds_of_weakness",
        (
            "progressive_weakness",
            "rapid_single_limb_weakness",
            "rapid_symmetric_weakness",
            "sudden_weakness",
            "bilateral_leg_weakness",
            "foot_drop",
            "weak_knee_extension",
            "loss_of_dexterity",
        ),
        "nice-ng127, nhs-lothian-spine, cks-sciatica (the course and pattern of a weakness, and "
        "the myotome and reflex it affects, are asked of a weakness)",
        "reported or examined weakness",
        _weakness,
    ),
    SpecIndication(
        "spec.cauda_equina",
        (
            "saddle_sensory_loss",
            "bladder_dysfunction",
            "bowel_dysfunction",
            "sexual_dysfunction",
            "bilateral_sciatica",
            "bilateral_leg_weakness",
            "anal_sphincter_laxity",
            "back_pain",
            "radiating_leg_pain",
        ),
        "nice-cks-sciatica, girft-ces-2023 (the CES screen belongs to the assessment of back pain "
        "and sciatica), nhs-lothian-spine, nice-ng127 (bilateral leg weakness or numbness)",
        "back pain, leg pain, leg weakness or numbness",
        _leg_or_back_symptoms,
    ),
    SpecIndication(
        "spec.bulbar_respiratory",
        (
            "slurred_speech",
            "swallowing_difficulty",
            "tongue_twitching",
            "breathless_on_exertion",
            "breathless_lying_flat",
            "breathless_at_rest",
            "morning_headache",
            "daytime_sleepiness",
        ),
        "nice-ng42, mnda-rcgp-red-flag, nice-ng127 (bulbar and respiratory function are assessed "
        "with weakness, wasting, bulbar features or progression)",
        "weakness, wasting, bulbar features or progression",
        _mnd_features,
    ),
    SpecIndication(
        "spec.motor_neurone_signs",
        (
            "falls",
            "loss_of_dexterity",
        ),
        "mnda-rcgp-red-flag (falls and loss of dexterity: asked with a feature of MND or "
        "progression); seed-article (falls are a balance problem)",
        "weakness, wasting, bulbar features, progression, or difficulty walking",
        lambda a: a.any_(_mnd_features(a), a.item("walking_difficulty")),
    ),
    SpecIndication(
        "spec.family_history",
        ("family_history_mnd",),
        "nice-ng42 (5-10 % of MND is familial: a risk input with weakness, wasting or progression)",
        "weakness, wasting or a worsening course",
        lambda a: a.any_(_weakness(a), _wasting(a), a.item("worsening")),
    ),
    SpecIndication(
        "spec.serious_spinal_pathology",
        (
            "cancer_history",
            "fever",
            "iv_drug_use",
            "immunosuppression",
            "anticoagulation",
            "recent_spinal_procedure",
            "weight_loss",
            "back_pain",
            "radiating_leg_pain",
            "known_lumbar_radiculopathy",
        ),
        "cks-sciatica (red flags looked for in back pain and sciatica), nice-cg75, nice-ng234 "
        "(cancer with any neurological symptom)",
        "back pain, leg pain, weakness, numbness or difficulty walking",
        lambda a: a.any_(_leg_or_back_symptoms(a), a.item("walking_difficulty")),
    ),
    SpecIndication(
        "spec.weight_loss_age",
        ("weight_loss",),
        "cks-sciatica (unexplained weight loss: malignancy; age 50 an expert-estimate)",
        "aged 50 or over",
        lambda a: a.at_least("age", SPINAL_AGE),
    ),
    SpecIndication(
        "spec.rhabdomyolysis",
        ("strenuous_exercise", "dehydration", "dark_urine", "med_statin"),
        "rcpath-2017-ck (the causes of a phoned creatine kinase are asked with it)",
        "creatine kinase at the phoning limit, or reported critically high",
        lambda a: a.any_(
            a.at_least("creatine_kinase_highest", CK_PHONED),
            a.item("creatine_kinase_reported_critically_high"),
        ),
    ),
    SpecIndication(
        "spec.tetany_seizure",
        ("tetany", "seizure"),
        "expert-estimate (tetany and seizures are signs of a severe deficit of calcium or "
        "magnesium: asked with numbness or tingling (pins and needles, the paraesthesia of a low "
        "calcium or magnesium), twitching of the hands or face where carpopedal spasm and "
        "Chvostek's sign show, spread, or a low electrolyte)",
        "numbness or tingling, twitching in the hands or face or in several regions, or a low "
        "potassium, magnesium or calcium",
        lambda a: a.any_(
            _sensory(a),
            a.item("tingling"),
            a.item("region_hand"),
            a.item("region_face"),
            a.item("spreading"),
            a.at_least("region_count", 2.0),
            *(a.below(f"{name}_lowest", limit) for name, limit in _LOW_LIMITS.items()),
            *(a.item(f"{name}_reported_low") for name in _LOW_LIMITS),
        ),
    ),
)

#: What the sources call for and the knowledge base does not ask: findings of the review of
#: ``kb/indications.toml`` against this table. Each is left out of ``INDICATIONS`` (so the proofs
#: hold the knowledge base to the rest) and proved a finding in ``test_safety_proof``: with it
#: added, the knowledge base answers below the specification. A finding that the knowledge base
#: comes to ask fails that test, and then moves into ``INDICATIONS``.
FINDINGS: tuple[SpecIndication, ...] = ()


def indications_of(question: str) -> tuple[SpecIndication, ...]:
    """The indications that list *question*."""
    return tuple(ind for ind in INDICATIONS if question in ind.questions)

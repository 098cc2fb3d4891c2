"""Builders for test presentations, written from the clinical sources (not from the rule table)."""

from __future__ import annotations

import copy
from typing import Any

# The screening questions of the seed article's and the guidelines' red flags, by finding id.
SEED_RED_FLAGS = (
    "weakness",
    "numbness",
    "pain",
    "visible_wasting",
    "walking_difficulty",
    "spreading",
    "daily_life_interference",
    "onset_after_injury",
)
CAUDA_EQUINA = (
    "saddle_sensory_loss",
    "bladder_dysfunction",
    "bowel_dysfunction",
    "bilateral_sciatica",
    "bilateral_leg_weakness",
    "sexual_dysfunction",
)
NEURO_EMERGENCY = (
    "rapid_symmetric_weakness",
    "sudden_weakness",
    "breathless_lying_flat",
    "breathless_at_rest",
    "tetany",
    "seizure",
)
MOTOR_NEURON = (
    "progressive_weakness",
    "rapid_single_limb_weakness",
    "slurred_speech",
    "swallowing_difficulty",
    "tongue_twitching",
    "breathless_on_exertion",
    "morning_headache",
    "daytime_sleepiness",
    "falls",
    "loss_of_dexterity",
)
RADICULAR = ("back_pain", "radiating_leg_pain", "known_lumbar_radiculopathy", "foot_drop")
# Red flags for serious spinal pathology (nice-cg75, nice-ng234, cks-sciatica)
# and the risk inputs asked with weakness (family history of MND, NICE NG42).
SPINAL = (
    "cancer_history",
    "fever",
    "iv_drug_use",
    "immunosuppression",
    "anticoagulation",
    "recent_spinal_procedure",
    "weight_loss",
    "family_history_mnd",
)
SCREEN = SEED_RED_FLAGS + CAUDA_EQUINA + NEURO_EMERGENCY + MOTOR_NEURON + RADICULAR + SPINAL

NORMAL_EXAM = {
    "strength": "normal",
    "knee_reflex": "normal",
    "ankle_reflex": "normal",
    "babinski": "absent",
    "wasting": "absent",
    "sensory_loss": "absent",
    "anal_sphincter_laxity": "absent",
}

_NEGATIVE: dict[str, Any] = {
    "patient": {"age": 30, "sex": "female"},
    "twitching": {"regions": ["knee"], "duration_days": 3, "course": "stable"},
    "findings": dict.fromkeys(SCREEN, "absent"),
    "examination": NORMAL_EXAM,
}


def negative(**changes: Any) -> dict[str, Any]:
    """A complete screen with every red flag absent (self-care), with *changes* merged in.

    ``findings``, ``examination``, ``twitching`` and ``patient`` changes are merged key by key;
    other keys replace.
    """
    data = copy.deepcopy(_NEGATIVE)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key].update(value)
        else:
            data[key] = value
    return data

"""Knowledge base, second edition, items 11 and 12: advice for the clinician, and a safety net
that lists what would raise the urgency from where the patient is now."""

from __future__ import annotations

from typing import Any

import pytest

import fasciculate
from _builders import negative
from _cli_process import assess_in_a_process
from fasciculate import Urgency, knowledge_base

KB = knowledge_base()
RLS = {"urge_to_move": "present", "worse_at_rest": "present"}
LOW_FERRITIN = [{"analyte": "ferritin", "value": 40, "unit": "ug/L"}]


def advice_ids(data: dict[str, Any]) -> list[str]:
    return [item.id for item in fasciculate.assess(data).advice]


# --- item 11: advice --------------------------------------------------------------------------


def test_caffeine_in_pregnancy_is_a_trigger_above_200_mg():
    """In pregnancy 300 mg of caffeine a day is a trigger (EFSA: 200 mg); otherwise it is not."""
    pregnant = negative(findings={"pregnancy": "present"}, exposures={"caffeine_mg_per_day": 300})
    not_pregnant = negative(
        findings={"pregnancy": "absent"}, exposures={"caffeine_mg_per_day": 300}
    )
    assert "reduce_stimulants" in advice_ids(pregnant)
    assert "reduce_stimulants" not in advice_ids(not_pregnant)
    text = next(a.text for a in fasciculate.assess(pregnant).advice if a.id == "reduce_stimulants")
    assert "200 mg a day or less in pregnancy" in text
    shown = assess_in_a_process(pregnant)
    assert "TRG-CAFFEINE" in [trigger["id"] for trigger in shown["triggers"]]


def test_iron_advice_only_with_restless_legs_features_and_always_with_its_cause():
    """Low ferritin alone gives no iron advice; with restless-legs features it gives iron advice
    together with 'find the cause of the iron deficiency' (NICE CKS)."""
    alone = negative(labs=LOW_FERRITIN)
    with_rls = negative(labs=LOW_FERRITIN, findings=RLS)
    assert not {"iron", "iron_cause"} & set(advice_ids(alone))
    assert {"iron", "iron_cause"} <= set(advice_ids(with_rls))
    cause = next(a for a in fasciculate.assess(with_rls).advice if a.id == "iron_cause")
    assert ("cks-anaemia-iron", "Find the cause") == (cause.source, cause.text[:14])
    shown = {item["id"] for item in assess_in_a_process(with_rls)["advice"]}
    assert {"iron", "iron_cause"} <= shown


def test_every_feature_with_iron_advice_also_gives_its_cause():
    """No knowledge-base feature offers iron without 'find the cause'."""
    for feature in KB.features:
        if "iron" in feature.advice:
            assert "iron_cause" in feature.advice, feature.id


@pytest.mark.parametrize(
    "data",
    [
        negative(
            labs=[{"analyte": "creatine_kinase", "value": 20000, "unit": "U/L"}],
            exposures={"strenuous_exercise_48h": "present", "dehydration": "present"},
        ),
        negative(
            findings={"slurred_speech": "present"},
            exposures={"caffeine_mg_per_day": 600, "sleep_hours": 5, "stress": "high"},
        ),
        negative(
            labs=[{"analyte": "potassium", "value": 2.4, "unit": "mmol/L"}],
            medications=[{"drug_class": "loop_diuretic"}],
        ),
    ],
    ids=["rhabdomyolysis", "bulbar-with-triggers", "critical-potassium-on-a-diuretic"],
)
def test_no_diet_or_exercise_advice_beside_an_urgent_or_emergency_result(data: dict[str, Any]):
    """Beside an urgent or emergency result, no lifestyle advice (fluids, diet, exercise...)."""
    result = fasciculate.assess(data)
    assert result.urgency >= Urgency.URGENT
    lifestyle = {key for key, item in KB.advice.items() if item.lifestyle}
    assert {"hydration", "mineral_diet", "stretching"} <= lifestyle
    assert set() == {item.id for item in result.advice} & lifestyle
    shown = {item["id"] for item in assess_in_a_process(data)["advice"]}
    assert set() == shown & lifestyle


def test_clinical_advice_still_accompanies_an_urgent_result():
    """A medication review, which is not lifestyle advice, is kept beside an emergency."""
    data = negative(
        labs=[{"analyte": "potassium", "value": 2.4, "unit": "mmol/L"}],
        medications=[{"drug_class": "loop_diuretic"}],
    )
    assert "medication_review" in advice_ids(data)


@pytest.mark.parametrize("item", sorted(KB.advice))
def test_advice_is_worded_for_the_clinician(item: str):
    """Advice addresses the clinician (advise, review, consider...), never the patient as 'you'."""
    text = KB.advice[item].text
    assert " you" not in f" {text.lower()}", text
    assert not text.startswith(("Drink", "Eat", "Aim", "Cut down", "Stretch", "Manage")), text


# --- item 12: the safety net --------------------------------------------------------------------


def test_safety_net_of_a_routine_patient_lists_the_urgent_features():
    """At routine, speech, swallowing, breathlessness on exertion and falls are listed as urgent."""
    result = fasciculate.assess(negative(findings={"weakness": "present"}))
    assert Urgency.ROUTINE == result.urgency
    urgent = next(line for line in result.safety_net if line.startswith("Urgent referral"))
    for feature in ("slurred speech", "difficulty swallowing", "breathlessness on exertion"):
        assert feature in urgent
    assert "falls or trips" in urgent  # with weakness already present, falls alone is urgent
    assert not any(line.startswith("Clinical review") for line in result.safety_net)


def test_safety_net_never_lists_a_finding_the_patient_already_has():
    """A present finding (here slurred speech and weakness) is never in the safety net."""
    data = negative(findings={"slurred_speech": "present", "weakness": "present"})
    result = fasciculate.assess(data)
    assert Urgency.URGENT == result.urgency
    text = " ".join(result.safety_net)
    labels = [KB.facts[name].label.lower() for name in ("slurred_speech", "weakness")]
    assert [] == [label for label in labels if label in text]
    assert all(line.startswith("Same-day assessment") for line in result.safety_net)
    report = assess_in_a_process(data, text=True)
    assert "Safety net: what would raise the urgency from here" in report
    assert "Muscle weakness" not in report.split("Safety net:")[1]


def test_safety_net_from_creatine_kinase_lists_what_makes_it_an_emergency():
    """Creatine kinase 6,000 (urgent): dark urine and dehydration would make it same-day."""
    data = negative(labs=[{"analyte": "creatine_kinase", "value": 6000, "unit": "U/L"}])
    result = fasciculate.assess(data)
    assert Urgency.URGENT == result.urgency
    same_day = next(line for line in result.safety_net if line.startswith("Same-day"))
    assert "dark (cola-coloured) urine" in same_day
    assert "dehydration" in same_day
    # Without the result (nothing a patient can come back with), the rule is not in the net.
    for data in (
        negative(),
        negative(labs=[{"analyte": "creatine_kinase", "value": 150, "unit": "U/L"}]),
    ):
        assert "dark (cola-coloured) urine" not in " ".join(fasciculate.assess(data).safety_net)


def test_self_care_safety_net_covers_every_tier_and_an_emergency_has_none():
    """At self-care the net lists routine, urgent and same-day features; at emergency, nothing."""
    calm = fasciculate.assess(negative())
    assert ["Clinical review", "Urgent referral", "Same-day assessment"] == [
        line.split(" (")[0].split(" if")[0] for line in calm.safety_net
    ]
    emergency = fasciculate.assess(negative(findings={"saddle_sensory_loss": "present"}))
    assert () == emergency.safety_net


def test_the_json_path_writes_the_same_safety_net():
    """assess_json and assess agree byte for byte now that the safety net varies."""
    for data in (negative(), negative(findings={"weakness": "present"})):
        assert fasciculate.assess_json(data) == fasciculate.assess(data).model_dump_json().encode()


def _items(safety_net: tuple[str, ...]) -> dict[str, list[str]]:
    """Each line's items, by the line's first word ("Urgent", "Same-day", "Clinical")."""
    items: dict[str, list[str]] = {}
    for line in safety_net:
        head, _, listed = line.partition(" if any of: ")
        items[head.split()[0]] = listed.removesuffix(".").split("; ")
    return items


def test_safety_net_items_read_as_alternatives_and_combinations_listed_once():
    """What is left of a rule reads as its alternatives, one item each ("a or b" splits), and
    its combinations ("x with (y or z)"); an item that would reach two urgencies is listed
    once, at the higher; the lines go from the lower urgency up."""
    fresh = fasciculate.assess({"twitching": {"duration_days": 3, "regions": ["anterior_thigh"]}})
    assert Urgency.ROUTINE == fresh.urgency
    assert ["Urgent", "Same-day"] == list(_items(fresh.safety_net))
    urgent, same_day = _items(fresh.safety_net).values()
    assert (
        "(early-morning headache or excessive daytime sleepiness) with (muscle weakness or "
        "twitching getting worse)"
    ) in urgent
    assert "(falls or trips or loss of dexterity) with muscle weakness" in urgent
    assert "breathlessness lying flat" in urgent
    assert "breathlessness lying flat with muscle weakness" in same_day
    weak = fasciculate.assess({"findings": {"weakness": "present"}})
    urgent, same_day = _items(weak.safety_net).values()
    # Weakness present: what is left of each rule is its other features, one item each.
    for alone in ("falls or trips", "loss of dexterity", "early-morning headache"):
        assert alone in urgent
    assert "excessive daytime sleepiness" in urgent
    # Breathlessness lying flat is urgent alone and an emergency with weakness: listed once.
    assert "breathlessness lying flat" in same_day
    assert "breathlessness lying flat" not in urgent
    assert len(urgent) == len(set(urgent))

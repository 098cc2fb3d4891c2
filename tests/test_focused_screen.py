"""The focused screen (issue 14): indicated questions asked, the rest set aside and reported."""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fasciculate
from _builders import SEED_RED_FLAGS
from fasciculate import CoreQuestions, Presentation, TriState, Urgency
from fasciculate.conditions import Atom, CompareAtom, FactAtom, atoms, evaluate
from fasciculate.engine import Engine
from fasciculate.testing import presentations

KB = fasciculate.knowledge_base()
ENGINE = Engine(kb=KB)


def _every_question_core() -> Engine:
    """The screen without indications: every question the rules can ask is a core question."""
    facts, quantities = KB.facts, KB.quantities
    askable: dict[str, None] = {}
    for rule in KB.rules:
        for atom in atoms(rule.condition):
            if isinstance(atom, FactAtom) and facts[atom.name].when_missing == "ask":
                askable.setdefault(atom.name, None)
            elif isinstance(atom, CompareAtom) and quantities[atom.quantity].when_missing == "ask":
                askable.setdefault(atom.quantity, None)
    core = CoreQuestions(questions=tuple(askable), source=KB.core.source, rationale="all core")
    return Engine(kb=attrs.evolve(KB, core=core, indications=()))


EVERY_QUESTION_CORE = _every_question_core()
_FINDINGS = set(fasciculate.Finding)

#: A recent, stable twitch in one calf of an adult, every core question answered "no", and
#: tingling too: it indicates the tetany questions (IND-METABOLIC) without being a question the
#: referral asks itself.
BENIGN: dict[str, Any] = {
    "patient": {"age": 30},
    "twitching": {"regions": ["calf"], "duration_days": 3, "course": "stable"},
    "findings": dict.fromkeys(
        [q for q in KB.core.questions if q in _FINDINGS] + ["tingling"], "absent"
    ),
}
_EXAM_FIELD = {
    "exam_weakness": ("strength", "reduced"),
    "exam_wasting": ("wasting", "present"),
    "exam_sensory_loss": ("sensory_loss", "present"),
    "brisk_reflexes": ("knee_reflex", "brisk"),
    "reduced_knee_reflex": ("knee_reflex", "reduced"),
    "babinski": ("babinski", "present"),
    "anal_sphincter_laxity": ("anal_sphincter_laxity", "present"),
}
_EXPOSURE_FIELD = {"strenuous_exercise": "strenuous_exercise_48h", "dehydration": "dehydration"}


def _with(base: dict[str, Any], section: str, key: str, value: object) -> dict[str, Any]:
    changed = json.loads(json.dumps(base))
    changed.setdefault(section, {})[key] = value
    return changed


def _present(base: dict[str, Any], atom: Atom) -> dict[str, Any]:  # noqa: PLR0911 - one per field
    """*base* with *atom* made to hold, through the input field that answers it."""
    if isinstance(atom, CompareAtom):
        return _beyond(base, atom)
    name = atom.name
    if name in _FINDINGS:
        return _with(base, "findings", name, "present")
    if name in _EXAM_FIELD:
        return _with(base, "examination", *_EXAM_FIELD[name])
    if name in _EXPOSURE_FIELD:
        return _with(base, "exposures", _EXPOSURE_FIELD[name], "present")
    if name == "worsening":
        return _with(base, "twitching", "course", "worsening")
    if name.startswith("region_"):
        return _with(base, "twitching", "regions", ["calf", name.removeprefix("region_")])
    if name.startswith("med_"):
        return {**base, "medications": [{"drug_class": name.removeprefix("med_")}]}
    analyte, _, end = name.partition("_reported_")
    words = {"low": "L", "critically_low": "LL", "high": "H", "critically_high": "HH"}
    return {**base, "labs": [{"analyte": analyte, "interpretation": words[end]}]}


def _beyond(base: dict[str, Any], atom: CompareAtom) -> dict[str, Any]:
    step = 1.0 if atom.op in {">=", ">"} else -0.01
    value = atom.threshold + (step if atom.op in {">", "<"} else 0)
    if atom.quantity == "region_count":
        regions = ["calf", "trunk", "arm", "tongue"]  # one per region of the neuraxis
        return _with(base, "twitching", "regions", regions[: int(value)])
    if atom.quantity in {"duration_days", "age"}:
        section = "twitching" if atom.quantity == "duration_days" else "patient"
        return _with(base, section, atom.quantity, value)
    analyte = atom.quantity.rsplit("_", 1)[0]
    return {**base, "labs": [{"analyte": analyte, "value": value, "unit": KB.labs[analyte].unit}]}


def _atom_name(atom: Atom) -> str:
    return atom.name if isinstance(atom, FactAtom) else atom.quantity


def _levels(presentation: Presentation) -> Any:
    """The Kleene level (0, 1, 2) of an atom on *presentation*; an unasked quantity is unknown."""
    facts = ENGINE.facts(presentation)

    def level(atom: Atom) -> int:
        if isinstance(atom, FactAtom):
            return facts.levels[atom.name]
        value = facts.quantities[atom.quantity]
        if value is None:
            return 1 if KB.quantities[atom.quantity].when_missing == "ask" else 0
        return 2 if atom.holds(value) else 0

    return level


def _facts(result: fasciculate.Assessment, field: str) -> set[str]:
    return {item.fact for item in getattr(result, field)}


@pytest.mark.parametrize("indication", KB.indications, ids=lambda item: item.id)
def test_all_indicators_absent_sets_the_questions_aside_with_the_indication(indication):
    """With every indicator known absent, the indication's questions are not asked, but listed."""
    result = fasciculate.assess(BENIGN)
    assert result.urgency is Urgency.SELF_CARE
    listed = [item for item in result.not_asked if item.fact in indication.questions]
    assert listed or indication.id in _ONLY_WITH_A_FINDING
    for item in listed:
        assert indication.id in [unmet.id for unmet in item.indications]
        assert all(unmet.source in {s.id for s in result.sources} for unmet in item.indications)
    assert not _facts(result, "missing") & set(indication.questions)


#: Indications whose questions can only raise the urgency once a related finding is present.
_ONLY_WITH_A_FINDING = {"IND-SPINAL-INFECTION", "IND-SPINAL-HAEMATOMA", "IND-RHABDOMYOLYSIS"}


@pytest.mark.parametrize(
    ("indication", "atom"),
    [(item, atom) for item in KB.indications for atom in dict.fromkeys(atoms(item.condition))],
    ids=lambda value: value.id if hasattr(value, "id") else value.render(),
)
def test_each_indicator_present_asks_the_indications_questions(indication, atom):
    """Any one indicator present: none of the indication's questions is set aside."""
    presentation = _present(BENIGN, atom)
    if indication.id in _ONLY_WITH_A_FINDING and indication.when == "back_pain":
        presentation = _present(presentation, FactAtom("weakness"))
    result = fasciculate.assess(presentation)
    assert not _facts(result, "not_asked") & set(indication.questions)
    before = EVERY_QUESTION_CORE.assess(presentation)
    asked_before = {question.fact for question in before.missing} & set(indication.questions)
    # Those left out can only raise the urgency together with a question set aside elsewhere.
    assert not asked_before or asked_before & _facts(result, "missing")


@pytest.mark.parametrize("fact", [item.fact for item in fasciculate.assess(BENIGN).not_asked])
def test_a_present_answer_to_a_question_not_asked_escalates_as_before(fact):
    """Answered present, a set-aside question fires exactly the rules it fired before."""
    atom = next(a for r in KB.rules for a in atoms(r.condition) if a == FactAtom(fact))
    presentation = Presentation.model_validate(_present(BENIGN, atom))
    result = fasciculate.assess(presentation)
    before = EVERY_QUESTION_CORE.assess(presentation)
    fired = [r.id for r in result.rules_fired if r.id != "SCREEN-INCOMPLETE"]
    assert [f.id for f in before.rules_fired if f.id != "SCREEN-INCOMPLETE"] == fired
    assert result.urgency >= max(
        (f.urgency for f in before.rules_fired if f.id != "SCREEN-INCOMPLETE"),
        default=Urgency.SELF_CARE,
    )


def test_the_issue_example_reaches_self_care_without_the_cauda_equina_screen():
    """The 24-year-old with ten days of calf twitching after exercise: self-care once asked."""
    answered = _with(BENIGN, "patient", "age", 24)
    answered = _with(answered, "twitching", "duration_days", 10)
    answered = _with(answered, "exposures", "strenuous_exercise_48h", "present")
    result = fasciculate.assess(answered)
    assert Urgency.SELF_CARE == result.urgency
    assert () == result.missing
    assert {"saddle_sensory_loss", "bladder_dysfunction", "sexual_dysfunction"} <= _facts(
        result, "not_asked"
    )
    text = fasciculate.render_text(result)
    assert "Not asked: nothing in the presentation calls for these" in text
    assert "not indicated: IND-CAUDA-EQUINA (back_pain | pain | weakness" in text
    document = json.loads(fasciculate.assess_json(json.dumps(answered)))
    (saddle,) = [q for q in document["not_asked"] if q["fact"] == "saddle_sensory_loss"]
    assert ["findings.saddle_sensory_loss"] == saddle["inputs"]
    assert "emergency" == saddle["could_raise_to"]
    assert ["IND-CAUDA-EQUINA"] == [unmet["id"] for unmet in saddle["indications"]]
    assert "girft-ces-2023" == saddle["indications"][0]["source"]


def test_an_unanswered_indicator_indicates():
    """Back pain unanswered: the cauda equina questions are asked (Kleene: unknown indicates)."""
    unanswered = json.loads(json.dumps(BENIGN))
    del unanswered["findings"]["back_pain"]
    result = fasciculate.assess(unanswered)
    assert "back_pain" == result.missing[0].fact
    assert {"saddle_sensory_loss", "bladder_dysfunction"} <= _facts(result, "missing")
    assert Urgency.ROUTINE == result.urgency


@given(presentations())
def test_next_questions_are_the_missing_questions_and_their_indicators(
    presentation: Presentation,
):
    """next_questions(x) is assess(x).missing in its order, with indicators placed among them.

    The same for a model, a mapping and JSON text. A question without rules is an unanswered
    indicator: every indication it decides is undecided, reads it, and lists an open question;
    answered present, it leaves the urgency where it was (it can raise nothing by itself).
    """
    result = fasciculate.assess(presentation)
    questions = fasciculate.next_questions(presentation)
    assert questions == fasciculate.next_questions(presentation.model_dump_json())
    assert questions == fasciculate.next_questions(presentation.model_dump(mode="json"))
    assert result.missing == tuple(question for question in questions if question.rules)
    assert len({question.fact for question in questions}) == len(questions)
    open_facts = {question.fact for question in result.missing}
    levels = _levels(presentation)
    for question in questions:
        if question.rules:
            continue
        assert question.decides
        assert question.could_raise_to > result.urgency
        for indication_id in question.decides:
            indication = KB_INDICATIONS[indication_id]
            assert 1 == evaluate(indication.condition, levels)
            assert question.fact in {_atom_name(atom) for atom in atoms(indication.condition)}
            assert open_facts & set(indication.questions)
        if question.fact in KB.facts and KB.facts[question.fact].kind == "finding":
            data = presentation.model_dump(mode="json")
            data.setdefault("findings", {})[question.fact] = "present"
            assert result.urgency == fasciculate.assess(data).urgency


@given(presentations())
def test_missing_and_not_asked_split_the_open_questions(presentation: Presentation):
    """Every open question is asked or set aside, never both; set-aside ones name unmet reasons."""
    result = fasciculate.assess(presentation)
    assert not _facts(result, "missing") & _facts(result, "not_asked")
    for item in result.not_asked:
        assert item.fact not in KB.core.questions
        assert item.indications
        assert all(item.fact in KB_INDICATIONS[u.id].questions for u in item.indications)
    assert bool(result.missing) == any(r.id == "SCREEN-INCOMPLETE" for r in result.rules_fired)
    if result.urgency is Urgency.SELF_CARE:
        assert not result.missing


KB_INDICATIONS = {item.id: item for item in KB.indications}
_TRI = (TriState.ABSENT, TriState.UNKNOWN, TriState.PRESENT)


@given(presentations(), st.sampled_from(sorted(_FINDINGS)))
def test_urgency_and_indications_are_monotone_in_every_finding(
    presentation: Presentation, finding: str
):
    """absent <= unknown <= present: urgency never falls, and no question is set aside anew."""
    results = [
        fasciculate.assess(
            presentation.model_copy(update={"findings": {**presentation.findings, finding: level}})
        )
        for level in _TRI
    ]
    urgencies = [result.urgency for result in results]
    assert sorted(urgencies) == urgencies
    asked = [_facts(r, "missing") | {f.fact for f in r.not_asked} for r in results]
    set_aside = [_facts(r, "not_asked") for r in results]
    # A question set aside with a more present answer was set aside with a less present one too.
    for lower, higher, open_lower in zip(set_aside, set_aside[1:], asked, strict=False):
        assert higher & open_lower <= lower


def test_tingling_is_asked_before_the_two_questions_it_calls_for():
    """A calf twitch with the seed article's questions all "no": tingling first, then done.

    Unknown tingling indicates the questions about tetany and seizures (IND-METABOLIC); one
    answer "no" sets both aside and the screen is complete, where asking them takes two.
    """
    calf = {
        "patient": {"age": 24},
        "twitching": {"regions": ["calf"], "duration_days": 10, "course": "stable"},
        "findings": dict.fromkeys((*SEED_RED_FLAGS, "back_pain"), "absent"),
    }
    first, *rest = fasciculate.next_questions(calf)
    assert ("tingling", (), ("IND-METABOLIC",)) == (first.fact, first.rules, first.decides)
    assert ("findings.tingling",) == first.inputs
    assert ["tetany", "seizure"] == [question.fact for question in rest]
    assert Urgency.ROUTINE == fasciculate.assess(calf).urgency
    calf["findings"]["tingling"] = "absent"
    assert () == fasciculate.next_questions(calf)
    assert Urgency.SELF_CARE == fasciculate.assess(calf).urgency

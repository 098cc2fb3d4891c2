"""The knowledge base's indications (``kb/indications.toml``) as the form's ``enableWhen``.

A question is asked when it is core or when the condition of an indication listing it is not known
to be false: an unanswered indicator indicates (Kleene). So an item is shown unless every
indication calling for it is known to be false, and an item that can answer a core question (or a
question no indication governs) is always shown. Each indicator atom becomes what makes it *not
known to be false*:

- a yes/no fact: its item is unanswered or not answered No, or an item a derivation raises it from
  (``kb/derivations.toml``) is answered Yes;
- ``worsening`` or a region: the item is unanswered or has that answer;
- a number compared with a threshold (age, duration): unanswered, or meeting the threshold.

Indications made only of such atoms are ``enableWhen`` conditions with ``enableBehavior: any``.
One that also counts the regions is an SDC ``enableWhenExpression`` in FHIRPath. One that reads a
laboratory result is not evaluated by the form (a result the form does not hold leaves it unknown,
which indicates): its questions are always shown, which is the safe side.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from fasciculate._conditions import Any_, CompareAtom, FactAtom
from fasciculate._fact_paths import answered_in, fact_paths
from fasciculate._kb import knowledge_base
from fasciculate._kb_types import Indication
from fasciculate._vocab import Region
from fasciculate.fhir._codes import LOINC
from fasciculate.fhir._items import YES_NO_UNKNOWN, item_specs

ENABLE_WHEN_EXPRESSION = (
    "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression"
)
_YES, _NO = (code for code, _, meaning in YES_NO_UNKNOWN if meaning in {"present", "absent"})
#: The numbers an indicator may compare, by quantity: the item holding it.
_NUMBERS = {"age": "patient.age", "duration_days": "twitching.duration_days"}


class _NotInForm(Exception):
    """An indicator the form cannot evaluate (a laboratory result)."""


def _answers(link_id: str) -> str:
    return f"%resource.repeat(item).where(linkId='{link_id}').answer.value"


def _fact(name: str) -> tuple[list[dict[str, Any]], list[str]]:
    """A fact not known to be false, as enableWhen conditions and as FHIRPath."""
    if name == "worsening" or name.startswith("region_"):
        link_id = fact_paths().source_path[name]
        code = "worsening" if name == "worsening" else str(Region(name.removeprefix("region_")))
        option = next(o for o in item_specs()[link_id].options if o.code == code)
        return (
            [
                {"question": link_id, "operator": "exists", "answerBoolean": False},
                {"question": link_id, "operator": "=", "answerCoding": option.coding()},
            ],
            [f"{_answers(link_id)}.empty()", f"{_answers(link_id)}.where(code='{code}').exists()"],
        )
    own = f"findings.{name}"
    if own not in item_specs():
        raise _NotInForm(name)
    raised = [path for path in answered_in(name, knowledge_base()) if path != own]
    if not all(path.startswith("findings.") for path in raised):
        raise _NotInForm(name)
    no = {"system": LOINC, "code": _NO}
    yes = {"system": LOINC, "code": _YES}
    conditions: list[dict[str, Any]] = [
        {"question": own, "operator": "exists", "answerBoolean": False},
        {"question": own, "operator": "!=", "answerCoding": no},
        *({"question": path, "operator": "=", "answerCoding": yes} for path in raised),
    ]
    paths = [
        f"{_answers(own)}.where(code='{_NO}').empty()",
        *(f"{_answers(path)}.where(code='{_YES}').exists()" for path in raised),
    ]
    return conditions, paths


def _compare(atom: CompareAtom) -> tuple[list[dict[str, Any]], list[str]]:
    if atom.quantity == "region_count":
        regions = _answers("twitching.regions")
        return [], [f"{regions}.count() = 0", f"{regions}.count() {atom.op} {atom.threshold:g}"]
    link_id = _NUMBERS.get(atom.quantity)
    if link_id is None:
        raise _NotInForm(atom.quantity)
    key = "answerInteger" if item_specs()[link_id].kind == "integer" else "answerDecimal"
    threshold: float = int(atom.threshold) if key == "answerInteger" else atom.threshold
    return (
        [
            {"question": link_id, "operator": "exists", "answerBoolean": False},
            {"question": link_id, "operator": atom.op, key: threshold},
        ],
        [f"{_answers(link_id)}.empty()", f"{_answers(link_id)} {atom.op} {atom.threshold:g}"],
    )


def _indication(indication: Indication) -> tuple[list[dict[str, Any]] | None, list[str]]:
    """The indication as enableWhen conditions (``None`` if it needs FHIRPath) and as FHIRPath.

    Raises:
        _NotInForm: If an indicator is a laboratory result.
    """
    condition = indication.condition
    atoms = condition.parts if isinstance(condition, Any_) else (condition,)
    conditions: list[dict[str, Any]] | None = []
    paths: list[str] = []
    for atom in atoms:
        if isinstance(atom, FactAtom):
            found, path = _fact(atom.name)
        elif isinstance(atom, CompareAtom):
            found, path = _compare(atom)
        else:  # a conjunction: not in today's table; FHIRPath is not written for it
            raise _NotInForm(indication.id)
        if conditions is not None and found:
            conditions += found
        else:
            conditions = None
        paths += path
    return conditions, paths


@functools.cache
def enable_when() -> Mapping[str, dict[str, Any]]:
    """What to add to each item that only some indications call for (by ``linkId``)."""
    kb = knowledge_base()
    always = {path for q in kb.core.questions for path in answered_in(q, kb)}
    calls: dict[str, list[Indication]] = {}
    for indication in kb.indications:
        for question in indication.questions:
            for path in answered_in(question, kb):
                calls.setdefault(path, []).append(indication)
    rules: dict[str, dict[str, Any]] = {}
    for link_id in item_specs():
        field = link_id.rsplit(".", 1)[0] if link_id.startswith("examination.power.") else link_id
        if field in always or field not in calls:
            continue
        try:
            translated = [_indication(indication) for indication in calls[field]]
        except _NotInForm:
            continue  # an indicator the form cannot see: always shown
        if all(conditions is not None for conditions, _ in translated):
            merged = [c for conditions, _ in translated for c in conditions or ()]
            unique = list({repr(c): c for c in merged}.values())
            rules[link_id] = {"enableWhen": unique, "enableBehavior": "any"}
        else:
            expression = " or ".join(f"({p})" for _, paths in translated for p in paths)
            rules[link_id] = {
                "extension": [
                    {
                        "url": ENABLE_WHEN_EXPRESSION,
                        "valueExpression": {"language": "text/fhirpath", "expression": expression},
                    }
                ]
            }
    return rules

"""The SDC intake Questionnaire, generated from the presentation model and the fact table.

Every answerable item's ``linkId`` is the presentation field it fills (``patient.age``,
``findings.weakness``), so a QuestionnaireResponse reads back into exactly the presentation it was
written from. Items are worded for the clinician and coded (``fhir/questionnaire.toml``, the fact
table); yes/no items offer the LOINC answers Yes / No / Unknown; numbers carry their UCUM unit.
The knowledge base's indications decide which questions are shown (``fhir/_indicated.py``); apart
from them, ``enableWhen`` hides only questions no referral rule reads (restless-legs details,
pregnancy for men).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fasciculate._kb import knowledge_base
from fasciculate.fhir._codes import LOINC, UCUM
from fasciculate.fhir._indicated import enable_when
from fasciculate.fhir._items import BASE as BASE  # noqa: PLC0414 - the URL root, used by _output
from fasciculate.fhir._items import (
    SECTIONS,
    YES_NO_UNKNOWN,
    ItemSpec,
    group_codes,
    group_text,
    item_specs,
)

QUESTIONNAIRE_URL = f"{BASE}/Questionnaire/intake"
#: The SDC profile the form meets: the base SDC Questionnaire with the advanced-behaviour
#: extensions it uses (``questionnaire-unit``, ``questionnaire-unitOption``).
SDC_PROFILE = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-behave"
UNIT = "http://hl7.org/fhir/StructureDefinition/questionnaire-unit"
UNIT_OPTION = "http://hl7.org/fhir/StructureDefinition/questionnaire-unitOption"

_ITEM_TYPE = {
    "tri": "choice",
    "choice": "choice",
    "integer": "integer",
    "decimal": "decimal",
    "quantity": "quantity",
    "date": "date",
    "string": "string",
    "coding": "open-choice",
}
_NO = next(code for code, _, meaning in YES_NO_UNKNOWN if meaning == "absent")
#: Questions that only make sense after another, and that no referral rule reads, not even through
#: a derivation (joint pain is pain, a core question, so it is always asked): (item, the item it
#: depends on, operator, answer).
_ENABLE_WHEN: dict[str, tuple[str, str, bool | dict[str, str]]] = {
    "twitching.side": ("twitching.regions", "exists", True),
    "findings.pregnancy": (
        "patient.sex",
        "!=",
        {"system": f"{BASE}/CodeSystem/sex", "code": "male"},
    ),
}
_AFTER_URGE = (
    "worse_at_rest",
    "relieved_by_movement",
    "worse_evening",
    "leg_swelling",
    "positional_discomfort",
    "habitual_foot_tapping",
)
for _name in _AFTER_URGE:
    _ENABLE_WHEN[f"findings.{_name}"] = (
        "findings.urge_to_move",
        "!=",
        {"system": LOINC, "code": _NO},
    )


def _item(spec: ItemSpec) -> dict[str, Any]:
    item: dict[str, Any] = {"linkId": spec.link_id}
    if spec.codes:
        item["code"] = list(spec.codes)
    item |= {"text": spec.text, "type": _ITEM_TYPE[spec.kind]}
    if spec.unit is not None:
        code, display = spec.unit
        coding = {"system": UCUM, "code": code, "display": display}
        item["extension"] = [{"url": UNIT, "valueCoding": coding}]
    if spec.unit_options:
        item["extension"] = [
            {"url": UNIT_OPTION, "valueCoding": {"system": UCUM, "code": unit, "display": unit}}
            for unit in spec.unit_options
        ]
    if spec.repeats:
        item["repeats"] = True
    if spec.options:
        item["answerOption"] = [{"valueCoding": option.coding()} for option in spec.options]
    indicated = enable_when().get(spec.link_id, {})
    if indicated:
        item["extension"] = [*item.get("extension", []), *indicated.get("extension", [])]
        item = {k: v for k, v in item.items() if v != []} | {
            k: v for k, v in indicated.items() if k != "extension"
        }
    if spec.link_id in _ENABLE_WHEN:
        question, operator, answer = _ENABLE_WHEN[spec.link_id]
        condition: dict[str, Any] = {"question": question, "operator": operator}
        if isinstance(answer, bool):
            condition["answerBoolean"] = answer
        else:
            condition["answerCoding"] = answer
        item["enableWhen"] = [condition]
    return item


def _group(
    link_id: str, text: str, items: list[dict[str, Any]], *, repeats: bool = False
) -> dict[str, Any]:
    group: dict[str, Any] = {"linkId": link_id}
    if codes := group_codes(link_id):
        group["code"] = list(codes)
    group |= {"text": group_text(link_id, text), "type": "group", "item": items}
    if repeats:
        group["repeats"] = True
    return group


def tree() -> list[dict[str, Any]]:
    specs = item_specs()
    tree = [_item(specs["assessed_on"])]
    for section, _, title in SECTIONS[:2]:
        tree.append(
            _group(
                section, title, [_item(s) for k, s in specs.items() if k.startswith(f"{section}.")]
            )
        )
    groups: dict[str, list[dict[str, Any]]] = {}
    for key, fact in knowledge_base().facts.items():
        if fact.kind == "finding":
            groups.setdefault(fact.group, []).append(_item(specs[f"findings.{key}"]))
    tree.append(
        _group(
            "findings",
            "Symptoms, signs and history",
            [_group(f"findings:{name}", name, items) for name, items in groups.items()],
        )
    )
    for section, _, title in SECTIONS[2:]:
        tree.append(
            _group(
                section, title, [_item(s) for k, s in specs.items() if k.startswith(f"{section}.")]
            )
        )
    for section, title in (("medications", "Medications"), ("labs", "Laboratory results")):
        items = [_item(s) for k, s in specs.items() if k.startswith(f"{section}.")]
        tree.append(_group(section, title, items, repeats=True))
    return tree


def questionnaire() -> dict[str, Any]:
    """The SDC intake Questionnaire (FHIR R4 JSON), one item per presentation field.

    Example:
        >>> from fasciculate.fhir import questionnaire
        >>> q = questionnaire()
        >>> q["resourceType"], q["url"].endswith("/Questionnaire/intake")
        ('Questionnaire', True)
    """
    kb = knowledge_base()
    return {
        "resourceType": "Questionnaire",
        "id": "fasciculate-intake",
        "meta": {"profile": [SDC_PROFILE]},
        "url": QUESTIONNAIRE_URL,
        "version": kb.version,
        "name": "FasciculateIntake",
        "title": "Muscle twitching around the knee: intake for decision support",
        "status": "active",
        "subjectType": ["Patient"],
        "description": "Generated from fasciculate's presentation model and knowledge base fact "
        "table. Every item's linkId is the presentation field it fills. For healthcare "
        "professionals; not a diagnosis.",
        "item": tree(),
    }


def walk(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every item of a Questionnaire item tree, depth first."""
    for item in items:
        yield item
        yield from walk(item.get("item", []))

"""The SDC intake Questionnaire, generated from the presentation model and the fact table.

Every answerable item's ``linkId`` is the presentation field it fills (``patient.age``,
``findings.weakness``), so a QuestionnaireResponse reads back into exactly the presentation it was
written from. Yes/no items offer present / absent / unknown. ``enableWhen`` hides only questions
that do not count towards urgency (restless-legs details, pregnancy for men): a form filler that
hides them leaves them unknown, which never lowers urgency.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import types
import typing
from collections.abc import Iterator, Mapping
from typing import Any, Literal

import attrs
from pydantic import BaseModel  # noqa: TC002 - read at run time (model_fields)

from fasciculate._kb import knowledge_base
from fasciculate._presentation import Examination, Exposures, Patient, Twitching
from fasciculate._vocab import Analyte, MedicationClass, TriState

BASE = "https://fasciculate.readthedocs.io/fhir"
QUESTIONNAIRE_URL = f"{BASE}/Questionnaire/intake"
SDC_PROFILE = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire"

Kind = Literal["tri", "choice", "integer", "decimal", "date", "string", "coding"]
_ITEM_TYPE = {
    "tri": "choice",
    "choice": "choice",
    "integer": "integer",
    "decimal": "decimal",
    "date": "date",
    "string": "string",
    "coding": "open-choice",
}
_SECTIONS: tuple[tuple[str, type[BaseModel], str], ...] = (
    ("patient", Patient, "Patient"),
    ("twitching", Twitching, "The twitching"),
    ("examination", Examination, "Examination"),
    ("exposures", Exposures, "Everyday exposures"),
)
#: Questions that only make sense after another: (item, the item it depends on, operator, answer).
_ENABLE_WHEN: dict[str, tuple[str, str, str | bool]] = {
    "twitching.side": ("twitching.regions", "exists", True),
    "findings.pregnancy": ("patient.sex", "!=", "male"),
}
_AFTER_URGE = (
    "worse_at_rest",
    "relieved_by_movement",
    "worse_evening",
    "leg_swelling",
    "joint_pain",
    "positional_discomfort",
    "habitual_foot_tapping",
)
for _name in _AFTER_URGE:
    _ENABLE_WHEN[f"findings.{_name}"] = ("findings.urge_to_move", "!=", "absent")


@attrs.frozen
class ItemSpec:
    """One answerable item: its field path, answer type and options."""

    link_id: str
    kind: Kind
    text: str
    options: tuple[str, ...] = ()
    system: str | None = None
    repeats: bool = False


def _system(vocabulary: type[enum.Enum]) -> str:
    name = "".join(f"-{c.lower()}" if c.isupper() else c for c in vocabulary.__name__)
    return f"{BASE}/CodeSystem/{name.lstrip('-')}"


def _spec(link_id: str, annotation: Any, text: str) -> ItemSpec:  # noqa: ANN401
    args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    origin = typing.get_origin(annotation)
    if origin in {typing.Union, types.UnionType}:
        annotation = args[0]
        args = list(typing.get_args(annotation))
        origin = typing.get_origin(annotation)
    repeats = origin is list
    if repeats:
        annotation = args[0]
    if annotation is TriState:
        return ItemSpec(link_id, "tri", text, tuple(TriState), _system(TriState))
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        options = tuple(str(member.value) for member in annotation)
        return ItemSpec(link_id, "choice", text, options, _system(annotation), repeats=repeats)
    kind: Kind = {int: "integer", float: "decimal", dt.date: "date", str: "string"}[annotation]  # type: ignore[assignment]
    return ItemSpec(link_id, kind, text)


def _text(name: str, description: str | None) -> str:
    return description or name.replace("_", " ").capitalize()


@functools.cache
def item_specs() -> Mapping[str, ItemSpec]:
    """Every answerable item by ``linkId`` (a presentation field path)."""
    specs = {"assessed_on": ItemSpec("assessed_on", "date", "Date of the assessment")}
    for section, model, _ in _SECTIONS:
        for name, field in model.model_fields.items():
            link_id = f"{section}.{name}"
            if typing.get_origin(field.annotation) is dict:  # a grade per movement
                keys, _ = typing.get_args(field.annotation)
                for key in keys:
                    text = f"{_text(name, None)}: {key.replace('_', ' ')} (MRC grade 0-5)"
                    specs[f"{link_id}.{key}"] = ItemSpec(f"{link_id}.{key}", "integer", text)
                continue
            specs[link_id] = _spec(link_id, field.annotation, _text(name, field.description))
    for key, fact in knowledge_base().facts.items():
        if fact.kind == "finding":
            link_id = f"findings.{key}"
            specs[link_id] = ItemSpec(
                link_id, "tri", fact.question, tuple(TriState), _system(TriState)
            )
    medication = {
        "medications.name": ItemSpec("medications.name", "string", "Medication name"),
        "medications.drug_class": ItemSpec(
            "medications.drug_class",
            "choice",
            "Medication class",
            tuple(MedicationClass),
            _system(MedicationClass),
        ),
        "medications.code": ItemSpec("medications.code", "coding", "Medication code (RxNorm, ATC)"),
        "labs.analyte": ItemSpec(
            "labs.analyte", "choice", "Analyte", tuple(Analyte), _system(Analyte)
        ),
        "labs.value": ItemSpec("labs.value", "decimal", "Result as reported"),
        "labs.unit": ItemSpec("labs.unit", "string", "Unit (UCUM), e.g. mmol/L"),
    }
    return {**specs, **medication}


def _item(spec: ItemSpec) -> dict[str, Any]:
    item: dict[str, Any] = {
        "linkId": spec.link_id,
        "text": spec.text,
        "type": _ITEM_TYPE[spec.kind],
    }
    if spec.repeats:
        item["repeats"] = True
    if spec.options:
        item["answerOption"] = [
            {
                "valueCoding": {
                    "system": spec.system,
                    "code": code,
                    "display": code.replace("_", " "),
                }
            }
            for code in spec.options
        ]
    if spec.link_id in _ENABLE_WHEN:
        question, operator, answer = _ENABLE_WHEN[spec.link_id]
        condition: dict[str, Any] = {"question": question, "operator": operator}
        if isinstance(answer, bool):
            condition["answerBoolean"] = answer
        else:
            system = item_specs()[question].system
            condition["answerCoding"] = {"system": system, "code": answer}
        item["enableWhen"] = [condition]
    return item


def _group(
    link_id: str, text: str, items: list[dict[str, Any]], *, repeats: bool = False
) -> dict[str, Any]:
    group: dict[str, Any] = {"linkId": link_id, "text": text, "type": "group", "item": items}
    if repeats:
        group["repeats"] = True
    return group


def _tree() -> list[dict[str, Any]]:
    specs = item_specs()
    tree = [_item(specs["assessed_on"])]
    for section, _, title in _SECTIONS[:2]:
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
            [
                _group(f"findings:{name}", name.replace("_", " ").capitalize(), items)
                for name, items in groups.items()
            ],
        )
    )
    for section, _, title in _SECTIONS[2:]:
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
        "item": _tree(),
    }


def walk(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every item of a Questionnaire item tree, depth first."""
    for item in items:
        yield item
        yield from walk(item.get("item", []))

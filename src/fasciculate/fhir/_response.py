"""QuestionnaireResponses to and from presentations (the round trip is exact)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pydantic

from fasciculate._errors import InvalidBundle, Problem
from fasciculate._presentation import Presentation
from fasciculate._validation import problems_from
from fasciculate._vocab import TriState
from fasciculate.fhir._codes import LOINC, UCUM
from fasciculate.fhir._items import YES_NO_UNKNOWN, ItemSpec, item_specs, lab_units, system_of
from fasciculate.fhir._questionnaire import QUESTIONNAIRE_URL, tree
from fasciculate.fhir._resources import Answer, Item, QuestionnaireResponse

_REPEATING = ("medications", "labs")
_BOOLEAN_TRI = {True: TriState.PRESENT, False: TriState.ABSENT}
_LOINC_TRI = {code: meaning for code, _, meaning in YES_NO_UNKNOWN}
_TRI_LOINC = {meaning: (code, display) for code, display, meaning in YES_NO_UNKNOWN}
_TRI_SYSTEM = system_of(TriState)
_TRI_CODES = {str(member): member for member in TriState}


def _tri(answer: Answer) -> TriState | None:
    if answer.valueBoolean is not None:
        return _BOOLEAN_TRI[answer.valueBoolean]
    coding = answer.valueCoding
    if coding is None:
        code = answer.valueString
    elif coding.system == LOINC:
        return _LOINC_TRI.get(coding.code or "")
    elif coding.system in {_TRI_SYSTEM, None}:
        code = coding.code
    else:
        return None
    return _TRI_CODES.get(code) if isinstance(code, str) else None


def _number(spec: ItemSpec, answer: Answer) -> float | None:
    """A number, given as such or as a Quantity in the item's own unit."""
    if spec.kind == "integer":
        given: float | None = answer.valueInteger
    else:
        given = answer.valueDecimal if answer.valueDecimal is not None else answer.valueInteger
    quantity = answer.valueQuantity
    if given is not None or quantity is None or quantity.value is None or spec.unit is None:
        return given
    if (quantity.code or quantity.unit) not in {spec.unit[0], None}:
        return None
    if spec.kind == "integer":
        return int(quantity.value) if quantity.value.is_integer() else None
    return quantity.value


def _quantity(answer: Answer) -> dict[str, Any] | None:
    if answer.valueQuantity is not None:
        quantity = answer.valueQuantity
        unit = quantity.code or quantity.unit
        found = {"value": quantity.value, "unit": unit}
        return {key: value for key, value in found.items() if value is not None} or None
    value = answer.valueDecimal if answer.valueDecimal is not None else answer.valueInteger
    return None if value is None else {"value": value}


def _value(spec: ItemSpec, answer: Answer) -> Any:  # noqa: ANN401, PLR0911 - one return per type
    coding = answer.valueCoding
    if spec.kind == "tri":
        return _tri(answer)
    if spec.kind == "choice":
        return coding.code if coding else answer.valueString
    if spec.kind in {"integer", "decimal"}:
        return _number(spec, answer)
    if spec.kind == "quantity":
        return _quantity(answer)
    if spec.kind == "date":
        return answer.valueDate
    if spec.kind == "string":
        return answer.valueString
    if coding is None:
        return answer.valueString or None  # free text: the medication's name (see _record)
    return coding.model_dump(exclude_none=True)


_EXPECTED = {
    "tri": "valueCoding LA33-6 (Yes), LA32-8 (No) or LA4489-6 (Unknown) from LOINC, or the code "
    "present, absent or unknown",
    "choice": "valueCoding from the item's answerOption",
    "integer": "valueInteger (or a valueQuantity in the item's unit)",
    "decimal": "valueDecimal (or a valueQuantity in the item's unit)",
    "quantity": "valueQuantity with a value and a UCUM unit code",
    "date": "valueDate (YYYY-MM-DD)",
    "string": "valueString",
    "coding": "valueCoding with system and code, or valueString with the medication in words",
}


def _record(key: str, found: Mapping[str, Any]) -> dict[str, Any]:
    """One medication or laboratory result from its items' answers."""
    record = {k.removeprefix(f"{key}."): v for k, v in found.items()}
    if key == "labs" and isinstance(record.get("value"), dict):
        record |= record.pop("value")
    if key == "medications" and isinstance(record.get("code"), str):
        text = record.pop("code")
        name = record.get("name")
        record["name"] = text if name in {None, text} else f"{name} ({text})"
    return record


class _Answers:
    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.problems: list[Problem] = []

    def leaf(self, item: Item, path: str, into: dict[str, Any]) -> None:
        spec = item_specs().get(item.linkId)
        if spec is None:
            self.problems.append(
                Problem(
                    f"{path}.linkId",
                    "unknown linkId; answer the items of "
                    f"{QUESTIONNAIRE_URL} (`fasciculate questionnaire`)",
                    repr(item.linkId),
                )
            )
            return
        values = []
        for index, answer in enumerate(item.answer):
            value = _value(spec, answer)
            if value is None:
                self.problems.append(
                    Problem(f"{path}.answer.{index}", f"expected {_EXPECTED[spec.kind]}")
                )
            values.append(value)
        if values:
            into[item.linkId] = values if spec.repeats else values[0]

    def items(self, items: list[Item], path: str, into: dict[str, Any]) -> None:
        for index, item in enumerate(items):
            where = f"{path}.item.{index}" if path else f"item.{index}"
            if item.linkId in _REPEATING:
                record: dict[str, Any] = {}
                self.items(item.item, where, record)
                key = item.linkId
                self.values.setdefault(key, []).append(_record(key, record))
            elif item.item and not item.answer:
                self.items(item.item, where, into)
            else:
                self.leaf(item, where, into)


def answers_from_response(
    response: QuestionnaireResponse, path: str = ""
) -> tuple[dict[str, Any], list[Problem]]:
    """The answers of *response* by presentation field path, and the problems found."""
    answers = _Answers()
    answers.items(response.item, path, answers.values)
    return answers.values, answers.problems


def _data(answers: Mapping[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for field, value in answers.items():
        if field in _REPEATING or "." not in field:
            data[field] = value
        else:
            section, key = field.split(".", 1)
            key, _, entry = key.partition(".")  # examination.power.<movement>: one grade each
            if entry:
                data.setdefault(section, {}).setdefault(key, {})[entry] = value
            else:
                data.setdefault(section, {})[key] = value
    return data


def presentation_from_questionnaire_response(
    response: Mapping[str, Any] | str | bytes,
) -> Presentation:
    """The presentation a QuestionnaireResponse to :func:`questionnaire` describes.

    Raises:
        InvalidBundle: If the response cannot be read, listing every problem with its path.
    """
    try:
        if isinstance(response, str | bytes | bytearray):
            response = json.loads(response)
        parsed = QuestionnaireResponse.model_validate(response)
    except json.JSONDecodeError as error:
        raise InvalidBundle([Problem("", f"malformed JSON: {error}")]) from None
    except pydantic.ValidationError as error:
        problems = problems_from(error, QuestionnaireResponse)
        raise InvalidBundle(problems, total=error.error_count()) from None
    canonical = (parsed.questionnaire or "").split("|")[0]
    problems = []
    if canonical != QUESTIONNAIRE_URL:
        problems.append(
            Problem("questionnaire", f"expected {QUESTIONNAIRE_URL}", repr(parsed.questionnaire))
        )
    answers, found = answers_from_response(parsed)
    problems += found
    if problems:
        raise InvalidBundle(problems)
    try:
        return Presentation.model_validate(_data(answers))
    except pydantic.ValidationError as error:
        raise InvalidBundle(problems_from(error, Presentation), total=error.error_count()) from None


def _answers_of(presentation: Presentation) -> dict[str, Any]:
    data = presentation.model_dump(mode="json", exclude_none=True)
    answers: dict[str, Any] = {}
    for section in ("patient", "twitching", "examination", "exposures"):
        for key, value in data[section].items():
            if isinstance(value, dict):  # examination.power: one item per movement graded
                answers.update({f"{section}.{key}.{k}": v for k, v in value.items()})
            elif value not in ("unknown", []):
                answers[f"{section}.{key}"] = value
    for key, value in data["findings"].items():
        answers[f"findings.{key}"] = value
    if "assessed_on" in data:
        answers["assessed_on"] = data["assessed_on"]
    return answers


def _coding(spec: ItemSpec, value: str) -> dict[str, str]:
    if spec.kind == "tri":
        code, display = _TRI_LOINC[TriState(value)]
        return {"system": LOINC, "code": code, "display": display}
    option = next(option for option in spec.options if option.code == value)
    return option.coding()


def _lab_quantity(lab: Mapping[str, Any]) -> dict[str, Any]:
    """A result's value and unit as one Quantity (the unit as a UCUM code where it is one)."""
    record = {k: v for k, v in lab.items() if k not in {"value", "unit"}}
    quantity: dict[str, Any] = {}
    if "value" in lab:
        quantity["value"] = lab["value"]
    if "unit" in lab:
        unit = lab["unit"]
        quantity["unit"] = unit
        if unit in lab_units():
            quantity |= {"system": UCUM, "code": unit}
    if quantity:
        record["value"] = quantity
    return record


def _answer(spec: ItemSpec, value: Any) -> list[dict[str, Any]]:  # noqa: ANN401
    values = value if spec.repeats else [value]
    kind = spec.kind
    if kind in {"tri", "choice"}:
        return [{"valueCoding": _coding(spec, v)} for v in values]
    key = {
        "integer": "valueInteger",
        "decimal": "valueDecimal",
        "quantity": "valueQuantity",
        "date": "valueDate",
        "string": "valueString",
        "coding": "valueCoding",
    }[kind]
    return [{key: v} for v in values]


def _fill(items: list[dict[str, Any]], answers: Mapping[str, Any]) -> list[dict[str, Any]]:
    specs = item_specs()
    out: list[dict[str, Any]] = []
    for item in items:
        link_id = item["linkId"]
        if item["type"] == "group" and link_id in _REPEATING:
            for record in answers.get(link_id, []):
                prefixed = {f"{link_id}.{k}": v for k, v in record.items()}
                out.append({"linkId": link_id, "item": _fill(item["item"], prefixed)})
        elif item["type"] == "group":
            children = _fill(item["item"], answers)
            if children:
                out.append({"linkId": link_id, "item": children})
        elif link_id in answers:
            out.append({"linkId": link_id, "answer": _answer(specs[link_id], answers[link_id])})
    return out


def questionnaire_response(
    presentation: Presentation | Mapping[str, Any], *, subject: str | None = None
) -> dict[str, Any]:
    """A completed QuestionnaireResponse to :func:`questionnaire` holding *presentation*.

    Its ``authored`` date is the presentation's ``assessed_on``, when given.

    Args:
        presentation: The presentation (or a mapping that validates into one).
        subject: A reference to the Patient (``Patient/123``), when known.
    """
    if not isinstance(presentation, Presentation):
        presentation = Presentation.model_validate(presentation)
    answers = _answers_of(presentation)
    dumped = presentation.model_dump(mode="json", exclude_none=True)
    answers["medications"] = dumped["medications"]
    answers["labs"] = [_lab_quantity(lab) for lab in dumped["labs"]]
    response: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": QUESTIONNAIRE_URL,
        "status": "completed",
        "item": _fill(tree(), answers),
    }
    if presentation.assessed_on is not None:
        response["authored"] = presentation.assessed_on.isoformat()
    if subject is not None:
        response["subject"] = {"reference": subject}
    return response

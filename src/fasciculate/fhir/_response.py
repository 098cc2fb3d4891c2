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
from fasciculate.fhir._questionnaire import QUESTIONNAIRE_URL, ItemSpec, _tree, item_specs
from fasciculate.fhir._resources import Answer, Item, QuestionnaireResponse

_REPEATING = ("medications", "labs")
_BOOLEAN_TRI = {True: TriState.PRESENT, False: TriState.ABSENT}


def _value(spec: ItemSpec, answer: Answer) -> Any:  # noqa: ANN401, PLR0911 - one return per type
    coding = answer.valueCoding
    if spec.kind == "tri":
        if answer.valueBoolean is not None:
            return _BOOLEAN_TRI[answer.valueBoolean]
        code = coding.code if coding else answer.valueString
        return None if code not in set(TriState) else TriState(code)
    if spec.kind == "choice":
        return coding.code if coding else answer.valueString
    if spec.kind == "integer":
        return answer.valueInteger
    if spec.kind == "decimal":
        return answer.valueDecimal if answer.valueDecimal is not None else answer.valueInteger
    if spec.kind == "date":
        return answer.valueDate
    if spec.kind == "string":
        return answer.valueString
    if coding is None:
        return None
    return coding.model_dump(exclude_none=True)


_EXPECTED = {
    "tri": "valueCoding with code present, absent or unknown",
    "choice": "valueCoding from the item's answerOption",
    "integer": "valueInteger",
    "decimal": "valueDecimal",
    "date": "valueDate (YYYY-MM-DD)",
    "string": "valueString",
    "coding": "valueCoding with system and code",
}


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
                prefix = f"{key}."
                self.values.setdefault(key, []).append(
                    {k.removeprefix(prefix): v for k, v in record.items()}
                )
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


def _answer(spec: ItemSpec, value: Any) -> list[dict[str, Any]]:  # noqa: ANN401
    values = value if spec.repeats else [value]
    kind = spec.kind
    if kind in {"tri", "choice"}:
        return [{"valueCoding": {"system": spec.system, "code": v}} for v in values]
    key = {
        "integer": "valueInteger",
        "decimal": "valueDecimal",
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
    answers["labs"] = dumped["labs"]
    response: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": QUESTIONNAIRE_URL,
        "status": "completed",
        "item": _fill(_tree(), answers),
    }
    if presentation.assessed_on is not None:
        response["authored"] = presentation.assessed_on.isoformat()
    if subject is not None:
        response["subject"] = {"reference": subject}
    return response

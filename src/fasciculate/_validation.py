"""Turn raw input into a :class:`Presentation`, or into one clear error listing every problem."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from typing import Any

import pydantic
from pydantic import BaseModel

from fasciculate._errors import InvalidPresentation, Problem
from fasciculate._presentation import Presentation

_SCHEMA_HINT = "run `fasciculate schema` for the full input schema"


def parse_presentation(data: Presentation | Mapping[str, Any] | str | bytes) -> Presentation:
    """Validate *data* (a mapping, or JSON text or bytes) into a :class:`Presentation`.

    Raises:
        InvalidPresentation: Listing every problem, each with its field path and the fix.
    """
    if isinstance(data, Presentation):
        return data
    try:
        if isinstance(data, str | bytes | bytearray):
            if not data.strip():
                raise InvalidPresentation(
                    [Problem("", f"the input is empty; give a JSON object ({_SCHEMA_HINT})")]
                )
            return Presentation.model_validate_json(data)
        return Presentation.model_validate(data)
    except pydantic.ValidationError as error:
        raise InvalidPresentation(problems_from(error, Presentation)) from None


def problems_from(error: pydantic.ValidationError, model: type[BaseModel]) -> list[Problem]:
    """Translate a pydantic error into :class:`Problem` objects with a fix for each."""
    return [_problem(detail, model) for detail in error.errors(include_url=False)]


def _shown(value: object) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, bytes) else repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def _problem(detail: Any, model: type[BaseModel]) -> Problem:  # noqa: ANN401, PLR0911 - one return per kind of error
    loc = tuple(detail["loc"])
    is_key = bool(loc) and loc[-1] == "[key]"
    if is_key:
        loc = loc[:-1]
    path = ".".join(str(part) for part in loc)
    value = detail.get("input")
    kind = detail["type"]
    message = detail["msg"]
    if kind == "json_invalid":
        reason = detail.get("ctx", {}).get("error", message)
        return Problem("", f"malformed JSON: {reason}; send a single JSON object")
    if kind == "model_type" and not loc:
        hint = f"expected a JSON object describing the presentation ({_SCHEMA_HINT})"
        return Problem("", hint, _shown(value))
    if kind == "extra_forbidden":
        allowed = _allowed_fields(model, loc[:-1])
        hint = _did_you_mean(str(loc[-1]), allowed)
        return Problem(path, f"unknown field; {hint}remove it or use one of: {', '.join(allowed)}")
    if kind == "enum":
        return _enum_problem(path, detail, is_key=is_key)
    if kind == "value_error":
        return Problem(path, message.removeprefix("Value error, "))
    if kind == "missing":
        return Problem(path, "required field is missing; add it")
    return Problem(path, f"{message[0].lower()}{message[1:]}", _shown(value))


def _did_you_mean(value: str, options: list[str]) -> str:
    close = difflib.get_close_matches(value, options, n=1)
    return f"did you mean {close[0]!r}? " if close else ""


def _enum_problem(path: str, detail: Any, *, is_key: bool) -> Problem:  # noqa: ANN401
    value = detail.get("input")
    expected = detail.get("ctx", {}).get("expected", "")
    options = [option.strip(" '") for option in expected.replace(" or ", ", ").split(",")]
    hint = _did_you_mean(str(value), options)
    listed = expected if len(options) <= 12 else f"one of {len(options)} values ({_SCHEMA_HINT})"
    what = "not an allowed key" if is_key else "not an allowed value"
    return Problem(path, f"{what}; {hint}expected {listed}", _shown(value))


def _allowed_fields(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    current: Any = model
    for part in loc:
        if isinstance(part, int) or current is None:
            continue
        field = current.model_fields.get(part) if hasattr(current, "model_fields") else None
        current = _model_of(field.annotation) if field is not None else None
    if current is None or not hasattr(current, "model_fields"):
        return []
    return sorted(current.model_fields)


def _model_of(annotation: Any) -> Any:  # noqa: ANN401 - walks typing constructs
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in getattr(annotation, "__args__", ()):
        found = _model_of(argument)
        if found is not None:
            return found
    return None

"""Turn raw input into a :class:`Presentation`, or into one clear error listing every problem.

Whatever a caller sends (a cyclic or deeply nested mapping, a key that is not a string, a
5,000-digit integer, a 100 MB list, text in another encoding), the answer is a
:class:`Presentation` or an :class:`InvalidPresentation`, and the error path costs no more than
the input: JSON text is refused past ``MAX_INPUT_BYTES`` before it is parsed, a list past its
maximum length is refused before its items are validated (pydantic checks the length first), at
most ``MAX_PROBLEMS`` problems are translated, and a value is shown in at most 60 characters
without converting it whole.
"""

from __future__ import annotations

import codecs
import datetime as dt
import decimal
import difflib
import enum
import functools
import itertools
import json
import typing
from collections.abc import Collection, Mapping
from typing import Any

import pydantic
import pydantic_core
from pydantic import BaseModel

from fasciculate._errors import MAX_PROBLEMS, FasciculateError, InvalidPresentation, Problem
from fasciculate._presentation import Presentation

_SCHEMA_HINT = "run `fasciculate schema` for the full input schema"
_FIX = f"send a JSON object or a mapping of plain values ({_SCHEMA_HINT})"

#: JSON text longer than this is refused before it is parsed. The largest valid presentation
#: (every finding, 100 medications, 500 lab results) is about 120 kB pretty-printed.
MAX_INPUT_BYTES = 1 << 20

_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),  # before UTF-16: its BOM starts with UTF-16's
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def parse_presentation(data: Presentation | Mapping[str, Any] | str | bytes) -> Presentation:
    """Validate *data* (a mapping, or JSON text or bytes) into a :class:`Presentation`.

    JSON text may start with a UTF-8 byte order mark; it must be UTF-8 and at most 1 MiB.

    Raises:
        InvalidPresentation: Listing every problem, each with its field path and the fix.
    """
    if isinstance(data, Presentation):
        return data
    try:
        if isinstance(data, str | bytes | bytearray):
            text = _json_text(data)
            if _key_bound(text) <= _FEW_KEYS:
                return Presentation.model_validate_json(text)
            data = _parsed(text)  # many keys: look at them before pydantic lists each one
        _refuse_excess_fields(data, Presentation, ())
        return Presentation.model_validate(data)
    except pydantic.ValidationError as error:
        problems = problems_from(error, Presentation)
        encoding = encoding_problem(data) if isinstance(data, bytes | bytearray) else None
        if encoding is not None and problems[0].message.startswith("malformed JSON"):
            problems = [encoding]
        raise InvalidPresentation(problems, total=error.error_count()) from None
    except RecursionError:
        raise InvalidPresentation(
            [Problem("", "the input is nested too deeply to be a presentation")]
        ) from None
    except FasciculateError:
        raise
    except Exception as error:  # a caller's object that fails as it is read is bad input too
        problem = Problem("", f"the input could not be read ({type(error).__name__}); {_FIX}")
        raise InvalidPresentation([problem]) from error


#: More object keys than any valid presentation holds (every finding, 100 medications and 500
#: laboratory results come to about 2,500): past this, unknown fields are counted before pydantic
#: would build an error for each one (tens of MB for 10^5 of them).
_FEW_KEYS = 4096


def _key_bound(text: str | bytes | bytearray) -> int:
    """An upper bound on the number of object keys in JSON *text* (each key ends with a quote)."""
    return text.count('":') if isinstance(text, str) else text.count(b'":')


def _parsed(text: str | bytes | bytearray) -> Any:  # noqa: ANN401 - any JSON value
    try:
        return pydantic_core.from_json(text)
    except ValueError:  # malformed: pydantic's JSON parser names the place
        return Presentation.model_validate_json(text)


def _refuse_excess_fields(data: object, model: type[BaseModel], path: tuple[str, ...]) -> None:
    """Refuse a mapping with more unknown keys than are listed, without validating it.

    Walks *data* along the fields of *model*, its sub-models and its enum-keyed mappings (such as
    ``findings``); at the first mapping holding more than ``MAX_PROBLEMS`` unknown keys, raises
    :class:`InvalidPresentation` listing the first ones and counting them all (what pydantic
    would report, in constant memory). Runs on every mapping given to :func:`assess`, so the
    fields to walk are worked out once per model (:func:`_walk_plan`).
    """
    if not isinstance(data, Mapping):
        return
    fields, message, children = _walk_plan(model)
    _refuse_unknown_keys(data, fields, path, message)
    for name, keys, sub in children:
        value = data.get(name)
        if keys is not None and isinstance(value, Mapping):
            expected = f"expected one of {len(keys)} values ({_SCHEMA_HINT})"
            _refuse_unknown_keys(value, keys, (*path, name), f"not an allowed key; {expected}")
        if sub is None or value is None:
            continue
        items = value if isinstance(value, list) else [value]
        for index, item in enumerate(items[: MAX_PROBLEMS + 1]):
            where = (*path, name, str(index)) if isinstance(value, list) else (*path, name)
            _refuse_excess_fields(item, sub, where)


@functools.cache
def _walk_plan(
    model: type[BaseModel],
) -> tuple[
    frozenset[str], str, tuple[tuple[str, frozenset[str] | None, type[BaseModel] | None], ...]
]:
    """*model*'s field names, its unknown-field message, and the fields to walk into."""
    fields = model.model_fields
    message = f"unknown field; remove it or use one of: {', '.join(sorted(fields))}"
    children = tuple(
        (name, _enum_keys(field.annotation), _model_of(field.annotation))
        for name, field in fields.items()
        if _enum_keys(field.annotation) is not None or _model_of(field.annotation) is not None
    )
    return frozenset(fields), message, children


def _refuse_unknown_keys(
    data: Mapping[Any, Any], allowed: Collection[str], path: tuple[str, ...], message: str
) -> None:
    if len(data) <= len(allowed) + MAX_PROBLEMS:
        return  # too few keys to hold more unknown ones than are listed: pydantic lists them
    unknown = [key for key in data if not (isinstance(key, str) and key in allowed)]
    if len(unknown) > MAX_PROBLEMS:
        problems = [
            Problem(".".join((*path, _part(key))), message) for key in unknown[:MAX_PROBLEMS]
        ]
        raise InvalidPresentation(problems, total=len(unknown))


def _enum_keys(annotation: Any) -> frozenset[str] | None:  # noqa: ANN401 - typing constructs
    """The values of the enum keying a ``dict[SomeEnum, ...]`` annotation, else ``None``."""
    if typing.get_origin(annotation) is dict:
        key = typing.get_args(annotation)[0]
        if isinstance(key, type) and issubclass(key, enum.Enum):
            return frozenset(str(member.value) for member in key)
    for argument in typing.get_args(annotation):
        found = _enum_keys(argument)
        if found is not None:
            return found
    return None


def _json_text(data: str | bytes | bytearray) -> str | bytes | bytearray:
    """Check *data*'s size and emptiness; drop a UTF-8 byte order mark."""
    if len(data) > MAX_INPUT_BYTES:
        unit = "characters" if isinstance(data, str) else "bytes"
        message = (
            f"the input is {len(data):,} {unit} long; a presentation is at most "
            f"{MAX_INPUT_BYTES:,} bytes of JSON (one patient, not a cohort)"
        )
        raise InvalidPresentation([Problem("", message)])
    if isinstance(data, str):
        data = data.removeprefix("\ufeff")
    else:
        data = data.removeprefix(codecs.BOM_UTF8)
    if not data.strip():
        raise InvalidPresentation(
            [Problem("", f"the input is empty; give a JSON object ({_SCHEMA_HINT})")]
        )
    return data


def encoding_problem(data: bytes | bytearray, *, what: str = "the input") -> Problem | None:
    """A problem naming the encoding when *data* (*what*) is UTF-16 or UTF-32, not UTF-8."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return Problem(
                "", f"{what} is {name} (it starts with a {name} byte order mark); save it as UTF-8"
            )
    if b"\x00" in data[:4]:
        return Problem(
            "", f"{what} has NUL bytes: it looks like UTF-16 or UTF-32; save it as UTF-8"
        )
    return None


def problems_from(
    error: pydantic.ValidationError, model: type[BaseModel], *, limit: int = MAX_PROBLEMS
) -> list[Problem]:
    """Translate the first *limit* errors of *error* into :class:`Problem` objects, with fixes."""
    details = error.errors(include_url=False)[:limit]
    return [problem(detail, model) for detail in details]


def _shown(value: object) -> str:
    try:
        text = _brief(value, depth=3)
    except Exception:  # noqa: BLE001 - a caller's container that fails as it is read
        text = f"<{type(value).__name__}>"
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def _brief(value: object, depth: int) -> str:  # noqa: PLR0911 - one return per kind of value
    """*value* as short JSON-like text, built from at most a few items at each of a few levels."""
    if value is None or isinstance(value, bool | float):
        return json.dumps(value)
    if isinstance(value, int):
        if value.bit_length() > 200:  # str() refuses past 4,300 digits, and is slow before
            return f"<an integer of {int(value.bit_length() * 0.30103) + 1} digits>"
        return str(value)
    if isinstance(value, str):
        return json.dumps(value[:60])
    if isinstance(value, bytes | bytearray):
        return repr(bytes(value[:60]))
    if isinstance(value, Mapping | list | tuple | set | frozenset):
        if depth == 0:
            return "{...}" if isinstance(value, Mapping) else "[...]"
        return _brief_container(value, depth - 1)
    if isinstance(value, dt.date | dt.time | decimal.Decimal | enum.Enum):
        return json.dumps(str(value)[:60])
    return f"<{type(value).__name__}>"


def _brief_container(value: Any, depth: int) -> str:  # noqa: ANN401 - any container
    items = list(itertools.islice(value.items() if isinstance(value, Mapping) else value, 5))
    shown = [
        f"{_brief(item[0], depth)}: {_brief(item[1], depth)}"
        if isinstance(value, Mapping)
        else _brief(item, depth)
        for item in items[:4]
    ]
    if len(items) > 4:
        shown.append("...")
    brackets = "{}" if isinstance(value, Mapping) else "[]"
    return brackets[0] + ", ".join(shown) + brackets[1]


def _part(part: object) -> str:
    if isinstance(part, str):
        return part
    try:
        return _brief(part, depth=1)
    except Exception:  # noqa: BLE001 - a caller's key that fails as it is read
        return f"<{type(part).__name__}>"


def problem(detail: Any, model: type[BaseModel]) -> Problem:  # noqa: ANN401, PLR0911 - one return per kind of error
    loc = tuple(detail["loc"])
    kind = detail["type"]
    # pydantic ends the location of a mapping's bad key with "[key]"; an unknown field may be
    # named "[key]" itself.
    is_key = len(loc) > 1 and loc[-1] == "[key]" and kind != "extra_forbidden"
    if is_key:
        loc = loc[:-1]
    path = ".".join(_part(part) for part in loc)
    value = detail.get("input")
    message = detail["msg"]
    if kind == "json_invalid":
        reason = detail.get("ctx", {}).get("error", message)
        return Problem("", f"malformed JSON: {reason}; send a single JSON object")
    if kind == "model_type" and not loc:
        hint = f"expected a JSON object describing the presentation ({_SCHEMA_HINT})"
        return Problem("", hint, _shown(value))
    if kind == "extra_forbidden":
        allowed = _allowed_fields(model, loc[:-1])
        hint = _did_you_mean(_part(loc[-1]), allowed)
        return Problem(path, f"unknown field; {hint}remove it or use one of: {', '.join(allowed)}")
    if kind == "enum":
        return _enum_problem(path, detail, is_key=is_key)
    if kind == "value_error":
        return Problem(path, message.removeprefix("Value error, "))
    if kind == "missing":
        return Problem(path, "required field is missing; add it")
    return Problem(path, f"{message[0].lower()}{message[1:]}", _shown(value))


def _did_you_mean(value: str, options: list[str]) -> str:
    close = difflib.get_close_matches(value[:100], options, n=1)
    return f"did you mean {close[0]!r}? " if close else ""


def _enum_problem(path: str, detail: Any, *, is_key: bool) -> Problem:  # noqa: ANN401
    value = detail.get("input")
    expected = detail.get("ctx", {}).get("expected", "")
    options = [option.strip(" '") for option in expected.replace(" or ", ", ").split(",")]
    hint = _did_you_mean(_part(value), options)
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

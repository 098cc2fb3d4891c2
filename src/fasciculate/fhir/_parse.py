"""Parse a FHIR Bundle (JSON text, bytes or a mapping) into the reader's boundary models.

Every failure is an :class:`~fasciculate.InvalidBundle` naming the field: text that is not UTF-8,
not JSON, nested too deeply, not a Bundle, or an element of the wrong JSON type. Errors inside the
union of resource models are reported once, at the resource's own path (``entry.3.resource.code``),
not once per model tried.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import Any

import pydantic

from fasciculate._errors import InvalidBundle, Problem
from fasciculate._validation import problem as problem_from
from fasciculate.fhir._resources import MEMBERS, READ_UNION, Bundle


def _not_a_bundle(data: object) -> InvalidBundle:
    kind = data.get("resourceType") if isinstance(data, Mapping) else None
    shown = repr(kind) if kind is not None else f"a JSON {type(data).__name__}"
    message = (
        f"expected a FHIR Bundle, got {shown}; wrap the resources in a Bundle "
        "(type collection) with one entry per resource"
    )
    return InvalidBundle([Problem("resourceType", message)])


def _unnested(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """*loc* with the models of the types read as one step, their type (``Observation``)."""
    if "resource" in loc:
        at = loc.index("resource") + 1
        if len(loc) > at + 1 and str(loc[at]).startswith(READ_UNION):
            return loc[:at] + loc[at + 1 :]
    return loc


def _relevant(detail: Any) -> bool:  # noqa: ANN401 - a pydantic error detail
    """Whether a union error concerns the resource's own model (not a model it is not)."""
    loc = tuple(detail["loc"])
    if "resource" not in loc:
        return True
    at = loc.index("resource") + 1
    member, rest = (loc[at], loc[at + 1 :]) if len(loc) > at else (None, ())
    if member == "OtherResource":
        return not (rest == ("resourceType",) and detail["type"] == "value_error")
    if str(member).startswith(READ_UNION):  # not a type read (or no type): OtherResource says
        return False
    return member not in MEMBERS or rest != ("resourceType",)


def _invalid(error: pydantic.ValidationError, raw: object) -> InvalidBundle:
    malformed = any(detail["type"] == "json_invalid" for detail in error.errors())
    if not malformed and any(
        tuple(detail["loc"]) in {(), ("resourceType",)} for detail in error.errors()
    ):
        if isinstance(raw, str | bytes | bytearray):
            # Parsed JSON (pydantic said so); a huge number or deep nesting still fails here.
            with contextlib.suppress(ValueError, RecursionError):
                raw = json.loads(raw)
        if not isinstance(raw, str | bytes | bytearray):
            return _not_a_bundle(raw)
    details: list[Any] = [
        {**detail, "loc": _unnested(tuple(detail["loc"]))}
        for detail in error.errors(include_url=False)
    ]
    details = [detail for detail in details if _relevant(detail)]
    problems: dict[tuple[str, str], Problem] = {}
    for detail in details:
        loc = list(detail["loc"])
        if "resource" in loc and loc.index("resource") + 1 < len(loc):
            del loc[loc.index("resource") + 1]
        if detail["type"] == "recursion_depth_exceeded":  # its value cannot even be shown
            where = ".".join(map(str, loc[:8])) + ("..." if len(loc) > 8 else "")
            message = "nested too deeply to read; a FHIR Bundle is a few levels deep"
            problems.setdefault((where, message), Problem(where, message))
            continue
        problem = problem_from({**detail, "loc": tuple(loc)}, Bundle)
        problems.setdefault((problem.path, problem.message), problem)
    return InvalidBundle(list(problems.values()))


def parse(bundle: Mapping[str, Any] | str | bytes) -> Bundle:
    """*bundle* validated into the boundary models.

    Raises:
        InvalidBundle: If it is not UTF-8 JSON of a FHIR Bundle, listing every problem.
    """
    if isinstance(bundle, bytes | bytearray):
        try:
            bundle.decode()
        except UnicodeDecodeError as error:
            message = (
                f"not UTF-8 text: byte {bundle[error.start]:#04x} at offset {error.start}; "
                "save the bundle as UTF-8 JSON"
            )
            raise InvalidBundle([Problem("", message)]) from None
    try:
        if isinstance(bundle, str | bytes | bytearray):
            if not bundle.strip():
                raise InvalidBundle([Problem("", "the input is empty; give a FHIR R4 Bundle")])
            return Bundle.model_validate_json(bundle)
        return Bundle.model_validate(bundle)
    except pydantic.ValidationError as error:
        raise _invalid(error, bundle) from None

"""How ``fasciculate interview`` asks for one input field and reads a typed answer into it.

Nothing here is a per-question table: the kind of answer is read from the :class:`Presentation`
models (a present/absent/unknown item, a choice from a vocabulary, a number, a list of regions)
and a number's unit from the knowledge base's quantity. The only table is
of units themselves (a week is seven days), so that ``3 weeks`` or ``18 months`` can be said.
"""

from __future__ import annotations

import enum
import math
import re
import types
import typing
from collections.abc import Callable
from typing import Any

import attrs
from pydantic import BaseModel

from fasciculate._fact_paths import QUANTITY_PATHS
from fasciculate._kb import knowledge_base
from fasciculate._presentation import Presentation
from fasciculate._vocab import TriState

#: Answers read as present, absent or unknown (lower case).
_TRI_WORDS = {
    TriState.PRESENT: ("y", "yes", "present", "p", "true"),
    TriState.ABSENT: ("n", "no", "absent", "a", "false", "none"),
    TriState.UNKNOWN: ("?", "u", "unknown", "dk", "don't know", "not known", "not sure", "skip"),
}
_READ_TRI = {word: level for level, words in _TRI_WORDS.items() for word in words}

#: Units a number may be given in: each dimension's units as factors of one of them, each with
#: its ways of writing it (the first is shown).
_UNITS: tuple[dict[tuple[str, ...], float], ...] = (
    {
        ("min", "mins", "minute", "minutes"): 1 / 1440,
        ("h", "hr", "hrs", "hour", "hours"): 1 / 24,
        ("d", "day", "days"): 1.0,
        ("weeks", "week", "w", "wk", "wks"): 7.0,
        ("months", "month", "mo"): 365.25 / 12,
        ("years", "year", "y", "yr", "yrs"): 365.25,
    },
    {
        ("mg/d", "mg", "mg/day", "mg a day", "mg per day", "mg daily"): 1.0,
        ("g/d", "g", "g/day", "g a day", "g per day", "g daily"): 1000.0,
    },
)
_NUMBER = re.compile(r"([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*(.*)")


class AnswerError(ValueError):
    """An answer that cannot be read: the message says what is expected."""


#: An answer of "unknown" to a field that stays unset (a choice, a number, a list).
UNANSWERED = object()


@attrs.frozen
class Asking:
    """How the input field at *path* is asked: the answers it takes, and how one is read."""

    path: str
    hint: str
    read: Callable[[str], object]  # the answer's JSON value, UNANSWERED, or AnswerError


def _field_type(path: str) -> object:
    """The type of the value at *path* in a presentation (``findings.X``: a dictionary's value)."""
    model: Any = Presentation
    annotation: object = None
    for part in path.split("."):
        if isinstance(model, type) and issubclass(model, BaseModel):
            if part not in model.model_fields:
                return None
            annotation = model.model_fields[part].annotation
        elif typing.get_origin(model) is dict:
            annotation = typing.get_args(model)[1]
        else:
            return None
        model = annotation
    return annotation


def _strip(annotation: object) -> object:
    """*annotation* without ``Annotated`` and ``| None``."""
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if isinstance(annotation, types.UnionType):
        options = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        annotation = options[0] if len(options) == 1 else annotation
    return annotation


def asking(path: str) -> Asking | None:
    """How *path* is asked, or ``None`` when it is not asked in one line (labs, dates, grades)."""
    annotation = _strip(_field_type(path))
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is TriState:
        return Asking(path, "y (present) / n (absent) / ? (unknown)", _read_tri)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return _choice(path, annotation)
    if annotation in {int, float}:
        return _number(path, whole=annotation is int)
    if origin is list and _is_enum(args[0]):
        return _members(path, args[0])
    return None


def _is_enum(annotation: object) -> typing.TypeGuard[type[enum.Enum]]:
    return isinstance(annotation, type) and issubclass(annotation, enum.Enum)


def _read_tri(text: str) -> str:
    level = _READ_TRI.get(text.lower())
    if level is None:
        message = f"{text!r} is not an answer here: y (present), n (absent) or ? (unknown)"
        raise AnswerError(message)
    return level.value


def _names(vocabulary: type[enum.Enum]) -> list[str]:
    return [str(member.value) for member in vocabulary]


def _member(text: str, vocabulary: type[enum.Enum]) -> str:
    """The member of *vocabulary* written as *text*: its value, a number, or a unique prefix."""
    names = _names(vocabulary)
    word = re.sub(r"[\s-]+", "_", text.strip().lower())
    if word.isdigit() and 1 <= int(word) <= len(names):
        return names[int(word) - 1]
    matches = [name for name in names if name == word] or [n for n in names if n.startswith(word)]
    if len(matches) != 1 or not word:
        message = f"{text!r} is not one of: {', '.join(names)}"
        raise AnswerError(message)
    return matches[0]


def _choice(path: str, vocabulary: type[enum.Enum]) -> Asking:
    names = _names(vocabulary)
    hint = "  ".join(f"{number}) {name}" for number, name in enumerate(names, 1))

    def read(text: str) -> object:
        return UNANSWERED if _is_unknown(text) else _member(text, vocabulary)

    return Asking(path, f"{hint}  ? unknown", read)


def _is_unknown(text: str) -> bool:
    return _READ_TRI.get(text.lower()) is TriState.UNKNOWN


def _number(path: str, *, whole: bool) -> Asking:
    unit = _unit_of(path)
    table = _dimension(unit) if unit is not None else None
    written = {word: factor for words, factor in (table or {}).items() for word in words}
    shown = ", ".join(words[0] for words in table or ())
    hint = "a number" if unit is None else f"a number in {unit}"
    hint += f" (or with a unit: {shown})" if shown else ""

    def read(text: str) -> object:
        if _is_unknown(text):
            return UNANSWERED
        match = _NUMBER.fullmatch(text.strip())
        if match is None:
            message = f"{text!r} is not a number{f' (in {unit})' if unit else ''}"
            raise AnswerError(message)
        value, said = float(match[1]), " ".join(match[2].lower().split())
        if said and said != (unit or "").lower():
            if said not in written:
                accepted = f"; use one of: {shown}" if shown else f"; give it in {unit}"
                message = f"unknown unit {said!r} for {path}{accepted}"
                raise AnswerError(message)
            value = round(value * written[said] / written[str(unit).lower()], 6)
        return math.floor(value) if whole else value

    return Asking(path, f"{hint}  ? unknown", read)


def _unit_of(path: str) -> str | None:
    """The unit of the quantity that *path* gives, from the knowledge base."""
    quantities = knowledge_base().quantities
    for quantity, paths in QUANTITY_PATHS.items():
        if path in paths:
            return quantities[quantity].unit
    return None


def _dimension(unit: str) -> dict[tuple[str, ...], float] | None:
    """The units of *unit*'s dimension (each with its ways of writing it), or ``None``."""
    for table in _UNITS:
        if any(unit.lower() in words for words in table):
            return table
    return None


def _words(text: str) -> list[str]:
    return [part for part in re.split(r"\s*(?:,|;|\band\b)\s*", text.strip()) if part]


def _members(path: str, vocabulary: type[enum.Enum]) -> Asking:
    def read(text: str) -> object:
        if _is_unknown(text):
            return UNANSWERED
        return list(dict.fromkeys(_member(word, vocabulary) for word in _words(text)))

    hint = f"one or more of {', '.join(_names(vocabulary))} (comma-separated)  ? unknown"
    return Asking(path, hint, read)


def put(data: dict[str, Any], path: str, value: object) -> dict[str, Any]:
    """A copy of *data* with *value* at *path*."""
    head, _, rest = path.partition(".")
    if not rest:
        return {**data, head: value}
    inner = data.get(head)
    return {**data, head: put(inner if isinstance(inner, dict) else {}, rest, value)}


def given(data: dict[str, Any], path: str) -> object:
    """The value at *path* in *data*, or ``None``."""
    value: object = data
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value

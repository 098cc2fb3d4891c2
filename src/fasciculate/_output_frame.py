"""One description of the output: each model's fields, with how each field's value is made.

The fields of :class:`~fasciculate.Assessment`, :class:`~fasciculate.CategoryResult` and
:class:`~fasciculate.ConditionResult` are declared once, in the models. A *frame* pairs each field,
in the model's order (its ``model_fields``), with how its value is made from what the model is
made from (a :class:`Case` for an assessment, a :class:`Ranked` for a category or a condition).
:func:`frame` checks a table of values against the model: a field without a value and without a
default, or a value for a field the model does not declare, is a ``TypeError`` when the frame is
made, which for the tables of :mod:`fasciculate._output` is at import.

The typed path builds the models from the frames; the JSON writer (:mod:`fasciculate._output_json`)
takes its keys and their order from the same frames.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from fasciculate import _differential as diff
from fasciculate import _referral as ref
from fasciculate._facts import Facts
from fasciculate._generated import define

if TYPE_CHECKING:
    from pydantic import BaseModel

    from fasciculate._output import Output


class Case(NamedTuple):
    """One presentation's evaluation: what the fields of its assessment are made from."""

    referral: ref.Referral
    differential: diff.Differential
    facts: Facts
    #: The triggers found, and whether general advice is given (see ``Output.advice_key``).
    advice_key: tuple[tuple[str, ...], bool]


class Ranked(NamedTuple):
    """A category or condition of a differential at its rank: what its fields are made from."""

    differential: diff.Differential
    #: Its position in the knowledge base's category (or condition) order.
    slot: int
    rank: int
    #: For a category, its conditions' positions, first first; empty for a condition.
    order: tuple[int, ...]


Source = TypeVar("Source", Case, Ranked)
#: How a field's value is made from the builder and what the model is made from.
Make = Callable[["Output", Source], object]
#: A model's fields in its order, each with how its value is made.
Frame = tuple[tuple[str, Make[Source]], ...]


def undeclared(model: type[BaseModel], names: Iterable[str]) -> tuple[list[str], list[str]]:
    """Of *names*, those *model* does not declare (sorted); its required fields not in *names*."""
    fields, given = model.model_fields, set(names)
    missing = [name for name, info in fields.items() if name not in given and info.is_required()]
    return sorted(given - fields.keys()), missing


def frame(model: type[BaseModel], values: Mapping[str, Make[Source]]) -> Frame[Source]:
    """The fields of *model*, in its order, each with how its value is made.

    From *values*, else the field's default.

    Raises:
        TypeError: If *values* names a field *model* does not declare, or leaves out one
            without a default.
    """
    fields = model.model_fields
    unknown, missing = undeclared(model, values)
    if unknown or missing:
        msg = (
            f"{model.__name__}: values given for fields it does not declare: {unknown}; no value "
            f"for its fields without a default: {missing}. Declare each field once, in the "
            "model, and say how its value is made in the table of fasciculate._output."
        )
        raise TypeError(msg)
    return tuple(
        (name, values.get(name) or _constant(info.get_default(call_default_factory=True)))
        for name, info in fields.items()
    )


def _constant(value: object) -> Make[Any]:
    return lambda _output, _source: value


#: A frame compiled into one function: the values of a model's fields, by name, in its order.
Values = Callable[["Output", Source], dict[str, object]]


def compile_frame(name: str, fields: Frame[Source]) -> Values[Source]:
    """*fields* as one generated function of the builder and the source (``<fasciculate NAME>``).

    It returns what ``{name: make(output, source) for name, make in fields}`` returns, as one
    dict display: no loop over the frame for each model built.
    """
    lines = ["def values(output, source):", "    return {"]
    lines += [
        f"        {field!r}: m{number}(output, source)," for number, (field, _) in enumerate(fields)
    ]
    lines.append("    }")
    scope = {f"m{number}": make for number, (_, make) in enumerate(fields)}
    function: Values[Source] = define(name, "\n".join(lines) + "\n", "values", scope, builtins={})
    return function

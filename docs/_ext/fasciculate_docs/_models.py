"""Docstring additions that come from the code: pydantic fields and the findings' questions.

* Pydantic v2 keeps a model's fields out of its class attributes, so autodoc cannot list them. Each
  model's docstring gets a table of its fields (type, default, constraints, description) built from
  ``model_fields``.
* :class:`fasciculate.Finding` is generated from the knowledge base's fact table; each member's
  docstring is the fact's label and the question asked while it is unknown.
"""

from __future__ import annotations

import enum
import re
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined
from sphinx.util.typing import restify

from fasciculate import knowledge_base

if TYPE_CHECKING:
    from pydantic.fields import FieldInfo
    from sphinx.application import Sphinx

_AFTER_NAPOLEON = 600
_PRIVATE_MODULE = re.compile(r"fasciculate\._\w+\.")
_MARKDOWN_CODE = re.compile(r"(?<!`)`([^`]+)`(?!`)")  # descriptions are also JSON Schema text
_BOUNDS = {
    "ge": ">=",
    "gt": ">",
    "le": "<=",
    "lt": "<",
    "min_length": "min length",
    "max_length": "max length",
}


def _type(field: FieldInfo) -> str:
    """The field's type as reST, with public names (``fasciculate.Patient``) for our classes."""
    return _PRIVATE_MODULE.sub("fasciculate.", restify(field.annotation))


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        factory: Any = field.default_factory
        value = factory()
        return f"``{type(value).__name__}()``" if isinstance(value, BaseModel) else f"``{value!r}``"
    if field.default is PydanticUndefined:
        return "required"
    if isinstance(field.default, enum.Enum):
        return f'``"{field.default.value}"``'
    return f"``{field.default!r}``"


def _constraints(field: FieldInfo) -> str:
    found = [
        f"{shown} {getattr(item, name)}"
        for item in field.metadata
        for name, shown in _BOUNDS.items()
        if getattr(item, name, None) is not None
    ]
    return f" ({', '.join(found)})" if found else ""


def _field_table(model: type[BaseModel]) -> list[str]:
    lines = [
        "",
        ".. list-table:: Fields",
        "   :header-rows: 1",
        "   :widths: 18 30 14 38",
        "",
        "   * - Field",
        "     - Type",
        "     - Default",
        "     - Description",
    ]
    for name, field in model.model_fields.items():
        description = _MARKDOWN_CODE.sub(r"``\1``", (field.description or "").replace("\n", " "))
        description += _constraints(field)
        lines += [
            f"   * - ``{name}``",
            f"     - {_type(field)}",
            f"     - {_default(field)}",
            f"     - {description.strip()}",
        ]
    return lines


def add_model_fields(  # noqa: PLR0913, PLR0917 - the signature autodoc calls
    app: Sphinx,  # noqa: ARG001
    what: str,
    name: str,  # noqa: ARG001
    obj: Any,  # noqa: ANN401
    options: Any,  # noqa: ANN401, ARG001
    lines: list[str],
) -> None:
    """Append the field table to a pydantic model's docstring."""
    if what == "class" and isinstance(obj, type) and issubclass(obj, BaseModel):
        lines.extend(_field_table(obj))


def describe_findings(  # noqa: PLR0913, PLR0917 - the signature autodoc calls
    app: Sphinx,  # noqa: ARG001
    what: str,
    name: str,
    obj: Any,  # noqa: ANN401, ARG001
    options: Any,  # noqa: ANN401, ARG001
    lines: list[str],
) -> None:
    """Give each ``Finding`` member its fact's label and question from the knowledge base."""
    prefix = "fasciculate.Finding."
    if what != "attribute" or not name.startswith(prefix):
        return
    fact = knowledge_base().facts.get(name.removeprefix(prefix).lower())
    if fact is not None:
        lines[:] = [f"{fact.label}. Asked as: *{fact.question}* (:kbfact:`{fact.id}`)"]


def setup(app: Sphinx) -> None:
    """Connect both handlers after napoleon."""
    app.connect("autodoc-process-docstring", add_model_fields, priority=_AFTER_NAPOLEON)
    app.connect("autodoc-process-docstring", describe_findings, priority=_AFTER_NAPOLEON)

"""A Hypothesis strategy for documents that are valid against a JSON Schema (the subset pydantic
writes: ``$ref``, ``anyOf``, ``enum``, objects, arrays, strings, numbers, dates, null).

Written for the input schema of ``Presentation`` so that the schema, not the model, decides what
the random documents look like.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Documents valid against *schema*."""
    return _strategy(schema, schema.get("$defs", {}))


def _strategy(node: dict[str, Any], defs: dict[str, Any]) -> st.SearchStrategy[Any]:  # noqa: C901, PLR0911
    if "$ref" in node:
        return st.deferred(lambda: _strategy(defs[node["$ref"].rsplit("/", 1)[-1]], defs))
    if "anyOf" in node:
        return st.one_of([_strategy(option, defs) for option in node["anyOf"]])
    if "enum" in node:
        return st.sampled_from(node["enum"])
    kind = node.get("type")
    if kind == "object":
        return _object(node, defs)
    if kind == "array":
        items = _strategy(node.get("items", {}), defs)
        return st.lists(items, max_size=min(node.get("maxItems", 4), 4))
    if kind == "string":
        if node.get("format") == "date":
            return st.dates(dt.date(1990, 1, 1), dt.date(2030, 1, 1)).map(dt.date.isoformat)
        return st.text(
            min_size=node.get("minLength", 0), max_size=min(node.get("maxLength", 12), 12)
        )
    if kind == "integer":
        return st.integers(node.get("minimum", -(10**6)), node.get("maximum", 10**6))
    if kind == "number":
        return st.floats(node.get("minimum", -1e6), node.get("maximum", 1e6), allow_nan=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    raise NotImplementedError(node)


@st.composite
def _object(draw: st.DrawFn, node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    properties = node.get("properties", {})
    required = set(node.get("required", ()))
    document: dict[str, Any] = {}
    for name, child in properties.items():
        if name in required or draw(st.booleans()):
            document[name] = draw(_strategy(child, defs))
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        keys = _strategy(node.get("propertyNames", {"type": "string"}), defs)
        document.update(draw(st.dictionaries(keys, _strategy(extra, defs), max_size=6)))
    return document

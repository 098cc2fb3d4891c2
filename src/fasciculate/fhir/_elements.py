"""The most numerous elements of a bundle, validated into plain dicts and tuples, not models.

Every CodeableConcept and its codings, and every resource's ``subject``: a large bundle holds tens
of thousands of them, and a plain dict is built and freed faster than a model (about a tenth of
the time of reading 20,000 entries, ``benchmarks/bench_fhir.py``). Validation is as strict: each
element given has the JSON type a model's field would check (a string or ``null``, a list of
objects); an element not given is absent, read with ``.get``. A coding becomes the tuple
``(system, code, display)`` and a concept's codings a tuple of them, so that a concept's
:func:`concept_key` is its text and its codings as they are. Read a CodeableConcept with
:func:`codes` and :func:`label`.
"""

from __future__ import annotations

import operator
from collections.abc import Hashable
from typing import TYPE_CHECKING, Annotated, Any, TypedDict

from pydantic_core import CoreSchema, core_schema

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler

_TEXT = core_schema.nullable_schema(core_schema.str_schema())


def _record(**fields: CoreSchema) -> CoreSchema:
    """A JSON object validated into a plain dict of the elements *fields* (others ignored)."""
    return core_schema.typed_dict_schema(
        {
            key: core_schema.typed_dict_field(schema, required=False)
            for key, schema in fields.items()
        },
        extra_behavior="ignore",
    )


class _Record:
    """The core schema pydantic validates the TypedDict it annotates with (a plain dict).

    The TypedDict gives the static type; the schema is given here, since pydantic validates a
    ``typing.TypedDict`` itself only from Python 3.12.
    """

    def __init__(self, schema: CoreSchema) -> None:
        self.schema = schema

    def __get_pydantic_core_schema__(
        self,
        source: Any,  # noqa: ANN401 - the annotated TypedDict, described by the schema
        handler: GetCoreSchemaHandler,
    ) -> CoreSchema:
        return self.schema


#: A code in a code system, inside a CodeableConcept: ``(system, code, display)``, each ``None``
#: when not given.
CodingData = tuple[str | None, str | None, str | None]


class ConceptData(TypedDict, total=False):
    """Codings and a text."""

    coding: tuple[CodingData, ...]
    text: str | None


class SubjectData(TypedDict, total=False):
    """The patient a resource is about."""

    reference: str | None
    display: str | None


_FIELDS = ("system", "code", "display")
#: A coding: a JSON object with the three elements (``None`` when not given), then their tuple
#: (``operator.itemgetter``, called by pydantic-core without a Python frame).
_CODING = core_schema.no_info_after_validator_function(
    operator.itemgetter(*_FIELDS),
    core_schema.typed_dict_schema(
        {
            key: core_schema.typed_dict_field(core_schema.with_default_schema(_TEXT, default=None))
            for key in _FIELDS
        },
        extra_behavior="ignore",
    ),
)
#: A concept's codings: a JSON array (a problem says "list", as for any other array), then a tuple.
_CODINGS = core_schema.no_info_after_validator_function(tuple, core_schema.list_schema(_CODING))
#: A CodeableConcept, as a plain dict; read it with :func:`codes` and :func:`label`.
CodeableConcept = Annotated[ConceptData, _Record(_record(coding=_CODINGS, text=_TEXT))]
#: The patient a resource is about, as a plain dict.
SubjectReference = Annotated[SubjectData, _Record(_record(reference=_TEXT, display=_TEXT))]


def codes(concept: ConceptData | None) -> list[tuple[str, str]]:
    """Every ``(system, code)`` pair of *concept* with both parts given, in document order."""
    if not concept:
        return []
    return [(system, code) for system, code, _ in concept.get("coding", ()) if system and code]


def label(concept: ConceptData | None) -> str | None:
    """The text of *concept*, or its first display, or its first code."""
    if not concept:
        return None
    if text := concept.get("text"):
        return text
    for _, code, display in concept.get("coding", ()):
        if shown := display or code:
            return shown
    return None


def concept_key(concept: ConceptData | None) -> Hashable:
    """Everything read from *concept*, hashable: concepts with equal keys read the same.

    A large bundle repeats a few concepts thousands of times (the LOINC code ``Symptom``, the
    symptom coded as its value): what each one means is decided once per bundle, keyed by this.
    """
    if not concept:
        return None
    return concept.get("text"), concept.get("coding", ())

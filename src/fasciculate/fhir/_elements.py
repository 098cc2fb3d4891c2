"""The most numerous elements of a bundle, validated into plain dicts rather than models.

Every CodeableConcept and its codings, and every resource's ``subject``: a large bundle holds tens
of thousands of them, and a plain dict is built and freed faster than a model (about a tenth of
the time of reading 20,000 entries, ``benchmarks/bench_fhir.py``). Validation is as strict: each
element given has the JSON type a model's field would check (a string or ``null``, a list of
objects); an element not given is absent, read with ``.get``. Read a CodeableConcept with
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


class CodingData(TypedDict):
    """A code in a code system, inside a CodeableConcept (an element not given is ``None``)."""

    system: str | None
    code: str | None
    display: str | None


class ConceptData(TypedDict, total=False):
    """Codings and a text."""

    coding: list[CodingData]
    text: str | None


class SubjectData(TypedDict, total=False):
    """The patient a resource is about."""

    reference: str | None
    display: str | None


#: A coding has all three keys, an element not given being ``None``: :func:`concept_key` reads
#: them at once (``operator.itemgetter``), in about half the time of three ``.get`` calls.
_CODING = core_schema.typed_dict_schema(
    {
        key: core_schema.typed_dict_field(core_schema.with_default_schema(_TEXT, default=None))
        for key in ("system", "code", "display")
    },
    extra_behavior="ignore",
)
_CODING_KEY = operator.itemgetter("system", "code", "display")
#: A CodeableConcept, as a plain dict; read it with :func:`codes` and :func:`label`.
CodeableConcept = Annotated[
    ConceptData, _Record(_record(coding=core_schema.list_schema(_CODING), text=_TEXT))
]
#: The patient a resource is about, as a plain dict.
SubjectReference = Annotated[SubjectData, _Record(_record(reference=_TEXT, display=_TEXT))]


def codes(concept: ConceptData | None) -> list[tuple[str, str]]:
    """Every ``(system, code)`` pair of *concept* with both parts given, in document order."""
    if not concept:
        return []
    return [
        (system, code)
        for coding in concept.get("coding", ())
        if (system := coding.get("system")) and (code := coding.get("code"))
    ]


def label(concept: ConceptData | None) -> str | None:
    """The text of *concept*, or its first display, or its first code."""
    if not concept:
        return None
    if text := concept.get("text"):
        return text
    for coding in concept.get("coding", ()):
        if shown := coding.get("display") or coding.get("code"):
            return shown
    return None


def concept_key(concept: ConceptData | None) -> Hashable:
    """Everything read from *concept*, hashable: concepts with equal keys read the same.

    A large bundle repeats a few concepts thousands of times (the LOINC code ``Symptom``, the
    symptom coded as its value): what each one means is decided once per bundle, keyed by this.
    """
    if not concept:
        return None
    return concept.get("text"), *map(_CODING_KEY, concept.get("coding", ()))

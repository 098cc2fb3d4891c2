"""What each line of a Bulk Data export is: about which patient, in what role, or a problem.

Each line is parsed here: a Patient is keyed by its id, another resource by the patient its
``subject`` (or ``patient``) reference names, and a medication request or statement also gives
the id of the Medication it references (``Medication/<id>``). A Medication is nobody's: it is keyed
by its own id and cut down to the elements the FHIR reader reads of it (``id`` and ``code``), to
be kept aside (:mod:`fasciculate._bulk_medications`).

Most lines are read through a narrow schema that keeps only the elements a key needs
(``resourceType``, ``id`` and the ``reference`` of ``subject``, ``patient`` and
``medicationReference``): the rest of the line is checked as JSON but never becomes Python objects,
which makes a large resource (a QuestionnaireResponse) quick to key. A line the narrow schema does
not take (not JSON, not UTF-8, a ``subject`` that is not an object, nesting deeper than it reads)
and a Medication (whose ``code`` is kept) are parsed in full instead: the key, or the problem and
its message, is the same either way.
"""

from __future__ import annotations

from typing import TypeGuard

from pydantic_core import SchemaValidator, ValidationError, from_json, to_json
from pydantic_core import core_schema as cs

from fasciculate._bulk_types import ProblemKind
from fasciculate.fhir._subject import patient_id

#: What a line is: its patient's Patient, another resource about a patient, or a Medication.
PATIENT, RESOURCE, MEDICATION = b"P", b"R", b"M"
_USES = frozenset({"MedicationRequest", "MedicationStatement"})
_ID_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.")


def _elements(*names: str, **objects: cs.CoreSchema) -> cs.TypedDictSchema:
    """An object's *names* (any JSON) and *objects* (as their schemas), each optional; no others."""
    fields = {name: cs.typed_dict_field(cs.any_schema(), required=False) for name in names}
    fields |= {
        name: cs.typed_dict_field(schema, required=False) for name, schema in objects.items()
    }
    return cs.typed_dict_schema(fields, extra_behavior="ignore")


_REFERENCE = _elements("reference")
#: The elements a key reads of a resource; every other element is checked as JSON, then dropped.
_NARROW = SchemaValidator(
    _elements(
        "resourceType", "id", subject=_REFERENCE, patient=_REFERENCE, medicationReference=_REFERENCE
    )
)


def _reference(resource: dict[str, object]) -> str | None:
    for member in ("subject", "patient"):
        target = resource.get(member)
        if isinstance(target, dict) and isinstance(ref := target.get("reference"), str) and ref:
            return ref
    return None


def _valid_id(ident: object) -> TypeGuard[str]:
    return isinstance(ident, str) and 0 < len(ident) <= 64 and set(ident) <= _ID_CHARACTERS


def _medication_id(resource: dict[str, object]) -> str:
    """The id of the Medication *resource* references as ``Medication/<id>``, else ``""``."""
    target = resource.get("medicationReference")
    if isinstance(target, dict) and isinstance(ref := target.get("reference"), str):
        ident = ref.removeprefix("Medication/")
        if ident != ref and _valid_id(ident):
            return ident
    return ""


def _medication(
    resource: dict[str, object],
) -> tuple[str, bytes, str, bytes] | tuple[ProblemKind, str]:
    """A Medication's id and the elements the FHIR reader reads of it (its id and code)."""
    ident = resource.get("id")
    if not _valid_id(ident):
        return ProblemKind.BAD_MEDICATION, (
            f"a Medication without a valid id (got {ident!r:.70}): medication requests and "
            "statements reference it as Medication/<id>; give it an id of 1-64 letters, digits, "
            "'-' or '.'"
        )
    kept: dict[str, object] = {"resourceType": "Medication", "id": ident}
    if "code" in resource:
        kept["code"] = resource["code"]
    return ident, MEDICATION, "", to_json(kept)


def key(line: bytes) -> tuple[str, bytes, str, bytes] | tuple[ProblemKind, str]:
    """What a line is, or a problem and its message.

    What a line is: the patient it is about (for a Medication, its id), its role
    (:data:`PATIENT`, :data:`RESOURCE` or :data:`MEDICATION`), the id of the Medication it
    references (``""`` if none) and the resource (a Medication's: only the elements read).
    The same as :func:`full_key`, in less time.
    """
    try:
        resource = _NARROW.validate_json(line)
    except ValidationError:
        return full_key(line)
    if resource.get("resourceType") == "Medication":
        return full_key(line)
    return _key_of(resource, line)


def full_key(line: bytes) -> tuple[str, bytes, str, bytes] | tuple[ProblemKind, str]:
    """:func:`key`, with the line parsed in full."""
    try:
        resource = from_json(line)
    except ValueError as error:
        try:
            line.decode()
        except UnicodeDecodeError as bad:
            return ProblemKind.NOT_UTF8, (
                f"not UTF-8 text: byte {line[bad.start]:#04x} at offset {bad.start}; "
                "a Bulk Data export is UTF-8 (re-export it, or convert the file with iconv)"
            )
        return ProblemKind.NOT_JSON, (
            f"not JSON ({error}): each line of an NDJSON file is one FHIR resource, "
            "one JSON object on one line"
        )
    return _key_of(resource, line)


def _key_of(  # noqa: PLR0911
    resource: object, line: bytes
) -> tuple[str, bytes, str, bytes] | tuple[ProblemKind, str]:
    """What *line*, parsed as *resource* (in full, or at least the elements read), is."""
    kind = resource.get("resourceType") if isinstance(resource, dict) else None
    if not isinstance(resource, dict) or not isinstance(kind, str):
        shown = "a JSON object without resourceType" if isinstance(resource, dict) else "JSON"
        return ProblemKind.NOT_JSON, (
            f"{shown} ({type(resource).__name__}), not a FHIR resource: each line is one JSON "
            'object with its "resourceType"'
        )
    if kind == "Medication":
        return _medication(resource)
    if kind == "Patient":
        ident = resource.get("id")
        if _valid_id(ident):
            return ident, PATIENT, "", line
        return ProblemKind.NO_SUBJECT, (
            f"a Patient without a valid id (got {ident!r:.70}): the resources about it name it "
            "as Patient/<id>; give it an id of 1-64 letters, digits, '-' or '.'"
        )
    reference = _reference(resource)
    if reference is None:
        return ProblemKind.NO_SUBJECT, (
            f"the {kind} names no patient: give it subject.reference (or patient.reference) "
            "Patient/<id>"
        )
    found = patient_id(reference)
    if found is None:
        return ProblemKind.UNKNOWN_PATIENT, (
            f"the {kind} is about {reference!r:.80}, which is not a reference to a Patient: in "
            "a Bulk Data export, resources name their patient as Patient/<id>"
        )
    return found, RESOURCE, _medication_id(resource) if kind in _USES else "", line


#: One line tied to its patient: patient id (a Medication's id), file index, line number, role
#: (:data:`PATIENT`, :data:`RESOURCE`, :data:`MEDICATION`), the id of the Medication it
#: references (or ``""``) and the resource's JSON.
Keyed = tuple[str, int, int, bytes, str, bytes]

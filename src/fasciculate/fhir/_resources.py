"""Boundary models of the few FHIR R4 elements fasciculate reads.

They check the JSON types of exactly the elements used and ignore the rest, which is what makes
reading a bundle an order of magnitude faster than a full FHIR parse (``benchmarks/bench_fhir.py``).
A resource of any other type parses as :class:`OtherResource` and is reported, never rejected.
Dates stay strings: FHIR allows partial dates (``1980``, ``1980-10``) that the reader handles.
The most numerous, an :class:`Observation` and a bundle :class:`Entry`, are plain dicts
(TypedDicts, read with ``.get``); :func:`resource_type`, :func:`resource_id` and :func:`about`
read any resource.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Required, cast

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError
from typing_extensions import TypedDict  # pydantic reads typing.TypedDict from Python 3.12

from fasciculate.fhir._elements import CodeableConcept, SubjectReference


class _Element(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Coding(_Element):
    """A code in a code system (an answer's ``valueCoding``)."""

    system: str | None = None
    code: str | None = None
    display: str | None = None


def _no_boolean(value: object) -> object:
    # pydantic reads true as 1.0 in lax mode: a JSON boolean is never a measured amount.
    if isinstance(value, bool):
        raise PydanticCustomError(
            "bool_not_number", "a JSON boolean is not a number; give a number"
        )
    return value


class Quantity(_Element):
    """A measured amount."""

    value: float | None = None
    comparator: str | None = None
    unit: str | None = None
    system: str | None = None
    code: str | None = None

    _value = field_validator("value", mode="before")(_no_boolean)


class Reference(_Element):
    """A reference to another resource."""

    reference: str | None = None
    display: str | None = None


class Period(_Element):
    """A time range."""

    start: str | None = None
    end: str | None = None


class Component(_Element):
    """An Observation component."""

    code: CodeableConcept | None = None
    valueCodeableConcept: CodeableConcept | None = None  # noqa: N815 - FHIR's spelling
    valueString: str | None = None  # noqa: N815


class _Resource(_Element):
    id: str | None = None


class ClinicalResource(_Resource):
    """A resource about one patient, named by ``subject`` (some types say ``patient``)."""

    subject: SubjectReference | None = None
    patient: SubjectReference | None = None


class Patient(_Resource):
    """The patient."""

    resourceType: Literal["Patient"]  # noqa: N815
    gender: str | None = None
    birthDate: str | None = None  # noqa: N815
    deceasedBoolean: bool | None = None  # noqa: N815
    deceasedDateTime: str | None = None  # noqa: N815


class Observation(TypedDict, total=False):
    """A symptom, a finding, a lab result, or something fasciculate does not use.

    Validated into a plain dict of the elements given (read the others with ``.get``), unlike the
    other resource types: most of a large bundle is Observations, and a dict is built and freed
    in about half the time of a model with all these fields (``benchmarks/bench_fhir.py``).
    """

    resourceType: Required[Literal["Observation"]]
    id: str | None
    subject: SubjectReference | None
    patient: SubjectReference | None
    status: str | None
    code: CodeableConcept | None
    valueCodeableConcept: CodeableConcept | None
    valueQuantity: Quantity | None
    valueBoolean: bool | None
    valueString: str | None
    effectiveDateTime: str | None
    effectivePeriod: Period | None
    issued: str | None
    bodySite: CodeableConcept | None
    interpretation: list[CodeableConcept]
    component: list[Component]


def observation_when(obs: Observation) -> tuple[str | None, str]:
    """The clinically relevant time of *obs* (effective time, else issued) and its element."""
    if when := obs.get("effectiveDateTime"):
        return when, "effectiveDateTime"
    period = obs.get("effectivePeriod")
    if period is not None and period.start:
        return period.start, "effectivePeriod.start"
    return obs.get("issued"), "issued"


class Condition(ClinicalResource):
    """A problem-list entry or diagnosis."""

    resourceType: Literal["Condition"]  # noqa: N815
    clinicalStatus: CodeableConcept | None = None  # noqa: N815
    verificationStatus: CodeableConcept | None = None  # noqa: N815
    code: CodeableConcept | None = None
    onsetDateTime: str | None = None  # noqa: N815
    recordedDate: str | None = None  # noqa: N815
    abatementDateTime: str | None = None  # noqa: N815
    abatementAge: dict[str, Any] | None = None  # noqa: N815
    abatementPeriod: dict[str, Any] | None = None  # noqa: N815
    abatementRange: dict[str, Any] | None = None  # noqa: N815
    abatementString: str | None = None  # noqa: N815

    @property
    def abated(self) -> bool:
        """Whether an ``abatement[x]`` element is given (the condition has resolved or remitted)."""
        return any(
            value is not None
            for value in (
                self.abatementDateTime,
                self.abatementAge,
                self.abatementPeriod,
                self.abatementRange,
                self.abatementString,
            )
        )


class MedicationUse(ClinicalResource):
    """A MedicationRequest or a MedicationStatement."""

    resourceType: Literal["MedicationRequest", "MedicationStatement"]  # noqa: N815
    status: str | None = None
    intent: str | None = None
    doNotPerform: bool | None = None  # noqa: N815
    medicationCodeableConcept: CodeableConcept | None = None  # noqa: N815
    medicationReference: Reference | None = None  # noqa: N815
    authoredOn: str | None = None  # noqa: N815
    effectiveDateTime: str | None = None  # noqa: N815
    effectivePeriod: Period | None = None  # noqa: N815
    dateAsserted: str | None = None  # noqa: N815
    contained: list[dict[str, Any]] = Field(default_factory=list)


class Medication(_Resource):
    """A Medication resource referenced by a MedicationRequest or MedicationStatement."""

    resourceType: Literal["Medication"]  # noqa: N815
    code: CodeableConcept | None = None


class Answer(_Element):
    """One answer in a QuestionnaireResponse."""

    valueBoolean: bool | None = None  # noqa: N815
    valueDecimal: float | None = None  # noqa: N815
    valueInteger: int | None = None  # noqa: N815
    valueDate: str | None = None  # noqa: N815
    valueString: str | None = None  # noqa: N815
    valueCoding: Coding | None = None  # noqa: N815
    valueQuantity: Quantity | None = None  # noqa: N815

    _numbers = field_validator("valueDecimal", "valueInteger", mode="before")(_no_boolean)


class Item(_Element):
    """One item of a QuestionnaireResponse, possibly a group."""

    linkId: str  # noqa: N815
    answer: list[Answer] = Field(default_factory=list)
    item: list[Item] = Field(default_factory=list)


class QuestionnaireResponse(ClinicalResource):
    """Answers to a Questionnaire."""

    resourceType: Literal["QuestionnaireResponse"]  # noqa: N815
    questionnaire: str | None = None
    status: str | None = None
    authored: str | None = None
    item: list[Item] = Field(default_factory=list)


#: The resource types fasciculate reads, each with its own model below.
READ_TYPES = frozenset(
    {
        "Patient",
        "Observation",
        "Condition",
        "MedicationRequest",
        "MedicationStatement",
        "Medication",
        "QuestionnaireResponse",
    }
)


class OtherResource(_Resource):
    """Any resource type fasciculate does not read (Claim, Encounter, ...)."""

    resourceType: str  # noqa: N815

    @field_validator("resourceType")
    @classmethod
    def _not_read(cls, value: str) -> str:
        # A malformed Observation must fail, not pass as "some other resource".
        if value in READ_TYPES:
            raise ValueError("read by its own model")
        return value


# A resource type fasciculate reads is validated by its own model, chosen by ``resourceType`` (a
# dictionary lookup: no other model is tried); anything else fails that choice at once and ends as
# OtherResource. (A callable discriminator would make pydantic turn every resource, Claims
# included, into Python objects first.)
#: Where the models of the types read appear in error locations (``tagged-union[...]``).
READ_UNION = "tagged-union["
#: The union's members, by the name pydantic puts in error locations.
MEMBERS = READ_TYPES | {"OtherResource"}
Resource = Annotated[
    Annotated[
        Patient | Observation | Condition | MedicationUse | Medication | QuestionnaireResponse,
        Field(discriminator="resourceType"),
    ]
    | OtherResource,
    Field(union_mode="left_to_right"),
]


class EntryRequest(_Element):
    """How a transaction or batch entry is to be processed."""

    method: str | None = None


class Entry(TypedDict, total=False):
    """One bundle entry, a plain dict like an :class:`Observation` (one per resource)."""

    fullUrl: str | None
    resource: Resource | None
    request: EntryRequest | None


#: A resource as read: a model, or an :class:`Observation` (a plain dict).
AnyResource = (
    Patient
    | Observation
    | Condition
    | MedicationUse
    | Medication
    | QuestionnaireResponse
    | OtherResource
)


#: The types of the resources about one patient: the :class:`ClinicalResource` models, and
#: ``dict`` (an :class:`Observation`). Membership is a fast test of a resource's ``type()``:
#: ``isinstance`` with a pydantic model class that the object is not an instance of runs Python
#: code (the models' metaclass), a few times slower.
CLINICAL_TYPES = frozenset({dict, Condition, MedicationUse, QuestionnaireResponse})


def resource_type(resource: AnyResource) -> str:
    """The ``resourceType`` of *resource*."""
    return resource["resourceType"] if isinstance(resource, dict) else resource.resourceType


def resource_id(resource: AnyResource) -> str | None:
    """The ``id`` of *resource*, if it has one."""
    return resource.get("id") if isinstance(resource, dict) else resource.id


def about(resource: AnyResource) -> str | None:
    """Whom *resource* is about: the reference its ``subject`` (or ``patient``) gives.

    ``None`` when it names no one, or is not a clinical resource (a Patient, a Medication).
    """
    if isinstance(resource, dict):
        subject, patient = resource.get("subject"), resource.get("patient")
    elif type(resource) in CLINICAL_TYPES:
        clinical = cast("ClinicalResource", resource)
        subject, patient = clinical.subject, clinical.patient
    else:
        return None
    if subject is not None and (reference := subject.get("reference")):
        return reference
    return (patient.get("reference") or None) if patient is not None else None


def server_reference(entry: Entry) -> str | None:
    """How the server the bundle came from knows the resource of *entry*, when it does.

    ``Type/id`` when the resource has an id, else an absolute ``http(s)`` fullUrl. A resource
    to be created (``request.method`` POST) has no server id yet: its ``id`` is a placeholder
    the server replaces.
    """
    resource, request = entry.get("resource"), entry.get("request")
    if resource is None:
        return None
    if request is not None and (request.method or "").upper() == "POST":
        return None
    if ident := resource_id(resource):
        return f"{resource_type(resource)}/{ident}"
    url = entry.get("fullUrl") or ""
    return url if url.startswith(("https://", "http://")) else None


class Bundle(_Element):
    """A FHIR Bundle (any type)."""

    resourceType: Literal["Bundle"]  # noqa: N815
    type: str | None = None
    entry: list[Entry] = Field(default_factory=list)

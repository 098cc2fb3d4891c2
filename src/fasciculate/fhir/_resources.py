"""Boundary models of the few FHIR R4 elements fasciculate reads.

They check the JSON types of exactly the elements used and ignore the rest, which is what makes
reading a bundle an order of magnitude faster than a full FHIR parse (``benchmarks/bench_fhir.py``).
A resource of any other type parses as :class:`OtherResource` and is reported, never rejected.
Dates stay strings: FHIR allows partial dates (``1980``, ``1980-10``) that the reader handles.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

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

    @property
    def about(self) -> str | None:
        """The reference to the patient (or other subject) the resource is about, if given."""
        subject = self.subject
        if subject is not None and (reference := subject.get("reference")):
            return reference
        patient = self.patient
        return (patient.get("reference") or None) if patient is not None else None


class Patient(_Resource):
    """The patient."""

    resourceType: Literal["Patient"]  # noqa: N815
    gender: str | None = None
    birthDate: str | None = None  # noqa: N815
    deceasedBoolean: bool | None = None  # noqa: N815
    deceasedDateTime: str | None = None  # noqa: N815


class Observation(ClinicalResource):
    """A symptom, a finding, a lab result, or something fasciculate does not use."""

    resourceType: Literal["Observation"]  # noqa: N815
    status: str | None = None
    code: CodeableConcept | None = None
    valueCodeableConcept: CodeableConcept | None = None  # noqa: N815
    valueQuantity: Quantity | None = None  # noqa: N815
    valueBoolean: bool | None = None  # noqa: N815
    valueString: str | None = None  # noqa: N815
    effectiveDateTime: str | None = None  # noqa: N815
    effectivePeriod: Period | None = None  # noqa: N815
    issued: str | None = None
    bodySite: CodeableConcept | None = None  # noqa: N815
    interpretation: list[CodeableConcept] = Field(default_factory=list)
    component: list[Component] = Field(default_factory=list)

    @property
    def when(self) -> str | None:
        """The clinically relevant time: effective time, else issued."""
        return self.when_field[0]

    @property
    def when_field(self) -> tuple[str | None, str]:
        """The clinically relevant time and the element it comes from."""
        period = self.effectivePeriod
        if self.effectiveDateTime:
            return self.effectiveDateTime, "effectiveDateTime"
        if period is not None and period.start:
            return period.start, "effectivePeriod.start"
        return self.issued, "issued"


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


class Entry(_Element):
    """One bundle entry."""

    fullUrl: str | None = None  # noqa: N815
    resource: Resource | None = None
    request: EntryRequest | None = None

    @property
    def server_reference(self) -> str | None:
        """How the server the bundle came from knows the resource, when it does.

        ``Type/id`` when the resource has an id, else an absolute ``http(s)`` fullUrl. A resource
        to be created (``request.method`` POST) has no server id yet: its ``id`` is a placeholder
        the server replaces.
        """
        resource = self.resource
        if resource is None:
            return None
        if self.request is not None and (self.request.method or "").upper() == "POST":
            return None
        if resource.id:
            return f"{resource.resourceType}/{resource.id}"
        url = self.fullUrl or ""
        return url if url.startswith(("https://", "http://")) else None


class Bundle(_Element):
    """A FHIR Bundle (any type)."""

    resourceType: Literal["Bundle"]  # noqa: N815
    type: str | None = None
    entry: list[Entry] = Field(default_factory=list)

"""The input models: what a caller sends to describe a presentation.

These pydantic models are the boundary. They forbid unknown fields, convert every laboratory value
to its canonical SI unit (rejecting units they do not know), and produce the JSON Schema of the
input. The core never sees them: :func:`fasciculate._facts.facts_from` turns a validated
presentation into frozen facts once.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from fasciculate._generated_vocab import Finding
from fasciculate._kb import knowledge_base
from fasciculate._vocab import (
    Analyte,
    Course,
    Frequency,
    Interpretation,
    Level,
    MedicationClass,
    Movement,
    Reflex,
    Region,
    Sex,
    Side,
    Strength,
    TriState,
)

_UNKNOWN = TriState.UNKNOWN


def _number(value: object, handler: ValidatorFunctionWrapHandler) -> object:
    # pydantic reads true as 1 for a number in its lax mode; a JSON boolean is never a quantity.
    if isinstance(value, bool):
        raise PydanticCustomError("bool_not_number", "a number is needed, not true or false")
    number = handler(value)
    # -0.0 equals 0.0 (and so shares their cached parts) but prints as "-0": one zero only, so
    # that the output never depends on which of the two an engine met first.
    return number + 0.0 if isinstance(number, float) else number


#: Marks a numeric field: true and false are refused, not read as 1 and 0, and a negative zero is
#: read as zero. It goes after the field's constraints, so that pydantic keeps checking them in
#: its core, as for any number.
_NUMBER = WrapValidator(_number)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Patient(_Model):
    """Who the patient is."""

    age: Annotated[int | None, Field(ge=0, le=120, description="Age in whole years."), _NUMBER] = (
        None
    )
    sex: Sex | None = None


class Twitching(_Model):
    """The twitching itself."""

    regions: list[Region] = Field(
        default_factory=list,
        description="Every body region where twitching is felt. Empty means not yet asked.",
        max_length=len(Region),
    )
    side: Side | None = None
    duration_days: Annotated[
        float | None,
        Field(ge=0, le=36500, description="How long the twitching has gone on, in days."),
        _NUMBER,
    ] = None
    onset_date: dt.date | None = Field(
        default=None,
        description="When the twitching began; needs `assessed_on` to give a duration.",
    )
    course: Course | None = None
    frequency: Frequency | None = None
    at_rest: TriState = Field(default=_UNKNOWN, description="Twitching occurs at rest.")
    after_exercise: TriState = Field(default=_UNKNOWN, description="Twitching follows exercise.")


class Examination(_Model):
    """What the clinician found on examination."""

    strength: Strength | None = Field(default=None, description="Power of the affected limb.")
    power: dict[Movement, Annotated[int, Field(ge=0, le=5, strict=True)]] = Field(
        default_factory=dict,
        description=(
            "MRC (Oxford) grade 0-5 of each movement examined, the weaker side where both were: "
            "5 normal, 4 against some resistance, 3 against gravity only, 2 with gravity "
            "eliminated, 1 a flicker, 0 none."
        ),
    )
    knee_reflex: Reflex | None = None
    ankle_reflex: Reflex | None = None
    babinski: TriState = Field(default=_UNKNOWN, description="Extensor plantar response.")
    wasting: TriState = Field(default=_UNKNOWN, description="Muscle wasting seen.")
    sensory_loss: TriState = Field(default=_UNKNOWN, description="Sensory loss found.")
    anal_sphincter_laxity: TriState = _UNKNOWN


class Exposures(_Model):
    """Everyday exposures that can trigger twitching."""

    caffeine_mg_per_day: Annotated[
        float | None,
        Field(ge=0, le=5000, description="Habitual caffeine intake, mg per day."),
        _NUMBER,
    ] = None
    sleep_hours: Annotated[
        float | None, Field(ge=0, le=24, description="Usual sleep per night, hours."), _NUMBER
    ] = None
    stress: Level | None = Field(default=None, description="Self-rated stress or anxiety.")
    strenuous_exercise_48h: TriState = Field(
        default=_UNKNOWN, description="Strenuous exercise in the last 48 hours."
    )
    dehydration: TriState = _UNKNOWN
    nicotine: TriState = _UNKNOWN


class Coding(_Model):
    """A code from a terminology (RxNorm, ATC, SNOMED CT, ...)."""

    system: Annotated[str, Field(min_length=1, description="The code system's URI.")]
    code: Annotated[str, Field(min_length=1)]
    display: str | None = None


class Medication(_Model):
    """A medication the patient takes: by class, by name, by code, or any mix."""

    name: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    drug_class: MedicationClass | None = None
    code: Coding | None = None

    @model_validator(mode="after")
    def _something_given(self) -> Self:
        if self.name is None and self.drug_class is None and self.code is None:
            raise ValueError("give at least one of name, drug_class or code")
        return self


class LabResult(_Model):
    """One laboratory result: a value in the laboratory's unit, its interpretation, or both.

    The value is converted to the analyte's canonical SI unit (:attr:`si_value`). A unit the
    knowledge base does not list for the analyte is an error, never a guess. A result given only in
    words ("critically low", FHIR ``interpretation`` LL) carries the interpretation and no value: a
    critical interpretation (LL, HH, AA) counts as critical, L / H / A as outside the range.
    """

    analyte: Analyte
    unit: Annotated[
        str | None, Field(min_length=1, description="UCUM unit, e.g. mmol/L or mg/dL.")
    ] = None
    value: Annotated[
        float | None, Field(ge=0, description="The result as reported, in `unit`."), _NUMBER
    ] = None
    interpretation: Interpretation | None = Field(
        default=None,
        description="The laboratory's interpretation (HL7 codes LL, L, N, H, HH, A, AA); "
        "enough on its own when no value is given.",
    )

    @field_validator("unit")
    @classmethod
    def _known_unit(cls, unit: str | None, info: ValidationInfo) -> str | None:
        analyte = info.data.get("analyte")
        if analyte is None or unit is None:
            return unit
        lab = knowledge_base().labs[analyte]
        if unit not in lab.units:
            accepted = ", ".join(lab.units)
            raise ValueError(f"unknown unit {unit!r} for {analyte}; use one of: {accepted}")
        return unit

    @field_validator("value")
    @classmethod
    def _plausible(cls, value: float | None, info: ValidationInfo) -> float | None:
        analyte, unit = info.data.get("analyte"), info.data.get("unit")
        if analyte is None or unit is None or value is None:
            return value
        lab = knowledge_base().labs[analyte]
        low, high = lab.plausible
        if not low <= value * lab.units[unit] <= high:
            raise ValueError(
                f"{value:g} {unit} is not a plausible {analyte} result "
                f"({low:g}-{high:g} {lab.unit}); check the value and its unit"
            )
        return value

    @model_validator(mode="after")
    def _value_or_words(self) -> Self:
        if (self.value is None) != (self.unit is None):
            given, missing = ("value", "unit") if self.unit is None else ("unit", "value")
            raise ValueError(f"a {self.analyte} result with a {given} needs its {missing} too")
        if self.value is None and self.interpretation is None:
            raise ValueError(
                f"a {self.analyte} result needs a value with its unit, or an interpretation "
                "(LL, L, N, H, HH, A, AA) when the laboratory gave no value"
            )
        return self

    @property
    def si_value(self) -> float | None:
        """The value in the analyte's canonical unit, or ``None`` for a result given in words."""
        if self.value is None or self.unit is None:
            return None
        return self.value * knowledge_base().labs[self.analyte].units[self.unit]


class Presentation(_Model):
    """A structured description of a patient presenting with muscle twitching.

    Every yes/no item defaults to ``unknown``: nothing is assumed absent until someone says so.
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        allow_inf_nan=False,
        json_schema_extra={"$id": "https://fasciculate.readthedocs.io/schema/presentation.json"},
    )

    assessed_on: dt.date | None = Field(
        default=None, description="The date of the assessment (needed with twitching.onset_date)."
    )
    patient: Patient = Field(default_factory=Patient)
    twitching: Twitching = Field(default_factory=Twitching)
    findings: dict[Finding, TriState] = Field(
        default_factory=dict,
        description="Symptoms, signs and history, each present / absent / unknown.",
    )
    examination: Examination = Field(default_factory=Examination)
    exposures: Exposures = Field(default_factory=Exposures)
    medications: list[Medication] = Field(default_factory=list, max_length=100)
    labs: list[LabResult] = Field(default_factory=list, max_length=500)

    @model_validator(mode="after")
    def _onset_needs_a_date(self) -> Self:
        onset = self.twitching.onset_date
        if onset is None:
            return self
        if self.assessed_on is None:
            raise ValueError(
                "twitching.onset_date needs assessed_on to compute a duration; "
                "give assessed_on or twitching.duration_days instead"
            )
        if onset > self.assessed_on:
            raise ValueError("twitching.onset_date is after assessed_on; check both dates")
        return self

    @property
    def duration_days(self) -> float | None:
        """The duration in days: given directly, or from the onset and assessment dates."""
        given = self.twitching.duration_days
        onset = self.twitching.onset_date
        if onset is not None and self.assessed_on is not None:
            derived = float((self.assessed_on - onset).days)
            return derived if given is None else max(given, derived)
        return given

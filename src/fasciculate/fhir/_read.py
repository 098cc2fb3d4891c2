"""Read a FHIR R4 Bundle into a :class:`~fasciculate.Presentation` and a mapping report."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import pydantic

from fasciculate._errors import InvalidBundle, Problem
from fasciculate._presentation import Presentation
from fasciculate._validation import _problem as problem_from
from fasciculate._validation import problems_from
from fasciculate.fhir import _observations, _records
from fasciculate.fhir._collect import Collector, parse_date
from fasciculate.fhir._report import BundleReading, MappingReport, ReportEntry
from fasciculate.fhir._resources import (
    MEMBERS,
    Bundle,
    Condition,
    Medication,
    MedicationUse,
    Observation,
    OtherResource,
    Patient,
    QuestionnaireResponse,
)

#: Labs older than this many days before the reference date are skipped (and reported).
LAB_WINDOW_DAYS = 90

_BILLING = {
    "Account",
    "ChargeItem",
    "Claim",
    "ClaimResponse",
    "Coverage",
    "CoverageEligibilityRequest",
    "CoverageEligibilityResponse",
    "ExplanationOfBenefit",
    "Invoice",
    "PaymentNotice",
    "PaymentReconciliation",
}


def _not_a_bundle(data: object) -> InvalidBundle:
    kind = data.get("resourceType") if isinstance(data, Mapping) else None
    shown = repr(kind) if kind is not None else f"a JSON {type(data).__name__}"
    message = (
        f"expected a FHIR Bundle, got {shown}; wrap the resources in a Bundle "
        "(type collection) with one entry per resource"
    )
    return InvalidBundle([Problem("resourceType", message)])


def _relevant(detail: Any) -> bool:  # noqa: ANN401 - a pydantic error detail
    """Whether a union error concerns the resource's own model (not a model it is not)."""
    loc = tuple(detail["loc"])
    if "resource" not in loc:
        return True
    at = loc.index("resource") + 1
    member, rest = (loc[at], loc[at + 1 :]) if len(loc) > at else (None, ())
    if member == "OtherResource":
        return not (rest == ("resourceType",) and detail["type"] == "value_error")
    return member not in MEMBERS or rest != ("resourceType",)


def _invalid(error: pydantic.ValidationError, raw: object) -> InvalidBundle:
    if any(tuple(detail["loc"]) in {(), ("resourceType",)} for detail in error.errors()):
        if isinstance(raw, str | bytes | bytearray):
            with contextlib.suppress(json.JSONDecodeError):
                raw = json.loads(raw)
        if not isinstance(raw, str | bytes | bytearray):
            return _not_a_bundle(raw)
    details = [detail for detail in error.errors(include_url=False) if _relevant(detail)]
    problems: dict[tuple[str, str], Problem] = {}
    for detail in details:
        loc = list(detail["loc"])
        if "resource" in loc and loc.index("resource") + 1 < len(loc):
            del loc[loc.index("resource") + 1]
        problem = problem_from({**detail, "loc": tuple(loc)}, Bundle)
        problems.setdefault((problem.path, problem.message), problem)
    return InvalidBundle(list(problems.values()))


def _parse(bundle: Mapping[str, Any] | str | bytes) -> Bundle:
    try:
        if isinstance(bundle, str | bytes | bytearray):
            if not bundle.strip():
                raise InvalidBundle([Problem("", "the input is empty; give a FHIR R4 Bundle")])
            return Bundle.model_validate_json(bundle)
        return Bundle.model_validate(bundle)
    except pydantic.ValidationError as error:
        raise _invalid(error, bundle) from None


def _reference(entry_url: str | None, resource: Any, index: int) -> str:  # noqa: ANN401
    if entry_url:
        return entry_url
    if resource.id:
        return f"{resource.resourceType}/{resource.id}"
    return f"entry.{index}"


def _latest_date(bundle: Bundle) -> dt.date | None:
    # ISO 8601 dates order as text, so only the latest one needs parsing.
    texts: list[str] = []
    for entry in bundle.entry:
        resource = entry.resource
        if isinstance(resource, Observation):
            period = resource.effectivePeriod
            texts += [resource.when or "", period.end or "" if period else ""]
        elif isinstance(resource, Condition):
            texts += [resource.onsetDateTime or "", resource.recordedDate or ""]
        elif isinstance(resource, MedicationUse):
            texts += [resource.authoredOn or "", resource.effectiveDateTime or ""]
            texts.append(resource.dateAsserted or "")
        elif isinstance(resource, QuestionnaireResponse):
            texts.append(resource.authored or "")
    for text in sorted({text[:10] for text in texts if text[:4].isdigit()}, reverse=True):
        try:
            return parse_date(text)
        except ValueError:
            continue
    return None


class Reader:
    """One bundle being read: its resources, the reference date and the collected answers."""

    def __init__(self, bundle: Bundle, as_of: dt.date | None, lab_window_days: int | None) -> None:
        self.bundle = bundle
        self.out = Collector()
        self.as_of = as_of
        self.window = lab_window_days
        self.subject: str | None = None
        self.types: dict[str, str] = {}
        self.lab_keys: dict[tuple[object, ...], str] = {}
        self.medications: dict[str, Medication] = {}
        for index, entry in enumerate(bundle.entry):
            if isinstance(entry.resource, Medication):
                ref = _reference(entry.fullUrl, entry.resource, index)
                self.medications[ref] = entry.resource
                if entry.resource.id:
                    self.medications[f"Medication/{entry.resource.id}"] = entry.resource

    def entry(self, resource: Any, ref: str, **fields: Any) -> ReportEntry:  # noqa: ANN401
        """A report entry about *resource* (known in the bundle as *ref*)."""
        return ReportEntry(reference=ref, resource_type=resource.resourceType, **fields)

    def read(self) -> None:
        """Read every entry, each by the reader of its resource type."""
        for index, entry in enumerate(self.bundle.entry):
            resource = entry.resource
            if resource is None:
                self.out.notes.append(f"entry.{index} has no resource")
                continue
            ref = _reference(entry.fullUrl, resource, index)
            self.types[ref] = resource.resourceType
            path = f"entry.{index}.resource"
            if isinstance(resource, Patient):
                _records.patient(self, resource, ref, path)
            elif isinstance(resource, Observation):
                _observations.read(self, resource, ref, path)
            elif isinstance(resource, Condition):
                _records.condition(self, resource, ref)
            elif isinstance(resource, MedicationUse):
                _records.medication(self, resource, ref, path)
            elif isinstance(resource, QuestionnaireResponse):
                _records.questionnaire_response(self, resource, ref, path)
            elif isinstance(resource, Medication):
                reason = "read through the medication requests or statements that reference it"
                self.out.skipped.append(self.entry(resource, ref, reason=reason))
            else:
                self.other(resource, ref)

    def other(self, resource: OtherResource, ref: str) -> None:
        """Skip a resource type fasciculate does not read, saying why."""
        reason = (
            "billing resource"
            if resource.resourceType in _BILLING
            else "resource type not used by fasciculate"
        )
        self.out.skipped.append(self.entry(resource, ref, reason=reason))

    def date(self, text: str | None, path: str) -> dt.date | None:
        """The date in *text*, or ``None``; a malformed date is a problem at *path*."""
        try:
            return parse_date(text)
        except ValueError:
            self.out.problems.append(
                Problem(path, "not a FHIR date; write YYYY, YYYY-MM or YYYY-MM-DD", repr(text))
            )
            return None


def _traced(problem: Problem, evidence: Mapping[str, list[str]]) -> Problem:
    """*problem* (at a presentation path) naming the resources the field came from."""
    parts = problem.path.split(".")
    for end in range(len(parts), 0, -1):
        sources = evidence.get(".".join(parts[:end]))
        if sources:
            where = f"presentation field {problem.path} (from {', '.join(sources)})"
            return Problem(where, problem.message, problem.value)
    return problem


def read_bundle(
    bundle: Mapping[str, Any] | str | bytes,
    *,
    as_of: dt.date | None = None,
    lab_window_days: int | None = LAB_WINDOW_DAYS,
) -> BundleReading:
    """Read a FHIR R4 Bundle into a presentation, reporting every mapping decision.

    Args:
        bundle: The Bundle as a mapping, or as JSON text or bytes.
        as_of: The reference date for the patient's age, the lab window and the presentation's
            ``assessed_on``. Default: the latest clinical date in the bundle (observations,
            conditions, medications, questionnaire responses), so that the same bundle always
            reads the same; today's date would not be reproducible.
        lab_window_days: Lab results older than this many days before *as_of* are skipped (and
            reported); ``None`` reads every result.

    Returns:
        The presentation, the mapping report, the patient reference and, for each presentation
        field filled, the resources it came from.

    Raises:
        InvalidBundle: If the bundle is not valid JSON or FHIR, or a value cannot be read (an
            unknown lab unit, a malformed date), listing every problem with its path.
    """
    parsed = _parse(bundle)
    notes = []
    if as_of is None:
        as_of = _latest_date(parsed)
        notes.append(
            f"reference date {as_of}: the latest clinical date in the bundle (pass as_of to fix it)"
            if as_of
            else "no reference date: the bundle has no clinical dates and as_of was not given"
        )
    reader = Reader(parsed, as_of, lab_window_days)
    reader.read()
    out = reader.out
    data, conflicts = out.presentation_data(as_of)
    if out.problems:
        raise InvalidBundle(out.problems)
    try:
        presentation = Presentation.model_validate(data)
    except pydantic.ValidationError as error:
        problems = [_traced(p, out.evidence) for p in problems_from(error, Presentation)]
        raise InvalidBundle(problems, total=error.error_count()) from None
    report = MappingReport(
        as_of=as_of,
        mapped=tuple(out.mapped),
        unmapped=tuple(out.unmapped),
        skipped=tuple(out.skipped),
        conflicts=tuple(conflicts),
        notes=tuple(notes + out.notes),
    )
    return BundleReading(
        presentation=presentation,
        report=report,
        subject=reader.subject,
        evidence={field: tuple(refs) for field, refs in out.evidence.items()},
        reference_types={
            ref: kind
            for ref, kind in reader.types.items()
            if any(ref in refs for refs in out.evidence.values())
        },
    )


def presentation_from_bundle(
    bundle: Mapping[str, Any] | str | bytes,
    *,
    as_of: dt.date | None = None,
    lab_window_days: int | None = LAB_WINDOW_DAYS,
) -> Presentation:
    """The presentation a FHIR R4 Bundle describes (:func:`read_bundle` without the report)."""
    return read_bundle(bundle, as_of=as_of, lab_window_days=lab_window_days).presentation

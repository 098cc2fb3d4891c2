"""Read a FHIR R4 Bundle into a :class:`~fasciculate.Presentation` and a mapping report."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

import pydantic

from fasciculate._errors import InvalidBundle, Problem
from fasciculate._presentation import Presentation
from fasciculate._validation import problem as problem_from
from fasciculate._validation import problems_from
from fasciculate.fhir import _labs, _observations, _recent, _records
from fasciculate.fhir._collect import Collector
from fasciculate.fhir._dates import Calendar, as_day
from fasciculate.fhir._report import BundleReading, MappingReport, ReportEntry
from fasciculate.fhir._resources import (
    MEMBERS,
    READ_UNION,
    Bundle,
    ClinicalResource,
    Condition,
    Medication,
    MedicationUse,
    Observation,
    OtherResource,
    Patient,
    QuestionnaireResponse,
)
from fasciculate.fhir._subject import Subject, choose, names

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


#: Validates a report entry from a dict; without a model's keyword arguments, a third faster.
_report_entry = ReportEntry.__pydantic_validator__.validate_python


def _not_a_bundle(data: object) -> InvalidBundle:
    kind = data.get("resourceType") if isinstance(data, Mapping) else None
    shown = repr(kind) if kind is not None else f"a JSON {type(data).__name__}"
    message = (
        f"expected a FHIR Bundle, got {shown}; wrap the resources in a Bundle "
        "(type collection) with one entry per resource"
    )
    return InvalidBundle([Problem("resourceType", message)])


def _unnested(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """*loc* with the models of the types read as one step, their type (``Observation``)."""
    if "resource" in loc:
        at = loc.index("resource") + 1
        if len(loc) > at + 1 and str(loc[at]).startswith(READ_UNION):
            return loc[:at] + loc[at + 1 :]
    return loc


def _relevant(detail: Any) -> bool:  # noqa: ANN401 - a pydantic error detail
    """Whether a union error concerns the resource's own model (not a model it is not)."""
    loc = tuple(detail["loc"])
    if "resource" not in loc:
        return True
    at = loc.index("resource") + 1
    member, rest = (loc[at], loc[at + 1 :]) if len(loc) > at else (None, ())
    if member == "OtherResource":
        return not (rest == ("resourceType",) and detail["type"] == "value_error")
    if str(member).startswith(READ_UNION):  # not a type read (or no type): OtherResource says
        return False
    return member not in MEMBERS or rest != ("resourceType",)


def _invalid(error: pydantic.ValidationError, raw: object) -> InvalidBundle:
    malformed = any(detail["type"] == "json_invalid" for detail in error.errors())
    if not malformed and any(
        tuple(detail["loc"]) in {(), ("resourceType",)} for detail in error.errors()
    ):
        if isinstance(raw, str | bytes | bytearray):
            # Parsed JSON (pydantic said so); a huge number or deep nesting still fails here.
            with contextlib.suppress(ValueError, RecursionError):
                raw = json.loads(raw)
        if not isinstance(raw, str | bytes | bytearray):
            return _not_a_bundle(raw)
    details: list[Any] = [
        {**detail, "loc": _unnested(tuple(detail["loc"]))}
        for detail in error.errors(include_url=False)
    ]
    details = [detail for detail in details if _relevant(detail)]
    problems: dict[tuple[str, str], Problem] = {}
    for detail in details:
        loc = list(detail["loc"])
        if "resource" in loc and loc.index("resource") + 1 < len(loc):
            del loc[loc.index("resource") + 1]
        if detail["type"] == "recursion_depth_exceeded":  # its value cannot even be shown
            where = ".".join(map(str, loc[:8])) + ("..." if len(loc) > 8 else "")
            message = "nested too deeply to read; a FHIR Bundle is a few levels deep"
            problems.setdefault((where, message), Problem(where, message))
            continue
        problem = problem_from({**detail, "loc": tuple(loc)}, Bundle)
        problems.setdefault((problem.path, problem.message), problem)
    return InvalidBundle(list(problems.values()))


def _parse(bundle: Mapping[str, Any] | str | bytes) -> Bundle:
    if isinstance(bundle, bytes | bytearray):
        try:
            bundle.decode()
        except UnicodeDecodeError as error:
            message = (
                f"not UTF-8 text: byte {bundle[error.start]:#04x} at offset {error.start}; "
                "save the bundle as UTF-8 JSON"
            )
            raise InvalidBundle([Problem("", message)]) from None
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


def _survey(bundle: Bundle) -> tuple[dict[type, list[int]], list[str]]:
    """Where each resource type is in the bundle (entry indexes), and the subjects named.

    One pass, so that what must be known before reading (the patients, the Medications
    referenced, the questionnaire responses that count) looks only at the entries concerned.
    """
    kinds: dict[type, list[int]] = defaultdict(list)
    subjects = []
    for index, entry in enumerate(bundle.entry):
        resource = entry.resource
        kinds[type(resource)].append(index)
        if isinstance(resource, ClinicalResource) and (about := resource.about):
            subjects.append(about)
    return kinds, subjects


class Reader:
    """One bundle being read: its resources, the reference date and the collected answers.

    Reading is one pass over the entries (:meth:`read`) and a last step once the reference date
    is known (:meth:`finish`): when it defaults, it is the latest date of a resource understood,
    known only after the pass, so :attr:`as_of` is ``None`` during the pass and whatever needs it
    (the patient's age, the lab window, whether a problem-list entry is recent) is done in
    :meth:`finish`.
    """

    def __init__(
        self,
        bundle: Bundle,
        subject: Subject,
        as_of: dt.date | None,
        lab_window_days: int | None,
        kinds: Mapping[type, list[int]],
    ) -> None:
        self.bundle = bundle
        self.out = Collector()
        self.as_of = as_of
        self.window = lab_window_days
        self.patient = subject
        self.subject: str | None = subject.reference
        self.patient_seen = False
        self.types: dict[str, str] = {}
        self.servers: dict[str, str] = {}  # reference in the bundle -> Type/id on its server
        self.labs: list[_labs.Result] = []
        self.at = 0  # the entry being read
        self.dated_lab = -1  # the last entry read as a lab result (inside the window or not)
        self.waiting: list[_recent.Waiting] = []  # Conditions decided at the reference date
        self.deferred = -1  # the last entry read as one of those
        self.birth: _records.Birth | None = None
        self.elsewhere = 0  # resources skipped as another patient's
        self.calendar = Calendar(self.out.problems)
        self.medications: dict[str, Medication] = {}
        #: Each distinct lab result checked: why it cannot be read (``None`` when it can).
        self.checked: dict[tuple[str, str, float], str | None] = {}
        for index in kinds.get(Medication, ()):
            entry = bundle.entry[index]
            medication = entry.resource
            assert isinstance(medication, Medication)  # noqa: S101 - surveyed as one
            self.medications[_reference(entry.fullUrl, medication, index)] = medication
            if medication.id:
                self.medications[f"Medication/{medication.id}"] = medication
        self.responses = _records.current_responses(self, kinds.get(QuestionnaireResponse, []))

    def entry(self, resource: Any, ref: str, **fields: Any) -> ReportEntry:  # noqa: ANN401
        """A report entry about *resource* (known in the bundle as *ref*)."""
        fields["reference"], fields["resource_type"] = ref, resource.resourceType
        return _report_entry(fields)  # type: ignore[no-any-return] # validated, a ReportEntry

    def read(self) -> None:
        """Read every entry, each by the reader of its resource type."""
        types, servers, mapped = self.types, self.servers, self.out.mapped
        for index, entry in enumerate(self.bundle.entry):
            resource = entry.resource
            if resource is None:
                self.out.notes.append(f"entry.{index} has no resource")
                continue
            self.at = index
            ref = entry.fullUrl or _reference(None, resource, index)
            types[ref] = resource.resourceType
            if (server := entry.server_reference) is not None:
                servers[ref] = server
            path = f"entry.{index}.resource"
            if not isinstance(resource, ClinicalResource):
                self.route(entry.fullUrl, resource, ref, path)
                continue
            if not self.ours(resource, ref):
                continue
            understood = len(mapped)
            self.route(entry.fullUrl, resource, ref, path)
            if len(mapped) > understood or index in (self.dated_lab, self.deferred):
                self.calendar.place(resource, ref, path)

    def finish(self, as_of: dt.date | None) -> None:
        """Complete the reading at the reference date *as_of*: age, labs, recent problems."""
        self.as_of = as_of
        _records.age(self)
        _labs.resolve(self, self.labs)
        _recent.decide(self)

    def route(self, url: str | None, resource: Any, ref: str, path: str) -> None:  # noqa: ANN401
        """Read one resource by the reader of its type."""
        if isinstance(resource, Patient):
            self.person(url, resource, ref, path)
        elif isinstance(resource, Observation):
            _observations.read(self, resource, ref, path)
        elif isinstance(resource, Condition):
            _records.condition(self, resource, ref, path)
        elif isinstance(resource, MedicationUse):
            _records.medication(self, resource, ref, path)
        elif isinstance(resource, QuestionnaireResponse):
            _records.questionnaire_response(self, resource, ref, path)
        elif isinstance(resource, Medication):
            reason = "read through the medication requests or statements that reference it"
            self.out.skipped.append(self.entry(resource, ref, reason=reason))
        else:
            self.other(resource, ref)

    def ours(self, resource: ClinicalResource, ref: str) -> bool:
        """Whether *resource* is about the patient being assessed; if not, skip it and say why."""
        about = resource.about
        if about in self.patient.known or self.patient.owns(about):
            return True
        if resource.about is None:
            reason = (
                "names no subject, and the bundle is not about one patient alone: "
                "it cannot be told whose it is"
            )
        else:
            reason = (
                f"about {resource.about}, not the patient being assessed "
                f"({self.patient.reference or 'the patient the other resources name'})"
            )
        self.out.skipped.append(self.entry(resource, ref, reason=reason))
        self.elsewhere += 1
        return False

    def person(self, url: str | None, patient: Patient, ref: str, path: str) -> None:
        """Read the Patient being assessed; skip any other."""
        known = names(url) if url else set()
        if patient.id:
            known.add(f"Patient/{patient.id}")
        if self.patient.known and not known & self.patient.known:
            reason = f"another patient, not the one being assessed ({self.patient.reference})"
            self.out.skipped.append(self.entry(patient, ref, reason=reason))
            return
        _records.patient(self, patient, ref, path)

    def other(self, resource: OtherResource, ref: str) -> None:
        """Skip a resource type fasciculate does not read, saying why."""
        reason = (
            "billing resource"
            if resource.resourceType in _BILLING
            else "resource type not used by fasciculate"
        )
        self.out.skipped.append(self.entry(resource, ref, reason=reason))

    def date(self, text: str | None, path: str) -> dt.date | None:
        """The date in *text*, or ``None``; not a FHIR date, it is a problem at *path*."""
        return self.calendar.date(text, path)


def _traced(problem: Problem, evidence: Mapping[str, list[str]]) -> Problem:
    """*problem* (at a presentation path) naming the resources the field came from."""
    parts = problem.path.split(".")
    for end in range(len(parts), 0, -1):
        sources = evidence.get(".".join(parts[:end]))
        if sources:
            where = f"presentation field {problem.path} (from {', '.join(sources)})"
            return Problem(where, problem.message, problem.value)
    return problem


@contextlib.contextmanager
def _paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while reading (restored after, as it was).

    Reading allocates a few objects per element and no reference cycles (reference counting frees
    them all), but the collector would rescan every live element each time they accumulate: half
    the time of reading a 20,000-entry bundle (``benchmarks/bench_fhir.py``).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_bundle(
    bundle: Mapping[str, Any] | str | bytes,
    *,
    as_of: dt.date | dt.datetime | str | None = None,
    lab_window_days: int | None = LAB_WINDOW_DAYS,
    patient: str | None = None,
) -> BundleReading:
    """Read a FHIR R4 Bundle into a presentation, reporting every mapping decision.

    Args:
        bundle: The Bundle as a mapping, or as JSON text or bytes.
        as_of: The reference date for the patient's age, the lab window and the presentation's
            ``assessed_on``: a date, a datetime (its date) or an ISO 8601 string. Default: the
            latest date of a resource the reader understood (observations, conditions,
            medications, questionnaire responses), so that the same bundle always reads the
            same; dates in the future are reported and never used.
        lab_window_days: Lab results older than this many days before *as_of* are skipped (and
            reported); ``None`` reads every result.
        patient: The patient to assess, when the bundle holds several: a reference
            (``Patient/123``, an entry's ``fullUrl``) or a Patient id. Resources about anyone
            else are skipped and reported.

    Returns:
        The presentation, the mapping report, the patient reference and, for each presentation
        field filled, the resources it came from.

    Raises:
        InvalidBundle: If the bundle is not valid JSON or FHIR, or a value cannot be read (an
            unknown lab unit, a malformed date, codes of two analytes on one result), or it
            holds several patients and *patient* does not choose one, listing every problem
            with its path.
    """
    day = as_day(as_of)
    with _paused_gc():
        return _reading(_parse(bundle), day, lab_window_days, patient)


def _reading(
    parsed: Bundle, day: dt.date | None, lab_window_days: int | None, patient: str | None
) -> BundleReading:
    kinds, subjects = _survey(parsed)
    patients = [(index, parsed.entry[index]) for index in kinds.get(Patient, [])]
    subject = choose(patients, subjects, patient)
    notes: list[str] = []
    reader = Reader(parsed, subject, day, lab_window_days, kinds)
    reader.read()
    if day is None:
        day = reader.calendar.reference_date(notes)
        notes.insert(
            0,
            f"reference date {day}: the latest clinical date in the bundle (pass as_of to fix it)"
            if day
            else "no reference date: the bundle has no clinical dates and as_of was not given",
        )
    reader.finish(day)
    if reader.out.problems:
        raise InvalidBundle(list(dict.fromkeys(reader.out.problems)))
    out = reader.out
    if reader.elsewhere:
        notes.append(
            f"{reader.elsewhere} resources about another patient (or naming none) skipped; "
            "see the skipped list"
        )
    data, conflicts = out.presentation_data(day)
    try:
        presentation = Presentation.model_validate(data)
    except pydantic.ValidationError as error:
        problems = [_traced(p, out.evidence) for p in problems_from(error, Presentation)]
        raise InvalidBundle(problems, total=error.error_count()) from None
    report = MappingReport(
        as_of=day,
        mapped=tuple(out.mapped),
        unmapped=tuple(out.unmapped),
        skipped=tuple(out.skipped),
        conflicts=tuple(conflicts),
        notes=tuple(notes + out.notes),
    )
    cited = {ref for refs in out.evidence.values() for ref in refs}
    return BundleReading(
        presentation=presentation,
        report=report,
        subject=reader.subject,
        evidence={field: tuple(refs) for field, refs in out.evidence.items()},
        reference_types={
            ref: kind for ref, kind in reader.types.items() if ref in cited or ref == reader.subject
        },
        server_references={
            ref: server
            for ref, server in reader.servers.items()
            if ref in cited or ref == reader.subject
        },
    )


def presentation_from_bundle(
    bundle: Mapping[str, Any] | str | bytes,
    *,
    as_of: dt.date | dt.datetime | str | None = None,
    lab_window_days: int | None = LAB_WINDOW_DAYS,
    patient: str | None = None,
) -> Presentation:
    """The presentation a FHIR R4 Bundle describes (:func:`read_bundle` without the report)."""
    reading = read_bundle(bundle, as_of=as_of, lab_window_days=lab_window_days, patient=patient)
    return reading.presentation

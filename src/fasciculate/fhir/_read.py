"""Read a FHIR R4 Bundle into a :class:`~fasciculate.Presentation` and a mapping report."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
from collections.abc import Iterator, Mapping
from typing import Any

import pydantic

from fasciculate._errors import InvalidBundle, Problem
from fasciculate._presentation import Presentation
from fasciculate._validation import problems_from
from fasciculate.fhir._dates import as_day
from fasciculate.fhir._parse import parse
from fasciculate.fhir._reader import Reader, survey
from fasciculate.fhir._report import BundleReading, MappingReport
from fasciculate.fhir._resources import Bundle, Patient
from fasciculate.fhir._subject import choose

#: Validates the report, its entries given as their fields (one call for every entry).
_report = MappingReport.__pydantic_validator__.validate_python

#: Labs older than this many days before the reference date are skipped (and reported).
LAB_WINDOW_DAYS = 90


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
        return _reading(parse(bundle), day, lab_window_days, patient)


def _reading(
    parsed: Bundle, day: dt.date | None, lab_window_days: int | None, patient: str | None
) -> BundleReading:
    surveyed = survey(parsed)
    patients = [(index, parsed.entry[index]) for index in surveyed.kinds.get(Patient, [])]
    subject = choose(patients, surveyed.subjects, patient)
    notes: list[str] = []
    reader = Reader(parsed, subject, day, lab_window_days, surveyed)
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
    report = _report(
        {
            "as_of": day,
            "mapped": out.mapped,
            "unmapped": out.unmapped,
            "skipped": out.skipped,
            "conflicts": conflicts,
            "notes": notes + out.notes,
        }
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

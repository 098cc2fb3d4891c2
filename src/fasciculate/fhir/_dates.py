"""The dates of a bundle being read: each one checked, and the default reference date.

A date the reader uses must be a FHIR date (:func:`~fasciculate.fhir._collect.parse_date`);
anything else is a problem at its path. The default reference date is the latest date of a
resource the reader understood, never one in the future (after now): those are reported instead,
so that one mistyped date cannot move the lab window.
"""

from __future__ import annotations

import contextlib
import datetime as dt

from fasciculate._errors import InvalidBundle, Problem
from fasciculate.fhir._collect import DATE_FORMS, parse_date, parse_instant
from fasciculate.fhir._resources import (
    AnyResource,
    Condition,
    MedicationUse,
    QuestionnaireResponse,
    observation_when,
)

#: Future dates named one by one in the notes; the rest are counted.
_SHOWN = 10


def as_day(as_of: dt.date | dt.datetime | str | None) -> dt.date | None:
    """*as_of* as a date: a date, the date of a datetime, or an ISO 8601 date or dateTime.

    Raises:
        InvalidBundle: If *as_of* is none of these (the problem's path is ``as_of``).
    """
    if as_of is None or type(as_of) is dt.date:
        return as_of
    if isinstance(as_of, dt.datetime):
        return as_of.date()
    if isinstance(as_of, str):
        with contextlib.suppress(ValueError):
            return parse_date(as_of)
        message = f"not an ISO 8601 date or dateTime; write {DATE_FORMS}"
        raise InvalidBundle([Problem("as_of", message, repr(as_of))])
    if isinstance(as_of, dt.date):  # a subclass of date
        return dt.date(as_of.year, as_of.month, as_of.day)
    message = "expected a date, a datetime or an ISO 8601 string"
    raise InvalidBundle([Problem("as_of", message, f"{as_of!r} ({type(as_of).__name__})")])


def resource_dates(resource: AnyResource) -> list[tuple[str, str | None]]:
    """The dates that place *resource* in time: (element, its text)."""
    if isinstance(resource, dict):
        period = resource.get("effectivePeriod")
        if period is None and (when := resource.get("effectiveDateTime")):  # the usual case
            return [("effectiveDateTime", when)]
        return [
            observation_when(resource)[::-1],
            ("effectivePeriod.end", period.end if period else None),
        ]
    if type(resource) is Condition:  # not isinstance: see CLINICAL_TYPES
        return [("onsetDateTime", resource.onsetDateTime), ("recordedDate", resource.recordedDate)]
    if type(resource) is MedicationUse:
        return [
            ("authoredOn", resource.authoredOn),
            ("effectiveDateTime", resource.effectiveDateTime),
            ("dateAsserted", resource.dateAsserted),
        ]
    if type(resource) is QuestionnaireResponse:
        return [("authored", resource.authored)]
    return []


class Calendar:
    """The dates read so far: each text parsed once, problems collected, understood dates kept."""

    def __init__(self, problems: list[Problem]) -> None:
        """Collect the problems found into *problems*."""
        self.problems = problems
        self.parsed: dict[str, tuple[dt.date, dt.datetime] | None] = {}
        self.now = dt.datetime.now(dt.UTC)
        #: The latest date of an understood resource that is not in the future.
        self.latest: dt.date | None = None
        #: The understood resources' dates in the future: (date, reference, resource path.element).
        self.future: list[tuple[dt.date, str, str]] = []

    def _parse(self, text: str) -> tuple[dt.date, dt.datetime] | None:
        try:
            return self.parsed[text]
        except KeyError:
            pass
        try:
            parsed: tuple[dt.date, dt.datetime] | None = parse_instant(text)
        except ValueError:
            parsed = None
        self.parsed[text] = parsed
        return parsed

    def instant(self, text: str | None, path: str) -> tuple[dt.date, dt.datetime] | None:
        """The date in *text* and the instant it starts (``None``: none, or a problem at *path*)."""
        if text is None:
            return None
        parsed = self._parse(text)
        if parsed is None:
            self.problems.append(
                Problem(path, f"not a FHIR date or dateTime; write {DATE_FORMS}", repr(text))
            )
        return parsed

    def date(self, text: str | None, path: str) -> dt.date | None:
        """The date in *text*, or ``None``; not a FHIR date, it is a problem at *path*."""
        parsed = self.instant(text, path)
        return None if parsed is None else parsed[0]

    def place(self, resource: AnyResource, ref: str, path: str) -> None:
        """Keep the dates of an understood resource, for the default reference date."""
        if isinstance(resource, dict) and resource.get("effectivePeriod") is None:
            text = resource.get("effectiveDateTime")  # the usual case, without a list of dates
            if text is not None and (parsed := self._parse(text)) is not None:
                self._keep(parsed, ref, path, "effectiveDateTime")
                return
        for element, text in resource_dates(resource):
            if text is None:
                continue
            parsed = self._parse(text)
            if parsed is None:
                self.instant(text, f"{path}.{element}")  # reports it
            else:
                self._keep(parsed, ref, path, element)

    def _keep(self, parsed: tuple[dt.date, dt.datetime], ref: str, path: str, element: str) -> None:
        day, moment = parsed
        if moment > self.now:
            self.future.append((day, ref, f"{path}.{element}"))
        elif self.latest is None or day > self.latest:
            self.latest = day

    def reference_date(self, notes: list[str]) -> dt.date | None:
        """The latest date of an understood resource that is not in the future (noted).

        The future is after the moment the reading started.
        """
        future = self.future
        notes.extend(
            f"{ref}: {where} {day} is in the future (after today, {self.now.date()}); "
            "not used as the reference date: check it"
            for day, ref, where in future[:_SHOWN]
        )
        if len(future) > _SHOWN:
            notes.append(f"{len(future) - _SHOWN} more resources with dates in the future")
        return self.latest

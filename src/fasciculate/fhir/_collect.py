"""The state of one bundle being read: answers per field with their sources, and the report."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from typing import Any

from fasciculate._errors import Problem
from fasciculate._vocab import TriState
from fasciculate.fhir._report import Conflict, EntryData

# FHIR R4's date and dateTime: a year, month or day, or a day with a time, seconds and time zone.
# ASCII digits only (``re.ASCII``: Arabic-Indic digits are not a date), no compact forms.
_DATE = re.compile(
    r"(?P<year>[0-9]{4})(?:-(?P<month>[0-9]{2})(?:-(?P<day>[0-9]{2})"
    r"(?:T(?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2})(?P<fraction>\.[0-9]{1,9})?"
    r"(?P<zone>Z|[+-][0-9]{2}:[0-9]{2}))?)?)?",
    re.ASCII,
)

# The usual dateTime, to the second in UTC (also a form of _DATE): Python's own parser reads it.
_USUAL = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z", re.ASCII)

#: How a date or dateTime should be written, for messages.
DATE_FORMS = "YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss with a time zone (Z or +hh:mm)"


def parse_instant(text: str) -> tuple[dt.date, dt.datetime]:
    """The date of a FHIR date or dateTime as written, and the instant it starts (UTC).

    A partial date reads as its first day.

    Raises:
        ValueError: If *text* is not a FHIR date or dateTime (``20261118``, ``T25:99``, a time
            without a time zone, digits other than ASCII ones, a day that does not exist).
    """
    if _USUAL.fullmatch(text) and text[17:19] != "60":  # the usual form, read in C
        moment = dt.datetime.fromisoformat(text)  # ValueError: a day or time that does not exist
        return moment.date(), moment
    found = _DATE.fullmatch(text.strip())
    if found is None:
        raise ValueError(text)
    year, month, day_of_month, clock, fraction, zone = found.groups()
    day = dt.date(int(year), int(month or 1), int(day_of_month or 1))
    if clock is None:
        return day, dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    if zone == "Z" and fraction is None and clock[6:] != "60":  # the usual form, built directly
        hour, minute, second = int(clock[:2]), int(clock[3:5]), int(clock[6:])
        moment = dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=dt.UTC)
        return day, moment
    # A leap second (hh:mm:60) is valid FHIR; it is read as the last second of the minute.
    clock = clock[:-2] + "59" if clock.endswith(":60") else clock
    zone = "+00:00" if zone == "Z" else zone
    hours, minutes = int(zone[1:3]), int(zone[4:6])
    if hours * 60 + minutes > 14 * 60:  # FHIR's offsets run from -14:00 to +14:00
        raise ValueError(text)
    moment = dt.datetime.fromisoformat(f"{day.isoformat()}T{clock}{fraction or ''}{zone}")
    return day, moment.astimezone(dt.UTC)


def parse_moment(text: str | None) -> dt.datetime | None:
    """The instant a FHIR date or dateTime starts (UTC); a partial date reads as its first day.

    Raises:
        ValueError: If *text* is not a FHIR date or dateTime (see :func:`parse_instant`).
    """
    return None if text is None else parse_instant(text)[1]


def parse_date(text: str | None) -> dt.date | None:
    """The date of a FHIR date or dateTime, as written; a partial date reads as its first day.

    Raises:
        ValueError: If *text* is not a FHIR date or dateTime (see :func:`parse_instant`).
    """
    return None if text is None else parse_instant(text)[0]


class Collector:
    """Everything read so far; :meth:`presentation_data` turns it into presentation input."""

    def __init__(self) -> None:
        self.answers: dict[str, dict[TriState, list[str]]] = defaultdict(lambda: defaultdict(list))
        self.data: dict[str, Any] = {"twitching": {}, "patient": {}, "exposures": {}}
        self.regions: list[str] = []
        self.medications: list[dict[str, Any]] = []
        self.labs: list[dict[str, Any]] = []
        self.evidence: dict[str, list[str]] = defaultdict(list)
        self.cited: set[tuple[str, str]] = set()  # (field, reference): membership in O(1)
        #: Report entries, as their fields (see :class:`~fasciculate.fhir.ReportEntry`).
        self.mapped: list[EntryData] = []
        self.unmapped: list[EntryData] = []
        self.skipped: list[EntryData] = []
        self.notes: list[str] = []
        self.problems: list[Problem] = []
        self.latest: dict[str, tuple[dt.date, str]] = {}

    def answer(self, field: str, answer: TriState, reference: str) -> None:
        """Record one present / absent / unknown answer for a finding-like field."""
        self.answers[field][answer].append(reference)
        if answer is not TriState.UNKNOWN and (field, reference) not in self.cited:
            self.cited.add((field, reference))  # as cite() does: this is the hot path
            self.evidence[field].append(reference)

    def cite(self, field: str, reference: str) -> None:
        """Remember that *field* came from the resource *reference*."""
        if (field, reference) not in self.cited:
            self.cited.add((field, reference))
            self.evidence[field].append(reference)

    def forget(self, field: str) -> None:
        """Forget where *field* came from (its value is being replaced)."""
        for reference in self.evidence.pop(field, []):
            self.cited.discard((field, reference))

    def set_once(self, section: str, key: str, value: object, reference: str) -> None:
        """Set ``section.key`` unless it is already set (the first source wins, and is noted)."""
        target = self.data[section]
        if key in target and target[key] != value:
            self.notes.append(
                f"{section}.{key}: kept {target[key]!r}, ignored {value!r} from {reference}"
            )
            return
        target[key] = value
        self.cite(f"{section}.{key}", reference)

    def set_latest(self, field: str, value: str, when: dt.date | None, reference: str) -> None:
        """Set a field whose most recent record wins (e.g. smoking status)."""
        day = when or dt.date.min
        if field not in self.latest or day >= self.latest[field][0]:
            self.latest[field] = (day, value)
            self.cited -= {(field, old) for old in self.evidence[field]}
            self.evidence[field] = [reference]
            self.cited.add((field, reference))

    def resolve(self) -> tuple[dict[str, str], list[Conflict]]:
        """Each answered field resolved towards safety: present, else absent, else unknown."""
        resolved: dict[str, str] = {}
        conflicts = []
        for field, by_answer in self.answers.items():
            present, absent = by_answer.get(TriState.PRESENT), by_answer.get(TriState.ABSENT)
            if present and absent:
                conflicts.append(
                    Conflict(field=field, present_in=tuple(present), absent_in=tuple(absent))
                )
            if present:
                resolved[field] = TriState.PRESENT
            elif absent:
                resolved[field] = TriState.ABSENT
            else:
                resolved[field] = TriState.UNKNOWN
        return resolved, conflicts

    def presentation_data(self, as_of: dt.date | None) -> tuple[dict[str, Any], list[Conflict]]:
        """The collected answers as :class:`~fasciculate.Presentation` input, and the conflicts."""
        resolved, conflicts = self.resolve()
        data: dict[str, Any] = {key: dict(value) for key, value in self.data.items()}
        for section in data.values():  # examination.power.<movement>: one grade per movement
            for key in [key for key in section if "." in key]:
                group, _, entry = key.partition(".")
                section.setdefault(group, {})[entry] = section.pop(key)
        data["findings"] = {}
        for field, answer in resolved.items():
            section, key = field.split(".", 1)
            data.setdefault(section, {})[key] = answer
        for field, (_, value) in self.latest.items():
            section, key = field.split(".", 1)
            data.setdefault(section, {})[key] = value
        if self.regions:
            data["twitching"]["regions"] = list(dict.fromkeys(self.regions))
        data["medications"] = self.medications
        data["labs"] = self.labs
        if as_of is not None:
            data["assessed_on"] = as_of.isoformat()
        onset = data["twitching"].get("onset_date")
        if onset is not None and (as_of is None or onset > as_of.isoformat()):
            self.notes.append(f"twitching onset {onset} ignored: it is after the reference date")
            del data["twitching"]["onset_date"]
        return data, conflicts

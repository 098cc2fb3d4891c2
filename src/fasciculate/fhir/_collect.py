"""The state of one bundle being read: answers per field with their sources, and the report."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from fasciculate._errors import Problem
from fasciculate._vocab import TriState
from fasciculate.fhir._report import Conflict, ReportEntry


def parse_date(text: str | None) -> dt.date | None:
    """The date of a FHIR date or dateTime; a partial date reads as its first day.

    Raises:
        ValueError: If *text* is not a FHIR date.
    """
    if text is None:
        return None
    text = text.strip()
    year, month, day = text[:4], text[5:7] or "01", text[8:10] or "01"
    return dt.date(int(year), int(month), int(day))


class Collector:
    """Everything read so far; :meth:`presentation_data` turns it into presentation input."""

    def __init__(self) -> None:
        self.answers: dict[str, dict[TriState, list[str]]] = defaultdict(lambda: defaultdict(list))
        self.data: dict[str, Any] = {"twitching": {}, "patient": {}, "exposures": {}}
        self.regions: list[str] = []
        self.medications: list[dict[str, Any]] = []
        self.labs: list[dict[str, Any]] = []
        self.evidence: dict[str, list[str]] = defaultdict(list)
        self.mapped: list[ReportEntry] = []
        self.unmapped: list[ReportEntry] = []
        self.skipped: list[ReportEntry] = []
        self.notes: list[str] = []
        self.problems: list[Problem] = []
        self.latest: dict[str, tuple[dt.date, str]] = {}

    def answer(self, field: str, answer: TriState, reference: str) -> None:
        """Record one present / absent / unknown answer for a finding-like field."""
        self.answers[field][answer].append(reference)
        if answer is not TriState.UNKNOWN:
            self.cite(field, reference)

    def cite(self, field: str, reference: str) -> None:
        """Remember that *field* came from the resource *reference*."""
        if reference not in self.evidence[field]:
            self.evidence[field].append(reference)

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
            self.evidence[field] = [reference]

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

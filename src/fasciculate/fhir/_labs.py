"""Lab results of one bundle: which result stands for each analyte.

A lab is measured again when an earlier result is doubtful or the patient changes, so the latest
result is the one that describes the patient now. For each analyte:

- the latest **final** result (status ``final``, ``amended`` or ``corrected``) stands; several
  final results at that same instant all stand (the worse one decides), and earlier results are
  skipped as superseded;
- an **unfinished** result (``preliminary``, ``registered``, ``unknown``, another status or none)
  never replaces a final one: it is skipped when a final result is as recent or more recent, and
  read, with a note, when it is newer than every final result, beside the latest final one. It can
  therefore raise the urgency (a critical preliminary value is acted on, as laboratories phone
  them) but never lower it, and the report says so.

Instants order results (a date without a time counts as its start); a result without a date is
older than every dated one. A result given only as an interpretation (no value) is a result like
any other. The same value in the same unit (or the same words) at the same instant in two resources
(EHRs record one result per encounter) is one result citing both.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import attrs

from fasciculate._errors import Problem
from fasciculate.fhir._elements import label
from fasciculate.fhir._report import EntryData
from fasciculate.fhir._resources import Observation

if TYPE_CHECKING:
    from fasciculate.fhir._reader import Reader

#: The statuses of a finished result.
FINAL = frozenset({"final", "amended", "corrected"})
_UNDATED = dt.datetime.min.replace(tzinfo=dt.UTC)


@attrs.frozen(eq=False)
class Result:
    """One lab result, waiting for the reference date and the other results of its analyte.

    A result that cannot be read (a unit not accepted, an implausible value) carries its problem:
    it is reported only when the result is inside the lab window, as older results are not read.
    """

    index: int  # its entry's place in the bundle
    observation: Observation
    ref: str
    analyte: str
    code: str
    when: dt.date | None
    moment: dt.datetime | None
    unit: str = ""
    value: float | None = 0.0  # None: the result was given only in words
    reason: str = ""
    #: The laboratory's interpretation code (``LL``, ``H``...), if it gave one.
    interpretation: str | None = None
    problem: Problem | None = None

    @property
    def final(self) -> bool:
        """Whether the result is finished."""
        return self.observation.get("status") in FINAL

    @property
    def key(self) -> dt.datetime:
        """Its place in time (undated results first)."""
        return self.moment or _UNDATED

    @property
    def status(self) -> str:
        """Its status, for people."""
        return self.observation.get("status") or "no status"


def _standing(group: list[Result]) -> tuple[list[Result], dict[int, Result]]:
    """The results of one analyte that stand, and what supersedes each other one (by index)."""
    finals = [result for result in group if result.final]
    latest = max((result.key for result in finals), default=None)
    newer = [r for r in group if not r.final and (latest is None or r.key > latest)]
    newest = max((result.key for result in newer), default=None)
    final_ones = [result for result in finals if result.key == latest]
    newer_ones = [result for result in newer if result.key == newest]
    standing = final_ones + newer_ones
    kept = {result.index for result in standing}
    superseded = {
        result.index: final_ones[0]
        if final_ones and latest is not None and result.key <= latest
        else newer_ones[0]
        for result in group
        if result.index not in kept
    }
    return standing, superseded


def _current(reader: Reader, results: list[Result]) -> list[Result]:
    """The results inside the lab window that can be read (the others skipped or reported)."""
    window, as_of = reader.window, reader.as_of
    current = []
    for result in results:
        when = result.when
        if when and as_of and window is not None and (as_of - when).days > window:
            reason = f"{result.analyte} from {when}, older than {window} days before {as_of}"
            reader.out.skipped.append(_entry(reader, result, reason=reason))
        elif result.problem is not None:
            reader.out.problems.append(result.problem)
        else:
            current.append(result)
    return current


def resolve(reader: Reader, results: list[Result]) -> None:
    """Put the standing results of each analyte into the presentation; report the others."""
    by_analyte: dict[str, list[Result]] = {}
    for result in _current(reader, results):
        by_analyte.setdefault(result.analyte, []).append(result)
    standing: list[Result] = []
    said: dict[tuple[str, int], str] = {}  # (status, winner's index): why superseded
    for group in by_analyte.values():
        kept, superseded = _standing(group)
        standing += kept
        for result in group:
            winner = superseded.get(result.index)
            if winner is None:
                continue
            if (reason := said.get(key := (result.status, winner.index))) is None:
                reason = said[key] = (
                    f"{result.status} {result.analyte} result superseded by the "
                    f"{'final' if winner.final else 'later'} result {winner.ref} ({winner.status}, "
                    f"{winner.moment.isoformat() if winner.moment else 'undated'})"
                )
            reader.out.skipped.append(_entry(reader, result, reason=reason))
    seen: dict[tuple[object, ...], str] = {}
    for result in sorted(standing, key=lambda result: result.index):
        same = (result.analyte, result.unit, result.value, result.interpretation, result.moment)
        if same in seen:
            field = seen[same]
            reader.out.cite(field, result.ref)
            reason = f"same {result.analyte} result as {field} (recorded twice)"
            reader.out.mapped.append(_entry(reader, result, field=field, reason=reason))
            continue
        field = f"labs.{len(reader.out.labs)}"
        seen[same] = field
        reader.out.labs.append(_lab_input(result))
        reader.out.cite(field, result.ref)
        reader.out.mapped.append(_entry(reader, result, field=field, reason=result.reason))
        if not result.final:
            reader.out.notes.append(
                f"{result.ref}: {result.status} {result.analyte} result read: no final "
                f"{result.analyte} result is as recent, so it is read beside the latest final one "
                "(it can raise the urgency, never lower it); confirm it when the final result "
                "arrives"
            )


def _lab_input(result: Result) -> dict[str, object]:
    """The ``labs`` entry of a standing *result*: its value and unit, its words, or both."""
    found: dict[str, object] = {"analyte": result.analyte}
    if result.value is not None:
        found |= {"unit": result.unit, "value": result.value}
    if result.interpretation is not None:
        found["interpretation"] = result.interpretation
    return found


def _entry(reader: Reader, result: Result, **fields: str) -> EntryData:
    concept = result.observation.get("code")
    display = label(concept)
    return reader.entry(result.observation, result.ref, code=result.code, display=display, **fields)

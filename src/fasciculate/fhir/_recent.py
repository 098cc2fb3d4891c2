"""Problem-list entries for findings the rules call new: decided at the reference date.

The rules read some findings as new (a new bladder or bowel disturbance, unexplained orthopnoea).
A coded Condition may have been on the problem list for years, so it sets such a finding only when
its onset (``onsetDateTime``, else ``recordedDate``) falls within the finding's window before the
reference date (``[[recent]]`` in ``fhir/codes.toml``). The reference date may default to the
latest date of the bundle, known only once every entry has been read: these Conditions wait
(:func:`wait`) and are decided when the reading finishes (:func:`decide`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from fasciculate._vocab import TriState
from fasciculate.fhir._codes import Recency, code_maps

if TYPE_CHECKING:
    from collections.abc import Callable

    from fasciculate.fhir._reader import Reader
    from fasciculate.fhir._report import EntryData
    from fasciculate.fhir._resources import Condition


@attrs.frozen
class Waiting:
    """A Condition that sets *finding* if it is recent, waiting for the reference date."""

    condition: Condition
    path: str
    finding: str
    recency: Recency
    entry: Callable[..., EntryData]  # its report entry, given a reason
    reason: str  # why it counts, for the mapping report
    ref: str


def window(finding: str) -> Recency | None:
    """How recent a Condition must be to set *finding*; ``None`` when any Condition may."""
    return code_maps().recent.get(finding)


def wait(reader: Reader, waiting: Waiting) -> None:
    """Keep *waiting* until :func:`decide`; its resource counts as understood meanwhile."""
    reader.waiting.append(waiting)
    reader.deferred = reader.at


def decide(reader: Reader) -> None:
    """At the reference date (``reader.as_of``), set each recent finding; report the others."""
    for item in reader.waiting:
        stale = _not_recent(reader, item)
        if stale is not None:
            reader.out.skipped.append(item.entry(reason=stale))
            continue
        reader.out.answer(f"findings.{item.finding}", TriState.PRESENT, item.ref)
        reader.out.mapped.append(item.entry(reason=item.reason))


def _not_recent(reader: Reader, item: Waiting) -> str | None:
    """Why *item* cannot set its finding (``None`` when it can)."""
    condition, finding = item.condition, item.finding
    field, text = (
        ("onsetDateTime", condition.onsetDateTime)
        if condition.onsetDateTime
        else ("recordedDate", condition.recordedDate)
    )
    onset = reader.date(text, f"{item.path}.{field}") if text else None
    limit = f"{item.recency.days} days ({item.recency.source})"
    if onset is None:
        return (
            f"no onsetDateTime or recordedDate: cannot tell whether {finding} is new "
            f"(window {limit}); the question stays open"
        )
    if reader.as_of is None:
        return (
            f"no reference date: cannot tell whether {finding} is new (window {limit}); "
            "the question stays open (pass as_of)"
        )
    if (reader.as_of - onset).days > item.recency.days:
        return (
            f"{field} {onset} is more than {limit} before {reader.as_of}: a problem-list entry "
            f"does not show that {finding} is new; the question stays open"
        )
    return None

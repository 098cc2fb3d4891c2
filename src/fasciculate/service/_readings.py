"""The records read lately, so that a chart opened again is not read and assessed again.

An EHR calls patient-view each time a chart is opened, with the same prefetch while the record
has not changed. What :func:`fasciculate.fhir.read_bundle` makes of a record, and the assessment
of it, depend only on the record's resources, the patient and the day: the service keeps them
for the last ``records_kept`` records (the configuration; :data:`KEPT` by default, 0 keeps
none), keyed by exactly those (the patient, the day, and a SHA-256 digest of the resources as
sent), so a call with the same record on the same day reuses them and anything else is read
afresh. What each call must have of its own (the cards' and suggestions' uuids, the proposed
ServiceRequest's id and time) is still made for every call.

A reading is kept pickled once the call that read it is served (:class:`Record`), and read
back when a later call needs it; of the assessment, only its cards are kept, as a template
(:class:`Assessed`), and whether the record is relevant. A record that cannot be read (HTTP 422)
is not kept. The cache belongs to one app and is used on its event
loop only.
"""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import pickle
import uuid
from collections.abc import Callable, Mapping
from typing import Any, cast

import attrs

from fasciculate.fhir import BundleReading, Card

#: How many records are kept by default (the least recently used goes first): about 4 MB for
#: records like the bundled thiazide example (15 kB each); ``records_kept`` in the configuration.
KEPT = 256


def restamped(value: Any, fresh: Mapping[str, str]) -> Any:  # noqa: ANN401 - any JSON value
    """A copy of the JSON *value*, each string that is a key of *fresh* replaced by its value."""
    if isinstance(value, str):
        return fresh.get(value, value)
    if isinstance(value, dict):
        return {key: restamped(item, fresh) for key, item in value.items()}
    if isinstance(value, list):
        return [restamped(item, fresh) for item in value]
    return value


@attrs.frozen
class Assessed:
    """The cards of a record's assessment as a template, and its urgency.

    The template's ids (card and suggestion uuids, the proposed ServiceRequest's id) are random
    uuids made for it, and its time (``authoredOn``) is the time it was made: :meth:`cards` gives
    a copy with each of those replaced by a new uuid, and the time by the call's. A template is
    a few dozen plain dicts and strings, where the :class:`~fasciculate.Assessment` it came from
    is about 2,000 objects that the cyclic collector would scan again and again while kept.
    """

    template: tuple[Card, ...]
    urgency: str
    ids: frozenset[str]
    time: str

    def cards(self) -> list[Card]:
        """The cards for one call: the template with new ids and the call's time."""
        fresh = {old: str(uuid.uuid4()) for old in self.ids}
        now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        fresh[self.time] = now
        return [restamped(card, fresh) for card in self.template]


@attrs.define
class Record:
    """One record as read on one day, and the cards of its assessment once a call needed them.

    A kept record holds its reading pickled: a few kB of bytes, one object to the cyclic
    collector, where the reading's models are about 2,000 objects that every collection of the
    young generation would scan while the record is new (with 256 records kept and a new one
    each call, single collections of 10-40 ms, the tail of the service's latency). The call that
    read it uses the reading as read; a later call that needs it unpickles it (about 0.08 ms),
    and whether the record is relevant and its cards are worked out once.
    """

    _pickled: bytes | None
    _fresh: BundleReading | None
    _relevant: bool | None = None
    _assessed: Assessed | None = None

    @classmethod
    def read(cls, reading: BundleReading, *, kept: bool) -> Record:
        """The record of *reading*, made for the call that read it; pickled when *kept*."""
        return cls(pickle.dumps(reading, protocol=5) if kept else None, reading)

    @property
    def reading(self) -> BundleReading:
        """The record's reading: as read for the call that read it, else unpickled."""
        if self._fresh is not None:
            return self._fresh
        assert self._pickled is not None  # noqa: S101 - a record not kept keeps its reading
        return cast("BundleReading", pickle.loads(self._pickled))  # noqa: S301 - our own bytes

    def let_go(self) -> None:
        """Hold the reading pickled only (a kept record, once the call that read it is served)."""
        if self._pickled is not None:
            self._fresh = None

    def relevant(self, check: Callable[[BundleReading], bool]) -> bool:
        """Whether *check* holds of the reading, worked out the first time it is asked."""
        if self._relevant is None:
            self._relevant = check(self.reading)
        return self._relevant

    def cards(self, build: Callable[[BundleReading], Assessed]) -> tuple[list[Card], str]:
        """The cards of the record's assessment for one call, and its urgency.

        The first time, *build* makes the :class:`Assessed` from the reading, and this call gets
        its template as it is: its ids and time were made for this call, so a copy with new ones
        would be the same answer, 0.04 ms later. Every later call gets :meth:`Assessed.cards`.
        The template is never changed, by this call or a later one.
        """
        if self._assessed is None:
            self._assessed = build(self.reading)
            return list(self._assessed.template), self._assessed.urgency
        return self._assessed.cards(), self._assessed.urgency


def digest(resources: list[dict[str, Any]]) -> bytes:
    """A digest of *resources*: equal for the same record sent the same way.

    Of their pickle (written, never read back): a faithful serialisation, so equal digests mean
    equal resources, and five times quicker to write than JSON (0.02 ms for the bundled thiazide
    example's record). Equal resources that pickle differently would only be read again.
    """
    return hashlib.sha256(pickle.dumps(resources, protocol=5)).digest()


class Readings:
    """The :class:`Record` of each of the last :data:`KEPT` records read (LRU order)."""

    def __init__(self, kept: int = KEPT) -> None:
        """Keep at most *kept* records (0 keeps none)."""
        self._kept = kept
        self._records: collections.OrderedDict[tuple[str, dt.date, bytes], Record] = (
            collections.OrderedDict()
        )
        self._last: Record | None = None

    def record(
        self,
        resources: list[dict[str, Any]],
        patient: str,
        day: dt.date,
        read: Callable[[list[dict[str, Any]], str, dt.date], BundleReading],
    ) -> Record:
        """The record of *resources* for *patient* on *day*: kept, else ``read`` and kept.

        Whatever ``read`` raises goes to the caller, and nothing is kept.
        """
        if self._last is not None:  # its call is served: the cards are built, if it needed them
            self._last.let_go()
            self._last = None
        key = (patient, day, digest(resources))
        found = self._records.get(key)
        if found is not None:
            self._records.move_to_end(key)
            return found
        found = Record.read(read(resources, patient, day), kept=self._kept > 0)
        if self._kept:
            self._records[key] = found
            self._last = found
            if len(self._records) > self._kept:
                self._records.popitem(last=False)
        return found

    def __len__(self) -> int:
        """How many records are kept."""
        return len(self._records)

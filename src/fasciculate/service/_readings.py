"""The records read lately, so that a chart opened again is not read and assessed again.

An EHR calls patient-view each time a chart is opened, with the same prefetch while the record
has not changed. What :func:`fasciculate.fhir.read_bundle` makes of a record, and the assessment
of it, depend only on the record's resources, the patient and the day: the service keeps them
for the last ``records_kept`` records (the configuration; :data:`KEPT` by default, 0 keeps
none), keyed by exactly those (the patient, the day, and a SHA-256 digest of the resources as
sent), so a call with the same record on the same day reuses them and anything else is read
afresh. What each call must have of its own (the cards' and suggestions' uuids, the proposed
ServiceRequest's id and time) is still made for every call.

The readings and assessments kept are frozen models, shared but never changed. A record that
cannot be read (HTTP 422) is not kept. The cache belongs to one app and is used on its event
loop only.
"""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import pickle
from collections.abc import Callable
from typing import Any

import attrs

import fasciculate
from fasciculate.fhir import BundleReading

#: How many records are kept by default (the least recently used goes first): about 18 MB for
#: records like the bundled thiazide example (70 kB each); ``records_kept`` in the configuration.
KEPT = 256


@attrs.define
class Record:
    """One record as read on one day, and its assessment once a call needed it."""

    reading: BundleReading
    _assessed: tuple[fasciculate.Assessment, tuple[fasciculate.Source, ...]] | None = None

    def assessment(self) -> tuple[fasciculate.Assessment, tuple[fasciculate.Source, ...]]:
        """The assessment of the reading's presentation, and the sources it cites (once)."""
        if self._assessed is None:
            assessment = fasciculate.assess(self.reading.presentation)
            sources = fasciculate.knowledge_base().sources
            cited = tuple(sources[s.id] for s in assessment.sources if s.id in sources)
            self._assessed = (assessment, cited)
        return self._assessed


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
        key = (patient, day, digest(resources))
        found = self._records.get(key)
        if found is not None:
            self._records.move_to_end(key)
            return found
        found = Record(read(resources, patient, day))
        if self._kept:
            self._records[key] = found
            if len(self._records) > self._kept:
                self._records.popitem(last=False)
        return found

    def __len__(self) -> int:
        """How many records are kept."""
        return len(self._records)

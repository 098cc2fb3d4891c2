"""What lets an output be written back to the EHR: fresh ids, a time, references that resolve.

Every call draws new identifiers (a card's ``uuid``, the resources' ``id`` and their ``urn:uuid:``
``fullUrl``) from *ids*, by default :func:`uuid.uuid4`, and stamps the time *at*, by default now.
Nothing else in an output depends on the call: the same assessment, reading, *ids* sequence and
*at* always give the same output, which is how tests and audits reproduce one.

A reference to the patient's own resources is written as the server knows it: ``Patient/123``
where the input bundle gave the resource an id on its server (``BundleReading.server_references``),
or the literal reference when it already names a server resource (``Observation/9``, an absolute
URL). An entry of the input bundle without a server id (a ``urn:uuid:`` fullUrl, or an entry the
input transaction was to create) names nothing on the server the output is posted to, so it is
left out of the references and counted in a note; the subject becomes a display.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from fasciculate.fhir._report import BundleReading

#: Makes one identifier: a :class:`uuid.UUID` or its text.
IdFactory = Callable[[], "uuid.UUID | str"]
#: How a patient without a server reference is named.
UNNAMED = "the assessed patient"


def reference_type(reference: str) -> str | None:
    """The resource type a literal reference names, or ``None`` for an opaque one (``urn:uuid:``).

    ``Observation/1``, ``https://ehr.example/fhir/Observation/1`` and ``.../_history/2`` all name
    Observation.
    """
    parts = reference.split("/")
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    if len(parts) < 2 or not parts[-2][:1].isupper() or not parts[-2].isalpha():
        return None
    return parts[-2]


def _moment(at: dt.datetime | None) -> str:
    if at is None:
        at = dt.datetime.now(dt.UTC)
    if not isinstance(at, dt.datetime) or at.utcoffset() is None:
        message = (
            f"at: expected a datetime with a time zone (FHIR requires one), got {at!r}; "
            "give e.g. datetime.now(UTC), or leave it out for now"
        )
        raise ValueError(message)
    return at.replace(microsecond=0).isoformat()


@attrs.frozen
class Call:
    """One call writing an output: its id source, its time and the patient's references.

    Attributes:
        at: The time of the call (FHIR dateTime), written as ``authoredOn`` and ``occurrence``.
        subject: The patient's reference as written (``None``: none that resolves).
        evidence: The bundle references behind each presentation field.
        types: The resource type behind each bundle reference.
        servers: The server reference of each bundle reference that has one.
    """

    ids: IdFactory
    at: str
    subject: str | None
    evidence: Mapping[str, Sequence[str]]
    types: Mapping[str, str]
    servers: Mapping[str, str]

    def new_id(self) -> str:
        """A fresh identifier from the call's factory, as UUID text.

        Raises:
            ValueError: If the factory returns something that is not a UUID.
        """
        value = self.ids()
        try:
            return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
        except ValueError:
            message = (
                f"ids: the factory returned {value!r}, not a UUID; give a callable returning "
                "uuid.UUID or its text (the default is uuid.uuid4)"
            )
            raise ValueError(message) from None

    def resolve(self, reference: str) -> str | None:
        """*reference* as the EHR's server knows it, or ``None`` when it names nothing there."""
        if reference in self.servers:
            return self.servers[reference]
        if reference in self.types:  # an entry of the input bundle without a server id
            return None
        return reference if reference_type(reference) is not None else None

    def kind(self, reference: str) -> str | None:
        """The resource type behind a bundle *reference*, when known."""
        return self.types.get(reference) or reference_type(reference)

    def subject_reference(self) -> dict[str, str]:
        """``subject``: a resolvable reference to the patient, else a display."""
        if self.subject is None:
            return {"display": UNNAMED}
        return {"reference": self.subject, "type": "Patient"}


def call(  # noqa: PLR0913 - the keyword arguments of the public writers, passed on
    *,
    reading: BundleReading | None,
    subject: str | None,
    evidence: Mapping[str, Sequence[str]] | None,
    reference_types: Mapping[str, str] | None,
    ids: IdFactory | None,
    at: dt.datetime | None,
) -> Call:
    """The :class:`Call` for the public writers' arguments (explicit ones win over *reading*).

    Raises:
        ValueError: If *at* has no time zone or *ids* is not callable.
    """
    if ids is not None and not callable(ids):
        message = f"ids: expected a callable returning a UUID (e.g. uuid.uuid4), got {ids!r}"
        raise ValueError(message)
    servers: Mapping[str, str] = reading.server_references if reading else {}
    types: dict[str, str] = dict(reading.reference_types) if reading else {}
    types.update(reference_types or {})
    if subject is None and reading is not None:
        subject = reading.subject
    if evidence is None and reading is not None:
        evidence = reading.evidence
    writing = Call(
        ids=ids or uuid.uuid4,
        at=_moment(at),
        subject=None,
        evidence=evidence or {},
        types=types,
        servers=servers,
    )
    resolved = None if subject is None else writing.resolve(subject)
    return attrs.evolve(writing, subject=resolved)


def typed(reference: str, kind: str | None) -> dict[str, Any]:
    """A Reference element, with its type when known."""
    return {"reference": reference, "type": kind} if kind else {"reference": reference}

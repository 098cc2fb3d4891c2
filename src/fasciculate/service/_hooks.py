"""The three services (patient-view, order-select, order-sign): discovery and the answer to a call.

Each call gathers the patient's record (prefetch, else the FHIR server), reads it with
:func:`fasciculate.fhir.read_bundle` as of today (a record read before that day is not read or
assessed again while the service keeps it: :mod:`fasciculate.service._readings`), and answers:

* **patient-view**: the assessment's card, only when the record is relevant to this knowledge base
  (a twitching symptom or finding, a fasciculation condition, an answered intake questionnaire);
  any other chart gets no card.
* **order-select** / **order-sign**: a warning card for each draft medication (the ``selections``
  for order-select, every draft for order-sign) that lowers a lab already low, and the
  assessment's card when a draft is a referral for twitching.
"""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

import fasciculate
from fasciculate.fhir import BundleReading, Card, assessment_to_cards, read_bundle
from fasciculate.service import _card_extras, _orders
from fasciculate.service._readings import Assessed
from fasciculate.service._templates import prefetch_templates

if TYPE_CHECKING:
    from fasciculate.service._prefetch import Fetcher
    from fasciculate.service._readings import Readings, Record


@attrs.frozen
class Service:
    """One CDS service: its id, hook and words for the discovery document."""

    id: str
    hook: str
    title: str
    description: str
    needs: tuple[str, ...]


SERVICES = {
    service.id: service
    for service in (
        Service(
            "fasciculate-patient-view",
            "patient-view",
            "Muscle twitching around the knee: referral urgency",
            "When the chart records muscle twitching (a symptom, a fasciculation finding or "
            "condition, an answered intake questionnaire): the referral urgency from cited red "
            "flags, the differential, and the questions still to ask. Other charts get no card.",
            ("userId", "patientId"),
        ),
        Service(
            "fasciculate-order-select",
            "order-select",
            "Twitching triggers and referrals in selected orders",
            "A selected medication that lowers potassium or magnesium while the latest result is "
            "low (a loop or thiazide diuretic, a proton-pump inhibitor) gives a warning with the "
            "results; a selected referral for twitching gets the assessment.",
            ("userId", "patientId", "selections", "draftOrders"),
        ),
        Service(
            "fasciculate-order-sign",
            "order-sign",
            "Twitching triggers and referrals in orders being signed",
            "The order-select checks on every draft order, at signing.",
            ("userId", "patientId", "draftOrders"),
        ),
    )
}


class HookError(Exception):
    """A call that cannot be answered: an HTTP status and what to fix."""

    def __init__(self, status: int, message: str, *, code: str = "invalid") -> None:
        """*status* is the HTTP status; *code* the OperationOutcome issue type."""
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


def discovery() -> dict[str, Any]:
    """The discovery document (``GET {base}/cds-services``)."""
    prefetch = prefetch_templates()
    usage = (
        "A client JWT (ES384 or RS384) on every request; prefetch the templates or give "
        "fhirServer and fhirAuthorization (read access to the patient's Patient, Observation, "
        "Condition, MedicationRequest and QuestionnaireResponse)."
    )
    return {
        "services": [
            {
                "hook": s.hook,
                "id": s.id,
                "title": s.title,
                "description": s.description,
                "prefetch": prefetch,
                "usageRequirements": usage,
            }
            for s in SERVICES.values()
        ]
    }


def _check(service: Service, body: object) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise HookError(400, "the request body must be a JSON object (a CDS Hooks request)")
    if body.get("hook") != service.hook:
        message = f"hook: this service answers {service.hook!r}, got {body.get('hook')!r}"
        raise HookError(400, message)
    if not isinstance(body.get("hookInstance"), str) or not body["hookInstance"]:
        raise HookError(400, "hookInstance: required (a UUID for this call)", code="required")
    context = body.get("context")
    if not isinstance(context, dict):
        raise HookError(400, "context: required (an object)", code="required")
    for key in service.needs:
        if key not in context:
            raise HookError(400, f"context.{key}: required by {service.hook}", code="required")
    if not isinstance(context["patientId"], str) or not context["patientId"]:
        raise HookError(400, "context.patientId: expected a Patient id (a string)")
    return body


def _drafts(service: Service, context: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The draft orders this call is about (the selected ones for order-select)."""
    bundle = context["draftOrders"]
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise HookError(400, "context.draftOrders: expected a FHIR Bundle of draft orders")
    entries = [e.get("resource") for e in bundle.get("entry") or [] if isinstance(e, dict)]
    drafts = [r for r in entries if isinstance(r, dict) and isinstance(r.get("resourceType"), str)]
    if service.hook != "order-select":
        return drafts
    selections = context["selections"]
    if not isinstance(selections, list) or not all(isinstance(s, str) for s in selections):
        raise HookError(400, "context.selections: expected a list of references (Type/id)")
    return [d for d in drafts if f"{d['resourceType']}/{d.get('id')}" in selections]


def _bundle(resources: list[dict[str, Any]]) -> dict[str, Any]:
    unique = {(r["resourceType"], r.get("id") or str(n)): r for n, r in enumerate(resources)}
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in unique.values()],
    }


def _read(resources: list[dict[str, Any]], patient: str, day: dt.date) -> BundleReading:
    try:
        return read_bundle(_bundle(resources), as_of=day, patient=patient)
    except fasciculate.InvalidBundle as error:
        raise HookError(
            422, f"the patient's record cannot be read: {error}", code="processing"
        ) from None


def relevant(reading: BundleReading) -> bool:
    """Whether the record says anything this knowledge base is about (patient-view).

    It is when the reader mapped an answered intake questionnaire, anything about the twitching
    (its sites, course, onset), a finding named for twitching (tongue twitching), or a resource
    coded as twitching itself (a fasciculation Condition or symptom).
    """
    for entry in reading.report.mapped:
        field = entry.field or ""
        code = (entry.code or "").rpartition("|")[2]
        if (
            entry.resource_type == "QuestionnaireResponse"
            or field.partition(".")[0] == "twitching"
            or code in _orders.TWITCHING_CODES
            or any(word in field for word in _orders.TWITCHING_WORDS)
        ):
            return True
    return False


def _assessed(reading: BundleReading) -> Assessed:
    """The cards of the reading's assessment as a template (:class:`Assessed`)."""
    assessment = fasciculate.assess(reading.presentation)
    made: list[str] = []

    def new_id() -> str:
        made.append(str(uuid.uuid4()))
        return made[-1]

    at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    cards = assessment_to_cards(
        assessment,
        subject=reading.subject,
        evidence=reading.evidence,
        reference_types=reading.reference_types,
        ids=new_id,
        at=at,
    )
    kb = fasciculate.knowledge_base()
    cited = [kb.sources[s.id] for s in assessment.sources if s.id in kb.sources]
    topic = _card_extras.TOPIC_ASSESSMENT
    template = tuple(_card_extras.finish(c, topic=topic, cited=cited) for c in cards)
    # finish gave the cards and suggestions uuids of their own: they are ids to renew too.
    made += [c["uuid"] for c in template]
    made += [s["uuid"] for c in template for s in c.get("suggestions", [])]
    return Assessed(template, str(assessment.urgency), frozenset(made), at.isoformat())


def _assessment_cards(record: Record) -> tuple[list[Card], str]:
    return record.cards(_assessed)


async def answer(
    service: Service, body: object, fetcher: Fetcher, readings: Readings
) -> tuple[list[Card], str | None]:
    """The cards for a call, and the urgency assessed (``None`` when nothing was assessed).

    The record is read (and assessed) once a day for as long as *readings* keeps it.

    Raises:
        HookError: The request is not a valid call of *service* (400), or the record cannot be
            read (422).
        Unavailable: The record can be had neither from the prefetch nor the FHIR server (412).
        BadPrefetch: A prefetch value is not FHIR (400).
    """
    request = _check(service, body)
    context = request["context"]
    patient = context["patientId"]
    drafts = _drafts(service, context) if service.hook != "patient-view" else []
    record = await fetcher.record(request, patient)
    day = dt.datetime.now(dt.UTC).date()
    if service.hook == "patient-view":
        read = readings.record(record, patient, day, _read)
        return _assessment_cards(read) if read.relevant(relevant) else ([], None)
    read_drafts = []
    for number, draft in enumerate(drafts):
        # The reader reads active medications only: a draft is read as if already active.
        copied = copy.deepcopy(draft)
        copied.setdefault("id", f"draft-{number}")
        if copied["resourceType"] == "MedicationRequest":
            copied["status"] = "active"
            copied.setdefault("subject", {"reference": f"Patient/{patient}"})
        read_drafts.append(copied)
    read = readings.record(record + read_drafts, patient, day, _read)
    reading = read.reading
    references = [f"{d['resourceType']}/{d.get('id')}" for d in read_drafts]
    by_reference = {f"{r['resourceType']}/{r.get('id')}": r for r in record}
    cards = _orders.electrolyte_cards(reading, references, by_reference)
    urgency = None
    if any(_orders.is_twitching_referral(d) for d in drafts):
        assessed, urgency = _assessment_cards(read)
        cards += assessed
    return cards, urgency

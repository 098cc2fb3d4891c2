"""An assessment as FHIR R4: a RiskAssessment and, when a referral is advised, a ServiceRequest.

Following the HL7 CPG IG, the referral is a ServiceRequest with ``intent = proposal`` for the
clinician to accept or not, coded SNOMED CT 3457005 |Patient referral|; its ``reasonReference``
cites the patient's Conditions and Observations that fired the rules, and its ``supportingInfo``
the RiskAssessment and those resources (R4 does not allow a RiskAssessment as a reason). The
Bundle is a ``transaction`` that an EHR can POST as it is (see :mod:`fasciculate.fhir._writeback`
for identifiers and references). Only fasciculate's own code systems, that SNOMED CT concept and
ICD-10-CM codes checked in the tests are written.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fasciculate._assessment import Assessment, EvidenceItem
from fasciculate._vocab import Urgency
from fasciculate.fhir._codes import ICD10CM, code_maps
from fasciculate.fhir._questionnaire import BASE
from fasciculate.fhir._report import BundleReading
from fasciculate.fhir._writeback import Call, call, typed

URGENCY_SYSTEM = f"{BASE}/CodeSystem/urgency"
RULE_SYSTEM = f"{BASE}/CodeSystem/referral-rule"
CATEGORY_SYSTEM = f"{BASE}/CodeSystem/category"
HOME = "https://fasciculate.readthedocs.io"

#: ServiceRequest.priority for each urgency (docs/howto/fhir.md); self-care refers nobody.
PRIORITY = {Urgency.ROUTINE: "routine", Urgency.URGENT: "urgent", Urgency.EMERGENCY: "stat"}
REFERRAL = {
    Urgency.ROUTINE: "Clinical review within weeks (primary care)",
    Urgency.URGENT: "Specialist (neurology or spinal) assessment within about 2 weeks",
    Urgency.EMERGENCY: "Same-day immediate hospital assessment",
}
#: ICD-10-CM R25.3 "Fasciculation" (includes twitching NOS), checked with simple-icd-10-cm.
REASON = {"system": ICD10CM, "code": "R25.3", "display": "Fasciculation"}
#: The evidence types ServiceRequest.reasonReference allows (R4) that a bundle reading cites.
_REASON_TYPES = {"Observation", "Condition"}


def _urgency(urgency: Urgency) -> dict[str, Any]:
    return {
        "coding": [
            {"system": URGENCY_SYSTEM, "code": str(urgency), "display": urgency.replace("_", " ")}
        ],
        "text": urgency.replace("_", " "),
    }


def _evidence(item: EvidenceItem) -> str:
    return item.label if item.holds else f"{item.label} (absent)"


def predictions(assessment: Assessment) -> list[dict[str, Any]]:
    """``RiskAssessment.prediction``: the urgency, then each differential category, ranked.

    A category's probability is relative (the five sum to 1) and not calibrated; its rationale
    names the supporting and conflicting evidence and whether it must not be missed.
    """
    found: list[dict[str, Any]] = [
        {"outcome": _urgency(assessment.urgency), "rationale": assessment.summary}
    ]
    for category in assessment.differential:
        supporting = ", ".join(map(_evidence, category.supporting)) or "none"
        conflicting = ", ".join(map(_evidence, category.conflicting)) or "none"
        flag = "Must not miss. " if category.must_not_miss else ""
        found.append(
            {
                "outcome": {
                    "coding": [
                        {
                            "system": CATEGORY_SYSTEM,
                            "code": str(category.category),
                            "display": category.label,
                        }
                    ],
                    "text": category.label,
                },
                "probabilityDecimal": round(category.probability, 4),
                "rationale": f"{flag}Rank {category.rank} (relative probability, not "
                f"calibrated). Supporting: {supporting}. Conflicting: {conflicting}.",
            }
        )
    return found


def _rule_note(assessment: Assessment) -> list[dict[str, str]]:
    sources = {source.id: source for source in assessment.sources}
    notes = []
    for rule in assessment.rules_fired:
        source = sources[rule.source]
        facts = "; ".join(f"{fact.label}: {fact.value} ({fact.input})" for fact in rule.facts)
        cite = f"{source.title}, {source.publisher}, {source.year}"
        notes.append(
            {
                "text": f"{rule.id} [{rule.urgency}] {rule.title}. {rule.rationale} "
                f"Facts: {facts or 'none'}. Source: {cite}."
            }
        )
    return notes


def evidence_references(
    assessment: Assessment, evidence: Mapping[str, Sequence[str]] | None
) -> list[str]:
    """The patient resources behind the fired rules' facts, in order, without repeats."""
    if not evidence:
        return []
    found: dict[str, None] = {}
    for rule in assessment.rules_fired:
        for fact in rule.facts:
            for field in fact.input.split(","):  # a computed value names each of its inputs
                for reference in evidence.get(field, ()):
                    found.setdefault(reference, None)
    return list(found)


def risk_assessment(assessment: Assessment, writing: Call) -> dict[str, Any]:
    """The RiskAssessment: urgency as the prediction, fired rules as basis and notes."""
    kb = assessment.knowledge_base
    resource: dict[str, Any] = {
        "resourceType": "RiskAssessment",
        "id": writing.new_id(),
        "status": "final",
        "method": {
            "text": f"fasciculate referral rule table, knowledge base {kb.version} "
            f"(sha256 {kb.sha256})"
        },
        "code": {"text": "Referral urgency for muscle twitching (fasciculation)"},
        "subject": writing.subject_reference(),
        "occurrenceDateTime": writing.at,
        "basis": [
            {"identifier": {"system": RULE_SYSTEM, "value": rule.id}, "display": rule.title}
            for rule in assessment.rules_fired
        ],
        "prediction": predictions(assessment),
        "note": _rule_note(assessment),
    }
    if not resource["basis"]:
        del resource["basis"]
    if not resource["note"]:
        del resource["note"]
    return resource


def _code(assessment: Assessment) -> dict[str, Any]:
    referral = code_maps().referral
    coding = (
        []
        if referral is None
        else [{"system": referral.system, "code": referral.code, "display": referral.display}]
    )
    return {"coding": coding, "text": REFERRAL[assessment.urgency]}


def service_request(
    assessment: Assessment, writing: Call, *, risk_assessment_url: str | None = None
) -> dict[str, Any] | None:
    """The proposed referral, or ``None`` when the urgency is self-care.

    Its reasons and supporting information are the patient's resources behind the fired rules
    that resolve on the EHR's server; the others are counted in a note.
    """
    if assessment.urgency is Urgency.SELF_CARE:
        return None
    references = evidence_references(assessment, writing.evidence)
    resolved = [(found, writing.kind(ref)) for ref in references if (found := writing.resolve(ref))]
    unresolved = len(references) - len(resolved)
    cited = list(dict.fromkeys(resolved))  # two copies of one server resource are cited once
    supporting = [typed(target, kind) for target, kind in cited]
    if risk_assessment_url:
        supporting.insert(0, {"reference": risk_assessment_url, "type": "RiskAssessment"})
    note = (
        f"Proposed by fasciculate {assessment.fasciculate_version}: decision support for a "
        "healthcare professional, not a diagnosis."
    )
    if unresolved:
        note += (
            f" {unresolved} resources of the input bundle behind this proposal had no server id "
            "and are not referenced."
        )
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": writing.new_id(),
        "status": "draft",
        "intent": "proposal",
        "priority": PRIORITY[assessment.urgency],
        "code": _code(assessment),
        "subject": writing.subject_reference(),
        "authoredOn": writing.at,
        "reasonCode": [{"coding": [REASON], "text": assessment.summary}],
        "note": [{"text": note}],
    }
    reasons = [typed(target, kind) for target, kind in cited if kind in _REASON_TYPES]
    if reasons:
        resource["reasonReference"] = reasons
    if supporting:
        resource["supportingInfo"] = supporting
    return resource


def _entry(resource: dict[str, Any]) -> dict[str, Any]:
    return {
        "fullUrl": f"urn:uuid:{resource['id']}",
        "resource": resource,
        "request": {"method": "POST", "url": resource["resourceType"]},
    }


def assessment_to_fhir(  # noqa: PLR0913 - keyword-only options of one output
    assessment: Assessment,
    *,
    reading: BundleReading | None = None,
    subject: str | None = None,
    evidence: Mapping[str, Sequence[str]] | None = None,
    reference_types: Mapping[str, str] | None = None,
    ids: Callable[[], uuid.UUID | str] | None = None,
    at: dt.datetime | None = None,
) -> dict[str, Any]:
    """The assessment as a FHIR R4 transaction Bundle, to POST to the EHR as it is.

    Args:
        assessment: The result of :func:`fasciculate.assess`.
        reading: The :class:`~fasciculate.fhir.BundleReading` the assessment came from: it gives
            the patient, the evidence and the server id of each resource, so that references
            resolve on the EHR's server (``Patient/123``).
        subject: A reference to the Patient, instead of the reading's; without either (or when
            it is a ``urn:uuid:`` with no server id) the resources name "the assessed patient".
        evidence: The patient resources each presentation field came from, instead of the
            reading's; cited as the ServiceRequest's reasons and supporting information.
        reference_types: The resource type behind references that do not show it, added to the
            reading's.
        ids: Makes each new identifier (default :func:`uuid.uuid4`), in this order: the
            RiskAssessment, the ServiceRequest, the Bundle. Pass a seeded factory to reproduce
            an output exactly.
        at: The time of the assessment, written as ``occurrenceDateTime`` and ``authoredOn``
            (default: now); a timezone-aware datetime.

    Returns:
        A ``transaction`` Bundle whose entries POST a RiskAssessment and, unless the urgency is
        self-care, a ServiceRequest (intent proposal, priority routine / urgent / stat). Every
        call has new identifiers; apart from them and *at*, the same arguments always give the
        same Bundle.

    Raises:
        ValueError: If *at* has no time zone, or *ids* does not make UUIDs.
    """
    writing = call(
        reading=reading,
        subject=subject,
        evidence=evidence,
        reference_types=reference_types,
        ids=ids,
        at=at,
    )
    risk = risk_assessment(assessment, writing)
    entries = [_entry(risk)]
    request = service_request(assessment, writing, risk_assessment_url=entries[0]["fullUrl"])
    if request is not None:
        entries.append(_entry(request))
    return {
        "resourceType": "Bundle",
        "id": writing.new_id(),
        "type": "transaction",
        "entry": entries,
    }

"""An assessment as FHIR R4: a RiskAssessment and, when a referral is advised, a ServiceRequest.

Following the HL7 CPG IG, the referral is a ServiceRequest with ``intent = proposal`` for the
clinician to accept or not; its ``supportingInfo`` points at the RiskAssessment and at the
patient's own resources that fired the rules (when the caller passes the reading's evidence).
Only fasciculate's own code systems and ICD-10-CM codes checked in the tests are written.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from fasciculate._assessment import Assessment, EvidenceItem
from fasciculate._vocab import Urgency
from fasciculate.fhir._codes import ICD10CM
from fasciculate.fhir._questionnaire import BASE

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


def _typed(reference: str, types: Mapping[str, str]) -> dict[str, str]:
    kind = types.get(reference) or reference_type(reference)
    return {"reference": reference, "type": kind} if kind else {"reference": reference}


def _id(assessment: Assessment, kind: str) -> str:
    digest = hashlib.sha256(assessment.model_dump_json().encode() + kind.encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


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


def risk_assessment(assessment: Assessment, *, subject: str | None = None) -> dict[str, Any]:
    """The RiskAssessment: urgency as the prediction, fired rules as basis and notes."""
    kb = assessment.knowledge_base
    resource: dict[str, Any] = {
        "resourceType": "RiskAssessment",
        "id": _id(assessment, "RiskAssessment"),
        "status": "final",
        "method": {
            "text": f"fasciculate referral rule table, knowledge base {kb.version} "
            f"(sha256 {kb.sha256})"
        },
        "code": {"text": "Referral urgency for muscle twitching (fasciculation)"},
        "subject": _subject(subject),
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


def _subject(subject: str | None) -> dict[str, str]:
    return {"reference": subject} if subject else {"display": "the assessed patient"}


def service_request(
    assessment: Assessment,
    *,
    subject: str | None = None,
    risk_assessment_reference: str | None = None,
    evidence: Mapping[str, Sequence[str]] | None = None,
    reference_types: Mapping[str, str] | None = None,
) -> dict[str, Any] | None:
    """The proposed referral, or ``None`` when the urgency is self-care.

    *reference_types* (``BundleReading.reference_types``) gives the resource type of references
    that do not show it, such as ``urn:uuid:`` ones inside a transaction bundle.
    """
    if assessment.urgency is Urgency.SELF_CARE:
        return None
    types = reference_types or {}
    references = evidence_references(assessment, evidence)
    reasons = [
        {"reference": r, "type": kind}
        for r in references
        if (kind := types.get(r) or reference_type(r)) in _REASON_TYPES
    ]
    supporting = [_typed(ref, types) for ref in references]
    if risk_assessment_reference:
        supporting.insert(0, {"reference": risk_assessment_reference, "type": "RiskAssessment"})
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": _id(assessment, "ServiceRequest"),
        "status": "draft",
        "intent": "proposal",
        "priority": PRIORITY[assessment.urgency],
        "code": {"text": REFERRAL[assessment.urgency]},
        "subject": _subject(subject),
        "reasonCode": [{"coding": [REASON], "text": assessment.summary}],
        "note": [
            {
                "text": f"Proposed by fasciculate {assessment.fasciculate_version}: decision "
                "support for a healthcare professional, not a diagnosis."
            }
        ],
    }
    if reasons:
        resource["reasonReference"] = reasons
    if supporting:
        resource["supportingInfo"] = supporting
    return resource


def assessment_to_fhir(
    assessment: Assessment,
    *,
    subject: str | None = None,
    evidence: Mapping[str, Sequence[str]] | None = None,
    reference_types: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The assessment as a FHIR R4 Bundle (type collection).

    Args:
        assessment: The result of :func:`fasciculate.assess`.
        subject: A reference to the Patient (``BundleReading.subject``); without it the resources
            name "the assessed patient".
        evidence: ``BundleReading.evidence``: the patient resources each presentation field came
            from, cited as the ServiceRequest's reason and supporting information.
        reference_types: ``BundleReading.reference_types``: the resource type behind each
            reference, so that ``urn:uuid:`` references can be typed and cited as reasons.

    Returns:
        A Bundle holding a RiskAssessment and, unless the urgency is self-care, a ServiceRequest
        (intent proposal, priority routine / urgent / stat). Identifiers are derived from the
        assessment, so the same assessment always gives the same Bundle.
    """
    risk = risk_assessment(assessment, subject=subject)
    risk_url = f"urn:uuid:{risk['id']}"
    entries = [{"fullUrl": risk_url, "resource": risk}]
    request = service_request(
        assessment,
        subject=subject,
        risk_assessment_reference=risk_url,
        evidence=evidence,
        reference_types=reference_types,
    )
    if request is not None:
        entries.append({"fullUrl": f"urn:uuid:{request['id']}", "resource": request})
    return {
        "resourceType": "Bundle",
        "id": _id(assessment, "Bundle"),
        "type": "collection",
        "entry": entries,
    }

"""The rule table as a CPG-on-FHIR knowledge artifact: PlanDefinition, ActivityDefinition, Library.

HL7 CPG-on-FHIR (computable guideline) and CRMI conventions: the ``PlanDefinition`` is an
``eca-rule`` with the ``computable`` knowledge capability, one action per referral urgency, each
listing its rules as sub-actions; every action's applicability condition names a ``define`` of the
CQL library (``text/cql-identifier``), every rule cites its source (``relatedArtifact``) and carries
its rationale. The ``Library`` holds the CQL text and its ELM JSON as base64 attachments; every
resource carries the knowledge base's version and SHA-256.
"""

from __future__ import annotations

import base64
import hashlib
from importlib import resources
from typing import Any

from fasciculate._errors import FasciculateError
from fasciculate._kb import KnowledgeBase, Rule
from fasciculate._kb_types import Source
from fasciculate._vocab import Urgency
from fasciculate.cpg._cql import LIBRARY, cql_library
from fasciculate.fhir._codes import code_maps
from fasciculate.fhir._output import PRIORITY

#: The canonical base of fasciculate's FHIR artifacts (as the questionnaire's).
BASE = "https://fasciculate.readthedocs.io/fhir"
#: The identifier system of a knowledge base's SHA-256 (of its TOML files, as assessments report).
SHA256_SYSTEM = f"{BASE}/knowledge-base-sha256"
_CPG = "http://hl7.org/fhir/uv/cpg/StructureDefinition"
_CAPABILITY = f"{_CPG}/cpg-knowledgeCapability"
#: The files the artifact's CQL and ELM are committed as (``make cpg`` writes them).
CQL_FILE = f"{LIBRARY}.cql"
ELM_FILE = f"{LIBRARY}.json"
_ACTIVITY = "fasciculate-referral"


class StaleElm(FasciculateError):
    """The committed ELM was not compiled from the CQL the knowledge base gives now."""


def committed(name: str) -> str:
    """The committed file *name* of this package (:data:`CQL_FILE` or :data:`ELM_FILE`)."""
    return resources.files("fasciculate.cpg").joinpath(name).read_text(encoding="utf-8")


def _attachment(content_type: str, text: str, title: str) -> dict[str, Any]:
    data = text.encode()
    return {
        "contentType": content_type,
        "title": title,
        "data": base64.b64encode(data).decode("ascii"),
        # FHIR R4 Attachment.hash: the base64 SHA-1 of the data.
        "hash": base64.b64encode(hashlib.sha1(data).digest()).decode("ascii"),  # noqa: S324
    }


def _metadata(kb: KnowledgeBase, kind: str, name: str) -> dict[str, Any]:
    return {
        "resourceType": kind,
        "id": name,
        "meta": {"profile": [f"{_CPG}/cpg-computable{kind.lower()}"]},
        "extension": [{"url": _CAPABILITY, "valueCode": "computable"}],
        "url": f"{BASE}/{kind}/{name}",
        "identifier": [{"system": SHA256_SYSTEM, "value": kb.sha256}],
        "version": kb.version,
        "status": "active",
        "experimental": False,
        "publisher": "fasciculate",
    }


def _citation(source: Source) -> dict[str, Any]:
    estimate = " Expert estimate: no published source sets this." if source.expert_estimate else ""
    citation = {
        "type": "citation",
        "label": source.id,
        "display": source.title,
        "citation": f"{source.publisher} ({source.year}). {source.title}.{estimate}",
    }
    if source.url:
        citation["url"] = source.url
    return citation


def _condition(define: str) -> list[dict[str, Any]]:
    expression = {
        "language": "text/cql-identifier",
        "expression": define,
        "reference": f"{BASE}/Library/{LIBRARY}",
    }
    return [{"kind": "applicability", "expression": expression}]


def _rule_action(kb: KnowledgeBase, rule: Rule, define: str) -> dict[str, Any]:
    return {
        "id": rule.id,
        "title": rule.title,
        "description": rule.rationale,
        "textEquivalent": f"{rule.id} ({rule.urgency}): {rule.when or 'an unanswered question'}",
        "documentation": [_citation(kb.sources[rule.source])],
        "condition": _condition(define),
    }


def _urgency_action(kb: KnowledgeBase, urgency: Urgency) -> dict[str, Any]:
    rules = [
        _rule_action(kb, rule, f"Rule {rule.id}") for rule in kb.rules if rule.urgency is urgency
    ]
    screen = kb.screen_incomplete
    if screen.urgency is urgency:
        rules.append(_rule_action(kb, screen, "Screen Open"))
    title = urgency.value.title()
    return {
        "id": f"refer-{urgency}",
        "title": f"Refer: {urgency}",
        "description": (
            f"The referral urgency is {urgency}: the highest urgency of the rules that fire"
            + (", or the screen is incomplete" if screen.urgency is urgency else "")
            + ". The sub-actions are this urgency's rules, each with its source."
        ),
        "priority": PRIORITY[urgency],
        "condition": _condition(f"Is {title}"),
        "definitionCanonical": f"{BASE}/ActivityDefinition/{_ACTIVITY}|{kb.version}",
        "selectionBehavior": "all",
        "action": rules,
    }


def plan_definition(kb: KnowledgeBase) -> dict[str, Any]:
    """The ``eca-rule`` PlanDefinition: one action per referral urgency, its rules within."""
    cited = dict.fromkeys(rule.source for rule in (*kb.rules, kb.screen_incomplete))
    ranked = sorted((u for u in Urgency if u.rank > 0), key=lambda u: -u.rank)
    return {
        **_metadata(kb, "PlanDefinition", LIBRARY),
        "name": LIBRARY,
        "title": "fasciculate referral rules for muscle twitching around the knee",
        "type": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/plan-definition-type",
                    "code": "eca-rule",
                }
            ]
        },
        "description": (
            "The referral urgency (self-care, routine, urgent, emergency) of a patient with muscle "
            "twitching (fasciculation), from fasciculate's cited rule table evaluated in Kleene "
            "three-valued logic. With no action applicable the urgency is self-care."
        ),
        "purpose": "Clinical decision support for healthcare professionals; not a diagnosis.",
        "relatedArtifact": [_citation(kb.sources[source]) for source in cited],
        "library": [f"{BASE}/Library/{LIBRARY}|{kb.version}"],
        "action": [_urgency_action(kb, urgency) for urgency in ranked],
    }


def activity_definition(kb: KnowledgeBase) -> dict[str, Any]:
    """The referral the PlanDefinition proposes: a ServiceRequest (its priority is the action's)."""
    referral = code_maps().referral
    code: dict[str, Any] = {"text": "Referral for clinical review"}
    if referral is not None:
        code["coding"] = [
            {"system": referral.system, "code": referral.code, "display": referral.display}
        ]
    resource = _metadata(kb, "ActivityDefinition", _ACTIVITY)
    resource["meta"] = {"profile": [f"{_CPG}/cpg-servicerequestactivity"]}
    return {
        **resource,
        "name": "FasciculateReferral",
        "title": "Referral for clinical review of muscle twitching",
        "description": "Refer the patient for clinical review at the urgency of the action.",
        "kind": "ServiceRequest",
        "intent": "proposal",
        "code": code,
    }


def library(kb: KnowledgeBase, cql: str, elm: str) -> dict[str, Any]:
    """The logic Library: the CQL text and its ELM JSON, both base64."""
    return {
        **_metadata(kb, "Library", LIBRARY),
        "name": LIBRARY,
        "title": "fasciculate referral logic (CQL over FHIR R4)",
        "type": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/library-type",
                    "code": "logic-library",
                }
            ]
        },
        "description": (
            "Generated from the rule table: null is unknown, and / or are Kleene's. Reads FHIR "
            "R4 Observations, Conditions and MedicationRequests with fasciculate's code maps."
        ),
        "relatedArtifact": [
            {
                "type": "depends-on",
                "display": "FHIR model information",
                "resource": "http://fhir.org/guides/cqf/common/Library/FHIR-ModelInfo|4.0.1",
            }
        ],
        "dataRequirement": [
            {"type": kind} for kind in ("Patient", "Observation", "Condition", "MedicationRequest")
        ],
        "content": [
            _attachment("text/cql", cql, CQL_FILE),
            _attachment("application/elm+json", elm, ELM_FILE),
        ],
    }


def cpg_bundle(kb: KnowledgeBase) -> dict[str, Any]:
    """The knowledge artifact of *kb*: a Bundle (collection) of PlanDefinition, Library, ...

    Raises:
        StaleElm: When the committed ELM was compiled from other CQL than *kb* gives (the
            knowledge base changed without ``make cpg``, or *kb* is not the packaged one).
    """
    cql = cql_library(kb)
    if cql != committed(CQL_FILE):
        msg = (
            "the committed ELM was compiled from other CQL than this knowledge base gives: "
            "run `make cpg` to regenerate src/fasciculate/cpg/FasciculateReferral.{cql,json}"
        )
        raise StaleElm(msg)
    resources_ = [
        plan_definition(kb),
        activity_definition(kb),
        library(kb, cql, committed(ELM_FILE)),
    ]
    return {
        "resourceType": "Bundle",
        "id": f"fasciculate-cpg-{kb.version}",
        "meta": {"tag": [{"system": SHA256_SYSTEM, "code": kb.sha256}]},
        "identifier": {"system": SHA256_SYSTEM, "value": kb.sha256},
        "type": "collection",
        "entry": [{"fullUrl": resource["url"], "resource": resource} for resource in resources_],
    }

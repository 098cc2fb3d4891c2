"""fasciculate's own code systems as FHIR R4 CodeSystem and ValueSet resources.

Every code fasciculate writes in its own systems is defined here, from the same tables the
outputs use: the urgencies, the referral rules (RiskAssessment.basis), the differential categories
(RiskAssessment.prediction), the findings of the knowledge base, and the answer codes of the intake
Questionnaire. Each CodeSystem has a ValueSet of all its codes. An EHR or terminology server loads
them once (``fasciculate terminology``) so that the codes in outputs validate and display.
"""

from __future__ import annotations

from typing import Any

from fasciculate import __version__
from fasciculate._kb import knowledge_base
from fasciculate._vocab import Urgency
from fasciculate.fhir._items import BASE, item_specs
from fasciculate.fhir._output import CATEGORY_SYSTEM, REFERRAL, RULE_SYSTEM, URGENCY_SYSTEM

PUBLISHER = "fasciculate"
_SELF_CARE = "Reassurance and self-care advice, with a safety net of red flags to come back for"


def _concept(code: str, display: str, definition: str | None = None) -> dict[str, str]:
    concept = {"code": code, "display": display}
    if definition:
        concept["definition"] = definition
    return concept


def _systems() -> dict[str, tuple[str, list[dict[str, str]]]]:
    """Each system's URL: its title and concepts."""
    kb = knowledge_base()
    wording = {Urgency.SELF_CARE: _SELF_CARE, **REFERRAL}
    systems = {
        URGENCY_SYSTEM: (
            "Referral urgency",
            [_concept(str(u), u.replace("_", " "), wording[u]) for u in Urgency],
        ),
        RULE_SYSTEM: (
            "Referral rule",
            [
                _concept(rule.id, rule.title, f"{rule.rationale} (raises to {rule.urgency})")
                for rule in (*kb.rules, kb.screen_incomplete)
            ],
        ),
        CATEGORY_SYSTEM: (
            "Differential category",
            [_concept(str(key), info.label) for key, info in kb.categories.items()],
        ),
        f"{BASE}/CodeSystem/finding": (
            "Finding",
            [
                _concept(key, fact.label, fact.question)
                for key, fact in kb.facts.items()
                if fact.kind == "finding"
            ],
        ),
    }
    # The questionnaire's own answer lists (its choices), each option in its own system.
    answers: dict[str, dict[str, str]] = {}
    for spec in item_specs().values():
        for option in spec.options:
            if option.system.startswith(f"{BASE}/") and option.system not in systems:
                answers.setdefault(option.system, {}).setdefault(option.code, option.display)
    for system, options in answers.items():
        name = system.rsplit("/", 1)[-1].replace("-", " ").capitalize()
        systems[system] = (name, [_concept(code, display) for code, display in options.items()])
    return systems


def _name(url: str) -> str:
    return "".join(part.capitalize() for part in url.rsplit("/", 1)[-1].split("-"))


def code_systems() -> list[dict[str, Any]]:
    """Every code system fasciculate writes, as R4 CodeSystem resources (content complete)."""
    version = knowledge_base().version
    found = []
    for url, (title, concepts) in _systems().items():
        slug = url.rsplit("/", 1)[-1]
        found.append(
            {
                "resourceType": "CodeSystem",
                "id": slug,
                "url": url,
                "version": version,
                "name": f"Fasciculate{_name(url)}",
                "title": f"fasciculate: {title}",
                "status": "active",
                "experimental": False,
                "publisher": PUBLISHER,
                "description": f"{title} codes of fasciculate {__version__} (knowledge base "
                f"{version}): decision support for muscle twitching around the knee.",
                "caseSensitive": True,
                "valueSet": f"{BASE}/ValueSet/{slug}",
                "content": "complete",
                "count": len(concepts),
                "concept": concepts,
            }
        )
    return found


def value_sets() -> list[dict[str, Any]]:
    """One R4 ValueSet per code system: all of its codes."""
    return [
        {
            "resourceType": "ValueSet",
            "id": system["id"],
            "url": system["valueSet"],
            "version": system["version"],
            "name": system["name"],
            "title": system["title"],
            "status": "active",
            "experimental": False,
            "publisher": PUBLISHER,
            "description": f"All codes of {system['url']}.",
            "compose": {"include": [{"system": system["url"], "version": system["version"]}]},
        }
        for system in code_systems()
    ]


def terminology() -> dict[str, Any]:
    """The CodeSystems and ValueSets of fasciculate in one R4 Bundle (type collection).

    The CodeSystems come first, then their ValueSets; each entry's ``fullUrl`` is the resource's
    canonical URL. ``fasciculate terminology`` prints the same Bundle.
    """
    resources = [*code_systems(), *value_sets()]
    return {
        "resourceType": "Bundle",
        "id": f"fasciculate-terminology-{knowledge_base().version}",
        "type": "collection",
        "entry": [{"fullUrl": resource["url"], "resource": resource} for resource in resources],
    }

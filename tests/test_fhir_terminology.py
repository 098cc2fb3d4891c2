"""fasciculate's own code systems published as CodeSystem and ValueSet resources (issue 15, item 8).

Every code an output writes in one of fasciculate's systems must be defined by the CodeSystem
published for it, so that an EHR's terminology server can validate and display it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.codesystem import CodeSystem
from fhir.resources.R4B.valueset import ValueSet
from hypothesis import given, settings

import fasciculate
from _builders import negative
from conftest import EXAMPLES
from fasciculate import Urgency, knowledge_base
from fasciculate.fhir import (
    assessment_to_cards,
    assessment_to_fhir,
    questionnaire,
    questionnaire_response,
    read_bundle,
    terminology,
)
from fasciculate.testing import presentations

OURS = "https://fasciculate.readthedocs.io/fhir/CodeSystem/"


def _published() -> dict[str, set[str]]:
    return {
        entry["resource"]["url"]: {c["code"] for c in entry["resource"]["concept"]}
        for entry in terminology()["entry"]
        if entry["resource"]["resourceType"] == "CodeSystem"
    }


def _ours(value: object, found: dict[str, set[str]]) -> dict[str, set[str]]:
    """Every (system, code) of fasciculate's systems in *value*: codings, identifiers, options."""
    if isinstance(value, dict):
        system = value.get("system")
        if isinstance(system, str) and system.startswith(OURS):
            code = value.get("code", value.get("value"))
            if isinstance(code, str):
                found[system].add(code)
        for item in value.values():
            _ours(item, found)
    elif isinstance(value, list):
        for item in value:
            _ours(item, found)
    return found


def _undefined(*outputs: object) -> dict[str, set[str]]:
    published = _published()
    used = defaultdict(set)
    for output in outputs:
        _ours(output, used)
    return {
        system: codes - published.get(system, set())
        for system, codes in used.items()
        if codes - published.get(system, set())
    }


def test_every_resource_is_valid_r4_and_each_system_has_its_value_set():
    """The Bundle, each CodeSystem (content complete, count right) and ValueSet validate."""
    bundle = terminology()
    Bundle.model_validate(bundle)
    systems = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "CodeSystem"
    ]
    sets = {e["resource"]["url"]: e["resource"] for e in bundle["entry"][len(systems) :]}
    for system in systems:
        CodeSystem.model_validate(system)
        assert (
            system["count"] == len(system["concept"]) == len({c["code"] for c in system["concept"]})
        )
        value_set = ValueSet.model_validate(sets[system["valueSet"]])
        assert system["url"] == value_set.compose.include[0].system
    assert len(sets) == len(systems)
    assert len({e["fullUrl"] for e in bundle["entry"]}) == len(bundle["entry"])


def test_the_published_codes_are_the_knowledge_bases():
    """Urgencies, every rule (SCREEN-INCOMPLETE too), categories and findings are published."""
    published = _published()
    kb = knowledge_base()
    assert {str(u) for u in Urgency} == published[f"{OURS}urgency"]
    assert {r.id for r in (*kb.rules, kb.screen_incomplete)} == published[f"{OURS}referral-rule"]
    assert {str(c) for c in kb.categories} == published[f"{OURS}category"]
    findings = {key for key, fact in kb.facts.items() if fact.kind == "finding"}
    assert findings == published[f"{OURS}finding"]


def test_every_code_of_the_questionnaire_and_example_outputs_is_published():
    """Codes in the Questionnaire, a response and each example's outputs are all defined."""
    outputs: list[object] = [questionnaire(), questionnaire_response(negative())]
    for path in sorted((EXAMPLES / "fhir").glob("*.json")):
        reading = read_bundle(path.read_bytes())
        assessment = fasciculate.assess(reading.presentation)
        outputs += [
            assessment_to_fhir(assessment, reading=reading),
            assessment_to_cards(assessment),
        ]
    used = defaultdict(set)
    for output in outputs:
        _ours(output, used)
    assert {f"{OURS}urgency", f"{OURS}referral-rule", f"{OURS}category"} <= set(used)
    assert {} == _undefined(*outputs)


@settings(max_examples=40)
@given(presentations())
def test_any_assessment_writes_only_published_codes(presentation):
    """Whatever the presentation, its FHIR output and its response use only published codes."""
    assessment = fasciculate.assess(presentation)
    assert {} == _undefined(assessment_to_fhir(assessment), questionnaire_response(presentation))


def test_the_command_line_prints_the_terminology_bundle():
    """`fasciculate terminology` in a process prints the same Bundle."""
    done = subprocess.run(
        [sys.executable, "-m", "fasciculate", "terminology"],
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert (0, b"") == (done.returncode, done.stderr)
    assert terminology() == json.loads(done.stdout)


@pytest.mark.parametrize("kind", ["CodeSystem", "ValueSet"])
def test_versions_follow_the_knowledge_base(kind):
    """Each resource carries the knowledge base's version, so a change of codes is visible."""
    version = knowledge_base().version
    resources = [
        e["resource"] for e in terminology()["entry"] if e["resource"]["resourceType"] == kind
    ]
    assert {version} == {resource["version"] for resource in resources}

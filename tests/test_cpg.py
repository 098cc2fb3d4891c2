"""The rule table as a computable guideline: the CPG Bundle, its CQL and ELM, kept current."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.activitydefinition import ActivityDefinition
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.library import Library
from fhir.resources.R4B.plandefinition import PlanDefinition

from _node import ROOT, translate
from fasciculate import knowledge_base
from fasciculate.cpg import CQL_FILE, ELM_FILE, committed, cpg_bundle, cql_library, unread

PACKAGE = ROOT / "src" / "fasciculate" / "cpg"
DOCS = ROOT / "docs" / "explanation" / "computable-guideline.md"
KB = knowledge_base()


@pytest.fixture(scope="module")
def bundle() -> dict[str, Any]:
    return cpg_bundle(KB)


def _resource(bundle: dict[str, Any], kind: str) -> dict[str, Any]:
    (found,) = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]
    return found


def _defines() -> set[str]:
    elm = json.loads(committed(ELM_FILE))
    return {statement["name"] for statement in elm["library"]["statements"]["def"]}


def test_the_bundle_and_each_resource_validate_as_fhir_r4(bundle: dict[str, Any]) -> None:
    Bundle.model_validate(bundle)
    PlanDefinition.model_validate(_resource(bundle, "PlanDefinition"))
    ActivityDefinition.model_validate(_resource(bundle, "ActivityDefinition"))
    Library.model_validate(_resource(bundle, "Library"))


def test_every_resource_carries_the_knowledge_base_version_and_sha256(
    bundle: dict[str, Any],
) -> None:
    for entry in bundle["entry"]:
        resource = entry["resource"]
        assert resource["version"] == KB.version
        assert [i["value"] for i in resource["identifier"]] == [KB.sha256]
        assert entry["fullUrl"] == resource["url"]
    assert bundle["identifier"]["value"] == KB.sha256


def test_the_plan_definition_is_a_computable_eca_rule(bundle: dict[str, Any]) -> None:
    plan = _resource(bundle, "PlanDefinition")
    assert plan["type"]["coding"][0]["code"] == "eca-rule"
    assert plan["extension"] == [
        {
            "url": "http://hl7.org/fhir/uv/cpg/StructureDefinition/cpg-knowledgeCapability",
            "valueCode": "computable",
        }
    ]
    library = _resource(bundle, "Library")
    assert plan["library"] == [f"{library['url']}|{KB.version}"]


def test_every_rule_is_an_action_citing_its_source_under_its_urgency(
    bundle: dict[str, Any],
) -> None:
    plan = _resource(bundle, "PlanDefinition")
    activity = _resource(bundle, "ActivityDefinition")
    seen = {}
    for action in plan["action"]:
        assert action["definitionCanonical"] == f"{activity['url']}|{KB.version}"
        for rule in action["action"]:
            seen[rule["id"]] = (action["id"], rule["documentation"][0]["label"], rule)
    for rule in (*KB.rules, KB.screen_incomplete):
        urgency_action, cited, action = seen.pop(rule.id)
        assert (urgency_action, cited) == (f"refer-{rule.urgency}", rule.source)
        assert action["description"] == rule.rationale
    assert seen == {}


def test_every_condition_names_a_define_of_the_compiled_library(bundle: dict[str, Any]) -> None:
    defines = _defines()
    plan = _resource(bundle, "PlanDefinition")
    named = [
        condition["expression"]
        for action in plan["action"]
        for item in (action, *action["action"])
        for condition in item["condition"]
    ]
    assert len(named) == len(plan["action"]) + len(KB.rules) + 1
    for expression in named:
        assert expression["language"] == "text/cql-identifier"
        assert expression["expression"] in defines, expression


def test_the_library_holds_the_committed_cql_and_elm(bundle: dict[str, Any]) -> None:
    content = {c["contentType"]: c for c in _resource(bundle, "Library")["content"]}
    cql = base64.b64decode(content["text/cql"]["data"]).decode()
    elm = base64.b64decode(content["application/elm+json"]["data"]).decode()
    assert (cql, elm) == (committed(CQL_FILE), committed(ELM_FILE))
    assert json.loads(elm)["library"]["identifier"] == {
        "id": "FasciculateReferral",
        "version": KB.version,
    }


def test_the_committed_cql_is_the_one_the_rule_table_gives_now() -> None:
    # Fails when the knowledge base changed without `make cpg`.
    assert cql_library(KB) == (PACKAGE / CQL_FILE).read_text(encoding="utf-8")


def test_the_committed_elm_is_the_translators_output_byte_for_byte() -> None:
    # Fails when the ELM is stale or was edited by hand: `make cpg` regenerates it.
    assert translate(PACKAGE / CQL_FILE) == (PACKAGE / ELM_FILE).read_bytes()


def test_every_rule_and_every_urgency_is_a_define() -> None:
    defines = _defines()
    for rule in KB.rules:
        assert {f"Rule {rule.id}", f"Focused Rule {rule.id}"} <= defines
    assert {"Urgency", "Screen Open", "Is Emergency", "Is Urgent", "Is Routine"} <= defines


def test_the_cql_reads_every_fact_and_quantity_the_referral_uses() -> None:
    # A fact with no FHIR channel would stay unknown in the CQL: the docs would have to name it.
    assert unread(KB) == ([], [])
    assert "What CQL carries differently" in DOCS.read_text(encoding="utf-8")


def _export(*options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fasciculate", "export", *options],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_export_prints_the_bundle(bundle: dict[str, Any]) -> None:
    done = _export("--format", "cpg")
    assert (done.returncode, done.stderr) == (0, "")
    assert json.loads(done.stdout) == bundle


def test_export_writes_the_bundle_cql_and_elm_into_a_directory(
    tmp_path: Path, bundle: dict[str, Any]
) -> None:
    target = tmp_path / "artifact"
    done = _export("--format", "cpg", "-o", str(target))
    assert (done.returncode, done.stdout) == (0, "")
    written = json.loads((target / f"fasciculate-cpg-{KB.version}.json").read_text())
    assert written == bundle
    assert (target / CQL_FILE).read_text() == committed(CQL_FILE)
    assert (target / ELM_FILE).read_text() == committed(ELM_FILE)


def test_export_into_an_unwritable_place_says_so(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    done = _export("--format", "cpg", "-o", str(blocker / "inside"))
    assert done.returncode == 1
    assert "cannot write into" in done.stderr
    assert "Traceback" not in done.stderr


def test_export_needs_a_format() -> None:
    done = _export()
    assert done.returncode == 2
    assert "--format" in done.stderr

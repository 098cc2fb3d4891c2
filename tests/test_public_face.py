"""The public face: version, knowledge base, text report, and where open questions are answered."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import attrs
import pytest
from hypothesis import given

import fasciculate
from _builders import negative
from conftest import EXAMPLES, ROOT
from fasciculate.testing import presentation_dicts, presentations

KB = fasciculate.knowledge_base()
CLI = [sys.executable, "-m", "fasciculate"]


def test_version_is_the_package_metadata_and_pyproject():
    """__version__, the installed metadata and every assessment agree; pyproject.toml reads it."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" in pyproject["project"]["dynamic"]
    assert "src/fasciculate/_version.py" == pyproject["tool"]["hatch"]["version"]["path"]
    assert metadata.version("fasciculate") == fasciculate.__version__
    assert fasciculate.__version__ == fasciculate.assess({}).fasciculate_version


def test_cli_version_names_the_package_and_the_knowledge_base_fingerprint():
    """`fasciculate --version` prints the package version, the KB version and its full SHA-256."""
    result = subprocess.run([*CLI, "--version"], capture_output=True, text=True, check=False)
    assert (0, "") == (result.returncode, result.stderr)
    assert [
        f"fasciculate {fasciculate.__version__}",
        f"knowledge base {KB.version} (sha256 {KB.sha256})",
    ] == result.stdout.splitlines()


def test_knowledge_base_is_the_one_every_assessment_names():
    """knowledge_base() is cached, and its version and SHA-256 are the assessments' stamp."""
    stamp = fasciculate.assess({}).knowledge_base
    assert fasciculate.knowledge_base() is KB
    assert (stamp.version, stamp.sha256) == (KB.version, KB.sha256)
    assert re.fullmatch(r"[0-9a-f]{64}", KB.sha256)
    assert isinstance(KB, fasciculate.KnowledgeBase)
    assert all(isinstance(rule, fasciculate.Rule) for rule in KB.rules)
    assert all(isinstance(fact, fasciculate.FactInfo) for fact in KB.facts.values())
    assert all(isinstance(source, fasciculate.Source) for source in KB.sources.values())


def test_knowledge_base_tables_name_what_assessments_cite():
    """Fired rules and cited sources of an assessment are found in the public tables."""
    result = fasciculate.assess(
        json.loads((EXAMPLES / "presentations" / "cauda-equina.json").read_text())
    )
    rules = {rule.id: rule for rule in KB.rules}
    for fired in result.rules_fired:
        assert (fired.urgency, fired.title, fired.source) == (
            rules[fired.id].urgency,
            rules[fired.id].title,
            rules[fired.id].source,
        )
    assert {source.id for source in result.sources} <= set(KB.sources)


@pytest.mark.parametrize(
    "table",
    [
        "sources",
        "thresholds",
        "labs",
        "facts",
        "quantities",
        "categories",
        "advice",
        "medication_names",
    ],
)
def test_knowledge_base_mappings_are_read_only(table: str):
    """No table of the shared knowledge base can be changed by a caller."""
    mapping = getattr(KB, table)
    key = next(iter(mapping))
    with pytest.raises(TypeError):
        mapping[key] = None
    with pytest.raises(TypeError):
        del mapping[key]


def test_knowledge_base_objects_are_frozen():
    """The knowledge base, its rules and its labs' unit tables are immutable."""
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        KB.version = "0"  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        KB.rules[0].urgency = fasciculate.Urgency.SELF_CARE  # type: ignore[misc]
    with pytest.raises(TypeError):
        KB.labs[fasciculate.Analyte.POTASSIUM].units["mmol/L"] = 2.0  # type: ignore[index]
    assert isinstance(KB.rules, tuple)
    assert isinstance(KB.derivations, tuple)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        KB.derivations[0].sets = "pain"  # type: ignore[misc]
    assert all(isinstance(item, fasciculate.Derivation) for item in KB.derivations)


@pytest.mark.parametrize(
    "path", sorted((EXAMPLES / "presentations").glob("*.json")), ids=lambda p: p.stem
)
def test_render_text_is_what_the_command_line_prints(path: Path):
    """render_text(assess(x)) is exactly the report `fasciculate assess x` prints."""
    result = subprocess.run([*CLI, "assess", str(path)], capture_output=True, text=True, check=True)
    report = fasciculate.render_text(fasciculate.assess(path.read_bytes()))
    assert result.stdout == report + "\n"


def test_notebooks_use_the_public_report_not_the_command_line():
    """The example notebooks call fasciculate.render_text, never fasciculate.cli.main."""
    sources = {
        path.name: "".join(
            "".join(cell["source"])
            for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]
        )
        for path in EXAMPLES.glob("*.ipynb")
    }
    assert [] == [name for name, text in sources.items() if "fasciculate.cli" in text]
    assert any("render_text(" in text for text in sources.values())


#: User-facing pages: tutorial, how-to guides, the API, CLI and knowledge-base references, README.
_USER_PAGES = [
    ROOT / "README.md",
    *sorted((ROOT / "docs" / "tutorial").glob("*.md")),
    *sorted((ROOT / "docs" / "howto").glob("*.md")),
    *sorted((ROOT / "docs" / "reference").glob("*.md")),
    *sorted(EXAMPLES.glob("*.ipynb")),
]


@pytest.mark.parametrize("page", _USER_PAGES, ids=lambda p: p.name)
def test_user_pages_point_to_no_private_module(page: Path):
    """No page a user reads tells them to use a private module (the errors tree is rendered)."""
    lines = page.read_text(encoding="utf-8").splitlines()
    private = [
        line
        for line in lines
        if re.search(r"fasciculate\._[a-z]", line) and "automodule::" not in line
    ]
    assert [] == private


def test_open_question_names_the_field_that_answers_it():
    """An open question carries its input path in the model, the JSON and the text report."""
    unasked = negative(
        examination={"anal_sphincter_laxity": "unknown"}, findings={"back_pain": "present"}
    )
    result = fasciculate.assess(unasked)
    (question,) = [q for q in result.missing if q.fact == "anal_sphincter_laxity"]
    assert ("examination.anal_sphincter_laxity",) == question.inputs
    data = json.loads(fasciculate.assess_json(json.dumps(unasked)))
    (raw,) = [q for q in data["missing"] if q["fact"] == "anal_sphincter_laxity"]
    assert ["examination.anal_sphincter_laxity"] == raw["inputs"]
    assert "answer in: examination.anal_sphincter_laxity" in fasciculate.render_text(result)


def test_an_open_question_set_by_several_fields_lists_them_all():
    """A fact several fields can answer lists each of them."""
    result = fasciculate.assess({})
    inputs = {question.fact: question.inputs for question in result.missing}
    assert ("examination.knee_reflex", "examination.ankle_reflex") == inputs["brisk_reflexes"]
    assert ("twitching.duration_days", "twitching.onset_date") == inputs["duration_days"]
    assert ("findings.tongue_twitching", "twitching.regions") == inputs["tongue_twitching"]
    assert all(question.inputs for question in result.missing)


#: A value that answers each kind of input field without making its fact present.
_ANSWERS = {
    "twitching.regions": ["knee"],
    "twitching.course": "stable",
    "twitching.side": "left",
    "twitching.duration_days": 3,
    "twitching.onset_date": "2026-01-01",
    "examination.strength": "normal",
    "examination.power": {movement.value: 5 for movement in fasciculate.Movement},
    "examination.knee_reflex": "normal",
    "examination.ankle_reflex": "normal",
    "exposures.stress": "low",
    "exposures.caffeine_mg_per_day": 0,
    "exposures.sleep_hours": 8,
    "patient.age": 40,
    "medications": [{"drug_class": "other"}],
}


def _answer(data: dict, path: str) -> None:
    """Answer the input field at the dotted *path* of a presentation's JSON data."""
    head, _, rest = path.partition(".")
    value = _ANSWERS.get(path, "absent")
    if not rest:
        data[head] = value
        return
    data.setdefault(head, {})[rest] = value
    if path == "twitching.onset_date":
        data["assessed_on"] = "2026-01-04"


@given(presentations() | presentations(complete=True))
def test_answering_the_inputs_of_an_open_question_closes_it(presentation):
    """Answering every input field an open question names takes that question off the list."""
    result = fasciculate.assess(presentation)
    for question in result.missing:
        data = presentation.model_dump(mode="json", exclude_none=True)
        for path in question.inputs:
            _answer(data, path)
        again = fasciculate.assess(data)
        assert question.fact not in {q.fact for q in again.missing}, question.inputs


@given(presentation_dicts())
def test_presentation_dicts_are_the_json_a_caller_sends(data):
    """Each dict is plain JSON, validates into a presentation and assesses like it, both ways."""
    assert data == json.loads(json.dumps(data))
    presentation = fasciculate.parse_presentation(data)
    assert data == presentation.model_dump(mode="json", exclude_defaults=True)
    typed = fasciculate.assess(presentation)
    assert typed == fasciculate.assess(data)
    assert json.loads(typed.model_dump_json()) == json.loads(
        fasciculate.assess_json(json.dumps(data))
    )

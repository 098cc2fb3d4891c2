"""Every knowledge-base id that Python names is checked when the knowledge base loads.

The registry is an internal table (``fasciculate._kb_names``), so the completeness test reads it
directly; the rename tests go through the public face only: a copy of the package whose tables
rename one id consistently, imported in a fresh interpreter.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib
from collections import defaultdict
from pathlib import Path

import attrs
import pytest

import fasciculate
from fasciculate._kb_names import NAMED, check_named

PACKAGE = Path(fasciculate.__file__).parent
KB_DIR = PACKAGE / "kb"
SECTIONS = set(fasciculate.Presentation.model_fields)

#: Literals equal to an id that are not references to it, with the reason.
NOT_REFERENCES = {
    ("fasciculate.fhir._records", "age"): "the Presentation field patient.age",
    ("fasciculate._vocab", "improving"): "a Course member (input vocabulary)",
    ("fasciculate._output", "differential"): "the Assessment field differential",
    ("fasciculate._output_json", "differential"): "the Assessment field differential",
    ("fasciculate._vocab", "worsening"): "a Course member (input vocabulary)",
}
#: Modules whose literal ids are checked otherwise: enums the loader compares with their table.
CHECKED_OTHERWISE = {
    "fasciculate._generated_vocab": "Finding: tests/test_generated_vocab.py, `make generate`",
    "fasciculate._vocab": "Category, MedicationClass, Analyte: compared member by member at load",
}


def _toml_ids() -> dict[str, set[str]]:
    """The ids of each kind :data:`NAMED` checks, as the packaged tables spell them."""
    tables = {path.name: tomllib.loads(path.read_text("utf-8")) for path in KB_DIR.glob("*.toml")}
    facts = tables["facts.toml"]
    return {
        "fact": {row["id"] for row in facts["fact"]},
        # a group named like a section of the input (``twitching``) is that section where named
        "fact group": {row["group"] for row in facts["fact"]} - SECTIONS,
        "quantity": {row["id"] for row in facts["quantity"]},
        "threshold": {row["id"] for row in tables["thresholds.toml"]["threshold"]},
        "feature": {row["id"] for row in tables["differential.toml"]["feature"]},
    }


def _literals(path: Path) -> set[str]:
    """String constants of *path* that are not docstrings (prose and doctests are not code)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    prose = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose
    }


def _module(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)


def _named_in_source() -> dict[tuple[str, str], set[str]]:
    """(kind, id) -> modules whose code names it, found by reading every module."""
    ids = _toml_ids()
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        module = _module(path)
        if module in CHECKED_OTHERWISE or module == "fasciculate._kb_names":
            continue
        for literal in _literals(path):
            if (module, literal) in NOT_REFERENCES:
                continue
            for kind, names in ids.items():
                if literal in names:
                    found[kind, literal].add(module)
    return found


def test_the_registry_lists_exactly_the_ids_the_code_names():
    """Each literal id in the package's code is in NAMED with its module, and nothing else is."""
    registered = {
        (kind, name): set(places) for kind, names in NAMED.items() for name, places in names.items()
    }
    found = _named_in_source()
    # a literal may match ids of several kinds: one registration of the right module is enough
    missing = {
        key: modules - set().union(*(registered.get((k, key[1]), set()) for k in NAMED))
        for key, modules in found.items()
    }
    assert {} == {key: modules for key, modules in missing.items() if modules}
    stale = {
        key: places - found.get(key, set())
        for key, places in registered.items()
        if places - found.get(key, set())
    }
    assert {} == stale


def test_every_registered_id_exists_in_the_packaged_tables():
    """The packaged knowledge base passes the check (it loads) and holds every id listed."""
    ids = _toml_ids()
    unknown = {kind: sorted(set(names) - ids[kind]) for kind, names in NAMED.items()}
    assert {} == {kind: names for kind, names in unknown.items() if names}
    assert fasciculate.knowledge_base().version


def _rename(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the package whose tables call *old* *new* everywhere (a consistent rename)."""
    copy = tmp_path / "fasciculate"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    word = re.compile(rf"(?<![\w.-]){re.escape(old)}(?![\w-])")
    for table in (copy / "kb").glob("*.toml"):
        text = table.read_text(encoding="utf-8")
        table.write_text(word.sub(new, text), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("kind", "old", "module"),
    [
        ("fact", "nicotine", "fasciculate._fact_paths"),
        ("fact", "worse_evening", "fasciculate.fhir._questionnaire"),
        ("fact group", "spinal_red_flag", "fasciculate.testing"),
        ("quantity", "power_lowest", "fasciculate.cpg._cql_read"),
        ("threshold", "albumin_factor", "fasciculate.cpg._cql"),
        ("feature", "RLS-IRON", "fasciculate._differential"),
    ],
)
def test_renaming_an_id_python_names_stops_the_load(tmp_path: Path, kind, old, module):
    """A consistent rename in the tables fails at load, naming the id, the module and the fix."""
    root = _rename(tmp_path, old, f"{old}_renamed")
    run = subprocess.run(
        [sys.executable, "-c", "import fasciculate; fasciculate.knowledge_base()"],
        capture_output=True,
        text=True,
        check=False,
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": ""},
        timeout=120,
    )
    assert 1 == run.returncode
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("fasciculate._errors.KnowledgeBaseError: ")
    assert f"{kind} {old!r}" in last
    assert module.replace(".", "/") + ".py" in last
    assert "restore the id in kb/, or rename it in that code and in NAMED of" in last


def _without(kind: str, name: str) -> fasciculate.KnowledgeBase:
    """The packaged knowledge base, less every entry that holds id *name* of *kind*."""
    kb = fasciculate.knowledge_base()
    if kind in {"fact", "fact group"}:
        field = "id" if kind == "fact" else "group"
        facts = {key: fact for key, fact in kb.facts.items() if getattr(fact, field) != name}
        return attrs.evolve(kb, facts=facts)
    if kind == "feature":
        return attrs.evolve(kb, features=tuple(f for f in kb.features if f.id != name))
    field = {"quantity": "quantities", "threshold": "thresholds"}[kind]
    held = {key: value for key, value in getattr(kb, field).items() if key != name}
    return attrs.evolve(kb, **{field: held})


@pytest.mark.parametrize(
    ("kind", "name", "table"),
    [
        ("fact", "nicotine", "facts.toml [[fact]]"),
        ("fact group", "spinal_red_flag", "the `group` of a fact in facts.toml"),
        ("quantity", "power_lowest", "facts.toml [[quantity]]"),
        ("threshold", "albumin_factor", "thresholds.toml"),
        ("feature", "RLS-IRON", "differential.toml [[feature]]"),
    ],
)
def test_the_check_names_each_missing_id_in_process(kind, name, table):
    """The check itself, run in this process on a knowledge base that lacks one id of a kind."""
    check_named(fasciculate.knowledge_base())  # the packaged tables pass
    with pytest.raises(fasciculate.KnowledgeBaseError) as raised:
        check_named(_without(kind, name))
    places = ", ".join(module.replace(".", "/") + ".py" for module in NAMED[kind][name])
    expected = (
        f"{kind} {name!r} ({table}) is named by {places} but the knowledge base has no such "
        f"{kind}: restore the id in kb/, or rename it in that code and in NAMED of "
        "fasciculate/_kb_names.py"
    )
    problems = str(raised.value).split("; ")
    assert expected in problems
    assert all(problem.endswith("fasciculate/_kb_names.py") for problem in problems)

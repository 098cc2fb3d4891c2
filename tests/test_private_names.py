"""Private stays private: no module of the package imports another module's underscore name, and
the tests use the public API, but for the few listed with the reason they cannot."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import fasciculate

PACKAGE = Path(fasciculate.__file__).parent
ROOT = PACKAGE.parent


def _is_module(dotted: str) -> bool:
    path = ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _private_uses(path: Path) -> list[str]:
    """Underscore names *path* takes from other fasciculate modules (by import or attribute)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules: set[str] = set()
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("fasciculate"):
            for alias in node.names:
                if _is_module(f"{node.module}.{alias.name}"):
                    modules.add(alias.asname or alias.name)
                elif alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"line {node.lineno}: from {node.module} import {alias.name}")
        elif isinstance(node, ast.Import):
            modules.update(
                alias.asname
                for alias in node.names
                if alias.name.startswith("fasciculate.") and alias.asname
            )
    found.extend(
        f"line {node.lineno}: {node.value.id}.{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in modules
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
    )
    return found


def test_no_module_imports_another_modules_private_name():
    """A name shared between modules is public within its private module (httpx's habit)."""
    found = {
        str(path.relative_to(ROOT)): uses
        for path in sorted(PACKAGE.rglob("*.py"))
        if (uses := _private_uses(path))
    }
    assert {} == found


def test_the_check_sees_a_private_import(tmp_path: Path):
    """The scan finds both forms: ``from m import _x`` and ``module._x``."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from fasciculate._assess import _engine\n"
        "from fasciculate import _facts\n"
        "_facts._private\n",
        encoding="utf-8",
    )
    assert [
        "line 1: from fasciculate._assess import _engine",
        "line 3: _facts._private",
    ] == _private_uses(sample)


TESTS = ROOT.parent / "tests"

#: The test modules that still reach into the package's private parts: the parts each uses, and
#: why it cannot check the same as strongly through the public API.
TESTS_REACHING_IN: dict[str, tuple[frozenset[str], str]] = {
    "tests/service/test_service_readings.py": (
        frozenset({"fasciculate.service._readings"}),
        "the service's record cache (LRU order, pickled readings): its only public effect is speed",
    ),
    "tests/service/test_service_replay.py": (
        frozenset({"fasciculate.service._replay"}),
        "the JWT replay cache's pruning and log checkpoints, unseen outside the database file",
    ),
    "tests/test_bulk_keys.py": (
        frozenset({"fasciculate._bulk_keys"}),
        "the bulk reader's narrow key scan against a full parse, line by line (screens show less)",
    ),
    "tests/test_caches.py": (
        frozenset({"fasciculate._cache"}),
        "the bounded cache itself: caches made by hand, and every bound (LIMITS) set to zero",
    ),
    "tests/test_fact_paths.py": (
        frozenset({"fasciculate._fact_paths"}),
        "the fact-path table itself: each fact set by one input field, or listed as set by several",
    ),
    "tests/test_generated_code.py": (
        frozenset(
            {
                "fasciculate._conditions",
                "fasciculate._generated",
                "fasciculate._referral",
                "._atoms",
                "._compare",
                "._compiled",
            }
        ),
        "the generated code itself: linecache files, globals, each compiled rule vs the tree",
    ),
    "tests/test_generated_vocab.py": (
        frozenset({"fasciculate._codegen"}),
        "the generator behind `make generate` (python -m fasciculate._codegen), a development tool",
    ),
    "tests/test_kb.py": (
        frozenset({"fasciculate._kb_differential"}),
        "the differential tables' loader fed broken tables (the package loads only its own)",
    ),
    "tests/test_kb_indications.py": (
        frozenset({"fasciculate._kb_indications"}),
        "the indications' loader fed broken tables (the package loads only its own)",
    ),
    "tests/test_kb_names.py": (
        frozenset({"fasciculate._kb_names"}),
        "the registry of the ids the code names, checked against the package's source",
    ),
    "tests/test_output_description.py": (
        frozenset(
            {
                "fasciculate._assess",
                "fasciculate._output",
                "fasciculate._output_frame",
                "fasciculate._output_json",
            }
        ),
        "the output's one description: contributors' machinery (howto/add-an-output-field)",
    ),
}


def _first_private(dotted: str) -> str | None:
    """*dotted* up to its first private segment, or None when every segment is public."""
    parts = dotted.split(".")
    for index, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[: index + 1])
    return None


def _imported(tree: ast.AST) -> tuple[set[str], dict[str, str]]:
    """The private modules and names *tree* imports, and its local names of public modules."""
    found: set[str] = set()
    bound: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "fasciculate":
            for alias in node.names:
                dotted = f"{node.module}.{alias.name}"
                if hidden := _first_private(dotted):
                    found.add(hidden)
                elif _is_module(dotted):
                    bound[alias.asname or alias.name] = dotted
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "fasciculate":
                    found.add(_first_private(alias.name) or "")
                    bound[alias.asname or "fasciculate"] = (
                        alias.name if alias.asname else "fasciculate"
                    )
    return found - {""}, bound


def _is_own(value: ast.expr) -> bool:
    """``self``, ``cls`` or ``super()``: the test's own objects."""
    if isinstance(value, ast.Call):
        value = value.func
        return isinstance(value, ast.Name) and value.id == "super"
    return isinstance(value, ast.Name) and value.id in {"self", "cls"}


#: An import in code held in a string (run by a subprocess).
_CODE_IMPORT = re.compile(r"\b(?:from|import) +(fasciculate(?:\.\w+)*)")


def _private_parts(path: Path) -> set[str]:
    """The private modules, names and attributes of fasciculate that the test module *path* uses.

    Private modules and names imported (``from fasciculate._facts import ...``, ``from fasciculate
    import _cache``, ``import fasciculate._kb``), private modules reached by attribute
    (``fasciculate._kb.knowledge_base()``, as ``"fasciculate._kb"``), and private attributes of
    any object but the test's own (``evaluator._compiled``, as ``"._compiled"``), also in code
    held in a string for a subprocess.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found, bound = _imported(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.update(_first_private(m) or "" for m in _CODE_IMPORT.findall(node.value))
        if not isinstance(node, ast.Attribute) or not _first_private(node.attr):
            continue
        chain, value = [node.attr], node.value
        while isinstance(value, ast.Attribute):
            chain.insert(0, value.attr)
            value = value.value
        if isinstance(value, ast.Name) and value.id in bound:
            found.add(_first_private(".".join([bound[value.id], *chain])) or "")
        elif not _is_own(value) and _first_private(".".join(chain)) == ".".join(chain):
            found.add(f".{node.attr}")
    return found - {""}


def test_tests_use_the_public_api():
    """Tests reach into private parts only where the allow-list says why they must."""
    found = {
        str(path.relative_to(TESTS.parent)): parts
        for path in sorted(TESTS.rglob("*.py"))
        if path != Path(__file__)  # its samples are strings
        if (parts := _private_parts(path))
    }
    assert {name: parts for name, (parts, _) in TESTS_REACHING_IN.items()} == found


def test_the_tests_check_sees_every_form(tmp_path: Path):
    """Private modules by import or attribute, private names, private attributes of objects."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import fasciculate\n"
        "import fasciculate.fhir\n"
        "from fasciculate import _cache, caches\n"
        "from fasciculate._assess import _engine\n"
        "from fasciculate.service._replay import ReplayCache\n"
        "fasciculate._kb.knowledge_base()\n"
        "fasciculate.fhir._codes.code_maps()\n"
        "caches._private\n"
        "evaluator._compiled[0]\n"
        "self._own, super()._own()\n"
        "run('from fasciculate.service._serve import settle')\n"
        "fasciculate.__version__\n",
        encoding="utf-8",
    )
    assert {
        "fasciculate._cache",
        "fasciculate._assess",
        "fasciculate.service._replay",
        "fasciculate._kb",
        "fasciculate.fhir._codes",
        "fasciculate.caches._private",
        "._compiled",
        "fasciculate.service._serve",
    } == _private_parts(sample)

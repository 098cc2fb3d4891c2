"""Private stays private: no module of the package imports another module's underscore name."""

from __future__ import annotations

import ast
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

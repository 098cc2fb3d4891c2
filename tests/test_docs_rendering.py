"""What a reader of the rendered docs meets: sharp figures, whole code lines, commands that run."""

from __future__ import annotations

import json
import re
import shlex
import subprocess

import pytest

from conftest import EXAMPLES, ROOT

NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))
TUTORIAL = ROOT / "docs" / "tutorial" / "first-assessment.md"


def _figures() -> list[tuple[str, str, str]]:
    return [
        (path.name, mime, "".join(data))
        for path in NOTEBOOKS
        for cell in json.loads(path.read_text())["cells"]
        for output in cell.get("outputs", [])
        for mime, data in output.get("data", {}).items()
        if mime.startswith("image/")
    ]


def test_notebook_figures_are_vector_graphics_that_fit_the_column():
    """Every stored figure is SVG (sharp on a HiDPI screen), at most 8 in wide (not shrunk)."""
    figures = _figures()
    assert len(figures) >= 8
    assert [] == [(name, mime) for name, mime, _ in figures if mime != "image/svg+xml"]
    for name, _, svg in figures:
        width = re.search(r'<svg[^>]* width="([\d.]+)pt"', svg)
        assert width is not None, name
        assert float(width.group(1)) <= 8 * 72, name


def test_rendered_notebook_code_wraps_instead_of_being_cut_off():
    """The site's stylesheet wraps notebook code lines; conf.py loads it."""
    css = (ROOT / "docs" / "_static" / "fasciculate.css").read_text()
    rule = re.search(r"div\.cell div\.cell_input pre \{([^}]*)\}", css)
    assert rule is not None
    assert "white-space: pre-wrap" in rule.group(1)
    assert '"fasciculate.css"' in (ROOT / "docs" / "conf.py").read_text()


def _tutorial_commands() -> list[str]:
    blocks = re.findall(r"```console\n(.*?)```", TUTORIAL.read_text(), flags=re.DOTALL)
    return [line[2:] for block in blocks for line in block.splitlines() if line.startswith("$ ")]


def test_the_tutorial_calls_the_command_line_through_the_environment_it_made():
    """Each command of the tutorial is `make` or a program of `.venv/bin/`, never one off PATH."""
    commands = _tutorial_commands()
    assert "make demo" in commands
    assert [] == [c for c in commands if not c.startswith(("make ", ".venv/bin/"))]


@pytest.mark.parametrize(
    "command", [c for c in _tutorial_commands() if c.startswith(".venv/bin/fasciculate ")]
)
def test_the_tutorial_commands_run_as_written(command: str):
    """Run from the repository root after `make demo` (or `make test`), each command succeeds."""
    done = subprocess.run(shlex.split(command), cwd=ROOT, capture_output=True, check=False)
    assert (0, b"") == (done.returncode, done.stderr)

"""The project stands on its own: no file of it reads, or cites, anything outside the repository."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from conftest import ROOT

# What a clone carries: tracked files in a git checkout, else (an unpacked sdist) every file but
# the ones that builds, tools and caches leave behind.
_LEFT_BEHIND = {".venv", ".git", "build", "dist", "mutants", "_build", "notebooks", "__pycache__"}
_BINARY = {".png", ".svg", ".ico", ".whl", ".gz", ".pyc"}

# A folder beside the repository, the workplace that made it, or its documents cited by name (the
# names are assembled here so that this file does not match itself).
_FOLDER, _WORKPLACE, _DOCUMENTS = "shared", "/" + "work/", r"\b(CLINICAL|STYLE)" + r"\.md\b"
_OUTSIDE = re.compile(
    "|".join(
        (
            rf"\.\./{_FOLDER}",
            rf"""/\s*["']{_FOLDER}["']""",  # a path joined with the folder's name
            _WORKPLACE,
            _DOCUMENTS,
        )
    )
)


def _project_files() -> list[Path]:
    git = shutil.which("git")
    if git is not None:
        listed = subprocess.run(
            [git, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if listed.returncode == 0 and listed.stdout:
            return [ROOT / name for name in listed.stdout.split("\0") if name]
    return [
        path
        for path in ROOT.rglob("*")
        if path.is_file() and not _LEFT_BEHIND & set(path.relative_to(ROOT).parts)
    ]


def test_the_project_files_are_found():
    """The scan below sees the project (a scan of nothing would pass vacuously)."""
    names = {path.relative_to(ROOT).as_posix() for path in _project_files()}
    assert {"Makefile", ".ci/run", "tests/conftest.py", "examples/fhir/synthea/SOURCES.md"} <= names


def test_no_file_reads_or_cites_a_path_outside_the_repository():
    """No code, test, notebook, doc or config names a sibling folder, the workplace or its files."""
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}"
        for path in _project_files()
        if path.suffix not in _BINARY and path.is_file()
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if _OUTSIDE.search(line)
    ]
    assert [] == found


def test_the_pattern_catches_what_it_is_for():
    """Each way an outside path was once written is caught; ordinary uses of the word are not."""
    caught = [
        f'SAMPLES = ROOT.parent / "{_FOLDER}" / "fhir-samples"',
        f"read from `../{_FOLDER}/fhir-samples`",
        f"Written from ``{_FOLDER}/CLINICAL{'.'}md`` sections 3 and 4",
        f"see {_WORKPLACE}{_FOLDER}/STYLE{'.'}md",
    ]
    passed = ["the shared parts are first built", "self._shared: dict[object, Any] = {}"]
    assert all(_OUTSIDE.search(line) for line in caught)
    assert not any(_OUTSIDE.search(line) for line in passed)

"""The built distributions: an sdist that carries what the tests read, a wheel that runs alone.

Builds the sdist and the wheel as ``make dist`` does (``python -m build``, the wheel from the
sdist), installs the wheel into a clean virtual environment with no fasciculate source on its path,
and runs the installed command and imports there, as a user of ``pip install`` would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from conftest import EXAMPLES, ROOT, SYNTHEA

EXAMPLE = EXAMPLES / "presentations" / "progressive-weakness-wasting.json"


def _run(*argv: str | Path, cwd: Path) -> str:
    # No PYTHONPATH or coverage hooks of the test run: the installed wheel must stand alone.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "COV_"))}
    done = subprocess.run(
        [str(arg) for arg in argv], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert 0 == done.returncode, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel, built from the working tree."""
    out = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "build", "--outdir", out, ROOT, cwd=out)
    return out


@pytest.fixture(scope="module")
def venv(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean virtual environment with the wheel installed (by this environment's pip)."""
    home = tmp_path_factory.mktemp("venv")
    _run(sys.executable, "-m", "venv", "--without-pip", home, cwd=home)
    (wheel,) = dist.glob("*.whl")
    _run(
        sys.executable, "-m", "pip", "--python", home / "bin" / "python", "install", wheel, cwd=home
    )
    return home


def test_the_wheel_holds_the_package_alone(dist: Path):
    """The wheel is the package and its metadata: no examples, tests or sample data (and small)."""
    (wheel,) = dist.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/")[0] for name in names} == {
        "fasciculate",
        f"fasciculate-{metadata.version('fasciculate')}.dist-info",
    }
    assert "fasciculate/py.typed" in names
    assert not [name for name in names if "synthea" in name.lower()]
    assert wheel.stat().st_size < 500_000


def test_the_sdist_carries_the_samples_with_their_licence(dist: Path):
    """The sdist has what `make test` reads (the Synthea bundles with their notice), no debris."""
    (sdist,) = dist.glob("*.tar.gz")
    top = sdist.name.removesuffix(".tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.removeprefix(f"{top}/") for name in archive.getnames()}
    wanted = {"LICENSE", "Makefile", "pyproject.toml", "examples/fhir/synthea/SOURCES.md"}
    wanted |= {f"examples/fhir/synthea/{path.name}" for path in SYNTHEA.iterdir()}
    assert wanted <= names
    assert not [name for name in names if name.startswith((".venv", "docs/_build", "build/"))]


def test_the_installed_wheel_runs_its_command_and_imports(venv: Path, tmp_path: Path):
    """From the wheel alone: --version, one assessment, and the FHIR module."""
    bin_ = venv / "bin"
    assert metadata.version("fasciculate") in _run(bin_ / "fasciculate", "--version", cwd=tmp_path)
    out = _run(bin_ / "fasciculate", "assess", EXAMPLE, "--format", "json", cwd=tmp_path)
    assert "urgent" == json.loads(out)["urgency"]
    where = _run(
        bin_ / "python",
        "-c",
        "import fasciculate.fhir; print(fasciculate.fhir.__file__)",
        cwd=tmp_path,
    )
    assert Path(where.strip()).is_relative_to(venv)


def test_pip_show_lists_licence_python_versions_and_urls_that_exist(venv: Path, tmp_path: Path):
    """`pip show -v` lists the licence, the Python versions and URLs that name real files."""
    python = venv / "bin" / "python"
    shown = _run(
        sys.executable, "-m", "pip", "--python", python, "show", "-v", "fasciculate", cwd=tmp_path
    )
    assert "License-Expression: MIT" in shown
    assert "Programming Language :: Python :: 3.11" in shown
    urls = shown.split("Project-URLs:\n")[1].splitlines()
    urls = [line.strip() for line in urls if line.startswith("  ")]
    assert {"Documentation", "Changelog"} <= {line.split(", ")[0] for line in urls}
    for line in urls:
        target = line.split(", ")[1].split("#")[0]
        assert "://" not in target  # no public host yet: paths in the repository and the sdist
        assert (ROOT / target).exists(), line

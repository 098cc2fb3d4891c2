"""The two commands: `make demo` installs the package alone, `make test` the development extras.

Read from what make would run (``make -n -B``: every step printed, none run), so these checks cost
nothing; the install time and size of `make demo` are measured by hand (see the README).
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from conftest import ROOT

MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")


def _would_run(target: str) -> list[str]:
    done = subprocess.run(
        [str(MAKE), "--no-print-directory", "-n", "-B", target],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.splitlines()


def test_make_demo_installs_the_package_alone_and_shows_progress():
    """One install, of the package without extras; no --quiet; then the example is assessed."""
    steps = _would_run("demo")
    installs = [step for step in steps if " install " in step]
    assert 1 == len(installs)
    assert installs[0].endswith(" install --no-compile -e .")
    assert not [step for step in steps if "--quiet" in step or " -q " in step]
    assert steps[-1].startswith(".venv/bin/fasciculate assess examples/")


def test_make_test_installs_the_development_extras_and_shows_progress():
    """The install behind `make test` is the `dev` extra, printed as it goes."""
    steps = _would_run(".venv/.installed-dev")
    assert any(step.endswith(' install -e ".[dev]"') for step in steps)
    assert not [step for step in steps if "--quiet" in step or " -q " in step]

"""Node.js for the tests of the CPG artifact: the CQL-to-ELM translator and the CQL engine (npm).

Outside CI, a machine without node or the npm packages (``make node_modules/.installed``) skips
these tests and says why; in CI (``CI=true``) they fail instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / "tools" / "cpg"
_PACKAGES = ("@cqframework/cql", "cql-execution", "cql-exec-fhir")


def node() -> str:
    """The node executable, with the npm packages installed; a skip (a failure in CI) if not."""
    found = shutil.which("node")
    missing = [name for name in _PACKAGES if not (ROOT / "node_modules" / name).is_dir()]
    reason = (
        "node is not installed"
        if found is None
        else f"npm packages missing ({', '.join(missing)}): run `npm ci`"
        if missing
        else None
    )
    if reason is None and found is not None:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail(f"the CPG tests must run in CI: {reason}")
    pytest.skip(reason or "node unavailable")


def translate(cql_path: Path) -> bytes:
    """The ELM JSON the reference translator makes of the CQL file *cql_path*, as bytes."""
    done = subprocess.run(
        [node(), str(TOOLS / "translate.mjs"), str(cql_path)],
        capture_output=True,
        check=False,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


def execute(
    elm_path: Path,
    bundles: list[dict[str, Any]],
    defines: list[str],
    timeout: float | None = 600,
) -> dict[str, Any]:
    """Run the ELM at *elm_path* on *bundles* (cql-execution): each define's value by Patient.

    *timeout*: seconds before the run counts as hung (``None``: wait, as a long niced run must).
    """
    done = subprocess.run(
        [node(), str(TOOLS / "execute.mjs"), str(elm_path), *defines],
        input=json.dumps(bundles).encode(),
        capture_output=True,
        check=False,
        timeout=timeout,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr.decode()
    results: dict[str, Any] = json.loads(done.stdout)
    return results

"""Run the command line as a real process (``python -m fasciculate``) on a presentation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any


def assess_in_a_process(data: dict[str, Any], *, text: bool = False) -> Any:
    """``fasciculate assess -`` in a subprocess: the JSON assessment, or the text report."""
    argv = [sys.executable, "-m", "fasciculate", "assess", "-"]
    if not text:
        argv += ["--format", "json"]
    done = subprocess.run(
        argv, input=json.dumps(data).encode(), capture_output=True, check=False, timeout=120
    )
    assert (0, b"") == (done.returncode, done.stderr), done.stderr.decode()
    output = done.stdout.decode()
    return output if text else json.loads(output)


def interview_in_a_process(
    answers: list[str], *options: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``fasciculate interview OPTIONS`` in a subprocess, the *answers* as its standard input."""
    return subprocess.run(
        [sys.executable, "-m", "fasciculate", "interview", *options],
        input="".join(f"{answer}\n" for answer in answers),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=cwd,
    )

"""Collects the safety suite's numbers and prints them at the end of the test run.

Tests call :func:`record`; with pytest-xdist each worker sends its records to the controller,
which prints one summary ("safety case") after the usual report.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import pytest

RECORDS: list[dict[str, Any]] = []
# Sections whose lines add up to a meaningful total.
_TOTALLED = {"enumeration", "kb mutants"}


def record(section: str, name: str, **numbers: float | str) -> None:
    """Remember one line of the safety summary."""
    RECORDS.append({"section": section, "name": name, **numbers})


def pytest_sessionfinish(session: pytest.Session) -> None:
    """On an xdist worker, hand the records to the controller."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["safety_records"] = json.dumps(RECORDS)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:  # noqa: ARG001 - xdist's signature
    """On the controller, collect a finished worker's records."""
    RECORDS.extend(json.loads(getattr(node, "workeroutput", {}).get("safety_records", "[]")))


def _format(value: float | str) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, int) and value >= 10**6:
        return f"{value:.3e}"
    return str(value)


def _total(lines: Iterable[dict[str, Any]]) -> dict[str, Any]:
    total: dict[str, Any] = {}
    for numbers in lines:
        for key, value in numbers.items():
            if key != "items" and isinstance(value, int | float):
                total[key] = total.get(key, 0) + value
    return total


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the safety case numbers."""
    if not RECORDS:
        return
    terminalreporter.section("safety case")
    # Records with the same section and name add up (one per mutant, say, into one line).
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for item in RECORDS:
        line = merged.setdefault((item["section"], item["name"]), {})
        for key, value in item.items():
            if key in {"section", "name"}:
                continue
            numeric = isinstance(value, int | float) and isinstance(line.get(key, 0), int | float)
            line[key] = line.get(key, 0) + value if numeric else value
    by_section: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for (section, name), numbers in merged.items():
        by_section[section].append((name, numbers))
    for section in sorted(by_section):
        terminalreporter.write_line(f"{section}:")
        lines = sorted(by_section[section])
        if section in _TOTALLED:
            lines.append(("TOTAL", _total(numbers for _, numbers in lines)))
        for name, numbers in lines:
            shown = ", ".join(f"{key}={_format(value)}" for key, value in numbers.items())
            terminalreporter.write_line(f"  {name}: {shown}")

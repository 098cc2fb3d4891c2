"""Run the exported ELM on every combination of the exhaustive group enumeration (opt-in, hours).

Every combination of ``tests/safety/test_safety_groups.py`` (233,127) becomes one patient's FHIR
bundle, run by cql-execution (the committed ELM) and by the Python reader and evaluator; urgency
and fired rules must be equal (see ``tests/safety/cpg_enumeration.py``; ``make test`` runs a
stratified subset; ``make cpg-enumeration`` runs this). At about 0.075 s of CPU per patient in
the engine and 0.01 s in Python, the whole enumeration is some 5.5 CPU-hours, so the run goes in
chunks and records each one done in a state file: run it again to resume where it stopped (a
changed ELM starts over). The chunks take the groups in turn, so a partial run has seen every
group. After each chunk it prints how many combinations are done, agree, disagree, and read back
to other facts than their presentation's.

Usage (from the repository, with the development environment and the npm packages; nice it on a
shared machine):
    .venv/bin/python benchmarks/cpg_full_enumeration.py [--workers N] [--chunk N] [--state PATH]
Exit status 0 when every combination is done and agrees, 1 on a disagreement or an unreadable
bundle, 3 when stopped (interrupted, or --limit reached) with nothing wrong so far.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import itertools
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "safety")]

from cpg_enumeration import GROUPS, compare, every_combination  # noqa: E402
from fasciculate.cpg import ELM_FILE  # noqa: E402

ELM = ROOT / "src" / "fasciculate" / "cpg" / ELM_FILE


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=1, help="Node processes at once (1)")
    parser.add_argument("--chunk", type=int, default=200, help="combinations a chunk (200)")
    parser.add_argument(
        "--state",
        type=Path,
        default=ROOT / "build" / "cpg-enumeration.json",
        help="the state file (build/cpg-enumeration.json)",
    )
    parser.add_argument("--limit", type=int, help="stop after this many chunks")
    return parser.parse_args(argv)


def _load(path: Path, elm_digest: str) -> dict[str, Any]:
    if path.exists():
        state: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        if state.get("elm") == elm_digest:
            return state
        print(f"{path}: made with another ELM; starting over", flush=True)
    total = sum(1 for group in GROUPS for _ in every_combination(group))
    return {"elm": elm_digest, "total": total, "chunks": {}}


def _save(path: Path, state: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(state, indent=1), encoding="utf-8")
    partial.replace(path)


def _summary(state: dict[str, Any]) -> str:
    chunks = state["chunks"].values()
    done = sum(chunk["compared"] + len(chunk["unreadable"]) for chunk in chunks)
    differing = sum(len(chunk["differing"]) for chunk in chunks)
    unreadable = sum(len(chunk["unreadable"]) for chunk in chunks)
    return (
        f"{done:,} of {state['total']:,} combinations done: {done - differing - unreadable:,} "
        f"agree, {differing:,} disagree, {unreadable:,} not read back to their facts"
    )


def _chunks(size: int) -> list[tuple[str, int]]:
    """Every chunk, the groups taken in turn (a run stopped early has seen every group)."""
    sizes = {group: sum(1 for _ in every_combination(group)) for group in GROUPS}
    starts = {group: range(0, total, size) for group, total in sizes.items()}
    turns = itertools.zip_longest(*starts.values())
    return [
        (group, start)
        for turn in turns
        for group, start in zip(starts, turn, strict=True)
        if start is not None
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the chunks not yet done; the exit status says how it went (see the module)."""
    arguments = _arguments(argv)
    state = _load(arguments.state, hashlib.sha256(ELM.read_bytes()).hexdigest())
    print(f"cpg-enumeration: {_summary(state)}", flush=True)
    ran, stopped = 0, False
    try:
        for group, start in _chunks(arguments.chunk):
            key = f"{group}|{start}"
            if key in state["chunks"]:
                continue
            if arguments.limit is not None and ran >= arguments.limit:
                break
            found = list(itertools.islice(every_combination(group), start, start + arguments.chunk))
            started = time.monotonic()
            outcome = compare(found, ELM, workers=arguments.workers, timeout=None)
            state["chunks"][key] = {
                "compared": outcome.compared,
                "unreadable": outcome.unreadable,
                "differing": {
                    patient: [[python[0], sorted(python[1])], cql and [cql[0], sorted(cql[1])]]
                    for patient, (python, cql) in outcome.differing.items()
                },
                "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            }
            _save(arguments.state, state)
            ran += 1
            rate = (time.monotonic() - started) / len(found)
            print(f"cpg-enumeration: {_summary(state)} ({group}; {rate:.3f} s each)", flush=True)
    except KeyboardInterrupt:
        stopped = True
    done = sum(chunk["compared"] + len(chunk["unreadable"]) for chunk in state["chunks"].values())
    stopped = stopped or done < state["total"]
    print(f"cpg-enumeration: {_summary(state)}", flush=True)
    chunks = state["chunks"].values()
    if any(chunk["differing"] or chunk["unreadable"] for chunk in chunks):
        return 1
    return 3 if stopped else 0


if __name__ == "__main__":
    sys.exit(main())

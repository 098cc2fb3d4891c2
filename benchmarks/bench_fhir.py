"""Benchmark: reading a 50-entry patient Bundle into a Presentation, against a full FHIR parse.

The baseline is what an integration would otherwise do first: a full ``fhir.resources`` (R4B)
parse and validation of the same Bundle bytes. fasciculate reads only the elements it needs, so it
should be at least 10x faster; the benchmark also checks that both routes give the same
presentation (the baseline's parsed Bundle, dumped back to JSON, read by fasciculate).

The Bundle: the Patient and the first 49 clinical entries (Observations, Conditions,
MedicationRequests) of the Synthea sample bundled in ``examples/fhir/synthea`` (Alfreda Wyman).

Usage: ``python benchmarks/bench_fhir.py [--repeat N] [--rounds N] [--check]``; ``--check`` exits 1
when the ratio misses the target. Needs the ``fhir-test`` extra (``fhir.resources``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from fasciculate.fhir import presentation_from_bundle

TARGET = 10.0
ROOT = Path(__file__).resolve().parent.parent
SYNTHEA = ROOT / "examples" / "fhir" / "synthea"
SAMPLE = SYNTHEA / "Alfreda_Wyman_3287b938-4670-47eb-91e5-e0ce3df71405.json"
CLINICAL = {"Patient", "Observation", "Condition", "MedicationRequest"}


def patient_bundle(size: int = 50) -> bytes:
    """A *size*-entry patient Bundle as JSON bytes."""
    entries: list[dict[str, Any]] = []
    for entry in json.loads(SAMPLE.read_bytes())["entry"]:
        kind = entry["resource"]["resourceType"]
        if kind in CLINICAL and not (kind == "Patient" and entries):
            entries.append(entry)
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries[:size]}
    return json.dumps(bundle).encode()


def full_parse(document: bytes) -> Bundle:
    """The baseline: parse and validate every element with fhir.resources (R4B)."""
    return Bundle.model_validate_json(document)


def per_call(function: Callable[[bytes], object], document: bytes, rounds: int) -> float:
    """Seconds per call of *function* on *document*, over one timed round of *rounds* calls."""
    start = time.perf_counter()
    for _ in range(rounds):
        function(document)
    return (time.perf_counter() - start) / rounds


def main() -> int:
    """Run both in alternation; report medians, their ratio and whether the presentations agree."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()

    document = patient_bundle()
    ours = presentation_from_bundle(document)
    theirs = presentation_from_bundle(full_parse(document).model_dump_json(exclude_none=True))
    same = ours == theirs
    for function in (full_parse, presentation_from_bundle):  # warm up
        per_call(function, document, 3)
    base_times, our_times = [], []
    for _ in range(args.repeat):
        base_times.append(per_call(full_parse, document, args.rounds))
        our_times.append(per_call(presentation_from_bundle, document, args.rounds))
    base, our = statistics.median(base_times), statistics.median(our_times)
    ratio = base / our
    entries = len(json.loads(document)["entry"])
    print(
        f"bundle: {entries} entries, {len(document):,} bytes; {args.repeat} x {args.rounds} calls"
    )
    print(f"fhir.resources R4B full parse:        {base * 1e3:8.2f} ms/call")
    print(f"fasciculate.fhir presentation_from_bundle: {our * 1e3:8.2f} ms/call")
    print(f"ratio: {ratio:.1f}x faster (target >= {TARGET:g}x); same presentation: {same}")
    return 1 if args.check and (ratio < TARGET or not same) else 0


if __name__ == "__main__":
    sys.exit(main())

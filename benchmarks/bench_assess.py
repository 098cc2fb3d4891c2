"""Benchmark: JSON bytes -> assessment -> JSON bytes, against a same-run baseline.

The baseline validates the same input with the ``Presentation`` model alone and re-serialises it,
so the ratio says what the assessment costs on top of reading and writing the data. Targets:
``assess_json`` (the JSON-in, JSON-out entry point) <= 3 on the examples; the typed path,
``assess(...).model_dump_json()``, which gives the same bytes, <= 4.

The examples are each assessed many times, so the caches of shared parts are warm.
``--population N`` also runs N distinct generated presentations (``fasciculate.testing``,
derandomised): once from empty caches, then again, on each path, in each of
``--population-rounds`` rounds (5), and the medians are reported. Targets there:
``assess_json`` <= 4 with empty caches and <= 3 on the second pass; the typed path <= 5 with
empty caches.

Usage: ``python benchmarks/bench_assess.py [--repeat N] [--rounds N] [--population N
[--population-rounds N]] [--check]``;
``--check`` exits 1 when a ratio misses its target.
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import fasciculate
from fasciculate import Presentation, caches

#: Targets, as ratios to the baseline: assess_json on the examples and on a second pass over
#: distinct presentations; on distinct presentations with empty caches; the typed path on the
#: examples and with empty caches.
TARGET = 3.0
COLD_TARGET = 4.0
TYPED_TARGET = 4.0
TYPED_COLD_TARGET = 5.0
EXAMPLES = sorted((Path(__file__).parent.parent / "examples" / "presentations").glob("*.json"))


def baseline(document: bytes) -> bytes:
    """Validate and re-serialise with the input model alone."""
    return Presentation.model_validate_json(document).model_dump_json().encode()


def subject(document: bytes) -> bytes:
    """The whole job: validate, assess, write the assessment as JSON."""
    return fasciculate.assess_json(document)


def typed(document: bytes) -> bytes:
    """The same job through the output models: the same bytes, more work."""
    return fasciculate.assess(document).model_dump_json().encode()


def per_call(function: Callable[[bytes], bytes], documents: list[bytes], rounds: int) -> float:
    """Seconds per call of *function* over *documents*, one timed round of *rounds* passes."""
    start = time.perf_counter()
    for _ in range(rounds):
        for document in documents:
            function(document)
    return (time.perf_counter() - start) / (rounds * len(documents))


def population(size: int) -> list[bytes]:
    """*size* distinct presentations as JSON, the same on every run."""
    from hypothesis import HealthCheck, Phase, given, settings  # noqa: PLC0415 - only here
    from hypothesis import strategies as st  # noqa: PLC0415

    from fasciculate.testing import presentations  # noqa: PLC0415

    found: dict[bytes, None] = {}

    @settings(
        max_examples=size * 3,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(st.one_of(presentations(), presentations(complete=True)))
    def collect(presentation: Presentation) -> None:
        if len(found) < size:
            found.setdefault(presentation.model_dump_json(exclude_none=True).encode())

    collect()
    return list(found)


def _peak_mb() -> float:
    """The process's peak resident memory so far, in MB (Linux reports KB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def run_population(size: int, rounds: int = 5) -> tuple[float, float, float]:
    """Time a batch of distinct presentations: from empty caches, then again, on both paths.

    Each of *rounds* rounds times the baseline, then ``assess_json`` from empty caches
    (``caches.clear_all()``) and on a second pass, then the typed path the same way: the ratios
    of a round share its minutes, and the median of each over the rounds is reported (one pass
    over 1,000 presentations is under a second, so a single one moves with the machine).

    Returns the median ratios of ``assess_json`` (empty caches, second pass) and of the typed
    path (empty caches) to the baseline.
    """
    documents = population(size)
    # Generating leaves several hundred thousand objects of cyclic garbage: collected here, not
    # by a full collection inside the first timed pass (which it made about twice as long).
    gc.collect()
    before = _peak_mb()
    rows: list[tuple[float, ...]] = []
    for _ in range(rounds):
        base = per_call(baseline, documents, 1)
        caches.clear_all()  # empty caches: the first pass builds every part it meets
        cold = per_call(subject, documents, 1)
        warm = per_call(subject, documents, 1)
        caches.clear_all()
        typed_cold = per_call(typed, documents, 1)
        typed_warm = per_call(typed, documents, 1)
        rows.append((base, cold, warm, typed_cold, typed_warm))
    after = _peak_mb()
    base, cold, warm, typed_cold, typed_warm = (
        statistics.median(column) for column in zip(*rows, strict=True)
    )
    ratios = [statistics.median(row[column] / row[0] for row in rows) for column in range(1, 5)]
    size_kb = statistics.mean(len(subject(document)) for document in documents) / 1024
    print(
        f"population: {len(documents)} distinct generated presentations, "
        f"medians of {rounds} rounds of one pass each"
    )
    print(f"baseline:                                     {base * 1e6:8.1f} us/call")
    print(f"assess_json, empty caches:                    {cold * 1e6:8.1f} us/call")
    print(f"assess_json, second pass:                     {warm * 1e6:8.1f} us/call")
    print(f"typed path, empty caches:                     {typed_cold * 1e6:8.1f} us/call")
    print(f"typed path, second pass:                      {typed_warm * 1e6:8.1f} us/call")
    print(
        f"ratios: assess_json {ratios[0]:.2f} (empty caches, target <= {COLD_TARGET}), "
        f"{ratios[1]:.2f} (second pass, target <= {TARGET}); typed path {ratios[2]:.2f} "
        f"(empty caches, target <= {TYPED_COLD_TARGET}), {ratios[3]:.2f} (second pass)"
    )
    print(f"output: {size_kb:.1f} KB of JSON per presentation on average")
    print(f"peak memory: {before:.0f} MB before the batch, {after:.0f} MB after (caches bounded)")
    return ratios[0], ratios[1], ratios[2]


def main() -> int:
    """Run both in alternation and report medians and their ratio."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--population", type=int, default=0)
    parser.add_argument("--population-rounds", type=int, default=5)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()

    documents = [path.read_bytes() for path in EXAMPLES]
    functions = (baseline, subject, typed)
    for function in functions:  # warm up caches and the knowledge base
        per_call(function, documents, 5)
    times: dict[Callable[[bytes], bytes], list[float]] = {function: [] for function in functions}
    for _ in range(args.repeat):  # in alternation, so drift affects all alike
        for function in functions:
            times[function].append(per_call(function, documents, args.rounds))
    base, sub, model = (statistics.median(times[function]) for function in functions)
    ratio, typed_ratio = sub / base, model / base
    print(f"inputs: {len(documents)} example presentations, {args.repeat} x {args.rounds} rounds")
    print(f"baseline (validate + dump Presentation):      {base * 1e6:8.1f} us/call")
    print(f"assess_json (validate + assess + JSON):       {sub * 1e6:8.1f} us/call")
    print(f"assess + model_dump_json (the typed path):    {model * 1e6:8.1f} us/call")
    print(
        f"ratio: {ratio:.2f} (target <= {TARGET}); "
        f"typed path: {typed_ratio:.2f} (target <= {TYPED_TARGET})"
    )
    missed = ratio > TARGET or typed_ratio > TYPED_TARGET
    if args.population:
        cold, warm, typed_cold = run_population(args.population, args.population_rounds)
        missed |= cold > COLD_TARGET or warm > TARGET or typed_cold > TYPED_COLD_TARGET
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())

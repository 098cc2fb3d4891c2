"""Benchmark: what refusing a hostile input costs.

Each case is an input a careless (or hostile) caller might send: a hundred thousand unknown
fields, a 100 MB list, 100 MB of JSON, deep nesting, a 5,000-digit integer. Each must be refused
with ``InvalidPresentation`` quickly and in little memory: JSON past 1 MiB is refused before it is
parsed, a list past its maximum length before its items are validated, at most 20 problems are
translated, and no value is converted whole to be shown. Printed per case: the median time of
the refusal, the peak memory it allocated (``tracemalloc``, beyond the input itself), and the
problems listed out of those found. Targets: under 1 s and a few MB each, except where pydantic
itself builds an error per unknown field (printed as it is).

Usage: ``python benchmarks/bench_errors.py [--scale F] [--rounds N]``; ``--scale`` shrinks the
inputs (the test suite runs it at 0.01).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import tracemalloc
from collections.abc import Callable

import fasciculate

LAB = {"analyte": "potassium", "unit": "mmol/L", "value": 4.0}


def _cases(scale: float) -> dict[str, Callable[[], object]]:
    fields = max(int(100_000 * scale), 30)
    items = max(int(1_000_000 * scale), 501)
    json_list = b'{"labs": [' + b",".join([json.dumps(LAB).encode()] * items * 2) + b"]}"
    compact = {f"{i:x}": 0 for i in range(fields)}
    deep = b'{"patient": ' + b"[" * fields + b"]" * fields + b"}"
    return {
        f"{fields:,} unknown fields, mapping": lambda: {f"field{i}": i for i in range(fields)},
        f"{fields:,} unknown fields, compact JSON": lambda: json.dumps(
            compact, separators=(",", ":")
        ).encode(),
        f"{items * 10:,}-item list (80 MB of references at full scale)": lambda: {
            "labs": [LAB] * (items * 10)
        },
        f"{len(json_list) / 1e6:.0f} MB JSON list": lambda: json_list,
        f"{fields:,}-deep nesting, JSON": lambda: deep,
        "5,000-digit integer": lambda: {"patient": {"age": 10**4999}},
    }


def _refuse(data: object) -> fasciculate.InvalidPresentation:
    try:
        fasciculate.assess(data)  # type: ignore[arg-type]
    except fasciculate.InvalidPresentation as error:
        return error
    message = "accepted: the case is not hostile"
    raise AssertionError(message)


def main() -> None:
    """Measure and print each case."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    fasciculate.assess({})  # load the knowledge base first
    print(f"{'case':<58} {'time':>10} {'peak':>9}  problems listed / found")
    for name, build in _cases(args.scale).items():
        data = build()
        times = []
        for _ in range(args.rounds):
            start = time.perf_counter()
            _refuse(data)
            times.append(time.perf_counter() - start)
        tracemalloc.start()
        error = _refuse(data)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        median = statistics.median(times)
        print(
            f"{name:<58} {median * 1000:>7.1f} ms {peak / 1e6:>6.1f} MB  "
            f"{len(error.problems)} / {error.total}"
        )


if __name__ == "__main__":
    main()

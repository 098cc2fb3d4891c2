"""Benchmark: the time ``import fasciculate`` takes, against ``import pydantic`` in the same run.

Each import runs in a fresh Python process, which reports the CPU time of its import statement
(``time.process_time``: the interpreter's own start-up is not counted, nor the time other processes
take on a shared machine); the statements alternate so that both see the same conditions, and the
medians are compared. ``import pydantic`` is the baseline:
fasciculate's models are pydantic models, so whatever fasciculate adds on top is its own work.
Target: ``import fasciculate`` at most 1.5x ``import pydantic``.

Also printed, without a target: what a first use costs in a fresh process, namely importing the
names a program uses (which builds the modules behind them) and then the first assessment (which
loads and checks the knowledge base).

Usage: ``python benchmarks/bench_import.py [--runs N] [--check]``; ``--check`` exits 1 when the
ratio misses the target.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

TARGET = 1.5

#: What each fresh process times, by label: the baseline first, then the measured import.
STATEMENTS = {
    "import pydantic": "import pydantic",
    "import fasciculate": "import fasciculate",
    "from fasciculate import assess, Presentation": (
        "from fasciculate import Presentation, assess"
    ),
    "... and the first assess()": "from fasciculate import assess; assess({})",
}

_TIMED = """\
import time
start = time.process_time()
{statement}
print(time.process_time() - start)
"""


def timed(statement: str) -> float:
    """CPU seconds *statement* takes in a fresh Python process, start-up not counted."""
    done = subprocess.run(  # noqa: S603 - this interpreter, running one of STATEMENTS
        [sys.executable, "-c", _TIMED.format(statement=statement)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout)


def main() -> int:
    """Time every statement in alternating fresh processes; print the medians and the ratio."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()

    for statement in STATEMENTS.values():  # compile and cache the bytecode, then discard
        timed(statement)
    times: dict[str, list[float]] = {label: [] for label in STATEMENTS}
    for _ in range(args.runs):
        for label, statement in STATEMENTS.items():
            times[label].append(timed(statement))
    median = {label: statistics.median(values) for label, values in times.items()}
    for label, values in times.items():
        print(
            f"{label:46} median {median[label] * 1000:6.1f} ms CPU "
            f"(min {min(values) * 1000:6.1f}, max {max(values) * 1000:6.1f}; {args.runs} processes)"
        )
    ratio = median["import fasciculate"] / median["import pydantic"]
    print(f"ratio: import fasciculate / import pydantic = {ratio:.2f} (target <= {TARGET})")
    return 1 if args.check and ratio > TARGET else 0


if __name__ == "__main__":
    sys.exit(main())

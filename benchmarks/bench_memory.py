"""Benchmark: memory over a long batch whose values never repeat.

fasciculate caches the parts of assessments that recur (a fired rule with its facts, a piece of
evidence, their JSON), each cache bounded. This batch varies the age, caffeine, sleep and two lab
values of every presentation, so caches keyed on them fill to their bounds; the peak resident
memory must then level off. Printed at checkpoints, with the growth over the second half of the
batch against the first checkpoint after warm-up. Target: growth <= 10 % over the second half.

Usage: ``python benchmarks/bench_memory.py [--calls N] [--check]``; ``--check`` exits 1 when the
growth misses the target.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
from pathlib import Path
from typing import Any

import fasciculate

TARGET = 0.10
EXAMPLES = sorted((Path(__file__).parent.parent / "examples" / "presentations").glob("*.json"))


def _peak_mb() -> float:
    """The process's peak resident memory so far, in MB (Linux reports KB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def varied(base: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """*base* with a new age, caffeine intake, sleep, potassium and ferritin."""
    return {
        **base,
        "patient": {**base.get("patient", {}), "age": rng.randint(18, 90)},
        "exposures": {
            **base.get("exposures", {}),
            "caffeine_mg_per_day": rng.randint(0, 800),
            "sleep_hours": round(rng.uniform(3, 10), 1),
        },
        "labs": [
            {"analyte": "potassium", "value": round(rng.uniform(2.0, 5.5), 2), "unit": "mmol/L"},
            {"analyte": "ferritin", "value": round(rng.uniform(5, 300), 1), "unit": "ug/L"},
        ],
    }


def main() -> int:
    """Assess a long varied batch, report the peak memory at checkpoints and its late growth."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()

    bases = [json.loads(path.read_text()) for path in EXAMPLES]
    rng = random.Random(2026)  # noqa: S311 - the same batch on every run, not for security
    half = args.calls // 2
    checkpoints = sorted({max(1, args.calls // 10), half, args.calls})
    peaks: dict[int, float] = {}
    for call in range(1, args.calls + 1):
        fasciculate.assess_json(varied(rng.choice(bases), rng))
        if call in checkpoints:
            peaks[call] = _peak_mb()
            print(f"after {call:>7,} presentations: peak memory {peaks[call]:6.1f} MB")
    growth = (peaks[args.calls] - peaks[half]) / peaks[half]
    print(f"growth over the second half: {growth:.1%} (target <= {TARGET:.0%})")
    return 1 if args.check and growth > TARGET else 0


if __name__ == "__main__":
    sys.exit(main())

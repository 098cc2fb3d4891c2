"""Benchmark: memory over a long batch of presentations that never repeat.

fasciculate caches the parts of assessments that recur (a fired rule with its facts, a piece of
evidence, their JSON), each cache bounded by entries and by approximate bytes
(:mod:`fasciculate.caches`). This batch varies, in every presentation, the age, the duration, the
exposures, a few answers, one to three medications (by class and by a name never seen before) and
nine laboratory values, so every cache keyed on them fills to its bound; the peak resident memory
must then level off. Printed at checkpoints, with the growth over the second half of the batch.
Targets (issue 16, for ``fasciculate screen`` on 1,000,000 distinct presentations): peak memory
<= 150 MB, growth over the second half <= 5 %.

By default the batch runs in this process through ``assess_json``. With ``--screen`` it is
written as JSON Lines to a temporary file and screened by ``fasciculate screen`` in a child
process, as a user would, and the child's peak memory (``VmHWM``, Linux) is read at the
checkpoints while its output is counted; its wall and CPU time give records a second (target
7,000 on one core).

``--workers N`` (with ``--screen``) runs ``fasciculate screen --workers N``; the peak memory is
then the parent's, which reads and writes (each worker's is about that of one process).
``--output summary`` (with ``--screen``) runs ``fasciculate screen --output summary``.

Usage: ``python benchmarks/bench_memory.py [--calls N] [--screen [--workers N] [--output O]]
[--check]``;
``--check`` exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fasciculate
from fasciculate import caches

GROWTH_TARGET = 0.05
PEAK_TARGET_MB = 150.0
#: Records a second ``fasciculate screen`` should reach on one core (``--screen``).
RATE_TARGET = 7_000
EXAMPLES = sorted((Path(__file__).parent.parent / "examples" / "presentations").glob("*.json"))
#: Analytes in their canonical unit, with the range values are drawn from.
LABS = (
    ("potassium", "mmol/L", 2.0, 6.8),
    ("magnesium", "mmol/L", 0.3, 2.2),
    ("calcium_total", "mmol/L", 1.5, 3.2),
    ("calcium_ionised", "mmol/L", 0.7, 1.6),
    ("albumin", "g/L", 20.0, 55.0),
    ("vitamin_d", "nmol/L", 5.0, 200.0),
    ("vitamin_b12", "ng/L", 80.0, 1200.0),
    ("ferritin", "ug/L", 5.0, 400.0),
    ("creatine_kinase", "U/L", 20.0, 8000.0),
    ("tsh", "mU/L", 0.01, 12.0),
)
MEDICATION_CLASSES = tuple(str(item) for item in fasciculate.MedicationClass)
ANSWERS = ("present", "absent", "unknown")


def _peak_mb() -> float:
    """The process's peak resident memory so far, in MB (Linux reports KB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def _child_peak_mb(pid: int) -> float:
    """The peak resident memory of process *pid* so far, in MB (Linux ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    msg = "no VmHWM in /proc: --screen needs Linux"
    raise RuntimeError(msg)


def varied(base: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """*base* with new values wherever a value can be new: no two results share their numbers."""
    findings = dict(base.get("findings", {}))
    for name in rng.sample(sorted(findings), min(3, len(findings))):
        findings[name] = rng.choice(ANSWERS)
    duration = rng.choice((0.0, -0.0, round(rng.uniform(0, 3650), 2)))
    medications = [
        {"drug_class": rng.choice(MEDICATION_CLASSES), "name": f"drug {rng.randrange(10**9)}"}
        for _ in range(rng.randint(1, 3))
    ]
    labs = [
        {"analyte": analyte, "value": round(rng.uniform(low, high), 3), "unit": unit}
        for analyte, unit, low, high in rng.sample(LABS, 9)
    ]
    return {
        **base,
        "patient": {**base.get("patient", {}), "age": rng.randint(16, 95)},
        "twitching": {**base.get("twitching", {}), "duration_days": duration},
        "findings": findings,
        "exposures": {
            **base.get("exposures", {}),
            "caffeine_mg_per_day": round(rng.uniform(0, 900), 1),
            "sleep_hours": round(rng.uniform(3, 10), 2),
        },
        "medications": medications,
        "labs": labs,
    }


def batch(calls: int) -> Iterator[bytes]:
    """*calls* distinct presentations as JSON, the same on every run."""
    bases = [json.loads(path.read_text()) for path in EXAMPLES]
    rng = random.Random(2026)  # noqa: S311 - the same batch on every run, not for security
    for _ in range(calls):
        yield json.dumps(varied(rng.choice(bases), rng)).encode()


def in_process(calls: int, checkpoints: list[int], note: Callable[[int, float], None]) -> None:
    """Assess the batch here with ``assess_json``, noting the peak memory at *checkpoints*."""
    for call, document in enumerate(batch(calls), start=1):
        fasciculate.assess_json(document)
        if call in checkpoints:
            note(call, _peak_mb())
    for row in caches.stats():
        print(
            f"  cache {row.name:<28} {row.entries:>7,} entries {row.approx_bytes / 1e6:7.1f} MB "
            f"hits {row.hits:>10,} misses {row.misses:>9,} refused {row.refused:>9,}"
        )


def screened(
    calls: int,
    checkpoints: list[int],
    note: Callable[[int, float], None],
    workers: int = 1,
    output: str = "full",
) -> None:
    """Screen the batch with ``fasciculate screen`` in a child, noting its peak memory."""
    with tempfile.NamedTemporaryFile("wb", suffix=".jsonl") as cohort:
        for document in batch(calls):
            cohort.write(document + b"\n")
        cohort.flush()
        command = [sys.executable, "-m", "fasciculate", "screen", cohort.name]
        command += ["--workers", str(workers), "--output", output]
        before, started = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as child:  # noqa: S603
            assert child.stdout is not None
            for call, _ in enumerate(child.stdout, start=1):
                if call in checkpoints:
                    note(call, _child_peak_mb(child.pid))
        # The exit status is 0, or 2 when some records were refused: either way all were read.
        wall, after = time.perf_counter() - started, resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        if workers == 1:
            cost = f"{cpu:.1f} s of CPU ({calls / cpu:,.0f} records per CPU second; the target is "
            cost += f"{RATE_TARGET:,} records/s on one core, start-up included)"
        else:  # the workers are the forkserver's children: their CPU time is not the child's
            cost = f"the parent's CPU {cpu:.1f} s (reading, writing; the workers' is not counted)"
        print(
            f"screen ({workers} worker{'s' if workers > 1 else ''}, {output} output): "
            f"{calls:,} records in "
            f"{wall:.1f} s ({calls / wall:,.0f} records/s), {cost}"
        )


def main() -> int:
    """Assess a long varied batch, report the peak memory at checkpoints and its late growth."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--screen", action="store_true", help="run `fasciculate screen` instead")
    parser.add_argument("--workers", type=int, default=1, help="with --screen: its --workers")
    parser.add_argument(
        "--output", choices=("full", "summary"), default="full", help="with --screen: its --output"
    )
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()

    half = args.calls // 2
    checkpoints = sorted({max(1, args.calls // 10), half, args.calls})
    peaks: dict[int, float] = {}

    def note(call: int, peak: float) -> None:
        peaks[call] = peak
        print(f"after {call:>9,} presentations: peak memory {peak:6.1f} MB", flush=True)

    if args.screen:
        screened(args.calls, checkpoints, note, args.workers, args.output)
    else:
        in_process(args.calls, checkpoints, note)
    growth = (peaks[args.calls] - peaks[half]) / peaks[half]
    peak = peaks[args.calls]
    print(f"growth over the second half: {growth:.1%} (target <= {GROWTH_TARGET:.0%})")
    print(f"peak memory: {peak:.1f} MB (target <= {PEAK_TARGET_MB:.0f} MB)")
    missed = growth > GROWTH_TARGET or peak > PEAK_TARGET_MB
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())

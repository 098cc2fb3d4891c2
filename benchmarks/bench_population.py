"""Benchmark: screening a population from a FHIR Bulk Data export, one process against a pool.

Writes an export of *patients* generated patients (and the four Synthea patients) with
``make_bulk_export.py``, then runs ``fasciculate screen-bulk`` on it, as a user would, once with
``--workers 1`` and once with ``--workers N`` (default: the cores available), side by side in one
run. For each: wall time, records per second and per second per core, CPU time, the peak memory
of the whole process tree (main process and workers, sampled every 0.1 s; also at the end of the
first and second halves of the run, to show that it stays flat), the CPU seconds of the main
process and of the others (the workers), and the checks: records in =
records out, one line per patient, no duplicate and none missing, the same bytes from both runs.

With ``--spark``, the same export is then screened on Spark ``local[N]`` (the ``spark`` extra
and Java 17): its start-up reported apart, the run written to Parquet, checked against the
single-process output, and its wall time given as a ratio to the pool's. ``--no-single`` leaves
the single process out (for a long run of the pool against Spark; the pool's output, the same
bytes as one process's, is then the one checked against).

Usage: ``python benchmarks/bench_population.py [--patients N] [--workers N] [--export DIR]
[--spark] [--no-single]``; ``--patients 1000000`` is the issue's target (about 3 M resources,
several GB of temporary files). ``--export DIR`` reuses (or keeps) the export there. Needs the
``testing`` extra (Hypothesis) to write the export, and ``psutil`` for the memory of the worker
processes (without it, only the main process's peak is reported).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_bulk_export import AS_OF, write_export

from fasciculate.bulk import available_cores


def _tree(pid: int, cpu: dict[int, float]) -> int | None:
    """The memory of process *pid* and its descendants; their CPU seconds noted in *cpu*."""
    try:
        import psutil  # noqa: PLC0415 - optional
    except ImportError:
        return None
    try:
        parent = psutil.Process(pid)
        processes = [parent, *parent.children(recursive=True)]
    except psutil.Error:
        return None
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
            times = process.cpu_times()
        except psutil.Error:
            continue
        cpu[process.pid] = times.user + times.system
    return total


def _sample(
    process: subprocess.Popen[bytes], samples: list[tuple[float, int]], cpu: dict[int, float]
) -> None:
    start = time.perf_counter()
    while process.poll() is None:
        rss = _tree(process.pid, cpu)
        if rss is not None:
            samples.append((time.perf_counter() - start, rss))
        time.sleep(0.1)


def _run(export: Path, workers: int, out: Path) -> dict[str, Any]:
    summary = out.with_suffix(".summary.json")
    argv = [sys.executable, "-m", "fasciculate", "screen-bulk", str(export)]
    argv += ["--as-of", AS_OF.isoformat(), "--workers", str(workers), "--summary", str(summary)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    samples: list[tuple[float, int]] = []
    cpu: dict[int, float] = {}
    start = time.perf_counter()
    with out.open("wb") as sink:
        process = subprocess.Popen(argv, stdout=sink, stderr=subprocess.PIPE)  # noqa: S603
        sampler = threading.Thread(target=_sample, args=(process, samples, cpu))
        sampler.start()
        _, stderr = process.communicate()
        sampler.join()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode not in {0, 2}:
        sys.exit(f"screen-bulk failed ({process.returncode}): {stderr.decode()}")
    # Every process's CPU as last sampled (the workers exit before the main process), or the
    # main process's alone when psutil is missing.
    seconds = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    half = wall / 2
    main = cpu.get(process.pid, seconds)
    return {
        "workers": workers,
        "wall": wall,
        "cpu": max(seconds, sum(cpu.values())),
        "main_cpu": main,
        "summary": json.loads(summary.read_text()),
        "peak": max((rss for _, rss in samples), default=after.ru_maxrss * 1024),
        "first_half": max((rss for t, rss in samples if t <= half), default=0),
        "second_half": max((rss for t, rss in samples if t > half), default=0),
        "sha256": hashlib.sha256(out.read_bytes()).hexdigest(),
        "out": out,
    }


def _spark(export: Path, workers: int, out: Path, single: Path) -> float:
    """Screen on Spark local[workers]: start-up apart, the run, its memory and its agreement.

    Returns the run's wall time (start-up apart).
    """
    os.environ["PYSPARK_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession  # noqa: PLC0415 - optional (the `spark` extra)

    from fasciculate.bulk import screen_export_spark  # noqa: PLC0415

    start = time.perf_counter()
    spark = (
        SparkSession.builder.master(f"local[{workers}]")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    started = time.perf_counter() - start
    samples: list[tuple[float, int]] = []
    cpu: dict[int, float] = {}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            rss = _tree(os.getpid(), cpu)
            if rss is not None:
                samples.append((time.perf_counter(), rss))
            time.sleep(0.1)

    _tree(os.getpid(), cpu)
    before = dict(cpu)
    sampler = threading.Thread(target=sample)
    sampler.start()
    start = time.perf_counter()
    screening = screen_export_spark(spark, export, as_of=AS_OF, partitions=workers * 8)
    screening.outcomes.write.parquet(str(out))
    wall = time.perf_counter() - start
    summary = screening.summary()
    done.set()
    sampler.join()
    seconds = sum(cpu.values()) - sum(before.values())
    rows = spark.read.parquet(str(out)).orderBy("patient").select("patient", "urgency").collect()
    spark.stop()
    lines = [json.loads(line) for line in single.read_bytes().splitlines()]
    expected = sorted((line["patient"], line.get("urgency")) for line in lines)
    records = summary.records_in
    print(
        f"spark local[{workers}]: start-up {started:.1f} s, then {wall:6.1f} s wall, "
        f"{records / wall:8,.0f} records/s, {records / wall / workers:8,.0f} records/s per core; "
        f"peak memory {_mb(max((rss for _, rss in samples), default=0))} (with the JVM)"
    )
    print(f"  CPU: {seconds:.1f} s (the JVM, its Python workers and this process)")
    print(
        f"  records in {records:,} = out {summary.records_out:,}: "
        f"{records == summary.records_out}; the same patients and urgencies as one process: "
        f"{expected == [(row.patient, row.urgency) for row in rows]}"
    )
    return wall


def _check(run: dict[str, Any], patients: set[str]) -> str:
    ids = [json.loads(line)["patient"] for line in run["out"].read_bytes().splitlines()]
    summary = run["summary"]
    duplicates = len(ids) - len(set(ids))
    missing = len(patients - set(ids))
    balanced = summary["records_in"] == summary["records_out"]
    return (
        f"records in {summary['records_in']:,} = out {summary['records_out']:,}: {balanced}; "
        f"{len(ids):,} lines, {duplicates} duplicates, {missing} missing, "
        f"{sum(summary['rejected'].values())} rejected"
    )


def _patients(export: Path) -> set[str]:
    path = next(export.glob("Patient.ndjson*"))
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return {json.loads(line)["id"] for line in data.splitlines() if line.strip()}


def _mb(size: int) -> str:
    return f"{size / 2**20:,.0f} MB"


def main() -> int:
    """Write the export, run both paths, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=available_cores())
    parser.add_argument("--export", type=Path, help="the export's folder (written if missing)")
    parser.add_argument("--spark", action="store_true", help="also run on Spark local[workers]")
    parser.add_argument(
        "--no-single",
        action="store_true",
        help="leave out the single process (the pool's output is then the one checked against)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-population-") as work:
        export = args.export or Path(work) / "export"
        if not export.exists():
            start = time.perf_counter()
            written = write_export(export, patients=args.patients)
            print(f"export: {written:,} resources in {time.perf_counter() - start:.1f} s")
        patients = _patients(export)
        size = sum(path.stat().st_size for path in export.iterdir())
        print(f"export: {len(patients):,} patients, {_mb(size)} in {export}")
        load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
        print(f"machine: {os.cpu_count()} cores, load average {load} (1, 5, 15 min) at the start")
        runs = [
            _run(export, workers, Path(work) / f"out-{workers}.jsonl")
            for workers in ((args.workers,) if args.no_single else (1, args.workers))
        ]
        records = runs[0]["summary"]["records_in"]
        for run in runs:
            rate = records / run["wall"]
            print(
                f"workers {run['workers']}: {run['wall']:6.1f} s wall, {run['cpu']:6.1f} s CPU, "
                f"{rate:8,.0f} records/s, {rate / run['workers']:8,.0f} records/s per core "
                f"({records / run['cpu']:,.0f} per CPU second), "
                f"{len(patients) / run['wall']:7,.0f} patients/s; peak memory {_mb(run['peak'])} "
                f"(first half {_mb(run['first_half'])}, second half {_mb(run['second_half'])})"
            )
            print(
                f"  CPU: main process {run['main_cpu']:.1f} s, the other processes "
                f"{run['cpu'] - run['main_cpu']:.1f} s (workers, forkserver)"
            )
            print(f"  {_check(run, patients)}")
        if not args.no_single:
            print(f"ratio: the pool is {runs[0]['wall'] / runs[1]['wall']:.2f}x one process")
            print(f"same output bytes: {runs[0]['sha256'] == runs[1]['sha256']}")
        if args.spark:
            wall = _spark(export, args.workers, Path(work) / "spark.parquet", runs[0]["out"])
            print(
                f"ratio: Spark local[{args.workers}] takes {wall / runs[-1]['wall']:.2f}x the "
                f"pool's wall time (start-up apart; target at most 1.5x)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())

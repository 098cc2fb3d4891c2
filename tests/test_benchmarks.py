"""The benchmark scripts run and report what the README quotes (speed itself is not asserted)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import EXAMPLES

BENCHMARKS = EXAMPLES.parent / "benchmarks"


def _run(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert 0 == done.returncode, done.stderr
    return done.stdout


def test_the_assessment_benchmark_reports_both_paths_and_a_population():
    """bench_assess.py prints the baseline, both paths, the ratio and the population figures."""
    out = _run("bench_assess.py", "--repeat", "1", "--rounds", "1", "--population", "5")
    for line in ("baseline", "assess_json", "typed path", "ratio:", "population: 5 distinct"):
        assert line in out


def test_the_fhir_benchmark_reports_its_ratio_and_agreement():
    """bench_fhir.py prints the ratio, that both routes agree, and the large bundles' scaling."""
    out = _run("bench_fhir.py", "--repeat", "1", "--rounds", "1", "--entries", "2000")
    assert "ratio:" in out
    assert "same presentation: True" in out
    for shape in ("symptoms", "mixed"):
        assert f"read_bundle, {shape:8}  1,000 entries:" in out
    assert "(linear: 2)" in out
    assert "target: 20,000 entries in < 0.5 s CPU" in out


def test_the_memory_benchmark_reports_the_growth():
    """bench_memory.py prints the peak memory at its checkpoints, the late growth, the caches."""
    out = _run("bench_memory.py", "--calls", "200")
    for line in ("after       200 presentations", "growth over the second half", "peak memory:"):
        assert line in out
    assert "cache json.fired_rule" in out


def test_the_memory_benchmark_screens_in_a_child_process():
    """bench_memory.py --screen reads the peak memory of `fasciculate screen` as it runs."""
    out = _run("bench_memory.py", "--calls", "100", "--screen")
    assert "after       100 presentations" in out
    assert "growth over the second half" in out
    assert re.search(
        r"screen \(1 worker, full output\): 100 records in [\d.]+ s \([\d,]+ records/s", out
    )
    out = _run("bench_memory.py", "--calls", "200", "--screen", "--workers", "2")
    assert re.search(r"screen \(2 workers, full output\): 200 records in [\d.]+ s \(", out)
    out = _run("bench_memory.py", "--calls", "100", "--screen", "--output", "summary")
    assert re.search(r"screen \(1 worker, summary output\): 100 records in [\d.]+ s \(", out)


def test_the_error_benchmark_refuses_every_case():
    """bench_errors.py refuses every hostile case and prints its cost and problem counts."""
    out = _run("bench_errors.py", "--scale", "0.01", "--rounds", "1")
    assert 7 == len(out.splitlines())
    assert "20 / 1000" in out


def test_the_population_benchmark_checks_both_paths():
    """bench_population.py runs one process and a pool, and checks records in = out and order."""
    out = _run("bench_population.py", "--patients", "40", "--workers", "2")
    assert "workers 1:" in out
    assert "workers 2:" in out
    assert 2 == out.count("True; 44 lines, 0 duplicates, 0 missing, 0 rejected")
    assert "same output bytes: True" in out


@pytest.mark.slow
def test_the_population_benchmark_runs_spark_against_the_pool():
    """bench_population.py --no-single --spark: the pool, then Spark checked against its output."""
    pytest.importorskip("pyspark")
    if shutil.which("java") is None and os.environ.get("CI") != "true":  # `.ci/run` installs it
        pytest.skip("Spark needs a Java runtime (openjdk-17-jre-headless)")
    options = ("--patients", "40", "--workers", "2", "--no-single", "--spark")
    out = _run("bench_population.py", *options)
    assert "workers 1:" not in out
    assert 1 == out.count("True; 44 lines, 0 duplicates, 0 missing, 0 rejected")
    spark = r"records in ([\d,]+) = out \1: True; the same patients and urgencies as one process"
    assert re.search(spark + ": True", out)
    assert "ratio: Spark local[2] takes" in out


def test_the_import_benchmark_reports_the_ratio_and_the_first_use():
    """bench_import.py prints both imports, the first use and the ratio, within its target."""
    out = _run("bench_import.py", "--runs", "1", "--check")
    for line in ("import pydantic", "import fasciculate", "the first assess()", "ratio:"):
        assert line in out

"""benchmarks/bench_service.py runs and reports what the README quotes (speed is not asserted)."""

from __future__ import annotations

import subprocess
import sys

from service._service_support import ROOT


def test_the_service_benchmark_reports_latency_errors_and_feedback():
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_service.py"), "--quick", "--rate", "20",
         "--seconds", "1"],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert 0 == done.returncode, done.stderr
    out = done.stdout
    assert "with JWT (ES384, a unique token each call)" in out
    assert 1 == out.count("latency p50")
    assert 1 == out.count("; 5xx: 0")
    assert 1 == out.count("feedback: 1 acknowledged, 1 in the database")
    assert 1 == out.count("the reference work took")  # the machine's speed, beside the CPU
    assert 1 == out.count("back to back (least batch of 100")  # the app in-process
    assert 1 == out.count("ms 5 ms apart (median")

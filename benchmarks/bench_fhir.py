"""Benchmark: reading a 50-entry patient Bundle into a Presentation, against a full FHIR parse;
and reading large bundles (20,000 entries), whose time must grow linearly with their size.

The baseline is what an integration would otherwise do first: a full ``fhir.resources`` (R4B)
parse and validation of the same Bundle bytes. fasciculate reads only the elements it needs, so it
should be at least 10x faster; the benchmark also checks that both routes give the same
presentation (the baseline's parsed Bundle, dumped back to JSON, read by fasciculate).

The Bundle: the Patient and the first 49 clinical entries (Observations, Conditions,
MedicationRequests) of the Synthea sample bundled in ``examples/fhir/synthea`` (Alfreda Wyman).

The large bundles: a Patient and *entries* - 1 distinct Symptoms IG symptom Observations (the
shape of the integration review that found the reader quadratic), and a Patient and a mix of
symptoms, lab results, conditions, medication requests and claims. Each is read at half and at
full size; linear time doubles (ratio about 2), quadratic time quadruples. ``json.loads`` of the
same bytes is timed beside each read, as a measure of the host's speed at the time: on a shared
machine both vary by half, their ratio much less.

Usage: ``python benchmarks/bench_fhir.py [--repeat N] [--rounds N] [--entries N] [--check]``;
``--check`` exits 1 when the ratio misses its target or a 20,000-entry bundle takes longer than
half a second. Needs the ``fhir-test`` extra (``fhir.resources``).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from fasciculate.fhir import presentation_from_bundle, read_bundle

TARGET = 10.0
#: Seconds to read a 20,000-entry bundle (CPU time, median).
LARGE_TARGET = 0.5
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


def _uuid(number: int) -> str:
    return f"urn:uuid:00000000-0000-4000-8000-{number:012d}"


def _symptom(number: int, code: str, display: str) -> dict[str, Any]:
    day = f"2026-{1 + number % 11:02d}-{1 + number % 28:02d}"
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://hl7.org/fhir/uv/symptoms/CodeSystem/SymptomTemporary",
                        "code": "symptom",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": "http://loinc.org", "code": "75325-1"}], "text": "Symptom"},
        "subject": {"reference": _uuid(0)},
        "effectiveDateTime": f"{day}T{number % 24:02d}:00:00Z",
        "valueCodeableConcept": {
            "coding": [{"system": "http://snomed.info/sct", "code": code, "display": display}],
            "text": display,
        },
    }


def _mixed(number: int) -> dict[str, Any]:
    day = f"2026-{1 + number % 11:02d}-{1 + number % 28:02d}"
    kind = number % 5
    if kind == 0:
        return _symptom(number, "26544005", "Muscle weakness")
    if kind == 1:
        loinc, unit, value = [("2823-3", "mmol/L", 4.1), ("19123-9", "mmol/L", 0.8)][number % 2]
        return {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
            "subject": {"reference": _uuid(0)},
            "effectiveDateTime": f"{day}T{number % 24:02d}:{number % 60:02d}:00Z",
            "valueQuantity": {
                "value": value + (number % 7) / 10,
                "unit": unit,
                "system": "http://unitsofmeasure.org",
                "code": unit,
            },
        }
    if kind == 2:
        return {
            "resourceType": "Condition",
            "clinicalStatus": {"coding": [{"code": "active"}]},
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "I10"}]},
            "subject": {"reference": _uuid(0)},
            "onsetDateTime": day,
        }
    if kind == 3:
        return {
            "resourceType": "MedicationRequest",
            "status": "stopped",
            "intent": "order",
            "medicationCodeableConcept": {"text": "Furosemide 40 MG"},
            "subject": {"reference": _uuid(0)},
            "authoredOn": day,
        }
    return {"resourceType": "Claim", "status": "active", "patient": {"reference": _uuid(0)}}


def large_bundle(size: int, *, mixed: bool) -> bytes:
    """A Patient and *size* - 1 distinct entries, as JSON bytes."""
    patient = {"resourceType": "Patient", "gender": "female", "birthDate": "1970-05-01"}
    entries = [{"fullUrl": _uuid(0), "resource": patient}]
    for number in range(1, size):
        resource = _mixed(number) if mixed else _symptom(number, "26544005", "Muscle weakness")
        entries.append({"fullUrl": _uuid(number), "resource": resource})
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}).encode()


def _cpu(function: Callable[[bytes], object], document: bytes) -> tuple[float, float]:
    """CPU and wall seconds of one call of *function* on *document* (the collector paused)."""
    gc.disable()  # as read_bundle does; json.loads would otherwise pay for collections
    try:
        start_cpu, start_wall = time.process_time(), time.perf_counter()
        function(document)
        return time.process_time() - start_cpu, time.perf_counter() - start_wall
    finally:
        gc.enable()


def read_seconds(document: bytes, repeat: int) -> tuple[float, float, float]:
    """Median CPU and wall seconds of :func:`read_bundle` on *document*, and of ``json.loads``.

    ``json.loads`` of the same bytes, timed in alternation with the reads, shows how fast the
    host is at the time: the ratio of the two varies much less than either does.
    """
    cpu, wall, parse = [], [], []
    for _ in range(repeat):
        parse.append(_cpu(json.loads, document)[0])
        seconds = _cpu(read_bundle, document)
        cpu.append(seconds[0])
        wall.append(seconds[1])
    return statistics.median(cpu), statistics.median(wall), statistics.median(parse)


def large(entries: int, repeat: int) -> bool:
    """Report reading the large bundles at half and full size; whether the target is met."""
    met = True
    for name, mixed in (("symptoms", False), ("mixed", True)):
        half = read_seconds(large_bundle(entries // 2, mixed=mixed), repeat)
        full = read_seconds(large_bundle(entries, mixed=mixed), repeat)
        print(
            f"read_bundle, {name:8} {entries // 2:6,} entries: {half[0]:6.3f} s CPU "
            f"({half[1]:.3f} s wall); {entries:,} entries: {full[0]:6.3f} s CPU "
            f"({full[1]:.3f} s wall); ratio {full[0] / half[0]:.2f} (linear: 2)"
        )
        print(
            f"  json.loads of the same {entries:,} entries: {full[2]:6.3f} s CPU; "
            f"read_bundle / json.loads: {full[0] / full[2]:.2f} (host speed aside)"
        )
        met = met and full[0] * 20_000 / entries < LARGE_TARGET
    print(f"target: 20,000 entries in < {LARGE_TARGET:g} s CPU; met: {met}")
    return met


def main() -> int:
    """Run both in alternation; report medians, their ratio and whether the presentations agree."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--entries", type=int, default=20_000)
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
    met = large(args.entries, max(1, min(args.repeat, 5)))
    return 1 if args.check and (ratio < TARGET or not same or not met) else 0


if __name__ == "__main__":
    sys.exit(main())

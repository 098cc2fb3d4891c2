"""Every cache is bounded by entries and bytes, listed by ``caches.stats()``, emptied by
``caches.clear_all()``, and never makes a result depend on other calls or other threads."""

from __future__ import annotations

import gc
import hashlib
import json
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from pydantic_core import to_json

import fasciculate
from conftest import EXAMPLES
from fasciculate import _cache, caches
from fasciculate.engine import Engine
from fasciculate.testing import presentations

PRESENTATIONS = sorted((EXAMPLES / "presentations").glob("*.json"))


def _row(name: str) -> caches.CacheStats:
    return next(row for row in caches.stats() if row.name == name)


def test_a_cache_keeps_values_up_to_its_number_of_entries(monkeypatch):
    """Past its entry bound a cache returns what it is given without keeping it (refused)."""
    monkeypatch.setitem(_cache.LIMITS, "test.entries", (2, 10**6))
    cache: _cache.BoundedCache[str, bytes] = _cache.BoundedCache("test.entries", size=len)
    assert [b"a", b"bb", b"ccc"] == [cache.store(k, k.encode()) for k in ("a", "bb", "ccc")]
    assert (b"a", b"bb", None) == (cache.get("a"), cache.get("bb"), cache.get("ccc"))
    assert caches.CacheStats("test.entries", 1, 2, 3, 2, 10**6, 0, 3, 1) == _row("test.entries")


def test_a_cache_keeps_values_up_to_its_approximate_bytes(monkeypatch):
    """The byte bound counts each value's weight as the site estimates it."""
    monkeypatch.setitem(_cache.LIMITS, "test.bytes", (100, 10))
    cache: _cache.BoundedCache[int, bytes] = _cache.BoundedCache("test.bytes", size=len)
    for key, value in enumerate([b"x" * 6, b"y" * 5, b"z" * 4]):
        assert value == cache.store(key, value)
    assert [b"x" * 6, None, b"z" * 4] == [cache.get(key) for key in range(3)]
    row = _row("test.bytes")
    assert (2, 10, 1) == (row.entries, row.approx_bytes, row.refused)


def test_a_full_cache_refuses_at_once_and_clearing_opens_it_again(monkeypatch):
    """Full (no entry or under a sixteenth of the bytes left): nothing is weighed any more."""
    monkeypatch.setitem(_cache.LIMITS, "test.full", (2, 10**6))
    weighed: list[bytes] = []

    def size(value: bytes) -> int:
        weighed.append(value)
        return len(value)

    cache: _cache.BoundedCache[str, bytes] = _cache.BoundedCache("test.full", size=size)
    for key in ("a", "b", "c", "d", "a"):
        assert key.encode() == cache.store(key, key.encode())
    assert [b"a", b"b", b"c"] == weighed  # "c" was refused: the cache is full, "d" not weighed
    assert cache.get("a") is not None
    assert cache.get("d") is None
    assert (2, 5, 2) == (
        _row("test.full").entries,
        _row("test.full").misses,
        _row("test.full").refused,
    )
    cache.clear()
    assert b"e" == cache.store("e", b"e")
    assert cache.get("e") == b"e"
    assert [b"a", b"b", b"c", b"e"] == weighed


def test_a_large_value_refused_early_leaves_room_for_small_ones(monkeypatch):
    """A value over what is left does not close a cache that has more than a sixteenth left."""
    monkeypatch.setitem(_cache.LIMITS, "test.large", (100, 1600))
    cache: _cache.BoundedCache[int, bytes] = _cache.BoundedCache("test.large", size=len)
    cache.store(0, b"x" * 2000)  # refused: larger than the whole bound
    cache.store(1, b"y" * 1450)  # kept: 150 bytes left, more than 1600 // 16
    cache.store(2, b"z" * 200)  # refused, but 150 bytes left is over a sixteenth (100): open
    cache.store(3, b"w" * 100)  # kept
    assert [None, b"y" * 1450, None, b"w" * 100] == [cache.get(key) for key in range(4)]
    cache.store(4, b"v" * 60)  # refused with 50 left: under a sixteenth, the cache is full
    cache.store(5, b"u")
    assert (None, None) == (cache.get(4), cache.get(5))
    assert 4 == _row("test.large").refused


@pytest.mark.parametrize(("left", "full"), [(100, False), (95, True)])
def test_a_cache_is_full_under_a_sixteenth_of_its_bytes_left(monkeypatch, left, full):
    """The bound is strict: exactly a sixteenth left (1601 // 16 = 100 bytes) stays open."""
    monkeypatch.setitem(_cache.LIMITS, "test.sixteenth", (100, 1601))
    cache: _cache.BoundedCache[int, bytes] = _cache.BoundedCache("test.sixteenth", size=len)
    cache.store(0, b"x" * (1601 - left))
    cache.store(1, b"y" * 200)  # refused: over what is left
    cache.store(2, b"z" * 10)  # kept unless the refusal found the cache full
    assert (cache.get(2) is None) == full


def test_hits_are_the_lookups_that_found_a_value(monkeypatch):
    """``one`` counts a lookup; a miss builds and stores, a hit returns the kept value."""
    monkeypatch.setitem(_cache.LIMITS, "test.hits", (10, 1000))
    cache: _cache.BoundedCache[int, str] = _cache.BoundedCache("test.hits", size=50)
    built: list[int] = []

    def build(key: int) -> str:
        built.append(key)
        return str(key)

    assert ["1", "2", "1", "1"] == [cache.one(key, build) for key in (1, 2, 1, 1)]
    assert [1, 2] == built
    row = _row("test.hits")
    assert (2, 2, 100) == (row.hits, row.misses, row.approx_bytes)


def test_a_value_stored_twice_is_the_first_one(monkeypatch):
    """Two builders racing on one key get the same object: the first stored."""
    monkeypatch.setitem(_cache.LIMITS, "test.race", (10, 1000))
    cache: _cache.BoundedCache[str, list[int]] = _cache.BoundedCache("test.race", size=1)
    first, second = [1], [1]
    assert cache.store("k", first) is first
    assert cache.store("k", second) is first
    assert 1 == _row("test.race").entries


def test_caches_of_one_name_are_summed_and_dead_ones_dropped(monkeypatch):
    """A cache per rule shows as one row; a cache no longer referenced leaves the stats."""
    monkeypatch.setitem(_cache.LIMITS, "test.sum", (5, 500))
    kept = [_cache.BoundedCache[int, int]("test.sum", size=10) for _ in range(3)]
    for number, cache in enumerate(kept):
        cache.store(number, number + 1)
    row = _row("test.sum")
    assert (3, 3, 30, 15, 1500) == (
        row.caches,
        row.entries,
        row.approx_bytes,
        row.max_entries,
        row.max_bytes,
    )
    del kept, cache
    gc.collect()
    assert "test.sum" not in {row.name for row in caches.stats()}


def test_stores_from_many_threads_keep_the_bounds_and_one_value_per_key(monkeypatch):
    """16 threads storing overlapping keys: the bounds hold and every key reads one value."""
    monkeypatch.setitem(_cache.LIMITS, "test.threads", (500, 400 * 8))
    cache: _cache.BoundedCache[int, tuple[int, int]] = _cache.BoundedCache("test.threads", size=8)
    start = threading.Barrier(16)

    def work(thread: int) -> dict[int, tuple[int, int]]:
        start.wait()
        return {key: cache.get(key) or cache.store(key, (key, thread)) for key in range(1000)}

    with ThreadPoolExecutor(16) as pool:
        seen = list(pool.map(work, range(16)))
    row = _row("test.threads")
    assert row.entries == 400
    assert row.approx_bytes == 400 * 8
    for key in range(1000):
        kept = cache.get(key)
        if kept is not None:  # every thread was given the value kept
            assert all(found[key] is kept for found in seen)


def _distinct(count: int) -> list[bytes]:
    rng = random.Random(16)  # noqa: S311 - test data, not security
    base = json.loads(PRESENTATIONS[0].read_bytes())
    return [
        json.dumps(
            {
                **base,
                "labs": [{"analyte": "potassium", "value": rng.uniform(2, 6), "unit": "mmol/L"}],
            }
        ).encode()
        for _ in range(count)
    ]


def test_every_cache_stays_within_its_bounds_and_clearing_changes_no_result():
    """After a batch every cache is within bounds; emptied, the same input gives the same bytes."""
    documents = _distinct(300)
    first = [fasciculate.assess_json(document) for document in documents]
    rows = caches.stats()
    assert {"json.fired_rule", "output.fired_rule", "referral.fired_rule", "safety_net"} <= {
        row.name for row in rows
    }
    for row in rows:
        assert row.entries <= row.max_entries
        assert row.approx_bytes <= row.max_bytes
    assert sum(row.hits for row in rows) > 0
    caches.clear_all()
    assert [0, 0, 0, 0] == [
        sum(getattr(row, field) for row in caches.stats())
        for field in ("entries", "approx_bytes", "hits", "misses")
    ]
    assert first == [fasciculate.assess_json(document) for document in documents]


def _bases(size: int) -> list[dict[str, Any]]:
    """*size* generated presentations as JSON-ready dicts, the same on every run."""
    found: list[dict[str, Any]] = []

    @settings(
        max_examples=size,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(presentations() | presentations(complete=True))
    def collect(presentation: fasciculate.Presentation) -> None:
        found.append(presentation.model_dump(mode="json", exclude_none=True))

    collect()
    return found


def _varied(base: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """*base* with new numbers: each a zero of either sign one time in five."""

    def number(high: float) -> float:
        return rng.choice((0.0, -0.0)) if rng.random() < 0.2 else round(rng.uniform(0, high), 2)

    varied = json.loads(json.dumps(base))
    twitching, exposures = varied.setdefault("twitching", {}), varied.setdefault("exposures", {})
    twitching["duration_days"] = number(400)
    exposures["sleep_hours"] = number(12)
    exposures["caffeine_mg_per_day"] = number(900)
    for lab in varied.get("labs", []):
        if "value" in lab:  # near the drawn value, which is plausible for its unit
            lab["value"] = round(lab["value"] * rng.uniform(0.95, 1.05), 4)
    return varied


def _answer(document: bytes) -> tuple[bool, bool, bytes]:
    """Whether the answer is an assessment, whether it writes a negative zero, and its digest.

    The answer is the assessment's JSON, or the problems when a varied lab value is no longer
    plausible; a digest stands for it, since 50,000 whole outputs would take gigabytes.
    """
    try:
        answer = fasciculate.assess_json(document)
    except fasciculate.InvalidPresentation as error:
        answer = str(error).encode()
    return answer.startswith(b"{"), b'"-0' in answer, hashlib.blake2b(answer).digest()


@pytest.mark.exhaustive
def test_sixteen_threads_give_the_single_threaded_output():
    """50,000 varied presentations (zeros of both signs): 16 threads write what one thread does."""
    rng = random.Random(2026)  # noqa: S311 - test data, not security
    bases = _bases(250)
    documents = [json.dumps(_varied(rng.choice(bases), rng)).encode() for _ in range(50_000)]
    caches.clear_all()
    expected = [_answer(document) for document in documents]
    caches.clear_all()
    start = threading.Barrier(16)

    def work(thread: int) -> list[tuple[bool, bool, bytes]]:
        start.wait()
        return [_answer(document) for document in documents[thread::16]]

    with ThreadPoolExecutor(16) as pool:
        chunks = list(pool.map(work, range(16)))
    threaded: list[tuple[bool, bool, bytes]] = [(False, False, b"")] * len(documents)
    for thread, chunk in enumerate(chunks):
        threaded[thread::16] = chunk
    assert sum(assessed for assessed, _, _ in expected) > 45_000
    assert not any(negative_zero for _, negative_zero, _ in expected)
    assert expected == threaded


@given(presentations())
def test_the_uncached_path_gives_the_same_bytes(presentation):
    """With every cache full from the start (nothing kept), the bytes are still the same."""
    with pytest.MonkeyPatch.context() as patch:
        for name in _cache.LIMITS:
            patch.setitem(_cache.LIMITS, name, (0, 0))
        assessment = fasciculate.assess(presentation)
        expected = to_json(assessment)
        assert expected == assessment.model_dump_json().encode()
        caches.clear_all()
        engine = Engine()  # built with every bound at zero
        assert expected == engine.assess_json(presentation)
        rows = caches.stats()
        assert [0] * len(rows) == [row.entries for row in rows]
        assert sum(row.refused for row in rows) > 0


def test_full_caches_still_give_pydantic_bytes(monkeypatch):
    """With every cache full after one entry, each part is written anew, and the JSON path still
    writes what pydantic writes for the typed assessment (a differential whose layout cannot be
    kept is written with its numbers in place)."""
    monkeypatch.setattr(_cache, "LIMITS", dict.fromkeys(_cache.LIMITS, (1, 10**9)))
    gc.collect()  # other tests' engines go, and the counts of those left are zeroed
    caches.clear_all()
    engine = Engine()
    for presentation in [*_bases(40), *(path.read_bytes() for path in PRESENTATIONS)]:
        assert to_json(engine.assess(presentation)) == engine.assess_json(presentation)
    refused = {row.name for row in caches.stats() if row.refused}
    assert {"json.differential", "json.fact", "json.evidence_item", "safety_net.rule"} <= refused

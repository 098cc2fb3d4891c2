"""One bounded cache, used by every cache of fasciculate's evaluators and output writers.

Many parts of an assessment recur across presentations (the same rule fired on the same facts,
the same piece of evidence, their JSON), so each is built once and shared. A
:class:`BoundedCache` keeps them, bounded twice: by a number of entries and by an approximate
number of bytes (each cache says what an entry weighs: the length of a serialised part, or a fixed
estimate for a model). Past either bound a new value is still built and returned, just not kept
(a *refusal*; once full, a cache refuses at once, weighing nothing): nothing is ever evicted, so
the hot path is a dict's own ``get`` (and a lookup count, added in bulk where a site looks up
many keys), and a long batch of distinct presentations keeps its memory flat.

Threads: a lookup is one ``dict.get`` (atomic in CPython); storing takes a lock, so entries and
bytes are never over-counted and the bounds hold. Two threads missing the same key both build the
value; the first stored is kept and returned to both. The hit counts are added without the lock
and may miss a few lookups under threads (they are statistics, not bounds).

Every cache alive is listed by :func:`stats` and emptied by :func:`clear_all`, the functions of
the public :mod:`fasciculate.caches`.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

import attrs

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")

_KB = 1024
_MB = 1024 * _KB
#: The bounds of every cache, by name: (entries, approximate bytes). A name with one cache per
#: rule or per feature gives the bounds of each. About 46 MB in all for one engine, so a long
#: batch of distinct presentations levels off near 110 MB resident (``benchmarks/bench_memory.py``).
LIMITS: dict[str, tuple[int, int]] = {
    # The evaluators' results, shared between presentations that give equal ones.
    "referral.evidence": (65536, 2 * _MB),
    "referral.fired_rule": (1024, 48 * _KB),  # one per rule
    "referral.open_questions": (4096, 1 * _MB),
    "referral.raising": (16384, 1 * _MB),  # per rule, on the levels of its atoms
    "referral.screen": (4096, 2 * _MB),
    "referral.open_count": (4096, 2 * _MB),  # the summary's screen: open, and how many
    "differential.evidence": (65536, 2 * _MB),
    "differential.contribution": (1024, 48 * _KB),  # one per feature
    "differential.criterion": (16384, 512 * _KB),
    "differential.root_level": (16384, 512 * _KB),
    "differential.root_shape": (65536, 512 * _KB),
    "safety_net": (4096, 1 * _MB),
    "safety_net.rule": (16384, 1 * _MB),  # per rule, on the levels of its own atoms
    # The output models built from them (the typed path, and the JSON path's parts).
    "output.advice": (4096, 512 * _KB),
    "output.advice_sources": (4096, 256 * _KB),
    "output.conflict": (4096, 256 * _KB),
    "output.criterion": (4096, 256 * _KB),
    "output.evidence_item": (16384, 1 * _MB),
    "output.fact_used": (16384, 1 * _MB),
    "output.facts_used": (16384, 1 * _MB),
    "output.fired_rule": (16384, 1536 * _KB),
    "output.evidence_items": (16384, 1 * _MB),
    "output.lab": (16384, 1 * _MB),
    "output.open_question": (4096, 512 * _KB),
    "output.restless_legs": (4096, 512 * _KB),
    "output.root_level": (4096, 256 * _KB),
    "output.set_aside": (4096, 512 * _KB),
    "output.set_aside_sources": (4096, 256 * _KB),
    "output.source_ids": (4096, 512 * _KB),
    "output.trigger": (16384, 512 * _KB),
    # The JSON of those parts (``assess_json``).
    "json.advice": (16384, 512 * _KB),
    "json.conflict": (4096, 256 * _KB),
    "json.differential": (4096, 3 * _MB),
    "json.evidence_item": (16384, 3 * _MB),
    "json.fact": (16384, 2 * _MB),
    "json.fired_rule": (16384, 3 * _MB),
    "json.missing": (4096, 1 * _MB),
    "json.not_asked": (4096, 512 * _KB),
    "json.referral_rules": (16384, 512 * _KB),
    "json.restless_legs": (4096, 512 * _KB),
    "json.root_level": (4096, 256 * _KB),
    "json.safety_net": (16384, 512 * _KB),
    "json.trigger": (16384, 1 * _MB),
}

#: Every cache alive (an engine's caches go with it).
_LIVE: weakref.WeakSet[BoundedCache[Any, Any]] = weakref.WeakSet()


@attrs.frozen
class CacheStats:
    """What the caches of one name hold and how they fared, summed over every live cache.

    Attributes:
        name: What the cache keeps, e.g. ``"json.fired_rule"``.
        caches: How many live caches have this name (a cache per rule or per feature, or per
            engine when several are alive).
        entries: Values kept.
        approx_bytes: Their approximate size in bytes (the caches' own estimate).
        max_entries: The bound on *entries*.
        max_bytes: The bound on *approx_bytes*.
        hits: Lookups answered from the cache (approximate under threads).
        misses: Values built because the cache did not hold them.
        refused: Values built but not kept, because a bound was reached.
    """

    name: str
    caches: int
    entries: int
    approx_bytes: int
    max_entries: int
    max_bytes: int
    hits: int
    misses: int
    refused: int


class BoundedCache(Generic[_K, _V]):
    """A named dict of built values, bounded by entries and by approximate bytes.

    The pattern at every site: ``cache.get(key)`` (``None`` when absent; values are never
    ``None``), and on a miss ``cache.store(key, build(key))``, which returns the value to use.
    Sites that look up in bulk add their number of lookups to :attr:`lookups` (for the hit
    count) once per batch rather than once per key.
    """

    __slots__ = (
        "__weakref__",
        "_data",
        "_full",
        "_lock",
        "_size",
        "approx_bytes",
        "get",
        "lookups",
        "max_bytes",
        "max_entries",
        "misses",
        "name",
        "refused",
    )

    def __init__(self, name: str, *, size: int | Callable[[_V], int]) -> None:
        """A cache called *name*, bounded as :data:`LIMITS` says; *size* weighs an entry in bytes.

        *size* is a fixed estimate (models, tuples of shared objects) or a function of the value
        (``len`` plus overhead for serialised parts).
        """
        self.name = name
        self.max_entries, self.max_bytes = LIMITS[name]
        self._size = size
        self._data: dict[_K, _V] = {}
        self._full = False
        self._lock = threading.Lock()
        #: The value kept for a key, or None: the dict's own ``get``.
        self.get: Callable[[_K], _V | None] = self._data.get
        self.approx_bytes = 0
        self.lookups = self.misses = self.refused = 0
        _LIVE.add(self)

    def __len__(self) -> int:
        return len(self._data)

    def refuses(self) -> bool:
        """Whether the cache is full (it keeps nothing more until cleared; see :meth:`store`).

        If so, the miss and its refusal are counted as :meth:`store` counts them, so a site
        can skip building a value it would only have stored to be refused.
        """
        if not self._full:
            return False
        self.misses += 1
        self.refused += 1
        return True

    def store(self, key: _K, value: _V) -> _V:
        """Keep *value* for *key* if both bounds allow; the value to use for *key*.

        Once a value has been refused with the entries used up, or less than a sixteenth of the
        bytes left, the cache is full and keeps nothing more until cleared: later misses are
        counted and their values returned at once, with no lock taken and nothing weighed (a
        long batch of distinct presentations misses some caches on nearly every call). The
        counts of a full cache are added without the lock, as the hits are.
        """
        data = self._data
        if self._full:
            self.misses += 1
            kept = data.get(key)  # kept before the cache filled (by another thread)
            if kept is not None:
                return kept
            self.refused += 1
            return value
        size = self._size if isinstance(self._size, int) else self._size(value)
        with self._lock:
            self.misses += 1
            kept = data.get(key)
            if kept is not None:  # another thread built it first: share that one
                return kept
            if len(data) < self.max_entries and self.approx_bytes + size <= self.max_bytes:
                data[key] = value
                self.approx_bytes += size
            else:
                self.refused += 1
                # Full: no entry left, or less than a sixteenth of the bytes (one large value
                # refused early does not close the cache to the small ones that still fit).
                left = self.max_bytes - self.approx_bytes
                self._full = len(data) >= self.max_entries or left < self.max_bytes // 16
        return value

    def one(self, key: _K, build: Callable[[_K], _V]) -> _V:
        """The value for *key*, built by *build* on a miss (one lookup counted)."""
        self.lookups += 1
        found = self._data.get(key)
        return found if found is not None else self.store(key, build(key))

    def clear(self) -> None:
        """Drop every value and zero the counts."""
        with self._lock:
            self._data.clear()
            self._full = False
            self.approx_bytes = self.lookups = self.misses = self.refused = 0


def stats() -> tuple[CacheStats, ...]:
    """The caches alive, one row per name (sorted), summed over the caches of that name."""
    rows: dict[str, list[int]] = {}
    for cache in list(_LIVE):
        row = rows.setdefault(cache.name, [0] * 8)
        lookups, misses = cache.lookups, cache.misses
        counts = (
            1,
            len(cache),
            cache.approx_bytes,
            cache.max_entries,
            cache.max_bytes,
            max(lookups - misses, 0),
            misses,
            cache.refused,
        )
        rows[cache.name] = [total + count for total, count in zip(row, counts, strict=True)]
    return tuple(CacheStats(name, *rows[name]) for name in sorted(rows))


def clear_all() -> None:
    """Empty every cache alive and zero its counts."""
    for cache in list(_LIVE):
        cache.clear()

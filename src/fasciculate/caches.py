"""The caches behind :func:`fasciculate.assess` and :func:`fasciculate.assess_json`.

Parts of assessments that recur across presentations (a fired rule with its facts, a piece of
evidence, a lab's interpretation, their JSON) are built once and shared. Every cache is bounded
by a number of entries and by an approximate number of bytes; past either bound new parts are
built and returned but not kept, so a long batch of distinct presentations keeps its memory flat
(about 110 MB resident for ``fasciculate screen``; the bounds are about 45 MB of parts in all).
Cached parts are immutable, so sharing them never lets one result change another.

>>> import fasciculate
>>> from fasciculate import caches
>>> _ = fasciculate.assess_json(b'{"findings": {"weakness": "present"}}')
>>> row = next(row for row in caches.stats() if row.name == "json.fired_rule")
>>> row.entries >= 1 and row.approx_bytes <= row.max_bytes
True
>>> caches.clear_all()
>>> sum(row.entries for row in caches.stats())
0

Clearing never changes a result, only how soon it comes: a service may clear the caches to give
memory back after a large batch.
"""

from fasciculate._cache import CacheStats, clear_all, stats

__all__ = ["CacheStats", "clear_all", "stats"]

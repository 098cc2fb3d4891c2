"""The jti replay cache: replays refused, expired ids pruned, the log checkpointed off a call."""

from __future__ import annotations

import sqlite3
import time

from fasciculate.service._replay import ReplayCache

ISS = "https://ehr.test.invalid"


def _copied(path) -> int:
    """Bytes of the database file proper: what checkpoints copied out of the write-ahead log."""
    return path.stat().st_size


def test_a_replay_is_refused_until_the_token_expires(tmp_path):
    cache = ReplayCache(tmp_path / "db.sqlite3")
    now = time.time()
    assert cache.first_use(ISS, "a", now + 60, now)
    assert not cache.first_use(ISS, "a", now + 60, now + 1)
    assert cache.first_use("https://other.invalid", "a", now + 60, now)  # per issuer
    assert cache.first_use(ISS, "a", now + 200, now + 61)  # expired: the id may be used again
    cache.close()


def test_expired_ids_are_pruned_as_ids_are_added(tmp_path):
    """Each 64 inserts delete up to 128 expired ids: the table keeps to the tokens alive."""
    path = tmp_path / "db.sqlite3"
    cache = ReplayCache(path)
    now = time.time()
    for n in range(300):
        cache.first_use(ISS, f"old-{n}", now + 10, now)
    for n in range(192):
        cache.first_use(ISS, f"new-{n}", now + 100, now + 20)
    cache.close()
    with sqlite3.connect(path) as db:
        expired = db.execute("SELECT count(*) FROM seen_jti WHERE until < ?", (now + 20,))
        assert 0 == expired.fetchone()[0]  # three deletes of up to 128 since they expired
        assert 192 == db.execute("SELECT count(*) FROM seen_jti").fetchone()[0]


def test_inserts_never_checkpoint_the_log_themselves(tmp_path):
    """Past SQLite's own threshold (1000 pages) the rows stay in the log until a checkpoint."""
    path = tmp_path / "db.sqlite3"
    cache = ReplayCache(path, checkpoint_every=10**9)
    empty = _copied(path)
    now = time.time()
    for n in range(1500):
        cache.first_use(ISS, f"{n:06d}-{'x' * 40}", now + 100, now)
    assert (tmp_path / "db.sqlite3-wal").stat().st_size > 1000 * 4096
    assert empty == _copied(path)
    cache.checkpoint()
    assert _copied(path) > empty + 50_000
    cache.close()


def test_the_background_thread_checkpoints_every_so_many_inserts(tmp_path):
    path = tmp_path / "db.sqlite3"
    cache = ReplayCache(path, checkpoint_every=500)
    empty = _copied(path)
    now = time.time()
    for n in range(499):
        cache.first_use(ISS, f"{n:06d}-{'x' * 40}", now + 100, now)
    assert empty == _copied(path)
    cache.first_use(ISS, "the 500th", now + 100, now)
    deadline = time.monotonic() + 10
    while _copied(path) == empty and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _copied(path) > empty
    cache.close()

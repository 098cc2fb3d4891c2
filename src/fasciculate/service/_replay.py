"""The JWT ``jti`` replay cache, in the service's SQLite database.

Each token id is kept, per issuer, until its token expires. Being in the database rather than in
a process's memory, it is shared by every worker that uses the same file and survives a restart:
a token used once is refused everywhere until it expires. One insert a call (about 0.02 ms of
CPU), on the event loop, and every 64 inserts a delete of up to 128 expired ids (so the table
stays the size of the tokens alive, a fraction of a millisecond at a time).

The write-ahead log is checkpointed in a background thread with its own connection, every
``checkpoint_every`` inserts, never in a call: SQLite would otherwise checkpoint in whichever
insert finds the log full, and a checkpoint syncs the file to disk (10-15 ms on an idle disk,
far longer on a busy one, with every call waiting behind it). A passive checkpoint waits for no
writer, but under steady load it never catches up with the end of the log, which then grows
(about 10 kB an insert): when the log passes 64 MB, the background thread truncates it, which
holds writers back for that one checkpoint (once every half-minute at 200 calls/s sustained).
"""

from __future__ import annotations

import concurrent.futures
import logging
import sqlite3
import threading
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS seen_jti (
    iss TEXT NOT NULL,
    jti TEXT NOT NULL,
    until REAL NOT NULL,
    PRIMARY KEY (iss, jti)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS seen_jti_until ON seen_jti (until);
"""
# A row is written when the id is new, or when the one stored has expired (an id may be reused
# once its token can no longer be); otherwise nothing changes and the token is a replay.
_REMEMBER = """
INSERT INTO seen_jti (iss, jti, until) VALUES (?, ?, ?)
ON CONFLICT (iss, jti) DO UPDATE SET until = excluded.until WHERE seen_jti.until < ?
"""
_PRUNE = """
DELETE FROM seen_jti WHERE (iss, jti) IN (
    SELECT iss, jti FROM seen_jti WHERE until < ? ORDER BY until LIMIT ?
)
"""
#: Inserts between two checkpoints of the write-ahead log (in the background).
CHECKPOINT_EVERY = 512
#: Inserts between two deletes of expired ids, and the most ids each deletes.
_PRUNE_EVERY, _PRUNE_BATCH = 64, 128
#: The write-ahead log is truncated when it holds more frames (pages) than this: 64 MB.
_WAL_FRAMES = 16384
_LOGGER = logging.getLogger("fasciculate.service")


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=5)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    # Checkpoints are the background thread's, off the path of a call.
    db.execute("PRAGMA wal_autocheckpoint=0")
    return db


class ReplayCache:
    """Token ids seen, until their tokens expire; safe to share between threads and processes."""

    def __init__(self, path: Path, *, checkpoint_every: int = CHECKPOINT_EVERY) -> None:
        """Open (and create) the cache's table in the database at *path*."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = _connect(path)
        self._db.executescript(_SCHEMA)
        self._path = path
        self._inserts = 0
        self._checkpoint_every = checkpoint_every
        self._background = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="fasciculate-checkpoint"
        )
        self._checkpoint_db: sqlite3.Connection | None = None
        self._pending: concurrent.futures.Future[None] | None = None

    def first_use(self, iss: str, jti: str, until: float, now: float) -> bool:
        """Remember (*iss*, *jti*) until *until*; False when it is already there (a replay)."""
        with self._lock:
            new = self._db.execute(_REMEMBER, (iss, jti, until, now)).rowcount == 1
            self._inserts += 1
            if self._inserts % _PRUNE_EVERY == 0:
                self._db.execute(_PRUNE, (now, _PRUNE_BATCH))
            due = self._inserts % self._checkpoint_every == 0
            if due and (self._pending is None or self._pending.done()):
                self._pending = self._background.submit(self._checkpoint)
        return new

    def checkpoint(self) -> None:
        """Checkpoint the write-ahead log now, and wait (the service leaves it to its thread)."""
        self._background.submit(self._checkpoint).result()

    def _checkpoint(self) -> None:
        if self._checkpoint_db is None:
            self._checkpoint_db = _connect(self._path)
        try:
            # PASSIVE: copies what it can without waiting for, or blocking, any writer.
            frames = self._checkpoint_db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
            if frames > _WAL_FRAMES:
                self._checkpoint_db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.OperationalError as error:  # e.g. another worker's checkpoint: next time
            _LOGGER.debug("checkpoint skipped: %s", error)

    def close(self) -> None:
        """Finish the checkpoint under way, then close the database."""
        self._background.shutdown(wait=True)
        with self._lock:
            self._db.close()
            if self._checkpoint_db is not None:
                self._checkpoint_db.close()

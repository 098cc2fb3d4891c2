"""The worker processes of a screening: started once, they key the export's lines, then assess.

A function is applied to a stream of batches by the pool, a bounded number of batches ahead of
the one awaited (memory stays flat), and the answers come back in the order the batches were
sent: the output is the same for any number of workers.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

_T = TypeVar("_T")
_R = TypeVar("_R")

#: Batches in flight per worker: enough to keep each busy while the next is prepared.
IN_FLIGHT = 4


def available_cores() -> int:
    """The cores this process may run on."""
    with contextlib.suppress(AttributeError, OSError):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@contextlib.contextmanager
def process_pool(workers: int) -> Iterator[concurrent.futures.Executor]:
    """A pool of *workers* processes, each with fasciculate imported; stopped on leaving."""
    context: multiprocessing.context.BaseContext
    if "forkserver" in multiprocessing.get_all_start_methods():
        server = multiprocessing.get_context("forkserver")
        # The server imports fasciculate once and forks each worker from it, ready to run.
        server.set_forkserver_preload(["fasciculate.bulk"])
        context = server
    else:  # pragma: no cover - Windows and macOS without forkserver
        context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
        yield pool


def ordered(
    pool: concurrent.futures.Executor,
    function: Callable[[_T], _R],
    batches: Iterable[_T],
    *,
    ahead: int,
) -> Iterator[_R]:
    """*function* of each of *batches*, run by *pool*, in order, at most *ahead* batches sent."""
    waiting: collections.deque[concurrent.futures.Future[_R]] = collections.deque()
    try:
        for batch in batches:
            waiting.append(pool.submit(function, batch))
            if len(waiting) >= ahead:
                yield waiting.popleft().result()
        while waiting:
            yield waiting.popleft().result()
    finally:
        for future in waiting:
            future.cancel()

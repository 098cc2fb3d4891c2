"""An ordered map over a pool of worker processes, for the batch commands.

``fasciculate screen --workers N`` and ``fasciculate screen-bulk`` hand chunks of records to a
process pool and take the answers back in the order the chunks were sent, a bounded number in
flight at a time (memory stays flat): their output is the same bytes for any number of workers.
The workers ignore Ctrl-C: the parent stops sending, cancels what has not started and waits for
the chunks under way, so an interrupted run ends with the parent's message, not a traceback per
worker.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

_In = TypeVar("_In")
_Out = TypeVar("_Out")

#: Chunks in flight per worker: enough to keep each busy, few enough to bound memory.
IN_FLIGHT = 4


def chunks(items: Iterable[_In], size: int) -> Iterator[list[_In]]:
    """*items* in lists of *size* (the last one shorter), as they come."""
    chunk: list[_In] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def available_cores() -> int:
    """The cores this process may run on."""
    with contextlib.suppress(AttributeError, OSError):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _ignore_interrupts() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def ordered_map(
    workers: int, preload: str
) -> Iterator[Callable[[Callable[[_In], _Out], Iterable[_In]], Iterator[_Out]]]:
    """An ordered map over *workers* processes, each with the module *preload* imported."""
    context: multiprocessing.context.BaseContext
    if "forkserver" in multiprocessing.get_all_start_methods():
        server = multiprocessing.get_context("forkserver")
        # The server imports the module once and forks each worker from it, ready to run.
        server.set_forkserver_preload([preload])
        context = server
    else:  # pragma: no cover - Windows and macOS without forkserver
        context = multiprocessing.get_context("spawn")
    pool = concurrent.futures.ProcessPoolExecutor(
        workers, mp_context=context, initializer=_ignore_interrupts
    )

    def mapped(function: Callable[[_In], _Out], items: Iterable[_In]) -> Iterator[_Out]:
        """*function* applied to each item in the pool, in order, a few items ahead."""
        waiting: collections.deque[concurrent.futures.Future[_Out]] = collections.deque()
        try:
            for item in items:
                waiting.append(pool.submit(function, item))
                if len(waiting) >= workers * IN_FLIGHT:
                    yield waiting.popleft().result()
            while waiting:
                yield waiting.popleft().result()
        finally:
            for future in waiting:
                future.cancel()

    try:
        yield mapped
    finally:
        pool.shutdown(wait=True, cancel_futures=True)

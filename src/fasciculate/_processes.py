"""An ordered map over a pool of worker processes, for the batch commands.

``fasciculate screen --workers N`` and ``fasciculate screen-bulk`` hand chunks of records to a
process pool and take the answers back in the order the chunks were sent, a bounded number in
flight at a time (memory stays flat): their output is the same bytes for any number of workers.

Ctrl-C is the parent's alone: the workers (and the server they are forked from) never receive
it, so an interrupted run ends with the parent's one message and no traceback per worker. When
the run ends early (Ctrl-C, an error) what has not started is cancelled and the chunks under way
finish; a worker whose parent has died (``kill -9``, out of memory) exits within a second or two
rather than wait forever.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import multiprocessing
import multiprocessing.forkserver
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

_In = TypeVar("_In")
_Out = TypeVar("_Out")

#: Chunks in flight per worker: enough to keep each busy, few enough to bound memory.
IN_FLIGHT = 4
#: How often a worker checks that its parent is alive, in seconds.
_WATCH_EVERY = 1.0


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


def worker_problem(workers: int) -> str | None:
    """What is wrong with *workers* as a number of worker processes, or None.

    At least 1, and at most twice the cores available (at least 4): more than the cores gain
    nothing, and each worker holds an engine and its caches (about 100 MB), so a mistyped
    ``--workers 1000`` is refused rather than started.
    """
    cores = available_cores()
    most = max(4, 2 * cores)
    if 1 <= workers <= most:
        return None
    available = f"{cores} core{'' if cores == 1 else 's'} available"
    return f"--workers {workers}: give 1 to {most} (twice the {available}, at least 4)"


@contextlib.contextmanager
def _interrupts_blocked() -> Iterator[None]:
    """Hold SIGINT back in this thread (the main one) for the block; it is delivered after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


@contextlib.contextmanager
def _interrupts_ignored() -> Iterator[None]:
    """Ignore SIGINT in this process for the block (main thread only; a no-op elsewhere)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


def _start_worker(parent: int) -> None:
    """In each worker: ignore Ctrl-C, and exit when *parent* is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch, args=(parent,), name="parent watch", daemon=True).start()


def _watch(parent: int) -> None:  # pragma: no cover - runs in the workers
    while True:
        time.sleep(_WATCH_EVERY)
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            os._exit(1)
        except OSError:  # alive, someone else's (cannot happen for a parent): keep going
            continue


@contextlib.contextmanager
def ordered_map(
    workers: int, preload: str
) -> Iterator[Callable[[Callable[[_In], _Out], Iterable[_In]], Iterator[_Out]]]:
    """An ordered map over *workers* processes, each with the module *preload* imported."""
    context: multiprocessing.context.BaseContext
    if "forkserver" in multiprocessing.get_all_start_methods():
        server = multiprocessing.get_context("forkserver")
        # The server imports the module once and forks each worker from it, ready to run. It is
        # started while this process ignores Ctrl-C: it and every worker forked from it inherit
        # that (a Python process keeps a SIGINT its parent ignores ignored). A Ctrl-C in those
        # few milliseconds is lost; the alternatives print a traceback from the server.
        server.set_forkserver_preload([preload])
        with _interrupts_ignored():
            multiprocessing.forkserver.ensure_running()
        context = server
    else:  # pragma: no cover - Windows and macOS without forkserver
        context = multiprocessing.get_context("spawn")
    pool = concurrent.futures.ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=(os.getpid(),)
    )

    def mapped(function: Callable[[_In], _Out], items: Iterable[_In]) -> Iterator[_Out]:
        """*function* applied to each item in the pool, in order, a few items ahead.

        What is done is given back whenever an item is sent, so a slow stream of items is
        answered an item or two behind, not only once the pool is full.
        """
        waiting: collections.deque[concurrent.futures.Future[_Out]] = collections.deque()
        try:
            for item in items:
                waiting.append(pool.submit(function, item))
                if len(waiting) >= workers * IN_FLIGHT:
                    yield waiting.popleft().result()
                while waiting and waiting[0].done():
                    yield waiting.popleft().result()
            while waiting:
                yield waiting.popleft().result()
        finally:
            for future in waiting:
                future.cancel()

    try:
        # Every worker started and ready before the first chunk, with Ctrl-C held back meanwhile:
        # one that comes while a worker is still starting would have it fail noisily.
        with _interrupts_blocked():
            for started in [pool.submit(int) for _ in range(workers)]:
                started.result()
        yield mapped
    finally:
        # After an early end (Ctrl-C, an error) what has not started is cancelled and the chunks
        # under way finish. Ctrl-C is held back meanwhile: a second one would break into the
        # shutdown and leave the pool's threads waiting forever.
        with _interrupts_blocked():
            pool.shutdown(wait=True, cancel_futures=True)

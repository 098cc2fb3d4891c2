"""The cyclic garbage collector held back while requests are in flight, in the server process.

A call builds thousands of short-lived objects (the request's JSON, the bundle's models, the
reading, the cards) and frees them all by reference counting: it makes no reference cycles. But
while they are alive they count towards the collector's young generation, so a collection falls
in the middle of about one call in twelve and scans all of them, to free nothing: 0.03-0.1 ms of
CPU a call on average, and pauses of 1-20 ms (a collection of the middle generation, about one
call in 140) that land in the latency tail.

:class:`CollectorPause` wraps the ASGI app: automatic collection is paused from the moment a
request arrives while no other is in flight, and restored when the last in flight has been
answered. The objects of the calls are freed by then, so the collections that follow, between
calls, scan only what outlived them (the records kept, a few hundred objects). The pause is
never longer than :data:`LONGEST_PAUSE`: under a load that always has a request in flight (slow
FHIR servers, say), collection resumes at the next answer after it, so any cycles made are still
collected. Only the server's own process uses it (:func:`~fasciculate.service.serve`), never an
application that embeds the app of :func:`~fasciculate.service.create_app`, whose threads the
pause would concern too; and when the collector is already disabled it is left as it is.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

#: The longest the collector stays paused (seconds), however many requests are in flight.
LONGEST_PAUSE = 1.0

_Scope = MutableMapping[str, Any]
_Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
_Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
_App = Callable[[_Scope, _Receive, _Send], Awaitable[None]]


class CollectorPause:
    """An ASGI app: *app*, with the collector paused while its HTTP requests are in flight."""

    def __init__(self, app: _App, *, longest: float = LONGEST_PAUSE) -> None:
        """Wrap *app*; the collector is paused for at most *longest* seconds at a time."""
        self.app = app
        self._longest = longest
        self._in_flight = 0
        self._paused_at: float | None = None  # when this pause began; None: not paused by us

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        """Serve one ASGI connection (HTTP requests pause the collector; the rest do not)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self._arrived()
        try:
            await self.app(scope, receive, send)
        finally:
            self._answered()

    @property
    def paused(self) -> bool:
        """Whether the collector is paused by this app now."""
        return self._paused_at is not None

    def _arrived(self) -> None:
        self._in_flight += 1
        if self._in_flight == 1 and self._paused_at is None and gc.isenabled():
            gc.disable()
            self._paused_at = time.monotonic()

    def _answered(self) -> None:
        self._in_flight -= 1
        if self._paused_at is None:
            return
        if self._in_flight == 0 or time.monotonic() - self._paused_at > self._longest:
            self._paused_at = None
            gc.enable()

"""The collector paused while requests are in flight, and always restored."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from fasciculate.service import ServiceConfig, create_app
from fasciculate.service._collector import CollectorPause
from fasciculate.service._serve import served
from service._service_support import Running


@pytest.fixture(autouse=True)
def _collector_restored() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.enable()
    yield
    if enabled:
        gc.enable()
    else:
        gc.disable()


class _App:
    """An ASGI app that records whether the collector ran during each request, and waits."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, bool]] = []
        self.release: dict[str, asyncio.Event] = {}

    async def __call__(self, scope: Any, _receive: Any, _send: Any) -> None:
        name = scope.get("path", scope["type"])
        self.seen.append((name, gc.isenabled()))
        if name in self.release:
            await self.release[name].wait()
        if name == "/fails":
            raise RuntimeError("the app failed")


async def _nothing() -> dict[str, Any]:
    return {}


async def _ignore(_message: Any) -> None:
    return None


def _request(app: CollectorPause, path: str) -> Any:
    return app({"type": "http", "path": path}, _nothing, _ignore)


def test_a_request_runs_with_the_collector_paused_and_it_is_restored_after():
    """Paused during the request, enabled again once it is answered, even when it failed."""
    inner = _App()
    app = CollectorPause(inner)
    asyncio.run(_request(app, "/one"))
    assert [("/one", False)] == inner.seen
    assert gc.isenabled()
    assert not app.paused
    with pytest.raises(RuntimeError, match="the app failed"):
        asyncio.run(_request(app, "/fails"))
    assert gc.isenabled()


def test_the_collector_resumes_when_the_last_request_in_flight_is_answered():
    """Two overlapping requests: still paused after the first answer, restored after the last."""
    inner = _App()
    app = CollectorPause(inner)

    async def run() -> list[bool]:
        inner.release = {"/slow": asyncio.Event()}
        slow = asyncio.create_task(_request(app, "/slow"))
        await asyncio.sleep(0)
        await _request(app, "/quick")
        during = gc.isenabled()
        inner.release["/slow"].set()
        await slow
        return [during, gc.isenabled()]

    assert [False, True] == asyncio.run(run())
    assert [("/slow", False), ("/quick", False)] == inner.seen


def test_the_pause_is_never_longer_than_its_limit():
    """Past the limit, the next answer restores the collector though a request is in flight."""
    inner = _App()
    app = CollectorPause(inner, longest=0.0)

    async def run() -> bool:
        inner.release = {"/slow": asyncio.Event()}
        slow = asyncio.create_task(_request(app, "/slow"))
        await asyncio.sleep(0)
        await _request(app, "/quick")
        restored = gc.isenabled()
        await _request(app, "/later")  # another is in flight: no new pause
        inner.release["/slow"].set()
        await slow
        return restored

    assert asyncio.run(run())
    assert ("/later", True) == inner.seen[-1]
    assert gc.isenabled()


def test_a_disabled_collector_is_left_disabled_and_lifespan_is_not_paused():
    """The app never enables a collector it did not disable; lifespan events pass through."""
    inner = _App()
    app = CollectorPause(inner)
    asyncio.run(app({"type": "lifespan"}, _nothing, _ignore))
    assert [("lifespan", True)] == inner.seen
    gc.disable()
    asyncio.run(_request(app, "/one"))
    assert not gc.isenabled()


def test_the_server_process_serves_the_app_through_the_pause(tmp_path):
    """What `fasciculate serve` runs: the app wrapped, answering, the collector enabled after."""
    running = Running(None)
    config = ServiceConfig.model_validate(
        {
            "base_url": running.url,
            "database": tmp_path / "feedback.sqlite3",
            "auth": {"required": False},
        }
    )
    app = served(create_app(config))
    assert isinstance(app, CollectorPause)
    running.start(app)
    try:
        assert 200 == httpx.get(f"{running.url}/health").status_code
        assert 404 == httpx.get(f"{running.url}/nowhere").status_code
    finally:
        running.stop()
    assert gc.isenabled()
    assert not app.paused

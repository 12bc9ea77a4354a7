"""VendorHttpClient keeps its connection pool usable (issue 8, point 7; encode/httpcore#1093).

A real HTTP server on loopback; the pool is httpx's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Iterator

import httpcore
import httpx
import pytest
from prometheus_client import REGISTRY
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.errors import VendorError
from adapters.http import (
    DEFAULT_MAX_CONNECTIONS,
    RESERVED_FOR_BACKGROUND,
    Endpoint,
    RetryPolicy,
    VendorHttpClient,
    interactive,
)
from adapters.simulation import LoopbackServer

ENDPOINTS = {"ping": Endpoint("GET", "/ping", "inferred"), "slow": Endpoint("GET", "/slow", "inferred")}


async def _ping(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


async def _slow(request: Request) -> JSONResponse:
    await asyncio.sleep(0.05)
    return JSONResponse({"ok": True})


@pytest.fixture(scope="module")
def server() -> Iterator[LoopbackServer]:
    app = Starlette(routes=[Route("/ping", _ping), Route("/slow", _slow)])
    with LoopbackServer(app) as running:
        yield running


def _client(server: LoopbackServer, *, pool: float, **kwargs: int) -> VendorHttpClient:
    return VendorHttpClient(
        vendor="Sim",
        base_url=server.url,
        endpoints=ENDPOINTS,
        timeout=httpx.Timeout(2.0, pool=pool),
        retry=RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02),
        **kwargs,
    )


def _rebuilds() -> float:
    return REGISTRY.get_sample_value("phonebot_vendor_pool_rebuilds_total", {"vendor": "Sim"}) or 0.0


async def test_cancelled_callers_under_contention_never_wedge_the_pool(server: LoopbackServer) -> None:
    """The reproduction of encode/httpcore#1093: callers cancelled while the pool is contended."""
    client = _client(server, pool=3.0)  # the production pool: 50 connections
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 2.0

        async def churn() -> None:
            while loop.time() < deadline:
                with contextlib.suppress(TimeoutError, VendorError):
                    await asyncio.wait_for(client.call("slow", token=None), timeout=random.uniform(0.01, 0.1))

        await asyncio.gather(*(churn() for _ in range(120)))
        # Every slot is usable again: fifty at once, each well inside the pool timeout.
        async with asyncio.timeout(2.5):
            results = await asyncio.gather(*(client.call("ping", token=None) for _ in range(50)))
        assert results == [{"ok": True}] * 50
    finally:
        await client.aclose()


async def test_a_wedged_pool_is_rebuilt_and_the_request_succeeds(server: LoopbackServer) -> None:
    """Slots held by connections nobody owns (the bug's end state): phonebot rebuilds the client."""
    client = _client(server, pool=0.2, max_connections=2)
    try:
        pool = client._current.client._transport._pool  # type: ignore[attr-defined]
        origin = httpcore.URL(server.url).origin
        for _ in range(2):  # never connected, never reclaimed: exactly what a leaked slot looks like
            pool._connections.append(httpcore.AsyncHTTPConnection(origin=origin))
        before = _rebuilds()

        assert await client.call("ping", token=None) == {"ok": True}

        assert client.rebuilds == 1
        assert _rebuilds() == before + 1
        assert await client.call("ping", token=None) == {"ok": True}
        assert client.rebuilds == 1
    finally:
        await client.aclose()


async def test_a_cancelled_caller_does_not_cancel_its_request(server: LoopbackServer) -> None:
    """httpx's own timeouts end a request; our caller's cancellation only stops the wait."""
    client = _client(server, pool=1.0, max_connections=1)
    try:
        task = asyncio.create_task(client.call("slow", token=None))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert client.in_flight == 1  # still on the wire, inside its slot
        async with asyncio.timeout(1.0):
            assert await client.call("ping", token=None) == {"ok": True}  # the slot came back
        assert client.in_flight == 0
    finally:
        await client.aclose()


async def test_a_flood_of_interactive_requests_leaves_the_background_its_reserved_connections() -> None:
    """Commands (interactive) can take all but RESERVED_FOR_BACKGROUND connections: the poller's stay free."""

    async def held(request: Request) -> JSONResponse:
        await asyncio.sleep(1.0)
        return JSONResponse({"ok": True})

    app = Starlette(routes=[Route("/ping", _ping), Route("/slow", held)])
    with LoopbackServer(app) as slow_server:
        client = _client(slow_server, pool=3.0)
        try:
            with interactive():
                flood = [
                    asyncio.ensure_future(client.call("slow", token=None, params={"n": n}))
                    for n in range(DEFAULT_MAX_CONNECTIONS + 20)
                ]
            await asyncio.sleep(0.2)  # the interactive lane is full, the rest of the flood waits for it
            assert client.in_flight == DEFAULT_MAX_CONNECTIONS - RESERVED_FOR_BACKGROUND
            loop = asyncio.get_running_loop()
            started = loop.time()
            assert await client.call("ping", token=None) == {"ok": True}  # the poller, outside interactive()
            assert loop.time() - started < 0.5
            assert await asyncio.gather(*flood) == [{"ok": True}] * (DEFAULT_MAX_CONNECTIONS + 20)
        finally:
            await client.aclose()

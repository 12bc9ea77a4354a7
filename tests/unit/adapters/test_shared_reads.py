"""Identical vendor reads in flight at once share one request; writes and distinct reads never do.

A real HTTP server on loopback counts what reaches it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.errors import VendorRejected
from adapters.http import Endpoint, RetryPolicy, VendorHttpClient
from adapters.simulation import LoopbackServer

ENDPOINTS = {
    "status": Endpoint("GET", "/status", "inferred"),
    "login": Endpoint("POST", "/login", "inferred"),
    "broken": Endpoint("GET", "/broken", "inferred"),
}


class Vendor:
    """Counts requests by (path, query, auth); ``/status`` answers after a short delay."""

    def __init__(self) -> None:
        self.seen: Counter[tuple[str, str, str]] = Counter()
        self.state = 0

    def app(self) -> Starlette:
        async def status(request: Request) -> JSONResponse:
            self.seen[("status", request.url.query, request.headers.get("authorization", ""))] += 1
            state = self.state
            await asyncio.sleep(0.1)
            return JSONResponse({"state": state})

        async def login(request: Request) -> JSONResponse:
            self.seen[("login", "", request.headers.get("authorization", ""))] += 1
            self.state += 1
            return JSONResponse({"ok": True})

        async def broken(request: Request) -> JSONResponse:
            self.seen[("broken", "", "")] += 1
            await asyncio.sleep(0.05)
            return JSONResponse({"message": "no"}, status_code=400)

        return Starlette(
            routes=[Route("/status", status), Route("/login", login, methods=["POST"]), Route("/broken", broken)]
        )


@pytest.fixture
def vendor() -> Iterator[tuple[Vendor, LoopbackServer]]:
    fake = Vendor()
    with LoopbackServer(fake.app()) as running:
        yield fake, running


def _client(server: LoopbackServer) -> VendorHttpClient:
    return VendorHttpClient(vendor="Sim", base_url=server.url, endpoints=ENDPOINTS, retry=RetryPolicy(attempts=1))


async def test_a_burst_of_identical_reads_costs_one_request_and_every_caller_gets_the_answer(
    vendor: tuple[Vendor, LoopbackServer],
) -> None:
    fake, server = vendor
    client = _client(server)
    try:
        answers = await asyncio.gather(*(client.call("status", token="t1") for _ in range(40)))
    finally:
        await client.aclose()
    assert answers == [{"state": 0}] * 40
    assert fake.seen == Counter({("status", "", "Bearer t1"): 1})
    assert answers[0] is not answers[1]  # each caller decodes its own copy: no shared mutable state


async def test_reads_with_other_credentials_or_query_are_their_own_requests(
    vendor: tuple[Vendor, LoopbackServer],
) -> None:
    fake, server = vendor
    client = _client(server)
    try:
        await asyncio.gather(
            client.call("status", token="t1"),
            client.call("status", token="t2"),
            client.call("status", token="t1", params={"group": "7"}),
            client.call("status", token="t1", params={"group": "7"}),
        )
    finally:
        await client.aclose()
    assert fake.seen == Counter(
        {("status", "", "Bearer t1"): 1, ("status", "", "Bearer t2"): 1, ("status", "group=7", "Bearer t1"): 1}
    )


async def test_a_read_after_a_write_never_joins_a_read_that_started_before_it(
    vendor: tuple[Vendor, LoopbackServer],
) -> None:
    fake, server = vendor
    client = _client(server)
    try:
        before = asyncio.ensure_future(client.call("status", token="t1"))
        await asyncio.sleep(0.02)  # the first read is on the wire, answering for state 0
        await client.call("login", token="t1")
        after = await client.call("status", token="t1")
        assert await before == {"state": 0}
    finally:
        await client.aclose()
    assert after == {"state": 1}
    assert fake.seen[("status", "", "Bearer t1")] == 2
    # Writes are never shared, even identical ones at once.
    client = _client(server)
    try:
        await asyncio.gather(client.call("login", token="t1"), client.call("login", token="t1"))
    finally:
        await client.aclose()
    assert fake.seen[("login", "", "Bearer t1")] == 3


async def test_a_failed_read_fails_every_sharer_and_the_next_read_asks_again(
    vendor: tuple[Vendor, LoopbackServer],
) -> None:
    fake, server = vendor
    client = _client(server)
    try:
        outcomes = await asyncio.gather(*(client.call("broken", token=None) for _ in range(5)), return_exceptions=True)
        assert all(isinstance(outcome, VendorRejected) for outcome in outcomes)
        with pytest.raises(VendorRejected):
            await client.call("broken", token=None)
    finally:
        await client.aclose()
    assert fake.seen[("broken", "", "")] == 2


async def test_a_cancelled_caller_does_not_cancel_the_read_its_sharers_wait_for(
    vendor: tuple[Vendor, LoopbackServer],
) -> None:
    fake, server = vendor
    client = _client(server)
    try:
        first = asyncio.ensure_future(client.call("status", token="t1"))
        second = asyncio.ensure_future(client.call("status", token="t1"))
        await asyncio.sleep(0.02)
        first.cancel()
        assert await second == {"state": 0}
    finally:
        await client.aclose()
    assert fake.seen[("status", "", "Bearer t1")] == 1

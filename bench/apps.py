"""The ASGI apps the benches serve (each in its own process, see :class:`bench.common.ServedApp`).

``phonebot`` is the real thing, built exactly as ``phonebot serve`` builds it. The others are
the floors it is measured against — each does the least work the same request needs:

* ``bare_bolt``: a Bolt ``AsyncApp`` that only acknowledges every slash command, mounted in
  Starlette through Bolt's own ``AsyncSlackRequestHandler``, as phonebot's ``/slack/events`` is;
* ``bare_xadd``: a Starlette endpoint that reads the webhook body and ``XADD``\\ s it to a Redis stream;
* ``trivial``: a Starlette endpoint answering 200 — the cost of the client, uvicorn and loopback.

``dstny_simulator`` serves the Dstny simulator on its own, so a burst's vendor calls don't share
a process (and its GIL) with the fake Slack; its latency is set over ``POST /_sim/faults``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

FLOOR_STREAM = "bench:floor:stream"


def phonebot(settings: dict[str, Any], config: dict[str, Any]) -> Starlette:
    """phonebot's ASGI app from :class:`~bot.config.Settings` keywords and a loaded config tree."""
    from bot.config import Settings, parse_config
    from bot.runtime import build_runtime
    from bot.server import build_asgi_app

    return build_asgi_app(build_runtime(Settings(**settings), parse_config(config, source="bench")))


def bare_bolt(signing_secret: str, bot_token: str, slack_url: str) -> Starlette:
    """A Bolt app whose every slash command listener is ``await ack()`` and nothing else."""
    from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
    from slack_bolt.async_app import AsyncAck, AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    app = AsyncApp(
        client=AsyncWebClient(token=bot_token, base_url=slack_url),
        signing_secret=signing_secret,
        process_before_response=False,
        raise_error_for_unhandled_request=False,
    )

    @app.command(re.compile(r"^/.*"))
    async def ack_only(ack: AsyncAck) -> None:
        await ack()

    handler = AsyncSlackRequestHandler(app)

    async def slack_events(request: Request) -> Response:
        return await handler.handle(request)

    return Starlette(routes=[Route("/slack/events", slack_events, methods=["POST"])])


def bare_xadd(redis_url: str) -> Starlette:
    """``POST /webhook``: the body appended to :data:`FLOOR_STREAM` with one ``XADD``, then 200."""
    import redis.asyncio as aioredis

    client: Any = None

    async def webhook(request: Request) -> Response:
        body = await request.body()
        entry = await client.xadd(FLOOR_STREAM, {"sk": "bench|floor", "event": body})
        return JSONResponse({"ok": True, "id": entry.decode()})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        nonlocal client
        client = aioredis.Redis.from_url(redis_url)
        yield
        await client.aclose()

    return Starlette(routes=[Route("/webhook", webhook, methods=["POST"])], lifespan=lifespan)


def trivial() -> Starlette:
    """``GET|POST /``: 200 with a tiny JSON body."""

    async def ok(request: Request) -> Response:
        await request.body()
        return JSONResponse({"ok": True})

    return Starlette(routes=[Route("/", ok, methods=["GET", "POST"])])


def dstny_simulator() -> Starlette:
    """The Dstny simulator with its demo data (latency and errors via ``/_sim/faults``)."""
    from adapters.dstny.simulator import DstnySimulator

    return DstnySimulator().build_app()

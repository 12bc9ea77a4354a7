"""Redis connection pools under a burst (issue 8, point 8), against a spawned redis-server.

Before the fix one unbounded-wait-free pool (redis-py's default: 100 connections, then
``MaxConnectionsError: Too many connections`` at once) served commands and the alert
pipeline alike, so a burst of commands made users' calls and webhook intake fail.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from adapters.events import AlertEvent, AlertKind
from bot.config import Settings, parse_config
from bot.runtime import build_runtime
from bot.store import RedisStore

BURST = 300  # concurrent store calls: more than any pool phonebot opens


async def test_a_burst_of_store_calls_larger_than_the_pool_waits_instead_of_failing(redis_url: str) -> None:
    store = RedisStore(redis_url)
    try:
        results = await asyncio.gather(*(store.incr("burst") for _ in range(BURST)))
        assert sorted(results) == list(range(1, BURST + 1))
        assert await store.get("burst") == str(BURST)
    finally:
        await store.close()


def _event(n: int) -> AlertEvent:
    return AlertEvent(
        kind=AlertKind.LOST_CALL_OPENED,
        vendor="tele2",
        subject=f"lost:+3706990{n:04d}:+37052000000",
        idempotency_key=f"tele2:lost:{n}",
        occurred_at=datetime(2026, 11, 24, 9, 30, tzinfo=UTC),
        caller_number=f"+3706990{n:04d}",
        line="+37052000000",
        attempts=1,
    )


async def test_webhook_intake_still_works_while_the_command_pool_is_exhausted(redis_url: str) -> None:
    settings = Settings(
        redis_url=redis_url, redis_pool_timeout_seconds=5, slack_bot_token="xoxb-test", slack_signing_secret="s"
    )
    runtime = build_runtime(settings, parse_config({}, source="test", env={}))
    commands = runtime.store
    blocker = commands.client.connection_pool.max_connections  # type: ignore[attr-defined]
    try:
        await runtime.alerts.queue.ensure_group()
        # Every command connection is taken by a blocking read that lasts 2 s.
        held = [asyncio.create_task(commands.client.blpop([f"never:{i}"], timeout=2)) for i in range(blocker)]
        await asyncio.sleep(0.3)
        waiting = asyncio.create_task(commands.get("identity:U1"))  # one command more: it waits its turn

        started = time.monotonic()
        assert await runtime.alerts.queue.submit(_event(1))  # what a webhook does: dedupe + XADD
        assert time.monotonic() - started < 1.0
        assert not waiting.done()

        await asyncio.gather(*held)
        assert await waiting is None  # the waiting command got a connection once one came free
    finally:
        await runtime.aclose()

"""What the alert end-to-end tests share: fast delivery settings, waiting, and reading Slack's side."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import redis

from adapters.tele2.adapter import Tele2Adapter, Tele2Config
from adapters.tele2.simulator import API_KEY
from bot.webhook_auth import UrlTokens
from tests.e2e.conftest import WEBHOOK_SECRET, RunningApp
from tests.fakes.slack_api import FakeSlack, SlackCall

STREAM = "phonebot:alerts:stream"
#: Delivery settings that keep tests quick: little pacing, few and short retries, fast take-over.
FAST_DELIVERY: dict[str, Any] = {
    "pace_seconds": 0.05,
    "retries": 1,
    "backoff_seconds": 0.05,
    "max_attempts": 2,
    "retry_window_seconds": 0,  # parked after max_attempts alone, so dead-letter tests stay quick
    "take_over_after_seconds": 1,
}


def alert_overrides(*routes: dict[str, Any], **alerts: Any) -> dict[str, Any]:
    """Config overrides for ``pytest.mark.phonebot``: these routes, fast delivery, any other ``alerts:`` keys."""
    return {"alerts": {"routes": list(routes), "delivery": FAST_DELIVERY, **alerts}}


def wait_until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def ok(calls: list[SlackCall]) -> list[SlackCall]:
    return [call for call in calls if call.status == 200 and (call.response or {}).get("ok")]


def writes(slack: FakeSlack) -> list[SlackCall]:
    """Accepted chat.postMessage / chat.update calls, in arrival order."""
    return sorted(ok(slack.calls_to("chat.postMessage")) + ok(slack.calls_to("chat.update")), key=lambda c: c.at)


def sequence(app: RunningApp) -> list[tuple[str, str | None]]:
    """The accepted writes as (method, ts of the message edited or threaded under)."""
    return [(c.method, c.args.get("ts") or c.args.get("thread_ts")) for c in writes(app.slack)]


def settle(app: RunningApp, seconds: float = 0.5) -> None:
    """Let the worker finish (the queue empty) and give it a moment to write anything it would wrongly repeat."""
    client = redis.Redis.from_url(app.runtime.settings.redis_url or "", decode_responses=True)
    wait_until(lambda: client.xlen(STREAM) == 0)
    time.sleep(seconds)
    client.close()


def tele2_url(app: RunningApp) -> str:
    """The secret callback URL phonebot gives Tele2 (``{event}`` is replaced per event)."""
    token = UrlTokens(WEBHOOK_SECRET.encode()).token_for("tele2", "account")
    return f"{app.url}/webhooks/tele2/{token}/{{event}}"


def subscribe(app: RunningApp) -> None:
    """What ``phonebot webhooks sync`` does, from the test's side."""

    async def run() -> None:
        adapter = Tele2Adapter(Tele2Config(base_url=app.phones.url("tele2") + "/api/v2/", api_key=API_KEY))
        try:
            await adapter.subscribe_webhooks(tele2_url(app))
        finally:
            await adapter.aclose()

    asyncio.run(run())

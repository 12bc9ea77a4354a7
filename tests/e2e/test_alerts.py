"""Alerts end to end: vendor simulators send real webhooks to the running app; the fake Slack sees the result.

Each test asserts the exact ``chat.postMessage`` / ``chat.update`` sequence per alert.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import redis

from adapters.tele2.adapter import Tele2Adapter, Tele2Config
from adapters.tele2.simulator import API_KEY
from bot.webhook_auth import UrlTokens
from tests.e2e.conftest import WEBHOOK_SECRET, RunningApp
from tests.fakes.slack_api import FakeSlack, SlackCall

CHANNEL = "C0LOST"
ALERTS: dict[str, Any] = {
    "alerts": {
        "routes": [{"channel": CHANNEL, "name": "Support"}],
        "delivery": {
            "pace_seconds": 0.05,
            "retries": 1,
            "backoff_seconds": 0.05,
            "max_attempts": 2,
            "take_over_after_seconds": 1,
        },
    }
}
pytestmark = pytest.mark.phonebot(overrides=ALERTS)


def tele2_url(app: RunningApp) -> str:
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


def settle(app: RunningApp, seconds: float = 0.5) -> None:
    """Let the worker finish (the queue empty) and give it a moment to write anything it would wrongly repeat."""
    client = redis.Redis.from_url(app.runtime.settings.redis_url or "", decode_responses=True)
    wait_until(lambda: client.xlen("phonebot:alerts:stream") == 0)
    time.sleep(seconds)
    client.close()


def test_lost_call_is_posted_once_edited_on_repeat_and_resolved_in_thread(app: RunningApp) -> None:
    subscribe(app)
    sim = app.phones.tele2
    body = sim.webhook_body("LostCallerAdded", None)
    url = tele2_url(app).replace("{event}", "LostCallerAdded")
    for _ in range(5):  # the vendor delivers the same webhook five times
        assert httpx.post(url, json=body).status_code == 200
    settle(app)
    [post] = writes(app.slack)
    assert post.method == "chat.postMessage" and post.args["channel"] == CHANNEL
    assert "+37069912345" in post.args["text"]
    ts = post.response["ts"]  # type: ignore[index]

    updated = sim.webhook_body("LostCallerUpdated", {"attempts": 2})
    for _ in range(2):  # a redelivery of the same update
        assert httpx.post(tele2_url(app).replace("{event}", "LostCallerUpdated"), json=updated).status_code == 200
    settle(app)
    sim.send_webhook_sync("LostCallerRemoved")
    settle(app)

    sequence = [(c.method, c.args.get("ts") or c.args.get("thread_ts")) for c in writes(app.slack)]
    assert sequence == [
        ("chat.postMessage", None),
        ("chat.update", ts),  # attempts: 2
        ("chat.update", ts),  # resolved
        ("chat.postMessage", ts),  # thread follow-up
    ]
    final = app.slack.message(CHANNEL, ts)
    assert final is not None and "resolved" in str(final["blocks"])
    assert "2 attempts" in str(app.slack.calls_to("chat.update")[0].args["blocks"])


def test_forged_and_malformed_webhooks_get_4xx_and_store_nothing(app: RunningApp) -> None:
    client = redis.Redis.from_url(app.runtime.settings.redis_url or "", decode_responses=True)
    good = tele2_url(app).replace("{event}", "LostCallerAdded")
    forged = good.replace("account.", "account.x")
    body = app.phones.tele2.webhook_body("LostCallerAdded", None)
    assert httpx.post(forged, json=body).status_code == 401
    assert httpx.post(f"{app.url}/webhooks/tele2/LostCallerAdded", json=body).status_code == 401
    assert httpx.post(good, content=b"{not json").status_code == 400
    assert httpx.post(good, json={"eventType": "LostCallerCreated", "data": {"attempts": "x"}}).status_code == 400
    assert httpx.post(f"{app.url}/webhooks/nosuchvendor/x", json=body).status_code == 404
    assert client.xlen("phonebot:alerts:stream") == 0
    assert not client.keys("phonebot:alerts:seen:*")
    started = time.perf_counter()
    assert httpx.post(good, json=body).status_code == 200
    assert time.perf_counter() - started < 1.0  # the vendor gets its 2xx at once
    client.close()


def test_slack_rate_limits_delay_but_lose_nothing_and_keep_order(app: RunningApp) -> None:
    subscribe(app)
    app.slack.fail("chat.postMessage", status=429, retry_after=1, times=3)
    app.slack.fail("chat.update", status=429, retry_after=1, times=2)
    sim = app.phones.tele2
    callers = [f"+3706991234{n}" for n in range(4)]
    for caller in callers:
        sim.send_webhook_sync("LostCallerAdded", {"callerid": caller})
    for caller in callers:
        sim.send_webhook_sync("LostCallerUpdated", {"callerid": caller, "attempts": 2})
    settle(app, seconds=0.2)
    accepted = writes(app.slack)
    posts = [c for c in accepted if c.method == "chat.postMessage"]
    assert sorted(re.search(r"\+3706991234\d", p.args["text"]).group(0) for p in posts) == callers  # type: ignore[union-attr]
    ts_of = {p.response["ts"]: p for p in posts}  # type: ignore[index]
    for update in (c for c in accepted if c.method == "chat.update"):
        assert update.args["ts"] in ts_of and update.at > ts_of[update.args["ts"]].at  # post before its edit
    final_texts = [str(app.slack.message(CHANNEL, ts)) for ts in ts_of]
    assert all("2 attempts" in text for text in final_texts)
    assert len([c for c in app.slack.calls_to("chat.postMessage") if c.status == 429]) == 3


def test_slack_errors_dead_letter_the_alert_and_replay_delivers_it(app: RunningApp) -> None:
    subscribe(app)
    app.slack.fail("chat.postMessage", status=500, times=None)
    app.phones.tele2.send_webhook_sync("VoicemailCreated")
    client = redis.Redis.from_url(app.runtime.settings.redis_url or "", decode_responses=True)
    wait_until(lambda: client.hlen("phonebot:alerts:dead") == 1)
    assert client.xlen("phonebot:alerts:stream") == 0
    app.slack.clear_faults()

    from bot.cli import main

    assert main(["alerts", "dead", "--replay-all"]) == 2  # no REDIS_URL in this environment
    import os

    os.environ["REDIS_URL"] = app.runtime.settings.redis_url or ""
    try:
        assert main(["alerts", "dead", "--replay-all"]) == 0
    finally:
        del os.environ["REDIS_URL"]
    settle(app)
    [post] = writes(app.slack)
    assert "New voicemail" in post.args["text"]
    assert client.hlen("phonebot:alerts:dead") == 0
    client.close()

"""Alerts end to end: vendor simulators send real webhooks to the running app; the fake Slack sees the result.

Each test asserts the exact ``chat.postMessage`` / ``chat.update`` sequence per alert.
"""

from __future__ import annotations

import re
import time

import httpx
import pytest
import redis

from tests.e2e.alerting import alert_overrides, settle, subscribe, tele2_url, wait_until, writes
from tests.e2e.conftest import RunningApp

CHANNEL = "C0LOST"
ALERTS = alert_overrides({"channel": CHANNEL, "name": "Support"})
pytestmark = pytest.mark.phonebot(overrides=ALERTS)


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


def test_a_hostile_contact_name_reaches_slack_as_plain_text(app: RunningApp) -> None:
    """Issue 9 point 1: a Tele2 ``contact_name`` that would ping the channel or plant a link is data."""
    hostile = "<!channel> <https://evil.example|Call back> <@U0ALICE>"
    body = app.phones.tele2.webhook_body("LostCallerAdded", {"contact_name": hostile})
    assert httpx.post(tele2_url(app).replace("{event}", "LostCallerAdded"), json=body).status_code == 200
    settle(app)
    [post] = writes(app.slack)
    shown = post.args["text"] + str(post.args["blocks"])
    assert "&lt;!channel&gt;" in shown
    assert "<!channel>" not in shown and "<https://evil" not in shown and "<@U0ALICE>" not in shown

"""Multisender end to end: the simulator sends real RSVP webhooks to the running app; the fake Slack sees the result.

One Slack message per campaign: the first state change posts it, every receiver's reply edits it in
place, a redelivered callback writes nothing, and a forged or malformed callback is refused before
anything is stored.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
import redis

from adapters.multisender.adapter import MultisenderAdapter, MultisenderConfig
from adapters.multisender.simulator import API_TOKEN
from bot.webhook_auth import UrlTokens
from tests.e2e.alerting import STREAM, alert_overrides, settle, writes
from tests.e2e.conftest import WEBHOOK_SECRET, RunningApp

CHANNEL = "C0CAMPAIGN"
ALERTS = alert_overrides({"channel": CHANNEL, "name": "Campaigns", "kinds": ["notification"], "vendor": "multisender"})
pytestmark = pytest.mark.phonebot(overrides=ALERTS)


def hook_url(app: RunningApp, path: str, resource: str = "rsvp-7") -> str:
    """What ``phonebot webhooks url multisender rsvp-7`` prints, plus the callback path."""
    token = UrlTokens(WEBHOOK_SECRET.encode()).token_for("multisender", resource)
    return f"{app.url}/webhooks/multisender/{token}/{path}"


def attach(app: RunningApp) -> None:
    """The manual setup: RSVP call 7's webhook URLs point at phonebot."""
    app.phones.multisender.rsvp_call("7").update(
        stateWebhookUrl=hook_url(app, "state"), receiverWebhookUrl=hook_url(app, "receiver")
    )


def test_rsvp_campaign_is_one_message_edited_in_place(app: RunningApp) -> None:
    attach(app)
    sim = app.phones.multisender
    response = sim.change_state("7", "active")
    assert response is not None and response.status_code == 200
    first_state = sim.deliveries[-1].body
    for _ in range(4):  # the same state callback, redelivered
        assert sim.send_webhook_sync(hook_url(app, "state"), first_state).status_code == 200
    settle(app)
    [post] = writes(app.slack)
    assert post.method == "chat.postMessage" and post.args["channel"] == CHANNEL
    assert post.args["text"] == "RSVP call *7* is calling — 0 dialled · 0 answered · 0 accepted"
    ts = post.response["ts"]  # type: ignore[index]

    sim.reply("7", "808", "accept")
    settle(app)
    sim.reply("7", "809", "decline")
    settle(app)
    declined = sim.deliveries[-1].body
    for _ in range(5):  # the same receiver callback five times
        assert sim.send_webhook_sync(hook_url(app, "receiver"), declined).status_code == 200
    settle(app)
    sim.change_state("7", "complete")
    settle(app)

    sequence = [(c.method, c.args.get("ts")) for c in writes(app.slack)]
    assert sequence == [
        ("chat.postMessage", None),
        ("chat.update", ts),  # Anna accepted
        ("chat.update", ts),  # Mikko declined
        ("chat.update", ts),  # complete
    ]
    updates = [str(c.args["blocks"]) for c in writes(app.slack)[1:]]
    assert "Anna Virtanen (xxxx34567) accepted" in updates[0] and "Mikko" not in updates[0]
    assert "Mikko Korhonen (xxxx34568) declined" in updates[1] and "is calling" in updates[1]
    final = app.slack.message(CHANNEL, ts)
    assert final is not None
    lines = final["blocks"][0]["text"]["text"].splitlines()
    assert lines == [
        "RSVP call *7* is complete — 2 dialled · 2 answered · 1 accepted",
        "• Anna Virtanen (xxxx34567) accepted",
        "• Mikko Korhonen (xxxx34568) declined",
    ]
    assert not app.slack.calls_to("chat.postMessage")[1:]  # no thread replies, no second message


def test_forged_and_malformed_webhooks_get_4xx_and_store_nothing(app: RunningApp) -> None:
    client = redis.Redis.from_url(app.runtime.settings.redis_url or "", decode_responses=True)
    sim = app.phones.multisender
    good = hook_url(app, "state")
    body = sim.state_body("7")
    forged = good.replace("/rsvp-7.", "/rsvp-7.x")
    other_call = hook_url(app, "state", resource="rsvp-8")
    assert sim.send_webhook_sync(forged, body).status_code == 401
    assert httpx.post(f"{app.url}/webhooks/multisender/rsvp-7/state", json=body).status_code == 401
    assert sim.send_webhook_sync(good, b"{not json").status_code == 400
    assert sim.send_webhook_sync(good, {"rsvpCallId": "7", "state": "active", "answeredCalls": "x"}).status_code == 400
    assert sim.send_webhook_sync(other_call, body).status_code == 400  # call 7's body at call 8's URL
    assert sim.send_webhook_sync(hook_url(app, "receiver"), body).status_code == 400  # state body, receiver URL
    assert client.xlen(STREAM) == 0
    assert not client.keys("phonebot:alerts:seen:*")
    assert sim.send_webhook_sync(good, body).status_code == 200
    settle(app)
    assert [c.method for c in writes(app.slack)] == ["chat.postMessage"]
    client.close()


def test_webhooks_sync_attaches_rsvp_calls_that_then_report_to_the_channel(app: RunningApp) -> None:
    """What ``phonebot webhooks sync`` does with ``attach_rsvp_webhooks: true`` (the account-wide token)."""
    token = UrlTokens(WEBHOOK_SECRET.encode()).token_for("multisender", "account")
    target = f"{app.url}/webhooks/multisender/{token}/{{event}}"

    async def sync() -> str:
        config = MultisenderConfig(
            base_url=app.phones.url("multisender") + "/v1/", api_token=API_TOKEN, attach_rsvp_webhooks=True
        )
        adapter = MultisenderAdapter(config)
        try:
            return await adapter.subscribe_webhooks(target)
        finally:
            await adapter.aclose()

    assert asyncio.run(sync()).startswith("1 RSVP call(s) now report to phonebot")
    sim = app.phones.multisender
    assert sim.rsvp_call("7")["receiverWebhookUrl"] == target.replace("{event}", "receiver")
    sim.reply("7", "810", "accept")
    settle(app)
    sim.change_state("7", "complete")
    settle(app)
    [post, update] = writes(app.slack)
    assert (post.method, update.method, update.args["ts"]) == ("chat.postMessage", "chat.update", post.response["ts"])  # type: ignore[index]
    assert post.args["text"] == "RSVP *Night shift*"  # no state yet: the campaign's title
    assert "Liisa Nieminen (xxxx34569) accepted" in str(post.args["blocks"])
    assert update.args["text"] == "RSVP call *7* is complete — 1 dialled · 1 answered · 1 accepted"


def test_a_label_url_accepts_only_the_campaign_it_was_first_used_for(app: RunningApp) -> None:
    """Issue 9 point 14: ``rsvp-spring`` (a label, not an id) is bound to the campaign of its first body."""
    client = redis.Redis.from_url(app.runtime.settings.redis_url or "", decode_responses=True)
    sim = app.phones.multisender
    spring = hook_url(app, "state", resource="rsvp-spring")
    assert sim.send_webhook_sync(spring, sim.state_body("7")).status_code == 200  # first use: call 7
    settle(app)
    before = client.xlen(STREAM), len(writes(app.slack))
    other = sim.state_body("7") | {"rsvpCallId": "8"}
    assert sim.send_webhook_sync(spring, other).status_code == 400  # call 8's body at call 7's label URL
    assert (client.xlen(STREAM), len(writes(app.slack))) == before  # nothing stored, nothing posted
    again = sim.state_body("7") | {"answeredCalls": 1}
    assert sim.send_webhook_sync(spring, again).status_code == 200  # its own campaign still gets through
    client.close()

"""Relatel alerts end to end: signed webhooks and the app's own poller against the Relatel simulator.

Each test asserts the exact ``chat.postMessage`` / ``chat.update`` sequence the fake Slack saw.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis

from adapters.relatel.signature import relatel_signature
from adapters.relatel.simulator import WEBHOOK_SECRET, voicemail_audio
from bot.alerts.poller import cursor_key
from bot.simulate import RELATEL_BOB_TOKEN, SimulatedPhoneSystems
from tests.e2e.alerting import alert_overrides, sequence, settle, wait_until, writes
from tests.e2e.conftest import RunningApp, start_app
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import SlackSigner

CHANNEL = "C0RELATEL"
CALLER = "4520000001"
ROUTE = {"channel": CHANNEL, "name": "Relatel", "vendor": "relatel"}
ALERTS = alert_overrides(ROUTE, poll_interval_seconds=0.25)
pytestmark = pytest.mark.phonebot(overrides=ALERTS)


@pytest.fixture
def store(app: RunningApp) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(app.runtime.settings.redis_url or "", decode_responses=True)
    yield client
    client.close()


def webhook_url(app: RunningApp) -> str:
    return f"{app.url}/webhooks/relatel"


def cursor(store: redis.Redis) -> dict[str, Any] | None:
    raw = store.get(cursor_key("relatel"))
    return json.loads(raw) if isinstance(raw, str) else None


def polled(store: redis.Redis, call_uuid: str) -> bool:
    """The app's poller has read ``call_uuid`` from the call log."""
    return call_uuid in (cursor(store) or {}).get("seen_calls", {})


def seen_heard(store: redis.Redis, voicemail_id: int) -> bool:
    """The app's poller has read voicemail ``voicemail_id`` as heard."""
    tracked = (cursor(store) or {}).get("voicemails", {}).get(str(voicemail_id), {})
    return tracked.get("heard") is True


def first_round_done(store: redis.Redis) -> None:
    """The poller's first round only records the present: wait for it before changing anything."""
    wait_until(lambda: cursor(store) is not None)


def test_redelivered_webhooks_and_the_poll_of_the_same_call_post_once(app: RunningApp, store: redis.Redis) -> None:
    first_round_done(store)
    sim = app.phones.relatel
    call = sim.add_missed_call(CALLER, contact_name="Jens Jensen")
    for _ in range(5):  # Relatel redelivers the same event
        answer = sim.send_webhook_sync(
            webhook_url(app), "call.ended", {"call": call}, secret=WEBHOOK_SECRET, delivery_id="dlv-1"
        )
        assert answer.status_code == 200
    # A second event (new delivery id) about the same call, with the call as the whole payload.
    answer = sim.send_webhook_sync(webhook_url(app), "call.created", call, secret=WEBHOOK_SECRET, delivery_id="dlv-2")
    assert answer.status_code == 200
    wait_until(lambda: polled(store, call["call_uuid"]))  # ...and the poller has seen the call too
    settle(app)
    [post] = writes(app.slack)
    assert post.method == "chat.postMessage" and post.args["channel"] == CHANNEL
    assert "Jens Jensen (+4520000001)" in post.args["text"] and "Main line" in post.args["text"]
    assert "1 attempt " in str(post.args["blocks"])


# The call is in the simulator's log: no poll round may come between the refused webhooks and the checks.
@pytest.mark.phonebot(overrides=alert_overrides(ROUTE, poll_interval_seconds=60))
def test_forged_stale_and_malformed_webhooks_are_refused_and_store_nothing(app: RunningApp, store: redis.Redis) -> None:
    first_round_done(store)
    sim = app.phones.relatel
    call = sim.add_missed_call(CALLER)
    url = webhook_url(app)
    assert sim.send_webhook_sync(url, "call.ended", {"call": call}, secret="forged").status_code == 401
    body, headers = sim.webhook_request("call.ended", {"call": call}, secret=WEBHOOK_SECRET)
    unsigned = {k: v for k, v in headers.items() if k != "Relatel-Signature"}
    assert httpx.post(url, content=body, headers=unsigned).status_code == 401
    assert httpx.post(url, content=body + b"\n", headers=headers).status_code == 401  # body changed
    bad, bad_headers = sim.webhook_request("call.ended", None, secret=WEBHOOK_SECRET)
    broken = bad.replace(b'"delivery_id"', b'"id"')
    bad_headers["Relatel-Signature"] = relatel_signature(WEBHOOK_SECRET, broken, int(sim.clock().timestamp()))
    assert httpx.post(url, content=broken, headers=bad_headers).status_code == 400
    assert store.xlen("phonebot:alerts:stream") == 0
    assert not store.keys("phonebot:alerts:seen:*") and not store.keys("phonebot:alerts:delivery:*")
    test_ping = sim.send_webhook_sync(url, "webhook.test", {}, secret=WEBHOOK_SECRET)
    assert test_ping.status_code == 200 and test_ping.json()["events"] == 0
    settle(app, seconds=0.2)
    assert writes(app.slack) == []


def test_polling_lost_call_repeat_callback_and_voicemail_heard(app: RunningApp, store: redis.Redis) -> None:
    first_round_done(store)
    sim = app.phones.relatel

    sim.add_missed_call(CALLER, contact_name="Jens Jensen")
    wait_until(lambda: len(writes(app.slack)) == 1)
    [post] = writes(app.slack)
    ts = post.response["ts"]  # type: ignore[index]
    assert post.method == "chat.postMessage" and "Lost call from Jens Jensen (+4520000001) on Main line" in str(
        post.args["text"]
    )

    sim.add_missed_call(CALLER)
    wait_until(lambda: len(writes(app.slack)) == 2)
    assert "2 attempts" in str(writes(app.slack)[1].args["blocks"])

    sim.add_callback(CALLER, by=2)
    wait_until(lambda: len(writes(app.slack)) == 4)
    resolved = app.slack.message(CHANNEL, ts)
    assert resolved is not None and "resolved by Bob Berg" in str(resolved["blocks"])

    voicemail = sim.add_voicemail(CALLER, message="Please call me back about the order", contact_name="Jens Jensen")
    wait_until(lambda: len(writes(app.slack)) == 5)
    vm_post = writes(app.slack)[4]
    vm_ts = vm_post.response["ts"]  # type: ignore[index]
    assert "New voicemail from Jens Jensen (+4520000001)" in vm_post.args["text"]
    assert "Please call me back" in str(vm_post.args["blocks"]) and "Main line" in str(vm_post.args["blocks"])

    sim.hear_voicemail(voicemail["id"])
    wait_until(lambda: len(writes(app.slack)) == 6)
    settle(app)
    assert sequence(app) == [
        ("chat.postMessage", None),  # lost call
        ("chat.update", ts),  # 2 attempts
        ("chat.update", ts),  # resolved by Bob Berg (called back)
        ("chat.postMessage", ts),  # thread follow-up
        ("chat.postMessage", None),  # voicemail
        ("chat.update", vm_ts),  # heard elsewhere
    ]
    heard = app.slack.message(CHANNEL, vm_ts)
    assert heard is not None and "heard by" in str(heard["blocks"]) and "Mark heard" not in str(heard["blocks"])


@pytest.mark.phonebot(default_vendor="relatel", overrides=ALERTS)
def test_mark_heard_button_marks_it_heard_in_relatel_with_the_clickers_token(
    app: RunningApp, store: redis.Redis
) -> None:
    first_round_done(store)
    sim = app.phones.relatel
    voicemail = sim.add_voicemail(CALLER)
    wait_until(lambda: len(writes(app.slack)) == 1)
    [post] = writes(app.slack)
    ts = post.response["ts"]  # type: ignore[index]
    value = json.dumps({"vendor": "relatel", "subject": f"voicemail:{voicemail['id']}"})

    response_url = app.slack.new_response_url()
    body, headers = app.signer.block_action(
        "alert_heard", value, user_id="U0BOB", response_url=response_url, channel_id=CHANNEL, message_ts=ts
    )
    answer = app.client.send_sync(body, headers)
    assert answer.status_code == 200
    assert "marked heard in Relatel too" in app.reply(response_url)["text"]
    [put] = [r for r in sim.requests if r.method == "PUT"]
    assert put.path == f"/api/v2/voice_mails/{voicemail['id']}" and put.body == {"voice_mail": {"heard": True}}
    assert put.authorization == f"Bearer {RELATEL_BOB_TOKEN}"
    assert sim.voicemails[voicemail["id"]]["heard"] is True
    wait_until(lambda: len(writes(app.slack)) == 3)
    wait_until(lambda: seen_heard(store, voicemail["id"]))
    settle(app)  # the poll that now sees it heard changes nothing more
    assert sequence(app) == [("chat.postMessage", None), ("chat.update", ts), ("chat.postMessage", ts)]
    final = app.slack.message(CHANNEL, ts)
    assert final is not None and "heard by <@U0BOB>" in str(final["blocks"])


def test_polling_resumes_after_a_restart_without_losing_or_repeating_anything(
    phones: SimulatedPhoneSystems, slack: FakeSlack, signer: SlackSigner, redis_url: str
) -> None:
    store = redis.Redis.from_url(redis_url, decode_responses=True)
    sim = phones.relatel
    first, server = start_app(phones, slack, signer, redis_url, overrides=ALERTS)
    try:
        first_round_done(store)
        sim.add_missed_call("4520000011")
        wait_until(lambda: len(writes(slack)) == 1)
        settle(first)
    finally:
        server.stop()  # phonebot is down ...
    sim.add_missed_call("4520000022")  # ... while this call is missed
    second, server = start_app(phones, slack, signer, redis_url, overrides=ALERTS)
    try:
        wait_until(lambda: len(writes(slack)) == 2)
        settle(second, seconds=1.0)  # four more poll rounds: nothing old comes back
    finally:
        server.stop()
        store.close()
    texts = [call.args["text"] for call in writes(slack)]
    assert [call.method for call in writes(slack)] == ["chat.postMessage", "chat.postMessage"]
    assert "+4520000011" in texts[0] and "+4520000022" in texts[1]


@pytest.mark.phonebot(overrides=ALERTS, public_url=True)
def test_listen_link_plays_the_voicemail_through_phonebot(app: RunningApp, store: redis.Redis) -> None:
    first_round_done(store)
    voicemail = app.phones.relatel.add_voicemail(CALLER)
    wait_until(lambda: len(writes(app.slack)) == 1)
    [post] = writes(app.slack)
    [listen] = [
        element["url"]
        for block in post.args["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == "alert_listen"
    ]
    assert listen.startswith(f"{app.url}/voicemails/relatel/voicemail-{voicemail['id']}:")
    audio = httpx.get(listen)
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/mpeg"
    assert audio.headers["x-content-type-options"] == "nosniff"
    assert audio.content == voicemail_audio(voicemail["id"])  # fetched from Relatel with the service token
    forged = listen.replace(f"voicemail-{voicemail['id']}:", "voicemail-1:")
    assert httpx.get(forged).status_code == 404  # a link phonebot did not issue plays nothing
    other_vendor = listen.replace("/voicemails/relatel/", "/voicemails/dstny/")
    assert httpx.get(other_vendor).status_code == 404


def _listen_url(post: Any) -> str:
    [url] = [
        element["url"]
        for block in post.args["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == "alert_listen"
    ]
    return str(url)


@pytest.mark.phonebot(default_vendor="relatel", overrides=ALERTS, public_url=True)
def test_a_personal_voicemail_plays_only_with_its_owners_token(app: RunningApp, store: redis.Redis) -> None:
    """Relatel serves a personal mailbox's audio to its own user only (JENSEN relatel.ts, live-tested)."""
    first_round_done(store)
    bobs = app.phones.relatel.add_voicemail(CALLER, employee=2)  # phonebot holds Bob's token (users:)
    app.phones.relatel.add_voicemail("4520000002", employee=3)  # Carol's entry has no token
    wait_until(lambda: len(writes(app.slack)) == 2)
    bob_post, carol_post = sorted(writes(app.slack), key=lambda call: "+4520000002" in call.args["text"])
    audio = httpx.get(_listen_url(bob_post))
    assert audio.status_code == 200 and audio.content == voicemail_audio(bobs["id"])
    page = httpx.get(_listen_url(carol_post))
    assert page.status_code == 403 and page.headers["content-type"].startswith("text/plain")
    assert "phonebot can't play this voicemail" in page.text and "owner" in page.text
    sounds = [r for r in app.phones.relatel.requests if r.path.endswith("/sound")]
    assert [(r.path, r.authorization) for r in sounds] == [
        (f"/api/v2/voice_mails/{bobs['id']}/sound", f"Bearer {RELATEL_BOB_TOKEN}")
    ]  # Carol's recording (voicemail {carols["id"]}) was never asked for with anyone else's token

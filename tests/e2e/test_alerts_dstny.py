"""Dstny alerts end to end: the app's poller polls the Dstny simulator; the fake Slack sees the result.

Dstny pushes nothing, so every alert here comes from the running app's poll loop
(``alerts.poll_interval_seconds: 0.25``). Each test waits for the first poll round, which only
records the present, before it changes the simulator, and asserts the exact
``chat.postMessage`` / ``chat.update`` sequence.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from bot.alerts.poller import cursor_key
from bot.simulate import SimulatedPhoneSystems
from tests.e2e.alerting import alert_overrides, sequence, settle, wait_until, writes
from tests.e2e.conftest import RunningApp
from tests.fakes.slack_api import SlackCall

CHANNEL = "C0DSTNY"
CALLER = "+4540000001"  # Jens Jensen in the simulator's directory
OLD_CALLER = "+4522000000"
ALERTS = alert_overrides({"channel": CHANNEL, "name": "Dstny", "vendor": "dstny"}, poll_interval_seconds=0.25)
THRESHOLDS: dict[str, Any] = {
    "alerts": {
        **ALERTS["alerts"],
        "queue_thresholds": [{"group": "Support", "vendor": "dstny", "calls_waiting": 5, "min_duration_seconds": 2}],
    }
}


@pytest.fixture
def phones() -> Iterator[SimulatedPhoneSystems]:
    """The simulators, with a lost call and a voicemail from before phonebot started (never alerted)."""
    with SimulatedPhoneSystems() as systems:
        systems.dstny.miss_call(36, OLD_CALLER)
        systems.dstny.leave_voicemail(OLD_CALLER)
        yield systems


def first_round_done(app: RunningApp) -> None:
    """Wait until the poller stored its first cursor: from now on, changes at the vendor alert."""
    client = redis.Redis.from_url(app.runtime.settings.redis_url or "", decode_responses=True)
    try:
        wait_until(lambda: client.exists(cursor_key("dstny")) == 1)
    finally:
        client.close()


def wait_for_writes(app: RunningApp, count: int, timeout: float = 10.0) -> list[SlackCall]:
    wait_until(lambda: len(writes(app.slack)) >= count, timeout=timeout)
    settle(app)
    return writes(app.slack)


def blocks_of(call: SlackCall) -> list[dict[str, Any]]:
    blocks = call.args["blocks"]
    return json.loads(blocks) if isinstance(blocks, str) else list(blocks)


def button_value(blocks: list[dict[str, Any]], action_id: str) -> str:
    for block in blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return str(element["value"])
    raise AssertionError(f"no {action_id} button")


# -- (a) lost calls through polling ---------------------------------------------------------------
@pytest.mark.phonebot(overrides=ALERTS)
def test_lost_call_is_polled_posted_edited_on_repeat_and_resolved_at_the_vendor(app: RunningApp) -> None:
    sim = app.phones.dstny
    first_round_done(app)

    item = sim.miss_call(35, CALLER)
    [post] = wait_for_writes(app, 1)
    assert post.method == "chat.postMessage" and post.args["channel"] == CHANNEL
    assert "Jens Jensen" in post.args["text"] and CALLER in post.args["text"] and "Support" in post.args["text"]
    ts = post.response["ts"]  # type: ignore[index]

    sim.miss_call(35, CALLER)  # the same caller again: the same call-log item, callCount 2
    wait_for_writes(app, 2)
    assert "2 attempts" in str(blocks_of(writes(app.slack)[1]))

    sim.handle_call(item.item_id, "bob")  # someone marked it handled in a Dstny client
    wait_for_writes(app, 4)
    time.sleep(1.5)  # another poll round or two: nothing more may be written
    settle(app)
    assert sequence(app) == [
        ("chat.postMessage", None),
        ("chat.update", ts),  # 2 attempts
        ("chat.update", ts),  # resolved
        ("chat.postMessage", ts),  # thread follow-up
    ]
    final = app.slack.message(CHANNEL, ts)
    assert final is not None and "resolved" in str(final["blocks"]) and "Bob Berg" in str(final["blocks"])


# -- (b) the claim button writes back to the group call log ---------------------------------------
@pytest.mark.phonebot(overrides=ALERTS)
def test_claim_assigns_the_call_log_item_to_the_clicking_user(app: RunningApp) -> None:
    sim = app.phones.dstny
    first_round_done(app)
    item = sim.miss_call(35, CALLER)
    [post] = wait_for_writes(app, 1)
    ts = post.response["ts"]  # type: ignore[index]
    value = button_value(blocks_of(post), "alert_claim")

    def click(user: str) -> str:
        response_url = app.slack.new_response_url()
        body, headers = app.signer.block_action(
            action_id="alert_claim",
            value=value,
            user_id=user,
            response_url=response_url,
            channel_id=CHANNEL,
            message_ts=ts,
        )
        started = time.perf_counter()
        response = app.client.send_sync(body, headers)
        assert response.status_code == 200
        assert time.perf_counter() - started < 3.0  # acked at once; the work runs after
        return response_url

    alice = app.reply(click("U0ALICE"))
    assert "yours" in alice["text"]
    assert [(a.user, a.item_id, a.state) for a in sim.assignments] == [("alice", item.item_id, "INPROGRESS")]
    wait_for_writes(app, 3)
    assert sequence(app) == [
        ("chat.postMessage", None),
        ("chat.update", ts),  # shows the owner, no claim button
        ("chat.postMessage", ts),  # thread: Alice is taking it
    ]
    shown = app.slack.message(CHANNEL, ts)
    assert shown is not None and "<@U0ALICE> is on it" in str(shown["blocks"])
    assert "alert_claim" not in str(shown["blocks"])

    bob = app.reply(click("U0BOB"))
    assert "already took" in bob["text"]
    stranger = app.reply(click("U0STRANGER"))
    assert "couldn't find sam@elsewhere.example" in stranger["text"]
    time.sleep(1.5)  # a poll round sees INPROGRESS, which changes nothing
    settle(app)
    assert len(sim.assignments) == 1  # neither Bob nor the stranger wrote to the vendor
    assert len(writes(app.slack)) == 3


@pytest.mark.phonebot(overrides=ALERTS)
def test_resolve_marks_the_call_log_item_handled_as_the_clicking_user(app: RunningApp) -> None:
    sim = app.phones.dstny
    first_round_done(app)
    item = sim.miss_call(35, CALLER)
    [post] = wait_for_writes(app, 1)
    ts = post.response["ts"]  # type: ignore[index]
    response_url = app.slack.new_response_url()
    body, headers = app.signer.block_action(
        action_id="alert_resolve",
        value=button_value(blocks_of(post), "alert_resolve"),
        user_id="U0BOB",
        response_url=response_url,
        channel_id=CHANNEL,
        message_ts=ts,
    )
    assert app.client.send_sync(body, headers).status_code == 200
    assert "resolved" in app.reply(response_url)["text"]
    assert [(a.user, a.item_id, a.state) for a in sim.assignments] == [("bob", item.item_id, "HANDLED")]
    wait_for_writes(app, 3)
    time.sleep(2.5)  # the next poll rounds see HANDLED at the vendor
    settle(app)
    assert sequence(app) == [
        ("chat.postMessage", None),
        ("chat.update", ts),  # resolved by Bob
        ("chat.postMessage", ts),  # thread: resolved by Bob
    ]  # polling HANDLED back (phonebot's own write) edits nothing
    final = app.slack.message(CHANNEL, ts)
    assert final is not None and "resolved by <@U0BOB>" in str(final["blocks"])


# -- voicemails -----------------------------------------------------------------------------------
@pytest.mark.phonebot(overrides=ALERTS)
def test_voicemail_is_posted_and_shows_it_was_heard_in_dstny(app: RunningApp) -> None:
    sim = app.phones.dstny
    first_round_done(app)
    voicemail = sim.leave_voicemail(CALLER, name="Jens Jensen", duration=42, inbox="Support inbox")
    [post] = wait_for_writes(app, 1)
    assert "New voicemail" in post.args["text"] and "Jens Jensen" in post.args["text"]
    # 004's group-inbox item (~1740-1750) has no duration, so neither does the message.
    assert "Support inbox" in str(blocks_of(post)) and "42 s" not in str(blocks_of(post))
    ts = post.response["ts"]  # type: ignore[index]

    sim.play_voicemail(voicemail.item_id)  # listened to in a Dstny client
    wait_for_writes(app, 2)
    time.sleep(1.5)
    settle(app)
    assert sequence(app) == [("chat.postMessage", None), ("chat.update", ts)]
    final = app.slack.message(CHANNEL, ts)
    assert final is not None and "heard by" in str(final["blocks"]) and "alert_heard" not in str(final["blocks"])


# -- (c) queue thresholds from polled queue status ------------------------------------------------
@pytest.mark.phonebot(overrides=THRESHOLDS)
def test_queue_threshold_breaches_after_the_minimum_duration_stays_current_and_recovers(app: RunningApp) -> None:
    sim = app.phones.dstny
    first_round_done(app)

    sim.set_queue(35, waiting=6)
    started = time.monotonic()
    [post] = wait_for_writes(app, 1)
    assert time.monotonic() - started >= 2.0  # the breach had to hold for min_duration_seconds
    assert "Support" in post.args["text"] and "needs attention" in post.args["text"]
    assert "6 waiting" in str(blocks_of(post))
    ts = post.response["ts"]  # type: ignore[index]

    sim.set_queue(35, waiting=8)  # still breached, figures changed: the message is kept current
    wait_for_writes(app, 2)
    assert "8 waiting" in str(blocks_of(writes(app.slack)[1]))

    sim.set_queue(35, waiting=1)  # back below the recovery figure
    wait_for_writes(app, 4)
    time.sleep(1.5)
    settle(app)
    assert sequence(app) == [
        ("chat.postMessage", None),
        ("chat.update", ts),  # 8 waiting
        ("chat.update", ts),  # back to normal
        ("chat.postMessage", ts),  # thread follow-up
    ]
    final = app.slack.message(CHANNEL, ts)
    assert final is not None and "back to normal" in str(final["blocks"])


@pytest.mark.phonebot(overrides=THRESHOLDS)
def test_a_queue_flap_shorter_than_the_minimum_duration_posts_nothing(app: RunningApp) -> None:
    sim = app.phones.dstny
    first_round_done(app)
    sim.set_queue(35, waiting=9)
    time.sleep(0.8)
    sim.set_queue(35, waiting=2)
    time.sleep(3.5)  # longer than min_duration_seconds and several poll rounds
    settle(app)
    assert writes(app.slack) == []

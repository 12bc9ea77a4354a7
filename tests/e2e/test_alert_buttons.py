"""The buttons on alert messages, clicked over real HTTP on messages the app really posted.

A Tele2 webhook makes the lost-call alert; Slack users linked to Dstny (matched by email)
click its buttons. Each test asserts what the clicker is told, what the vendor received and
the exact writes the fake Slack saw.
"""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from handlers.alert_view import CALLBACK_ACTION, CLAIM_ACTION, RESOLVE_ACTION, SNOOZE_ACTION
from tests.e2e.alerting import alert_overrides, sequence, settle, subscribe, wait_until, writes
from tests.e2e.conftest import RunningApp

CHANNEL = "C0BUTTONS"
CALLER = "+37069912345"  # the Tele2 simulator's default lost caller
ROUTE = {"channel": CHANNEL, "name": "Support"}
pytestmark = pytest.mark.phonebot(overrides=alert_overrides(ROUTE))


def post_lost_call(app: RunningApp) -> tuple[str, dict[str, str]]:
    """Have Tele2 report a lost call; returns the alert's ts and its buttons' values by action id."""
    subscribe(app)
    app.phones.tele2.send_webhook_sync("LostCallerAdded")
    settle(app)
    [post] = writes(app.slack)
    ts = str(post.response["ts"])  # type: ignore[index]
    buttons = {
        element["action_id"]: element.get("value", "")
        for block in post.args["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    }
    return ts, buttons


def click(app: RunningApp, action_id: str, value: str, ts: str, *, user: str) -> tuple[httpx.Response, str, float]:
    """Click a button on the channel message ``ts``; returns the answer, the response_url and the ack time."""
    response_url = app.slack.new_response_url()
    body, headers = app.signer.block_action(
        action_id, value, user_id=user, response_url=response_url, channel_id=CHANNEL, message_ts=ts
    )
    started = time.perf_counter()
    answer = app.client.send_sync(body, headers)
    return answer, response_url, time.perf_counter() - started


def told(app: RunningApp, response_url: str) -> str:
    """What the clicker was told (ephemerally) at ``response_url``."""
    reply = app.reply(response_url)
    assert reply.get("response_type", "ephemeral") == "ephemeral"
    return json.dumps(reply)


def test_call_back_rings_the_clickers_phone_then_the_caller_and_shows_who_is_on_it(app: RunningApp) -> None:
    ts, buttons = post_lost_call(app)
    assert list(buttons) == [CALLBACK_ACTION, CLAIM_ACTION, RESOLVE_ACTION, SNOOZE_ACTION]

    answer, response_url, ack = click(app, CALLBACK_ACTION, buttons[CALLBACK_ACTION], ts, user="U0ALICE")
    assert answer.status_code == 200 and ack < 1.0
    assert "ring" in told(app, response_url).lower()
    [dial] = app.phones.dstny.dials  # Alice is linked to Dstny by her email: her phone rings first
    assert (dial.user, dial.target) == ("alice", CALLER)
    settle(app)

    assert sequence(app) == [("chat.postMessage", None), ("chat.update", ts), ("chat.postMessage", ts)]
    message = app.slack.message(CHANNEL, ts)
    assert message is not None and "<@U0ALICE> is on it" in str(message["blocks"])
    note = writes(app.slack)[-1].args["text"]
    assert "<@U0ALICE> is calling back" in note


def test_concurrent_claims_leave_exactly_one_owner(app: RunningApp) -> None:
    ts, buttons = post_lost_call(app)
    urls: dict[str, str] = {}

    def claim(user: str) -> None:
        answer, urls[user], _ = click(app, CLAIM_ACTION, buttons[CLAIM_ACTION], ts, user=user)
        assert answer.status_code == 200

    clickers = [threading.Thread(target=claim, args=(user,)) for user in ("U0BOB", "U0CAROL")]
    for thread in clickers:
        thread.start()
    for thread in clickers:
        thread.join()
    replies = {user: told(app, url) for user, url in urls.items()}
    winners = [user for user, text in replies.items() if "It's yours" in text]
    assert len(winners) == 1
    [loser] = [user for user in replies if user not in winners]
    assert f"<@{winners[0]}> already took this one" in replies[loser]

    _, again, _ = click(app, CLAIM_ACTION, buttons[CLAIM_ACTION], ts, user=winners[0])
    assert "You already have this one" in told(app, again)
    settle(app)
    assert sequence(app) == [("chat.postMessage", None), ("chat.update", ts), ("chat.postMessage", ts)]
    final = str(app.slack.message(CHANNEL, ts))
    assert f"<@{winners[0]}> is on it" in final and f"<@{loser}>" not in final
    assert CLAIM_ACTION not in final  # nobody else can claim it now


def test_resolve_is_idempotent_and_unlinked_users_are_told_why(app: RunningApp) -> None:
    ts, buttons = post_lost_call(app)

    _, stranger, _ = click(app, RESOLVE_ACTION, buttons[RESOLVE_ACTION], ts, user="U0STRANGER")
    assert "link" in told(app, stranger).lower()
    settle(app, seconds=0.3)
    assert len(writes(app.slack)) == 1  # the stranger changed nothing

    _, first, _ = click(app, RESOLVE_ACTION, buttons[RESOLVE_ACTION], ts, user="U0ALICE")
    assert "Marked resolved" in told(app, first)
    _, second, _ = click(app, RESOLVE_ACTION, buttons[RESOLVE_ACTION], ts, user="U0BOB")
    assert "already resolved by <@U0ALICE>" in told(app, second)
    settle(app)

    assert sequence(app) == [("chat.postMessage", None), ("chat.update", ts), ("chat.postMessage", ts)]
    final = app.slack.message(CHANNEL, ts)
    assert final is not None and "resolved by <@U0ALICE>" in str(final["blocks"])
    assert not [b for b in final["blocks"] if b["type"] == "actions"]  # a resolved alert has no buttons


@pytest.mark.phonebot(overrides=alert_overrides(ROUTE, snooze_minutes=0.05))
def test_snooze_holds_new_alerts_and_posts_them_as_one_digest_when_it_ends(app: RunningApp) -> None:
    ts, buttons = post_lost_call(app)
    _, response_url, _ = click(app, SNOOZE_ACTION, buttons[SNOOZE_ACTION], ts, user="U0BOB")
    assert "held until" in told(app, response_url)
    snoozed_at = time.monotonic()

    for caller in ("+37069900001", "+37069900002"):
        app.phones.tele2.send_webhook_sync("LostCallerAdded", {"callerid": caller})
    time.sleep(1.0)
    assert len(writes(app.slack)) == 1  # held while snoozed

    wait_until(lambda: len(writes(app.slack)) == 2, timeout=15)
    assert time.monotonic() - snoozed_at >= 2.5  # not before the 3 s snooze ended
    settle(app)
    [_, digest] = writes(app.slack)
    assert digest.method == "chat.postMessage" and digest.args["channel"] == CHANNEL
    assert "+37069900001" in str(digest.args["blocks"]) and "+37069900002" in str(digest.args["blocks"])


def test_a_button_acts_only_on_the_alert_its_message_shows(app: RunningApp) -> None:
    """Issue 9 point 9: the value is the clicker's to edit; the message's channel and ts are Slack's."""
    ts, buttons = post_lost_call(app)
    dials_before = len(app.phones.dstny.dials)
    # The real value on another message, and on the same ts in another channel: refused, nothing rings.
    for other_ts, channel in (("1700000000.000100", CHANNEL), (ts, "C0ELSEWHERE")):
        response_url = app.slack.new_response_url()
        body, headers = app.signer.block_action(
            CALLBACK_ACTION,
            buttons[CALLBACK_ACTION],
            user_id="U0ALICE",
            response_url=response_url,
            channel_id=channel,
            message_ts=other_ts,
        )
        assert app.client.send_sync(body, headers).status_code == 200
        assert "doesn't belong to this alert's message" in told(app, response_url)
    assert len(app.phones.dstny.dials) == dials_before
    # Mark heard is for voicemails only, whatever a crafted click says.
    _, response_url, _ = click(app, "alert_heard", buttons[CALLBACK_ACTION], ts, user="U0ALICE")
    assert "Only voicemails can be marked heard" in told(app, response_url)
    # The genuine click on the genuine message still works.
    _, response_url, _ = click(app, CALLBACK_ACTION, buttons[CALLBACK_ACTION], ts, user="U0ALICE")
    assert "rings first" in told(app, response_url)
    assert len(app.phones.dstny.dials) == dials_before + 1

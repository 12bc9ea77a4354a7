"""What only phonebot admins may do (issue 9 point 12), over signed Slack requests to the running app.

The demo config lists Alice (``U0ALICE``) under ``admins:``; Bob and Carol are not admins. All
three are linked to Dstny by their Slack email. Each test asserts what the non-admin is told,
that nothing changed (vendor, Slack, Redis), and that the admin's same request works.
"""

from __future__ import annotations

import json

import pytest
import redis

from handlers.alert_view import CLAIM_ACTION, RESOLVE_ACTION
from tests.e2e.alerting import alert_overrides, settle, subscribe, wait_until, writes
from tests.e2e.conftest import RunningApp

CHANNEL = "C0ADMINS"
DEAD = "phonebot:alerts:dead"
RELEASE_ACTION = "alert_release"  # handlers.alert_view.RELEASE_ACTION (spelled out: the test must run on main too)
pytestmark = pytest.mark.phonebot(overrides=alert_overrides({"channel": CHANNEL, "name": "Support"}))


def post_lost_call(app: RunningApp) -> tuple[str, str]:
    """Have Tele2 report a lost call; the alert's ts and the value its buttons carry."""
    subscribe(app)
    app.phones.tele2.send_webhook_sync("LostCallerAdded")
    settle(app, seconds=0.1)
    [post] = writes(app.slack)
    [value] = {e["value"] for b in post.args["blocks"] if b["type"] == "actions" for e in b["elements"]}
    return str(post.response["ts"]), value  # type: ignore[index]


def click(app: RunningApp, action_id: str, value: str, ts: str, *, user: str) -> str:
    """Click a button on the alert message; what the clicker was told (ephemerally)."""
    response_url = app.slack.new_response_url()
    body, headers = app.signer.block_action(
        action_id, value, user_id=user, response_url=response_url, channel_id=CHANNEL, message_ts=ts
    )
    assert app.client.send_sync(body, headers).status_code == 200
    reply = app.reply(response_url)
    assert reply.get("response_type", "ephemeral") == "ephemeral"
    return str(reply["text"])


def command(app: RunningApp, name: str, text: str, *, user: str) -> str:
    _, url = app.command(name, text, user=user)
    return json.dumps(app.reply(url))


def test_only_the_claimer_or_an_admin_resolves_or_releases_a_claimed_alert(app: RunningApp) -> None:
    ts, value = post_lost_call(app)
    assert "It's yours" in click(app, CLAIM_ACTION, value, ts, user="U0BOB")
    settle(app, seconds=0.1)
    claimed = len(writes(app.slack))

    told = click(app, RESOLVE_ACTION, value, ts, user="U0CAROL")
    assert "<@U0BOB> has this one" in told and "phonebot admin (<@U0ALICE>)" in told
    told = click(app, RELEASE_ACTION, value, ts, user="U0CAROL")
    assert "only they or a phonebot admin can release it" in told
    settle(app, seconds=0.3)
    assert len(writes(app.slack)) == claimed  # Carol changed nothing
    assert "<@U0BOB> is on it" in str(app.slack.message(CHANNEL, ts))

    assert "Marked resolved" in click(app, RESOLVE_ACTION, value, ts, user="U0ALICE")  # the admin may
    settle(app)
    final = str(app.slack.message(CHANNEL, ts))
    assert "resolved by <@U0ALICE>" in final
    assert "Resolved by <@U0ALICE>, who had taken it from <@U0BOB>" in writes(app.slack)[-1].args["text"]


def test_the_claimer_can_release_and_then_anyone_can_take_it(app: RunningApp) -> None:
    ts, value = post_lost_call(app)
    click(app, CLAIM_ACTION, value, ts, user="U0BOB")
    settle(app, seconds=0.1)
    assert RELEASE_ACTION in str(app.slack.message(CHANNEL, ts))  # a claimed alert offers Release …
    assert "You let it go" in click(app, RELEASE_ACTION, value, ts, user="U0BOB")
    settle(app, seconds=0.1)
    shown = str(app.slack.message(CHANNEL, ts))
    assert CLAIM_ACTION in shown and "is on it" not in shown  # … and once released, I'll take it again
    assert "It's yours" in click(app, CLAIM_ACTION, value, ts, user="U0CAROL")


def test_dead_letters_are_listed_and_replayed_from_slack_by_admins_only(app: RunningApp) -> None:
    subscribe(app)
    app.slack.error("chat.postMessage", "channel_not_found", times=None)  # a permanent refusal: parked at once
    app.phones.tele2.send_webhook_sync("VoicemailCreated")
    client = redis.Redis.from_url(app.runtime.settings.redis_url or "", decode_responses=True)
    wait_until(lambda: client.hlen(DEAD) == 1)
    [entry_id] = client.hkeys(DEAD)
    app.slack.clear_faults()

    for text in ("dead", "replay all", f"replay {entry_id}"):
        told = command(app, "/phonebot", text, user="U0BOB")
        assert "Only phonebot admins can see and replay" in told and entry_id not in told
    settle(app, seconds=0.3)
    assert client.hlen(DEAD) == 1 and writes(app.slack) == []  # Bob replayed nothing

    listed = command(app, "/phonebot", "dead", user="U0ALICE")
    assert entry_id in listed and "channel_not_found" in listed and "voicemail new" in listed
    assert "Replaying 1 alert" in command(app, "/phonebot", "replay all", user="U0ALICE")
    settle(app)
    [post] = writes(app.slack)
    assert post.args["channel"] == CHANNEL and "New voicemail" in post.args["text"]
    assert client.hlen(DEAD) == 0
    assert "No dead letter" in command(app, "/phonebot", f"replay {entry_id}", user="U0ALICE")
    client.close()


def test_only_admins_act_on_another_persons_queues(app: RunningApp) -> None:
    dstny = app.phones.dstny
    assert dstny.is_logged_in("alice", 35) and dstny.is_logged_in("bob", 35)

    told = command(app, "/queue", "logout <@U0ALICE|alice> support", user="U0BOB")
    assert "You can act only on your own queues" in told and "phonebot admin (<@U0ALICE>)" in told
    told = command(app, "/queue", "status <@U0ALICE|alice>", user="U0BOB")
    assert "You can act only on your own queues" in told
    assert dstny.is_logged_in("alice", 35)  # Bob changed nothing

    told = command(app, "/queue", "logout <@U0BOB|bob> support", user="U0ALICE")  # the admin may
    assert "<@U0BOB> is logged out of *Support*" in told
    assert not dstny.is_logged_in("bob", 35) and dstny.is_logged_in("alice", 35)

    # Several of Carol's queues match: the buttons act on Carol, for the admin who was offered them only.
    _, url = app.command("/queue", "login <@U0CAROL|carol> s", user="U0ALICE")
    reply = app.reply(url)
    assert "Which queue should I log <@U0CAROL> in to?" in reply["text"]
    [support] = [b for b in reply["blocks"][1]["elements"] if b["text"]["text"] == "Support"]
    _, stolen = app.click(support["action_id"], support["value"], user="U0BOB")
    assert "weren't offered to you" in app.reply(stolen)["text"]
    assert not dstny.is_logged_in("carol", 35) and not dstny.is_logged_in("bob", 35)
    _, clicked = app.click(support["action_id"], support["value"], user="U0ALICE")
    assert "<@U0CAROL> is logged in to *Support*" in app.reply(clicked)["text"]
    assert dstny.is_logged_in("carol", 35)

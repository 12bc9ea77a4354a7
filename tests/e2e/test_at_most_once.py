"""At most once on the phone: repeated clicks, re-sent and retried Slack requests, unanswered writes.

Everything goes over real HTTP: Slack-signed requests in, the vendor simulators record
every dial they carry out, and the fake Slack records what the user was told.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest
import redis

from adapters.http import RetryPolicy
from handlers.alert_view import CALLBACK_ACTION
from tests.e2e.alerting import alert_overrides, settle, wait_until, writes
from tests.e2e.conftest import RunningApp
from tests.e2e.test_alert_buttons import CALLER, ROUTE, click, post_lost_call, told
from tests.fakes.slack_requests import FORM

ALERTS = alert_overrides(ROUTE)
#: Vendor answers slower than this count as "no answer" in the timeout tests.
TIMEOUT = 0.5
SLOW_VENDOR = {"slow_notice_seconds": 10, "vendors": {"dstny": {"timeout_seconds": TIMEOUT}}}
SLOW_RELATEL = {"slow_notice_seconds": 10, "vendors": {"relatel": {"timeout_seconds": TIMEOUT}}}


def _text(message: dict[str, Any]) -> str:
    return str(message.get("text", ""))


def _resigned(app: RunningApp, body: bytes, *, retry_num: int | None = None) -> dict[str, str]:
    """Headers for ``body`` signed anew a second later, as Slack signs a redelivery."""
    _, headers = app.signer.sign(body, content_type=FORM, timestamp=int(time.time()) + 1)
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = "http_timeout"
    return headers


def _jensen_buttons(app: RunningApp) -> list[dict[str, Any]]:
    _, url = app.command("/call", "jensen")
    reply = app.reply(url)
    return list(next(block for block in reply["blocks"] if block["type"] == "actions")["elements"])


# -- Call back on an alert ------------------------------------------------------------------


@pytest.mark.phonebot(overrides=ALERTS)
def test_call_back_clicked_twice_at_once_rings_once(app: RunningApp) -> None:
    ts, buttons = post_lost_call(app)
    urls: list[str] = []

    def call_back() -> None:
        answer, url, _ = click(app, CALLBACK_ACTION, buttons[CALLBACK_ACTION], ts, user="U0ALICE")
        assert answer.status_code == 200
        urls.append(url)

    clickers = [threading.Thread(target=call_back) for _ in range(2)]
    for thread in clickers:
        thread.start()
    for thread in clickers:
        thread.join()
    replies = sorted(told(app, url) for url in urls)
    assert sum("already calling" in reply for reply in replies) == 1, replies
    assert sum("Your own phone rings first" in reply for reply in replies) == 1, replies
    assert [(d.user, d.target) for d in app.phones.dstny.dials] == [("alice", CALLER)]
    settle(app)
    notes = [w for w in writes(app.slack) if "is calling back" in str(w.args.get("text"))]
    assert len(notes) == 1  # the channel hears of one call back, too


@pytest.mark.phonebot(overrides=ALERTS)
def test_call_back_clicked_again_300_ms_later_rings_once(app: RunningApp) -> None:
    ts, buttons = post_lost_call(app)
    _, first, _ = click(app, CALLBACK_ACTION, buttons[CALLBACK_ACTION], ts, user="U0ALICE")
    time.sleep(0.3)  # the user's own pause between the clicks, not a wait for phonebot
    _, second, _ = click(app, CALLBACK_ACTION, buttons[CALLBACK_ACTION], ts, user="U0ALICE")
    assert "Your own phone rings first" in told(app, first)
    assert "already calling" in told(app, second)
    assert len(app.phones.dstny.dials) == 1


# -- contact pick buttons and re-sent / retried Slack requests ------------------------------


def test_contact_pick_clicked_twice_rings_once(app: RunningApp) -> None:
    button = _jensen_buttons(app)[1]
    _, first = app.click(button["action_id"], button["value"])
    assert "Jensen Plumbing" in _text(app.reply(first))
    _, second = app.click(button["action_id"], button["value"])
    assert "already calling" in _text(app.reply(second))
    assert [d.target for d in app.phones.dstny.dials] == ["+4540000002"]


def test_a_pick_the_vendor_refused_can_be_clicked_again(app: RunningApp) -> None:
    """A dial refused at the door rang nothing, so the same button may try again."""
    button = _jensen_buttons(app)[0]
    app.phones.dstny.set_faults(status=403, count=1, path_prefix="/api/calls/")
    _, first = app.click(button["action_id"], button["value"])
    assert "refused phonebot's credentials" in _text(app.reply(first))
    _, second = app.click(button["action_id"], button["value"])
    assert "Your own phone rings first" in _text(app.reply(second))
    assert [d.target for d in app.phones.dstny.dials] == ["+4540000001"]


def test_an_identical_signed_command_sent_twice_rings_once(app: RunningApp) -> None:
    url = app.slack.new_response_url()
    body, headers = app.signer.slash_command(
        "/call", "+4571999999", user_id="U0ALICE", user_name="alice", response_url=url
    )
    assert app.client.send_sync(body, headers).status_code == 200
    assert "Your own phone rings first" in _text(app.reply(url))
    again = app.client.send_sync(body, headers)  # the very same bytes, well inside Slack's 5 minutes
    assert again.status_code == 200
    time.sleep(0.3)  # nothing to wait for: give a wrongly repeated dial the chance to show
    assert len(app.phones.dstny.dials) == 1
    assert len(app.slack.responses_to(url)) == 1


def test_slack_retries_of_commands_and_clicks_never_repeat_the_dial(app: RunningApp) -> None:
    url = app.slack.new_response_url()
    body, headers = app.signer.slash_command(
        "/call", "+4571999999", user_id="U0ALICE", user_name="alice", response_url=url
    )
    assert app.client.send_sync(body, headers).status_code == 200
    app.reply(url)
    button = _jensen_buttons(app)[1]
    click_url = app.slack.new_response_url()
    click_body, click_headers = app.signer.block_action(
        button["action_id"],
        button["value"],
        user_id="U0ALICE",
        response_url=click_url,
        channel_id="C0001",
        message_ts="1.000001",
    )
    assert app.client.send_sync(click_body, click_headers).status_code == 200
    app.reply(click_url)
    assert len(app.phones.dstny.dials) == 2

    for retry_num in (1, 2):
        for retried in (body, click_body):
            answer = app.client.send_sync(retried, _resigned(app, retried, retry_num=retry_num))
            assert answer.status_code == 200
    time.sleep(0.3)  # nothing to wait for: give a wrongly repeated dial the chance to show
    assert len(app.phones.dstny.dials) == 2
    assert len(app.slack.responses_to(url)) == 1 and len(app.slack.responses_to(click_url)) == 1


# -- a dial the vendor carried out but never answered ---------------------------------------


def _requests_to(app: RunningApp, vendor: str, path: str) -> list[dict[str, Any]]:
    recorded = httpx.get(app.phones.url(vendor) + "/_sim/requests").json()
    return [r for r in recorded if r["path"] == path]


@pytest.mark.phonebot(default_vendor="relatel", overrides=SLOW_RELATEL)
def test_a_dial_answered_after_the_timeout_is_reported_as_unknown_and_not_retried(app: RunningApp) -> None:
    relatel = app.phones.relatel
    _, url = app.command("/presence", "", user="U0BOB")  # Bob's token owner is known from here on
    app.reply(url)
    relatel.set_faults(latency=TIMEOUT * 3, path_prefix="/api/v2/switch/dial")

    _, url = app.command("/call", "+45 71 99 99 99", user="U0BOB")
    text = _text(app.reply(url))
    assert "Relatel didn't confirm" in text and "may still ring" in text and "won't retry" in text
    assert "Nothing was changed" not in text

    wait_until(lambda: len(relatel.dials) == 1)  # the simulator carries the dial out after its delay
    assert len(_requests_to(app, "relatel", "/api/v2/switch/dial")) == 1  # sent once, never retried
    assert [(d.employee_id, d.to_number) for d in relatel.dials] == [(2, "4571999999")]
    assert len(app.slack.responses_to(url)) == 1


# -- a presence write the vendor carried out but never answered -----------------------------


@pytest.mark.phonebot(overrides=SLOW_VENDOR)
def test_an_unconfirmed_presence_write_is_read_back_and_the_real_state_told(app: RunningApp) -> None:
    # Dstny sets the activity, then its end time: the end-time write lands but is never answered.
    app.phones.dstny.set_faults(
        latency=TIMEOUT * 1.6,
        path_prefix="/api/contacts/info/v1/example.com/alice@example.com/presence/activity/expires",
    )
    _, url = app.command("/presence", "lunch 45m")
    text = _text(app.reply(url, timeout=15))
    assert "Dstny didn't confirm in time, but your phone now shows *Lunch* until" in text, text
    assert "Nothing was changed" not in text
    alice = app.phones.dstny.presence_of("alice")
    assert alice.activity == "lunch" and alice.expires is not None


@pytest.mark.phonebot(default_vendor="relatel", overrides=SLOW_RELATEL)
def test_an_unconfirmed_relatel_presence_write_keeps_the_label_when_it_landed(app: RunningApp) -> None:
    relatel = app.phones.relatel
    _, url = app.command("/presence", "")  # Alice's token owner is known from here on
    app.reply(url)
    # Every attempt of the (idempotent, so retried) DND write lands late; the read-back after them is quick.
    relatel.set_faults(latency=TIMEOUT * 1.6, count=RetryPolicy().attempts, path_prefix="/api/v2/employee")

    _, url = app.command("/presence", "lunch 45m")
    text = _text(app.reply(url, timeout=15))
    assert "Relatel didn't confirm in time, but your phone now shows *Lunch* until" in text, text
    assert relatel.employee(1)["do_not_disturb"] is True
    relatel.clear_faults()

    _, url = app.command("/presence", "")
    assert "You are *Lunch* until" in _text(app.reply(url))


def test_intent_keys_stay_short_whatever_the_button_holds(app: RunningApp) -> None:
    button = _jensen_buttons(app)[0]
    _, click_url = app.click(button["action_id"] + "x" * 1900, button["value"])  # a 1,900-character action id
    assert "Your own phone rings first" in _text(app.reply(click_url))
    client = redis.Redis.from_url(app.runtime.settings.redis_url or "", decode_responses=True)
    try:
        keys = [str(key) for key in client.scan_iter("intent:*")]
    finally:
        client.close()
    assert keys and all(len(key) <= 64 for key in keys), keys

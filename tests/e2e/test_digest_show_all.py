"""Every alert a digest counts can be reached: Show all → a modal, newest first, each with a working Call back.

A burst of 200 Tele2 lost calls (20 a minute get their own message, the rest fold into one
digest) goes through the running app; a user clicks the digest's Show all button over signed
HTTP, pages through the modal the app opens in the fake Slack, and calls one caller back from
it — one the digest message itself does not list. The Dstny simulator records the dial.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from handlers.alert_view import SHOW_ALL_ACTION
from handlers.digest_modal import DIGEST_CALLBACK_ACTION, DIGEST_PAGE_ACTION
from tests.e2e.alerting import FAST_DELIVERY, subscribe, tele2_url, wait_until, writes
from tests.e2e.conftest import RunningApp
from tests.fakes.slack_api import MAX_VIEW_BLOCKS, SlackCall

BURST = 200
PER_MINUTE = 20
CHANNEL = "C0SHOWALL"
CALLER = re.compile(r"\+3706991\d{4}")
pytestmark = pytest.mark.phonebot(
    overrides={
        "alerts": {
            "routes": [{"channel": CHANNEL, "name": "Support", "digest_after_per_minute": PER_MINUTE}],
            "delivery": {**FAST_DELIVERY, "pace_seconds": 0.02, "digest_refresh_seconds": 0.5},
        }
    }
)


def is_digest(call: SlackCall) -> bool:
    return "more lost call" in call.args["text"]


def folded(app: RunningApp) -> int:
    digests = [c for c in writes(app.slack) if is_digest(c)]
    found = re.search(r"\+(\d+) more lost call", digests[-1].args["text"]) if digests else None
    return int(found.group(1)) if found else 0


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    return found + [b["accessory"] for b in blocks if b["type"] == "section" and "accessory" in b]


def click_in_modal(app: RunningApp, view: dict[str, Any], action_id: str, value: str) -> httpx.Response:
    body, headers = app.signer.block_action(
        action_id, value, user_id="U0ALICE", response_url=None, channel_id=None, message_ts=None, view=view
    )
    return app.client.send_sync(body, headers)


def modal_after(app: RunningApp, count: int) -> dict[str, Any]:
    """The modal as the ``count``-th accepted views.* call left it."""
    wait_until(lambda: len(ok_view_calls(app)) >= count, timeout=10)
    call = ok_view_calls(app)[count - 1]
    view: dict[str, Any] = app.slack.views[call.response["view"]["id"]]  # type: ignore[index]
    return view


def ok_view_calls(app: RunningApp) -> list[SlackCall]:
    calls = app.slack.calls_to("views.open") + app.slack.calls_to("views.update")
    return sorted((c for c in calls if c.status == 200 and (c.response or {}).get("ok")), key=lambda c: c.at)


def test_show_all_reaches_every_digest_subject_newest_first_and_calls_back(app: RunningApp) -> None:
    subscribe(app)
    url = tele2_url(app).replace("{event}", "LostCallerAdded")
    callers = [f"+3706991{n:04d}" for n in range(BURST)]
    with httpx.Client() as vendor:
        for caller in callers:
            body = app.phones.tele2.webhook_body("LostCallerAdded", {"callerid": caller})
            assert vendor.post(url, json=body).status_code == 200
    own = lambda: [c for c in writes(app.slack) if not is_digest(c)]  # noqa: E731
    wait_until(lambda: len(own()) + folded(app) == BURST, timeout=90)
    shown_alone = {CALLER.search(c.args["text"]).group(0) for c in own()}  # type: ignore[union-attr]
    in_digest = [caller for caller in reversed(callers) if caller not in shown_alone]  # newest first
    assert len(in_digest) >= BURST - 2 * PER_MINUTE

    digest_post = next(c for c in writes(app.slack) if is_digest(c) and c.method == "chat.postMessage")
    digest_ts = str(digest_post.response["ts"])  # type: ignore[index]
    message = app.slack.message(CHANNEL, digest_ts)
    assert message is not None
    listed = CALLER.findall(json.dumps(message["blocks"]))
    assert listed == in_digest[: len(listed)]  # the message lists the newest, newest first
    [show_all] = [b for b in buttons(message["blocks"]) if b["action_id"] == SHOW_ALL_ACTION]

    body, headers = app.signer.block_action(
        SHOW_ALL_ACTION, show_all["value"], user_id="U0ALICE", response_url=app.slack.new_response_url(),
        channel_id=CHANNEL, message_ts=digest_ts,
    )  # fmt: skip
    assert app.client.send_sync(body, headers).status_code == 200
    [opened] = app.slack.wait_for("views.open")
    assert opened.args["trigger_id"] == json.loads(parse_qs(body.decode())["payload"][0])["trigger_id"]

    reached: list[str] = []
    callbacks: dict[str, str] = {}
    view = modal_after(app, 1)
    pages = 1
    while True:
        assert len(view["blocks"]) <= MAX_VIEW_BLOCKS
        for button in buttons(view["blocks"]):
            if button["action_id"] == DIGEST_CALLBACK_ACTION:
                assert len(button["value"]) < 2000
        for block in view["blocks"]:
            if block["type"] == "section":
                [number] = CALLER.findall(block["text"]["text"])
                reached.append(number)
                assert block["accessory"]["action_id"] == DIGEST_CALLBACK_ACTION
                callbacks[number] = block["accessory"]["value"]
        older = [
            b for b in buttons(view["blocks"]) if b["action_id"] == DIGEST_PAGE_ACTION and b["text"]["text"] == "Older"
        ]
        if not older:
            break
        assert click_in_modal(app, view, DIGEST_PAGE_ACTION, older[0]["value"]).status_code == 200
        pages += 1
        view = modal_after(app, pages)
    assert reached == in_digest  # every folded subject, each once, newest first
    assert pages >= 2

    oldest = in_digest[-1]  # far past what the digest message itself lists
    assert oldest not in listed
    assert click_in_modal(app, view, DIGEST_CALLBACK_ACTION, callbacks[oldest]).status_code == 200
    wait_until(lambda: len(app.phones.dstny.dials) == 1, timeout=10)
    [dial] = app.phones.dstny.dials
    assert (dial.user, dial.target) == ("alice", oldest)
    wait_until(lambda: "ring" in json.dumps(app.slack.views[view["id"]]["blocks"][0]).lower(), timeout=10)
    after = app.slack.views[view["id"]]
    line = next(b for b in after["blocks"] if b["type"] == "section" and oldest in b["text"]["text"])
    assert "<@U0ALICE> is on it" in line["text"]["text"]


def test_crafted_show_all_page_and_call_back_values_get_a_kind_line_never_another_digest(app: RunningApp) -> None:
    """Issue 9 point 10: a modal's button values are checked; a crafted one can't open or page another digest."""
    import redis

    from bot.alerts.queue import AlertKeys
    from handlers.digest_modal import ModalPlace

    not_this_message, not_this_list = "doesn't belong to this digest's message", "doesn't belong to this list"

    keys = AlertKeys()
    ours, ts = f"burst:{CHANNEL}:00000000000a", "1700000000.000100"
    theirs = "burst:C0PRIVATE:00000000000b"  # another channel's digest, with three members
    with redis.Redis.from_url(app.runtime.settings.redis_url or "", decode_responses=True) as client:
        for digest_id, channel, members in ((ours, CHANNEL, 2), (theirs, "C0PRIVATE", 3)):
            client.hset(keys.digest(digest_id), mapping={"channel": channel, "kind": "burst", "ts": ts})
            client.zadd(f"{keys.digest(digest_id)}:members", {f"tele2|{digest_id}:{n}": n for n in range(members)})

    def show_all(value: str) -> dict[str, Any]:
        body, headers = app.signer.block_action(
            SHOW_ALL_ACTION, value, user_id="U0ALICE", response_url=app.slack.new_response_url(),
            channel_id=CHANNEL, message_ts=ts,
        )  # fmt: skip
        count = len(ok_view_calls(app))
        assert app.client.send_sync(body, headers).status_code == 200
        return modal_after(app, count + 1)

    refused = show_all(theirs)  # the other digest's id, on our digest's message
    assert not_this_message in json.dumps(refused["blocks"]) and refused["private_metadata"] == ""
    view = show_all(ours)
    assert view["title"]["text"] == "Alerts (2)" and ModalPlace.load(view["private_metadata"]) == ModalPlace(ours, 0)

    for crafted in (json.dumps({"digest": theirs, "page": 0}), "false", "-1", "1e3"):
        count = len(ok_view_calls(app))
        assert click_in_modal(app, view, DIGEST_PAGE_ACTION, crafted).status_code == 200
        paged = modal_after(app, count + 1)
        assert not_this_list in json.dumps(paged["blocks"]) and paged["title"]["text"] == "Alerts (2)"

    count = len(ok_view_calls(app))
    assert click_in_modal(app, view, DIGEST_CALLBACK_ACTION, f"tele2|{theirs}:0").status_code == 200
    called = modal_after(app, count + 1)
    assert "isn't in this list" in json.dumps(called["blocks"]) and app.phones.dstny.dials == []

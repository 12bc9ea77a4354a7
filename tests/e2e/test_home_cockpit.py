"""Issue 13 points 1, 2, 4 and 5 over real HTTP: a linked person's phone on their App Home.

Slack → phonebot: signed ``app_home_opened`` events, Home button clicks (``block_actions`` with a view container)
and the **Set…** modal's ``view_submission``; phonebot → Slack: the real client against the fake Slack
(``views.publish`` / ``views.open``); phonebot → the Dstny simulator for presence, queues and dials (vendor shapes:
``/work/shared/seeds/004*`` as ``adapters/dstny/simulator.py`` cites them). Alice (``U0ALICE``) is linked to the
simulator's ``alice``; ``U0STRANGER`` is linked to nobody.
"""

from __future__ import annotations

import itertools
import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from handlers import home_actions as modal
from handlers import home_phone as home
from tests.e2e.conftest import RunningApp
from tests.e2e.test_setup_home import buttons, open_home, submit

REFRESH = 1.0
pytestmark = pytest.mark.phonebot(settings_overrides={"phonebot_home_refresh_seconds": REFRESH})

ALICE = "U0ALICE"
STRANGER = "U0STRANGER"
PHONE_BLOCKS = (home.PRESENCE_BLOCK, home.PRESENCE_BUTTONS_BLOCK, home.QUEUES_BLOCK, home.CALLS_BLOCK)


def block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    [found] = [b for b in view["blocks"] if b.get("block_id") == block_id]
    return dict(found)


def block_ids(view: dict[str, Any]) -> list[str]:
    return [str(b.get("block_id", "")) for b in view["blocks"]]


def publishes(app: RunningApp, user: str = ALICE) -> list[Any]:
    return [call for call in app.slack.calls_to("views.publish") if call.args.get("user_id") == user]


def click(app: RunningApp, pressed: dict[str, Any], *, user: str = ALICE, block_id: str = "actions") -> None:
    """Click a button on the Home tab (a view container, no response_url); the ack comes well inside 3 s."""
    body, headers = app.signer.block_action(
        pressed["action_id"],
        pressed["value"],
        user_id=user,
        response_url=None,
        channel_id=None,
        message_ts=None,
        block_id=block_id,
    )
    answer = app.client.send_sync(body, headers)
    assert answer.status_code == 200 and answer.elapsed.total_seconds() < 3


def republished(app: RunningApp, before: int, user: str = ALICE) -> dict[str, Any]:
    """Wait for the Home published after ``before`` publishes for ``user``; returns it."""
    deadline = time.monotonic() + 10
    while len(publishes(app, user)) <= before:
        assert time.monotonic() < deadline, "the Home was not published again"
        time.sleep(0.02)
    return dict(publishes(app, user)[before].args["view"])


def button(view: dict[str, Any], label: str) -> dict[str, Any]:
    [found] = [b for bs in buttons(view).values() for b in bs if b["text"]["text"] == label]
    return found


def test_a_linked_persons_home_shows_presence_queues_and_buttons(app: RunningApp) -> None:
    view = open_home(app, ALICE)
    ids = block_ids(view)
    assert ids.index(home.PRESENCE_BLOCK) < ids.index(home.PRESENCE_BUTTONS_BLOCK) < ids.index(home.QUEUES_BLOCK)
    assert home.CALLS_BLOCK not in ids  # no call placed yet
    assert block(view, home.PRESENCE_BLOCK)["text"]["text"].startswith("*My presence*\nYou are *")
    presets = block(view, home.PRESENCE_BUTTONS_BLOCK)["elements"]
    assert [(b["text"]["text"], b["action_id"], b["value"]) for b in presets] == [
        ("Lunch 30 min", f"{home.PRESENCE_ACTION}:0", "lunch 30m"),
        ("Meeting 1 h", f"{home.PRESENCE_ACTION}:1", "meeting 1h"),
        ("Away", f"{home.PRESENCE_ACTION}:2", "away"),
        ("Available", f"{home.PRESENCE_ACTION}:3", "available"),
        ("Set\u2026", home.PRESENCE_MODAL_ACTION, "set"),
    ]
    assert block(view, home.QUEUES_BLOCK)["text"]["text"] == "*My queues*"
    queues = [b for b in view["blocks"] if str(b.get("block_id", "")).startswith(home.QUEUE_BLOCK + ":")]
    assert queues, "the simulator's groups are shown"
    sales = next(b for b in queues if "Sales" in b["text"]["text"])
    assert "waiting" in sales["text"]["text"] and "agents logged in" in sales["text"]["text"]
    assert sales["accessory"]["action_id"] == home.QUEUE_TOGGLE_ACTION
    assert sales["accessory"]["value"] in ("login 36", "logout 36")


def test_an_unlinked_persons_home_has_no_phone_sections(app: RunningApp) -> None:
    view = open_home(app, STRANGER)
    assert not set(PHONE_BLOCKS) & set(block_ids(view))
    assert home.QUEUE_TOGGLE_ACTION not in buttons(view) and home.PRESENCE_MODAL_ACTION not in buttons(view)


def test_lunch_30_min_sets_the_phone_and_the_home_is_published_once(app: RunningApp) -> None:
    view = open_home(app, ALICE)
    before = len(publishes(app))
    asked = datetime.now().astimezone()
    click(app, button(view, "Lunch 30 min"))
    after = republished(app, before)
    alice = app.phones.dstny.presence_of("alice")
    assert alice.activity == "lunch" and alice.expires is not None
    assert abs((alice.expires - (asked + timedelta(minutes=30))).total_seconds()) < 90
    assert "lunch" in block(after, home.PRESENCE_BLOCK)["text"]["text"].lower()
    assert "Your phone presence is now" in block(after, home.NOTICE_BLOCK)["elements"][0]["text"]
    time.sleep(REFRESH * 1.5)  # nothing else is due: no second publish follows
    assert len(publishes(app)) == before + 1


def test_the_set_modal_reads_until_and_refuses_bad_text(app: RunningApp) -> None:
    view = open_home(app, ALICE)
    opened = len(app.slack.calls_to("views.open"))
    click(app, button(view, "Set\u2026"))
    call = app.slack.wait_for("views.open", count=opened + 1)[-1]
    shown = dict(app.slack.views[call.response["view"]["id"]])  # type: ignore[index]
    assert shown["callback_id"] == modal.MODAL_CALLBACK

    def values(activity: str, when: str) -> dict[str, Any]:
        return {
            modal.ACTIVITY_BLOCK: {
                modal.ACTIVITY_ELEMENT: {"type": "static_select", "selected_option": {"value": activity}}
            },
            modal.WHEN_BLOCK: {modal.WHEN_ELEMENT: {"type": "plain_text_input", "value": when}},
        }

    bad = submit(app, shown, values("meeting", "until the cows come home"), ALICE)
    assert bad["response_action"] == "errors" and set(bad["errors"]) == {modal.WHEN_BLOCK}
    assert app.phones.dstny.presence_of("alice").activity == "available"  # nothing was set

    before = len(publishes(app))
    assert submit(app, shown, values("meeting", "until 13:00"), ALICE) == {}  # the modal closes
    republished(app, before)
    alice = app.phones.dstny.presence_of("alice")
    assert alice.activity == "meeting" and alice.expires is not None
    local = alice.expires.astimezone(ZoneInfo("Europe/Copenhagen"))  # Alice's own Slack time zone
    assert (local.hour, local.minute) == (13, 0)


def test_a_queue_toggle_logs_the_agent_in(app: RunningApp) -> None:
    app.phones.dstny.groups[36].logged_in.discard("alice")
    view = open_home(app, ALICE)
    [sales] = [b for b in view["blocks"] if b.get("accessory", {}).get("value") == "login 36"]
    before = len(publishes(app))
    click(app, sales["accessory"], block_id=sales["block_id"])
    after = republished(app, before)
    assert app.phones.dstny.is_logged_in("alice", 36)
    assert any(b.get("accessory", {}).get("value") == "logout 36" for b in after["blocks"])


def test_call_again_dials_once_on_a_double_click(app: RunningApp) -> None:
    _, url = app.command("/call", "+4571999999")
    assert "Calling" in app.reply(url)["text"]
    assert len(app.phones.dstny.dials) == 1
    view = open_home(app, ALICE)
    [again] = buttons(view)[home.CALL_AGAIN_ACTION]
    shown = block(view, f"{home.CALL_BLOCK}:0")["text"]["text"]
    assert shown.replace("\u00a0", " ").startswith("71 99 99 99 \u00b7 <!date^"), shown  # national: DK default
    click(app, again)
    click(app, again)  # the same button, clicked twice
    deadline = time.monotonic() + 10
    while len(app.phones.dstny.dials) < 2:
        assert time.monotonic() < deadline, "Call again did not dial"
        time.sleep(0.02)
    time.sleep(0.5)  # the second click's work is done by now (it only reads the store)
    assert [d.target for d in app.phones.dstny.dials] == ["+4571999999", "+4571999999"]


def test_a_burst_of_changes_is_at_most_one_publish_per_refresh_period(app: RunningApp) -> None:
    view = open_home(app, ALICE)
    lunch = button(view, "Lunch 30 min")
    available = button(view, "Available")
    before = len(publishes(app))
    for n in range(10):
        click(app, lunch if n % 2 == 0 else available)
    republished(app, before)
    time.sleep(REFRESH * 2.5)  # the burst's last change has been published by now
    stamps = [call.at for call in publishes(app)[before:]]
    assert 1 <= len(stamps) <= 3
    assert all(b - a >= REFRESH * 0.95 for a, b in itertools.pairwise(stamps))

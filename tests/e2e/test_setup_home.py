"""Workspace admins set phonebot up from its App Home (issue 11 point 4), over real HTTP.

Slack → phonebot: signed ``app_home_opened``, button clicks and ``view_submission`` payloads; phonebot →
Slack: the real client against the fake Slack (``views.publish/open/update``); the vendor check goes to
the Relatel simulator; what is saved is read back from the test's Redis. The config file names no
vendor, as a workspace set up from Slack starts.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import redis

from bot.installs.workspace import WorkspaceKey
from bot.secret_box import SecretBox
from bot.simulate import RELATEL_ADMIN_TOKEN
from bot.store import RedisStore
from bot.workspaces.settings import WorkspaceSettings, WorkspaceSettingsStore
from handlers.setup import home_blocks as home
from tests.e2e.conftest import SECRET_KEY, RunningApp

pytestmark = pytest.mark.phonebot(secret_key=True, file_vendors=())

ADMIN = "U0ADMIN"  # a Slack workspace admin, not in the config's admins:
NOT_ADMIN = "U0BOB"
WORKSPACE = WorkspaceKey(None, "T0001")
_events = iter(range(1, 10_000))


@pytest.fixture
def setup_app(app: RunningApp) -> RunningApp:
    app.slack.add_user(ADMIN, name="Ada Admin", email="ada@example.com", is_admin=True)
    return app


def open_home(app: RunningApp, user: str) -> dict[str, Any]:
    """``user`` opens the App Home; returns the view published for them."""
    before = len(app.slack.calls_to("views.publish"))
    event = {"type": "app_home_opened", "user": user, "channel": "D0001", "tab": "home"}
    body, headers = app.signer.event_callback(event, event_id=f"EvSetup{next(_events)}")
    assert app.client.send_sync(body, headers).status_code == 200
    view: dict[str, Any] = app.slack.wait_for("views.publish", count=before + 1)[-1].args["view"]
    return view


def buttons(view: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Every button of a view, by action id."""
    found: dict[str, list[dict[str, Any]]] = {}
    for block in view["blocks"]:
        elements = block.get("elements", []) if block["type"] == "actions" else [block.get("accessory") or {}]
        for element in elements:
            if element.get("type") == "button":
                found.setdefault(element["action_id"], []).append(element)
    return found


def click_home(app: RunningApp, button: dict[str, Any], user: str) -> dict[str, Any]:
    """Click a Home button that opens a modal; returns the modal Slack now shows."""
    before = len(app.slack.calls_to("views.open"))
    body, headers = app.signer.block_action(
        button["action_id"], button["value"], user_id=user, response_url=None, channel_id=None, message_ts=None
    )
    answer = app.client.send_sync(body, headers)
    assert answer.status_code == 200 and answer.elapsed.total_seconds() < 3
    opened = app.slack.wait_for("views.open", count=before + 1)[-1]
    return dict(app.slack.views[opened.response["view"]["id"]])  # type: ignore[index]


def submit(app: RunningApp, view: dict[str, Any], values: dict[str, Any], user: str) -> dict[str, Any]:
    """Submit ``view`` with ``values``; returns phonebot's ack body (``{}`` for a plain ack)."""
    body, headers = app.signer.view_submission(view, values, user_id=user)
    answer = app.client.send_sync(body, headers)
    assert answer.status_code == 200 and answer.elapsed.total_seconds() < 3, answer.elapsed
    return json.loads(answer.text) if answer.text else {}


def updated(view: dict[str, Any], ack: dict[str, Any]) -> dict[str, Any]:
    """The modal Slack shows after an ack with ``response_action: update`` (same id)."""
    assert ack.get("response_action") == "update", ack
    return {**ack["view"], "id": view["id"]}


def text_of(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"])


def relatel_form(app: RunningApp, user: str = ADMIN) -> dict[str, Any]:
    """Home → Add a phone system → pick Relatel: the Relatel form."""
    [add] = buttons(open_home(app, user))[home.ADD_VENDOR]
    picker = click_home(app, add, user)
    pick = {"vendor_pick": {"value": {"type": "static_select", "selected_option": {"value": "relatel"}}}}
    return updated(picker, submit(app, picker, pick, user))


def relatel_values(app: RunningApp, token: str | None) -> dict[str, Any]:
    values = {
        "vendor_field:base_url": {"value": {"type": "plain_text_input", "value": app.phones.url("relatel") + "/api/v2"}}
    }
    if token is not None:
        values["vendor_field:token"] = {"value": {"type": "plain_text_input", "value": token}}
    return values


def stored(redis_url: str) -> WorkspaceSettings:
    async def load() -> WorkspaceSettings:
        store = RedisStore(redis_url)
        try:
            return await WorkspaceSettingsStore(store, SecretBox.from_setting(SECRET_KEY)).load(WORKSPACE)
        finally:
            await store.close()

    return asyncio.run(load())


def test_an_admin_sees_set_up_on_the_home_and_others_do_not(setup_app: RunningApp) -> None:
    admin_home = open_home(setup_app, ADMIN)
    assert '"Set up"' in text_of(admin_home) and home.ADD_VENDOR in buttons(admin_home)
    assert "No phone system yet" in text_of(admin_home)
    other = open_home(setup_app, NOT_ADMIN)
    assert "Set up" not in text_of(other) and not any(a.startswith("setup_") for a in buttons(other))


def test_a_relatel_form_is_checked_against_relatel_and_saved_sealed(setup_app: RunningApp, redis_url: str) -> None:
    app = setup_app
    form = relatel_form(app)
    assert form["callback_id"] == "setup_vendor_form" and "vendor_field:token" in text_of(form)

    wrong = submit(app, form, relatel_values(app, "not-a-relatel-token"), ADMIN)
    assert wrong == {
        "response_action": "errors",
        "errors": {"vendor_field:token": "Relatel refused these credentials."},
    }
    assert any(r.authorization == "Bearer not-a-relatel-token" for r in app.phones.relatel.requests)  # really asked
    assert stored(redis_url).vendors == {}

    saved = updated(form, submit(app, form, relatel_values(app, RELATEL_ADMIN_TOKEN), ADMIN))
    assert "Relatel is set up" in text_of(saved)
    assert stored(redis_url).vendors["relatel"]["token"] == RELATEL_ADMIN_TOKEN
    raw = redis.Redis.from_url(redis_url).get(WorkspaceSettingsStore.key(WORKSPACE))
    assert raw is not None and RELATEL_ADMIN_TOKEN.encode() not in raw
    republished = app.slack.wait_for("views.publish", count=2)[-1].args
    assert republished["user_id"] == ADMIN
    shown = text_of(republished["view"])
    assert "set up in Slack" in shown and RELATEL_ADMIN_TOKEN not in shown and home.EDIT_VENDOR in shown

    [edit] = buttons(republished["view"])[home.EDIT_VENDOR]
    again = click_home(app, edit, ADMIN)
    assert RELATEL_ADMIN_TOKEN not in json.dumps(again) and "Leave empty to keep it" in json.dumps(again)
    kept = updated(again, submit(app, again, relatel_values(app, None), ADMIN))  # token left empty: the saved one
    assert "Relatel is set up" in text_of(kept) and stored(redis_url).vendors["relatel"]["token"] == RELATEL_ADMIN_TOKEN


def test_a_slow_vendor_gets_a_checking_view_then_the_outcome_by_views_update(
    setup_app: RunningApp, redis_url: str
) -> None:
    app = setup_app
    form = relatel_form(app)
    app.phones.relatel.set_faults(latency=1.8, count=1)  # the check's first Relatel request answers late
    ack = submit(app, form, relatel_values(app, "not-a-relatel-token"), ADMIN)
    assert "Checking Relatel" in text_of(updated(form, ack))
    [update] = app.slack.wait_for("views.update", timeout=10)
    again = {**update.args["view"], "id": update.args["view_id"]}
    assert update.args["view_id"] == form["id"] and again["callback_id"] == "setup_vendor_form"
    assert "Relatel refused these credentials" in text_of(again)  # the form again, the problem on top
    assert stored(redis_url).vendors == {}

    app.phones.relatel.set_faults(latency=1.8, count=1)
    assert "Checking Relatel" in text_of(
        updated(again, submit(app, again, relatel_values(app, RELATEL_ADMIN_TOKEN), ADMIN))
    )
    update = app.slack.wait_for("views.update", count=2, timeout=10)[-1]
    assert update.args["view_id"] == form["id"] and "Relatel is set up" in text_of(update.args["view"])
    assert stored(redis_url).vendors["relatel"]["token"] == RELATEL_ADMIN_TOKEN


def test_an_alert_route_and_a_threshold_are_added_and_removed(setup_app: RunningApp, redis_url: str) -> None:
    app = setup_app
    [add] = buttons(open_home(app, ADMIN))[home.ADD_ROUTE]
    modal = click_home(app, add, ADMIN)
    values = {
        "route:channel": {"value": {"type": "conversations_select", "selected_conversation": "C0ALERTS"}},
        "route:kinds": {
            "value": {"type": "checkboxes", "selected_options": [{"value": "lost_call"}, {"value": "voicemail"}]}
        },
        "route:quiet_start": {"value": {"type": "timepicker", "selected_time": "22:00"}},
        "route:quiet_end": {"value": {"type": "timepicker", "selected_time": "07:00"}},
    }
    assert "saved" in text_of(updated(modal, submit(app, modal, values, ADMIN)))
    [route] = stored(redis_url).routes
    assert route["channel"] == "C0ALERTS" and route["kinds"] == ["lost_call", "voicemail"]
    assert route["quiet_hours"]["start"] == "22:00"

    [add] = buttons(open_home(app, ADMIN))[home.ADD_THRESHOLD]
    modal = click_home(app, add, ADMIN)
    values = {
        "threshold:group": {"value": {"type": "plain_text_input", "value": "Support"}},
        "threshold:calls_waiting": {"value": {"type": "plain_text_input", "value": "5"}},
    }
    assert "saved" in text_of(updated(modal, submit(app, modal, values, ADMIN)))
    assert stored(redis_url).queue_thresholds[0]["calls_waiting"] == 5

    now = open_home(app, ADMIN)
    assert "C0ALERTS" in text_of(now)
    [remove] = buttons(now)[home.REMOVE_ROUTE]
    before = len(app.slack.calls_to("views.publish"))
    body, headers = app.signer.block_action(
        remove["action_id"], remove["value"], user_id=ADMIN, response_url=None, channel_id=None, message_ts=None
    )
    assert app.client.send_sync(body, headers).status_code == 200
    app.slack.wait_for("views.publish", count=before + 1)
    assert stored(redis_url).routes == [] and len(stored(redis_url).queue_thresholds) == 1


def test_a_non_admins_forged_submission_and_click_are_refused(setup_app: RunningApp, redis_url: str) -> None:
    app = setup_app
    form = relatel_form(app)  # an admin's real form, which Bob replays as his own
    asked = len(app.phones.relatel.requests)
    refused = updated(form, submit(app, form, relatel_values(app, RELATEL_ADMIN_TOKEN), NOT_ADMIN))
    assert "Only a workspace admin" in text_of(refused)
    other = {**form, "private_metadata": form["private_metadata"].replace("-:T0001", "-:T0OTHER")}
    refused = updated(form, submit(app, other, relatel_values(app, RELATEL_ADMIN_TOKEN), ADMIN))
    assert "another workspace" in text_of(refused)
    assert len(app.phones.relatel.requests) == asked and stored(redis_url).vendors == {}

    [add] = buttons(open_home(app, ADMIN))[home.ADD_ROUTE]
    assert "Only a workspace admin" in text_of(click_home(app, add, NOT_ADMIN))


@pytest.mark.phonebot(secret_key=False, file_vendors=("dstny",))
def test_without_a_secret_key_the_home_says_what_setup_needs(app: RunningApp) -> None:
    shown = text_of(open_home(app, "U0ALICE"))
    assert "needs `PHONEBOT_SECRET_KEY`" in shown and "Dstny" in shown and home.ADD_VENDOR not in shown

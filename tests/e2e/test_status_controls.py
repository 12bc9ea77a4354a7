"""Issue 12 point 8 over real HTTP: an admin sets the workspace's Slack status mapping, each person their switches.

The admin's **Slack status emoji** button (Set up) opens a modal through the fake Slack's ``views.open``; its
submission is a signed ``view_submission``. A person's switches are a checkboxes element on their App Home, sent
as a signed ``block_actions`` change. ``/presence`` then sets (or doesn't set) the status at the fake Slack with
the person's own token, as in ``tests/e2e/test_status_sync.py``.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from bot.status_sync.flow import CALLBACK_PATH
from bot.status_sync.mapping import DEFAULT_STATUSES
from handlers.setup import home_blocks as home
from handlers.setup.status_form import ACTIVITIES_BLOCK, CALL_BLOCK, DEFAULTS_BLOCK, MIN_CALL_BLOCK
from handlers.slack_status_prefs import PREFS_ACTION
from tests.e2e.conftest import RunningApp
from tests.e2e.test_install import install
from tests.e2e.test_setup_home import buttons, click_home, submit
from tests.e2e.test_status_sync import ALICE, BOB, connect, open_home, presence

pytestmark = pytest.mark.phonebot(oauth=True)

ADMIN = "U0ADMIN"
SCOPE = "-:T0001"


@pytest.fixture
def installed(app: RunningApp) -> RunningApp:
    install(app)  # workspace T0001, as the signed requests say
    app.slack.oauth.redirect_urls.append(app.url + CALLBACK_PATH)
    app.slack.add_user(ADMIN, name="Ada Admin", email="ada@example.com", is_admin=True)
    return app


def statuses(lunch: str) -> dict[str, Any]:
    lines = [lunch] + [f"{name} {e} {t}" for name, (e, t) in DEFAULT_STATUSES.items() if name != "lunch"]
    text = {"type": "plain_text_input"}
    return {
        ACTIVITIES_BLOCK: {"value": {**text, "value": "\n".join(lines)}},
        CALL_BLOCK: {"value": {**text, "value": ":telephone_receiver: On a call"}},
        MIN_CALL_BLOCK: {"value": {**text, "value": "20"}},
        DEFAULTS_BLOCK: {"value": {"type": "checkboxes", "selected_options": [{"value": f"{SCOPE}|phone_to_slack"}]}},
    }


def mapping_modal(app: RunningApp, user: str, *, as_seen_by: str = ADMIN) -> dict[str, Any]:
    [pressed] = buttons(open_home(app, as_seen_by))[home.EDIT_STATUS]
    assert pressed["value"].startswith(SCOPE + "|")
    return click_home(app, pressed, user)


def switches(view: dict[str, Any]) -> dict[str, Any]:
    for block in view["blocks"]:
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            if element.get("action_id") == PREFS_ACTION:
                return {"block_id": block["block_id"], **element}
    raise AssertionError("no switches on the Home")


def tick(app: RunningApp, view: dict[str, Any], on: list[str], *, block_id: str | None = None) -> dict[str, Any]:
    """Leave only the switches ``on`` ticked; returns the Home phonebot publishes after it."""
    shown = switches(view)
    chosen = [o for o in shown["options"] if o["value"].rpartition("|")[2] in on]
    before = len(app.slack.calls_to("views.publish"))
    body, headers = app.signer.block_action(
        PREFS_ACTION,
        "",
        user_id=ALICE,
        response_url=None,
        channel_id=None,
        message_ts=None,
        block_id=block_id or shown["block_id"],
        selected_options=chosen,
    )
    answer = app.client.send_sync(body, headers)
    assert answer.status_code == 200 and answer.elapsed.total_seconds() < 3
    return dict(app.slack.wait_for("views.publish", count=before + 1)[-1].args["view"])


def ticked_now(view: dict[str, Any]) -> list[str]:
    return [o["value"].rpartition("|")[2] for o in switches(view).get("initial_options", [])]


def test_an_admins_mapping_is_what_presence_shows(installed: RunningApp) -> None:
    app = installed
    connect(app)  # first: the admin's Home is published again after the save, while this would wait for Alice's
    modal = mapping_modal(app, ADMIN)
    shown = json.dumps(modal["blocks"])
    assert "lunch :hamburger: Lunch" in shown  # the defaults, to edit

    bad = submit(app, modal, statuses("lunch sandwich Out for lunch"), ADMIN)
    assert bad["response_action"] == "errors" and "not an emoji" in bad["errors"][ACTIVITIES_BLOCK]
    saved = submit(app, modal, statuses("lunch :sandwich: Out for lunch"), ADMIN)
    assert saved["response_action"] == "update" and "Saved" in json.dumps(saved["view"])

    asked_at = time.time()
    assert "Slack status shows it too" in presence(app, "lunch 30m")
    status = app.slack.status_of(ALICE)
    assert (status["status_emoji"], status["status_text"]) == (":sandwich:", "Out for lunch")
    assert abs(status["status_expiration"] - (asked_at + 30 * 60)) < 90
    presence(app, "meeting 1h")  # an activity the admin left as it was keeps the default
    assert app.slack.status_of(ALICE)["status_emoji"] == ":calendar:"
    assert "lunch :sandwich: Out for lunch" in json.dumps(mapping_modal(app, ADMIN)["blocks"])  # opens as saved


def test_a_person_who_switches_status_sync_off_gets_no_slack_status(installed: RunningApp) -> None:
    app = installed
    connect(app)
    view = open_home(app, ALICE)
    assert ticked_now(view) == ["phone_to_slack"]  # connected: on by default
    forged = tick(app, view, ["on_a_call"], block_id="slack_status_prefs:-:T0OTHER")  # another workspace's Home
    assert ticked_now(forged) == ["phone_to_slack"]

    view = tick(app, view, ["on_a_call"])
    assert ticked_now(view) == ["on_a_call"]
    reply = presence(app, "lunch")
    assert "Your phone presence is now *Lunch*" in reply and "Slack status" not in reply
    assert app.slack.calls_to("users.profile.set") == []
    assert ticked_now(open_home(app, ALICE)) == ["on_a_call"]  # kept

    tick(app, view, ["phone_to_slack"])
    assert "Slack status shows it too" in presence(app, "lunch")
    assert app.slack.status_of(ALICE)["status_emoji"] == ":hamburger:"


def test_a_non_admin_can_neither_open_nor_submit_the_mapping(installed: RunningApp) -> None:
    app = installed
    assert home.EDIT_STATUS not in buttons(open_home(app, BOB))
    refused = mapping_modal(app, BOB)  # the admin's button, clicked by Bob
    assert "Only a workspace admin" in json.dumps(refused["blocks"]) and "submit" not in refused

    modal = mapping_modal(app, ADMIN)
    ack = submit(app, modal, statuses("lunch :sandwich: Out for lunch"), BOB)  # the admin's modal, sent by Bob
    assert ack["response_action"] == "update" and "Only a workspace admin" in json.dumps(ack["view"])
    connect(app)  # no Home is published for Bob's refused submission: Alice's is the next
    presence(app, "lunch 30m")
    assert app.slack.status_of(ALICE)["status_emoji"] == ":hamburger:"  # nothing was saved

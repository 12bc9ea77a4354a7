"""Issue 11 point 12: the whole path a team takes, over HTTP, with no file to edit.

"Add to Slack" at the fake Slack → the workspace admin opens the App Home and sets up Relatel there (checked
against the Relatel simulator) and an alert route to a channel → a Relatel webhook at the workspace's own URL
becomes an alert in that channel, posted with the workspace's bot token → a person nobody linked runs
``/call``, links their own Relatel account through Relatel's OAuth (the simulator's authorize/token
endpoints) → ``/call`` rings their phone with their own token. The config file names no phone system.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from adapters.relatel.simulator import WEBHOOK_SECRET as RELATEL_WEBHOOK_SECRET
from bot.linking.relatel_flow import CALLBACK_PATH
from bot.simulate import RELATEL_ADMIN_TOKEN
from handlers.setup import home_blocks as home
from tests.e2e.alerting import FAST_DELIVERY, ok, wait_until
from tests.e2e.conftest import RunningApp
from tests.e2e.test_install import install

TEAM = "T0ACME"
ADMIN = "U0ALICE"  # a Slack workspace admin (the fake Slack says is_admin), named in no file
PERSON = "U0STRANGER"  # in Slack; no Relatel user has their email, and no file names them
CHANNEL = "C0ACMEALERTS"
CLIENT_ID, CLIENT_SECRET = "acme-phonebot", "acme-phonebot-secret"

pytestmark = pytest.mark.phonebot(
    oauth=True, file_vendors=(), overrides={"alerts": {"routes": [], "delivery": FAST_DELIVERY}}
)
_events = iter(range(1, 10_000))


def open_home(app: RunningApp, user: str) -> dict[str, Any]:
    before = len(app.slack.calls_to("views.publish"))
    event = {"type": "app_home_opened", "user": user, "channel": "D0ACME", "tab": "home"}
    body, headers = app.signer.event_callback(event, event_id=f"EvAcme{next(_events)}", team_id=TEAM)
    assert app.client.send_sync(body, headers).status_code == 200
    view: dict[str, Any] = app.slack.wait_for("views.publish", count=before + 1)[-1].args["view"]
    return view


def button(view: dict[str, Any], action_id: str) -> dict[str, Any]:
    for block in view["blocks"]:
        elements = block.get("elements", []) if block["type"] == "actions" else [block.get("accessory") or {}]
        for element in elements:
            if element.get("type") == "button" and element["action_id"] == action_id:
                return dict(element)
    raise AssertionError(f"no {action_id} button in {json.dumps(view['blocks'])[:500]}")


def click_for_modal(app: RunningApp, pressed: dict[str, Any], user: str) -> dict[str, Any]:
    before = len(app.slack.calls_to("views.open"))
    body, headers = app.signer.block_action(
        pressed["action_id"],
        pressed["value"],
        user_id=user,
        response_url=None,
        channel_id=None,
        message_ts=None,
        team_id=TEAM,
    )
    assert app.client.send_sync(body, headers).status_code == 200
    opened = app.slack.wait_for("views.open", count=before + 1)[-1]
    return dict(app.slack.views[opened.response["view"]["id"]])  # type: ignore[index]


def submit(app: RunningApp, view: dict[str, Any], values: dict[str, Any], user: str) -> dict[str, Any]:
    body, headers = app.signer.view_submission(view, values, user_id=user, team_id=TEAM)
    answer = app.client.send_sync(body, headers)
    assert answer.status_code == 200 and answer.elapsed.total_seconds() < 3, answer.elapsed
    return json.loads(answer.text) if answer.text else {}


def then_shown(view: dict[str, Any], ack: dict[str, Any]) -> dict[str, Any]:
    assert ack.get("response_action") == "update", ack
    return {**ack["view"], "id": view["id"]}


def text_input(value: str) -> dict[str, Any]:
    return {"value": {"type": "plain_text_input", "value": value}}


def posts_to(app: RunningApp, channel: str) -> list[Any]:
    return [call for call in ok(app.slack.calls_to("chat.postMessage")) if call.args.get("channel") == channel]


def link_button(reply: dict[str, Any]) -> dict[str, Any]:
    [found] = [e for block in reply["blocks"] if block["type"] == "actions" for e in block["elements"]]
    return dict(found)


def test_from_add_to_slack_to_a_call_on_your_own_phone(app: RunningApp) -> None:
    relatel = app.phones.relatel
    relatel.oauth_apps[CLIENT_ID] = (CLIENT_SECRET, app.url + CALLBACK_PATH)
    relatel.consenting_employee = 3  # Carol Christensen grants phonebot access at Relatel

    # 1. Install.
    bot_token = install(app, team_id=TEAM, team_name="Acme", user_id=ADMIN).token

    # 2. The admin sets up Relatel in the App Home; phonebot checks it against Relatel before saving.
    picker = click_for_modal(app, button(open_home(app, ADMIN), home.ADD_VENDOR), ADMIN)
    pick = {"vendor_pick": {"value": {"type": "static_select", "selected_option": {"value": "relatel"}}}}
    form = then_shown(picker, submit(app, picker, pick, ADMIN))
    values = {
        "vendor_field:base_url": text_input(app.phones.url("relatel") + "/api/v2"),
        "vendor_field:token": text_input(RELATEL_ADMIN_TOKEN),
        "vendor_field:webhook_secret": text_input(RELATEL_WEBHOOK_SECRET),
        "vendor_field:oauth_client_id": text_input(CLIENT_ID),
        "vendor_field:oauth_client_secret": text_input(CLIENT_SECRET),
    }
    saved = submit(app, form, values, ADMIN)
    if saved.get("response_action") == "update" and saved["view"].get("callback_id") != "setup_saved":
        # A slow check: a "Checking Relatel…" view now, the outcome by views.update.
        wait_until(
            lambda: any(c.args["view"].get("callback_id") == "setup_saved" for c in app.slack.calls_to("views.update"))
        )
    else:
        assert then_shown(form, saved)["callback_id"] == "setup_saved", saved

    # 3. ... and a route for lost calls to the support channel.
    modal = click_for_modal(app, button(open_home(app, ADMIN), home.ADD_ROUTE), ADMIN)
    route = {
        "route:channel": {"value": {"type": "conversations_select", "selected_conversation": CHANNEL}},
        "route:kinds": {"value": {"type": "checkboxes", "selected_options": [{"value": "lost_call"}]}},
    }
    assert "saved" in json.dumps(then_shown(modal, submit(app, modal, route, ADMIN))["blocks"])
    home_now = json.dumps(open_home(app, ADMIN)["blocks"])
    assert "Relatel" in home_now and CHANNEL in home_now

    # 4. A missed call at Relatel, sent to the workspace's own webhook URL, is an alert in that channel.
    call = relatel.add_missed_call("+4520123456", contact_name="Jens Jensen")
    webhook_url = f"{app.url}/w/{TEAM}/webhooks/relatel"

    def alerted() -> bool:
        answer = relatel.send_webhook_sync(webhook_url, "call.ended", {"call": call}, secret=RELATEL_WEBHOOK_SECRET)
        assert answer.status_code in (200, 404), answer.text  # 404 until the workspace's pipeline has started
        return answer.status_code == 200

    wait_until(alerted)
    wait_until(lambda: len(posts_to(app, CHANNEL)) == 1, timeout=10)
    [post] = posts_to(app, CHANNEL)
    assert post.token == bot_token, "posted with another token than the workspace's own"
    assert "20 12 34 56" in post.args["text"] or "20123456" in post.args["text"], post.args["text"]

    # 5. Someone nobody linked runs /call: they link their own Relatel account, then /call rings their phone.
    _, url = app.command("/call", "+4571999999", user=PERSON, team_id=TEAM)
    offer = app.reply(url)
    assert "isn't linked to a Relatel user" in offer["text"] and relatel.dials == []
    browser = httpx.Client(follow_redirects=True, timeout=10)
    page = browser.get(link_button(offer)["url"])
    assert page.status_code == 200 and "linked as Carol Christensen" in page.text
    _, url = app.command("/call", "+4571999999", user=PERSON, team_id=TEAM)
    assert "Calling" in app.reply(url)["text"]
    # Relatel rings the token owner's phone: Carol's, so her own token was used, not the admin's (Alice's).
    assert [dial.employee_id for dial in relatel.dials] == [3]

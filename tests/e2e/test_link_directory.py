"""People of a phone system without per-user OAuth (Dstny) pick themselves from its directory; admins
approve, link and unlink from the App Home (issue 11 points 6, 8 and 9), over real HTTP.

Slack → phonebot signed requests (slash commands, button clicks, the modal's Enter and submit, App
Home events); phonebot → the fake Slack Web API (``views.open/update/publish``) and the Dstny
simulator (contact search, call-back); a real redis-server holds links and requests.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from adapters.dstny.simulator import SimUser
from tests.e2e.conftest import RunningApp
from tests.fakes.slack_views import home_click, input_dispatch, view_submission

STRANGER = "U0STRANGER"  # Slack email sam@elsewhere.example: not in Dstny's directory
ADMIN = "U0ALICE"
NOT_ADMIN = "U0BOB"
SAM = SimUser("sam", "Sam", "Sørensen", "sam.s@example.com", "+4571000009")

pytestmark = pytest.mark.phonebot(default_vendor="dstny", secret_key=True)
_events = itertools.count(1)


@pytest.fixture
def dstny_app(app: RunningApp) -> RunningApp:
    app.phones.dstny.users[SAM.user_id] = SAM
    return app


def buttons(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every button in ``blocks`` by its label (actions blocks and section accessories)."""
    found: list[dict[str, Any]] = []
    for block in blocks:
        found += block.get("elements", []) if block["type"] == "actions" else []
        if block.get("accessory", {}).get("type") == "button":
            found.append(block["accessory"])
    return {f"{b['text']['text']}:{b.get('value', '')}": b for b in found if b.get("type") == "button"}


def button(blocks: list[dict[str, Any]], label: str, *, about: str = "") -> dict[str, Any]:
    [found] = [b for key, b in buttons(blocks).items() if key.startswith(label + ":") and key.endswith(about)]
    return found


def open_home(app: RunningApp, user: str) -> dict[str, Any]:
    before = len(app.slack.calls_to("views.publish"))
    event = {"type": "app_home_opened", "user": user, "channel": "D0001", "tab": "home"}
    body, headers = app.signer.event_callback(event, event_id=f"EvLink{next(_events)}")
    assert app.client.send_sync(body, headers).status_code == 200
    app.slack.wait_for("views.publish", count=before + 1)
    return app.slack.home_views[user]


def click_home(app: RunningApp, user: str, target: dict[str, Any]) -> dict[str, Any]:
    """Click ``target`` on ``user``'s App Home; the view phonebot publishes after it."""
    home = app.slack.home_views.get(user) or {"id": "V09999", "blocks": []}
    before = len(app.slack.calls_to("views.publish"))
    answer = app.client.send_sync(*home_click(app.signer, home, target, user_id=user))
    assert answer.status_code == 200 and answer.elapsed.total_seconds() < 3
    app.slack.wait_for("views.publish", count=before + 1)
    return app.slack.home_views[user]


def home_text(view: dict[str, Any]) -> str:
    return str(view["blocks"])


def open_modal(app: RunningApp, user: str, link: dict[str, Any]) -> dict[str, Any]:
    before = len(app.slack.calls_to("views.open"))
    answer, _ = app.click(link["action_id"], link["value"], user=user)
    assert answer.status_code == 200 and answer.elapsed.total_seconds() < 3
    [*_, opened] = app.slack.wait_for("views.open", count=before + 1)
    return opened.args["view"] | {"id": _latest_modal(app)}


def _latest_modal(app: RunningApp) -> str:
    return sorted(app.slack.views)[-1]


def search(app: RunningApp, user: str, view_id: str, query: str) -> dict[str, Any]:
    """Press Enter in the modal's search box; the modal as phonebot updates it."""
    before = len(app.slack.calls_to("views.update"))
    body, headers = input_dispatch(
        app.signer, app.slack.views[view_id], block_id="query", action_id="link_search", value=query, user_id=user
    )
    answer = app.client.send_sync(body, headers)
    assert answer.status_code == 200 and answer.elapsed.total_seconds() < 3
    app.slack.wait_for("views.update", count=before + 1)
    return app.slack.views[view_id]


def submit(app: RunningApp, user: str, view_id: str, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Submit the modal; phonebot's ack (the ``response_action``) and the modal as it ends up."""
    before = len(app.slack.calls_to("views.update"))
    answer = app.client.send_sync(*view_submission(app.signer, app.slack.views[view_id], values, user_id=user))
    assert answer.status_code == 200 and answer.elapsed.total_seconds() < 3
    ack = answer.json() if answer.content else {}
    if ack.get("response_action") == "update":
        app.slack.wait_for("views.update", count=before + 1)
    return ack, app.slack.views[view_id]


def picked(user_id: str, query: str = "sam") -> dict[str, Any]:
    return {
        "query": {"link_search": {"type": "plain_text_input", "value": query}},
        "pick": {"pick": {"type": "radio_buttons", "selected_option": {"value": user_id}}},
    }


def link_offer(app: RunningApp, user: str = STRANGER) -> dict[str, Any]:
    """``/call`` as ``user``: the ephemeral answer must offer the Link button (an action, not a URL)."""
    _, url = app.command("/call", "+4571999999", user=user)
    reply = app.reply(url)
    assert "sam@elsewhere.example" in reply["text"] and "Find yourself" in reply["text"]
    link = button(reply["blocks"], "Link your phone account")
    assert "url" not in link and "T0001" in link["value"]
    return link


def test_a_pick_waits_for_an_admin_who_approves_it_and_call_then_rings_the_pickers_phone(dstny_app: RunningApp) -> None:
    app = dstny_app
    modal = open_modal(app, STRANGER, link_offer(app))
    assert "Dstny" in str(modal["blocks"]) and modal["callback_id"] == "link_find"
    found = search(app, STRANGER, modal["id"], "sam")
    [pick] = [b for b in found["blocks"] if b.get("block_id") == "pick"]
    assert [o["value"] for o in pick["element"]["options"]] == ["sam"]
    assert "Sam Sørensen · +4571000009" in str(pick)

    ack, done = submit(app, STRANGER, modal["id"], picked("sam"))
    assert ack["response_action"] == "update"
    assert "admin will approve" in str(done["blocks"])
    _, url = app.command("/call", "+4571999999", user=STRANGER)
    waiting = app.reply(url)
    assert "waits for a phonebot admin" in waiting["text"] and "Sam Sørensen" in waiting["text"]
    assert app.phones.dstny.dials == []  # not linked yet
    assert "yet to approve" in home_text(open_home(app, STRANGER))

    admin_home = open_home(app, ADMIN)
    assert "People" in home_text(admin_home) and f"<@{STRANGER}> says they are *Sam Sørensen*" in home_text(admin_home)
    approve = button(admin_home["blocks"], "Approve", about=STRANGER)

    forged = click_home(app, NOT_ADMIN, approve)  # Bob isn't an admin: refused, the request stays
    assert "Only a phonebot admin" in home_text(forged) and "People" not in home_text(forged)
    assert f"<@{STRANGER}> says they are" in home_text(open_home(app, ADMIN))

    approved = click_home(app, ADMIN, approve)
    assert f"<@{STRANGER}> is now linked as *Sam Sørensen*" in home_text(approved)
    assert "Approve" not in str(buttons(approved["blocks"]))
    assert any(call.args.get("channel") == STRANGER for call in app.slack.calls_to("chat.postMessage"))

    _, url = app.command("/call", "+4571999999", user=STRANGER)
    assert "Calling" in app.reply(url)["text"]
    assert [dial.user for dial in app.phones.dstny.dials] == ["sam"]

    mine = open_home(app, STRANGER)
    assert "you picked yourself from Dstny's directory" in home_text(mine)
    after = click_home(app, STRANGER, button(mine["blocks"], "Unlink"))
    assert "Unlinked" in home_text(after)
    button(after["blocks"], "Link your phone account")  # offered again
    _, url = app.command("/call", "+4571999999", user=STRANGER)
    assert "Find yourself" in app.reply(url)["text"] and len(app.phones.dstny.dials) == 1


def test_with_approval_off_a_pick_links_at_once_nobody_else_can_claim_it_and_an_admin_unlinks(
    dstny_app: RunningApp,
) -> None:
    app = dstny_app
    home = open_home(app, ADMIN)
    off = click_home(app, ADMIN, button(home["blocks"], "Turn approval off"))
    assert "Approval is now *off*" in home_text(off)
    button(off["blocks"], "Turn approval on")

    offer = link_offer(app)
    modal = open_modal(app, STRANGER, offer)
    ack, searched = submit(app, STRANGER, modal["id"], {"query": {"link_search": {"value": "Sørensen"}}})  # Search
    assert ack["response_action"] == "update" and "Sam Sørensen" in str(searched["blocks"])
    assert searched["submit"]["text"] == "Link me"
    _, done = submit(app, STRANGER, modal["id"], picked("sam", "Sørensen"))
    assert "Done: you are linked as *Sam Sørensen*" in str(done["blocks"])
    _, url = app.command("/call", "+4571999999", user=STRANGER)
    assert "Calling" in app.reply(url)["text"] and [d.user for d in app.phones.dstny.dials] == ["sam"]

    # Bob (linked to bob by his email) clicks a copy of the stranger's button: Sam's phone is taken.
    stolen = open_modal(app, NOT_ADMIN, offer)
    search(app, NOT_ADMIN, stolen["id"], "sam")
    _, refused = submit(app, NOT_ADMIN, stolen["id"], picked("sam"))
    assert "already linked to someone else" in str(refused["blocks"])
    # A made-up pick that no search offered links nobody.
    stolen = open_modal(app, NOT_ADMIN, offer)
    search(app, NOT_ADMIN, stolen["id"], "sam")
    _, made_up = submit(app, NOT_ADMIN, stolen["id"], picked("carol"))
    assert "no longer on offer" in str(made_up["blocks"])

    people = open_home(app, ADMIN)
    assert f"<@{STRANGER}> is Dstny *Sam Sørensen* (picked from the directory)" in home_text(people)
    unlinked = click_home(app, ADMIN, button(people["blocks"], "Unlink", about=STRANGER))
    assert f"Unlinked <@{STRANGER}>" in home_text(unlinked)
    _, url = app.command("/call", "+4571999999", user=STRANGER)
    assert "Find yourself" in app.reply(url)["text"] and len(app.phones.dstny.dials) == 1


def test_an_admin_links_someone_from_the_app_home_and_a_non_admin_cannot(dstny_app: RunningApp) -> None:
    app = dstny_app
    home = open_home(app, ADMIN)
    modal = open_modal_from_home(app, ADMIN, button(home["blocks"], "Link someone"))
    assert any(b.get("block_id") == "who" for b in modal["blocks"])
    search(app, ADMIN, modal["id"], "sam")
    ack, _ = submit(app, ADMIN, modal["id"], picked("sam"))
    assert ack["response_action"] == "errors" and "who" in ack["errors"]  # the person is required
    values = picked("sam") | {"who": {"who": {"type": "users_select", "selected_user": STRANGER}}}
    _, done = submit(app, ADMIN, modal["id"], values)
    assert f"<@{STRANGER}> is now linked as *Sam Sørensen*" in str(done["blocks"])
    _, url = app.command("/phonebot", "whoami", user=STRANGER)
    assert "linked by a phonebot admin" in app.reply(url)["text"]

    # Bob forges the admin modal's submission: the admin check runs again on submit.
    forged = open_modal_from_home(app, ADMIN, button(home["blocks"], "Link someone"))
    search(app, ADMIN, forged["id"], "carol")
    _, refused = submit(app, NOT_ADMIN, forged["id"], picked("carol") | {"who": values["who"]})
    assert "Only a phonebot admin" in str(refused["blocks"])
    _, url = app.command("/phonebot", "whoami", user=STRANGER)
    assert "sam" in app.reply(url)["text"]


def open_modal_from_home(app: RunningApp, user: str, target: dict[str, Any]) -> dict[str, Any]:
    before = len(app.slack.calls_to("views.open"))
    home = app.slack.home_views[user]
    answer = app.client.send_sync(*home_click(app.signer, home, target, user_id=user))
    assert answer.status_code == 200
    [*_, opened] = app.slack.wait_for("views.open", count=before + 1)
    return opened.args["view"] | {"id": _latest_modal(app)}


def test_buttons_made_for_another_workspace_are_refused(dstny_app: RunningApp) -> None:
    app = dstny_app
    opened = len(app.slack.calls_to("views.open"))
    _, url = app.click("link_directory", "ws:-:T0OTHER:", user=STRANGER)
    assert "another workspace" in app.reply(url)["text"]
    _, url = app.command("/phonebot", "whoami", user=STRANGER)  # answered after the click: no modal was opened
    app.reply(url)
    assert len(app.slack.calls_to("views.open")) == opened

    home = open_home(app, ADMIN)
    forged = dict(button(home["blocks"], "Turn approval off"), value="ws:-:T0OTHER:|")
    after = click_home(app, ADMIN, forged)
    assert "another workspace" in home_text(after) and button(after["blocks"], "Turn approval off")  # still on


def test_nobody_can_pick_a_colleague_whose_email_already_matches_them(dstny_app: RunningApp) -> None:
    """Bob is matched by his Slack email (no link): the stranger can't pick Bob's phone, approval or not."""
    app = dstny_app
    click_home(app, ADMIN, button(open_home(app, ADMIN)["blocks"], "Turn approval off"))
    modal = open_modal(app, STRANGER, link_offer(app))
    search(app, STRANGER, modal["id"], "bob")
    _, refused = submit(app, STRANGER, modal["id"], picked("bob", "bob"))
    assert "already linked to someone else" in str(refused["blocks"])
    _, url = app.command("/call", "+4571999999", user=STRANGER)
    assert "Find yourself" in app.reply(url)["text"] and app.phones.dstny.dials == []

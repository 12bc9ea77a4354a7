"""People link their own Relatel account from Slack (issue 11 points 6, 7 and 9), over real HTTP.

Slack → phonebot signed requests; the browser's trip is a real HTTP client with a cookie jar
through phonebot's ``/link/relatel/start`` → the Relatel simulator's ``/api/v2/authorize`` →
phonebot's ``/link/relatel/callback``; the code is exchanged at the simulator's ``/api/v2/token``.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bot.linking.relatel_flow import CALLBACK_PATH
from tests.e2e.conftest import RunningApp

CLIENT_ID = "phonebot-e2e"
CLIENT_SECRET = "phonebot-e2e-secret"
OAUTH = {"vendors": {"relatel": {"oauth_client_id": CLIENT_ID, "oauth_client_secret": CLIENT_SECRET}}}
STRANGER = "U0STRANGER"  # in Slack, not in the config, and no Relatel user has their email

pytestmark = pytest.mark.phonebot(default_vendor="relatel", public_url=True, secret_key=True, overrides=OAUTH)


def link_button(reply: dict[str, Any]) -> dict[str, Any]:
    [button] = [e for block in reply["blocks"] if block["type"] == "actions" for e in block["elements"]]
    return button


def browse(app: RunningApp, start_url: str) -> tuple[httpx.Client, httpx.Response, str]:
    """The user's browser: phonebot's start page, Relatel's consent, back to phonebot's callback."""
    browser = httpx.Client(follow_redirects=False, timeout=10)
    to_relatel = browser.get(start_url)
    assert to_relatel.status_code == 302, to_relatel.text
    back = browser.get(to_relatel.headers["location"])
    assert back.status_code == 302 and back.headers["location"].startswith(app.url + CALLBACK_PATH)
    return browser, browser.get(back.headers["location"]), back.headers["location"]


@pytest.fixture
def relatel_app(app: RunningApp) -> RunningApp:
    app.phones.relatel.oauth_apps[CLIENT_ID] = (CLIENT_SECRET, app.url + CALLBACK_PATH)
    app.phones.relatel.consenting_employee = 3  # Carol grants access at Relatel
    return app


def test_an_unlinked_user_links_their_own_account_and_call_rings_their_phone(relatel_app: RunningApp) -> None:
    app = relatel_app
    _, url = app.command("/call", "+4571999999", user=STRANGER)
    offer = app.reply(url)
    button = link_button(offer)
    assert "isn't linked" in offer["text"] and button["url"].startswith(app.url + "/link/relatel/start?ticket=")
    assert app.phones.relatel.dials == []

    browser, page, callback = browse(app, button["url"])
    assert page.status_code == 200 and "linked as Carol Christensen" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert browser.get(callback).status_code == 400  # the same answer again: that attempt is finished
    assert httpx.get(button["url"]).status_code == 400  # the ticket worked once

    _, url = app.command("/call", "+4571999999", user=STRANGER)
    assert "Calling" in app.reply(url)["text"]
    assert [dial.employee_id for dial in app.phones.relatel.dials] == [3]  # Carol's phone, with Carol's token
    _, url = app.command("/phonebot", "whoami", user=STRANGER)
    who = app.reply(url)
    assert "you linked your own Relatel account" in who["text"]
    unlink = link_button(who)
    assert unlink["text"]["text"] == "Unlink"

    _, url = app.click(unlink["action_id"], unlink["value"], user=STRANGER)
    assert "Unlinked" in app.reply(url)["text"]
    _, url = app.command("/call", "+4571999999", user=STRANGER)
    assert "isn't linked" in app.reply(url)["text"]  # offered the button again, nothing dialled
    assert len(app.phones.relatel.dials) == 1


def test_a_revoked_token_unlinks_the_user_and_offers_to_link_again(relatel_app: RunningApp) -> None:
    app = relatel_app
    _, url = app.command("/call", "+4571999999", user=STRANGER)
    browse(app, link_button(app.reply(url))["url"])
    [token] = [t for t, owner in app.phones.relatel.tokens.items() if t.startswith("relatel-oauth-") and owner == 3]
    app.phones.relatel.revoke(token)  # 000 ~10: "a user may at any time destroy their access tokens"

    _, url = app.command("/call", "+4571999999", user=STRANGER)
    answer = app.reply(url)
    assert "no longer accepts your linked account" in answer["text"] and "unlinked" in answer["text"]
    assert link_button(answer)["url"].startswith(app.url + "/link/relatel/start?ticket=")
    assert app.phones.relatel.dials == []
    _, url = app.command("/phonebot", "whoami", user=STRANGER)
    assert "isn't linked" in app.reply(url)["text"]


def test_declining_or_a_forged_callback_links_nobody(relatel_app: RunningApp) -> None:
    app = relatel_app
    app.phones.relatel.consenting_employee = None  # the user says no at Relatel
    _, url = app.command("/call", "+4571999999", user=STRANGER)
    _, page, _ = browse(app, link_button(app.reply(url))["url"])
    assert page.status_code == 200 and "nothing was linked" in page.text
    forged = httpx.get(app.url + CALLBACK_PATH, params={"code": "x", "state": "guessed"})
    assert forged.status_code == 400 and "Traceback" not in forged.text
    _, url = app.command("/phonebot", "whoami", user=STRANGER)
    assert "isn't linked" in app.reply(url)["text"]

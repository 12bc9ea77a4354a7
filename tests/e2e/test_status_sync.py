"""Issue 12 points 1, 2 and 8: a person's Slack status follows their phone presence, over real HTTP.

"Add to Slack" at the fake Slack, then the person presses **Connect Slack status** on their App Home: a browser
(plain httpx with a cookie jar) goes to phonebot's ``/slack-status/start`` → the fake Slack's authorize page
(``user_scope`` only) → phonebot's ``/slack-status/callback``, which exchanges the code with ``oauth.v2.access``.
``/presence`` then sets the status and DND through the fake Slack's ``users.profile.*`` and ``dnd.*`` with the
person's own ``xoxp-`` token, and ``/presence available`` puts their own status back.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bot.status_sync.flow import CALLBACK_PATH, START_PATH
from bot.status_sync.tokens import USER_SCOPES
from handlers.slack_status import CONNECT_ACTION, DISCONNECT_ACTION
from tests.e2e.conftest import RunningApp
from tests.e2e.test_install import install

pytestmark = pytest.mark.phonebot(oauth=True, settings_overrides={"phonebot_status_restore_seconds": 0.05})

ALICE, BOB = "U0ALICE", "U0BOB"
PROFILE_METHODS = ("users.profile.get", "users.profile.set", "dnd.setSnooze", "dnd.endSnooze")
_events = iter(range(1, 10_000))


@pytest.fixture
def installed(app: RunningApp) -> RunningApp:
    install(app)  # workspace T0001, as the signed requests say
    app.slack.oauth.redirect_urls.append(app.url + CALLBACK_PATH)  # registered as app_manifest.yml lists it
    return app


def open_home(app: RunningApp, user: str) -> dict[str, Any]:
    before = len(app.slack.calls_to("views.publish"))
    event = {"type": "app_home_opened", "user": user, "channel": "D0001", "tab": "home"}
    body, headers = app.signer.event_callback(event, event_id=f"EvStatus{next(_events)}")
    assert app.client.send_sync(body, headers).status_code == 200
    view: dict[str, Any] = app.slack.wait_for("views.publish", count=before + 1)[-1].args["view"]
    return view


def button(view: dict[str, Any], action_id: str) -> dict[str, Any] | None:
    for block in view["blocks"]:
        for element in block.get("elements", []) if block["type"] == "actions" else [block.get("accessory") or {}]:
            if element.get("action_id") == action_id:
                return dict(element)
    return None


def connect(app: RunningApp, user: str = ALICE) -> httpx.Response:
    """The person presses Connect Slack status and approves at Slack; returns phonebot's last page."""
    pressed = button(open_home(app, user), CONNECT_ACTION)
    assert pressed is not None and pressed["url"].startswith(app.url + START_PATH + "?ticket=")
    app.slack.oauth.grant(user_id=user)
    browser = httpx.Client(follow_redirects=False, timeout=10)
    to_slack = browser.get(pressed["url"])
    assert to_slack.status_code == 302, to_slack.text
    asked = parse_qs(urlsplit(to_slack.headers["location"]).query)
    assert asked["user_scope"] == [",".join(USER_SCOPES)] and "scope" not in asked and asked["team"] == ["T0001"]
    back = browser.get(to_slack.headers["location"])
    assert back.status_code == 302 and back.headers["location"].startswith(app.url + CALLBACK_PATH)
    return browser.get(back.headers["location"])


def click_home(app: RunningApp, pressed: dict[str, Any], *, value: str | None = None) -> dict[str, Any]:
    """Click an App Home button; returns the Home view phonebot publishes after it."""
    before = len(app.slack.calls_to("views.publish"))
    body, headers = app.signer.block_action(
        pressed["action_id"],
        value or pressed["value"],
        user_id=ALICE,
        response_url=None,
        channel_id=None,
        message_ts=None,
    )
    assert app.client.send_sync(body, headers).status_code == 200
    view: dict[str, Any] = app.slack.wait_for("views.publish", count=before + 1)[-1].args["view"]
    return view


def presence(app: RunningApp, text: str, user: str = ALICE) -> str:
    _, url = app.command("/presence", text, user=user)
    reply: str = app.reply(url)["text"]
    return reply


def test_connected_status_follows_presence_and_the_previous_one_comes_back(installed: RunningApp) -> None:
    app = installed
    app.slack.set_status(ALICE, "Working from home", ":house:")
    page = connect(app)
    assert page.status_code == 200 and "follows your phone presence" in page.text
    assert button(open_home(app, ALICE), DISCONNECT_ACTION) is not None

    asked_at = time.time()
    assert "Slack status shows it too" in presence(app, "lunch 45m")
    status = app.slack.status_of(ALICE)
    assert (status["status_emoji"], status["status_text"]) == (":hamburger:", "Lunch")
    assert abs(status["status_expiration"] - (asked_at + 45 * 60)) < 90
    assert ALICE not in app.slack.snoozes
    [set_call] = app.slack.calls_to("users.profile.set")
    assert set_call.token is not None and set_call.token.startswith("xoxp-")  # the person's own token

    presence(app, "dnd 1h")
    assert app.slack.status_of(ALICE)["status_emoji"] == ":no_entry:"
    assert app.slack.snoozes[ALICE]["num_minutes"] == 60

    assert "Your own Slack status is back" in presence(app, "available")
    status = app.slack.status_of(ALICE)
    assert (status["status_emoji"], status["status_text"]) == (":house:", "Working from home")
    assert ALICE not in app.slack.snoozes and len(app.slack.calls_to("dnd.endSnooze")) == 1


def test_a_status_changed_by_hand_in_between_is_left_alone(installed: RunningApp) -> None:
    app = installed
    connect(app)
    presence(app, "lunch 45m")
    app.slack.set_status(ALICE, "Biking home", ":bike:")
    assert "left it as it is" in presence(app, "available")
    status = app.slack.status_of(ALICE)
    assert (status["status_emoji"], status["status_text"]) == (":bike:", "Biking home")
    presence(app, "available")  # the saved status was forgotten: nothing to put back over the hand-set one
    assert app.slack.status_of(ALICE)["status_text"] == "Biking home"


def test_a_person_who_never_connected_gets_presence_and_no_status_call(installed: RunningApp) -> None:
    app = installed
    assert button(open_home(app, BOB), CONNECT_ACTION) is not None
    reply = presence(app, "lunch 45m", user=BOB)
    assert "Your phone presence is now *Lunch*" in reply and "Slack status" not in reply
    presence(app, "available", user=BOB)
    assert [call for method in PROFILE_METHODS for call in app.slack.calls_to(method)] == []


def test_a_revoked_token_turns_sync_off_and_disconnect_forgets_it(installed: RunningApp) -> None:
    app = installed
    connect(app)
    [token] = [t for t in app.slack.oauth.tokens if t.startswith("xoxp-")]
    app.slack.oauth.revoke(token)
    reply = presence(app, "lunch 45m")
    assert "Your phone presence is now *Lunch*" in reply and "no longer accepts" in reply
    assert token not in json.dumps([post.body for posts in app.slack.responses.values() for post in posts])
    assert button(open_home(app, ALICE), CONNECT_ACTION) is not None  # offered again
    calls = len(app.slack.calls_to("users.profile.get"))
    presence(app, "available")
    assert len(app.slack.calls_to("users.profile.get")) == calls  # sync is off: no call with the old token

    connect(app)
    pressed = button(open_home(app, ALICE), DISCONNECT_ACTION)
    assert pressed is not None
    assert pressed["value"] == "-:T0001"
    assert button(click_home(app, pressed, value="-:T0OTHER"), DISCONNECT_ACTION) is not None  # another workspace's
    assert button(click_home(app, pressed), CONNECT_ACTION) is not None
    presence(app, "lunch 45m")
    assert len(app.slack.calls_to("users.profile.get")) == calls


def test_an_approval_for_another_person_or_a_forged_callback_keeps_nothing(installed: RunningApp) -> None:
    app = installed
    pressed = button(open_home(app, ALICE), CONNECT_ACTION)
    assert pressed is not None
    app.slack.oauth.grant(user_id=BOB)  # Bob approves in a browser signed in as Bob
    browser = httpx.Client(follow_redirects=False, timeout=10)
    back = browser.get(browser.get(pressed["url"]).headers["location"])
    page = browser.get(back.headers["location"])
    assert page.status_code == 400 and "nothing was kept" in page.text
    forged = httpx.get(app.url + CALLBACK_PATH, params={"code": "x", "state": "guessed"})
    assert forged.status_code == 400 and "Traceback" not in forged.text
    assert httpx.get(pressed["url"]).status_code == 400  # the ticket worked once
    presence(app, "lunch 45m")
    assert app.slack.calls_to("users.profile.set") == []


def test_when_phonebots_status_expires_the_previous_one_comes_back(installed: RunningApp) -> None:
    app = installed
    app.slack.set_status(ALICE, "Working from home", ":house:")
    connect(app)
    presence(app, "lunch 45m")
    assert app.runtime.status_restorer is not None
    assert len(app.slack.calls_to("users.profile.set")) == 1  # not due yet: nothing put back
    later = time.time() + 46 * 60
    app.slack.clock = lambda: later  # Slack clears phonebot's status at its expiry
    app.runtime.status_restorer.clock = lambda: later
    app.slack.wait_for("users.profile.set", count=2)
    status = app.slack.status_of(ALICE)
    assert (status["status_emoji"], status["status_text"]) == (":house:", "Working from home")

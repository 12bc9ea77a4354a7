"""Issue 11 point 3: Slack answers ``missing_scope`` → the workspace is told which scope and how to reinstall.

The fake Slack knows the bot token's scopes (``oauth.restrict``) and answers a method outside them as
Slack does: ``{"ok": false, "error": "missing_scope", "needed": "users:read", "provided": "…"}``.
"""

from __future__ import annotations

import logging

import pytest
import redis

from bot.installs.oauth import BOT_SCOPES
from tests.e2e.alerting import alert_overrides, subscribe, wait_until
from tests.e2e.conftest import RunningApp
from tests.e2e.test_install import install

WITHOUT_USERS_READ = tuple(scope for scope in BOT_SCOPES if scope != "users:read")
DRIFT_KEY = "slack:scope-drift:-:T0001"


def open_home(app: RunningApp, event_id: str, team_id: str = "T0001") -> str:
    """Alice opens phonebot's App Home; returns the view published for her."""
    before = len(app.slack.calls_to("views.publish"))
    event = {"type": "app_home_opened", "user": "U0ALICE", "channel": "D0001", "tab": "home"}
    body, headers = app.signer.event_callback(event, event_id=event_id, team_id=team_id)
    assert app.client.send_sync(body, headers).status_code == 200
    return str(app.slack.wait_for("views.publish", count=before + 1)[-1].args["view"])


def test_a_missing_scope_is_explained_logged_and_shown_on_the_app_home_until_granted(
    app: RunningApp, redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    db = redis.Redis.from_url(redis_url, decode_responses=True)
    app.slack.oauth.restrict("xoxb-test-token", WITHOUT_USERS_READ, bot_id="B0001", bot_user_id="B0001")
    with caplog.at_level(logging.WARNING, logger="bot.installs.scope_drift"):
        _, url = app.command("/phonebot", "whoami")
        text = str(app.reply(url))
    assert "missing a permission" in text and "`users:read`" in text and "App Home" in text
    assert "Something went wrong" not in text
    [line] = [r.getMessage() for r in caplog.records if r.name == "bot.installs.scope_drift"]
    assert "users.info" in line and "users:read" in line and "workspace T0001" in line and "Reinstall" in line

    assert '"needed": ["users:read"]' in (db.get(DRIFT_KEY) or "")
    home = open_home(app, "Ev0DRIFT1")
    assert "missing a Slack permission" in home and "users:read" in home and "Reinstall to Workspace" in home

    # The admin reinstalls with the scope (same token): the next look at the App Home has no banner.
    app.slack.oauth.restrict("xoxb-test-token", BOT_SCOPES)
    home = open_home(app, "Ev0DRIFT2")
    assert "missing a Slack permission" not in home and "You are" in home
    assert db.get(DRIFT_KEY) is None


@pytest.mark.phonebot(oauth=True)
def test_reinstalling_through_add_to_slack_clears_the_drift(app: RunningApp, redis_url: str) -> None:
    db = redis.Redis.from_url(redis_url, decode_responses=True)
    install(app, team_id="T0SHORT", scopes=WITHOUT_USERS_READ)
    _, url = app.command("/phonebot", "whoami", team_id="T0SHORT")
    assert "`users:read`" in str(app.reply(url))
    assert db.get("slack:scope-drift:-:T0SHORT") is not None
    home = open_home(app, "Ev0SHORT", team_id="T0SHORT")
    assert "Add to Slack" in home and "/slack/install" in home
    install(app, team_id="T0SHORT")
    assert db.get("slack:scope-drift:-:T0SHORT") is None
    _, url = app.command("/phonebot", "whoami", team_id="T0SHORT")
    assert "You are" in str(app.reply(url))


@pytest.mark.phonebot(overrides=alert_overrides({"channel": "C0LOST", "name": "Support"}))
def test_an_alert_refused_for_a_missing_scope_shows_on_the_app_home(app: RunningApp, redis_url: str) -> None:
    """The alert pipeline's own Slack client is watched too, even before any Slack request told phonebot its team."""
    db = redis.Redis.from_url(redis_url, decode_responses=True)
    without_chat_write = tuple(scope for scope in BOT_SCOPES if scope != "chat:write")
    app.slack.oauth.restrict("xoxb-test-token", without_chat_write, bot_id="B0001", bot_user_id="B0001")
    subscribe(app)
    app.phones.tele2.send_webhook_sync("LostCallerAdded")
    wait_until(lambda: '"chat:write"' in (db.get(DRIFT_KEY) or ""))
    home = open_home(app, "Ev0DRIFTALERT")
    assert "missing a Slack permission" in home and "chat:write" in home and "chat.postMessage" in home

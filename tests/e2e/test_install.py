"""Issue 11 points 1, 2 and 5 (encryption): "Add to Slack" over real HTTP, against the fake Slack's OAuth app.

A browser is played with plain httpx: it keeps the state cookie phonebot sets (sent back by hand, as
the cookie is ``Secure`` and the test serves plain HTTP), follows the authorize link to the fake
Slack, which approves as the scripted installer and redirects back with a code.
"""

from __future__ import annotations

import html
import re
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import redis

from tests.e2e.conftest import RunningApp
from tests.fakes.slack_oauth import IssuedToken

pytestmark = pytest.mark.phonebot(oauth=True)

STATE_COOKIE = "slack-app-oauth-state"


@dataclass
class Started:
    """An install begun in a browser: the authorize link and the state cookie phonebot set."""

    authorize_link: str
    state: str

    @property
    def cookie(self) -> dict[str, str]:
        return {"cookie": f"{STATE_COOKIE}={self.state}"}


def start_install(app: RunningApp) -> Started:
    page = httpx.get(app.url + "/slack/install")
    assert page.status_code == 200 and "Add to Slack" in page.text
    link = html.unescape(re.search(r'<a href="([^"]+)"><img alt="Add to Slack"', page.text).group(1))  # type: ignore[union-attr]
    cookie = re.match(rf"{STATE_COOKIE}=([^;]+);", page.headers["set-cookie"])
    assert cookie is not None and "HttpOnly" in page.headers["set-cookie"]
    state = parse_qs(urlsplit(link).query)["state"][0]
    assert cookie.group(1) == state
    return Started(authorize_link=link, state=state)


def approve_at_slack(started: Started) -> str:
    """The browser at Slack's authorize page: the (scripted) installer approves; returns where Slack sends it."""
    answer = httpx.get(started.authorize_link, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def install(app: RunningApp, **grant: object) -> IssuedToken:
    """A whole "Add to Slack" round; returns the bot token the fake Slack issued."""
    app.slack.oauth.grant(**grant)
    started = start_install(app)
    back = httpx.get(approve_at_slack(started), headers=started.cookie)
    assert back.status_code == 200, back.text
    assert "installed" in back.text
    assert f"{STATE_COOKIE}=deleted" in back.headers["set-cookie"]
    return app.slack.oauth.bot_tokens()[-1]


def wait_until(condition: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_add_to_slack_installs_a_workspace_served_with_its_own_token_until_it_uninstalls(
    app: RunningApp, redis_url: str
) -> None:
    db = redis.Redis.from_url(redis_url, decode_responses=True)
    issued = install(app, team_id="T0WIDGETS", team_name="Widgets & Co", user_id="U0ALICE")
    assert app.slack.oauth.requested_scopes[-1] == (
        "commands",
        "chat:write",
        "chat:write.public",
        "users:read",
        "users:read.email",
        "channels:history",
        "groups:history",
    )

    # Kept once, encrypted: the raw value names the workspace but holds no token (nor the team's name).
    assert db.keys("slack:install:*") == ["slack:install:-:T0WIDGETS"]
    raw = db.get("slack:install:-:T0WIDGETS") or ""
    assert '"team_id": "T0WIDGETS"' in raw
    assert issued.token not in raw and issued.token.split("-", 2)[2] not in raw and "Widgets" not in raw

    # A signed command from that workspace is served with that workspace's token.
    before = len(app.slack.calls)
    answer, url = app.command("/phonebot", "whoami", team_id="T0WIDGETS")
    assert answer.status_code == 200
    assert "You are" in str(app.reply(url))
    made = app.slack.calls[before:]
    assert made and {call.token for call in made} == {issued.token}, [(c.method, c.token) for c in made]
    assert db.keys("ws:-:T0WIDGETS:*")  # the cached profile of its user, under the workspace's prefix

    # Another workspace, where phonebot was never installed, is refused before any token is used.
    before = len(app.slack.calls)
    refused, _ = app.command("/call", "+4571999999", team_id="T0NOTHERE")
    assert refused.status_code == 403
    assert app.slack.calls[before:] == [] and app.phones.dstny.dials == []

    # Slack says phonebot was uninstalled: the installation, its tokens and its data are gone.
    body, headers = app.signer.event_callback({"type": "app_uninstalled"}, event_id="Ev0UNINSTALL", team_id="T0WIDGETS")
    assert app.client.send_sync(body, headers).status_code == 200
    wait_until(lambda: not db.keys("slack:install:*"))
    wait_until(lambda: not db.keys("ws:-:T0WIDGETS:*"))
    everything = " ".join(f"{key}={db.dump(key)!r}" for key in db.keys("*"))
    assert "T0WIDGETS" not in everything and issued.token not in everything
    again, _ = app.command("/phonebot", "whoami", team_id="T0WIDGETS")
    assert again.status_code == 403


def test_tokens_revoked_for_the_bot_forgets_the_workspace(app: RunningApp, redis_url: str) -> None:
    db = redis.Redis.from_url(redis_url, decode_responses=True)
    install(app, team_id="T0REVOKE", user_id="U0ALICE")
    event = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["U0BOTT0REVOKE"]}}
    body, headers = app.signer.event_callback(event, event_id="Ev0REVOKED", team_id="T0REVOKE")
    assert app.client.send_sync(body, headers).status_code == 200
    wait_until(lambda: not db.keys("slack:install:*"))
    refused, _ = app.command("/phonebot", "whoami", team_id="T0REVOKE")
    assert refused.status_code == 403


def test_an_org_wide_install_serves_every_workspace_of_the_org_and_no_other(app: RunningApp, redis_url: str) -> None:
    db = redis.Redis.from_url(redis_url, decode_responses=True)
    issued = install(app, team_id=None, enterprise_id="E0GRID", enterprise_name="Grid Inc", org_wide=True)
    assert db.keys("slack:install:*") == ["slack:install:E0GRID:-"]
    before = len(app.slack.calls)
    for team, user in (("T0GRIDA", "U0ALICE"), ("T0GRIDB", "U0BOB")):
        answer, url = app.command("/phonebot", "whoami", team_id=team, enterprise_id="E0GRID", org_wide=True, user=user)
        assert answer.status_code == 200
        assert "You are" in str(app.reply(url))
    made = app.slack.calls[before:]
    assert {(call.token, call.args.get("team_id")) for call in made} == {
        (issued.token, "T0GRIDA"),
        (issued.token, "T0GRIDB"),
    }, "an org token acts in the workspace the request came from"
    # One installation for the org: its people's profiles are cached under the org's prefix.
    assert set(db.keys("ws:E0GRID:-:slack:user:*")) == {
        "ws:E0GRID:-:slack:user:U0ALICE",
        "ws:E0GRID:-:slack:user:U0BOB",
    }
    # The same team id outside the org-wide install is not served.
    refused, _ = app.command("/phonebot", "whoami", team_id="T0GRIDA")
    assert refused.status_code == 403


def test_a_replayed_state_fails_kindly_and_installs_nothing_twice(app: RunningApp, redis_url: str) -> None:
    db = redis.Redis.from_url(redis_url, decode_responses=True)
    started = start_install(app)
    back_url = approve_at_slack(started)
    assert httpx.get(back_url, headers=started.cookie).status_code == 200
    db.delete(*db.keys("slack:install:*"))
    replay = httpx.get(back_url, headers=started.cookie)
    assert replay.status_code == 401
    assert "expired or was already used" in replay.text and 'href="/slack/install"' in replay.text
    assert "Traceback" not in replay.text
    assert db.keys("slack:install:*") == []


def test_a_forged_or_foreign_state_fails_kindly(app: RunningApp) -> None:
    started = start_install(app)
    back_url = approve_at_slack(started)
    # another browser (no cookie, or someone else's) cannot finish this install
    no_cookie = httpx.get(back_url)
    assert no_cookie.status_code == 400 and "another browser" in no_cookie.text
    forged = back_url.replace(started.state, "forged-state-0123456789abcdefghij")
    answer = httpx.get(forged, headers={"cookie": f"{STATE_COOKIE}=forged-state-0123456789abcdefghij"})
    assert answer.status_code == 401 and "expired or was already used" in answer.text
    # the installer cancelling at Slack is told so, in words
    app.slack.oauth.grant(approve=False)
    cancelled = start_install(app)
    answer = httpx.get(approve_at_slack(cancelled), headers=cancelled.cookie)
    assert answer.status_code == 200 and "cancelled" in answer.text
    assert app.slack.oauth.bot_tokens() == []


def test_ready_without_a_bot_token_when_slack_answers(app: RunningApp) -> None:
    """With "Add to Slack" and no SLACK_BOT_TOKEN there is no token to auth.test: readiness asks api.test."""
    ready = httpx.get(app.url + "/readyz")
    assert ready.json()["checks"]["slack"] == "ok", ready.json()
    assert app.slack.calls_to("api.test") and not app.slack.calls_to("auth.test")

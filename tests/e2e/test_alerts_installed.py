"""Issue 11: with "Add to Slack", alerts are posted with the bot token of the installation they belong to.

phonebot runs in OAuth mode over real HTTP; workspaces install it through the fake Slack's
``oauth.v2.access`` (as in ``test_install.py``), Tele2 webhooks arrive at its secret URL, and the
fake Slack records which token every alert write came with. Which workspace alerts belong to:
``SLACK_TEAM_ID`` when set, else the only installation; with none, or several and no
``SLACK_TEAM_ID``, they wait in the queue (and ``/readyz`` says why).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis

from bot.cli import main
from tests.e2e.alerting import FAST_DELIVERY, alert_overrides, ok, settle, tele2_url, wait_until, writes
from tests.e2e.conftest import RunningApp
from tests.e2e.test_install import install
from tests.fakes.slack_api import SlackCall

CHANNEL = "C0LOST"
FAILURES = "phonebot:alerts:failures"
DEAD = "phonebot:alerts:dead"
#: Alerts that cannot be posted are retried for a while (not parked at once, as FAST_DELIVERY would).
WAITING = alert_overrides(
    {"channel": CHANNEL, "name": "Support"},
    delivery={**FAST_DELIVERY, "max_attempts": 100, "retry_window_seconds": 600},
)
pytestmark = pytest.mark.phonebot(oauth=True, overrides=WAITING)


@pytest.fixture
def db(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


def lost_call(app: RunningApp, caller: str, event: str = "LostCallerAdded") -> None:
    """Tele2 reports a lost caller (or its removal) at phonebot's secret callback URL."""
    body = app.phones.tele2.webhook_body(event, {"callerid": caller})
    assert httpx.post(tele2_url(app).replace("{event}", event), json=body).status_code == 200


def alert_posts(app: RunningApp) -> list[SlackCall]:
    """Every chat.postMessage phonebot made to the alert channel, accepted or not."""
    return [call for call in app.slack.calls_to("chat.postMessage") if call.args.get("channel") == CHANNEL]


def readiness(app: RunningApp) -> tuple[int, dict[str, Any]]:
    answer = httpx.get(app.url + "/readyz")
    checks: dict[str, Any] = answer.json()["checks"]
    return answer.status_code, checks


def alert_workspace_ok(app: RunningApp) -> bool:
    """``/readyz`` knows the installation alerts go to (a "none" is remembered a moment after an install)."""
    return bool(readiness(app)[1].get("alert_workspace", "ok") == "ok")


def test_an_alert_its_update_and_its_thread_reply_go_out_with_the_installations_token(app: RunningApp) -> None:
    issued = install(app, team_id="T0ALERTS", user_id="U0ALICE")
    wait_until(lambda: alert_workspace_ok(app))  # "none" is remembered for a moment
    lost_call(app, "+37069912345")
    wait_until(lambda: len(writes(app.slack)) == 1)
    lost_call(app, "+37069912345", "LostCallerRemoved")
    settle(app)
    made = writes(app.slack)
    assert [(call.method, bool(call.args.get("thread_ts"))) for call in made] == [
        ("chat.postMessage", False),
        ("chat.update", False),  # resolved in place
        ("chat.postMessage", True),  # the follow-up in its thread
    ]
    assert {call.token for call in made} == {issued.token}, [(call.method, call.token) for call in made]
    assert all(call.token == issued.token for call in app.slack.calls if call.method.startswith("chat."))


def test_a_reinstall_with_a_new_token_is_used_from_the_next_alert(app: RunningApp) -> None:
    first = install(app, team_id="T0ALERTS", user_id="U0ALICE")
    lost_call(app, "+37069900001")
    wait_until(lambda: len(writes(app.slack)) == 1)
    second = install(app, team_id="T0ALERTS", user_id="U0ALICE")
    assert second.token != first.token
    app.slack.oauth.revoke(first.token)  # Slack no longer takes the old one
    before = len(app.slack.calls)
    lost_call(app, "+37069900002")
    lost_call(app, "+37069900001", "LostCallerRemoved")  # the first alert's edit and thread reply
    settle(app)
    after = [call for call in ok(app.slack.calls[before:]) if call.method in ("chat.postMessage", "chat.update")]
    assert sorted((call.method, bool(call.args.get("thread_ts"))) for call in after) == [
        ("chat.postMessage", False),
        ("chat.postMessage", True),
        ("chat.update", False),
    ]
    assert {call.token for call in after} == {second.token}
    assert not any(call.token == first.token for call in app.slack.calls[before:])


def test_with_no_installation_an_alert_waits_and_is_posted_once_after_the_install(
    app: RunningApp, db: redis.Redis
) -> None:
    status, checks = readiness(app)
    assert status == 200, checks  # the install page must stay in service
    assert checks["alert_workspace"].startswith("no workspace installed yet"), checks
    lost_call(app, "+37069912345")
    wait_until(lambda: any(int(attempts) >= 2 for attempts in db.hvals(FAILURES)))  # tried, and tried again
    assert alert_posts(app) == []  # never sent without a token (old code: not_authed, dead-lettered)
    assert db.hlen(DEAD) == 0 and db.xlen("phonebot:alerts:stream") == 1

    issued = install(app, team_id="T0LATE", user_id="U0ALICE")
    settle(app)
    [post] = alert_posts(app)
    assert post.token == issued.token and post.status == 200 and "+37069912345" in post.args["text"]
    assert alert_workspace_ok(app)
    assert db.hlen(DEAD) == 0


def test_two_installs_and_no_slack_team_id_wait_and_readyz_names_the_problem(app: RunningApp, db: redis.Redis) -> None:
    install(app, team_id="T0FIRST", user_id="U0ALICE")
    install(app, team_id="T0SECOND", user_id="U0BOB")
    lost_call(app, "+37069912345")
    several = "several workspaces installed (T0FIRST, T0SECOND): set SLACK_TEAM_ID to the one alerts go to"
    wait_until(lambda: readiness(app)[1]["alert_workspace"] == several)
    wait_until(lambda: any(int(attempts) >= 2 for attempts in db.hvals(FAILURES)))  # tried since
    assert readiness(app)[0] == 200
    assert alert_posts(app) == [] and db.xlen("phonebot:alerts:stream") == 1


@pytest.mark.phonebot(oauth=True, overrides=WAITING, settings_overrides={"slack_team_id": "T0SECOND"})
def test_slack_team_id_names_the_workspace_alerts_go_to(app: RunningApp, db: redis.Redis) -> None:
    install(app, team_id="T0FIRST", user_id="U0ALICE")
    lost_call(app, "+37069912345")
    wait_until(lambda: any(int(attempts) >= 2 for attempts in db.hvals(FAILURES)))
    assert readiness(app)[1]["alert_workspace"].startswith("SLACK_TEAM_ID is T0SECOND, but phonebot is not installed")
    assert alert_posts(app) == []  # not with the other workspace's token

    second = install(app, team_id="T0SECOND", user_id="U0BOB")
    settle(app)
    [post] = alert_posts(app)
    assert post.token == second.token and post.status == 200


@pytest.mark.phonebot(oauth=True, overrides=alert_overrides({"channel": CHANNEL, "name": "Support"}))
def test_after_an_uninstall_alerts_are_held_then_parked_with_the_reason_and_replay_once_reinstalled(
    app: RunningApp, db: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(app, team_id="T0GONE", user_id="U0ALICE")
    wait_until(lambda: alert_workspace_ok(app))
    lost_call(app, "+37069900001")
    wait_until(lambda: len(writes(app.slack)) == 1)
    body, headers = app.signer.event_callback({"type": "app_uninstalled"}, event_id="Ev0GONE", team_id="T0GONE")
    assert app.client.send_sync(body, headers).status_code == 200
    wait_until(lambda: not db.keys("slack:install:*"))

    before = len(alert_posts(app))
    lost_call(app, "+37069900002")
    # FAST_DELIVERY's limits (2 attempts, no window): parked as a transient dead letter, saying why.
    wait_until(lambda: db.hlen(DEAD) == 1)
    [reason] = [letter for letter in db.hvals(DEAD)]
    assert '"transient": true' in reason
    assert "no Slack workspace to post alerts in: no workspace installed yet" in reason
    assert alert_posts(app)[before:] == []
    assert readiness(app)[1]["alert_worker"] == "ok"  # held and parked, never a crash

    again = install(app, team_id="T0GONE", user_id="U0ALICE")
    wait_until(lambda: alert_workspace_ok(app))
    monkeypatch.setenv("REDIS_URL", app.runtime.settings.redis_url or "")
    assert main(["alerts", "dead", "--replay-all"]) == 0
    settle(app)
    [post] = alert_posts(app)[before:]
    assert post.token == again.token and post.status == 200 and "+37069900002" in post.args["text"]
    assert db.hlen(DEAD) == 0


def test_a_scope_the_installation_lacks_for_alerts_is_recorded_for_that_workspace(
    app: RunningApp, db: redis.Redis
) -> None:
    install(app, team_id="T0NARROW", user_id="U0ALICE", scopes=("commands", "users:read"))
    wait_until(lambda: alert_workspace_ok(app))
    lost_call(app, "+37069912345")
    wait_until(lambda: db.exists("slack:scope-drift:-:T0NARROW") == 1)
    assert '"chat:write"' in (db.get("slack:scope-drift:-:T0NARROW") or "")

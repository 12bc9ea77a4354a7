"""Issue 11 (points 2, 10, 11): with "Add to Slack" every workspace has its own alert pipeline.

Two workspaces install phonebot through the fake Slack's OAuth; each has its own Slack setup (sealed
in the test Redis with the app's ``PHONEBOT_SECRET_KEY``, as the setup modals save it) naming a
different vendor — Tele2 for A, Relatel for B — and a route to its own channel. The YAML file names
neither vendor. Webhooks arrive over real HTTP at each workspace's own URL (Tele2's is the one
phonebot registered with the Tele2 simulator), and the fake Slack records the token of every call.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis

from adapters.relatel.simulator import WEBHOOK_SECRET as RELATEL_WEBHOOK_SECRET
from bot.cli import main
from bot.installs.workspace import WorkspaceKey
from bot.secret_box import SecretBox
from bot.store import RedisStore
from bot.workspaces.settings import WorkspaceSettings, WorkspaceSettingsStore
from tests.e2e.alerting import FAST_DELIVERY, ok, wait_until
from tests.e2e.conftest import SECRET_KEY, WEBHOOK_SECRET, RunningApp
from tests.e2e.test_install import install
from tests.fakes.slack_api import SlackCall

TEAM_A, TEAM_B = "T0ALPHA", "T0BRAVO"
CHANNEL_A, CHANNEL_B = "C0ALPHA", "C0BRAVO"
pytestmark = pytest.mark.phonebot(
    oauth=True, file_vendors=("dstny",), overrides={"alerts": {"routes": [], "delivery": FAST_DELIVERY}}
)


@pytest.fixture
def db(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


def set_up_alerts(app: RunningApp, team: str, vendors: dict[str, dict[str, Any]], channel: str) -> None:
    """What an admin's setup from Slack saves: the workspace's vendors and one route to its channel."""

    async def save() -> None:
        store = RedisStore(app.runtime.settings.redis_url or "")
        try:
            settings = WorkspaceSettingsStore(store, SecretBox.from_setting(SECRET_KEY))
            routes = [{"channel": channel, "name": f"Alerts of {team}"}]
            await settings.update(
                WorkspaceKey(None, team),
                lambda old: WorkspaceSettings(vendors=vendors, routes=routes, link_approval=old.link_approval),
                by="U0ADMIN",
            )
        finally:
            await store.close()

    asyncio.run(save())


def tele2_url_of(app: RunningApp, team: str) -> str:
    """The lost-caller URL phonebot registered with Tele2 for ``team`` (``{event}`` left to fill in)."""
    prefix = f"{app.url}/w/{team}/webhooks/tele2/"
    endpoints = [w["endpoint"] for w in app.phones.tele2.subscriptions("LostCallerAdded")]
    [endpoint] = [url for url in endpoints if url.startswith(prefix)]
    return str(endpoint).rsplit("/", 1)[0] + "/{event}"


def registered(app: RunningApp, team: str) -> bool:
    prefix = f"{app.url}/w/{team}/webhooks/tele2/"
    return any(w["endpoint"].startswith(prefix) for w in app.phones.tele2.subscriptions("LostCallerAdded"))


def lost_caller(app: RunningApp, url: str, caller: str) -> httpx.Response:
    body = app.phones.tele2.webhook_body("LostCallerAdded", {"callerid": caller})
    return httpx.post(url.replace("{event}", "LostCallerAdded"), json=body)


def missed_relatel_call(app: RunningApp, team: str, caller: str) -> httpx.Response:
    sim = app.phones.relatel
    call = sim.add_missed_call(caller, contact_name="Jens Jensen")
    url = f"{app.url}/w/{team}/webhooks/relatel"
    return sim.send_webhook_sync(url, "call.ended", {"call": call}, secret=RELATEL_WEBHOOK_SECRET)


def posts_to(app: RunningApp, channel: str) -> list[SlackCall]:
    return [call for call in ok(app.slack.calls_to("chat.postMessage")) if call.args.get("channel") == channel]


def keys_of(db: redis.Redis, team: str) -> list[str]:
    return sorted(key for key in db.scan_iter("*") if team in key)


def test_each_workspace_alerts_only_in_its_own_channel_with_its_own_token_until_it_uninstalls(
    app: RunningApp, db: redis.Redis, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    token_a = install(app, team_id=TEAM_A, user_id="U0ALICE").token
    token_b = install(app, team_id=TEAM_B, user_id="U0BOB").token
    vendors = app.phones.config()["vendors"]
    set_up_alerts(app, TEAM_A, {"tele2": vendors["tele2"]}, CHANNEL_A)
    set_up_alerts(app, TEAM_B, {"relatel": vendors["relatel"], "tele2": vendors["tele2"]}, CHANNEL_B)
    wait_until(lambda: registered(app, TEAM_A) and registered(app, TEAM_B))  # both pipelines run and synced
    url_a, url_b = tele2_url_of(app, TEAM_A), tele2_url_of(app, TEAM_B)
    assert url_a.split("/webhooks/tele2/")[1] != url_b.split("/webhooks/tele2/")[1]  # URL tokens per workspace
    # `phonebot webhooks url --team` prints the very URL phonebot registered (for a manual setup).
    monkeypatch.setenv("PHONEBOT_WEBHOOK_SECRET", WEBHOOK_SECRET)
    capsys.readouterr()
    assert main(["webhooks", "url", "tele2", "--team", TEAM_A, "--public-url", app.url]) == 0
    assert url_a.replace("{event}", "LostCallerAdded") in capsys.readouterr().out.splitlines()

    # A's alert lands in A's channel only, posted with A's token.
    assert lost_caller(app, url_a, "+4520000001").status_code == 200
    wait_until(lambda: len(posts_to(app, CHANNEL_A)) == 1)
    [post_a] = posts_to(app, CHANNEL_A)
    assert post_a.token == token_a and "+4520000001" in post_a.args["text"]
    # Its buttons name A: clicked from B (a channel both share), they are refused, not looked up in B.
    blocks = post_a.args["blocks"] if isinstance(post_a.args["blocks"], list) else json.loads(post_a.args["blocks"])
    [claim] = [e for b in blocks if b["type"] == "actions" for e in b["elements"] if e["action_id"] == "alert_claim"]
    assert json.loads(claim["value"])["w"] == f"-:{TEAM_A}"
    _, url = app.click(claim["action_id"], claim["value"], user="U0BOB", team_id=TEAM_B)
    assert "belongs to another workspace's phonebot" in app.reply(url)["text"]
    # B's (another vendor) in B's channel only, with B's token.
    assert missed_relatel_call(app, TEAM_B, "4520000002").status_code == 200
    wait_until(lambda: len(posts_to(app, CHANNEL_B)) == 1)
    [post_b] = posts_to(app, CHANNEL_B)
    assert post_b.token == token_b and "Jens Jensen" in post_b.args["text"]
    assert len(posts_to(app, CHANNEL_A)) == 1
    assert {call.token for call in app.slack.calls if call.args.get("channel") == CHANNEL_A} == {token_a}
    assert {call.token for call in app.slack.calls if call.args.get("channel") == CHANNEL_B} == {token_b}

    # A's URL token on B's URL is refused and leaves nothing in B's queue.
    before = sorted(db.scan_iter(f"ws:-:{TEAM_B}:*"))
    forged = url_b.split("/webhooks/tele2/")[0] + "/webhooks/tele2/" + url_a.split("/webhooks/tele2/")[1]
    assert lost_caller(app, forged, "+4520000003").status_code == 401
    # A vendor B hasn't set up, and a workspace that isn't installed, are not found.
    assert missed_relatel_call(app, TEAM_A, "4520000004").status_code == 404
    assert lost_caller(app, url_a.replace(TEAM_A, "T0NOBODY"), "+4520000005").status_code == 404
    assert sorted(db.scan_iter(f"ws:-:{TEAM_B}:*")) == before
    assert not keys_of(db, "T0NOBODY")
    assert db.xlen(f"ws:-:{TEAM_B}:phonebot:alerts:stream") == 0

    # A uninstalls: its pipeline stops, nothing of it remains, B still alerts.
    body, headers = app.signer.event_callback({"type": "app_uninstalled"}, event_id="Ev0ALPHA", team_id=TEAM_A)
    assert app.client.send_sync(body, headers).status_code == 200
    wait_until(lambda: not keys_of(db, TEAM_A))
    assert lost_caller(app, url_a, "+4520000006").status_code == 404
    assert missed_relatel_call(app, TEAM_B, "4520000007").status_code == 200
    wait_until(lambda: len(posts_to(app, CHANNEL_B)) == 2)
    assert posts_to(app, CHANNEL_B)[-1].token == token_b
    assert len(posts_to(app, CHANNEL_A)) == 1 and not keys_of(db, TEAM_A)
    status = httpx.get(app.url + "/readyz").json()["checks"]
    assert status["workspace_alert_workers"] == "ok", status


def test_a_scope_a_workspace_lacks_for_its_own_alerts_is_recorded_for_that_workspace(
    app: RunningApp, db: redis.Redis
) -> None:
    install(app, team_id=TEAM_A, user_id="U0ALICE", scopes=("commands", "users:read"))
    set_up_alerts(app, TEAM_A, {"tele2": app.phones.config()["vendors"]["tele2"]}, CHANNEL_A)
    wait_until(lambda: registered(app, TEAM_A))
    assert lost_caller(app, tele2_url_of(app, TEAM_A), "+4520000001").status_code == 200
    wait_until(lambda: db.exists(f"slack:scope-drift:-:{TEAM_A}") == 1)
    assert '"chat:write"' in (db.get(f"slack:scope-drift:-:{TEAM_A}") or "")


def test_each_workspace_sees_and_replays_only_its_own_dead_letters(app: RunningApp, db: redis.Redis) -> None:
    install(app, team_id=TEAM_A, user_id="U0ALICE")
    install(app, team_id=TEAM_B, user_id="U0ALICE")
    vendors = app.phones.config()["vendors"]
    set_up_alerts(app, TEAM_A, {"tele2": vendors["tele2"]}, CHANNEL_A)
    set_up_alerts(app, TEAM_B, {"relatel": vendors["relatel"]}, CHANNEL_B)
    wait_until(lambda: registered(app, TEAM_A))
    app.slack.error("chat.postMessage", "channel_not_found", times=None)  # refused for good: parked at once
    assert missed_relatel_call(app, TEAM_B, "4520000002").status_code == 200
    wait_until(lambda: db.hlen(f"ws:-:{TEAM_B}:phonebot:alerts:dead") == 1)
    [entry_id] = db.hkeys(f"ws:-:{TEAM_B}:phonebot:alerts:dead")
    app.slack.clear_faults()

    def told(team: str, text: str) -> str:
        answer, response_url = app.command("/phonebot", text, user="U0ALICE", team_id=team)
        assert answer.status_code == 200
        return json.dumps(app.reply(response_url))

    assert "No dead letters" in told(TEAM_A, "dead")  # B's parked alert is not A's to see
    assert "No dead letter" in told(TEAM_A, f"replay {entry_id}")  # ...nor to replay
    assert db.hlen(f"ws:-:{TEAM_B}:phonebot:alerts:dead") == 1
    assert entry_id in told(TEAM_B, "dead")
    assert "Replaying 1 alert" in told(TEAM_B, "replay all")
    wait_until(lambda: len(posts_to(app, CHANNEL_B)) == 1)
    assert posts_to(app, CHANNEL_A) == []


@pytest.mark.phonebot(
    secret_key=True,
    public_url=True,
    file_vendors=("dstny",),
    overrides={"alerts": {"routes": [], "delivery": FAST_DELIVERY}},
)
def test_one_workspace_is_the_same_path_its_setup_drives_alerts_under_the_keys_it_always_had(
    app: RunningApp, db: redis.Redis
) -> None:
    """``SLACK_BOT_TOKEN``: one pipeline, scope ``""``, following what the workspace's admins save."""
    tele2 = app.phones.config()["vendors"]["tele2"]
    set_up_alerts(app, "T0001", {"tele2": tele2}, "C0SINGLE")
    plain = f"{app.url}/webhooks/tele2/"
    wait_until(lambda: any(w["endpoint"].startswith(plain) for w in app.phones.tele2.subscriptions()))
    [endpoint] = [w["endpoint"] for w in app.phones.tele2.subscriptions("LostCallerAdded")]
    assert lost_caller(app, endpoint.rsplit("/", 1)[0] + "/{event}", "+4520000001").status_code == 200
    wait_until(lambda: len(posts_to(app, "C0SINGLE")) == 1)
    assert posts_to(app, "C0SINGLE")[0].token == "xoxb-test-token"
    assert db.exists("phonebot:alerts:stream") and not list(db.scan_iter("ws:*:phonebot:alerts:*"))

    set_up_alerts(app, "T0001", {}, "C0SINGLE")  # the vendor removed again: its webhooks are no longer taken
    wait_until(lambda: lost_caller(app, endpoint.rsplit("/", 1)[0] + "/{event}", "+4520000002").status_code == 404)


def test_a_workspace_saving_its_settings_again_has_its_pipeline_follow_them(app: RunningApp) -> None:
    install(app, team_id=TEAM_B, user_id="U0BOB")
    relatel = {"relatel": app.phones.config()["vendors"]["relatel"]}
    set_up_alerts(app, TEAM_B, relatel, CHANNEL_B)
    wait_until(lambda: missed_relatel_call(app, TEAM_B, "4520000001").status_code == 200)  # its pipeline runs
    wait_until(lambda: len(posts_to(app, CHANNEL_B)) >= 1)
    set_up_alerts(app, TEAM_B, relatel, "C0BRAVO2")  # its route now names another channel

    def moved() -> bool:
        missed_relatel_call(app, TEAM_B, "4520000002")
        time.sleep(0.3)
        return len(posts_to(app, "C0BRAVO2")) >= 1

    wait_until(moved, timeout=15)
    assert {call.token for call in posts_to(app, "C0BRAVO2")} == {app.slack.oauth.bot_tokens()[-1].token}


@pytest.mark.phonebot(
    oauth=True,
    file_vendors=("relatel",),
    settings_overrides={"slack_team_id": TEAM_A},
    overrides={"alerts": {"routes": [{"channel": CHANNEL_A}], "delivery": FAST_DELIVERY}},
)
def test_the_deployments_dead_letters_are_only_the_file_workspaces_to_see(app: RunningApp, db: redis.Redis) -> None:
    """The file's alerts are workspace A's (SLACK_TEAM_ID): B's Slack admin (a phonebot admin in B) sees none."""
    install(app, team_id=TEAM_A, user_id="U0ALICE")
    install(app, team_id=TEAM_B, user_id="U0ALICE")
    app.slack.error("chat.postMessage", "channel_not_found", times=None)  # refused for good: parked at once
    sim = app.phones.relatel
    call = sim.add_missed_call("4520000003", contact_name="Jens Jensen")
    answer = sim.send_webhook_sync(
        f"{app.url}/webhooks/relatel", "call.ended", {"call": call}, secret=RELATEL_WEBHOOK_SECRET
    )
    assert answer.status_code == 200
    wait_until(lambda: db.hlen("phonebot:alerts:dead") == 1)
    app.slack.clear_faults()

    def told(team: str) -> str:
        answer, response_url = app.command("/phonebot", "dead", user="U0ALICE", team_id=team)
        assert answer.status_code == 200
        return json.dumps(app.reply(response_url))

    assert "Slack never accepted" in told(TEAM_A)
    assert "No dead letters" in told(TEAM_B)  # B is a workspace of its own: the file's alerts aren't its to see

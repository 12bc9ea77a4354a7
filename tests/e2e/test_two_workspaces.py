"""Issue 11 point 10: two workspaces installed through "Add to Slack", each set up with its own phone system.

Workspace A runs Dstny, workspace B Relatel; the file names no phone system. The same person (U0ALICE,
alice@example.com, known to both simulators) runs the same commands in each: each command reaches only its
own workspace's phone system, and what one workspace keeps is under its own key scope, unreadable from the
other. Signed requests in, the vendor simulators and the fake Slack out; the settings are written the way an
admin's save in App Home writes them (sealed with the deployment's key).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
import redis

from bot.installs.workspace import WorkspaceKey
from bot.secret_box import SecretBox
from bot.store import RedisStore
from bot.workspaces.settings import WorkspaceSettings, WorkspaceSettingsStore
from tests.e2e.conftest import SECRET_KEY, RunningApp
from tests.e2e.test_install import install

pytestmark = pytest.mark.phonebot(oauth=True, file_vendors=())

A, B = WorkspaceKey(None, "T0ALPHA"), WorkspaceKey(None, "T0BRAVO")


def set_up(redis_url: str, workspace: WorkspaceKey, vendor: str, section: dict[str, Any]) -> None:
    def change(current: WorkspaceSettings) -> WorkspaceSettings:
        current.vendors[vendor] = section
        return current

    async def run() -> None:
        store = RedisStore(redis_url)
        try:
            await WorkspaceSettingsStore(store, SecretBox.from_setting(SECRET_KEY)).update(
                workspace, change, by="U0ALICE"
            )
        finally:
            await store.close()

    asyncio.run(run())


@pytest.fixture
def two(app: RunningApp, redis_url: str) -> RunningApp:
    install(app, team_id=A.team_id, team_name="Alpha", user_id="U0ALICE")
    install(app, team_id=B.team_id, team_name="Bravo", user_id="U0ALICE")
    vendors = app.phones.config()["vendors"]
    set_up(redis_url, A, "dstny", vendors["dstny"])
    set_up(redis_url, B, "relatel", vendors["relatel"])
    return app


def test_each_workspace_commands_only_its_own_phone_system(two: RunningApp, redis_url: str) -> None:
    app = two
    _, url = app.command("/presence", "lunch 45m", team_id=A.team_id)
    assert "Your phone presence is now *Lunch*" in app.reply(url)["text"]
    assert app.phones.dstny.presence_of("alice").activity == "lunch"
    assert app.phones.relatel.employees[1]["do_not_disturb"] is False  # B's phone system untouched

    _, url = app.command("/presence", "dnd 1h", team_id=B.team_id)
    answer = app.reply(url)["text"]
    assert app.phones.relatel.employees[1]["do_not_disturb"] is True, answer
    assert app.phones.dstny.presence_of("alice").activity == "lunch"  # A's unchanged by B's command

    # A pick button offered in A does nothing in B: its value is a key into A's own scope only.
    _, url = app.command("/call", "jensen", team_id=A.team_id)
    [pick, *_] = next(block for block in app.reply(url)["blocks"] if block["type"] == "actions")["elements"]
    _, url = app.click(pick["action_id"], pick["value"], team_id=B.team_id)
    assert "run `/call` again" in app.reply(url)["text"]
    assert app.phones.dstny.dials == [] and app.phones.relatel.dials == []
    _, url = app.click(pick["action_id"], pick["value"], team_id=A.team_id)
    app.reply(url)
    assert app.phones.dstny.dials[-1].target == "+4540000001" and app.phones.relatel.dials == []

    _, url = app.command("/phonebot", "whoami", team_id=A.team_id)
    said_a = app.reply(url)["text"]
    _, url = app.command("/phonebot", "whoami", team_id=B.team_id)
    said_b = app.reply(url)["text"]
    assert "Dstny" in said_a and "Relatel" not in said_a, said_a
    assert "Relatel" in said_b and "Dstny" not in said_b, said_b

    db = redis.Redis.from_url(redis_url, decode_responses=True)
    keys_a = set(db.scan_iter(match="ws:-:T0ALPHA:*"))
    keys_b = set(db.scan_iter(match="ws:-:T0BRAVO:*"))
    # What the commands kept (presence label, email match, Slack profile, delivery dedupe) is in its own scope.
    assert "ws:-:T0ALPHA:presence:label:dstny:alice" in keys_a
    assert {key.split(":")[3] for key in keys_a} >= {"presence", "identity", "intent", "slack", "settings"}
    assert not [key for key in keys_b if "dstny" in key] and not [key for key in keys_a if "relatel" in key]
    # Outside the scopes: the installations themselves, install states, the process-wide queues only.
    loose = {key for key in db.scan_iter() if not key.startswith(("ws:", "slack:install:"))}
    assert {key.split(":")[0] + ":" + key.split(":")[1] for key in loose} <= {
        "slack:oauth-state-issued",
        "phonebot:commands",
        "phonebot:alerts",
        # Process-wide Slack-status schedules and browser tickets; their members name the workspace and an
        # uninstall removes them (bot/status_sync/due.py, pacing.py).
        "phonebot:slack-status",
    }, loose


def test_uninstalling_one_workspace_forgets_its_setup_and_leaves_the_other_working(
    two: RunningApp, redis_url: str
) -> None:
    app = two
    _, url = app.command("/presence", "lunch 45m", team_id=A.team_id)
    app.reply(url)
    body, headers = app.signer.event_callback({"type": "app_uninstalled"}, event_id="Ev0BYEALPHA", team_id=A.team_id)
    assert app.client.send_sync(body, headers).status_code == 200
    db = redis.Redis.from_url(redis_url, decode_responses=True)
    deadline = time.monotonic() + 5
    while list(db.scan_iter(match="ws:-:T0ALPHA:*")) or db.exists("slack:install:-:T0ALPHA"):
        assert time.monotonic() < deadline, sorted(db.scan_iter(match="ws:-:T0ALPHA:*"))
        time.sleep(0.05)
    refused, _ = app.command("/presence", "back", team_id=A.team_id)
    assert refused.status_code == 403
    _, url = app.command("/presence", "dnd 1h", team_id=B.team_id)
    app.reply(url)
    assert app.phones.relatel.employees[1]["do_not_disturb"] is True
    assert db.exists("ws:-:T0BRAVO:settings")


@pytest.mark.phonebot(oauth=True, file_vendors=("dstny",), settings_overrides={"slack_team_id": "T0ALPHA"})
def test_the_files_phone_system_is_only_the_workspace_the_file_is_for(app: RunningApp) -> None:
    """A hosted phonebot: the operator's file (Dstny) serves SLACK_TEAM_ID's workspace; a stranger's gets nothing."""
    install(app, team_id=A.team_id, team_name="Alpha", user_id="U0ALICE")
    install(app, team_id=B.team_id, team_name="Bravo", user_id="U0ALICE")
    _, url = app.command("/presence", "lunch 45m", team_id=B.team_id)
    assert "No phone system is configured yet" in app.reply(url)["text"]
    assert app.phones.dstny.presence_of("alice").activity != "lunch"
    _, url = app.command("/presence", "lunch 45m", team_id=A.team_id)
    assert "Your phone presence is now *Lunch*" in app.reply(url)["text"]
    assert app.phones.dstny.presence_of("alice").activity == "lunch"

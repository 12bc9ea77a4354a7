"""Issue 11 points 1, 2, 3 and 5: installation records, OAuth state, the guard, forgetting, scope drift."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.oauth.installation_store import Installation

from adapters.redaction import redact
from bot.config import Settings
from bot.installation import InstallationGuard
from bot.installs.directory import InstalledWorkspaces
from bot.installs.forget import WorkspaceForgetter
from bot.installs.records import StoreInstallationStore, StoreOAuthStateStore, TooManyInstalls
from bot.installs.scope_drift import MAX_SCOPES, ScopeDriftLog, ScopeDriftWatcher, parse_scopes
from bot.installs.workspace import NotASlackId, WorkspaceKey
from bot.preflight import HALF_OAUTH, NO_SECRET_KEY, NO_SLACK_TOKEN, slack_refusal
from bot.secret_box import SecretBox
from bot.store import MemoryStore

KEY = Fernet.generate_key().decode()
BOT_TOKEN = "xoxb-111-222-botsecretvalue"
REFRESH = "xoxe-1-refreshsecretvalue"
USER_TOKEN = "xoxp-111-333-usersecretvalue"


@pytest.fixture
async def store() -> AsyncIterator[MemoryStore]:
    backend = MemoryStore()
    yield backend
    await backend.close()


def installation(**fields: Any) -> Installation:
    values: dict[str, Any] = {
        "app_id": "A0001",
        "team_id": "T0001",
        "team_name": "Widgets",
        "bot_token": BOT_TOKEN,
        "bot_id": "B0001",
        "bot_user_id": "U0BOT",
        "bot_scopes": "commands,chat:write",
        "bot_refresh_token": REFRESH,
        "bot_token_expires_in": 43200,
        "user_id": "U0ALICE",
        "user_token": USER_TOKEN,
        "user_scopes": "search:read",
    }
    values.update(fields)
    return Installation(**values)


# -- keys --------------------------------------------------------------------------------------


def test_keys_are_scoped_by_enterprise_and_team_and_org_wide_installs_by_org() -> None:
    workspace = WorkspaceKey.of(enterprise_id=None, team_id="T1", is_enterprise_install=False)
    assert workspace.install_key == "slack:install:-:T1" and workspace.data_prefix == "ws:-:T1:"
    in_org = WorkspaceKey.of(enterprise_id="E1", team_id="T1", is_enterprise_install=False)
    assert in_org.scope == "E1:T1" and in_org.describe() == "workspace T1 (org E1)"
    org = WorkspaceKey.of(enterprise_id="E1", team_id="T1", is_enterprise_install=True)
    assert org == WorkspaceKey("E1", None) and org.scope == "E1:-" and org.is_org and org.describe() == "org E1"


@pytest.mark.parametrize("team", ["t1", "T1:*", "T" * 40, ""])
def test_ids_that_are_not_slack_ids_cannot_shape_a_key(team: str) -> None:
    with pytest.raises(NotASlackId):
        WorkspaceKey(None, team or None)


# -- installation records ----------------------------------------------------------------------------


async def test_an_installation_is_one_record_with_every_secret_encrypted(store: MemoryStore) -> None:
    records = StoreInstallationStore(store, SecretBox.from_setting(KEY))
    await records.async_save(installation())
    await records.async_save(installation(bot_token="xoxb-111-222-newer"))  # a reinstall replaces it
    raw = await store.get("slack:install:-:T0001")
    assert raw is not None
    for secret in ("botsecretvalue", "refreshsecretvalue", "usersecretvalue", "xoxb-", "xoxp-", "Widgets"):
        assert secret not in raw
    assert json.loads(raw)["team_id"] == "T0001"
    found = await records.async_find_installation(enterprise_id=None, team_id="T0001")
    assert found is not None and found.bot_token == "xoxb-111-222-newer" and found.user_token == USER_TOKEN
    assert found.bot_refresh_token == REFRESH and found.bot_scopes == ["commands", "chat:write"]
    bot = await records.async_find_bot(enterprise_id=None, team_id="T0001")
    assert bot is not None and bot.bot_token == "xoxb-111-222-newer"
    assert BOT_TOKEN not in redact(f"token {BOT_TOKEN} and refresh {REFRESH}")  # registered for redaction
    assert "refreshsecretvalue" not in redact(f"refresh {REFRESH}")


async def test_another_users_installation_is_not_this_one(store: MemoryStore) -> None:
    records = StoreInstallationStore(store, SecretBox.from_setting(KEY))
    await records.async_save(installation())
    assert await records.async_find_installation(enterprise_id=None, team_id="T0001", user_id="U0ALICE")
    assert await records.async_find_installation(enterprise_id=None, team_id="T0001", user_id="U0BOB") is None
    await records.async_delete_installation(enterprise_id=None, team_id="T0001", user_id="U0ALICE")
    left = await records.async_find_installation(enterprise_id=None, team_id="T0001")
    assert left is not None and left.user_token is None and left.bot_token == BOT_TOKEN
    await records.async_delete_bot(enterprise_id=None, team_id="T0001")
    assert await store.get("slack:install:-:T0001") is None  # no token left: no record


async def test_org_wide_installs_are_found_from_every_workspace_of_the_org(store: MemoryStore) -> None:
    records = StoreInstallationStore(store, SecretBox.from_setting(KEY))
    await records.async_save(installation(team_id=None, enterprise_id="E1", is_enterprise_install=True))
    assert await store.get("slack:install:E1:-") is not None
    found = await records.async_find_bot(enterprise_id="E1", team_id="T7", is_enterprise_install=True)
    assert found is not None and found.bot_token == BOT_TOKEN
    assert await records.async_find_bot(enterprise_id="E1", team_id="T7", is_enterprise_install=False) is None


async def test_a_record_sealed_with_a_key_no_longer_configured_is_not_served(
    store: MemoryStore, caplog: pytest.LogCaptureFixture
) -> None:
    await StoreInstallationStore(store, SecretBox.from_setting(KEY)).async_save(installation())
    other = StoreInstallationStore(store, SecretBox.from_setting(Fernet.generate_key().decode()))
    with caplog.at_level(logging.ERROR):
        assert await other.async_find_installation(enterprise_id=None, team_id="T0001") is None
    assert "PHONEBOT_SECRET_KEY" in caplog.text and BOT_TOKEN not in caplog.text
    rotated = StoreInstallationStore(store, SecretBox.from_setting(f"{Fernet.generate_key().decode()},{KEY}"))
    assert await rotated.async_find_installation(enterprise_id=None, team_id="T0001") is not None


# -- OAuth state -------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_a_state_works_once_and_expires(store: MemoryStore) -> None:
    clock = Clock()
    states = StoreOAuthStateStore(store, expiration_seconds=600, clock=clock)
    state = await states.async_issue()
    assert await states.async_consume(state) is True
    assert await states.async_consume(state) is False  # replayed
    late = await states.async_issue()
    clock.now += 601
    assert await states.async_consume(late) is False  # expired
    assert await states.async_consume("forged-state-0123456789abcdefghij") is False
    assert await states.async_consume("x" * 500) is False and await states.async_consume("../*") is False


async def test_states_issued_per_minute_are_bounded(store: MemoryStore) -> None:
    clock = Clock()
    states = StoreOAuthStateStore(store, max_per_minute=3, clock=clock)
    for _ in range(3):
        await states.async_issue()
    with pytest.raises(TooManyInstalls):
        await states.async_issue()
    clock.now += 60
    assert await states.async_issue()


# -- the guard -------------------------------------------------------------------------------------


async def test_the_guard_admits_exactly_the_installed_workspaces_of_this_app(store: MemoryStore) -> None:
    records = StoreInstallationStore(store, SecretBox.from_setting(KEY))
    await records.async_save(installation())
    guard = InstallationGuard(InstalledWorkspaces(records))

    async def admit(body: dict[str, Any], team: str | None = "T0001", enterprise: str | None = None) -> Any:
        return await guard.admit(body, enterprise_id=enterprise, team_id=team, is_enterprise_install=False)

    ok = await admit({"api_app_id": "A0001"})
    assert ok.refusal is None and ok.installation is not None and ok.installation.bot_token == BOT_TOKEN
    assert (await admit({"api_app_id": "A0OTHER"})).refusal == (
        "app A0OTHER is not A0001 (the app installed in workspace T0001)"
    )
    assert (
        await admit({"api_app_id": "A0001"}, team="T0OTHER")
    ).refusal == "phonebot is not installed in workspace T0OTHER"
    assert (await admit({"api_app_id": "A0001"}, team="T0001", enterprise="E9")).refusal is not None
    gone = {"type": "event_callback", "api_app_id": "A0001", "event": {"type": "app_uninstalled"}}
    assert (await admit(gone, team="T0GONE")).refusal is None  # forgetting what is gone is harmless
    assert (await admit({"type": "url_verification"}, team=None)).refusal is None
    # Issue 11 point 10: a modal or Home view names its app and workspace; another's is not acted on.
    own_view = {"api_app_id": "A0001", "type": "view_submission", "view": {"app_id": "A0001", "team_id": "T0001"}}
    assert (await admit(own_view)).refusal is None
    foreign_team = {**own_view, "view": {"app_id": "A0001", "team_id": "T0OTHER"}}
    assert (await admit(foreign_team)).refusal == "the view belongs to workspace T0OTHER (request for workspace T0001)"
    foreign_app = {**own_view, "view": {"app_id": "A0EVIL", "team_id": "T0001"}}
    assert (await admit(foreign_app)).refusal == "the view belongs to app A0EVIL (request for workspace T0001)"


# -- forgetting ------------------------------------------------------------------------------------


async def test_forget_workspace_deletes_its_installation_drift_and_data_only(store: MemoryStore) -> None:
    records = StoreInstallationStore(store, SecretBox.from_setting(KEY))
    await records.async_save(installation())
    await records.async_save(installation(team_id="T0002"))
    workspace = WorkspaceKey(None, "T0001")
    await ScopeDriftLog(store).record(workspace, method="users.info", needed=["users:read"], provided=[])
    await store.set("ws:-:T0001:slack:user:U0ALICE", "{}")
    await store.set("ws:-:T0002:slack:user:U0BOB", "{}")
    forgetter = WorkspaceForgetter(store)
    calls: list[WorkspaceKey] = []

    async def failing(key: WorkspaceKey) -> None:
        raise RuntimeError("boom")

    async def later(key: WorkspaceKey) -> None:
        calls.append(key)

    forgetter.add_step("broken later state", failing)
    forgetter.add_step("later state", later)
    assert await forgetter.forget_workspace(workspace) == ["broken later state"]
    assert calls == [workspace]
    for gone in ("slack:install:-:T0001", "slack:scope-drift:-:T0001", "ws:-:T0001:slack:user:U0ALICE"):
        assert await store.get(gone) is None
    assert await store.get("slack:install:-:T0002") is not None
    assert await store.get("ws:-:T0002:slack:user:U0BOB") == "{}"


# -- scope drift -------------------------------------------------------------------------------------


def test_scopes_from_slack_are_parsed_and_junk_is_dropped() -> None:
    assert parse_scopes("users:read, chat:write,,users:read") == ("users:read", "chat:write")
    assert parse_scopes("<script>,ok:scope") == ("ok:scope",)
    assert parse_scopes(None) == ()


async def test_drift_merges_needed_scopes_bounded_and_settles_when_granted(store: MemoryStore) -> None:
    drift = ScopeDriftLog(store)
    workspace = WorkspaceKey(None, "T0001")
    assert await drift.record(workspace, method="users.info", needed=["users:read"], provided=["commands"])
    assert not await drift.record(workspace, method="users.info", needed=["users:read"], provided=["commands"])
    assert await drift.record(workspace, method="chat.postMessage", needed=["chat:write"], provided=["commands"])
    missing = await drift.missing(workspace)
    assert (
        missing is not None and missing.needed == ("users:read", "chat:write") and missing.method == "chat.postMessage"
    )
    await drift.record(workspace, method="x", needed=[f"s{i}:x" for i in range(50)], provided=[])
    many = await drift.missing(workspace)
    assert many is not None and len(many.needed) == MAX_SCOPES
    await drift.clear(workspace)
    await drift.record(workspace, method="users.info", needed=["users:read"], provided=[])
    assert await drift.settle(workspace, ["commands"]) is not None
    assert await drift.settle(workspace, ["commands", "users:read"]) is None
    assert await drift.missing(workspace) is None


async def test_the_watcher_records_missing_scope_and_never_asks_for_a_retry(store: MemoryStore) -> None:
    drift = ScopeDriftLog(store)
    workspace = WorkspaceKey(None, "T0001")

    async def this_workspace() -> WorkspaceKey:
        return workspace

    watcher = ScopeDriftWatcher(drift, this_workspace)
    request = HttpRequest(method="POST", url="http://slack.test/api/users.info", headers={})
    refused = {"ok": False, "error": "missing_scope", "needed": "users:read", "provided": "commands,chat:write"}
    for body in ({"ok": True}, {"ok": False, "error": "ratelimited"}, refused):
        response = HttpResponse(status_code=200, headers={}, body=body)
        assert await watcher.can_retry_async(state=RetryState(), request=request, response=response) is False
    missing = await drift.missing(workspace)
    assert missing is not None and missing.needed == ("users:read",) and missing.method == "users.info"
    assert missing.provided == ("commands", "chat:write")


# -- preflight -----------------------------------------------------------------------------------------


def test_oauth_mode_refuses_to_start_without_a_usable_secret_key() -> None:
    oauth = {"slack_client_id": "1.2", "slack_client_secret": SecretStr("s3cr3t")}
    assert slack_refusal(Settings(**oauth), simulate=False) == NO_SECRET_KEY
    bad = slack_refusal(Settings(**oauth, phonebot_secret_key=SecretStr("not-a-key")), simulate=True)
    assert bad is not None and bad.startswith("PHONEBOT_SECRET_KEY: key 1 of 1 is not a Fernet key")
    assert slack_refusal(Settings(**oauth, phonebot_secret_key=SecretStr(KEY)), simulate=False) is None
    assert slack_refusal(Settings(slack_client_id="1.2"), simulate=False) == HALF_OAUTH
    assert slack_refusal(Settings(), simulate=False) == NO_SLACK_TOKEN
    assert slack_refusal(Settings(), simulate=True) is None
    assert slack_refusal(Settings(slack_bot_token=SecretStr("xoxb-test-1")), simulate=False) is None
    for line in (NO_SECRET_KEY, HALF_OAUTH, NO_SLACK_TOKEN):
        assert "\n" not in line

"""Issue 11 point 11: one context per workspace, rebuilt when its settings change, adapters reused or retired."""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet

from adapters.base import AdapterConfig, VendorAdapter
from adapters.registry import build_adapter
from bot.config import parse_config
from bot.installs.workspace import WorkspaceKey
from bot.secret_box import SecretBox
from bot.store import MemoryStore, ScopedStore
from bot.workspaces.context import WorkspaceContexts
from bot.workspaces.settings import WorkspaceSettings, WorkspaceSettingsStore

TEAM_A = WorkspaceKey(None, "TA")
TEAM_B = WorkspaceKey("E1", "TB")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def contexts(*, scoped: bool = True) -> tuple[WorkspaceContexts, WorkspaceSettingsStore, Clock, list[str]]:
    store = MemoryStore()
    settings = WorkspaceSettingsStore(store, SecretBox.from_setting(Fernet.generate_key().decode()))
    built: list[str] = []

    def build(name: str, cfg: AdapterConfig) -> VendorAdapter:
        built.append(name)
        return build_adapter(name, cfg)

    clock = Clock()
    registry = WorkspaceContexts(
        parse_config({}, source="x"), {}, store, settings, scoped=scoped, build=build, clock=clock
    )
    return registry, settings, clock, built


def relatel(token: str) -> Any:
    def change(current: WorkspaceSettings) -> WorkspaceSettings:
        current.vendors["relatel"] = {"token": token}
        return current

    return change


async def test_each_workspace_has_its_own_config_adapters_and_key_scope() -> None:
    registry, settings, _clock, built = contexts()
    await settings.update(TEAM_A, relatel("a-token"), by="U0ADMIN")
    a, b = await registry.get(TEAM_A), await registry.get(TEAM_B)
    assert set(a.adapters) == {"relatel"} and b.adapters == {} and built == ["relatel"]
    assert (a.scope, b.scope) == ("ws:-:TA:", "ws:E1:TB:")
    assert isinstance(a.store, ScopedStore) and a.store.prefix == a.scope
    await a.store.set("k", "a")
    assert await b.store.get("k") is None
    await registry.aclose()


async def test_a_saved_change_is_seen_after_the_refresh_and_unchanged_vendors_keep_their_adapter() -> None:
    registry, settings, clock, built = contexts()
    await settings.update(TEAM_A, relatel("one"), by="U0ADMIN")
    first = await registry.get(TEAM_A)
    await settings.update(TEAM_A, lambda current: current.model_copy(update={"link_approval": False}), by="U0ADMIN")
    assert await registry.get(TEAM_A) is first  # within the refresh: no store read at all
    clock.now += 1.5
    second = await registry.get(TEAM_A)
    assert second.version == 2 and second.adapters["relatel"] is first.adapters["relatel"] and built == ["relatel"]
    await settings.update(TEAM_A, relatel("two"), by="U0ADMIN")
    clock.now += 1.5
    third = await registry.get(TEAM_A)
    assert third.adapters["relatel"] is not first.adapters["relatel"] and built == ["relatel", "relatel"]
    await registry.aclose()


async def test_the_single_workspace_deployment_keeps_its_keys_unscoped() -> None:
    registry, _, _, _ = contexts(scoped=False)
    context = await registry.get(TEAM_A)
    assert context.scope == "" and not isinstance(context.store, ScopedStore)
    assert (await registry.get(None)).scope == ""
    await registry.aclose()


async def test_with_several_workspaces_the_files_phone_systems_are_only_its_own_workspaces() -> None:
    store = MemoryStore()
    settings = WorkspaceSettingsStore(store, SecretBox.from_setting(Fernet.generate_key().decode()))
    base = parse_config(
        {
            "timezone": "Europe/Vilnius",
            "vendors": {"relatel": {"token": "operator-token"}},
            "admins": ["U0OPERATOR"],
            "alerts": {"routes": [{"channel": "C0OPERATOR"}]},
        },
        source="phonebot.yml",
    )
    file_adapters = {"relatel": build_adapter("relatel", base.vendors["relatel"])}
    home: list[WorkspaceKey | None] = [TEAM_A]

    async def file_workspace() -> WorkspaceKey | None:
        return home[0]

    clock = Clock()
    registry = WorkspaceContexts(
        base,
        file_adapters,
        store,
        settings,
        scoped=True,
        build=build_adapter,
        clock=clock,
        file_workspace=file_workspace,
    )
    a, b = await registry.get(TEAM_A), await registry.get(TEAM_B)
    assert a.has_file and a.adapters["relatel"] is file_adapters["relatel"] and a.config.admins == ["U0OPERATOR"]
    assert not b.has_file and b.adapters == {} and b.config.admins == [] and b.config.alerts.routes == []
    assert b.config.timezone == "Europe/Vilnius"  # the file's general settings still apply
    home[0] = None  # a second install, and no SLACK_TEAM_ID: the file's part is nobody's until one is named
    clock.now += 1.5
    assert (await registry.get(TEAM_A)).adapters == {}
    await registry.aclose()
    await file_adapters["relatel"].aclose()

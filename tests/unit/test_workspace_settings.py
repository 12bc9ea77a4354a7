"""Issue 11 point 5: per-workspace settings in the store, sealed, versioned, layered under the YAML file."""

from __future__ import annotations

import asyncio

import pytest
from cryptography.fernet import Fernet

from bot.config import parse_config
from bot.installs.workspace import WorkspaceKey
from bot.secret_box import SecretBox
from bot.store import MemoryStore
from bot.workspaces.effective import effective_config
from bot.workspaces.settings import WorkspaceSettings, WorkspaceSettingsStore

TEAM_A = WorkspaceKey(None, "TA")
TEAM_B = WorkspaceKey(None, "TB")


def settings_store() -> tuple[MemoryStore, WorkspaceSettingsStore]:
    store = MemoryStore()
    return store, WorkspaceSettingsStore(store, SecretBox.from_setting(Fernet.generate_key().decode()))


def add_relatel(token: str) -> object:
    def change(current: WorkspaceSettings) -> WorkspaceSettings:
        current.vendors["relatel"] = {"token": token}
        return current

    return change


async def test_saved_settings_are_sealed_per_workspace_and_bump_the_version() -> None:
    store, settings = settings_store()
    assert await settings.version(TEAM_A) == 0 and (await settings.load(TEAM_A)).vendors == {}
    await settings.update(TEAM_A, add_relatel("relatel-secret-A"), by="U0ADMIN")  # type: ignore[arg-type]
    raw = await store.get("ws:-:TA:settings")
    assert raw is not None and "relatel-secret-A" not in raw  # sealed at rest
    loaded = await settings.load(TEAM_A)
    assert loaded.vendors == {"relatel": {"token": "relatel-secret-A"}} and loaded.updated_by == "U0ADMIN"
    assert await settings.version(TEAM_A) == 1
    assert await settings.version(TEAM_B) == 0 and (await settings.load(TEAM_B)).vendors == {}


async def test_two_admins_saving_at_once_both_land() -> None:
    _, settings = settings_store()

    def add_route(channel: str) -> object:
        def change(current: WorkspaceSettings) -> WorkspaceSettings:
            current.routes.append({"channel": channel})
            return current

        return change

    await asyncio.gather(*(settings.update(TEAM_A, add_route(f"C{i}"), by="U0ADMIN") for i in range(5)))  # type: ignore[arg-type]
    assert sorted(route["channel"] for route in (await settings.load(TEAM_A)).routes) == [f"C{i}" for i in range(5)]
    assert await settings.version(TEAM_A) == 5


async def test_a_record_sealed_with_another_key_reads_as_empty_not_as_an_error() -> None:
    store, settings = settings_store()
    await settings.update(TEAM_A, add_relatel("t"), by="U0ADMIN")  # type: ignore[arg-type]
    other = WorkspaceSettingsStore(store, SecretBox.from_setting(Fernet.generate_key().decode()))
    assert (await other.load(TEAM_A)).vendors == {}


def test_the_file_wins_and_slack_settings_are_layered_under_it() -> None:
    base = parse_config(
        {
            "vendors": {"dstny": {"base_url": "https://dstny.example", "domain": "acme", "user": "u", "token": "p"}},
            "alerts": {"routes": [{"channel": "CFILE"}]},
        },
        source="phonebot.yml",
    )
    stored = WorkspaceSettings(
        vendors={"dstny": {"domain": "ignored"}, "relatel": {"token": "t"}},
        routes=[{"channel": "CSLACK", "vendor": "relatel"}, {"channel": "CBAD", "kinds": ["nonsense"]}],
        queue_thresholds=[{"group": "*", "calls_waiting": 3}],
    )
    effective = effective_config(base, stored)
    assert set(effective.config.vendors) == {"dstny", "relatel"} and effective.file_vendors == {"dstny"}
    assert effective.config.vendors["dstny"].domain == "acme"  # type: ignore[attr-defined]
    assert [route.channel for route in effective.config.alerts.routes] == ["CFILE", "CSLACK"]
    assert effective.file_routes == 1 and len(effective.config.alerts.queue_thresholds) == 1
    assert effective.problems == ("alert route 2 is left out: it no longer validates",)
    assert base.alerts.routes[0].channel == "CFILE" and len(base.alerts.routes) == 1  # the file's config unchanged


def test_a_stored_vendor_that_no_longer_validates_is_left_out_and_said() -> None:
    effective = effective_config(parse_config({}, source="x"), WorkspaceSettings(vendors={"relatel": {}}))
    assert effective.config.vendors == {}
    assert effective.problems and "relatel" in effective.problems[0] and "token" not in effective.problems[0]


@pytest.mark.parametrize("bad", [{"vendors": {str(i): {} for i in range(9)}}, {"routes": [{}] * 51}])
def test_settings_are_bounded(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        WorkspaceSettings.model_validate(bad)

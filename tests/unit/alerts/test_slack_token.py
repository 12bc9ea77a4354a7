"""Issue 11: which installation the alerts are posted with ("Add to Slack"), and the token each Slack call carries.

The rule (:mod:`bot.alerts.slack_token`): ``SLACK_TEAM_ID``'s installation when set (a team id, or an
org-wide install's enterprise id); else the only installation; else none, and the call fails
transiently so the entries wait. Then the token reaching Slack: ``SlackDelivery`` and ``PostFinder``
against the fake Slack Web API (real slack_sdk client, no token of its own).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from cryptography.fernet import Fernet
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.web.async_client import AsyncWebClient

from bot.alerts.delivery import DeliveryFailed, SlackDelivery
from bot.alerts.pacing import ChannelPacer
from bot.alerts.queue import AlertKeys
from bot.alerts.recovery import LookupPending, PostFinder
from bot.alerts.slack_token import AlertWorkspace, NoAlertWorkspace
from bot.installs.directory import InstalledWorkspaces
from bot.installs.records import StoreInstallationStore
from bot.installs.workspace import WorkspaceKey
from bot.secret_box import SecretBox
from bot.store import MemoryStore
from tests.fakes.slack_api import FakeSlack

CHANNEL = "C0ALERTS"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def records() -> AsyncIterator[StoreInstallationStore]:
    store = MemoryStore()
    yield StoreInstallationStore(store, SecretBox.from_setting(Fernet.generate_key().decode()))
    await store.close()


async def install(
    records: StoreInstallationStore, team: str | None, token: str, *, enterprise: str | None = None, org: bool = False
) -> None:
    await records.async_save(
        Installation(
            app_id="A0001",
            team_id=team,
            enterprise_id=enterprise,
            is_enterprise_install=org,
            bot_token=token,
            bot_id="B0001",
            bot_user_id="U0BOT",
            user_id="U0ALICE",
        )
    )


def alert_workspace(records: StoreInstallationStore, team_id: str | None = None, **options: Any) -> AlertWorkspace:
    return AlertWorkspace(InstalledWorkspaces(records), team_id=team_id, **options)


async def problem_of(workspace: AlertWorkspace) -> str:
    with pytest.raises(NoAlertWorkspace) as refused:
        await workspace.token()
    assert not refused.value.permanent  # the entries wait; never dead-lettered as "Slack refused"
    assert await workspace.problem() == refused.value.detail
    return refused.value.detail


async def test_none_installed_waits_and_says_so(records: StoreInstallationStore) -> None:
    workspace = alert_workspace(records)
    assert (await problem_of(workspace)).startswith("no workspace installed yet")
    assert await workspace.current_key() is None


async def test_the_only_installation_is_used_a_workspace_or_an_org(records: StoreInstallationStore) -> None:
    await install(records, "T0ONE", "xoxb-one")
    workspace = alert_workspace(records)
    assert await workspace.token() == "xoxb-one"
    assert await workspace.problem() is None
    assert await workspace.current_key() == WorkspaceKey(None, "T0ONE")


async def test_an_org_wide_install_alone_is_used_and_slack_team_id_names_it_by_its_enterprise_id(
    records: StoreInstallationStore,
) -> None:
    await install(records, None, "xoxb-org", enterprise="E0GRID", org=True)
    assert await alert_workspace(records).token() == "xoxb-org"
    await install(records, "T0OTHER", "xoxb-other")
    assert await alert_workspace(records, "E0GRID").token() == "xoxb-org"
    assert await alert_workspace(records, "T0OTHER").token() == "xoxb-other"


async def test_several_installations_wait_for_slack_team_id(records: StoreInstallationStore) -> None:
    await install(records, "T0B", "xoxb-b")
    await install(records, "T0A", "xoxb-a")
    assert await problem_of(alert_workspace(records)) == (
        "several workspaces installed (T0A, T0B): set SLACK_TEAM_ID to the one alerts go to"
    )
    assert await alert_workspace(records, "T0B").token() == "xoxb-b"


async def test_slack_team_id_finds_a_workspace_of_an_org_installed_on_its_own(records: StoreInstallationStore) -> None:
    await install(records, "T0GRIDA", "xoxb-grid-a", enterprise="E0GRID")
    await install(records, "T0GRIDB", "xoxb-grid-b", enterprise="E0GRID")
    assert await alert_workspace(records, "T0GRIDB").token() == "xoxb-grid-b"
    # The org's id names no org-wide install here: the workspaces were installed one by one.
    assert (await problem_of(alert_workspace(records, "E0GRID"))).startswith("SLACK_TEAM_ID is E0GRID, but")


async def test_slack_team_id_not_installed_or_not_an_id_waits_and_never_falls_back(
    records: StoreInstallationStore,
) -> None:
    await install(records, "T0ONE", "xoxb-one")
    assert await problem_of(alert_workspace(records, "T0NOPE")) == (
        "SLACK_TEAM_ID is T0NOPE, but phonebot is not installed there: alerts wait until it is (/slack/install)"
    )
    assert "is not a Slack team id" in await problem_of(alert_workspace(records, "team one"))


async def test_the_token_is_read_at_every_call_so_a_reinstall_counts_at_once_and_an_uninstall_stops_it(
    records: StoreInstallationStore,
) -> None:
    clock = Clock()
    workspace = alert_workspace(records, resolve_seconds=30, retry_seconds=2, clock=clock)
    await install(records, "T0ONE", "xoxb-first")
    assert await workspace.token() == "xoxb-first"
    await install(records, "T0ONE", "xoxb-second")  # reinstalled: same workspace, new token
    assert await workspace.token() == "xoxb-second"
    await records.delete(WorkspaceKey(None, "T0ONE"))  # uninstalled, well within resolve_seconds
    assert (await problem_of(workspace)).startswith("no workspace installed yet")


async def test_the_choice_is_kept_for_resolve_seconds_and_none_for_retry_seconds(
    records: StoreInstallationStore,
) -> None:
    clock = Clock()
    workspace = alert_workspace(records, resolve_seconds=30, retry_seconds=2, clock=clock)
    await problem_of(workspace)
    await install(records, "T0ONE", "xoxb-one")
    await problem_of(workspace)  # "none" is remembered a moment
    clock.now += 2
    assert await workspace.token() == "xoxb-one"
    await install(records, "T0TWO", "xoxb-two")
    clock.now += 29
    assert await workspace.token() == "xoxb-one"  # the choice stands until resolve_seconds are over
    clock.now += 1
    assert (await problem_of(workspace)).startswith("several workspaces installed")
    workspace.refused()  # Slack refused a token: the next call chooses again, now
    await records.delete(WorkspaceKey(None, "T0TWO"))
    assert await workspace.token() == "xoxb-one"


# -- the token reaching Slack ----------------------------------------------------------------------


class Tokens:
    """A token source whose answer the test sets (``None``: no workspace)."""

    def __init__(self, token: str | None) -> None:
        self.current = token
        self.refusals = 0

    async def token(self) -> str:
        if self.current is None:
            raise NoAlertWorkspace("no workspace installed yet")
        return self.current

    def refused(self) -> None:
        self.refusals += 1


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


def delivery(
    fake_slack: FakeSlack, redis: aioredis.Redis, tokens: Tokens | None, token: str | None = None
) -> SlackDelivery:
    client = AsyncWebClient(token=token, base_url=fake_slack.url, retry_handlers=[])
    return SlackDelivery(client, ChannelPacer(redis, AlertKeys("test"), interval=0), retries=0, tokens=tokens)


async def test_posts_edits_and_history_reads_carry_the_sources_token_at_each_call(
    fake_slack: FakeSlack, redis: aioredis.Redis
) -> None:
    tokens = Tokens("xoxb-installed-1")
    slack = delivery(fake_slack, redis, tokens)
    ts = await slack.post(CHANNEL, text="lost call")
    tokens.current = "xoxb-installed-2"  # reinstalled
    await slack.update(CHANNEL, ts, text="lost call, resolved")
    finder = PostFinder(slack.client, interval=0, settle=0, tokens=tokens)
    assert await finder.find(CHANNEL, "never-posted", finder.now()) is None
    made = [(call.method, call.token) for call in fake_slack.calls]
    assert made == [
        ("chat.postMessage", "xoxb-installed-1"),
        ("chat.update", "xoxb-installed-2"),
        ("conversations.history", "xoxb-installed-2"),
    ]


async def test_without_a_workspace_nothing_reaches_slack_and_the_failure_is_transient(
    fake_slack: FakeSlack, redis: aioredis.Redis
) -> None:
    tokens = Tokens(None)
    slack = delivery(fake_slack, redis, tokens)
    with pytest.raises(NoAlertWorkspace) as failed:
        await slack.post(CHANNEL, text="lost call")
    assert not failed.value.permanent
    finder = PostFinder(slack.client, interval=0, settle=0, tokens=tokens)
    with pytest.raises(NoAlertWorkspace):
        await finder.find(CHANNEL, "n1", finder.now())
    assert fake_slack.calls == []


async def test_a_refused_installation_token_is_transient_and_looked_up_again(
    fake_slack: FakeSlack, redis: aioredis.Redis
) -> None:
    fake_slack.oauth.restrict("xoxb-revoked", ("chat:write",), team_id="T0ONE")
    fake_slack.oauth.revoke("xoxb-revoked")
    tokens = Tokens("xoxb-revoked")
    with pytest.raises(DeliveryFailed) as failed:
        await delivery(fake_slack, redis, tokens).post(CHANNEL, text="lost call")
    assert not failed.value.permanent and failed.value.error == "token_revoked" and tokens.refusals == 1
    finder = PostFinder(delivery(fake_slack, redis, tokens).client, interval=0, settle=0, tokens=tokens)
    with pytest.raises(LookupPending):  # not "unreadable, post again": the installation is changing
        await finder.find(CHANNEL, "n1", finder.now())
    assert tokens.refusals == 2


async def test_with_slack_bot_token_the_clients_own_token_is_used_and_a_refusal_stays_permanent(
    fake_slack: FakeSlack, redis: aioredis.Redis
) -> None:
    slack = delivery(fake_slack, redis, None, token="xoxb-test-token")
    await slack.post(CHANNEL, text="lost call")
    assert fake_slack.calls[-1].token == "xoxb-test-token"
    fake_slack.oauth.restrict("xoxb-test-token", ("chat:write",))
    fake_slack.oauth.revoke("xoxb-test-token")
    with pytest.raises(DeliveryFailed) as failed:
        await slack.post(CHANNEL, text="lost call")
    assert failed.value.permanent  # single-workspace mode: exactly as before


def test_the_startup_line_says_which_installation_alerts_are_posted_with() -> None:
    from bot.config import Settings, parse_config
    from bot.preflight import alert_destination

    config = parse_config({"alerts": {"routes": [{"channel": CHANNEL}]}}, source="test")
    oauth = Settings(slack_client_id="1.2", slack_client_secret="s", phonebot_secret_key=Fernet.generate_key().decode())
    only = alert_destination(oauth, config)
    assert only.startswith(f"alerts: posted to Slack channel(s) {CHANNEL} in the one workspace installed through")
    assert "several: they wait until SLACK_TEAM_ID names one" in only and "not set" not in only
    named = alert_destination(oauth.model_copy(update={"slack_team_id": "T0ONE"}), config)
    assert "in the workspace SLACK_TEAM_ID names (T0ONE), with its installation's bot token" in named
    with_token = alert_destination(oauth.model_copy(update={"slack_bot_token": "xoxb-test-token"}), config)
    assert "(SLACK_BOT_TOKEN is not used for them)" in with_token
    single = alert_destination(Settings(slack_bot_token="xoxb-test-token"), config)
    assert single == f"alerts: posted to Slack channel(s) {CHANNEL} via https://slack.com/api/"

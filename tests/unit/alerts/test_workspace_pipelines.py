"""Per-workspace alert pipelines: every key under the workspace's scope, URL ids, reconciling, bounds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest
import redis.asyncio as aioredis
from cryptography.fernet import Fernet
from starlette.applications import Starlette
from starlette.routing import Route

from adapters.base import VendorAdapter
from adapters.errors import WebhookAuthError
from adapters.simulation import LoopbackServer
from adapters.tele2.adapter import Tele2Adapter, Tele2Config
from adapters.tele2.simulator import API_KEY, Tele2Simulator
from bot.alerts.listen import revoke_all_links
from bot.alerts.pipelines import AlertPipelines, WorkspaceAlerts, key_of_path_id, path_id
from bot.alerts.queue import AlertKeys, AlertQueue
from bot.alerts.service import AlertService
from bot.config import Settings, parse_config
from bot.installs.directory import InstalledWorkspaces
from bot.installs.workspace import WorkspaceKey
from bot.secret_box import SecretBox
from bot.store import MemoryStore, RedisStore
from bot.webhook_auth import UrlTokens
from bot.webhooks import WebhookRouter
from bot.workspaces.context import WorkspaceContext, WorkspaceContexts
from bot.workspaces.settings import WorkspaceSettings, WorkspaceSettingsStore
from handlers.alert_actions import AlertActions
from handlers.context import Services
from handlers.digest_modal import DigestBrowser
from tests.fakes.slack_api import FakeSlack

SCOPE = "ws:-:TA:"
PUBLIC = "https://phonebot.example"
FAST = {"pace_seconds": 0.01, "retries": 1, "backoff_seconds": 0.01, "max_attempts": 2, "retry_window_seconds": 0}


@pytest.fixture
def tele2() -> Iterator[tuple[Tele2Simulator, LoopbackServer]]:
    simulator = Tele2Simulator()
    with LoopbackServer(simulator.build_app()) as server:
        yield simulator, server


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[RedisStore]:
    opened = RedisStore(redis_url)
    yield opened
    await opened.close()


async def eventually(check: Any, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_a_workspace_pipeline_writes_every_key_under_its_scope(
    store: RedisStore, tele2: tuple[Tele2Simulator, LoopbackServer], fake_slack: FakeSlack
) -> None:
    simulator, server = tele2
    settings = Settings(slack_bot_token="xoxb-ta", phonebot_public_url=PUBLIC)  # URL secret kept in the store
    config = parse_config(
        {
            "alerts": {
                "routes": [{"channel": "C0TA", "name": "A"}],
                "queue_thresholds": [{"group": "*", "vendor": "tele2", "calls_waiting": 1, "min_duration_seconds": 0}],
                "delivery": FAST,
            }
        },
        source="t",
        env={},
    )
    adapter = Tele2Adapter(Tele2Config(base_url=server.url + "/api/v2/", api_key=API_KEY))
    service = AlertService(
        settings, config, store, store.client, {"tele2": adapter}, fake_slack.url, scope=SCOPE, label="TA"
    )
    router = WebhookRouter()
    await service.start(router, run_worker=False)
    try:
        await service.sync_webhooks(PUBLIC)  # vendor state (webhook ids) and the sync lock
        await revoke_all_links(service.store)  # a Listen revocation
        await service.poller.run_once()  # cursor, lease and queue-threshold state
        app = Starlette(routes=[Route("/webhooks/{vendor}/{rest:path}", router.dispatch, methods=["POST"])])
        url = (await service.webhook_url(PUBLIC, "tele2")).removeprefix(PUBLIC).replace("{event}", "LostCallerAdded")
        body = simulator.webhook_body("LostCallerAdded", {"callerid": "+4520000001"})
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            assert (await client.post(url, json=body)).status_code == 200
        while await service.worker.tick():  # fold, post, pace
            pass
        assert [call.args["channel"] for call in fake_slack.calls_to("chat.postMessage")] == ["C0TA"]
    finally:
        await service.stop()
        await adapter.aclose()
    keys = sorted([str(key) async for key in store.client.scan_iter("*")])
    outside = [key for key in keys if not key.startswith(SCOPE)]
    assert outside == [], outside
    for kind in (
        "phonebot:alerts:stream",
        "phonebot:alerts:seen:",
        "phonebot:alerts:subject:",
        "phonebot:alerts:pace:",
        "phonebot:vendor:tele2:",
        "phonebot:webhook-secret",
        "phonebot:listen:revoked-before",
        "poll:lease:tele2",
    ):
        assert any(key.startswith(SCOPE + kind) for key in keys), (kind, keys)
    assert "/w/" not in url  # no path prefix given: the plain path


async def test_url_tokens_of_one_workspace_are_refused_by_another_even_under_one_configured_secret() -> None:
    configured = "one-secret-for-the-whole-deployment-0123"
    store = MemoryStore()
    a = await UrlTokens.load(store, configured, scope="ws:-:TA:")
    b = await UrlTokens.load(store, configured, scope="ws:-:TB:")
    plain = await UrlTokens.load(store, configured)
    token = a.token_for("tele2", "account")
    assert a.resource_for("tele2", token) == "account"
    for other in (b, plain):
        with pytest.raises(WebhookAuthError):
            other.resource_for("tele2", token)
    assert plain.token_for("tele2", "account") == UrlTokens(configured.encode()).token_for("tele2", "account")


@pytest.mark.parametrize(
    ("key", "text"),
    [(WorkspaceKey(None, "T123"), "T123"), (WorkspaceKey("E1", "T2"), "E1-T2"), (WorkspaceKey("E9", None), "E9")],
    ids=["workspace", "workspace-of-org", "org-wide"],
)
def test_workspace_url_ids_round_trip(key: WorkspaceKey, text: str) -> None:
    assert path_id(key) == text
    assert key_of_path_id(text) == key


@pytest.mark.parametrize("text", ["", "t123", "T1-E2", "T1/../T2", "E1-", "-T1", "T" + "1" * 30, "U123"])
def test_anything_else_names_no_workspace(text: str) -> None:
    assert key_of_path_id(text) is None


# -- reconciling -----------------------------------------------------------------------------


class FakeInstalled:
    def __init__(self, *keys: WorkspaceKey) -> None:
        self.keys = list(keys)

    async def installed(self, *, limit: int = 100) -> list[WorkspaceKey]:
        return self.keys[:limit]


class FakeService:
    def __init__(self, key: WorkspaceKey, version: int, adapters: dict[str, VendorAdapter]) -> None:
        self.key, self.version, self.started, self.stopped = key, version, False, False
        self.adapters = adapters
        self.reloads = 0
        self.queue = AlertQueue(aioredis.Redis(), AlertKeys.scoped(key.data_prefix))

    async def start(self, router: WebhookRouter) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    async def reload(self, config: Any, adapters: dict[str, VendorAdapter]) -> None:
        self.reloads += 1

    async def worker_problem(self) -> str | None:
        return None

    async def queue_problem(self) -> str | None:
        return "oldest of 3 undelivered alert(s) waiting 900 s" if self.key.team_id == "TB" else None


class Setup:
    def __init__(self, max_pipelines: int = 200) -> None:
        self.store = MemoryStore()
        self.settings = WorkspaceSettingsStore(self.store, SecretBox.from_setting(Fernet.generate_key().decode()))
        self.contexts = WorkspaceContexts(
            parse_config({}, source="t", env={}),
            {},
            self.store,
            self.settings,
            scoped=True,
            build=lambda name, cfg: cast(VendorAdapter, object()),
            refresh_seconds=0,
        )
        self.installed = FakeInstalled()
        self.made: list[FakeService] = []
        self.pipelines = AlertPipelines(
            self.contexts,
            cast(InstalledWorkspaces, self.installed),
            settings=Settings(phonebot_max_alert_workspaces=max_pipelines),
            store=self.store,
            redis=cast(aioredis.Redis, None),
            slack_base_url="http://127.0.0.1:9/api/",
            make=self.make,
        )

    def make(self, key: WorkspaceKey, context: WorkspaceContext, own: WorkspaceAlerts) -> AlertService:
        assert context.scope == key.data_prefix
        service = FakeService(key, context.version, own.adapters)
        self.made.append(service)
        return cast(AlertService, service)

    async def set_up(self, team: str, *, routes: bool = True) -> WorkspaceKey:
        key = WorkspaceKey(None, team)
        vendors = {"tele2": {"base_url": "http://127.0.0.1:9/api/v2/", "api_key": "k"}}
        chosen = [{"channel": f"C{team}", "name": team}] if routes else []
        await self.settings.update(key, lambda old: WorkspaceSettings(vendors=vendors, routes=chosen), by="U0ADMIN")
        return key

    def running(self) -> list[str | None]:
        return sorted(key.team_id for key in self.pipelines.running)


async def test_one_pipeline_per_installed_workspace_set_up_for_alerts_restarted_on_change_stopped_when_gone() -> None:
    setup = Setup()
    a, b = await setup.set_up("TA"), await setup.set_up("TB")
    quiet = await setup.set_up("TC", routes=False)  # a vendor but nowhere to post: no pipeline
    setup.installed.keys = [a, b, quiet]
    await setup.pipelines.reconcile()
    assert setup.running() == ["TA", "TB"]
    assert await setup.pipelines.queue_problem() == "TB: oldest of 3 undelivered alert(s) waiting 900 s"
    first_a = setup.pipelines.running[a].service
    # Buttons: the queue of the request's workspace's own pipeline, for a vendor it set up; else the deployment's.
    queue_a = setup.pipelines.queue_for(a, "tele2")
    assert queue_a is not None and queue_a.keys.stream == "ws:-:TA:phonebot:alerts:stream"
    assert setup.pipelines.queue_for(a) is queue_a
    assert setup.pipelines.queue_for(a, "dstny") is None and setup.pipelines.queue_for(quiet, "tele2") is None
    assert setup.pipelines.queue_for(None, "tele2") is None

    await setup.pipelines.reconcile()  # nothing changed: nothing restarted
    assert setup.pipelines.running[a].service is first_a and len(setup.made) == 2

    await setup.set_up("TA")  # saved again: a new version
    await setup.pipelines.reconcile()
    assert setup.pipelines.running[a].service is first_a and cast(FakeService, first_a).reloads == 1
    await setup.pipelines.reconcile()
    assert cast(FakeService, first_a).reloads == 1 and not cast(FakeService, first_a).stopped

    setup.installed.keys = [a]  # B uninstalled without an event reaching this process
    await setup.pipelines.reconcile()
    assert setup.running() == ["TA"] and all(s.stopped for s in setup.made if s.key == b)

    await setup.pipelines.forget(a)  # app_uninstalled: at once
    assert setup.running() == [] and setup.made[-1].stopped


async def test_beyond_the_limit_workspaces_wait_with_an_advisory_and_the_running_ones_keep_going() -> None:
    setup = Setup(max_pipelines=1)
    a, b = await setup.set_up("TA"), await setup.set_up("TB")
    setup.installed.keys = [a, b]
    await setup.pipelines.reconcile()
    assert setup.running() == ["TA"]
    assert await setup.pipelines.capacity_problem() == (
        "1 workspace(s) set up for alerts beyond PHONEBOT_MAX_ALERT_WORKSPACES=1: "
        "their alerts are not polled or posted by this process"
    )
    setup.installed.keys = [b, a]  # listed in another order: the running one is kept, not swapped
    await setup.pipelines.reconcile()
    assert setup.running() == ["TA"] and len(setup.made) == 1


def test_buttons_and_digest_lists_work_in_the_pipeline_of_the_requests_own_workspace() -> None:
    default = AlertQueue(aioredis.Redis(), AlertKeys())
    own = AlertQueue(aioredis.Redis(), AlertKeys.scoped("ws:-:TA:"))
    a = WorkspaceKey(None, "TA")

    def queues(key: WorkspaceKey | None, vendor: str | None) -> AlertQueue | None:
        return own if key == a and vendor in (None, "tele2") else None

    def actions_in(workspace: WorkspaceKey | None) -> AlertActions:
        services = cast(Services, SimpleNamespace(workspace=workspace))
        return AlertActions(services, default, queues=queues)

    value = '{"vendor": "tele2", "subject": "lost:+4520000001"}'
    assert actions_in(a)._in_pipeline_of(value).ledger.keys is own.keys
    assert actions_in(a)._in_pipeline_of(value.replace("tele2", "dstny")).queue is default
    assert actions_in(WorkspaceKey(None, "TB"))._in_pipeline_of(value).queue is default  # B's click: never A's
    assert actions_in(a)._in_pipeline_of("not json").queue is default
    shared = actions_in(a)
    shared._in_pipeline_of(value)
    assert shared.queue is default  # a copy acts; the shared instance is unchanged

    browser = DigestBrowser(default, queues=queues)
    assert browser.within(a).digests.keys is own.keys
    assert browser.within(WorkspaceKey(None, "TB")) is browser and browser.within(None) is browser

"""Wires the alerts pipeline into a running phonebot: receivers, worker and pollers.

``start`` runs inside the web server's lifespan, before requests are accepted, and
``stop`` lets the worker finish its current batch. Entries it could not finish stay
pending in Redis for the next start or another replica.

With "Add to Slack" every Slack call of the pipeline carries the bot token of the installation the
alerts belong to (:mod:`bot.alerts.slack_token`); with ``SLACK_BOT_TOKEN`` its client carries that.

Every background task (worker, poller, queue gauges, webhook sync at start) runs under a
:class:`~bot.supervisor.Supervisor`, so a crash is logged, counted and followed by a restart;
:meth:`AlertService.worker_problem` and :meth:`AlertService.queue_problem` are ``/readyz`` checks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from slack_sdk.web.async_client import AsyncWebClient
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from adapters.base import VendorAdapter
from adapters.errors import NotSupported, VendorError
from bot.alerts.delivery import SlackDelivery
from bot.alerts.listen import ListenLinks
from bot.alerts.pacing import ChannelPacer
from bot.alerts.poller import AlertPoller
from bot.alerts.queue import AlertKeys, AlertQueue, QueueStats
from bot.alerts.receiver import mount_receivers
from bot.alerts.recovery import PostFinder
from bot.alerts.slack_token import AlertWorkspace
from bot.alerts.worker import AlertWorker
from bot.config import PhonebotConfig, Settings
from bot.installs.directory import InstalledWorkspaces, Workspaces
from bot.installs.records import StoreInstallationStore
from bot.installs.workspace import WorkspaceKey
from bot.metrics import (
    ALERT_OLDEST_PENDING,
    ALERT_QUEUE_DEPTH,
    ALERT_WORKSPACE_OLDEST_PENDING,
    ALERT_WORKSPACE_QUEUE_DEPTH,
)
from bot.slack_http import SlackSession
from bot.store import ScopedStore, Store, VendorState
from bot.supervisor import Supervisor
from bot.webhook_auth import UrlTokens
from bot.webhooks import WebhookRouter

log = logging.getLogger(__name__)

WORKER_TASK = "alert-worker"
#: One webhook sync or prune at a time, across replicas and the CLI.
WEBHOOK_LOCK_KEY = "phonebot:webhooks:sync-lock"
WEBHOOK_LOCK_SECONDS = 120
#: How often the queue gauges are refreshed.
QUEUE_GAUGE_SECONDS = 5.0


class AlertService:
    """One workspace's alert pipeline in this process (the deployment's, in single-workspace mode).

    Every key it or its parts write is under ``scope`` (a workspace's data prefix with "Add to
    Slack"; ``""``: the keys a single-workspace deployment always had): the stream, dedupe, subject
    records and locks, pacing, poll cursors and leases, vendor state, Listen revocations, the
    webhook sync lock and the URL-token secret. ``workspace`` pins the installation its posts use
    (a workspace's own pipeline); without it, "Add to Slack" posts go to the installation
    ``SLACK_TEAM_ID`` names or the only one. ``path_prefix`` (``/w/T123``) goes before the
    webhook and Listen paths it hands out.
    """

    def __init__(
        self,
        settings: Settings,
        config: PhonebotConfig,
        store: Store,
        redis: aioredis.Redis,
        adapters: dict[str, VendorAdapter],
        slack_base_url: str,
        *,
        slack_session: SlackSession | None = None,
        workspaces: Workspaces | None = None,
        scope: str = "",
        workspace: WorkspaceKey | None = None,
        path_prefix: str = "",
        label: str = "",
    ) -> None:
        self.settings = settings
        self.config = config
        self.scope = scope
        #: The workspace this pipeline is (``None``: the deployment's one pipeline).
        self.key = workspace
        self.path_prefix = path_prefix
        #: The workspace's URL id in metrics and logs (``""``: the deployment's one pipeline).
        self.label = label
        self.store = ScopedStore.of(store, scope)
        self.adapters = adapters
        self.queue = AlertQueue(redis, AlertKeys.scoped(scope))
        #: "Add to Slack": the installation alerts are posted with, asked at every Slack call (else ``None``:
        #: the client carries ``SLACK_BOT_TOKEN``).
        self.workspace: AlertWorkspace | None = None
        token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
        if isinstance(workspaces, InstalledWorkspaces):
            # Read through the pipeline's own store (its Redis pool), so a command burst can't hold posts up.
            installed = InstalledWorkspaces(StoreInstallationStore(store, workspaces.records.box))
            self.workspace = AlertWorkspace(installed, team_id=settings.slack_team_id, key=workspace)
            token = None  # never a process-wide token next to the installations' own
        # No retry handlers: SlackDelivery honours Retry-After and backs off itself, per channel, and a
        # post that lost its connection must not be re-sent blindly (slack_sdk's default handler would).
        # slack_sdk annotates ``timeout`` as int but hands it to aiohttp.ClientTimeout, which takes float seconds.
        timeout: Any = config.alerts.delivery.slack_timeout_seconds
        # With the process's shared session (whose own timeout is this same setting), posts reuse connections.
        make = slack_session.web_client if slack_session is not None else AsyncWebClient
        self.slack = make(token=token, base_url=slack_base_url, timeout=timeout, retry_handlers=[])
        self._redis = redis
        self.tokens: UrlTokens | None = None
        self.listen: ListenLinks | None = None  # once started
        #: What the webhook sync at startup reported per vendor, once it finished (``None`` before).
        self.startup_sync: dict[str, str] | None = None
        self._started: tuple[WebhookRouter, bool] | None = None
        self._consumer: str | None = None
        self._assemble(config, adapters)

    def _assemble(self, config: PhonebotConfig, adapters: dict[str, VendorAdapter]) -> None:
        """The parts that follow the config and adapters: delivery, worker, poller, their supervisor."""
        self.config, self.adapters = config, adapters
        delivery_settings = config.alerts.delivery
        pacer = ChannelPacer(self._redis, self.queue.keys, interval=delivery_settings.pace_seconds)
        self.delivery = SlackDelivery(
            self.slack,
            pacer,
            retries=delivery_settings.retries,
            backoff_seconds=delivery_settings.backoff_seconds,
            tokens=self.workspace,
        )
        finder = PostFinder(
            self.slack,
            interval=delivery_settings.history_interval_seconds,
            settle=2 * delivery_settings.slack_timeout_seconds,
            tokens=self.workspace,
        )
        # A reload keeps the consumer name, so the new worker carries on with the entries the old one held.
        consumer = self._consumer
        self.worker = AlertWorker(
            self.queue,
            self.delivery,
            config.alerts,
            tz=config.tz,
            finder=finder,
            consumer=consumer,
            workspace=self.key.scope if self.key is not None else "",
        )
        self._consumer = self.worker.consumer
        self.poller = AlertPoller(adapters, self.store, self.queue, config.alerts, owner_id=self.worker.consumer)
        for name, adapter in adapters.items():  # what an adapter must remember across restarts (Tele2: webhook ids)
            adapter.use_state(VendorState(self.store, name))
        self._stop = asyncio.Event()
        self.supervisor = Supervisor(self._stop)

    async def reload(self, config: PhonebotConfig, adapters: dict[str, VendorAdapter]) -> None:
        """Go on with another config and adapters (its workspace's settings changed): the running parts are
        stopped as :meth:`stop` does, rebuilt and started again; entries left pending are taken over."""
        started = self._started
        await self.stop()
        if started is not None:
            for name in self.adapters:  # a vendor no longer set up gets no more webhooks
                started[0].receivers.pop(name, None)
        self._assemble(config, adapters)
        if started is not None:
            await self.start(started[0], run_worker=started[1])

    async def start(self, router: WebhookRouter, *, run_worker: bool = True) -> None:
        """Load the webhook secret, mount the receivers and start the worker."""
        self._started = (router, run_worker)
        self.tokens = await self._tokens()
        mount_receivers(router, self.adapters, self.queue, self.tokens)
        public = self.settings.phonebot_public_url
        self.listen = ListenLinks(
            public.rstrip("/") + self.path_prefix if public else None,
            self.tokens,
            self.adapters,
            store=self.store,
            lifetime_seconds=self.config.alerts.listen_link_days * 24 * 3600,
            owner_tokens={name: self.config.user_tokens(name) for name in self.adapters},
        )
        self.worker.listen_link = self.listen.url_for
        await self.queue.ensure_group()
        if run_worker:
            self.supervisor.start(WORKER_TASK, lambda: self.worker.run(self._stop))
            self.supervisor.start("alert-poller", lambda: self.poller.run_forever(self._stop))
            self.supervisor.start("alert-queue-gauges", self._refresh_gauges)
        public_url = self.settings.phonebot_public_url
        if public_url:
            self.supervisor.start("webhook-sync", lambda: self._sync_at_startup(public_url))
        where = f" for {self.label}" if self.label else ""
        log.info("alerts%s: %d route(s), worker %s", where, len(self.config.alerts.routes), self.worker.consumer)
        if self.workspace is not None:
            with contextlib.suppress(RedisError, OSError):  # the store away: the worker says so
                await self.workspace.problem()  # logs where alerts go, or why they wait

    async def sync_webhooks(self, public_url: str) -> dict[str, str]:
        """Register phonebot's webhooks with every vendor that has an API for it; a summary per vendor.

        One sync at a time across replicas and ``phonebot webhooks sync`` (a lock in the store): two
        replicas starting together would otherwise both find nothing recorded and both subscribe.
        """
        async with self._webhook_lock():
            return await self._each_url_token_vendor(
                public_url, lambda adapter, url, calls: adapter.subscribe_webhooks(url, include_call_events=calls)
            )

    async def prune_webhooks(self, public_url: str, *, everything: bool = False) -> dict[str, str]:
        """Remove phonebot's own stale webhook subscriptions (by the ids it recorded); a summary per vendor."""
        async with self._webhook_lock():
            return await self._each_url_token_vendor(
                public_url,
                lambda adapter, url, calls: adapter.prune_webhooks(
                    url, include_call_events=calls, everything=everything
                ),
            )

    @contextlib.asynccontextmanager
    async def _webhook_lock(self) -> AsyncIterator[None]:
        """Hold the scope's ``phonebot:webhooks:sync-lock`` (waiting up to its lifetime for another holder)."""
        token = secrets.token_hex(8)
        deadline = time.monotonic() + WEBHOOK_LOCK_SECONDS
        while not await self.store.set_if_absent(WEBHOOK_LOCK_KEY, token, ttl=WEBHOOK_LOCK_SECONDS):
            if time.monotonic() > deadline:  # a holder that died keeps it no longer than its TTL
                log.warning("webhook sync: another sync held the lock for %d s; going ahead", WEBHOOK_LOCK_SECONDS)
                break
            await asyncio.sleep(0.2)
        try:
            yield
        finally:
            with contextlib.suppress(RedisError, OSError):
                if await self.store.get(WEBHOOK_LOCK_KEY) == token:
                    await self.store.delete(WEBHOOK_LOCK_KEY)

    async def webhook_url(self, public_url: str, vendor: str) -> str:
        """The callback URL ``sync`` gives ``vendor`` (``{event}`` stands for the event name)."""
        tokens = await self._tokens()
        base = public_url.rstrip("/") + self.path_prefix
        return f"{base}/webhooks/{vendor}/{tokens.token_for(vendor, 'account')}/{{event}}"

    @property
    def wants_call_events(self) -> bool:
        """True when a route asks for ``call`` events, so the call feed is subscribed too."""
        return any("call" in route.kinds for route in self.config.alerts.routes)

    async def _tokens(self) -> UrlTokens:
        if self.tokens is None:
            secret = self.settings.phonebot_webhook_secret
            self.tokens = await UrlTokens.load(
                self.store, secret.get_secret_value() if secret else None, scope=self.scope
            )
        return self.tokens

    async def _each_url_token_vendor(
        self, public_url: str, act: Callable[[VendorAdapter, str, bool], Awaitable[str]]
    ) -> dict[str, str]:
        results: dict[str, str] = {}
        for name, adapter in self.adapters.items():
            if adapter.webhook_auth != "url_token":
                continue
            try:
                results[name] = await act(adapter, await self.webhook_url(public_url, name), self.wants_call_events)
            except NotSupported:
                continue
            except VendorError as exc:
                results[name] = f"failed: {exc.message}"
        return results

    async def _sync_at_startup(self, public_url: str) -> None:
        # A vendor's refusal is reported per vendor; anything else is the supervisor's (retried with backoff).
        results = await self.sync_webhooks(public_url)
        for vendor, summary in results.items():
            log.info("webhooks for %s: %s", vendor, summary)
        self.startup_sync = results

    # -- health -----------------------------------------------------------------------------
    async def queue_stats(self) -> QueueStats:
        """Depth and oldest age of the alert queue, also set on the queue gauges."""
        stats = await self.queue.stats()
        if self.label:
            ALERT_WORKSPACE_QUEUE_DEPTH.labels(self.label).set(stats.depth)
            ALERT_WORKSPACE_OLDEST_PENDING.labels(self.label).set(stats.oldest_age_seconds)
        else:
            ALERT_QUEUE_DEPTH.set(stats.depth)
            ALERT_OLDEST_PENDING.set(stats.oldest_age_seconds)
        return stats

    async def worker_problem(self) -> str | None:
        """``/readyz`` check: ``None`` while the worker runs (or is not meant to run in this process)."""
        if not self.supervisor.supervised(WORKER_TASK) or self.supervisor.running(WORKER_TASK):
            return None
        return "not running (restarting after a crash)" if not self._stop.is_set() else "stopped"

    async def workspace_problem(self) -> str | None:
        """``/readyz``: why alerts can't be posted ("Add to Slack" with no installation to post with), or ``None``."""
        return None if self.workspace is None else await self.workspace.problem()

    async def queue_problem(self) -> str | None:
        """``/readyz`` check: ``None`` unless an alert has waited longer than ``ready_max_pending_age_seconds``."""
        limit = self.config.alerts.delivery.ready_max_pending_age_seconds
        stats = await self.queue_stats()
        if stats.oldest_age_seconds > limit:
            waiting = f"oldest of {stats.depth} undelivered alert(s) waiting {stats.oldest_age_seconds:.0f} s"
            why = await self.workspace_problem()
            return f"{waiting}: {why}" if why else waiting
        return None

    async def _refresh_gauges(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(RedisError, OSError):  # Redis away: the worker says so; try again
                await self.queue_stats()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=QUEUE_GAUGE_SECONDS)

    async def serve_voicemail(self, request: Request) -> Response:
        """``GET /voicemails/{vendor}/{token}``: see :mod:`bot.alerts.listen`."""
        if self.listen is None:
            return JSONResponse({"ok": False, "error": "not ready"}, status_code=503)
        return await self.listen.serve(request)

    async def stop(self) -> None:
        """Stop every task: an idle worker at once, a busy one after its batch; the poller returns its leases."""
        await self.supervisor.stop(cancel=[] if self.worker.busy else [WORKER_TASK], timeout=5)
        if self.label:
            with contextlib.suppress(KeyError):
                ALERT_WORKSPACE_QUEUE_DEPTH.remove(self.label)
                ALERT_WORKSPACE_OLDEST_PENDING.remove(self.label)

"""With "Add to Slack": one alert pipeline per installed workspace that set alerts up in Slack.

Each workspace whose Slack setup names vendors and alert routes (or queue thresholds) gets an
:class:`~bot.alerts.service.AlertService` of its own, built from its
:class:`~bot.workspaces.context.WorkspaceContext`: its own adapters, its routes, every key under its
scope (``ws:<E|->:<T|->:``, which an uninstall deletes whole) and posts made with *its*
installation's bot token only. Its vendors call ``/w/<workspace id>/webhooks/<vendor>/…`` (the id
is URL-safe: ``T123``, ``E1-T2``, ``E1`` for an org-wide install); an unknown or uninstalled
workspace, or a vendor it has not set up, is a 404 with nothing stored. URL tokens are keyed per
workspace (:meth:`bot.webhook_auth.UrlTokens.load`), so one workspace's URL can't post into another.

What the YAML file configures (its vendors and routes) stays the deployment's own pipeline
(``runtime.alerts``, scope ``""``, ``/webhooks/<vendor>``), posted in the workspace ``SLACK_TEAM_ID``
names or the only one, as before: the file's alerts are never copied into every workspace.

One supervised task reconciles every ``reconcile_seconds``: it starts pipelines for newly set-up
workspaces, restarts one whose context version changed (its settings were saved), and stops those
no longer installed or set up. :meth:`AlertPipelines.forget` stops one at once on ``app_uninstalled``.

Bounds: at most ``PHONEBOT_MAX_ALERT_WORKSPACES`` pipelines per process (beyond it the rest wait,
with a warning and a ``/readyz`` advisory). Each running worker holds one connection of the alert
Redis pool in its blocking read, so the runtime sizes that pool one connection per pipeline larger.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from adapters.base import VendorAdapter
from bot.alerts.queue import AlertQueue
from bot.alerts.service import AlertService
from bot.alerts.thresholds import thresholds_for
from bot.config import PhonebotConfig, Settings
from bot.installs.directory import InstalledWorkspaces, SingleWorkspace
from bot.installs.scope_drift import ScopeDriftLog, ScopeDriftWatcher
from bot.installs.workspace import NotASlackId, WorkspaceKey
from bot.logs import bind_here
from bot.metrics import ALERT_PIPELINES
from bot.slack_http import SlackSession
from bot.store import Store
from bot.supervisor import Supervisor
from bot.webhooks import WebhookRouter
from bot.workspaces.context import WorkspaceContext, WorkspaceContexts

log = logging.getLogger(__name__)

RECONCILE_TASK = "alert-pipelines"
_PATH_ID = re.compile(r"^(?:(E[A-Z0-9]{1,20})(?:-(T[A-Z0-9]{1,20}))?|(T[A-Z0-9]{1,20}))$")


def path_id(key: WorkspaceKey) -> str:
    """``key`` as a URL path segment: ``T123``, ``E1-T2`` (a workspace of an org), ``E1`` (an org-wide install)."""
    if key.enterprise_id and key.team_id:
        return f"{key.enterprise_id}-{key.team_id}"
    return key.team_id or key.enterprise_id or "-"


def key_of_path_id(text: str) -> WorkspaceKey | None:
    """The workspace a path segment names, or ``None`` when it names none."""
    match = _PATH_ID.match(text)
    if match is None:
        return None
    enterprise, team_of_org, team = match.groups()
    try:
        return WorkspaceKey(enterprise, team_of_org) if enterprise else WorkspaceKey(None, team)
    except NotASlackId:
        return None


@dataclass(frozen=True)
class WorkspaceAlerts:
    """What of a workspace's context its own pipeline runs: the vendors, routes and thresholds set up in Slack."""

    config: PhonebotConfig
    adapters: dict[str, VendorAdapter]

    @property
    def wanted(self) -> bool:
        """Something to alert about (a vendor) and somewhere to say it (a route, or a queue threshold)."""
        alerts = self.config.alerts
        thresholds = any(thresholds_for(alerts.queue_thresholds, name) for name in self.adapters)
        return bool(self.adapters) and (bool(alerts.routes) or thresholds)


def workspace_alerts(context: WorkspaceContext, file_adapters: frozenset[str]) -> WorkspaceAlerts:
    """The parts of ``context`` that are the workspace's own (the file's are the deployment pipeline's)."""
    effective = context.effective
    config = effective.config
    alerts = config.alerts.model_copy(
        update={
            "routes": list(config.alerts.routes[effective.file_routes :]),
            "queue_thresholds": list(config.alerts.queue_thresholds[effective.file_thresholds :]),
        }
    )
    own = {name: adapter for name, adapter in context.adapters.items() if name not in file_adapters}
    vendors = {name: cfg for name, cfg in config.vendors.items() if name in own}
    return WorkspaceAlerts(config=config.model_copy(update={"alerts": alerts, "vendors": vendors}), adapters=own)


@dataclass
class _Pipeline:
    service: AlertService
    router: WebhookRouter
    version: int


#: Makes (but does not start) the pipeline of one workspace.
PipelineFactory = Callable[[WorkspaceKey, WorkspaceContext, WorkspaceAlerts], AlertService]


class AlertPipelines:
    """Runs, reconciles and routes to the per-workspace alert pipelines of this process.

    Args:
        contexts: every workspace's context (config, adapters, scope), rebuilt when its settings change.
        workspaces: the "Add to Slack" installations (which exist; each pipeline's bot token).
        settings: the process settings (public URL, webhook secret, ``PHONEBOT_MAX_ALERT_WORKSPACES``).
        store: the alert pipeline's store (its own Redis pool); each pipeline sees it through its scope.
        redis: that pool's client (streams, locks, pacing).
        slack_base_url: the Slack Web API the pipelines post to.
    """

    def __init__(
        self,
        contexts: WorkspaceContexts,
        workspaces: InstalledWorkspaces,
        *,
        settings: Settings,
        store: Store,
        redis: aioredis.Redis,
        slack_base_url: str,
        slack_session: SlackSession | None = None,
        reconcile_seconds: float = 3.0,
        make: PipelineFactory | None = None,
        drift: ScopeDriftLog | None = None,
    ) -> None:
        self.contexts = contexts
        self.workspaces = workspaces
        self.settings = settings
        self.store = store
        self.redis = redis
        self.slack_base_url = slack_base_url
        self.slack_session = slack_session
        self.reconcile_seconds = reconcile_seconds
        self.max_pipelines = settings.phonebot_max_alert_workspaces
        self.make = make or self._make
        self.drift = drift
        self.running: dict[WorkspaceKey, _Pipeline] = {}
        #: Workspaces set up for alerts that could not get a pipeline (over the limit), at the last reconcile.
        self.waiting = 0
        self._file_adapters = frozenset(contexts.base_adapters)
        self._lock = asyncio.Lock()
        self._stop = asyncio.Event()
        self.supervisor = Supervisor(self._stop)

    # -- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        """Start the pipelines of the workspaces set up now, then reconcile in the background."""
        with contextlib.suppress(RedisError, OSError):  # the store away: the loop tries again
            await self.reconcile()
        self.supervisor.start(RECONCILE_TASK, self._reconcile_forever)

    async def stop(self) -> None:
        """Stop the reconciling and every pipeline."""
        await self.supervisor.stop(cancel=[RECONCILE_TASK], timeout=5)
        async with self._lock:
            running, self.running = self.running, {}
            await asyncio.gather(*(pipeline.service.stop() for pipeline in running.values()))
            ALERT_PIPELINES.set(0)

    async def forget(self, key: WorkspaceKey) -> None:
        """``key`` was uninstalled: stop its pipeline now and delete what it wrote while it stopped."""
        async with self._lock:
            pipeline = self.running.pop(key, None)
            if pipeline is not None:
                await pipeline.service.stop()
                log.info("alerts for %s stopped: uninstalled", key.describe())
            ALERT_PIPELINES.set(len(self.running))
        self.contexts.forget(key)
        await self.store.delete_prefix(key.data_prefix)  # a poll or a post finishing after the first delete

    async def _reconcile_forever(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.reconcile_seconds)
            if self._stop.is_set():
                return
            try:
                await self.reconcile()
            except (RedisError, OSError) as exc:  # the store away: the running pipelines carry on
                log.warning("alert pipelines not reconciled: store unavailable (%s)", type(exc).__name__)

    async def reconcile(self) -> None:
        """Start, restart and stop pipelines so each set-up installed workspace has exactly one."""
        async with self._lock:
            installed = await self.workspaces.installed(limit=self.max_pipelines * 2 + 10)
            set_up: dict[WorkspaceKey, tuple[WorkspaceContext, WorkspaceAlerts]] = {}
            for key in installed:
                context = await self.contexts.get(key)
                own = workspace_alerts(context, self._file_adapters)
                if own.wanted:
                    set_up[key] = (context, own)
            # Those running keep their place; newcomers take what is left of the limit.
            order = [key for key in set_up if key in self.running] + [key for key in set_up if key not in self.running]
            wanted = {key: set_up[key] for key in order[: self.max_pipelines]}
            over = len(set_up) - len(wanted)
            if over and over != self.waiting:
                log.warning(
                    "alerts: %d workspace(s) set up beyond PHONEBOT_MAX_ALERT_WORKSPACES=%d get no pipeline here",
                    over,
                    self.max_pipelines,
                )
            self.waiting = over
            for key in [key for key in self.running if key not in wanted]:
                await self.running.pop(key).service.stop()
                log.info("alerts for %s stopped: no longer installed or set up", key.describe())
            for key, (context, own) in wanted.items():
                current = self.running.get(key)
                if current is not None and current.version == context.version:
                    continue
                try:
                    if current is not None:  # in place: its worker carries on with the entries it held
                        await current.service.reload(own.config, own.adapters)
                        current.version = context.version
                        log.info("alerts for %s reloaded: its settings changed", key.describe())
                    else:
                        self.running[key] = await self._start(key, context, own)
                except Exception as exc:  # one workspace's failure must not hold the others up: tried next round
                    log.error("alerts for %s not started (%s); trying again", key.describe(), type(exc).__name__)
            ALERT_PIPELINES.set(len(self.running))

    async def _start(self, key: WorkspaceKey, context: WorkspaceContext, own: WorkspaceAlerts) -> _Pipeline:
        service = self.make(key, context, own)
        router = WebhookRouter()
        try:
            await service.start(router)
        except BaseException:
            await service.stop()
            raise
        return _Pipeline(service=service, router=router, version=context.version)

    def _make(self, key: WorkspaceKey, context: WorkspaceContext, own: WorkspaceAlerts) -> AlertService:
        label = path_id(key)
        service = AlertService(
            self.settings,
            own.config,
            self.store,
            self.redis,
            own.adapters,
            self.slack_base_url,
            slack_session=self.slack_session,
            workspaces=self.workspaces,
            scope=context.scope,
            workspace=key,
            path_prefix=f"/w/{label}",
            label=label,
        )
        if self.drift is not None and service.slack.retry_handlers is not None:  # its missing scopes, for it

            async def workspace() -> WorkspaceKey:
                return key

            service.slack.retry_handlers.append(ScopeDriftWatcher(self.drift, workspace))
        return service

    def queue_for(self, key: WorkspaceKey | None, vendor: str | None = None) -> AlertQueue | None:
        """The queue of ``key``'s own pipeline (if it shows ``vendor``'s alerts, when given), else ``None``."""
        found = self.running.get(key) if key is not None else None
        if found is None or (vendor is not None and vendor not in found.service.adapters):
            return None
        return found.service.queue

    # -- HTTP ---------------------------------------------------------------------------------
    def pipeline(self, request: Request) -> AlertService | None:
        """The running pipeline of the workspace the request's path names."""
        found = self._find(request)
        return found.service if found is not None else None

    def _find(self, request: Request) -> _Pipeline | None:
        key = key_of_path_id(str(request.path_params.get("workspace", "")))
        return self.running.get(key) if key is not None else None

    async def dispatch(self, request: Request) -> Response:
        """``/w/{workspace}/webhooks/{vendor}/…``: to that workspace's receiver; 404 for none (nothing stored)."""
        found = self._find(request)
        if found is None:
            return JSONResponse({"ok": False, "error": "no such workspace receives alerts here"}, status_code=404)
        bind_here(team=str(request.path_params.get("workspace", "")))
        return await found.router.dispatch(request)

    async def serve_voicemail(self, request: Request) -> Response:
        """``/w/{workspace}/voicemails/{vendor}/{token}``: that workspace's Listen links."""
        found = self._find(request)
        if found is None:
            return JSONResponse({"ok": False, "error": "not found"}, status_code=404)
        return await found.service.serve_voicemail(request)

    # -- health ---------------------------------------------------------------------------------
    async def worker_problem(self) -> str | None:
        """``/readyz``: the workspaces whose alert worker is not running (named by id), or ``None``."""
        return await self._each("worker", lambda service: service.worker_problem())

    async def queue_problem(self) -> str | None:
        """``/readyz`` advisory: the workspaces whose alerts wait too long, and why, or ``None``."""
        return await self._each("queue", lambda service: service.queue_problem())

    async def capacity_problem(self) -> str | None:
        """``/readyz`` advisory: workspaces set up for alerts that this process runs no pipeline for."""
        if not self.waiting:
            return None
        return (
            f"{self.waiting} workspace(s) set up for alerts beyond PHONEBOT_MAX_ALERT_WORKSPACES="
            f"{self.max_pipelines}: their alerts are not polled or posted by this process"
        )

    async def _each(self, what: str, check: Callable[[AlertService], Awaitable[str | None]]) -> str | None:
        problems: list[str] = []
        for key, pipeline in list(self.running.items()):
            try:
                problem = await check(pipeline.service)
            except (RedisError, OSError) as exc:
                problem = f"{what} check failed ({type(exc).__name__})"
            if problem:
                problems.append(f"{path_id(key)}: {problem}")
        if not problems:
            return None
        shown = "; ".join(problems[:5])
        return shown + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")


def build_pipelines(
    settings: Settings,
    contexts: WorkspaceContexts | None,
    workspaces: object,
    *,
    store: Store,
    redis: aioredis.Redis,
    slack_base_url: str,
    slack_session: SlackSession | None = None,
    drift: ScopeDriftLog | None = None,
) -> AlertPipelines | None:
    """The per-workspace pipelines with "Add to Slack" (``None`` otherwise: the one pipeline is all)."""
    if contexts is None or not settings.oauth or not isinstance(workspaces, InstalledWorkspaces):
        return None
    return AlertPipelines(
        contexts,
        workspaces,
        settings=settings,
        store=store,
        redis=redis,
        slack_base_url=slack_base_url,
        slack_session=slack_session,
        drift=drift,
    )


class FollowedPipeline:
    """Single-workspace mode: the deployment's one pipeline (scope ``""``) runs its workspace's context — the
    file with what its admins set up in Slack — and is reloaded when that workspace's settings change.

    ``key`` names the workspace (``SLACK_BOT_TOKEN``'s, asked of Slack once); with none yet, the file alone.
    """

    def __init__(
        self,
        service: AlertService,
        contexts: WorkspaceContexts,
        key: Callable[[], Awaitable[WorkspaceKey | None]],
        *,
        check_seconds: float = 3.0,
    ) -> None:
        self.service = service
        self.contexts = contexts
        self.key = key
        self.check_seconds = check_seconds
        #: The settings version the pipeline runs (0: the file alone, as it was built).
        self.version = 0
        self._stop = asyncio.Event()
        self.supervisor = Supervisor(self._stop)

    async def start(self) -> None:
        """Catch up with the workspace's settings now, then keep following them in the background."""
        with contextlib.suppress(RedisError, OSError):
            await self.follow()
        self.supervisor.start("alert-settings", self._follow_forever)

    async def stop(self) -> None:
        await self.supervisor.stop(cancel=["alert-settings"], timeout=5)

    async def follow(self) -> None:
        """Reload the pipeline if the workspace's settings changed since it was (re)built."""
        context = await self.contexts.get(await self.key())
        if context.version == self.version:
            return
        log.info("alerts follow the workspace's saved settings (version %d)", context.version)
        await self.service.reload(context.config, dict(context.adapters))
        self.version = context.version

    async def _follow_forever(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.check_seconds)
            if self._stop.is_set():
                return
            try:
                await self.follow()
            except (RedisError, OSError) as exc:
                log.warning("alert settings not checked: store unavailable (%s)", type(exc).__name__)


def follow_settings(
    settings: Settings, contexts: WorkspaceContexts | None, service: AlertService, workspaces: object
) -> FollowedPipeline | None:
    """The single-workspace pipeline following its workspace's settings (``None`` with "Add to Slack", or
    where nothing can be set up in Slack: no ``PHONEBOT_SECRET_KEY``)."""
    if settings.oauth or contexts is None or contexts.settings is None or not isinstance(workspaces, SingleWorkspace):
        return None
    return FollowedPipeline(service, contexts, workspaces.current_key)

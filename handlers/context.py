"""Everything a handler needs, built once at startup and passed in (no globals)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.base import VendorAdapter
from bot.alerts.queue import AlertKeys, AlertQueue, WorkspaceQueues
from bot.commands.deferred import CommandQueue
from bot.config import PhonebotConfig
from bot.home_refresh import HomeRefresher
from bot.identity import IdentityResolver
from bot.installs.scope_drift import ScopeDriftLog
from bot.installs.workspace import WorkspaceKey
from bot.permissions import AdminPolicy
from bot.slack_users import SlackUser, SlackUserDirectory
from bot.status_sync.flow import SlackStatusFlow
from bot.status_sync.pacing import PacedSync
from bot.status_sync.sync import StatusSync
from bot.store import Store
from bot.workspaces.context import WorkspaceContexts
from bot.workspaces.effective import EffectiveConfig
from bot.workspaces.settings import WorkspaceSettingsStore
from handlers.limits import WorkLimiter


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    """The handlers' dependencies."""

    config: PhonebotConfig
    adapters: dict[str, VendorAdapter]
    store: Store
    users: SlackUserDirectory
    identities: IdentityResolver
    clock: Callable[[], datetime] = field(default=utc_now)
    #: Bounds the vendor work done after acks, per process (``max_concurrent_work``).
    work: WorkLimiter = field(default_factory=WorkLimiter)
    #: What only admins may do (``admins:``); without one, nobody is an admin.
    permissions: AdminPolicy = field(default_factory=lambda: AdminPolicy(()))
    #: The alert pipeline's queue (its dead letters), where one runs (not in ``phonebot console``).
    alert_queue: AlertQueue | None = None
    #: "Add to Slack": a workspace's own alert pipeline's queue, which :meth:`for_request` puts in ``alert_queue``.
    alert_queues: WorkspaceQueues | None = None
    #: ``missing_scope`` answers per installation (shown on the App Home), where Slack is served.
    scope_drift: ScopeDriftLog | None = None
    #: How an admin grants a missing Slack scope (mrkdwn), for the App Home banner.
    reinstall_hint: str = ""
    #: Where acked slash commands wait for a command worker; ``None``: their work runs in the acking process.
    commands: CommandQueue | None = None
    #: The installation the current request is for (set by :meth:`for_request`).
    workspace: WorkspaceKey | None = None
    #: Where admins' setup from Slack is kept (needs ``PHONEBOT_SECRET_KEY``: it holds vendor credentials).
    settings: WorkspaceSettingsStore | None = None
    #: The request's workspace config and where each part came from (``config`` is its ``.config``).
    effective: EffectiveConfig | None = None
    #: Each workspace's context (config, adapters, key scope); ``None``: these services' own, for every request.
    contexts: WorkspaceContexts | None = None
    #: People's Slack status following their phone presence, and its Connect pages (needs per-person OAuth).
    status_sync: StatusSync | None = None
    status_flow: SlackStatusFlow | None = None
    #: Publishes a person's App Home again when what it shows changed (debounced), where Slack is served.
    home: HomeRefresher | None = None
    #: The Slack client of the current request's installation (set by :meth:`for_request`).
    slack: AsyncWebClient | None = None
    #: ``status_sync``'s set and clear paths paced per workspace (with Redis); ``None``: unpaced.
    status_paced: PacedSync | None = None

    def for_request(self, client: AsyncWebClient, workspace: WorkspaceKey | None) -> Services:
        """These services acting for one Slack request: Slack calls with ``client`` (the request's installation
        token), Slack profiles cached under ``workspace``."""
        users = self.users.bound(client, workspace)
        prefix = workspace.data_prefix if workspace is not None else None
        identities = self.identities.with_users(users, key_prefix=prefix)
        own = self.alert_queues(workspace, None) if self.alert_queues is not None else None
        alert_queue = own or self.alert_queue
        return replace(
            self, users=users, identities=identities, workspace=workspace, alert_queue=alert_queue, slack=client
        )

    async def for_workspace(
        self, client: AsyncWebClient, workspace: WorkspaceKey | None, *, user_id: str | None = None
    ) -> Services:
        """These services acting for ``user_id``'s request in ``workspace``: its config and adapters (the file's
        with what its admins set up), its store scope, its admins, Slack calls with ``client``."""
        bound = self.for_request(client, workspace)
        if self.contexts is None:
            return bound
        context = await self.contexts.get(workspace)
        permissions = AdminPolicy.from_config(context.config)
        alert_queue = bound.alert_queue
        if not context.has_file:  # a workspace of its own ("Add to Slack"): its Slack admins are phonebot's
            alert_queue = _own_alert_queue(self, workspace, context.scope)
            permissions = AdminPolicy.of_slack_admins(
                user_id if user_id and await _slack_admin(bound, user_id) else None
            )
        return replace(
            bound,
            config=context.config,
            adapters=dict(context.adapters),
            store=context.store,
            effective=context.effective,
            identities=bound.identities.with_config(context.config, context.adapters),
            permissions=permissions,
            alert_queue=alert_queue,
        )

    def tz_for(self, user: SlackUser | None) -> ZoneInfo:
        """The user's own Slack time zone, else the configured default."""
        if user is not None and user.tz:
            try:
                return ZoneInfo(user.tz)
            except (ZoneInfoNotFoundError, ValueError):
                pass
        return self.config.tz


async def _slack_admin(services: Services, user_id: str) -> bool:
    """Whether Slack says ``user_id`` is an admin or owner of the request's workspace (``users.info``, cached)."""
    try:
        user = await services.users.get(user_id)
    except SlackApiError:
        return False  # can't tell now: not an admin for this request
    return user is not None and user.is_admin


def _own_alert_queue(services: Services, workspace: WorkspaceKey | None, scope: str) -> AlertQueue | None:
    """A workspace's own alert queue (its pipeline's keys, read straight from Redis when this process runs no
    pipeline for it, e.g. a command worker) — never the deployment's, which holds the file's workspace's alerts."""
    own = services.alert_queues(workspace, None) if services.alert_queues is not None else None
    if own is not None:
        return own
    if services.alert_queue is None or not scope:
        return None
    return AlertQueue(services.alert_queue.redis, AlertKeys.scoped(scope))

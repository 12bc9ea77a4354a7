"""Build the running pieces (store, adapters, Slack client, Bolt app) from settings and config."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import cast

import httpx
from pydantic import SecretStr
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.base import VendorAdapter
from adapters.redaction import SECRETS, install_log_redaction
from adapters.registry import build_adapter
from bot.alerts.pipelines import AlertPipelines, FollowedPipeline, build_pipelines, follow_settings
from bot.alerts.queue import AlertQueue
from bot.alerts.service import AlertService
from bot.alerts.slack_token import AlertWorkspace
from bot.commands.queue import RedisCommandQueue
from bot.commands.runner import CommandRunner
from bot.commands.service import CommandService
from bot.commands.worker import CommandWorker
from bot.config import PhonebotConfig, Settings
from bot.home_refresh import HomeRefresher
from bot.identity import IdentityResolver
from bot.installation import InstallationGuard
from bot.installs.authorize import PhonebotAuthorize
from bot.installs.directory import InstalledWorkspaces, SingleWorkspace, Workspaces
from bot.installs.forget import WorkspaceForgetter
from bot.installs.oauth import INSTALL_PATH, STATE_SECONDS, PhonebotOAuthFlow, build_oauth_flow
from bot.installs.records import StoreInstallationStore, StoreOAuthStateStore
from bot.installs.scope_drift import ScopeDriftLog, ScopeDriftWatcher
from bot.installs.workspace import NotASlackId, WorkspaceKey
from bot.linking.links import AccountLinks
from bot.linking.relatel_flow import RelatelLinkFlow
from bot.permissions import AdminPolicy
from bot.preflight import NO_SECRET_KEY
from bot.secret_box import SecretBox, SecretKeyError
from bot.slack_http import SlackSession
from bot.slack_users import SlackUserDirectory, WebApiUserDirectory
from bot.status_sync.build import build_restorer, build_status_sync
from bot.status_sync.due import DueRestorer
from bot.status_sync.pacing import PacedSync
from bot.status_sync.poller import PresencePoller
from bot.store import RedisStore, Store, open_store
from bot.store.redis import RedisPools
from bot.workspaces.build import build_contexts
from bot.workspaces.context import WorkspaceContexts
from bot.workspaces.settings import WorkspaceSettingsStore
from handlers.alert_actions import AlertActions
from handlers.bolt import installation_middleware, register, register_alert_actions, register_digest_actions
from handlers.context import Services
from handlers.digest_modal import DigestBrowser
from handlers.installs import register_install_events
from handlers.limits import WorkLimiter
from handlers.status_background import WorkspaceBots

log = logging.getLogger(__name__)

DEFAULT_SLACK_API_URL = "https://slack.com/api/"


def build_adapters(
    config: PhonebotConfig, *, transport: httpx.AsyncBaseTransport | None = None
) -> dict[str, VendorAdapter]:
    """One adapter per configured vendor."""
    SECRETS.add_from(config)  # every vendor credential and per-user token is masked wherever it shows up
    return {name: build_adapter(name, cfg, transport=transport) for name, cfg in config.vendors.items()}


def build_slack_client(
    settings: Settings, session: SlackSession | None = None, *, team_id: str | None = None
) -> AsyncWebClient:
    """The Web API client: honours 429 Retry-After, retries 5xx and connection errors a few times.

    With ``session`` every call reuses the process's shared Slack connections; ``team_id`` names the
    workspace an org-wide token acts in (as Bolt's per-request clients do).
    """
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    make = session.web_client if session is not None else AsyncWebClient
    return make(
        token=token,
        base_url=settings.slack_api_url or DEFAULT_SLACK_API_URL,
        timeout=10,
        team_id=team_id,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


@dataclass
class Runtime:
    """Everything ``phonebot serve`` runs with."""

    settings: Settings
    config: PhonebotConfig
    store: Store
    adapters: dict[str, VendorAdapter]
    slack: AsyncWebClient
    slack_session: SlackSession
    services: Services
    app: AsyncApp
    alerts: AlertService
    installs: Installations
    #: With Redis: the queue slash commands' work waits in, and its workers.
    commands: CommandService | None = None
    #: "Add to Slack": the alert pipelines of the workspaces that set alerts up in Slack.
    pipelines: AlertPipelines | None = None
    #: Single workspace with ``PHONEBOT_SECRET_KEY``: keeps ``alerts`` on the workspace's saved settings.
    follower: FollowedPipeline | None = None
    #: Puts people's own Slack statuses back as phonebot's end (status sync with Redis).
    status_restorer: DueRestorer | None = None
    #: Publishes people's App Homes again when what they show changed (debounced).
    home: HomeRefresher | None = None
    #: Shows presence changed in the phone system's own app in Slack (status sync with Redis).
    presence_poller: PresencePoller | None = None

    async def aclose(self) -> None:
        if self.home is not None:
            await self.home.stop()
        if self.services.status_paced is not None:
            await self.services.status_paced.stop()
        if self.presence_poller is not None:
            await self.presence_poller.stop()
        if self.status_restorer is not None:
            await self.status_restorer.stop()
        if self.commands is not None:
            await self.commands.stop()
        if self.pipelines is not None:
            await self.pipelines.stop()
        if self.follower is not None:
            await self.follower.stop()
        await self.alerts.stop()
        if self.services.contexts is not None:
            await self.services.contexts.aclose()
        for adapter in self.adapters.values():
            await adapter.aclose()
        await self.store.close()
        await self.slack_session.aclose()


def build_services(
    config: PhonebotConfig,
    *,
    store: Store,
    adapters: dict[str, VendorAdapter],
    users: SlackUserDirectory,
    links: AccountLinks | None = None,
) -> Services:
    """The handlers' dependency bundle."""
    identities = IdentityResolver(config=config, adapters=adapters, users=users, store=store, links=links)
    work = WorkLimiter(config.max_concurrent_work, max_wait=config.max_queued_seconds)
    return Services(
        config=config,
        adapters=adapters,
        store=store,
        users=users,
        identities=identities,
        work=work,
        permissions=AdminPolicy.from_config(config),
    )


def redis_pools(settings: Settings) -> RedisPools:
    """The Redis pool sizes and wait from the environment.

    With "Add to Slack" the alert pool has one more connection per workspace pipeline it may run: each
    worker's blocking read holds one (connections are opened only as they are needed).
    """
    per_workspace = settings.phonebot_max_alert_workspaces if settings.oauth else 0
    return RedisPools(
        max_connections=settings.redis_max_connections,
        alerts_max_connections=settings.redis_alerts_max_connections + per_workspace,
        timeout=settings.redis_pool_timeout_seconds,
    )


@dataclass
class Installations:
    """Which workspaces this deployment serves, and what it keeps about them."""

    workspaces: Workspaces
    forgetter: WorkspaceForgetter
    drift: ScopeDriftLog
    #: "Add to Slack" only: the encrypted installation store and the OAuth flow serving /slack/install.
    records: StoreInstallationStore | None = None
    oauth_flow: PhonebotOAuthFlow | None = None
    #: People linking their own vendor accounts (Relatel's OAuth), by vendor name; pages served by ``serve``.
    link_flows: dict[str, RelatelLinkFlow] = field(default_factory=dict)


def build_installations(
    settings: Settings, store: Store, slack: AsyncWebClient, app_client: AsyncWebClient
) -> Installations:
    """The workspaces served: those installed through "Add to Slack" in OAuth mode, else ``SLACK_BOT_TOKEN``'s.

    ``slack`` carries ``SLACK_BOT_TOKEN`` (asking Slack which workspace it is); ``app_client`` none
    (``oauth.v2.access`` authenticates with the client id and secret instead).

    Raises:
        SecretKeyError: OAuth mode without a usable ``PHONEBOT_SECRET_KEY`` (``serve`` refuses first).
    """
    drift = ScopeDriftLog(store)
    forgetter = WorkspaceForgetter(store)
    if not settings.oauth:
        token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
        single = SingleWorkspace(slack, token, team_id=settings.slack_team_id, app_id=settings.slack_app_id)
        return Installations(workspaces=single, forgetter=forgetter, drift=drift)
    if settings.phonebot_secret_key is None:
        raise SecretKeyError(NO_SECRET_KEY)
    records = StoreInstallationStore(store, SecretBox.from_setting(settings.phonebot_secret_key))
    flow = build_oauth_flow(
        settings,
        records=records,
        states=StoreOAuthStateStore(store, expiration_seconds=STATE_SECONDS),
        drift=drift,
        client=app_client,
    )
    return Installations(
        workspaces=InstalledWorkspaces(records), forgetter=forgetter, drift=drift, records=records, oauth_flow=flow
    )


def reinstall_hint(settings: Settings) -> str:
    """How a workspace admin grants a missing Slack scope, in this deployment (mrkdwn for the App Home)."""
    if settings.oauth:
        where = (
            f"<{settings.phonebot_public_url.rstrip('/')}{INSTALL_PATH}|Add to Slack>"
            if settings.phonebot_public_url
            else f"phonebot's `{INSTALL_PATH}` page (at the address Slack reaches phonebot on)"
        )
        return f"open {where} and approve the install again: it asks for every permission phonebot needs."
    return (
        "in <https://api.slack.com/apps|Slack's app settings> open phonebot → *OAuth & Permissions*, check the scope "
        "is listed under *Bot Token Scopes* (`app_manifest.yml` lists them all), then *Reinstall to Workspace*. "
        "If Slack shows a new *Bot User OAuth Token*, put it in `SLACK_BOT_TOKEN` and restart phonebot."
    )


def _slack_and_services(
    settings: Settings, config: PhonebotConfig, store: Store, adapters: dict[str, VendorAdapter], session: SlackSession
) -> tuple[AsyncWebClient, AsyncWebClient, Installations, Services]:
    """The Slack clients, the installations and the handlers' services: the same in a serving process and in a
    command worker process."""
    # With SLACK_BOT_TOKEN (the alert pipeline's token too); Bolt's per-request clients copy it without the token.
    slack = build_slack_client(settings, session)
    # Tokenless: every request's token comes from its installation (PhonebotAuthorize), in both modes.
    app_client = build_slack_client(settings.model_copy(update={"slack_bot_token": None}), session)
    installs = build_installations(settings, store, slack, app_client)
    # People's own tokens are sealed with PHONEBOT_SECRET_KEY; without it, only links without a token are kept.
    box = SecretBox.from_setting(settings.phonebot_secret_key) if settings.phonebot_secret_key else None
    links = AccountLinks(store, box)
    services = build_services(
        config, store=store, adapters=adapters, users=WebApiUserDirectory(slack, store), links=links
    )
    status = build_status_sync(settings, store, box, session, app_client)
    if status is not None:  # people's Slack status follows their presence once they connect it
        services.status_sync, services.status_flow = status
        due = status[0].due
        if due is not None:  # its tokens and saved statuses are under the data prefix; the due set is shared

            async def forget_restores(key: WorkspaceKey) -> None:
                await due.forget_workspace(key.data_prefix)

            installs.forgetter.add_step("Slack status restores", forget_restores)
    if box is not None:  # setup from Slack holds vendor credentials: kept only where they can be sealed
        services.settings = WorkspaceSettingsStore(store, box)
    # With "Add to Slack" the file's phone systems and routes are one workspace's: the one its alerts go to.
    file_home = (
        AlertWorkspace(InstalledWorkspaces(installs.records), team_id=settings.slack_team_id).current_key
        if installs.records is not None
        else None
    )
    services.contexts = build_contexts(settings, config, store, adapters, services.settings, file_workspace=file_home)
    contexts = services.contexts

    async def forget_context(key: WorkspaceKey) -> None:  # its settings went with its data prefix
        contexts.forget(key)

    installs.forgetter.add_step("workspace context (its phone-system adapters)", forget_context)
    flows = relatel_link_flows(settings, store, links, services.contexts)
    services.identities.link_offers = {name: flow.offer for name, flow in flows.items()}
    installs.link_flows = flows
    services.scope_drift = installs.drift
    services.reinstall_hint = reinstall_hint(settings)
    if services.status_sync is not None and isinstance(store, RedisStore):  # bursts wait their turn in Redis
        paced = PacedSync(
            store.client,
            services.status_sync,
            interval=settings.phonebot_status_write_seconds,
            revoked=workspace_bots(settings, services, installs, session).tell_revoked,
        )
        services.status_paced = paced

        async def forget_paced(key: WorkspaceKey) -> None:
            await paced.pending.forget_workspace(key.data_prefix)

        installs.forgetter.add_step("queued Slack status writes", forget_paced)
    return slack, app_client, installs, services


def relatel_link_flows(
    settings: Settings, store: Store, links: AccountLinks, contexts: WorkspaceContexts
) -> dict[str, RelatelLinkFlow]:
    """Self-service linking for Relatel, where phonebot can keep tokens: one flow for every workspace, each using
    its own Relatel vendor's OAuth app (from the file, or set up in Slack).

    Needs ``PHONEBOT_PUBLIC_URL`` (Relatel sends the browser back there) and ``PHONEBOT_SECRET_KEY``
    (people's tokens are sealed with it); without either, people are linked in the config as before.
    """
    if settings.phonebot_public_url is None or links.box is None:
        return {}

    async def adapter_in(prefix: str, vendor: str) -> VendorAdapter | None:
        try:
            key = WorkspaceKey.from_data_prefix(prefix)
        except NotASlackId:
            return None
        return (await contexts.get(key)).adapters.get(vendor)

    flow = RelatelLinkFlow(store=store, links=links, adapters=adapter_in, public_url=settings.phonebot_public_url)
    return {"relatel": flow}


def build_runtime(
    settings: Settings, config: PhonebotConfig, *, store: RedisStore | None = None, alert_slack_url: str | None = None
) -> Runtime:
    """Assemble the app for HTTP or Socket Mode serving.

    ``alert_slack_url``: where the alert pipeline's Slack calls go instead of ``SLACK_API_URL`` (``serve
    --simulate`` without Slack: a local sink, :mod:`bot.alerts.local_slack`).
    """
    install_log_redaction()
    SECRETS.add_from(settings)
    store = store or open_store(settings.redis_url, pools=redis_pools(settings))
    if not store.durable:
        log.warning("REDIS_URL is not set: using the %s", store.description)
    adapters = build_adapters(config)
    slack_session = SlackSession(timeout=config.alerts.delivery.slack_timeout_seconds)
    slack, app_client, installs, services = _slack_and_services(settings, config, store, adapters, slack_session)
    signing_secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    app = AsyncApp(
        client=app_client,
        signing_secret=signing_secret,
        process_before_response=False,
        # Socket Mode has no signatures; HTTP mode always verifies them.
        request_verification_enabled=True,
        raise_error_for_unhandled_request=False,
        before_authorize=installation_middleware(InstallationGuard(installs.workspaces), installs.drift),
        # An AsyncAuthorize instance (Bolt types the argument as a plain callable; it takes both).
        authorize=cast(Callable[..., Awaitable[AuthorizeResult]], PhonebotAuthorize(installs.workspaces)),
        oauth_flow=installs.oauth_flow,
    )
    # The alert pipeline has its own Redis pool: a command burst cannot starve webhook intake or the worker.
    pipeline_store = store.pipeline()
    alerts = AlertService(
        settings,
        config,
        pipeline_store,
        pipeline_store.client,
        adapters,
        alert_slack_url or settings.slack_api_url or DEFAULT_SLACK_API_URL,
        slack_session=slack_session,
        workspaces=installs.workspaces,
    )
    # The alert pipeline's missing scopes are recorded for the installation it posts with.
    alerts_key = installs.workspaces.current_key if isinstance(installs.workspaces, SingleWorkspace) else None
    alerts_key = alerts.workspace.current_key if alerts.workspace is not None else alerts_key
    if alerts_key is not None and alerts.slack.retry_handlers is not None:
        alerts.slack.retry_handlers.append(ScopeDriftWatcher(installs.drift, alerts_key))
    services.alert_queue = alerts.queue
    contexts = services.contexts
    follower = follow_settings(settings, contexts, alerts, installs.workspaces)  # single workspace: its setup
    pipelines = build_pipelines(
        settings,
        contexts,
        installs.workspaces,
        store=pipeline_store,
        redis=pipeline_store.client,
        slack_base_url=settings.slack_api_url or DEFAULT_SLACK_API_URL,
        slack_session=slack_session,
        drift=installs.drift,
    )
    if pipelines is not None:  # an uninstall stops the workspace's alerts at once
        installs.forgetter.add_step("alert pipeline", pipelines.forget)
    commands = None
    if isinstance(store, RedisStore):
        queue = RedisCommandQueue(store.client)
        services.commands = queue
        in_process = None
        if settings.phonebot_command_workers == 0 or not settings.redis_url:  # processes need a Redis to share
            runner = command_runner(settings, services, installs, slack_session)
            in_process = CommandWorker(queue, runner.run, runner.answer_unsure, capacity=worker_capacity(config))
        commands = CommandService(queue, settings, config, in_process=in_process)
    services.home = HomeRefresher(settings.phonebot_home_refresh_seconds)
    register(app, services)
    register_install_events(app, installs.forgetter, records=installs.records)
    queues = pipelines.queue_for if pipelines is not None else None  # a workspace's own alerts: buttons, dead letters
    services.alert_queues = queues
    alert_actions = AlertActions(services, alerts.queue, queues=queues)
    register_alert_actions(app, services, alert_actions)
    register_digest_actions(app, services, DigestBrowser(alerts.queue, queues=queues), alert_actions)
    bots = workspace_bots(settings, services, installs, slack_session)
    return Runtime(
        settings=settings,
        config=config,
        store=store,
        adapters=adapters,
        slack=slack,
        slack_session=slack_session,
        services=services,
        app=app,
        alerts=alerts,
        installs=installs,
        commands=commands,
        pipelines=pipelines,
        follower=follower,
        status_restorer=build_restorer(settings, services.status_sync, bots.tell_revoked),
        home=services.home,
        presence_poller=build_presence_poller(settings, store, services, bots),
    )


def workspace_bots(
    settings: Settings, services: Services, installs: Installations, session: SlackSession
) -> WorkspaceBots:
    """Each workspace's bot, for background tasks acting for it (status sync's poller and DMs)."""

    def client_for(token: str, team_id: str | None) -> AsyncWebClient:
        with_token = settings.model_copy(update={"slack_bot_token": SecretStr(token)})
        return build_slack_client(with_token, session, team_id=team_id)

    return WorkspaceBots(services, installs.workspaces, client_for)


def build_presence_poller(
    settings: Settings, store: Store, services: Services, bots: WorkspaceBots
) -> PresencePoller | None:
    """The task showing phone-side presence changes in Slack (status sync with Redis only)."""
    sync = services.status_sync
    if sync is None or not isinstance(store, RedisStore):
        return None
    return PresencePoller(
        store.client,
        store,
        services.status_paced or sync,
        bots.find_phone,
        interval=settings.phonebot_presence_poll_seconds,
        revoked=bots.tell_revoked,
    )


def worker_capacity(config: PhonebotConfig) -> int:
    """Commands a worker holds at once: every work slot busy and as many waiting for one (told "queued")."""
    return 2 * config.max_concurrent_work


def command_runner(
    settings: Settings, services: Services, installs: Installations, session: SlackSession
) -> CommandRunner:
    """What a command worker does per command, acting with each command's installation token."""

    def client_for(token: str, team_id: str | None) -> AsyncWebClient:
        with_token = settings.model_copy(update={"slack_bot_token": SecretStr(token)})
        return build_slack_client(with_token, session, team_id=team_id)

    return CommandRunner(services, installs.workspaces, session, client_for, drift=installs.drift)


def build_command_worker(
    settings: Settings, config: PhonebotConfig
) -> tuple[CommandWorker, Callable[[], Awaitable[None]]]:
    """A command worker process's parts: its own store connections, vendor clients and Slack session."""
    install_log_redaction()
    SECRETS.add_from(settings)
    store = open_store(settings.redis_url, pools=redis_pools(settings))
    if not isinstance(store, RedisStore):
        raise ValueError("command workers take their work from Redis: REDIS_URL is not set")
    adapters = build_adapters(config)
    session = SlackSession(timeout=config.alerts.delivery.slack_timeout_seconds)
    _, _, installs, services = _slack_and_services(settings, config, store, adapters, session)
    services.alert_queue = AlertQueue(store.pipeline().client)
    runner = command_runner(settings, services, installs, session)
    queue = RedisCommandQueue(store.client)
    worker = CommandWorker(queue, runner.run, runner.answer_unsure, capacity=worker_capacity(config))

    async def aclose() -> None:
        if services.contexts is not None:
            await services.contexts.aclose()
        for adapter in adapters.values():
            await adapter.aclose()
        await store.close()
        await session.aclose()

    return worker, aclose

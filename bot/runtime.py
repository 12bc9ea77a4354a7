"""Build the running pieces (store, adapters, Slack client, Bolt app) from settings and config."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.base import VendorAdapter
from adapters.redaction import SECRETS, install_log_redaction
from adapters.registry import build_adapter
from bot.alerts.service import AlertService
from bot.config import PhonebotConfig, Settings
from bot.identity import IdentityResolver
from bot.installation import InstallationGuard
from bot.permissions import AdminPolicy
from bot.slack_http import SlackSession
from bot.slack_users import SlackUserDirectory, WebApiUserDirectory
from bot.store import RedisStore, Store, open_store
from bot.store.redis import RedisPools
from handlers.alert_actions import AlertActions
from handlers.bolt import register, register_alert_actions, register_digest_actions
from handlers.context import Services
from handlers.digest_modal import DigestBrowser
from handlers.limits import WorkLimiter

log = logging.getLogger(__name__)

DEFAULT_SLACK_API_URL = "https://slack.com/api/"


def build_adapters(
    config: PhonebotConfig, *, transport: httpx.AsyncBaseTransport | None = None
) -> dict[str, VendorAdapter]:
    """One adapter per configured vendor."""
    SECRETS.add_from(config)  # every vendor credential and per-user token is masked wherever it shows up
    return {name: build_adapter(name, cfg, transport=transport) for name, cfg in config.vendors.items()}


def build_slack_client(settings: Settings, session: SlackSession | None = None) -> AsyncWebClient:
    """The Web API client: honours 429 Retry-After, retries 5xx and connection errors a few times.

    With ``session`` every call reuses the process's shared Slack connections.
    """
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    make = session.web_client if session is not None else AsyncWebClient
    return make(
        token=token,
        base_url=settings.slack_api_url or DEFAULT_SLACK_API_URL,
        timeout=10,
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

    async def aclose(self) -> None:
        await self.alerts.stop()
        for adapter in self.adapters.values():
            await adapter.aclose()
        await self.store.close()
        await self.slack_session.aclose()


def build_services(
    config: PhonebotConfig, *, store: Store, adapters: dict[str, VendorAdapter], users: SlackUserDirectory
) -> Services:
    """The handlers' dependency bundle."""
    identities = IdentityResolver(config=config, adapters=adapters, users=users, store=store)
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
    """The Redis pool sizes and wait from the environment."""
    return RedisPools(
        max_connections=settings.redis_max_connections,
        alerts_max_connections=settings.redis_alerts_max_connections,
        timeout=settings.redis_pool_timeout_seconds,
    )


def build_runtime(settings: Settings, config: PhonebotConfig, *, store: RedisStore | None = None) -> Runtime:
    """Assemble the app for HTTP or Socket Mode serving."""
    install_log_redaction()
    SECRETS.add_from(settings)
    store = store or open_store(settings.redis_url, pools=redis_pools(settings))
    if not store.durable:
        log.warning("REDIS_URL is not set: using the %s", store.description)
    adapters = build_adapters(config)
    slack_session = SlackSession(timeout=config.alerts.delivery.slack_timeout_seconds)
    slack = build_slack_client(settings, slack_session)
    services = build_services(config, store=store, adapters=adapters, users=WebApiUserDirectory(slack, store))
    signing_secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    app = AsyncApp(
        client=slack,
        signing_secret=signing_secret,
        process_before_response=False,
        # Socket Mode has no signatures; HTTP mode always verifies them.
        request_verification_enabled=True,
        raise_error_for_unhandled_request=False,
    )
    # The alert pipeline has its own Redis pool: a command burst cannot starve webhook intake or the worker.
    pipeline_store = store.pipeline()
    alerts = AlertService(
        settings,
        config,
        pipeline_store,
        pipeline_store.client,
        adapters,
        settings.slack_api_url or DEFAULT_SLACK_API_URL,
        slack_session=slack_session,
    )
    services.alert_queue = alerts.queue
    register(
        app, services, installation=InstallationGuard(team_id=settings.slack_team_id, app_id=settings.slack_app_id)
    )
    alert_actions = AlertActions(services, alerts.queue)
    register_alert_actions(app, services, alert_actions)
    register_digest_actions(app, services, DigestBrowser(alerts.queue), alert_actions)
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
    )

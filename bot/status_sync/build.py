"""Wire status sync for a deployment: only where phonebot can do Slack OAuth and seal people's tokens."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.installs.oauth import DEFAULT_AUTHORIZE_URL
from bot.secret_box import SecretBox
from bot.slack_http import SlackSession
from bot.status_sync.due import DueRestorer, DueRestores
from bot.status_sync.flow import SlackStatusFlow
from bot.status_sync.poller import Revoked
from bot.status_sync.sync import SLACK_SECONDS, Outcome, StatusSync
from bot.status_sync.tokens import StatusTokens
from bot.store import RedisStore, Store

DEFAULT_SLACK_API_URL = "https://slack.com/api/"


def build_status_sync(
    settings: Settings, store: Store, box: SecretBox | None, session: SlackSession, app_client: AsyncWebClient
) -> tuple[StatusSync, SlackStatusFlow] | None:
    """The sync service and its Connect pages; ``None`` without ``SLACK_CLIENT_ID``/``SECRET`` (no per-person
    OAuth), ``PHONEBOT_PUBLIC_URL`` (Slack sends the browser back there) or ``PHONEBOT_SECRET_KEY``."""
    if not settings.oauth or box is None or settings.phonebot_public_url is None:
        return None
    assert settings.slack_client_id and settings.slack_client_secret
    base_url = settings.slack_api_url or DEFAULT_SLACK_API_URL

    def user_client(token: str) -> AsyncWebClient:
        # One retry on 429 at most: the presence reply waits for this (users.profile.set is Tier 3 per user).
        return session.web_client(
            token=token,
            base_url=base_url,
            timeout=SLACK_SECONDS / 2,
            retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
        )

    tokens = StatusTokens(store, box)
    flow = SlackStatusFlow(
        store=store,
        tokens=tokens,
        client=app_client,
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        authorize_url=settings.slack_authorize_url or DEFAULT_AUTHORIZE_URL,
        public_url=settings.phonebot_public_url,
    )
    due = DueRestores(store.client) if isinstance(store, RedisStore) else None
    return StatusSync(store, tokens, user_client, due), flow


def build_restorer(settings: Settings, sync: StatusSync | None, revoked: Revoked | None = None) -> DueRestorer | None:
    """The task putting people's own statuses back as phonebot's end (run by the serving process); ``revoked``
    tells a person whose token a restore found refused."""
    if sync is None or sync.due is None:
        return None

    async def restore(prefix: str, user: str, at: int, now: datetime) -> Outcome:
        outcome = await sync.restore_if_due(prefix, user, at, now)
        if outcome is Outcome.REVOKED and revoked is not None:
            await revoked(prefix, user)
        return outcome

    return DueRestorer(
        sync.due,
        restore,
        interval=settings.phonebot_status_restore_seconds,
        failed=lambda outcome: outcome is Outcome.FAILED,
    )

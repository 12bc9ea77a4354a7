"""What ``phonebot serve`` (and the other commands) check before they start, as one-line answers.

Each function returns a sentence for the operator, or ``None`` when all is well; ``bot.cli``
prints the refusals and exits non-zero, so a misconfiguration is one clear line, never a
traceback.

* **Durability.** Without ``REDIS_URL`` alerts, dedupe keys and poll cursors live in memory and
  are lost on restart, so ``serve`` refuses unless told ``--embedded-store`` (``--simulate``
  needs nothing). Without Redis *and* without ``PHONEBOT_WEBHOOK_SECRET`` the key of the secret
  webhook URLs would be generated anew at every start, breaking every vendor subscription, so
  that is refused even with ``--embedded-store``.
* **Redis reachable.** :func:`redis_unreachable` pings once with a short-lived client (its own
  event loop, so no connection leaks into the server's).
* **Where alerts go.** :func:`alert_destination` says it in one line at startup.
* **Who the admins are.** :func:`admin_summary` counts ``admins:`` for ``phonebot check``, and warns
  when there is none (then nobody can do what only admins may, see ``bot.permissions``).
"""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bot.config import PhonebotConfig, Settings
from bot.secret_box import GENERATE_KEY, SecretBox, SecretKeyError
from bot.store.redis import redact_url

__all__ = ["admin_summary", "alert_destination", "redis_unreachable", "slack_refusal", "store_refusal"]

NO_REDIS = (
    "REDIS_URL is not set: alerts, dedupe and poll cursors would live in memory and be lost on restart. "
    "Set REDIS_URL, or pass --embedded-store to run without durability."
)
NO_WEBHOOK_SECRET = (
    "without REDIS_URL, PHONEBOT_WEBHOOK_SECRET must be set: otherwise the secret webhook URLs change at every "
    "start and every vendor subscription breaks."
)
NO_SECRET_KEY = (
    'SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set ("Add to Slack"), but PHONEBOT_SECRET_KEY is not: it '
    f"encrypts the Slack tokens phonebot keeps. Generate one with: {GENERATE_KEY}"
)
HALF_OAUTH = (
    '"Add to Slack" needs both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (Slack: Basic Information → App Credentials)'
)
NO_SLACK_TOKEN = (
    'neither SLACK_BOT_TOKEN (one workspace) nor SLACK_CLIENT_ID and SLACK_CLIENT_SECRET ("Add to Slack") is set, '
    "so phonebot could act in no Slack workspace"
)
EMBEDDED_WARNING = (
    "running on the embedded store (--embedded-store): alerts not yet posted, dedupe keys and poll cursors "
    "are lost on restart; /readyz reports store: embedded (not durable)"
)


def store_refusal(settings: Settings, *, simulate: bool, embedded_store: bool) -> str | None:
    """Why ``serve`` must not start with this store choice, or ``None``."""
    if settings.redis_url or simulate:
        return None
    if not embedded_store:
        return NO_REDIS
    if settings.phonebot_webhook_secret is None:
        return NO_WEBHOOK_SECRET
    return None


def slack_refusal(settings: Settings, *, simulate: bool) -> str | None:
    """Why ``serve`` must not start with these Slack credentials, or ``None``.

    "Add to Slack" (both ``SLACK_CLIENT_ID`` and ``SLACK_CLIENT_SECRET``) needs a usable
    ``PHONEBOT_SECRET_KEY``; otherwise a bot token is needed (``--simulate`` brings its own).
    """
    if bool(settings.slack_client_id) != bool(settings.slack_client_secret):
        return HALF_OAUTH
    if settings.oauth:
        if settings.phonebot_secret_key is None:
            return NO_SECRET_KEY
        try:
            SecretBox.from_setting(settings.phonebot_secret_key)
        except SecretKeyError as exc:
            return str(exc)
        return None
    if settings.slack_bot_token is None and not simulate:
        return NO_SLACK_TOKEN
    return None


def redis_unreachable(redis_url: str | None, *, timeout: float = 3.0) -> str | None:
    """``"Redis at redis://… is unreachable (…)"`` when a ``PING`` fails, else ``None`` (also without a URL)."""
    if not redis_url:
        return None
    return asyncio.run(_ping(redis_url, timeout))


async def _ping(redis_url: str, timeout: float) -> str | None:
    where = f"Redis at {redact_url(redis_url)}"
    try:
        client = aioredis.Redis.from_url(redis_url, socket_connect_timeout=timeout, socket_timeout=timeout)
    except ValueError as exc:  # not a redis:// URL at all
        return f"{where} is not a usable Redis URL ({exc})"
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        return f"{where} is unreachable ({type(exc).__name__}: {exc})"
    finally:
        await client.aclose()
    return None


def alert_destination(settings: Settings, config: PhonebotConfig) -> str:
    """One line: the channels alerts are posted to, or why they are posted nowhere."""
    channels = sorted({route.channel for route in config.alerts.routes})
    if not channels:
        return "alerts: no alerts.routes configured, so vendor events are accepted but posted nowhere"
    named = ", ".join(channels)
    via = settings.slack_api_url or "https://slack.com/api/"
    if settings.oauth:
        team = settings.slack_team_id
        where = (
            f"the workspace SLACK_TEAM_ID names ({team})"
            if team
            else 'the one workspace installed through "Add to Slack" (several: they wait until SLACK_TEAM_ID names one)'
        )
        unused = " (SLACK_BOT_TOKEN is not used for them)" if settings.slack_bot_token is not None else ""
        token = f"with its installation's bot token{unused}"
        return f"alerts: posted to Slack channel(s) {named} in {where}, {token}, via {via}"
    if settings.slack_bot_token is None:
        return f"alerts: routed to {named}, but SLACK_BOT_TOKEN is not set, so they cannot be posted"
    return f"alerts: posted to Slack channel(s) {named} via {via}"


def admin_summary(config: PhonebotConfig) -> str:
    """One line for ``phonebot check``: how many phonebot admins there are, or a warning when none."""
    if not config.admins:
        return (
            "admins: WARNING: none listed under admins:, so nobody can resolve or release an alert someone "
            "else claimed, replay dead letters from Slack or act on another person's queues"
        )
    shown = ", ".join(config.admins[:5]) + (f" and {len(config.admins) - 5} more" if len(config.admins) > 5 else "")
    return f"admins: {len(config.admins)} ({shown})"

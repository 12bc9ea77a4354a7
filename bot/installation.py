"""Which Slack workspace and app this deployment serves, so a request for any other is refused.

Bolt verifies the signature, which proves the request came from Slack for *an* app with this
signing secret; it does not prove it is for this workspace and this app. Every request carries
``team_id`` (``team.id``) and ``api_app_id``; they must be the ones the bot token belongs to.
Those are ``SLACK_TEAM_ID`` / ``SLACK_APP_ID`` when set, else asked of Slack once
(``auth.test`` for the team and bot, ``bots.info`` for the app) and kept for the process.
While Slack can't be asked, requests are let through and the check is tried again shortly:
the signature has already been verified, and a Slack outage must not lock users out.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

RETRY_SECONDS = 30.0


class InstallationGuard:
    """Refuses requests whose workspace or app is not the one this bot token belongs to."""

    def __init__(self, *, team_id: str | None = None, app_id: str | None = None) -> None:
        self.team_id = team_id
        self.app_id = app_id
        self._asked = bool(team_id and app_id)
        self._next_try = 0.0

    async def refusal(self, body: Mapping[str, Any], client: AsyncWebClient | None) -> str | None:
        """Why ``body`` is not for this installation, or ``None`` when it is (or can't be told yet)."""
        if not self._asked and client is not None:
            await self._ask(client)
        team, app = request_ids(body)
        if self.team_id and team and team != self.team_id:
            return f"workspace {team[:20]} is not {self.team_id}"
        if self.app_id and app and app != self.app_id:
            return f"app {app[:20]} is not {self.app_id}"
        return None

    async def _ask(self, client: AsyncWebClient) -> None:
        if time.monotonic() < self._next_try:
            return
        try:
            auth = await client.auth_test()
            self.team_id = self.team_id or _text(auth.get("team_id"))
            bot_id = _text(auth.get("bot_id"))
            if not self.app_id and bot_id:
                bot = (await client.bots_info(bot=bot_id)).get("bot") or {}
                self.app_id = _text(bot.get("app_id") if isinstance(bot, dict) else None)
            self._asked = True
        except (SlackApiError, OSError, TimeoutError) as exc:
            self._next_try = time.monotonic() + RETRY_SECONDS
            log.warning("could not ask Slack which workspace and app this is (%s); checking later", type(exc).__name__)


def request_ids(body: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """``(team_id, api_app_id)`` of a slash command, interaction or Events API body."""
    team = body.get("team_id") or _field(body.get("team"), "id") or _field(body.get("user"), "team_id")
    return _text(team), _text(body.get("api_app_id"))


def _field(value: Any, name: str) -> Any:
    return value.get(name) if isinstance(value, dict) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None

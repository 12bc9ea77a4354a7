"""The installed workspaces one deployment serves, and the bot token of each.

Two sources, one interface (:class:`Workspaces`), so the rest of phonebot has one code path:

* :class:`SingleWorkspace` — ``SLACK_BOT_TOKEN``: the one workspace that token belongs to. Its team
  and app are ``SLACK_TEAM_ID`` / ``SLACK_APP_ID`` when set, else asked of Slack once (``auth.test``
  for the team and bot, ``bots.info`` for the app) and kept for the process. While Slack can't be
  asked, every request is taken to be for it (its signature was verified; a Slack outage must not
  lock users out) and asking is tried again shortly.
* :class:`InstalledWorkspaces` — "Add to Slack" (OAuth): every workspace or org whose installation
  is in the installation store; any other is not served.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from slack_bolt.authorization import AuthorizeResult
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.installs.records import StoreInstallationStore
from bot.installs.workspace import NotASlackId, WorkspaceKey

log = logging.getLogger(__name__)

RETRY_SECONDS = 30.0


@dataclass(frozen=True)
class InstalledWorkspace:
    """One installation as a request sees it: who it is, which app, and the bot token to act with."""

    key: WorkspaceKey | None
    """``None`` only while a single workspace's team is not known yet (Slack could not be asked)."""
    app_id: str | None
    bot_token: str = field(repr=False)
    bot_id: str | None = None
    bot_user_id: str | None = None
    bot_scopes: tuple[str, ...] = ()

    def authorize_result(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None
    ) -> AuthorizeResult:
        """What Bolt's authorization step hands the listeners (``context.client`` gets ``bot_token``)."""
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id,
            bot_id=self.bot_id,
            bot_user_id=self.bot_user_id,
            bot_token=self.bot_token,
            bot_scopes=list(self.bot_scopes),
            user_id=user_id,
        )


class Workspaces(Protocol):
    """Finds the installation a request belongs to."""

    #: True for "Add to Slack" installs (then an unknown workspace is simply not installed).
    oauth: bool

    async def find(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool
    ) -> InstalledWorkspace | None:
        """The installation serving this workspace, or ``None`` when phonebot is not installed there."""
        ...


class SingleWorkspace:
    """The one workspace of ``SLACK_BOT_TOKEN``."""

    oauth = False

    def __init__(
        self,
        client: AsyncWebClient,
        token: str | None,
        *,
        team_id: str | None = None,
        app_id: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.token = token
        self.team_id = team_id
        self.app_id = app_id
        self.enterprise_id: str | None = None
        self.bot_id: str | None = None
        self.bot_user_id: str | None = None
        self._asked = False
        self._next_try = 0.0
        self._clock = clock

    @property
    def key(self) -> WorkspaceKey | None:
        """This workspace's key, once its team is known."""
        try:
            return WorkspaceKey(self.enterprise_id, self.team_id) if self.team_id else None
        except NotASlackId:
            return None

    async def current_key(self) -> WorkspaceKey | None:
        """This workspace's key, asking Slack first if it is not known yet (e.g. an alert before any request)."""
        if self.token:
            await self._ask()
        return self.key

    async def find(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool
    ) -> InstalledWorkspace | None:
        if not self.token:  # no SLACK_BOT_TOKEN: phonebot can act in no workspace
            return None
        await self._ask()
        if self.team_id and team_id and team_id != self.team_id:
            return None
        return InstalledWorkspace(
            key=self.key, app_id=self.app_id, bot_token=self.token, bot_id=self.bot_id, bot_user_id=self.bot_user_id
        )

    async def _ask(self) -> None:
        if self._asked or self._clock() < self._next_try:
            return
        try:
            auth = await self.client.auth_test(token=self.token)
            self.team_id = self.team_id or _text(auth.get("team_id"))
            self.enterprise_id = _text(auth.get("enterprise_id"))
            self.bot_id = _text(auth.get("bot_id"))
            self.bot_user_id = _text(auth.get("user_id"))
            if not self.app_id and self.bot_id:
                bot = (await self.client.bots_info(bot=self.bot_id, token=self.token)).get("bot") or {}
                self.app_id = _text(bot.get("app_id") if isinstance(bot, dict) else None)
            self._asked = True
        except (SlackApiError, OSError, TimeoutError) as exc:
            self._next_try = self._clock() + RETRY_SECONDS
            log.warning("could not ask Slack which workspace and app this is (%s); checking later", type(exc).__name__)


class InstalledWorkspaces:
    """The workspaces and orgs installed through "Add to Slack"."""

    oauth = True

    def __init__(self, records: StoreInstallationStore) -> None:
        self.records = records

    async def find(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool
    ) -> InstalledWorkspace | None:
        try:
            key = WorkspaceKey.of(
                enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install
            )
        except NotASlackId:
            return None
        return await self.get(key)

    async def get(self, key: WorkspaceKey) -> InstalledWorkspace | None:
        """The installation kept under ``key`` (a workspace, or an org-wide install), if it has a bot token."""
        installation = await self.records.find(key)
        if installation is None or not installation.bot_token:
            return None
        return InstalledWorkspace(
            key=key,
            app_id=installation.app_id,
            bot_token=installation.bot_token,
            bot_id=installation.bot_id,
            bot_user_id=installation.bot_user_id,
            bot_scopes=tuple(installation.bot_scopes or ()),
        )

    async def installed(self, *, limit: int = 100) -> list[WorkspaceKey]:
        """The keys of up to ``limit`` installations kept (a store scan: for occasional looks, not per request)."""
        return await self.records.installed(limit=limit)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None

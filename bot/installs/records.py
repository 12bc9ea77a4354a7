"""Bolt's installation store and OAuth state store, on phonebot's store (Redis, or the embedded one).

**Installations.** One record per installation at ``slack:install:{enterprise or -}:{team or -}``
(org-wide installs: ``slack:install:E123:-``), so the store holds exactly one key per installed
workspace or org, whoever installed it and however often. The record is JSON::

    {"v": 1, "enterprise_id": "E1", "team_id": "T1", "is_enterprise_install": false,
     "app_id": "A1", "installed_at": 1767225600.0, "sealed": "gAAAAAB..."}

The plain fields are ids only (for operators and the installation guard); everything else Slack
returned — bot token, user token, refresh tokens, webhook URL, names, scopes — is in ``sealed``:
the whole installation as JSON, encrypted with ``PHONEBOT_SECRET_KEY`` (:mod:`bot.secret_box`), so
a field a later slack_sdk adds is encrypted too. Tokens opened from a record are registered with
the log redaction at once.

The install asks for no user scopes (a person's own status token comes from :mod:`bot.status_sync.flow`,
kept apart), so the installer's user token, if Slack ever sends one, lives in
the same record: :meth:`StoreInstallationStore.async_find_installation` for another ``user_id``
finds nothing, and deleting the installer's installation forgets only their token.

**OAuth state.** ``slack:oauth-state:{state}``: issued by ``GET /slack/install``, taken (read and
deleted in one step) by the redirect, so a state works once; it holds its issue time and is refused
after ``expiration_seconds`` whatever the key's TTL. At most ``max_per_minute`` states are issued a
minute, so the live ones stay bounded (``max_per_minute`` times the expiry in minutes) however often the
install page is loaded.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from collections.abc import Callable
from logging import Logger
from typing import Any

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from adapters.redaction import SECRETS
from bot.installs.workspace import NONE, NotASlackId, WorkspaceKey
from bot.secret_box import SecretBox, SecretUnreadable
from bot.store import Store

log = logging.getLogger(__name__)

RECORD_VERSION = 1
#: Where every installation record lives (``slack:install:{enterprise or -}:{team or -}``).
INSTALL_PREFIX = "slack:install:"
#: The installation's fields that are credentials (sealed like the rest, and registered for redaction).
SECRET_FIELDS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token", "incoming_webhook_url")
_BOT_FIELDS = ("bot_token", "bot_id", "bot_user_id", "bot_scopes", "bot_refresh_token", "bot_token_expires_at")
_USER_FIELDS = ("user_token", "user_scopes", "user_refresh_token", "user_token_expires_at")


class StoreInstallationStore(AsyncInstallationStore):
    """Installations kept in phonebot's store, one encrypted record per workspace or org."""

    def __init__(self, store: Store, box: SecretBox) -> None:
        self.store = store
        self.box = box

    @property
    def logger(self) -> Logger:
        return log

    # -- writing -------------------------------------------------------------------------------

    async def async_save(self, installation: Installation) -> None:
        """Keep ``installation`` as its workspace's (or org's) one record, replacing an earlier one."""
        key = key_of(installation.enterprise_id, installation.team_id, installation.is_enterprise_install)
        fields = dict(vars(installation))
        SECRETS.add(*(fields.get(name) for name in SECRET_FIELDS))
        record = {
            "v": RECORD_VERSION,
            "enterprise_id": installation.enterprise_id,
            "team_id": installation.team_id,
            "is_enterprise_install": installation.is_enterprise_install,
            "app_id": installation.app_id,
            "installed_at": installation.installed_at,
            "sealed": self.box.seal(json.dumps(fields)),
        }
        await self.store.set(key.install_key, json.dumps(record))

    async def async_save_bot(self, bot: Bot) -> None:
        """A refreshed bot token (token rotation) replaces the bot part of its installation's record."""
        key = key_of(bot.enterprise_id, bot.team_id, bot.is_enterprise_install)
        current = await self.find(key)
        if current is None:
            current = Installation(
                enterprise_id=bot.enterprise_id,
                team_id=bot.team_id,
                user_id="",
                is_enterprise_install=bot.is_enterprise_install,
                installed_at=bot.installed_at,
            )
        for name in (*_BOT_FIELDS, "app_id"):
            setattr(current, name, getattr(bot, name))
        await self.async_save(current)

    # -- reading -------------------------------------------------------------------------------

    async def find(self, key: WorkspaceKey) -> Installation | None:
        """The installation kept under ``key``; ``None`` when absent or unreadable (logged, never raised)."""
        raw = await self.store.get(key.install_key)
        if raw is None:
            return None
        try:
            record = json.loads(raw)
            fields: dict[str, Any] = json.loads(self.box.open(str(record["sealed"])))
            installation = Installation(**fields)
        except SecretUnreadable:
            log.error(
                "the installation of %s cannot be decrypted: was PHONEBOT_SECRET_KEY changed? Put the old key "
                "back after the new one (comma-separated), or install phonebot in that workspace again",
                key.describe(),
            )
            return None
        except (ValueError, KeyError, TypeError):
            log.error("the installation record of %s is not readable; install phonebot there again", key.describe())
            return None
        SECRETS.add(*(fields.get(name) for name in SECRET_FIELDS))
        return installation

    async def installed(self, *, limit: int = 100) -> list[WorkspaceKey]:
        """The keys of up to ``limit`` installations kept (sorted; a scan of the store, so not per request)."""
        keys = []
        for raw in await self.store.keys_with_prefix(INSTALL_PREFIX, limit=limit):
            enterprise, _, team = raw.removeprefix(INSTALL_PREFIX).partition(":")
            key = maybe_key(None if enterprise == NONE else enterprise, None if team == NONE else team, False)
            if key is not None and key.install_key == raw:  # anything else under the prefix is not a record
                keys.append(key)
        return sorted(keys, key=lambda key: key.scope)

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        key = maybe_key(enterprise_id, team_id, is_enterprise_install)
        installation = await self.find(key) if key is not None else None
        if installation is None or (user_id is not None and installation.user_id != user_id):
            return None
        return installation

    async def async_find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        installation = await self.async_find_installation(
            enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install
        )
        if installation is None or not installation.bot_token:
            return None
        return installation.to_bot()

    # -- deleting ------------------------------------------------------------------------------

    async def delete(self, key: WorkspaceKey) -> None:
        """Forget the installation under ``key`` entirely."""
        await self.store.delete(key.install_key)

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Drop the bot token; a record left with no token at all is deleted."""
        await self._strip(maybe_key(enterprise_id, team_id, False), _BOT_FIELDS)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        """Without ``user_id``: the whole record. With it: that installer's user token only."""
        key = maybe_key(enterprise_id, team_id, False)
        if key is None:
            return
        if user_id is None:
            await self.delete(key)
            return
        current = await self.find(key)
        if current is not None and current.user_id == user_id:
            await self._strip(key, _USER_FIELDS)

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        key = maybe_key(enterprise_id, team_id, False)
        if key is not None:
            await self.delete(key)

    async def _strip(self, key: WorkspaceKey | None, names: tuple[str, ...]) -> None:
        current = await self.find(key) if key is not None else None
        if key is None or current is None:
            return
        for name in names:
            setattr(current, name, [] if name.endswith("_scopes") else None)
        if current.bot_token is None and current.user_token is None:
            await self.delete(key)
        else:
            await self.async_save(current)


def key_of(enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None) -> WorkspaceKey:
    """The installation key for these ids (:class:`NotASlackId` when they are not Slack's)."""
    return WorkspaceKey.of(enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install)


def maybe_key(
    enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None
) -> WorkspaceKey | None:
    """The key for these ids, or ``None`` when they can't name an installation (nothing is stored there)."""
    try:
        return key_of(enterprise_id, team_id, is_enterprise_install)
    except NotASlackId:
        return None


# -- OAuth state ---------------------------------------------------------------------------------

STATE_PREFIX = "slack:oauth-state:"
ISSUED_PREFIX = "slack:oauth-state-issued:"
_STATE = re.compile(r"[A-Za-z0-9_-]{20,100}")


class TooManyInstalls(Exception):
    """More install pages were opened this minute than states may be issued."""


class StoreOAuthStateStore(AsyncOAuthStateStore):
    """Single-use, expiring OAuth ``state`` values in phonebot's store."""

    def __init__(
        self,
        store: Store,
        *,
        expiration_seconds: float = 600,
        max_per_minute: int = 300,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.expiration_seconds = expiration_seconds
        self.max_per_minute = max_per_minute
        self.clock = clock

    @property
    def logger(self) -> Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        now = self.clock()
        issued = await self.store.incr(f"{ISSUED_PREFIX}{int(now // 60)}", ttl=120)
        if issued > self.max_per_minute:
            raise TooManyInstalls
        state = secrets.token_urlsafe(32)
        await self.store.set(f"{STATE_PREFIX}{state}", repr(now), ttl=self.expiration_seconds + 60)
        return state

    async def async_consume(self, state: str) -> bool:
        """True once for a state this store issued less than ``expiration_seconds`` ago; False ever after."""
        if not isinstance(state, str) or not _STATE.fullmatch(state):
            return False
        issued_at = await self.store.take(f"{STATE_PREFIX}{state}")
        if issued_at is None:
            return False
        try:
            age = self.clock() - float(issued_at)
        except ValueError:
            return False
        return 0 <= age <= self.expiration_seconds

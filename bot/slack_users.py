"""Who a Slack user is (name, email, time zone), from ``users.info`` with a short cache."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from typing import Protocol

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.installs.workspace import WorkspaceKey
from bot.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SlackUser:
    """The Slack facts phonebot needs about a person."""

    id: str
    name: str
    email: str | None
    tz: str | None
    is_admin: bool = False


class SlackUserDirectory(Protocol):
    """Looks Slack users up; ``None`` when Slack does not know the id."""

    async def get(self, user_id: str) -> SlackUser | None: ...

    def bound(self, client: AsyncWebClient, workspace: WorkspaceKey | None) -> SlackUserDirectory:
        """This directory for one request: asking Slack through ``client``, caching under ``workspace``."""
        ...

    async def with_email(self, email: str) -> str | None:
        """The id of the Slack user whose profile has ``email``, or ``None`` when nobody's has."""
        ...


class WebApiUserDirectory:
    """``users.info`` through the bot token, cached in the store.

    Bound to a request's installation (:meth:`bound`), it asks with that installation's token and
    caches under that installation's data prefix, so an uninstall deletes the cached profiles.
    """

    def __init__(
        self, client: AsyncWebClient, store: Store, *, cache_seconds: float = 600, key_prefix: str = ""
    ) -> None:
        self.client = client
        self.store = store
        self.cache_seconds = cache_seconds
        self.key_prefix = key_prefix

    def bound(self, client: AsyncWebClient, workspace: WorkspaceKey | None) -> WebApiUserDirectory:
        prefix = workspace.data_prefix if workspace is not None else self.key_prefix
        return WebApiUserDirectory(client, self.store, cache_seconds=self.cache_seconds, key_prefix=prefix)

    async def with_email(self, email: str) -> str | None:
        try:
            response = await self.client.users_lookupByEmail(email=email[:254])
        except SlackApiError as exc:
            if exc.response.get("error") == "users_not_found":
                return None
            raise
        found = (response.get("user") or {}).get("id")
        return found if isinstance(found, str) and found else None

    async def get(self, user_id: str) -> SlackUser | None:
        key = f"{self.key_prefix}slack:user:{user_id}"
        cached = await self.store.get(key)
        if cached is not None:
            return SlackUser(**json.loads(cached))
        try:
            response = await self.client.users_info(user=user_id)
        except SlackApiError as exc:
            if exc.response.get("error") == "user_not_found":
                return None
            raise
        raw = response.get("user") or {}
        profile = raw.get("profile") or {}
        user = SlackUser(
            id=user_id,
            name=str(raw.get("real_name") or profile.get("real_name") or raw.get("name") or user_id),
            email=profile.get("email"),
            tz=raw.get("tz"),
            is_admin=bool(raw.get("is_admin") or raw.get("is_owner")),
        )
        if self.cache_seconds:
            await self.store.set(key, json.dumps(asdict(user)), ttl=self.cache_seconds)
        return user


class StaticUserDirectory:
    """A fixed set of users (``phonebot console``)."""

    def __init__(self, users: list[SlackUser]) -> None:
        self.users = {user.id: user for user in users}

    def bound(self, client: AsyncWebClient, workspace: WorkspaceKey | None) -> StaticUserDirectory:
        return self

    async def get(self, user_id: str) -> SlackUser | None:
        return self.users.get(user_id)

    async def with_email(self, email: str) -> str | None:
        wanted = email.casefold()
        return next((user.id for user in self.users.values() if (user.email or "").casefold() == wanted), None)

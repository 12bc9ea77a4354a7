"""People's own Slack user tokens (``users.profile:*``, ``dnd:write``), sealed, one per person and workspace.

Kept at ``<workspace data prefix>slack-status:<Slack user id>``, so an uninstall forgets them with the rest
of the workspace's data. The token is sealed with ``PHONEBOT_SECRET_KEY`` and registered with the log
redaction whenever it is opened; it is never logged or shown.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from adapters.redaction import SECRETS
from bot.secret_box import SecretBox, SecretUnreadable
from bot.store import Store

log = logging.getLogger(__name__)

#: The user scopes a person grants (app_manifest.yml ``oauth_config.scopes.user``).
USER_SCOPES = ("users.profile:read", "users.profile:write", "dnd:write")


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sealed_token: str = Field(max_length=4096)
    scopes: str = Field(max_length=500)
    connected_at: datetime


class StatusTokens:
    """Reads, writes and forgets people's Slack user tokens."""

    def __init__(self, store: Store, box: SecretBox) -> None:
        self.store = store
        self.box = box

    @staticmethod
    def key(prefix: str, slack_user_id: str) -> str:
        """``<workspace data prefix>slack-status:<Slack user id>``."""
        return f"{prefix}slack-status:{slack_user_id[:32]}"

    async def put(self, prefix: str, slack_user_id: str, token: str, scopes: str) -> None:
        """Keep ``token`` (sealed) for the person, replacing an earlier one."""
        SECRETS.add(token)
        record = _Record(sealed_token=self.box.seal(token), scopes=scopes[:500], connected_at=datetime.now(UTC))
        await self.store.set(self.key(prefix, slack_user_id), record.model_dump_json())

    async def get(self, prefix: str, slack_user_id: str) -> str | None:
        """The person's token, or ``None`` (never connected, or it can no longer be read)."""
        raw = await self.store.get(self.key(prefix, slack_user_id))
        if raw is None:
            return None
        try:
            token = self.box.open(_Record.model_validate_json(raw).sealed_token)
        except (ValidationError, SecretUnreadable):
            log.warning("a Slack status token could not be read; treating the person as not connected")
            return None
        SECRETS.add(token)
        return token

    async def connected(self, prefix: str, slack_user_id: str) -> bool:
        return await self.get(prefix, slack_user_id) is not None

    async def remove(self, prefix: str, slack_user_id: str) -> bool:
        """Forget the person's token; whether there was one."""
        return bool(await self.store.delete(self.key(prefix, slack_user_id)))

"""Which directions of presence sync each person has on, kept per person under the workspace's data prefix.

Phone → Slack status follows presence for everyone who connected their Slack status (on by default once
connected); the others are opt-in per person (issue 12 points 3, 5, 6, 8). A workspace admin's defaults
(:attr:`bot.workspaces.settings.WorkspaceSettings`) apply to a person who never chose.
"""

from __future__ import annotations

import logging

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.store import Store

log = logging.getLogger(__name__)


class SyncPrefs(BaseModel):
    """One person's switches."""

    model_config = ConfigDict(extra="forbid")

    #: Their Slack status (and DND) follows their phone presence.
    phone_to_slack: bool = True
    #: While they are on a phone call their Slack status says so.
    on_a_call: bool = False
    #: A Slack huddle puts their phone on DND for its duration.
    huddle_to_phone: bool = False
    #: A Slack status with a mapped emoji sets their phone presence.
    slack_status_to_phone: bool = False


class PersonPrefs:
    """Reads and writes :class:`SyncPrefs`; ``None`` stored means "never chose" (the workspace's defaults)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @staticmethod
    def key(prefix: str, slack_user_id: str) -> str:
        """``<workspace data prefix>status-prefs:<Slack user id>``."""
        return f"{prefix}status-prefs:{slack_user_id[:32]}"

    async def get(self, prefix: str, slack_user_id: str, *, default: SyncPrefs | None = None) -> SyncPrefs:
        """The person's switches, else ``default`` (else every direction at its default)."""
        raw = await self.store.get(self.key(prefix, slack_user_id))
        if raw is not None:
            try:
                return SyncPrefs.model_validate_json(raw)
            except ValidationError:
                log.warning("a person's sync switches could not be read; using the defaults")
        return default or SyncPrefs()

    async def put(self, prefix: str, slack_user_id: str, prefs: SyncPrefs) -> None:
        """Keep the person's switches."""
        await self.store.set(self.key(prefix, slack_user_id), prefs.model_dump_json())

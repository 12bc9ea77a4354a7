"""What a workspace admin set up in Slack (phone systems, alert routes, queue thresholds), kept per workspace.

The whole record is one JSON document sealed with :class:`~bot.secret_box.SecretBox` (it holds vendor
credentials), at ``<workspace data prefix>settings``; a plain counter beside it
(``...settings:version``) lets every process see a change without opening the record, so a change
takes effect without a restart. Both live under the workspace's data prefix, so an uninstall forgets
them (:mod:`bot.installs.forget`). Writes are serialised per workspace by the store's
``set_if_absent`` lock, so two admins saving at once cannot lose each other's change.

Sections are kept as the YAML file would spell them (``vendors.<name>``, ``alerts.routes[]``,
``alerts.queue_thresholds[]``) and validated with the same models when saved and when read.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.installs.workspace import WorkspaceKey
from bot.secret_box import SecretBox, SecretUnreadable
from bot.status_sync.workspace_status import StatusSettings
from bot.store import Store

log = logging.getLogger(__name__)

#: Bounds on what one workspace may keep (a modal can't grow a record without end).
MAX_VENDORS = 8
MAX_ROUTES = 50
MAX_THRESHOLDS = 50
#: A save waits at most this long for another admin's save of the same workspace to finish.
LOCK_WAIT_SECONDS = 5.0
LOCK_SECONDS = 10


class SettingsBusy(Exception):
    """Another save of this workspace's settings did not finish in time; the caller may retry."""


class WorkspaceSettings(BaseModel):
    """One workspace's settings from Slack. Every section is spelled as in the YAML file."""

    model_config = ConfigDict(extra="forbid")

    #: Vendor name (an adapter: ``relatel``, ``dstny``, ``tele2``, ``multisender``) → its section, secrets in it.
    vendors: dict[str, dict[str, Any]] = Field(default_factory=dict, max_length=MAX_VENDORS)
    #: ``alerts.routes`` entries (:class:`bot.config.AlertRoute` shape).
    routes: list[dict[str, Any]] = Field(default_factory=list, max_length=MAX_ROUTES)
    #: ``alerts.queue_thresholds`` entries (:class:`bot.config.QueueThreshold` shape).
    queue_thresholds: list[dict[str, Any]] = Field(default_factory=list, max_length=MAX_THRESHOLDS)
    #: Dstny/Tele2: a person who picks themselves from the directory waits for an admin's approval.
    link_approval: bool = True
    #: Slack status: the emoji/text per phone activity, "on a call", and people's default switches.
    status: StatusSettings = Field(default_factory=StatusSettings)
    updated_by: str | None = Field(default=None, max_length=32)
    updated_at: datetime | None = None


class WorkspaceSettingsStore:
    """Reads and writes :class:`WorkspaceSettings`, sealed, one record per workspace."""

    def __init__(self, store: Store, box: SecretBox) -> None:
        self.store = store
        self.box = box

    @staticmethod
    def key(workspace: WorkspaceKey) -> str:
        return f"{workspace.data_prefix}settings"

    @staticmethod
    def version_key(workspace: WorkspaceKey) -> str:
        return f"{workspace.data_prefix}settings:version"

    async def version(self, workspace: WorkspaceKey) -> int:
        """A number that changes whenever the workspace's settings do (0: never saved)."""
        raw = await self.store.get(self.version_key(workspace))
        return int(raw) if raw is not None and raw.isdigit() else 0

    async def load(self, workspace: WorkspaceKey) -> WorkspaceSettings:
        """The workspace's settings; empty ones when never saved or no longer readable (logged, not raised)."""
        sealed = await self.store.get(self.key(workspace))
        if sealed is None:
            return WorkspaceSettings()
        try:
            return WorkspaceSettings.model_validate_json(self.box.open(sealed))
        except SecretUnreadable:
            log.error("%s: its settings were sealed with a key phonebot no longer has", workspace.describe())
        except ValidationError as exc:
            log.error("%s: its stored settings are unreadable (%d problem(s))", workspace.describe(), exc.error_count())
        return WorkspaceSettings()

    async def update(
        self,
        workspace: WorkspaceKey,
        change: Callable[[WorkspaceSettings], WorkspaceSettings],
        *,
        by: str,
        now: datetime | None = None,
    ) -> WorkspaceSettings:
        """Apply ``change`` to the current settings and save the result (one save per workspace at a time).

        ``change`` gets a copy and returns the new settings; what it returns is validated again.

        Raises:
            SettingsBusy: another save held the workspace for longer than ``LOCK_WAIT_SECONDS``.
            pydantic.ValidationError: the changed settings break a bound.
        """
        lock = f"{self.key(workspace)}:lock"
        holder = secrets.token_hex(8)
        deadline = asyncio.get_running_loop().time() + LOCK_WAIT_SECONDS
        while not await self.store.set_if_absent(lock, holder, ttl=LOCK_SECONDS):
            if asyncio.get_running_loop().time() > deadline:
                raise SettingsBusy("another admin is saving this workspace's settings; try again")
            await asyncio.sleep(0.05)
        try:
            current = await self.load(workspace)
            changed = change(current.model_copy(deep=True))
            updated = WorkspaceSettings.model_validate(
                {**changed.model_dump(), "updated_by": by[:32], "updated_at": now or datetime.now(UTC)}
            )
            await self.store.set(self.key(workspace), self.box.seal(updated.model_dump_json()))
            await self.store.incr(self.version_key(workspace))
            return updated
        finally:
            if await self.store.get(lock) == holder:
                await self.store.delete(lock)

"""The edits a setup submission or click makes to a workspace's stored settings.

Each returns the ``change`` :meth:`~bot.workspaces.settings.WorkspaceSettingsStore.update` applies under the
workspace's lock. Routes and thresholds are addressed by position *and* a digest of their content, so
an admin acting on a list another admin changed meanwhile gets :class:`Stale`, not someone else's entry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any, Literal

from bot.workspaces.settings import MAX_ROUTES, MAX_THRESHOLDS, WorkspaceSettings

Change = Callable[[WorkspaceSettings], WorkspaceSettings]
ListName = Literal["routes", "queue_thresholds"]
_LIMITS: dict[ListName, int] = {"routes": MAX_ROUTES, "queue_thresholds": MAX_THRESHOLDS}


class Stale(Exception):
    """The entry acted on is no longer where (or what) it was."""


class Full(Exception):
    """The list already holds as many entries as a workspace may keep."""


def digest(entry: dict[str, Any]) -> str:
    """A short fingerprint of one stored entry."""
    return hashlib.sha256(json.dumps(entry, sort_keys=True, default=str).encode()).hexdigest()[:12]


def put_vendor(vendor: str, section: dict[str, Any]) -> Change:
    def change(settings: WorkspaceSettings) -> WorkspaceSettings:
        settings.vendors[vendor] = section
        return settings

    return change


def remove_vendor(vendor: str) -> Change:
    def change(settings: WorkspaceSettings) -> WorkspaceSettings:
        if vendor not in settings.vendors:
            raise Stale(vendor)
        del settings.vendors[vendor]
        return settings

    return change


def _entries(settings: WorkspaceSettings, name: ListName) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = settings.routes if name == "routes" else settings.queue_thresholds
    return entries


def put_entry(name: ListName, entry: dict[str, Any], *, at: int | None = None, was: str | None = None) -> Change:
    """Add ``entry`` to the list ``name`` (``at`` ``None``), or replace the one at ``at`` whose digest is ``was``."""

    def change(settings: WorkspaceSettings) -> WorkspaceSettings:
        entries = _entries(settings, name)
        if at is None:
            if len(entries) >= _LIMITS[name]:
                raise Full(name)
            entries.append(entry)
        else:
            if at >= len(entries) or digest(entries[at]) != was:
                raise Stale(name)
            entries[at] = entry
        return settings

    return change


def remove_entry(name: ListName, at: int, was: str) -> Change:
    """Remove the entry at ``at`` of the list ``name``, if its digest is still ``was``."""

    def change(settings: WorkspaceSettings) -> WorkspaceSettings:
        entries = _entries(settings, name)
        if at >= len(entries) or digest(entries[at]) != was:
            raise Stale(name)
        del entries[at]
        return settings

    return change

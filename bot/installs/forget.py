"""``forget_workspace``: when Slack says phonebot was uninstalled, or its token revoked, delete it all.

What is deleted for the installation (a workspace, or an org for an org-wide install):

1. its installation record — the encrypted bot and user tokens (``slack:install:…``);
2. its recorded scope drift (``slack:scope-drift:…``);
3. every other key kept for it, all of which live under its data prefix ``ws:{enterprise or -}:
   {team or -}:`` (today: the cached Slack profiles of its people — names, emails, time zones — and
   their cached email matches to phone-system users).

Later per-workspace state (its phone-system credentials, alert routes, linked identities) adds a
step with :meth:`WorkspaceForgetter.add_step`, or simply keeps its keys under the data prefix. A
failing step is logged and the others still run: an uninstall must take away as much as it can.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.installs.workspace import WorkspaceKey
from bot.store import Store

log = logging.getLogger(__name__)

ForgetStep = Callable[[WorkspaceKey], Awaitable[object]]


class WorkspaceForgetter:
    """Deletes an installation and everything phonebot keeps for it."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.steps: list[tuple[str, ForgetStep]] = [
            ("installation and tokens", self._installation),
            ("scope drift", self._scope_drift),
            ("workspace data", self._data),
        ]

    def add_step(self, name: str, step: ForgetStep) -> None:
        """Run ``step`` too whenever an installation is forgotten."""
        self.steps.append((name, step))

    async def forget_workspace(self, workspace: WorkspaceKey) -> list[str]:
        """Delete ``workspace``'s installation and data; returns the names of the steps that failed."""
        failed: list[str] = []
        for name, step in self.steps:
            try:
                await step(workspace)
            except Exception as exc:
                failed.append(name)
                log.error("could not forget the %s of %s (%s)", name, workspace.describe(), type(exc).__name__)
        if failed:
            log.error("forgot %s only in part: %s not deleted", workspace.describe(), ", ".join(failed))
        else:
            log.info("forgot %s: its installation, tokens and data are deleted", workspace.describe())
        return failed

    async def _installation(self, workspace: WorkspaceKey) -> None:
        await self.store.delete(workspace.install_key)

    async def _scope_drift(self, workspace: WorkspaceKey) -> None:
        await self.store.delete(workspace.scope_drift_key)

    async def _data(self, workspace: WorkspaceKey) -> None:
        await self.store.delete_prefix(workspace.data_prefix)

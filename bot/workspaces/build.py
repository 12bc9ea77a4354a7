"""Build the deployment's :class:`~bot.workspaces.context.WorkspaceContexts` from its settings and parts."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from adapters.base import AdapterConfig, VendorAdapter
from adapters.registry import build_adapter
from bot.config import PhonebotConfig, Settings
from bot.store import Store
from bot.workspaces.context import FileWorkspace, WorkspaceContexts
from bot.workspaces.settings import WorkspaceSettingsStore


def build_contexts(
    settings: Settings,
    config: PhonebotConfig,
    store: Store,
    adapters: Mapping[str, VendorAdapter],
    workspace_settings: WorkspaceSettingsStore | None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    file_workspace: FileWorkspace | None = None,
) -> WorkspaceContexts:
    """Every workspace starts from the file (``config``, its ``adapters`` shared); with "Add to Slack" each
    workspace's keys get their own scope, and the file's own part is ``file_workspace``'s alone."""

    def build(name: str, cfg: AdapterConfig) -> VendorAdapter:
        return build_adapter(name, cfg, transport=transport)

    return WorkspaceContexts(
        config,
        adapters,
        store,
        workspace_settings,
        scoped=settings.oauth,
        build=build,
        file_workspace=file_workspace,
    )

"""Builds the process's :class:`~bot.workspaces.context.WorkspaceContexts` from settings, config and store."""

from __future__ import annotations

from collections.abc import Mapping

from adapters.base import VendorAdapter
from adapters.registry import build_adapter
from bot.config import PhonebotConfig, Settings
from bot.secret_box import SecretBox
from bot.store import Store
from bot.workspaces.context import WorkspaceContexts
from bot.workspaces.settings import WorkspaceSettingsStore


def build_contexts(
    settings: Settings, config: PhonebotConfig, store: Store, adapters: Mapping[str, VendorAdapter]
) -> WorkspaceContexts:
    """Every workspace's context: the file's ``config`` and ``adapters``, Slack setup where it can be sealed.

    Keys are scoped per workspace with "Add to Slack"; the single-workspace deployment keeps its own.
    """
    box = SecretBox.from_setting(settings.phonebot_secret_key) if settings.phonebot_secret_key else None
    return WorkspaceContexts(
        base=config,
        base_adapters=adapters,
        store=store,
        settings=WorkspaceSettingsStore(store, box) if box is not None else None,
        scoped=settings.oauth,
        build=lambda name, cfg: build_adapter(name, cfg),
    )

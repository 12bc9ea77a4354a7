"""Slack's events about the installation itself: ``app_uninstalled`` and ``tokens_revoked``.

Either one means phonebot may no longer act in that workspace (or org), so everything it keeps
for it is deleted (:meth:`bot.installs.forget.WorkspaceForgetter.forget_workspace`). A
``tokens_revoked`` that names only user tokens (``tokens.oauth``) removes just those: phonebot asks
for no user scopes, so that only happens if an installer's token was kept.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext

from bot.installs.forget import WorkspaceForgetter
from bot.installs.records import StoreInstallationStore, maybe_key
from bot.installs.workspace import WorkspaceKey

log = logging.getLogger(__name__)

#: Most user ids of one ``tokens_revoked`` event acted on (Slack sends a handful).
MAX_REVOKED_USERS = 100


def register_install_events(
    app: AsyncApp, forgetter: WorkspaceForgetter, *, records: StoreInstallationStore | None = None
) -> None:
    """Attach the ``app_uninstalled`` and ``tokens_revoked`` listeners."""

    async def uninstalled(context: AsyncBoltContext) -> None:
        key = _installation(context)
        if key is None:
            return
        log.info("Slack says phonebot was uninstalled from %s", key.describe())
        await forgetter.forget_workspace(key)
        if records is None:
            log.warning("SLACK_BOT_TOKEN's workspace uninstalled phonebot: that token no longer works")

    async def revoked(event: dict[str, Any], context: AsyncBoltContext) -> None:
        key = _installation(context)
        tokens = event.get("tokens") if isinstance(event.get("tokens"), dict) else {}
        if key is None or not isinstance(tokens, dict):
            return
        if tokens.get("bot"):
            log.info("Slack says phonebot's bot token in %s was revoked", key.describe())
            await forgetter.forget_workspace(key)
            if records is None:
                log.warning("SLACK_BOT_TOKEN was revoked: replace it, or phonebot cannot act in Slack")
            return
        users = tokens.get("oauth") if isinstance(tokens.get("oauth"), list) else []
        if records is not None and users:
            for user_id in users[:MAX_REVOKED_USERS]:
                await records.async_delete_installation(
                    enterprise_id=key.enterprise_id, team_id=key.team_id, user_id=str(user_id)
                )

    app.event("app_uninstalled")(uninstalled)
    app.event("tokens_revoked")(revoked)


def _installation(context: AsyncBoltContext) -> WorkspaceKey | None:
    return maybe_key(context.enterprise_id, context.team_id, context.is_enterprise_install)

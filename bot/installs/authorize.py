"""Bolt's ``authorize`` step for phonebot: the bot token of the request's installation.

One implementation for both deployments: with ``SLACK_BOT_TOKEN`` it answers that token, with "Add
to Slack" the token stored for the request's workspace (or org). The installation guard
(:mod:`bot.installation`) has usually looked the installation up already and left it in the
context; otherwise it is looked up here. No ``auth.test`` per request: the stored installation is
what Slack said at install time, and Slack tells phonebot when it stops being true
(``tokens_revoked``, ``app_uninstalled``).
"""

from __future__ import annotations

from typing import Any

from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.context.async_context import AsyncBoltContext

from bot.installation import CONTEXT_KEY
from bot.installs.directory import InstalledWorkspace, Workspaces


class PhonebotAuthorize(AsyncAuthorize):
    """Resolves the request's bot token from :class:`~bot.installs.directory.Workspaces`."""

    def __init__(self, workspaces: Workspaces) -> None:
        self.workspaces = workspaces

    async def __call__(
        self,
        *,
        context: AsyncBoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        **actor: Any,
    ) -> AuthorizeResult | None:
        found = context.get(CONTEXT_KEY)
        if not isinstance(found, InstalledWorkspace):
            found = await self.workspaces.find(
                enterprise_id=enterprise_id,
                team_id=team_id,
                is_enterprise_install=bool(context.is_enterprise_install),
            )
            if found is None:
                return None
            context[CONTEXT_KEY] = found
        return found.authorize_result(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id)

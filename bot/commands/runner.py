"""What a command worker does with one acked command: act for its workspace, do the work, answer.

The workspace's bot token comes from the installation (``SLACK_BOT_TOKEN``'s workspace, or one
installed through "Add to Slack") as Bolt's authorize step finds it for a live request; a
workspace uninstalled since the ack gets nothing (its token is gone). Answers go to the command's
``response_url`` through the process's shared Slack session.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable

from slack_sdk.web.async_client import AsyncWebClient

from bot.commands.deferred import DeferredCommand
from bot.installs.directory import InstalledWorkspace, Workspaces
from bot.installs.scope_drift import ScopeDriftLog, ScopeDriftWatcher
from bot.installs.workspace import WorkspaceKey
from bot.mrkdwn import code_span
from bot.slack_http import SlackSession
from handlers.commands import answer_command
from handlers.context import Services
from handlers.reply import Reply
from handlers.work import Send, response_url_sender

log = logging.getLogger(__name__)

#: Workspace clients kept (one per installation and token) before the least used is dropped.
MAX_CLIENTS = 256


def unsure_reply(job: DeferredCommand) -> Reply:
    """The answer to a command a worker was doing when it died: it may or may not have happened."""
    shown = code_span(f"{job.command} {job.text}".strip()[:200])
    return Reply(
        text=f":warning: phonebot was restarted while it worked on {shown}. It may or may not have happened: "
        "check (for a call, your phone) before you try again."
    )


class CommandRunner:
    """Runs acked commands for the workspace each one came from."""

    def __init__(
        self,
        services: Services,
        workspaces: Workspaces,
        session: SlackSession,
        make_client: Callable[[str, str | None], AsyncWebClient],
        drift: ScopeDriftLog | None = None,
    ) -> None:
        self.services = services
        self.workspaces = workspaces
        self.session = session
        self.make_client = make_client
        self.drift = drift
        self._clients: OrderedDict[tuple[str, str, str], AsyncWebClient] = OrderedDict()

    async def run(self, job: DeferredCommand) -> None:
        """Do ``job``'s work and post its answer."""
        installation = await self._installation(job)
        if installation is None:
            log.info("dropped a command for a workspace phonebot no longer serves")
            return
        client = self._client(installation, job.team_id)
        here = await self.services.for_workspace(client, installation.key, user_id=job.user_id)
        await answer_command(here, job, self._sender(job))

    async def answer_unsure(self, job: DeferredCommand) -> None:
        """Tell the user a command taken over from a dead worker may or may not have happened."""
        await self._sender(job)(unsure_reply(job))

    def _sender(self, job: DeferredCommand) -> Send:
        return response_url_sender(job.response_url, self.session.current())

    async def _installation(self, job: DeferredCommand) -> InstalledWorkspace | None:
        return await self.workspaces.find(
            enterprise_id=job.enterprise_id, team_id=job.team_id, is_enterprise_install=job.is_enterprise_install
        )

    def _client(self, installation: InstalledWorkspace, team_id: str | None) -> AsyncWebClient:
        """The Web API client acting with the installation's token in workspace ``team_id``."""
        scope = installation.key.scope if installation.key is not None else "-"
        cache_key = (scope, team_id or "-", installation.bot_token)
        client = self._clients.get(cache_key)
        if client is None:
            client = self.make_client(installation.bot_token, team_id)
            key = installation.key
            if self.drift is not None and key is not None and client.retry_handlers is not None:

                async def this_installation(key: WorkspaceKey = key) -> WorkspaceKey:
                    return key

                client.retry_handlers.append(ScopeDriftWatcher(self.drift, this_installation))
            self._clients[cache_key] = client
            while len(self._clients) > MAX_CLIENTS:
                self._clients.popitem(last=False)
        self._clients.move_to_end(cache_key)
        return client

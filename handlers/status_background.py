"""What status sync's background tasks need of a workspace: its bot, a person's phone, and the revoked-token DM.

Nobody asked, so a background task acts for the person's workspace as a command worker does: the bot token
of the installation (``SLACK_BOT_TOKEN``'s workspace, or one installed through "Add to Slack"), the
workspace's own config and adapters. A workspace uninstalled since gets nothing.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable

from slack_sdk.web.async_client import AsyncWebClient

from adapters.errors import IdentityError
from adapters.models import Capability
from bot.installs.directory import Workspaces
from bot.installs.workspace import NotASlackId, WorkspaceKey
from bot.status_sync.poller import PhoneLook
from bot.store import Store
from handlers.context import Services
from handlers.slack_status_prefs import workspace_status

log = logging.getLogger(__name__)

#: Workspace clients kept before the least used is dropped.
MAX_CLIENTS = 256
REVOKED_NOTE_KEY = "slack-status-revoked-note:"
#: The DM is sent once per revocation: a retry (or the poller and a restore at once) finds the mark.
REVOKED_NOTE_SECONDS = 24 * 3600.0
REVOKED_NOTE = (
    ":warning: Slack no longer accepts phonebot's access to your Slack status (the permission was revoked or "
    "expired), so phonebot has stopped updating your status from your phone presence. Your phone presence "
    "is not affected. To turn it back on, open phonebot's *Home* tab and press *Connect Slack status*."
)


class WorkspaceBots:
    """Services acting for one workspace's bot, by the workspace's data prefix."""

    def __init__(
        self, services: Services, workspaces: Workspaces, make_client: Callable[[str, str | None], AsyncWebClient]
    ) -> None:
        self.services = services
        self.workspaces = workspaces
        self.make_client = make_client
        self._clients: OrderedDict[tuple[str, str], AsyncWebClient] = OrderedDict()

    async def services_for(self, prefix: str, user_id: str) -> tuple[Services, AsyncWebClient] | None:
        """The workspace's services and bot client; ``None`` when phonebot no longer serves it."""
        try:
            key = WorkspaceKey.from_data_prefix(prefix)
        except NotASlackId:
            return None
        installation = await self.workspaces.find(
            enterprise_id=key.enterprise_id, team_id=key.team_id, is_enterprise_install=key.team_id is None
        )
        if installation is None or installation.key is None or installation.key.data_prefix != prefix:
            return None
        cache_key = (installation.key.scope, installation.bot_token)
        client = self._clients.get(cache_key)
        if client is None:
            client = self._clients[cache_key] = self.make_client(installation.bot_token, key.team_id)
            while len(self._clients) > MAX_CLIENTS:
                self._clients.popitem(last=False)
        self._clients.move_to_end(cache_key)
        return await self.services.for_workspace(client, installation.key, user_id=user_id), client

    async def find_phone(self, prefix: str, user_id: str) -> PhoneLook | None:
        """The person's phone, for the presence poller (``None``: not linked, or no presence to read)."""
        found = await self.services_for(prefix, user_id)
        if found is None:
            return None
        here = found[0]
        try:
            linked = await here.identities.resolve(user_id)
        except IdentityError:
            return None
        adapter, identity = linked.adapter, linked.identity
        if not adapter.supports(Capability.PRESENCE_READ):
            return None
        settings = await workspace_status(here)
        return PhoneLook(vendor=adapter.name, read=lambda: adapter.get_presence(identity), settings=settings)

    async def tell_revoked(self, prefix: str, user_id: str) -> None:
        """DM the person, once, that their Slack status token was refused and how to connect it again."""
        store: Store = self.services.store
        if not await store.set_if_absent(prefix + REVOKED_NOTE_KEY + user_id[:32], "1", ttl=REVOKED_NOTE_SECONDS):
            return
        try:
            found = await self.services_for(prefix, user_id)
            if found is None:
                return
            await found[1].chat_postMessage(channel=user_id, text=REVOKED_NOTE)
        except Exception as exc:  # the note is a courtesy; sync is off for them either way
            log.info("could not tell a person their Slack status token was revoked (%s)", type(exc).__name__)

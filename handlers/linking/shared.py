"""What every linking listener shares: the request's services, refusals, and saying things back.

A button's value (or a modal's ``private_metadata``) names the workspace it was made for, and a
click from another is refused with :data:`NOT_HERE`; admin-only clicks re-check the admin every time.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.context import Services
from handlers.home import home_view, missing_scopes
from handlers.linking.home import NOTICE_SECONDS, linking_ready, notice_key

log = logging.getLogger(__name__)

NOT_HERE = "That button belongs to another workspace's phonebot, so I did nothing."
ADMINS_ONLY = ":no_entry: Only a phonebot admin can do that; nothing was changed."


def user_of(body: dict[str, Any]) -> str:
    """The clicker's Slack user id (bounded)."""
    return str((body.get("user") or {}).get("id") or "")[:32]


async def republish(here: Services, client: AsyncWebClient, user_id: str) -> None:
    """Publish ``user_id``'s App Home again (after a click on it)."""
    view = await home_view(here, user_id=user_id, missing_scopes=lambda: missing_scopes(here, client))
    await client.views_publish(user_id=user_id, view=view)


async def tell(respond: AsyncRespond, client: AsyncWebClient, here: Services, user_id: str, text: str) -> None:
    """Say ``text`` where the click came from: its message (``response_url``), else the App Home."""
    if respond.response_url:
        await respond(text=text, response_type="ephemeral", replace_original=False)
        return
    ready = linking_ready(here)
    if ready is not None:
        await ready[0].store.set(notice_key(ready[1], user_id), text, ttl=NOTICE_SECONDS)
        await republish(here, client, user_id)


async def dm(client: AsyncWebClient, user_id: str, text: str) -> None:
    """Tell a person in their DM with phonebot; a failure only costs the note."""
    try:
        await client.chat_postMessage(channel=user_id, text=text)
    except SlackApiError:
        log.info("could not DM a person about their link request")

"""The App Home's People buttons: Approve, Deny, Unlink someone, the approval toggle, and your own Unlink.

Each checks the button's workspace and (but for your own Unlink) that the clicker is an admin, does its
work, leaves one line for the clicker (shown at the top of their App Home) and publishes it again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.linking.directory import DirectoryLinking
from bot.mrkdwn import escape, mention
from bot.workspaces.settings import SettingsBusy, WorkspaceSettings
from handlers.admin_check import is_workspace_admin
from handlers.context import Services
from handlers.linking.home import (
    APPROVAL_TOGGLE_ACTION,
    APPROVE_ACTION,
    DENY_ACTION,
    HOME_UNLINK_ACTION,
    NOTICE_SECONDS,
    UNLINK_PERSON_ACTION,
    linking_ready,
    notice_key,
    parse_value,
)
from handlers.linking.shared import ADMINS_ONLY, NOT_HERE, dm, republish, user_of
from handlers.phonebot import unlink_action
from handlers.request_services import request_services

log = logging.getLogger(__name__)


PeopleWork = Callable[[Services, DirectoryLinking, str, str, AsyncWebClient], Awaitable[str]]


def people_listener(services: Services, work: PeopleWork, *, admin_only: bool = True) -> Callable[..., Awaitable[None]]:
    """A button on the App Home: check the workspace (and admin), do ``work``, note its outcome, republish."""

    async def listener(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        await ack()
        here = request_services(context, services)
        user_id = user_of(body)
        workspace, target = parse_value(str(action.get("value") or ""))
        ready = linking_ready(here)
        if ready is None or workspace != ready[1]:
            log.warning("refused an App Home click made for another workspace")
            note = NOT_HERE
        elif admin_only and not await is_workspace_admin(here, user_id):
            log.warning("refused an admin-only App Home click from a non-admin")
            note = ADMINS_ONLY
        else:
            note = await work(here, ready[0], user_id, target, client)
        if ready is not None:
            await ready[0].store.set(notice_key(ready[1], user_id), note[:2000], ttl=NOTICE_SECONDS)
        await republish(here, client, user_id)

    listener.__name__ = f"people_{work.__name__.strip('_')}"
    return listener


async def _approve(
    here: Services, linking: DirectoryLinking, admin: str, requester: str, client: AsyncWebClient
) -> str:
    result = await linking.approve(requester)
    if result.outcome == "gone" or result.user is None:
        return "That request was already answered (or has expired)."
    if result.outcome == "taken":
        return (
            f":no_entry: {mention(requester)} asked for *{escape(result.user.name)}*, but "
            f"{mention(result.owner or '')} is linked to it. Unlink them first, or use *Link someone*."
        )
    await dm(
        client,
        requester,
        f":white_check_mark: A phonebot admin approved: you are linked as *{escape(result.user.name)}*.",
    )
    return f":white_check_mark: {mention(requester)} is now linked as *{escape(result.user.name)}*."


async def _deny(here: Services, linking: DirectoryLinking, admin: str, requester: str, client: AsyncWebClient) -> str:
    request = await linking.deny(requester)
    if request is None:
        return "That request was already answered (or has expired)."
    await dm(
        client, requester, "A phonebot admin didn't approve the phone account you picked. Ask them which one is yours."
    )
    return f"Denied {mention(requester)}'s request."


async def _unlink_person(
    here: Services, linking: DirectoryLinking, admin: str, person: str, client: AsyncWebClient
) -> str:
    removed = await linking.unlink(person)
    return f":broken_chain: Unlinked {mention(person)}." if removed else f"{mention(person)} wasn't linked."


async def _toggle_approval(
    here: Services, linking: DirectoryLinking, admin: str, _: str, client: AsyncWebClient
) -> str:
    if here.settings is None or here.workspace is None:
        return "Approval can't be changed here: phonebot has no `PHONEBOT_SECRET_KEY` to keep workspace settings."

    def flip(settings: WorkspaceSettings) -> WorkspaceSettings:
        return settings.model_copy(update={"link_approval": not settings.link_approval})

    try:
        updated = await here.settings.update(here.workspace, flip, by=admin)
    except SettingsBusy:
        return "Another admin is saving settings right now; try again."
    return "Approval is now " + (
        "*on*: picks wait for an admin." if updated.link_approval else "*off*: a pick links at once."
    )


async def _unlink_self(here: Services, linking: DirectoryLinking, user_id: str, _: str, client: AsyncWebClient) -> str:
    return (await unlink_action(here, user_id=user_id)).text


#: Action id → (work, admin only).
PEOPLE_ACTIONS: dict[str, tuple[PeopleWork, bool]] = {
    APPROVE_ACTION: (_approve, True),
    DENY_ACTION: (_deny, True),
    UNLINK_PERSON_ACTION: (_unlink_person, True),
    APPROVAL_TOGGLE_ACTION: (_toggle_approval, True),
    HOME_UNLINK_ACTION: (_unlink_self, False),
}

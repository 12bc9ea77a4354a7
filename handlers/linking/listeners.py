"""Bolt listeners for directory linking: the Link button, the find modal, and the App Home's People buttons.

Each acks first; vendor searches, store writes and Slack calls come after. A button's value (or the
modal's ``private_metadata``) names the workspace it was made for, and a click from another is
refused. Admin buttons and the admin modal re-check :func:`~handlers.admin_check.is_workspace_admin`
on every click and submission; nothing in the view says who is an admin.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.errors import PhonebotError, VendorError
from bot.installation import CONTEXT_KEY
from bot.installs.directory import InstalledWorkspace
from bot.linking.directory import DirectoryLinking, PickResult, approval_on
from bot.mrkdwn import escape, mention
from bot.workspaces.settings import SettingsBusy, WorkspaceSettings
from handlers.admin_check import is_workspace_admin
from handlers.context import Services
from handlers.errors import PICK_SELF_ACTION, explain
from handlers.home import home_view, missing_scopes
from handlers.linking.home import (
    APPROVAL_TOGGLE_ACTION,
    APPROVE_ACTION,
    DENY_ACTION,
    HOME_UNLINK_ACTION,
    LINK_SOMEONE_ACTION,
    NOTICE_SECONDS,
    UNLINK_PERSON_ACTION,
    linking_ready,
    notice_key,
    parse_value,
)
from handlers.linking.modal import CALLBACK_ID, SEARCH_ACTION, ModalState, find_modal, message_modal, submitted
from handlers.phonebot import unlink_action

log = logging.getLogger(__name__)

NOT_HERE = "That button belongs to another workspace's phonebot, so I did nothing."
ADMINS_ONLY = ":no_entry: Only a phonebot admin can do that; nothing was changed."
NO_DIRECTORY = "None of the phone systems set up here has a directory to pick yourself from. Ask a phonebot admin."


def register_linking(app: AsyncApp, services: Services) -> None:
    """Attach the Link button, the find modal's search and submission, and the People buttons."""
    app.action(PICK_SELF_ACTION)(_open_find(services, mode="self"))
    app.action(LINK_SOMEONE_ACTION)(_open_find(services, mode="admin"))
    app.action(SEARCH_ACTION)(_search_listener(services))
    app.view(CALLBACK_ID)(_submit_listener(services))
    app.action(APPROVE_ACTION)(_people_listener(services, _approve))
    app.action(DENY_ACTION)(_people_listener(services, _deny))
    app.action(UNLINK_PERSON_ACTION)(_people_listener(services, _unlink_person))
    app.action(APPROVAL_TOGGLE_ACTION)(_people_listener(services, _toggle_approval))
    app.action(HOME_UNLINK_ACTION)(_people_listener(services, _unlink_self, admin_only=False))


#: Where the lead's workspace middleware leaves a request's services (``handlers.bolt.request_services``).
SERVICES_KEY = "phonebot_services"


def _here(services: Services, client: AsyncWebClient, context: AsyncBoltContext) -> Services:
    """This request's services: the workspace middleware's, else ``services`` bound to the request's installation."""
    resolved = context.get(SERVICES_KEY)
    if isinstance(resolved, Services):
        return resolved
    found = context.get(CONTEXT_KEY)
    return services.for_request(client, found.key if isinstance(found, InstalledWorkspace) else None)


def _user(body: dict[str, Any]) -> str:
    return str((body.get("user") or {}).get("id") or "")[:32]


def _vendor_name(here: Services) -> str:
    adapter = here.identities.directory_vendor()
    return adapter.display_name if adapter is not None else "the phone system"


def _open_find(services: Services, *, mode: str) -> Callable[..., Awaitable[None]]:
    async def listener(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        here = _here(services, client, context)
        user_id = _user(body)
        ready = linking_ready(here)
        workspace, _ = (
            parse_value(str(action.get("value") or "")) if mode == "admin" else (str(action.get("value")), "")
        )
        if ready is None or workspace != ready[1]:
            await _tell(respond, client, here, user_id, NOT_HERE)
            return
        if mode == "admin" and not await is_workspace_admin(here, user_id):
            await _tell(respond, client, here, user_id, ADMINS_ONLY)
            return
        state = ModalState(ready[1], "admin" if mode == "admin" else "self")
        approval = await approval_on(here.settings, here.workspace)
        view = find_modal(state, vendor=_vendor_name(here), approval=approval)
        await client.views_open(trigger_id=str(body.get("trigger_id")), view=view)

    listener.__name__ = f"open_find_{mode}"
    return listener


def _search_listener(services: Services) -> Callable[..., Awaitable[None]]:
    """Enter in the search box: search after the ack and update the modal."""

    async def listener(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        await ack()
        view = body.get("view") or {}
        here = _here(services, client, context)
        state = ModalState.loads(str(view.get("private_metadata") or ""))
        await _search_into(here, client, state, str(view.get("id")), _user(body), str(action.get("value") or ""))

    return listener


def _submit_listener(services: Services) -> Callable[..., Awaitable[None]]:
    """**Search** without a pick searches; with one, links or asks an admin."""

    async def listener(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext) -> None:
        view = body.get("view") or {}
        state = ModalState.loads(str(view.get("private_metadata") or ""))
        values = submitted(view)
        if state is not None and values.picked and state.mode == "admin" and not values.who:
            await ack(response_action="errors", errors={"who": "Choose the person to link."})
            return
        if state is None or not values.picked:
            if not values.query.strip():
                await ack(response_action="errors", errors={"query": "Type a name, extension or number."})
                return
            await ack(response_action="update", view=message_modal(":mag: Searching\u2026"))
        else:
            await ack(response_action="update", view=message_modal(":hourglass_flowing_sand: One moment\u2026"))
        here = _here(services, client, context)
        user_id, view_id = _user(body), str(view.get("id"))
        if state is None or not values.picked:
            await _search_into(here, client, state, view_id, user_id, values.query)
            return
        text = await _pick(here, state, user_id, values.picked, values.who)
        await client.views_update(view_id=view_id, view=message_modal(text))

    return listener


async def _search_into(
    here: Services, client: AsyncWebClient, state: ModalState | None, view_id: str, user_id: str, query: str
) -> None:
    ready = linking_ready(here)
    if state is None or ready is None or state.workspace != ready[1]:
        await client.views_update(view_id=view_id, view=message_modal(NOT_HERE))
        return
    linking, _ = ready
    adapter = here.identities.directory_vendor()
    if adapter is None:
        await client.views_update(view_id=view_id, view=message_modal(NO_DIRECTORY))
        return
    if state.mode == "admin" and not await is_workspace_admin(here, user_id):
        await client.views_update(view_id=view_id, view=message_modal(ADMINS_ONLY))
        return
    try:
        matches = await linking.search(adapter, user_id, query)
    except (VendorError, PhonebotError) as exc:
        status = explain(exc).text
        matches = []
    else:
        status = (
            f"No one in {escape(adapter.display_name)}'s directory matches that; try fewer letters or your number."
            if not matches
            else "Choose one and submit."
            + (" Showing the first few; type more to narrow it down." if len(matches) >= 10 else "")
        )
    approval = await approval_on(here.settings, here.workspace)
    view = find_modal(
        state, vendor=adapter.display_name, query=query, matches=matches, status=status, approval=approval
    )
    await client.views_update(view_id=view_id, view=view)


async def _pick(here: Services, state: ModalState, user_id: str, picked: str, who: str | None) -> str:
    """Carry out a submitted pick; the sentence the modal then shows."""
    ready = linking_ready(here)
    if ready is None or state.workspace != ready[1]:
        return NOT_HERE
    linking, _ = ready
    if state.mode == "admin":
        if not await is_workspace_admin(here, user_id):
            return ADMINS_ONLY
        assert who is not None
        result = await linking.link_by_admin(user_id, who, picked)
        if result.outcome != "linked" or result.user is None:
            return _sentence(result, "")
        moved = f" {mention(result.owner)} was linked to them and is not any more." if result.owner else ""
        return f":white_check_mark: {mention(who)} is now linked as *{escape(result.user.name)}*.{moved}"
    approval = await approval_on(here.settings, here.workspace)
    result = await linking.pick(user_id, picked, approval=approval)
    return _sentence(result, "you")


def _sentence(result: PickResult, whom: str) -> str:
    name = f"*{escape(result.user.name)}*" if result.user is not None else "that user"
    if result.outcome == "pending":
        return (
            f":hourglass: Thanks. A phonebot admin will approve linking {whom} as {name}; "
            "until then phonebot can't tell which phone is yours."
        )
    if result.outcome == "linked":
        return f":white_check_mark: Done: {whom} are linked as {name}. `/call` now rings your phone."
    if result.outcome == "taken":
        return f":no_entry: {name} is already linked to someone else in Slack. Ask a phonebot admin if that's wrong."
    if result.outcome == "full":
        return ":hourglass: Too many people are waiting for an admin's approval right now. Try again later."
    return "That choice is no longer on offer (the search is too old). Search again."


# -- the App Home's People buttons ----------------------------------------------------------------------

PeopleWork = Callable[[Services, DirectoryLinking, str, str, AsyncWebClient], Awaitable[str]]


def _people_listener(
    services: Services, work: PeopleWork, *, admin_only: bool = True
) -> Callable[..., Awaitable[None]]:
    """A button on the App Home: check the workspace (and admin), do ``work``, note its outcome, republish."""

    async def listener(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        await ack()
        here = _here(services, client, context)
        user_id = _user(body)
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
        await _republish(here, client, user_id)

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
    await _dm(
        client,
        requester,
        f":white_check_mark: A phonebot admin approved: you are linked as *{escape(result.user.name)}*.",
    )
    return f":white_check_mark: {mention(requester)} is now linked as *{escape(result.user.name)}*."


async def _deny(here: Services, linking: DirectoryLinking, admin: str, requester: str, client: AsyncWebClient) -> str:
    request = await linking.deny(requester)
    if request is None:
        return "That request was already answered (or has expired)."
    await _dm(
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


# -- small helpers ------------------------------------------------------------------------------------


async def _republish(here: Services, client: AsyncWebClient, user_id: str) -> None:
    view = await home_view(here, user_id=user_id, missing_scopes=lambda: missing_scopes(here, client))
    await client.views_publish(user_id=user_id, view=view)


async def _tell(respond: AsyncRespond, client: AsyncWebClient, here: Services, user_id: str, text: str) -> None:
    """Say ``text`` where the click came from: its message (``response_url``), else the App Home."""
    if respond.response_url:
        await respond(text=text, response_type="ephemeral", replace_original=False)
        return
    ready = linking_ready(here)
    if ready is not None:
        await ready[0].store.set(notice_key(ready[1], user_id), text, ttl=NOTICE_SECONDS)
        await _republish(here, client, user_id)


async def _dm(client: AsyncWebClient, user_id: str, text: str) -> None:
    """Tell a person in their DM with phonebot; a failure only costs the note."""
    try:
        await client.chat_postMessage(channel=user_id, text=text)
    except SlackApiError:
        log.info("could not DM a person about their link request")

"""The find modal's listeners: open it from a Link button, search after the ack, carry out the pick.

A person's pick links at once or waits for an admin (``WorkspaceSettings.link_approval``); an admin's
(**Link someone**) links the chosen person ``how="admin"``. The admin is re-checked on the click that
opens the admin modal, on each search in it and on its submission.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from adapters.errors import PhonebotError, VendorError
from bot.linking.directory import MAX_MATCHES, PickResult, approval_on
from bot.mrkdwn import escape, mention
from handlers.admin_check import is_workspace_admin
from handlers.context import Services
from handlers.errors import explain
from handlers.linking.home import linking_ready, parse_value
from handlers.linking.modal import ModalState, find_modal, message_modal, submitted
from handlers.linking.shared import ADMINS_ONLY, NOT_HERE, tell, user_of
from handlers.request_services import request_services

NO_DIRECTORY = "None of the phone systems set up here has a directory to pick yourself from. Ask a phonebot admin."


def _vendor_name(here: Services) -> str:
    adapter = here.identities.directory_vendor()
    return adapter.display_name if adapter is not None else "the phone system"


def open_find(services: Services, *, mode: str) -> Callable[..., Awaitable[None]]:
    async def listener(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        here = request_services(context, services)
        user_id = user_of(body)
        ready = linking_ready(here)
        workspace, _ = (
            parse_value(str(action.get("value") or "")) if mode == "admin" else (str(action.get("value")), "")
        )
        if ready is None or workspace != ready[1]:
            await tell(respond, client, here, user_id, NOT_HERE)
            return
        if mode == "admin" and not await is_workspace_admin(here, user_id):
            await tell(respond, client, here, user_id, ADMINS_ONLY)
            return
        state = ModalState(ready[1], "admin" if mode == "admin" else "self")
        approval = await approval_on(here.settings, here.workspace)
        view = find_modal(state, vendor=_vendor_name(here), approval=approval)
        await client.views_open(trigger_id=str(body.get("trigger_id")), view=view)

    listener.__name__ = f"open_find_{mode}"
    return listener


def search_listener(services: Services) -> Callable[..., Awaitable[None]]:
    """Enter in the search box: search after the ack and update the modal."""

    async def listener(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        await ack()
        view = body.get("view") or {}
        here = request_services(context, services)
        state = ModalState.loads(str(view.get("private_metadata") or ""))
        await _search_into(here, client, state, str(view.get("id")), user_of(body), str(action.get("value") or ""))

    return listener


def submit_listener(services: Services) -> Callable[..., Awaitable[None]]:
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
        here = request_services(context, services)
        user_id, view_id = user_of(body), str(view.get("id"))
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
            + (" Showing the first few; type more to narrow it down." if len(matches) >= MAX_MATCHES else "")
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
    result = await linking.pick(user_id, picked, approval=approval, email_owner=here.users.with_email)
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

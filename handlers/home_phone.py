"""A linked person's phone on their App Home: presence with one-click changes, queues, recent calls.

Built from phonebot's own state (links, counts, recent calls) plus two vendor reads (presence, queues) run side by
side within :data:`VENDOR_BUDGET_SECONDS`: a slow or failing phone system costs one sentence in its section, never
the Home. Every change goes through the same service as the slash command it stands for.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    MarkdownTextObject,
    SectionBlock,
)

from adapters.errors import PhonebotError, VendorError
from adapters.models import Capability, QueueStatus
from bot.identity import Linked
from handlers.context import Services
from handlers.errors import explain
from handlers.home_state import RecentCall, most_used, notice, recent_calls
from handlers.presence import presence_command
from handlers.queue import format_queue, queue_names

log = logging.getLogger(__name__)

#: How long the Home waits for the phone system (each read; they run at once).
VENDOR_BUDGET_SECONDS = 2.0
UNREACHABLE = ":warning: I couldn't reach the phone system just now; this part shows again when it answers."

NOTICE_BLOCK = "home_notice"
PRESENCE_BLOCK = "home_presence"
PRESENCE_BUTTONS_BLOCK = "home_presence_buttons"
PRESENCE_ACTION = "home_presence"  # + ":<n>", one per button; the value is the /presence text
PRESENCE_MODAL_ACTION = "home_presence_modal"
QUEUES_BLOCK = "home_queues"
QUEUE_BLOCK = "home_queue"  # + ":<n>"
QUEUE_TOGGLE_ACTION = "home_queue_toggle"  # the value is the /queue text ("login <id>" / "logout <id>")
CALLS_BLOCK = "home_calls"
CALL_BLOCK = "home_call"  # + ":<n>"
CALL_AGAIN_ACTION = "home_call_again"  # the value is the recent call's id

#: The fixed one-click presences: (label, /presence text).
PRESETS: tuple[tuple[str, str], ...] = (
    ("Lunch 30 min", "lunch 30m"),
    ("Meeting 1 h", "meeting 1h"),
    ("Away", "away"),
    ("Available", "available"),
)


async def phone_blocks(services: Services, linked: Linked) -> list[Block]:
    """The phone sections of ``linked``'s Home, below who they are."""
    user_id = linked.slack_user_id
    presence, queues = await asyncio.gather(
        _within_budget(presence_command(services, user_id=user_id, text="")),
        _within_budget(_queues(linked)),
    )
    blocks: list[Block] = [DividerBlock()]
    shown = await notice(services.store, user_id)
    if shown:
        blocks.append(ContextBlock(block_id=NOTICE_BLOCK, elements=[MarkdownTextObject(text=shown[:3000])]))
    blocks += await _presence_blocks(services, user_id, presence)
    blocks += _queue_blocks(linked, queues)
    blocks += _call_blocks(await recent_calls(services.store, user_id))
    blocks += await open_alerts_blocks(services, linked)
    return blocks


async def open_alerts_blocks(services: Services, linked: Linked) -> list[Block]:
    """Issue 13 point 3, to come: the open lost calls and voicemails of ``linked``'s groups (``bot.alerts``
    ``open_for`` / ``act``). Nothing yet."""
    return []


async def _within_budget(work: Any) -> Any:
    """``work``'s result, or the exception it (or the budget) ended with."""
    try:
        async with asyncio.timeout(VENDOR_BUDGET_SECONDS):
            return await work
    except (TimeoutError, PhonebotError, SlackApiError) as exc:
        return exc


async def _queues(linked: Linked) -> list[QueueStatus] | None:
    if not linked.adapter.supports(Capability.QUEUE_STATUS):
        return None
    return await linked.adapter.queue_status(linked.identity)


def _failure_text(result: BaseException) -> str:
    if isinstance(result, (TimeoutError, VendorError)):
        return UNREACHABLE
    return explain(result).text[:3000]


async def _presence_blocks(services: Services, user_id: str, presence: Any) -> list[Block]:
    text = _failure_text(presence) if isinstance(presence, BaseException) else presence.text
    blocks: list[Block] = [
        SectionBlock(block_id=PRESENCE_BLOCK, text=MarkdownTextObject(text=f"*My presence*\n{text}"))
    ]
    fixed = tuple(value for _, value in PRESETS)
    favourites = await most_used(services.store, user_id, besides=fixed)
    choices = list(PRESETS) + [(value.capitalize(), value) for value in favourites]
    buttons = [
        ButtonElement(text=label[:75], action_id=f"{PRESENCE_ACTION}:{n}", value=value)
        for n, (label, value) in enumerate(choices)
    ]
    buttons.append(ButtonElement(text="Set\u2026", action_id=PRESENCE_MODAL_ACTION, value="set"))
    blocks.append(ActionsBlock(block_id=PRESENCE_BUTTONS_BLOCK, elements=buttons))
    return blocks


def _queue_blocks(linked: Linked, queues: Any) -> list[Block]:
    if queues is None:
        return []  # the phone system has no queues to show
    title = "*My queues*"
    if isinstance(queues, BaseException):
        return [SectionBlock(block_id=QUEUES_BLOCK, text=MarkdownTextObject(text=f"{title}\n{_failure_text(queues)}"))]
    if not queues:
        text = f"{title}\nYou aren't in any queue on {linked.adapter.display_name}."
        return [SectionBlock(block_id=QUEUES_BLOCK, text=MarkdownTextObject(text=text))]
    blocks: list[Block] = [SectionBlock(block_id=QUEUES_BLOCK, text=MarkdownTextObject(text=title))]
    names = queue_names(queues)
    can_toggle = linked.adapter.supports(Capability.QUEUE_LOGIN)
    for n, queue in enumerate(queues[:20]):
        toggle = None
        if can_toggle and queue.me_logged_in is not None:
            verb = "logout" if queue.me_logged_in else "login"
            toggle = ButtonElement(
                text="Log out" if queue.me_logged_in else "Log in",
                action_id=QUEUE_TOGGLE_ACTION,
                value=f"{verb} {queue.group_id}"[:2000],
            )
        line = format_queue(queue, name=names[queue.group_id])[:3000]
        blocks.append(SectionBlock(block_id=f"{QUEUE_BLOCK}:{n}", text=MarkdownTextObject(text=line), accessory=toggle))
    return blocks


def _call_blocks(calls: list[RecentCall]) -> list[Block]:
    if not calls:
        return []
    blocks: list[Block] = [SectionBlock(block_id=CALLS_BLOCK, text=MarkdownTextObject(text="*Calls I placed*"))]
    for n, call in enumerate(calls):
        stamp = int(call.at.timestamp())
        when = f"<!date^{stamp}^{{date_short_pretty}} {{time}}|{call.at.strftime('%Y-%m-%d %H:%M UTC')}>"
        blocks.append(
            SectionBlock(
                block_id=f"{CALL_BLOCK}:{n}",
                text=MarkdownTextObject(text=f"{call.shown} \u00b7 {when}"),
                accessory=ButtonElement(text="Call again", action_id=CALL_AGAIN_ACTION, value=call.id),
            )
        )
    return blocks

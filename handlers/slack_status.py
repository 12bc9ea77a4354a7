"""The handlers' side of Slack status sync: the App Home section, Disconnect, and what ``/presence`` adds.

A person who connected their Slack status (:mod:`bot.status_sync`) sees their phone presence in Slack
too; everyone else is offered **Connect Slack status** and everything else works without it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import ButtonElement, MarkdownTextObject, SectionBlock

from adapters.models import Presence
from bot.status_sync.sync import Outcome
from handlers.context import Services
from handlers.slack_status_prefs import prefs_block, workspace_status

CONNECT_ACTION = "slack_status_connect"
DISCONNECT_ACTION = "slack_status_disconnect"

_NOTES = {
    Outcome.SET: " Your Slack status shows it too.",
    Outcome.RESTORED: " Your own Slack status is back.",
    Outcome.CLEARED: " phonebot's Slack status is cleared.",
    Outcome.LEFT_ALONE: " You changed your Slack status yourself, so phonebot left it as it is.",
    Outcome.FAILED: " (Your Slack status couldn't be updated just now; your phone presence is set all the same.)",
    Outcome.QUEUED: " Your Slack status will follow in a moment (Slack paces status changes when many come at once).",
    Outcome.REVOKED: (
        " Slack no longer accepts phonebot's access to your status, so it stopped updating it; "
        "connect it again in phonebot's App Home if you want it back."
    ),
}


def _prefix(services: Services) -> str | None:
    return services.workspace.data_prefix if services.workspace is not None else None


async def presence_set_note(
    services: Services, user_id: str, *, activity: str, label: str, until: datetime | None, now: datetime
) -> str:
    """Set the person's Slack status for the presence just set; the sentence the reply adds (may be empty)."""
    prefix = _prefix(services)
    if services.status_sync is None or prefix is None:
        return ""
    writer = services.status_paced or services.status_sync
    outcome = await writer.presence_set(
        prefix,
        user_id,
        activity=activity,
        label=label,
        until=until,
        now=now,
        workspace=await workspace_status(services),
    )
    return _NOTES.get(outcome, "")


async def phone_presence_written(services: Services, user_id: str, presence: Presence) -> None:
    """phonebot itself just set the person's phone to ``presence``: the presence poller must not take it for a
    change made in the phone system's app."""
    prefix = _prefix(services)
    if services.status_sync is not None and prefix is not None:
        await services.status_sync.seen.note(prefix, user_id, presence)


async def presence_cleared_note(services: Services, user_id: str, *, now: datetime) -> str:
    """Take phonebot's Slack status down (and put the person's own back); the sentence the reply adds."""
    prefix = _prefix(services)
    if services.status_sync is None or prefix is None:
        return ""
    writer = services.status_paced or services.status_sync
    return _NOTES.get(await writer.presence_cleared(prefix, user_id, now=now), "")


async def slack_status_blocks(services: Services, user_id: str) -> list[Any]:
    """The person's Slack status section of the App Home (none where status sync isn't available)."""
    prefix = _prefix(services)
    sync, flow = services.status_sync, services.status_flow
    if sync is None or flow is None or prefix is None or services.workspace is None:
        return []
    if await sync.tokens.connected(prefix, user_id):
        disconnect = ButtonElement(
            text="Disconnect Slack status", action_id=DISCONNECT_ACTION, value=services.workspace.scope, style="danger"
        )
        # One block, the switches and Disconnect: the fullest Home has no block to spare.
        return [await prefs_block(services, prefix, user_id, disconnect.to_dict())]
    else:
        text = (
            "*Slack status* Let phonebot show your phone presence as your Slack status (and snooze "
            "notifications while you're on DND), putting your own status back afterwards."
        )
        button = ButtonElement(
            text="Connect Slack status", action_id=CONNECT_ACTION, url=await flow.offer(prefix, user_id)
        )
    return [SectionBlock(text=MarkdownTextObject(text=text), accessory=button)]  # one block: the Home is full


async def disconnect_action(services: Services, *, user_id: str, value: str) -> bool:
    """Disconnect the clicking person's own Slack status; ``False`` when the button is another workspace's."""
    prefix = _prefix(services)
    if services.status_sync is None or prefix is None or services.workspace is None:
        return False
    if value != services.workspace.scope:
        return False
    await services.status_sync.disconnect(prefix, user_id)
    return True

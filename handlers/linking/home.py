"""The App Home's linking part: your own link's buttons, and for admins a **People** section.

Everyone: **Unlink** under "You are …" when they linked themselves, the **Link your phone account**
button when they aren't linked, and their pending request. Admins also get: whether picks wait for
approval (a toggle, read-only without a settings store), pending requests with Approve / Deny,
**Link someone**, and the first :data:`MAX_LINKED` linked people with Unlink. Every button's value
starts with the workspace's data prefix, which the click's handler checks against the request's.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.linking.directory import DirectoryLinking, approval_on
from bot.linking.links import AccountLink
from bot.linking.requests import LinkRequest
from bot.mrkdwn import escape, mention
from handlers.admin_check import is_workspace_admin
from handlers.context import Services
from handlers.errors import LINK_ACTION, PICK_SELF_ACTION
from handlers.phonebot import UNLINK_ACTION
from handlers.reply import Reply

HOME_UNLINK_ACTION = "home_unlink"
APPROVE_ACTION = "people_approve"
DENY_ACTION = "people_deny"
UNLINK_PERSON_ACTION = "people_unlink"
LINK_SOMEONE_ACTION = "people_link"
APPROVAL_TOGGLE_ACTION = "people_approval"
MAX_PENDING_SHOWN = 10
MAX_LINKED = 20
#: How someone was linked, as an admin reads it.
THEIR_LINK = {
    "oauth": "linked their own account",
    "directory": "picked from the directory",
    "admin": "linked by an admin",
}
#: One line for an admin about their last click on this page (taken when the page is next built).
NOTICE_SECONDS = 300


def button_value(workspace: str, slack_user: str = "") -> str:
    """``<data prefix>|<Slack user id>``: where the button belongs and whom it acts on."""
    return f"{workspace}|{slack_user[:32]}"


def parse_value(value: str) -> tuple[str, str]:
    """``(data prefix, Slack user id)`` from :func:`button_value` (empty parts when malformed)."""
    workspace, _, slack_user = value[:200].rpartition("|")
    return workspace, slack_user


def notice_key(workspace: str, user_id: str) -> str:
    return f"{workspace}link-notice:{user_id[:32]}"


def linking_ready(services: Services) -> tuple[DirectoryLinking, str] | None:
    """The workspace's :class:`DirectoryLinking` and data prefix, when links are kept here."""
    links, prefix = services.identities.links, services.identities.key_prefix
    if links is None or not prefix or services.workspace is None:
        return None
    # The links' own store, keys spelled with the prefix (as AccountLinks does), whatever scope services.store has.
    return DirectoryLinking(links.store, links, prefix), prefix


async def people_blocks(services: Services, *, user_id: str, me: Reply) -> list[Any]:
    """The blocks under "You are …" on ``user_id``'s App Home."""
    ready = linking_ready(services)
    if ready is None:
        return []
    linking, prefix = ready
    blocks: list[Any] = []
    notice = await linking.store.take(notice_key(prefix, user_id))
    if notice:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=notice[:2000])]))
    own = _own_buttons(me, prefix)
    if own:
        blocks.append(ActionsBlock(block_id="my_link", elements=own))
    mine = await linking.requests.get(prefix, user_id)
    if mine is not None:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f":hourglass: You asked to be linked as *{escape(mine.name or mine.user_id)}*; "
                        "a phonebot admin has yet to approve it."
                    )
                ]
            )
        )
    if not await is_workspace_admin(services, user_id):
        return blocks
    return blocks + await _admin_blocks(services, linking, prefix, user_id)


def _own_buttons(me: Reply, prefix: str) -> list[ButtonElement]:
    elements: list[ButtonElement] = []
    for button in me.buttons:
        if button.action_id == UNLINK_ACTION:
            elements.append(
                ButtonElement(text="Unlink", action_id=HOME_UNLINK_ACTION, value=button_value(prefix), style="danger")
            )
        elif button.action_id in (PICK_SELF_ACTION, LINK_ACTION):
            elements.append(
                ButtonElement(
                    text=button.label[:75],
                    action_id=button.action_id,
                    value=button.value,
                    style="primary",
                    url=button.url,
                )
            )
    return elements


async def _admin_blocks(services: Services, linking: DirectoryLinking, prefix: str, admin: str) -> list[Any]:
    blocks: list[Any] = [DividerBlock(), HeaderBlock(text="People")]
    approval = await approval_on(services.settings, services.workspace)
    state = "on: people who pick themselves wait for an admin" if approval else "off: a pick links at once"
    if services.settings is not None:
        toggle = ButtonElement(
            text="Turn approval off" if approval else "Turn approval on",
            action_id=APPROVAL_TOGGLE_ACTION,
            value=button_value(prefix),
        )
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=f"*Approval of directory picks:* {state}."), accessory=toggle)
        )
    else:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"*Approval of directory picks:* {state}. (Changing it needs `PHONEBOT_SECRET_KEY`.)"
                    )
                ]
            )
        )
    pending, waiting = await linking.requests.pending(prefix, limit=MAX_PENDING_SHOWN)
    for request in pending:
        blocks += _request_blocks(request, prefix)
    if waiting > len(pending):
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"…and {waiting - len(pending)} more waiting.")]))
    elif not pending:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text="Nobody is waiting for approval.")]))
    blocks.append(
        ActionsBlock(
            block_id="people_link",
            elements=[ButtonElement(text="Link someone", action_id=LINK_SOMEONE_ACTION, value=button_value(prefix))],
        )
    )
    linked, total = await linking.links.linked(prefix, limit=MAX_LINKED)
    vendors = {name: adapter.display_name for name, adapter in services.adapters.items()}
    for slack_user, link in linked:
        blocks.append(_linked_block(slack_user, link, prefix, vendors.get(link.vendor, link.vendor)))
    if total > len(linked):
        blocks.append(
            ContextBlock(
                elements=[MarkdownTextObject(text=f"{total} people are linked; the first {len(linked)} are shown.")]
            )
        )
    return blocks


def _request_blocks(request: LinkRequest, prefix: str) -> list[Any]:
    who = escape(request.name or request.user_id)
    number = f" ({escape(request.number)})" if request.number else ""
    asked = f"<!date^{int(request.requested_at.timestamp())}^{{date_short_pretty}}|recently>"
    value = button_value(prefix, request.slack_user)
    return [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"{mention(request.slack_user)} says they are *{who}*{number} "
                f"(`{escape(request.user_id)}`), asked {asked}."
            )
        ),
        ActionsBlock(
            block_id=f"req_{request.slack_user}"[:255],
            elements=[
                ButtonElement(text="Approve", action_id=APPROVE_ACTION, value=value, style="primary"),
                ButtonElement(text="Deny", action_id=DENY_ACTION, value=value, style="danger"),
            ],
        ),
    ]


def _linked_block(slack_user: str, link: AccountLink, prefix: str, vendor: str) -> SectionBlock:
    how = THEIR_LINK[link.how]
    name = escape(link.name or link.user_id)
    return SectionBlock(
        text=MarkdownTextObject(text=f"{mention(slack_user)} is {escape(vendor)} *{name}* ({how})."),
        accessory=ButtonElement(
            text="Unlink", action_id=UNLINK_PERSON_ACTION, value=button_value(prefix, slack_user), style="danger"
        ),
    )

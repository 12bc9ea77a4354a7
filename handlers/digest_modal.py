"""The **Show all** modal of a digest: every alert the digest counts, newest first, each with Call back.

A digest message lists at most ``DIGEST_LINES`` alerts ("+180 more lost calls" shows 40); its
Show all button (``SHOW_ALL_ACTION``, value: the digest id) opens this modal, ``PAGE_SIZE`` alerts
a page, within Slack's 100-block limit for views, with **Newer** / **Older** buttons between
pages. Each alert with a number has its own **Call back** (``DIGEST_CALLBACK_ACTION``, value: the
subject key), which does exactly what the alert's own Call back does (``AlertActions``); the
outcome is shown at the top of the page the user is on.

The modal carries the digest id and page in its ``private_metadata``; nothing about it is stored.
Button values are the clicker's to edit, so each is checked before it is used: **Show all**
opens a digest only on that digest's own message (its channel and ``ts``); a page button
carries only a page number, the digest being the one the modal already shows; a Call back
acts only on a member of that digest. A value that fails these checks gets a kind line in
the modal, never another digest's alerts.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.alerts.digests import Digests
from bot.alerts.ledger import Ledger
from bot.alerts.queue import AlertQueue, WorkspaceQueues
from bot.alerts.state import AlertState
from bot.alerts.view import button_value, summary_line
from bot.installs.workspace import WorkspaceKey
from handlers.payload import json_object

DIGEST_PAGE_ACTION = "alert_digest_page"
DIGEST_CALLBACK_ACTION = "alert_digest_callback"
CALLBACK_ID = "alert_digest"
#: Alerts per page: one block each, plus at most three (status, position, page buttons) — far below 100.
PAGE_SIZE = 50
BUTTON_VALUE_MAX = 2000
_CALLABLE = frozenset({"lost_call", "voicemail"})
#: What ``bot.alerts.digests`` names digests: ``burst:<channel>:<hex>``, ``quiet:<channel>:<unix time>``.
_DIGEST_ID = re.compile(r"(burst|quiet):[A-Za-z0-9#_.-]{1,80}:[0-9a-f]{1,32}")
_PAGE = re.compile(r"\d{1,6}")
NOT_THIS_MESSAGE = "That button doesn't belong to this digest's message, so I can't show its alerts."
NOT_THIS_LIST = "That button doesn't belong to this list; click *Show all* on the digest again."


@dataclass(frozen=True)
class DigestPage:
    """One page of a digest's members, newest first (``state`` is ``None`` once a record has expired)."""

    digest_id: str
    channel: str
    page: int
    total: int
    members: list[tuple[str, AlertState | None]]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


class DigestBrowser:
    """Reads a digest's members and their alert states for the modal."""

    def __init__(self, queue: AlertQueue, *, queues: WorkspaceQueues | None = None) -> None:
        self.digests = Digests(queue.redis, queue.keys)
        self.ledger = Ledger(queue.redis, queue.keys)
        self.queues = queues

    def within(self, workspace: WorkspaceKey | None) -> DigestBrowser:
        """The digests of ``workspace``'s own alert pipeline where it has one (the request's workspace), else these."""
        own = self.queues(workspace, None) if self.queues is not None else None
        return self if own is None else DigestBrowser(own)

    async def opened(self, digest_id: str, *, channel: str | None, message_ts: str | None) -> DigestPage | str | None:
        """The first page for a **Show all** click on message ``message_ts`` in ``channel``.

        A refusal (str) unless ``digest_id`` is the digest that message shows; ``None`` if it is gone.
        """
        if not _DIGEST_ID.fullmatch(digest_id):
            return NOT_THIS_MESSAGE
        digest = await self.digests.get(digest_id)
        if digest is None:
            return None
        if digest.channel != channel or digest.ts is None or digest.ts != message_ts:
            return NOT_THIS_MESSAGE
        return await self.page(digest_id, 0)

    async def page(self, digest_id: str, page: int) -> DigestPage | None:
        """Page ``page`` (0 = newest), clamped to the pages there are; ``None`` if the digest is gone."""
        if not _DIGEST_ID.fullmatch(digest_id):
            return None
        digest = await self.digests.get(digest_id)
        if digest is None:
            return None
        keys = await self.digests.members(digest_id)
        page = min(max(page, 0), max(0, (len(keys) - 1) // PAGE_SIZE))
        shown = keys[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
        records = await self.ledger.load_many(shown)
        members = [(key, record.state if record else None) for key, record in zip(shown, records, strict=True)]
        return DigestPage(digest_id=digest_id, channel=digest.channel, page=page, total=len(keys), members=members)

    async def alert_button_value(self, digest_id: str, subject_key: str) -> str | None:
        """The value the subject's own alert buttons carry, or ``None`` unless it is a member phonebot still has."""
        if len(subject_key) > BUTTON_VALUE_MAX or not await self.digests.has_member(digest_id, subject_key):
            return None
        record = await self.ledger.load(subject_key)
        return button_value(record.state) if record.state is not None else None


@dataclass(frozen=True)
class ModalPlace:
    """Which digest and page an open modal shows (its ``private_metadata``)."""

    digest_id: str
    page: int

    def dump(self) -> str:
        return json.dumps({"digest": self.digest_id, "page": self.page})

    @classmethod
    def load(cls, raw: str) -> ModalPlace | None:
        """The place ``raw`` (from :meth:`dump`) names; ``None`` for anything else (no guessing, no coercion)."""
        data = json_object(raw)
        if data is None:
            return None
        digest_id, page = data.get("digest"), data.get("page")
        if not isinstance(digest_id, str) or not _DIGEST_ID.fullmatch(digest_id):
            return None
        if not isinstance(page, int) or isinstance(page, bool) or not 0 <= page < 10**6:
            return None
        return cls(digest_id=digest_id, page=page)

    def turned_to(self, value: str) -> ModalPlace | None:
        """Where a page button's ``value`` leads from here: a page of *this* digest, else ``None``."""
        if _PAGE.fullmatch(value):
            return ModalPlace(self.digest_id, int(value))
        legacy = ModalPlace.load(value)  # a modal opened before page buttons carried only the number
        return legacy if legacy is not None and legacy.digest_id == self.digest_id else None


def digest_modal(page: DigestPage | None, *, tz: ZoneInfo, status: str | None = None) -> dict[str, Any]:
    """The modal view for ``page`` (``None``: the digest is gone, or ``status`` says why not), ``status`` on top."""
    blocks: list[Block] = []
    if status:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=status[:3000])))
    if page is None:
        if not status:
            blocks.append(SectionBlock(text=MarkdownTextObject(text="This digest is no longer available.")))
        return _view(blocks, title="Alerts", metadata="")
    states = [state for _, state in page.members if state is not None]
    first = page.page * PAGE_SIZE + 1
    where = f"{first} to {first + len(page.members) - 1} of {page.total}" if page.members else "none"
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"Newest first · {where}")]))
    for key, state in page.members:
        blocks.append(_member(key, state, tz))
    navigation = []
    if page.page > 0:
        navigation.append(_page_button("Newer", page.page - 1))
    if page.page + 1 < page.pages:
        navigation.append(_page_button("Older", page.page + 1))
    if navigation:
        blocks.append(ActionsBlock(block_id="pages", elements=navigation))
    title = "Lost calls" if states and all(s.family == "lost_call" for s in states) else "Alerts"
    return _view(blocks, title=f"{title} ({page.total})", metadata=ModalPlace(page.digest_id, page.page).dump())


def _member(key: str, state: AlertState | None, tz: ZoneInfo) -> SectionBlock:
    if state is None:
        return SectionBlock(text=MarkdownTextObject(text="• an alert phonebot no longer has (older than 30 days)"))
    text = MarkdownTextObject(text=f"• {summary_line(state, tz)}"[:3000])
    if state.family not in _CALLABLE or not state.caller_number or len(key) > BUTTON_VALUE_MAX:
        return SectionBlock(text=text)
    button = ButtonElement(text="Call back", action_id=DIGEST_CALLBACK_ACTION, value=key, style="primary")
    return SectionBlock(text=text, accessory=button)


def _page_button(label: str, page: int) -> ButtonElement:
    """Only the page number: the digest is the one in the modal's ``private_metadata``."""
    return ButtonElement(text=label, action_id=DIGEST_PAGE_ACTION, value=str(page))


def _view(blocks: list[Block], *, title: str, metadata: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "title": {"type": "plain_text", "text": title[:24]},
        "close": {"type": "plain_text", "text": "Close"},
        "private_metadata": metadata,
        "blocks": [block.to_dict() for block in blocks],
    }

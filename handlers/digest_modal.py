"""The **Show all** modal of a digest: every alert the digest counts, newest first, each with Call back.

A digest message lists at most ``DIGEST_LINES`` alerts ("+180 more lost calls" shows 40); its
Show all button (``SHOW_ALL_ACTION``, value: the digest id) opens this modal, ``PAGE_SIZE`` alerts
a page, within Slack's 100-block limit for views, with **Newer** / **Older** buttons between
pages. Each alert with a number has its own **Call back** (``DIGEST_CALLBACK_ACTION``, value: the
subject key), which does exactly what the alert's own Call back does (``AlertActions``); the
outcome is shown at the top of the page the user is on.

The modal carries the digest id and page in its ``private_metadata``; nothing about it is stored.
"""

from __future__ import annotations

import json
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
from bot.alerts.queue import AlertQueue
from handlers.alert_view import AlertState, button_value, summary_line

DIGEST_PAGE_ACTION = "alert_digest_page"
DIGEST_CALLBACK_ACTION = "alert_digest_callback"
CALLBACK_ID = "alert_digest"
#: Alerts per page: one block each, plus at most three (status, position, page buttons) — far below 100.
PAGE_SIZE = 50
BUTTON_VALUE_MAX = 2000
_CALLABLE = frozenset({"lost_call", "voicemail"})


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

    def __init__(self, queue: AlertQueue) -> None:
        self.digests = Digests(queue.redis, queue.keys)
        self.ledger = Ledger(queue.redis, queue.keys)

    async def page(self, digest_id: str, page: int) -> DigestPage | None:
        """Page ``page`` (0 = newest), clamped to the pages there are; ``None`` if the digest is gone."""
        digest = await self.digests.get(digest_id)
        if digest is None:
            return None
        keys = await self.digests.members(digest_id)
        page = min(max(page, 0), max(0, (len(keys) - 1) // PAGE_SIZE))
        shown = keys[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
        records = await self.ledger.load_many(shown)
        members = [(key, record.state if record else None) for key, record in zip(shown, records, strict=True)]
        return DigestPage(digest_id=digest_id, channel=digest.channel, page=page, total=len(keys), members=members)

    async def alert_button_value(self, subject_key: str) -> str | None:
        """The value the subject's own alert buttons carry, or ``None`` if phonebot no longer has it."""
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
        try:
            data = json.loads(raw)
            return cls(digest_id=str(data["digest"]), page=int(data["page"]))
        except (ValueError, KeyError, TypeError):
            return None


def digest_modal(page: DigestPage | None, *, tz: ZoneInfo, status: str | None = None) -> dict[str, Any]:
    """The modal view for ``page`` (``None``: the digest is gone), ``status`` (a click's outcome) on top."""
    blocks: list[Block] = []
    if status:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=status[:3000])))
    if page is None:
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
        navigation.append(_page_button("Newer", page.digest_id, page.page - 1))
    if page.page + 1 < page.pages:
        navigation.append(_page_button("Older", page.digest_id, page.page + 1))
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


def _page_button(label: str, digest_id: str, page: int) -> ButtonElement:
    return ButtonElement(text=label, action_id=DIGEST_PAGE_ACTION, value=ModalPlace(digest_id, page).dump())


def _view(blocks: list[Block], *, title: str, metadata: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "title": {"type": "plain_text", "text": title[:24]},
        "close": {"type": "plain_text", "text": "Close"},
        "private_metadata": metadata,
        "blocks": [block.to_dict() for block in blocks],
    }

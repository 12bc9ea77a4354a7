"""The App Home tab: who you are linked as, and how to use phonebot."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ContextBlock, DividerBlock, HeaderBlock, MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View

from adapters.errors import PhonebotError
from handlers.context import Services
from handlers.errors import explain
from handlers.parsing import help_text
from handlers.phonebot import whoami


async def home_view(services: Services, *, user_id: str) -> dict[str, Any]:
    """The Home tab view for ``user_id`` as a dict for ``views.publish``."""
    try:
        me = await whoami(services, user_id=user_id)
    except PhonebotError as exc:
        me = explain(exc)
    blocks = [
        HeaderBlock(text="phonebot"),
        SectionBlock(text=MarkdownTextObject(text=me.text)),
    ]
    if me.context:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=me.context)]))
    blocks.append(DividerBlock())
    blocks.append(SectionBlock(text=MarkdownTextObject(text=help_text(None)[:3000])))
    return View(type="home", blocks=blocks).to_dict()

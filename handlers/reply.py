"""What a handler answers: text plus optional Block Kit blocks, built from slack_sdk models."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from adapters.events import bounded_id
from bot.mrkdwn import code_span

MAX_BUTTONS = 10
#: Slack's limits for a button's ``action_id`` and ``value``.
MAX_ACTION_ID = 255
MAX_VALUE = 2000


@dataclass(frozen=True)
class Button:
    """A button on a reply: ``action_id`` routes the click, ``value`` carries the data.

    An ``action_id`` built from vendor data is shortened with a hash when too long (it stays
    unique and keeps its prefix, which routes it); a ``value`` must be kept short by its builder.
    """

    label: str
    action_id: str
    value: str
    style: str | None = None
    #: A link button: Slack opens ``url`` in the browser (the click still reaches phonebot, acked and ignored).
    url: str | None = None


@dataclass(frozen=True)
class Reply:
    """One message back to the user (ephemeral unless ``in_channel``)."""

    text: str
    context: str | None = None
    buttons: Sequence[Button] = field(default_factory=tuple)
    in_channel: bool = False
    replace_original: bool = False

    def blocks(self) -> list[Block]:
        """Block Kit rendering; validated by slack_sdk when serialised."""
        blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=self.text[:3000]))]
        if self.buttons:
            elements = [
                ButtonElement(
                    text=button.label[:75],
                    action_id=bounded_id(button.action_id, MAX_ACTION_ID),
                    value=button.value[:MAX_VALUE],
                    style=button.style,
                    url=button.url,
                )
                for button in self.buttons[:MAX_BUTTONS]
            ]
            blocks.append(ActionsBlock(block_id="choices", elements=elements))
        if self.context:
            blocks.append(ContextBlock(elements=[MarkdownTextObject(text=self.context[:2000])]))
        return blocks

    def to_slack(self) -> dict[str, Any]:
        """Keyword arguments for Bolt's ``respond()`` / ``ack()``."""
        payload: dict[str, Any] = {
            "text": self.text,
            "blocks": [block.to_dict() for block in self.blocks()],
            "response_type": "in_channel" if self.in_channel else "ephemeral",
        }
        if self.replace_original:
            payload["replace_original"] = True
        else:
            # Sentry learned the hard way: say it explicitly or Slack may replace the alert.
            payload["replace_original"] = False
        return payload


Respond = Callable[[Reply], Awaitable[None]]


def usage(message: str, example: str) -> Reply:
    """A kind answer to malformed input: what was wrong, and an example that works.

    Examples may carry words the user typed (``/presence <label> until 14:00``): the code span
    is built so nothing in them can break it.
    """
    return Reply(text=f"{message}\nFor example: {code_span(example)}")

"""The find-in-the-directory modal: a person finds themselves, or an admin links someone.

One modal, two modes: ``self`` (the person who clicked **Link your phone account**) and ``admin``
(**Link someone** on the App Home: a person picker too). Pressing Enter in the search box
(``dispatch_action``) or **Search** runs the search after the ack and updates the modal with at most
:data:`~bot.linking.directory.MAX_MATCHES` radio buttons; submitting with one chosen picks it.
``private_metadata`` carries the workspace's data prefix (checked against the request's) and the mode.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from slack_sdk.models.blocks import (
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    UserSelectElement,
)
from slack_sdk.models.views import View

from adapters.models import VendorUser
from bot.linking.directory import MAX_QUERY
from bot.mrkdwn import escape

CALLBACK_ID = "link_find"
SEARCH_ACTION = "link_search"
QUERY_BLOCK = "query"
PICK_BLOCK = "pick"
PICK_ACTION = "pick"
WHO_BLOCK = "who"
WHO_ACTION = "who"
MAX_METADATA = 500

Mode = Literal["self", "admin"]


@dataclass(frozen=True)
class ModalState:
    """Where the modal belongs (a workspace's data prefix) and whose it is (``mode``)."""

    workspace: str
    mode: Mode

    def dumps(self) -> str:
        return json.dumps({"ws": self.workspace, "mode": self.mode})[:MAX_METADATA]

    @classmethod
    def loads(cls, raw: str) -> ModalState | None:
        """The state in ``private_metadata``, or ``None`` when it isn't this modal's."""
        try:
            data = json.loads(raw[:MAX_METADATA]) if raw else None
        except ValueError:
            return None
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("ws"), str)
            or data.get("mode") not in ("self", "admin")
        ):
            return None
        return cls(data["ws"], data["mode"])


@dataclass(frozen=True)
class Submitted:
    """What the modal's inputs hold: the search text, the chosen phone-system user, the chosen person."""

    query: str
    picked: str | None
    who: str | None


def submitted(view: dict[str, Any]) -> Submitted:
    """Read the modal's state values (bounded: they come from the client)."""
    values = (view.get("state") or {}).get("values") or {}
    query = ((values.get(QUERY_BLOCK) or {}).get(SEARCH_ACTION) or {}).get("value") or ""
    option = ((values.get(PICK_BLOCK) or {}).get(PICK_ACTION) or {}).get("selected_option") or {}
    who = ((values.get(WHO_BLOCK) or {}).get(WHO_ACTION) or {}).get("selected_user")
    picked = option.get("value") if isinstance(option, dict) else None
    return Submitted(
        query=str(query)[:MAX_QUERY],
        picked=str(picked)[:200] if picked else None,
        who=str(who)[:32] if who else None,
    )


def find_modal(
    state: ModalState,
    *,
    vendor: str,
    query: str = "",
    matches: Sequence[VendorUser] | None = None,
    status: str | None = None,
    approval: bool = True,
) -> dict[str, Any]:
    """The modal as a dict for ``views.open`` / ``views.update`` / a ``response_action``."""
    blocks: list[Any] = []
    if state.mode == "admin":
        blocks.append(
            InputBlock(
                block_id=WHO_BLOCK,
                label="Person in Slack",
                element=UserSelectElement(action_id=WHO_ACTION, placeholder="Choose someone"),
            )
        )
    else:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"Find yourself in {escape(vendor)}'s directory: type your name, extension or number "
                    "and press Enter."
                )
            )
        )
    blocks.append(
        InputBlock(
            block_id=QUERY_BLOCK,
            label="Name, extension or number",
            dispatch_action=True,
            element=PlainTextInputElement(
                action_id=SEARCH_ACTION, initial_value=query[:MAX_QUERY] or None, max_length=MAX_QUERY
            ),
            hint="Press Enter (or Search) to look it up.",
        )
    )
    if matches:
        options = [Option(value=user.user_id, text=_label(user)) for user in matches]
        blocks.append(
            InputBlock(
                block_id=PICK_BLOCK,
                label="This is me" if state.mode == "self" else "This phone-system user",
                element=RadioButtonsElement(action_id=PICK_ACTION, options=options),
                optional=True,
            )
        )
    if status:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=status[:2000])]))
    if not matches:
        submit = "Search"
    elif state.mode == "admin":
        submit = "Link"
    else:
        submit = "Ask an admin" if approval else "Link me"
    view = View(
        type="modal",
        callback_id=CALLBACK_ID,
        title="Link a phone account" if state.mode == "admin" else "Link your phone",
        submit=submit,
        close="Cancel",
        private_metadata=state.dumps(),
        blocks=blocks,
    )
    return view.to_dict()


def message_modal(text: str, *, title: str = "Link your phone") -> dict[str, Any]:
    """A modal that only says ``text`` (the outcome of a pick), with a Close button."""
    view = View(
        type="modal",
        callback_id=f"{CALLBACK_ID}_done",
        title=title,
        close="Close",
        blocks=[SectionBlock(text=MarkdownTextObject(text=text[:3000]))],
    )
    return view.to_dict()


def _label(user: VendorUser) -> str:
    """A radio button's text (Slack: 75 characters at most); plain text, so nothing to escape."""
    label = user.name + (f" · {user.number}" if user.number else "")
    return label if len(label) <= 75 else label[:74] + "\u2026"

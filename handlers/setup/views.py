"""Small Block Kit builders shared by the setup modals (plain dicts, as ``views.*`` take them)."""

from __future__ import annotations

from typing import Any

TITLE_MAX = 24


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:3000]}]}


def option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(text[:75]), "value": value[:150]}


def text_input(
    block_id: str,
    label: str,
    *,
    optional: bool,
    initial: str | None = None,
    placeholder: str | None = None,
    hint: str | None = None,
    max_length: int = 500,
) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": "value", "max_length": max_length}
    if initial:
        element["initial_value"] = initial[:max_length]
    if placeholder:
        element["placeholder"] = plain(placeholder[:150])
    return input_block(block_id, label, element, optional=optional, hint=hint)


def input_block(
    block_id: str, label: str, element: dict[str, Any], *, optional: bool, hint: str | None = None
) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label[:2000]),
        "optional": optional,
        "element": element,
    }
    if hint:
        block["hint"] = plain(hint[:2000])
    return block


def modal(
    title: str,
    blocks: list[dict[str, Any]],
    *,
    callback_id: str,
    private_metadata: str,
    submit: str | None = None,
    close: str = "Close",
) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title[:TITLE_MAX]),
        "close": plain(close),
        "blocks": blocks,
        "private_metadata": private_metadata,
    }
    if submit:
        view["submit"] = plain(submit)
    return view


def message_modal(
    title: str, text: str, *, private_metadata: str = "", callback_id: str = "setup_message"
) -> dict[str, Any]:
    """A modal that only says something (a refusal, a result, "checking…")."""
    return modal(title, [section(text)], callback_id=callback_id, private_metadata=private_metadata, close="Done")

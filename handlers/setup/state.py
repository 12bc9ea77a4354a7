"""Reading a submitted view's ``state.values`` (every input's element has ``action_id`` ``value``).

The payload is the submitter's to shape, so each reader checks types and answers ``None`` (or an
empty list) for anything unexpected.
"""

from __future__ import annotations

from typing import Any


def _element(state: dict[str, Any], block_id: str) -> dict[str, Any]:
    block = state.get(block_id)
    element = block.get("value") if isinstance(block, dict) else None
    return element if isinstance(element, dict) else {}


def text(state: dict[str, Any], block_id: str) -> str | None:
    """A text input's value, stripped; ``None`` when empty."""
    value = _element(state, block_id).get("value")
    return value.strip() or None if isinstance(value, str) else None


def selected(state: dict[str, Any], block_id: str) -> str | None:
    """A select's chosen value."""
    option = _element(state, block_id).get("selected_option")
    value = option.get("value") if isinstance(option, dict) else None
    return value if isinstance(value, str) else None


def checked(state: dict[str, Any], block_id: str, *, limit: int = 20) -> list[str]:
    """The values of the ticked checkboxes (at most ``limit``)."""
    options = _element(state, block_id).get("selected_options")
    if not isinstance(options, list):
        return []
    values = [o.get("value") for o in options[:limit] if isinstance(o, dict)]
    return [v for v in values if isinstance(v, str)]


def conversation(state: dict[str, Any], block_id: str) -> str | None:
    """A ``conversations_select``'s channel id."""
    value = _element(state, block_id).get("selected_conversation")
    return value if isinstance(value, str) and value else None


def time_of_day(state: dict[str, Any], block_id: str) -> str | None:
    """A ``timepicker``'s ``HH:MM``."""
    value = _element(state, block_id).get("selected_time")
    return value if isinstance(value, str) and value else None

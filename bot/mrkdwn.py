"""Text from users and vendors, made safe to show in Slack ``mrkdwn``.

Slack reads ``<…>`` as mentions and links (``<!channel>``, ``<@U…>``, ``<https://x|label>``) and
``&`` as the start of an entity, so any outside text is escaped before it is placed in a
message (Slack's own rule: escape ``&``, ``<`` and ``>``, nothing else). A code span is ended
by a backtick, so text shown inside one has its backticks replaced.
"""

from __future__ import annotations

import re

_MENTION = re.compile(r"<@[UWB][A-Z0-9]{2,30}>")
_SLACK_USER_ID = re.compile(r"[UWB][A-Z0-9]{2,30}")
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def escape(text: str) -> str:
    """``text`` as plain text in mrkdwn: no mention, link or entity in it stays live."""
    return text.translate(_ESCAPES)


def code_span(text: str) -> str:
    """``text`` in a code span that nothing in it can end or break across lines."""
    flat = " ".join(text.split()).replace("`", "'")
    return f"`{escape(flat)}`"


def name(text: str) -> str:
    """A display name: phonebot's own ``<@U…>`` mention stays one, anything else is escaped text."""
    return text if _MENTION.fullmatch(text) else escape(text)


def mention(user_id: str) -> str:
    """``<@U…>`` for a Slack user id; anything that is not one is shown as plain text."""
    return f"<@{user_id}>" if _SLACK_USER_ID.fullmatch(user_id) else escape(user_id)

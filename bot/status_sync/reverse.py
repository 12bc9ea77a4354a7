"""Which phone activity a Slack status asks for: the reverse of :mod:`.mapping` (issue 12 point 6).

An emoji shared by several activities (``:no_entry:`` is dnd and busy) maps to the first one listed in
``DEFAULT_STATUSES``, so the answer is the same every time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from bot.status_sync.mapping import DEFAULT_STATUSES

#: Slack sends ``:emoji:``; an emoji name longer than this is no emoji phonebot maps.
MAX_EMOJI = 100


def _bare(emoji: str) -> str:
    return emoji.strip().strip(":").lower()


def activity_for_emoji(emoji: str, statuses: Mapping[str, tuple[str, str]] = DEFAULT_STATUSES) -> str | None:
    """The phone activity whose Slack status shows ``emoji`` (``None``: no status, or an emoji not mapped)."""
    wanted = _bare(emoji[:MAX_EMOJI])
    if not wanted:
        return None
    for activity, (shown, _) in statuses.items():  # dict order: the first listed wins a shared emoji
        if _bare(shown) == wanted:
            return activity
    return None


def until_of(expiration: int, now: datetime) -> datetime | None:
    """The phone presence's end for a Slack ``status_expiration`` (epoch seconds, 0 = never).

    Raises:
        ValueError: the status has already expired (nothing to set).
    """
    if expiration <= 0:
        return None
    until = datetime.fromtimestamp(expiration, UTC)
    if until <= now:
        raise ValueError("the status has already expired")
    return until

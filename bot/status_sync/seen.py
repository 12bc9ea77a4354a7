"""The phone presence phonebot last saw for a person, so the presence poller acts on changes only (issue 12 point 4).

Noted by the poller on every look, and by every path where phonebot itself writes the phone presence
(``/presence``, a huddle's end): a presence phonebot set is then already "seen" and never comes back to
Slack as a change made in the phone system's own app (no loops).
"""

from __future__ import annotations

import logging

from pydantic import ValidationError

from adapters.models import Presence
from bot.status_sync.echoes import PhoneShape
from bot.store import Store

log = logging.getLogger(__name__)

#: How long a seen presence is kept without a look (the poller refreshes it every pass).
SEEN_SECONDS = 7 * 24 * 3600.0
#: End times this close count as the same (vendors round them).
SAME_END_SECONDS = 60


def same_presence(a: PhoneShape, b: PhoneShape) -> bool:
    """The same activity with the same end (within :data:`SAME_END_SECONDS`)."""
    if not a.same_state(b):
        return False
    if a.until is None or b.until is None:
        return a.until is None and b.until is None
    return abs((a.until - b.until).total_seconds()) <= SAME_END_SECONDS


class PresenceSeen:
    """Per person: the phone presence last seen (``<prefix>phone-presence-seen:<user>``)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @staticmethod
    def key(prefix: str, slack_user_id: str) -> str:
        """``<workspace data prefix>phone-presence-seen:<Slack user id>``."""
        return f"{prefix}phone-presence-seen:{slack_user_id[:32]}"

    async def get(self, prefix: str, slack_user_id: str) -> PhoneShape | None:
        raw = await self.store.get(self.key(prefix, slack_user_id))
        if raw is None:
            return None
        try:
            return PhoneShape.model_validate_json(raw)
        except ValidationError:
            log.warning("the phone presence last seen for a person could not be read; starting afresh")
            return None

    async def note(self, prefix: str, slack_user_id: str, presence: Presence | PhoneShape) -> None:
        """Remember ``presence`` as the one the person's phone shows now."""
        shape = presence if isinstance(presence, PhoneShape) else PhoneShape.of(presence)
        await self.store.set(self.key(prefix, slack_user_id), shape.model_dump_json(), ttl=SEEN_SECONDS)

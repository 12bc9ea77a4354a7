"""No loops (issue 12 point 7): what phonebot itself just wrote on each side, so it is not taken for a new change.

* Slack side: every status phonebot writes with ``users.profile.set`` is noted for :data:`ECHO_SECONDS` *before*
  the call (Slack's ``user_status_changed`` for it may arrive before the call returns). A status event matching
  a note is phonebot's own echo and never sets the phone.
* Phone side: a phone presence phonebot set from Slack (a huddle, a Slack status) is kept as
  :class:`FromSlack` for as long as it lasts; a phone-side reader (the presence poller of point 4) asks
  :meth:`PhoneFromSlack.is_own` before showing a phone change in Slack, so it never echoes it back. The same
  record says what the phone showed before, so "after the huddle" puts it back.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from adapters.models import Presence
from bot.status_sync.mapping import MAX_STATUS_TEXT, SlackStatus
from bot.store import Store

log = logging.getLogger(__name__)

#: How long a status phonebot wrote counts as its own echo (Slack sends the event within seconds).
ECHO_SECONDS = 120
#: Notes kept per person (set, then restore, within the window).
MAX_NOTES = 4
#: Slack rounds nothing today, but an expiration within this of phonebot's is the same status.
SAME_EXPIRY_SECONDS = 60
#: How long a phone presence set from Slack with no end is remembered (a huddle's end event may be lost).
OPEN_ENDED_SECONDS = 24 * 3600


def _same(a: SlackStatus, b: SlackStatus) -> bool:
    return a.same_as(b) and abs(a.expiration - b.expiration) <= SAME_EXPIRY_SECONDS


class StatusEchoes:
    """The Slack statuses phonebot wrote for a person in the last :data:`ECHO_SECONDS`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @staticmethod
    def key(prefix: str, slack_user_id: str) -> str:
        """``<workspace data prefix>slack-status-echo:<Slack user id>``."""
        return f"{prefix}slack-status-echo:{slack_user_id[:32]}"

    async def wrote(self, prefix: str, slack_user_id: str, status: SlackStatus) -> None:
        """Note that phonebot is about to write ``status`` as the person's Slack status."""
        notes = [n for n in await self._notes(prefix, slack_user_id) if not _same(n, status)]
        notes = [*notes, status][-MAX_NOTES:]
        raw = json.dumps([[n.text, n.emoji, n.expiration] for n in notes])
        await self.store.set(self.key(prefix, slack_user_id), raw, ttl=ECHO_SECONDS)

    async def is_echo(self, prefix: str, slack_user_id: str, status: SlackStatus) -> bool:
        """Whether ``status`` is one phonebot wrote for the person just now."""
        return any(_same(n, status) for n in await self._notes(prefix, slack_user_id))

    async def _notes(self, prefix: str, slack_user_id: str) -> list[SlackStatus]:
        raw = await self.store.get(self.key(prefix, slack_user_id))
        if raw is None:
            return []
        try:
            return [SlackStatus(str(t)[:MAX_STATUS_TEXT], str(e)[:100], int(x)) for t, e, x in json.loads(raw)]
        except (ValueError, TypeError):
            return []


class PhoneShape(BaseModel):
    """A phone presence as phonebot compares and restores it: the vendor activity id (or dnd/available)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    activity: str = Field(max_length=100)
    until: datetime | None = None

    @classmethod
    def of(cls, presence: Presence) -> PhoneShape:
        if presence.activity is not None and presence.activity.id:
            activity = presence.activity.id[:100]
        else:
            activity = "dnd" if presence.dnd else ("available" if presence.available else "busy")
        return cls(activity=activity, until=presence.until)

    def same_state(self, other: PhoneShape) -> bool:
        """The same activity showing (vendors round end times)."""
        return self.activity == other.activity


class FromSlack(BaseModel):
    """A phone presence phonebot set from Slack, and what the phone showed before it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: Literal["huddle", "status"]
    #: What the phone showed right after phonebot's write.
    set: PhoneShape
    #: What it showed before (``None``: unknown, the vendor can't read presence back).
    previous: PhoneShape | None = None


class PhoneFromSlack:
    """Per person: the phone presence phonebot set from Slack (see the module docstring)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @staticmethod
    def key(prefix: str, slack_user_id: str) -> str:
        """``<workspace data prefix>phone-from-slack:<Slack user id>``."""
        return f"{prefix}phone-from-slack:{slack_user_id[:32]}"

    async def get(self, prefix: str, slack_user_id: str) -> FromSlack | None:
        raw = await self.store.get(self.key(prefix, slack_user_id))
        if raw is None:
            return None
        try:
            return FromSlack.model_validate_json(raw)
        except ValidationError:
            log.warning("what phonebot set on a phone from Slack could not be read; forgetting it")
            return None

    async def put(self, prefix: str, slack_user_id: str, record: FromSlack, *, now: datetime) -> None:
        """Keep ``record`` until the presence it describes ends (a day at most when it has no end)."""
        ends = record.set.until
        seconds = (ends - now).total_seconds() + 60 if ends is not None else OPEN_ENDED_SECONDS
        seconds = max(60.0, min(seconds, float(timedelta(days=31).total_seconds())))
        await self.store.set(self.key(prefix, slack_user_id), record.model_dump_json(), ttl=seconds)

    async def forget(self, prefix: str, slack_user_id: str) -> None:
        await self.store.delete(self.key(prefix, slack_user_id))

    async def is_own(self, prefix: str, slack_user_id: str, presence: Presence) -> bool:
        """Whether ``presence`` on the person's phone is one phonebot set from Slack (never echo it to Slack)."""
        record = await self.get(prefix, slack_user_id)
        return record is not None and record.set.same_state(PhoneShape.of(presence))

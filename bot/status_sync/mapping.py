"""Which Slack status a phone activity shows: emoji, text, DND, and when it ends (defaults in code)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

#: Slack's ``status_text`` limit (api.slack.com/methods/users.profile.set: "up to 100 characters").
MAX_STATUS_TEXT = 100
#: An open-ended DND still needs a snooze length (``dnd.setSnooze`` requires ``num_minutes``): a working day.
OPEN_ENDED_SNOOZE_MINUTES = 8 * 60
MAX_SNOOZE_MINUTES = 7 * 24 * 60

DEFAULT_STATUSES: dict[str, tuple[str, str]] = {
    "lunch": (":hamburger:", "Lunch"),
    "meeting": (":calendar:", "In a meeting"),
    "dnd": (":no_entry:", "Do not disturb"),
    "busy": (":no_entry:", "Busy"),
    "away": (":walking:", "Away"),
    "out": (":walking:", "Out"),
    "vacation": (":palm_tree:", "On vacation"),
    "sick": (":face_with_thermometer:", "Out sick"),
}
#: The emoji of an activity phonebot has no default for (a vendor's own activity): its label is the text.
OTHER_EMOJI = ":telephone_receiver:"
#: Activities during which Slack notifications are snoozed too.
DND_ACTIVITIES = frozenset({"dnd", "meeting", "busy"})


@dataclass(frozen=True)
class SlackStatus:
    """A custom status as Slack keeps it: ``expiration`` in epoch seconds, 0 = never."""

    text: str
    emoji: str
    expiration: int = 0

    @property
    def empty(self) -> bool:
        return not self.text and not self.emoji

    def same_as(self, other: SlackStatus) -> bool:
        """The same status showing (text and emoji; Slack may round the expiration)."""
        return self.text == other.text and self.emoji == other.emoji

    def expired(self, now: datetime) -> bool:
        return self.expiration != 0 and self.expiration <= now.timestamp()

    def to_profile(self) -> dict[str, str | int]:
        return {"status_text": self.text, "status_emoji": self.emoji, "status_expiration": self.expiration}

    @classmethod
    def from_profile(cls, profile: object) -> SlackStatus:
        """The status in a ``users.profile.get`` profile (anything missing reads as no status)."""
        fields = profile if isinstance(profile, dict) else {}
        expiration = fields.get("status_expiration")
        return cls(
            text=str(fields.get("status_text") or "")[:MAX_STATUS_TEXT],
            emoji=str(fields.get("status_emoji") or "")[:100],
            expiration=expiration if isinstance(expiration, int) and expiration > 0 else 0,
        )


NO_STATUS = SlackStatus("", "", 0)


@dataclass(frozen=True)
class PresenceStatus:
    """What phonebot shows in Slack for one phone presence."""

    status: SlackStatus
    #: Minutes to snooze Slack notifications for; ``None``: no DND.
    snooze_minutes: int | None


def status_for(
    activity: str,
    label: str,
    until: datetime | None,
    now: datetime,
    overrides: Mapping[str, tuple[str, str]] | None = None,
) -> PresenceStatus:
    """The Slack status (and DND snooze) for phone ``activity`` (as typed: ``label``) until ``until``.

    ``overrides`` (activity → ``(emoji, text)``) is the workspace's mapping; it wins over the defaults.
    """
    emoji, text = (overrides or {}).get(activity) or DEFAULT_STATUSES.get(activity, (OTHER_EMOJI, label.capitalize()))
    expiration = math.ceil(until.timestamp()) if until is not None else 0
    snooze = None
    if activity in DND_ACTIVITIES:
        minutes = math.ceil((until - now).total_seconds() / 60) if until is not None else OPEN_ENDED_SNOOZE_MINUTES
        snooze = max(1, min(minutes, MAX_SNOOZE_MINUTES))
    return PresenceStatus(SlackStatus(text[:MAX_STATUS_TEXT], emoji, expiration), snooze)

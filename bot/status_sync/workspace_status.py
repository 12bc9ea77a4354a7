"""A workspace's Slack status section: which emoji and text each phone activity shows, "on a call", and the
switches of people who never chose (set by a workspace admin; issue 12 point 8).

Kept in :attr:`bot.workspaces.settings.WorkspaceSettings.status`; only what differs from the code's defaults
(:data:`bot.status_sync.mapping.DEFAULT_STATUSES`) is stored, so a default changed in code still reaches
workspaces that never overrode it.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.status_sync.mapping import MAX_STATUS_TEXT
from bot.status_sync.prefs import SyncPrefs

#: Activities a workspace may override (the code's eight plus a vendor's own ones).
MAX_ACTIVITIES = 20
MAX_EMOJI = 100
#: Slack's emoji names: lowercase letters, digits, ``_ - + '`` (skin tones as ``::skin-tone-2:``).
EMOJI = re.compile(r":[a-z0-9_+'\-]{1,98}:(?::skin-tone-[2-6]:)?")
ACTIVITY = re.compile(r"[a-z][a-z0-9_-]{0,31}")
DEFAULT_CALL_EMOJI = ":telephone_receiver:"
DEFAULT_CALL_TEXT = "On a call"
DEFAULT_MIN_CALL_SECONDS = 20
#: The phone activity a Slack huddle sets (issue 12 point 5: "DND, or a configured activity").
DEFAULT_HUDDLE_ACTIVITY = "dnd"
MAX_MIN_CALL_SECONDS = 3600


def valid_emoji(emoji: str) -> bool:
    """Whether ``emoji`` is written as Slack's ``:name:`` (at most 100 characters)."""
    return len(emoji) <= MAX_EMOJI and EMOJI.fullmatch(emoji) is not None


class ActivityStatus(BaseModel):
    """The emoji and text one activity shows."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    emoji: str = Field(max_length=MAX_EMOJI)
    text: str = Field(min_length=1, max_length=MAX_STATUS_TEXT)

    @field_validator("emoji")
    @classmethod
    def _emoji(cls, value: str) -> str:
        if not valid_emoji(value):
            raise ValueError("an emoji is written as :name:")
        return value


class StatusSettings(BaseModel):
    """One workspace's Slack status mapping and defaults."""

    model_config = ConfigDict(extra="forbid")

    #: Activity → what it shows, where it differs from the code's default.
    activities: dict[str, ActivityStatus] = Field(default_factory=dict, max_length=MAX_ACTIVITIES)
    call: ActivityStatus = ActivityStatus(emoji=DEFAULT_CALL_EMOJI, text=DEFAULT_CALL_TEXT)
    #: Calls shorter than this don't show (no flicker).
    min_call_seconds: int = Field(default=DEFAULT_MIN_CALL_SECONDS, ge=0, le=MAX_MIN_CALL_SECONDS)
    #: The phone activity a person's Slack huddle sets (for those with "Huddles put my phone on DND" on).
    huddle_activity: str = Field(default=DEFAULT_HUDDLE_ACTIVITY, max_length=32)
    #: The switches of a person who never chose their own.
    defaults: SyncPrefs = Field(default_factory=SyncPrefs)

    @field_validator("activities")
    @classmethod
    def _names(cls, value: dict[str, ActivityStatus]) -> dict[str, ActivityStatus]:
        for name in value:
            if not ACTIVITY.fullmatch(name):
                raise ValueError(f"{name[:40]!r} is not an activity name")
        return value

    @field_validator("huddle_activity")
    @classmethod
    def _huddle(cls, value: str) -> str:
        if not ACTIVITY.fullmatch(value) or value == "available":
            raise ValueError("a huddle sets an activity other than available")
        return value

    def lookup(self) -> dict[str, tuple[str, str]]:
        """Activity → ``(emoji, text)`` overrides, as :func:`bot.status_sync.mapping.status_for` takes them."""
        return {name: (entry.emoji, entry.text) for name, entry in self.activities.items()}

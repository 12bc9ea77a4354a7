"""Dstny Core's group call log and Communication Log JSON as pydantic models.

Field names are the vendor's own (``itemId``, ``callCount``, ``handledStatus``), as the seed's
examples spell them, so each model reads side by side with the User API text. Only the fields
phonebot needs are required (an item id); anything else is optional and unknown fields are
ignored, so a vendor addition breaks nothing. Ids sent as JSON numbers are accepted as text.

Communication Log items come wrapped in a one-key object whose key is a dotted type name
(``{".CallDTO": {...}}``, ``{".GroupInboxVoiceMailDTO": {...}}``); :class:`HistoryEntry`
unwraps any such key, so a type name phonebot has not seen still parses.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from adapters.rows import readable_rows


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, coerce_numbers_to_str=True)


# -- Distribution Group API: group call log -------------------------------------------------------
class CallLogAgent(_Wire):
    """An agent reference (who answered, or who handles a call-log item)."""

    name: str | None = None
    number: str | None = None
    userId: str | None = None


class HandledStatus(_Wire):
    """Who handles a group call-log item and how far they got."""

    state: str | None = None  # UNHANDLED / INPROGRESS / HANDLED
    agent: CallLogAgent | None = None
    timeStamp: str | None = None
    note: str | None = None


class CallLogItem(_Wire):
    """One group call-log item: calls aggregated per group, caller and type (``callCount`` of them)."""

    itemId: str
    groupId: str | None = None
    groupOrgId: str | None = None
    callCount: int = 1
    itemType: str | None = None  # ANSWERED / FORWARDED / MISSED
    startTime: str | None = None
    callerNumber: str | None = None
    callbackToNumber: str | None = None
    callMetaData: str | None = None
    agent: CallLogAgent | None = None
    handledStatus: HandledStatus | None = None

    @property
    def handled(self) -> bool:
        """Whether someone marked the item handled at the vendor."""
        return (self.handledStatus is not None) and (self.handledStatus.state or "").upper() == "HANDLED"


class CallLog(_Wire):
    """The group call-log answer (``callLogItem`` newest first in the simulator; order is not relied on)."""

    generatedAt: str | None = None
    flushCache: bool | None = None
    callLogItem: list[CallLogItem] = Field(default_factory=list)

    @field_validator("callLogItem", mode="before")
    @classmethod
    def _skip_unreadable(cls, value: Any) -> Any:
        return readable_rows(CallLogItem, value, "Dstny call-log item")


# -- Communication Log API ------------------------------------------------------------------------
class RemoteParty(_Wire):
    """The other end of a communication-log item."""

    number: str | None = None
    displayName: str | None = None


class HistoryItem(_Wire):
    """One communication-log item (call, voicemail, group-inbox voicemail...)."""

    itemId: str
    startTime: str | None = None
    remoteParty: RemoteParty | None = None
    itemType: str | None = None
    isSeen: bool | None = None
    isPlayed: bool | None = None
    duration: int | None = None
    callItemId: str | None = None
    inboxName: str | None = None

    @property
    def heard(self) -> bool:
        """Listened to: ``isPlayed`` where the vendor gives it, else ``isSeen``.

        Group-inbox items can be seen (the list was opened) but not played, so ``isPlayed`` wins.
        """
        return bool(self.isPlayed if self.isPlayed is not None else self.isSeen)


class HistoryEntry(_Wire):
    """``{".SomeDTO": {...}}``: the dotted type name and the item it wraps."""

    type_name: str
    item: HistoryItem

    @model_validator(mode="before")
    @classmethod
    def _unwrap(cls, value: Any) -> Any:
        if isinstance(value, dict) and "type_name" not in value:
            dotted = [key for key in value if isinstance(key, str) and key.startswith(".")]
            if len(dotted) != 1:
                raise ValueError("a history item must be wrapped in exactly one '.TypeName' key")
            return {"type_name": dotted[0][1:], "item": value[dotted[0]]}
        return value


class CommLog(_Wire):
    """A Communication Log list answer."""

    historyItems: list[HistoryEntry] = Field(default_factory=list)
    flushCache: bool | None = None
    generatedAt: str | None = None

    @field_validator("historyItems", mode="before")
    @classmethod
    def _skip_unreadable(cls, value: Any) -> Any:
        return readable_rows(HistoryEntry, value, "Dstny communication-log item")

    @property
    def items(self) -> list[HistoryItem]:
        """The unwrapped items."""
        return [entry.item for entry in self.historyItems]


def parse_time(value: str | None) -> datetime | None:
    """An ISO-8601 vendor time as an aware UTC datetime (naive means UTC); ``None`` when absent or unreadable."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)

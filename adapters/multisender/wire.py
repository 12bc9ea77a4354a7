"""Multisender's JSON as pydantic models, plus its number and time formats.

Field names are the vendor's own (``rsvpCallId``, ``receiverWebhookUrl``), as the seed spells them. The
seed's examples are single-quoted pseudo-JSON with type hints; the models require only what phonebot
cannot work without (an id; a state or a reply) and ignore unknown fields, so a vendor addition breaks
nothing. Ids are strings in some examples and integers in others, so numbers are accepted as text. The
doc's own typos (``actionbuttons``, ``dialedCalls`` / ``dialledCalls``, ``noAnswer`` / ``noReply``) are
accepted as aliases.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from typing import Any

import phonenumbers
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

#: RSVP call states (seed): scheduled, calling, paused by a PUT ``state: halt``, finished.
RSVP_STATES: tuple[str, ...] = ("waitingToActive", "active", "halt", "complete")
#: Replies as phonebot names them; the seed uses ``noReply`` in webhooks and ``noAnswer`` in objects.
REPLIES: dict[str, str] = {
    "accept": "accept",
    "accepted": "accept",
    "decline": "decline",
    "declined": "decline",
    "noreply": "noReply",
    "noanswer": "noReply",
    "no_reply": "noReply",
    "no_answer": "noReply",
}

_NON_DIGITS = re.compile(r"\D")
# "2017-01-01 00:00:00" (REST objects), "2017-01-01:00:00:00" (the webhook examples), ISO 8601.
_VENDOR_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T:](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(Z|[+-]\d{2}:?\d{2})?$")


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, coerce_numbers_to_str=True, populate_by_name=True)


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


# -- REST answers ----------------------------------------------------------------------------------
class RsvpCall(_Wire):
    """One RSVP call (``GET /rsvp_calls/{id}``); the fields a PUT must send back are all kept."""

    rsvpCallId: str
    state: str | None = None
    startTime: str | None = None
    endTime: str | None = None
    activeFrom: str | None = None
    activeTo: str | None = None
    activeWeekdays: list[dict[str, Any]] | None = None
    voiceFiles: list[dict[str, Any]] | None = None
    actionButtons: list[dict[str, Any]] | None = Field(
        default=None, validation_alias=AliasChoices("actionButtons", "actionbuttons")
    )
    acceptsWanted: int | None = None
    maxRedials: int | None = None
    receiverWebhookUrl: str | None = None
    stateWebhookUrl: str | None = None
    meta: dict[str, Any] | None = None

    _empty = field_validator("receiverWebhookUrl", "stateWebhookUrl", "startTime", mode="before")(_blank_to_none)


class ClickToCall(_Wire):
    """One click-to-call escalation list (``GET /click_to_calls``); it cannot be updated after creation."""

    clickToCallId: str
    expiresAt: str | None = None
    receiverWebhookUrl: str | None = None
    meta: dict[str, Any] | None = None

    _empty = field_validator("receiverWebhookUrl", mode="before")(_blank_to_none)


# -- webhook bodies ------------------------------------------------------------------------------------
class StateWebhook(_Wire):
    """The RSVP *state webhook* (``stateWebhookUrl``): sent on every state change.

    The seed's table says ``totalDialedCalls``, its example ``dialedCalls``; both are read.
    """

    rsvpCallId: str = Field(min_length=1)
    state: str = Field(min_length=1)
    totalDialedCalls: int | None = Field(
        default=None, ge=0, validation_alias=AliasChoices("totalDialedCalls", "dialedCalls", "dialledCalls")
    )
    answeredCalls: int | None = Field(default=None, ge=0)
    totalDuration: int | None = Field(default=None, ge=0)
    acceptsReceived: int | None = Field(default=None, ge=0)
    meta: dict[str, Any] | None = None
    timestamp: str | None = None


class ReceiverWebhook(_Wire):
    """The *receiver webhook* (``receiverWebhookUrl``): one receiver's outcome.

    Sent after a successful call to a receiver or once ``maxRedials`` is used up (seed). A
    click-to-call's ``receiverWebhookUrl`` refers to the same section (002 ~267), but which field
    carries a click-to-call's id is not said, so ``clickToCallId`` and the object's ``reply`` spelling
    are accepted besides ``rsvpCallId`` / ``rsvpReply``. ``phoneNumber`` may arrive masked (``xxxx12342``).
    """

    rsvpCallId: str | None = None
    clickToCallId: str | None = Field(
        default=None, validation_alias=AliasChoices("clickToCallId", "click_to_call_id", "clickToCall")
    )
    phoneNumber: str | None = Field(default=None, validation_alias=AliasChoices("phoneNumber", "phone"))
    accountId: str | None = None
    reply: str = Field(min_length=1, validation_alias=AliasChoices("rsvpReply", "reply"))
    meta: dict[str, Any] | None = None
    timestamp: str | None = None

    _empty = field_validator("rsvpCallId", "clickToCallId", "phoneNumber", "accountId", mode="before")(_blank_to_none)

    @property
    def canonical_reply(self) -> str:
        """``accept`` / ``decline`` / ``noReply``, or the vendor's own word when it is none of those."""
        return REPLIES.get(self.reply.strip().lower(), self.reply.strip())


# -- numbers and times ----------------------------------------------------------------------------
def to_e164(raw: str | None, region: str) -> str | None:
    """``0401234567`` / ``358401234567`` / ``+358 40 123 4567`` -> ``+358401234567``; ``None`` if not a number.

    Masked numbers from webhooks (``xxxx12342``) are not numbers and give ``None``.
    """
    if raw is None:
        return None
    text = raw.strip()
    if not text or any(ch.isalpha() for ch in text):
        return None
    digits = _NON_DIGITS.sub("", text)
    if not digits or len(digits) > 17:
        return None
    candidates = [text] if text.startswith(("+", "0")) else [text, "+" + digits]
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    return None


def parse_time(raw: str | None, zone: tzinfo) -> datetime | None:
    """A vendor timestamp as aware UTC, or ``None`` when empty or unreadable.

    Reads ``YYYY-MM-DD HH:MM:SS``, the webhook examples' ``YYYY-MM-DD:HH:MM:SS``, ISO 8601 and epoch
    seconds. A time without an offset is local time in ``zone`` (no zone is documented for them).
    """
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    if text.isdigit() and len(text) in (10, 13):
        return datetime.fromtimestamp(int(text) / (1000 if len(text) == 13 else 1), UTC)
    match = _VENDOR_TIME.match(text)
    if match is None:
        return None
    day, clock, offset = match.groups()
    try:
        parsed = datetime.fromisoformat(f"{day}T{clock}{offset or ''}")
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)


def format_utc(moment: datetime) -> str:
    """``YYYY-MM-DD HH:MM:SS`` in UTC, the format of RSVP ``startTime`` / ``endTime``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")

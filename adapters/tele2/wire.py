"""Mobili Stotele's JSON as pydantic models, plus the number and time formats.

Field names are the vendor's own (``contactID``, ``callerid``, ``voicemailBoxID``), exactly as the
Swagger [S1] spells them, so each model can be read side by side with its schema. The Swagger marks
no response or callback field as required; the models require only what phonebot cannot work
without (an id, or the caller and line of a lost call) and ignore fields they do not know, so a
vendor addition breaks nothing. Numbers sent as JSON numbers are accepted as text.

Every 2xx answer is an :class:`Envelope` (``{"version", "status", "statusCode", "message",
"data"}``); webhook callbacks are a :class:`WebhookEnvelope` whose ``data`` is one of the
``*Data`` models in :data:`WEBHOOK_PAYLOADS`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from typing import Any

import phonenumbers
from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from adapters.tele2.paths import WEBHOOK_EVENTS

_NON_DIGITS = re.compile(r"\D")
_COLONLESS_OFFSET = re.compile(r"\d[+-]\d{4}$")


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, coerce_numbers_to_str=True)


# -- REST answers ----------------------------------------------------------------------------------
class Envelope(_Wire):
    """The wrapper of every 2xx answer; ``data`` is an object, a list or (webhook subscribe) a string."""

    version: str | None = None
    status: str | None = None
    statusCode: int | None = None
    message: str | None = None
    data: Any = None


class Member(_Wire):
    """One member of an employee group."""

    contactID: int | None = None


class GroupMembership(_Wire):
    """A group an employee belongs to (``type`` is an undocumented integer code)."""

    groupID: int | None = None
    name: str | None = None
    type: int | None = None
    created: str | None = None
    members: list[Member] = Field(default_factory=list)


class Employee(_Wire):
    """One item of ``GET /trigger/contacts``: an employee (the API calls them contacts)."""

    contactID: int
    firstname: str | None = None
    lastname: str | None = None
    number: str | None = None
    current_callerid: str | None = None
    archived: int | None = None
    created: str | None = None
    avatar: str | None = None
    group_membership: list[GroupMembership] = Field(default_factory=list)

    @property
    def full_name(self) -> str:
        """``firstname lastname``, or ``Employee <id>`` when both are empty."""
        name = " ".join(part.strip() for part in (self.firstname, self.lastname) if part and part.strip())
        return name or f"Employee {self.contactID}"


class WebhookSubscription(_Wire):
    """One item of the inferred ``GET /webhooks`` list; the key names are guesses, so aliases are accepted."""

    id: str = Field(validation_alias=AliasChoices("id", "webhookID", "webhook_id", "ID"))
    event: str = Field(validation_alias=AliasChoices("event", "eventType", "event_type", "type"))
    endpoint: str = Field(validation_alias=AliasChoices("endpoint", "url", "target_url", "callback_url"))


# -- webhook callbacks (Swagger ``x-ms-notification-content``) ---------------------------------------
class WebhookEnvelope(_Wire):
    """The outer shape of every callback; which event it is comes from the callback URL or ``eventType``."""

    type: str | None = None
    version: str | None = None
    eventType: str | None = None
    data: dict[str, Any]


class CallStartedData(_Wire):
    """``CallStarted``: a call began. ``direction`` is ``"in"``/``"out"``; ``status`` is an undocumented code."""

    callID: int
    caller: str | None = None
    destination: str | None = None
    direction: str | None = None
    status: int | None = None
    callStarted: str | None = None
    contactID: int | None = None


class CallConnectedData(CallStartedData):
    """``CallConnected``: the call was answered."""

    callConnected: str | None = None


class CallCompletedData(CallConnectedData):
    """``CallCompleted``: the call ended (an unanswered call has an empty ``callConnected``: inferred)."""

    connectionTime: int | None = Field(default=None, ge=0)
    previous_contactID: int | None = None
    #: Not in the Swagger's callback schema (only in call history), but in real callbacks (captured fixtures).
    callEnded: str | None = None


class CallTransferedData(CallCompletedData):
    """``CallTransfered`` (sic): the call was handed from ``previous_contactID`` to ``contactID``."""


class CallRecordedData(_Wire):
    """``CallRecorded``: a recording of call ``callID`` is available at ``recordingURL``."""

    recordingID: int
    callID: int
    callStarted: str | None = None
    recordingURL: str | None = None
    direction: str | None = None
    connectionTime: int | None = Field(default=None, ge=0)


class LostCallerAddedData(_Wire):
    """``LostCallerAdded`` (vendor-side "LostCallerCreated"): an unanswered caller was put on the lost list."""

    callerid: str
    destination: str
    contact_name: str | None = None
    attempts: int | None = Field(default=None, ge=0)
    last_contact: str | None = None


class LostCallerUpdatedData(LostCallerAddedData):
    """``LostCallerUpdated``: the same caller failed again; ``attempts`` and ``last_contact`` moved on."""


class LostCallerRemovedData(_Wire):
    """``LostCallerRemoved`` (vendor-side "LostCallerDeleted"): called back, or answered on a later attempt."""

    callerid: str
    destination: str


class VoicemailCreatedData(_Wire):
    """``VoicemailCreated``: a caller left a message (``length`` in seconds)."""

    voicemailID: int
    sender: str | None = None
    length: int | None = Field(default=None, ge=0)
    callStarted: str | None = None
    voicemailBoxID: int | None = None
    voicemailBoxName: str | None = None
    messageURL: str | None = None


class VoicemailDeletedData(_Wire):
    """``VoicemailDeleted``: a user deleted a message."""

    voicemailID: int
    sender: str | None = None


#: The ``data`` model of each webhook event, keyed by the Swagger's event name.
WEBHOOK_PAYLOADS: dict[str, type[_Wire]] = {
    "CallStarted": CallStartedData,
    "CallConnected": CallConnectedData,
    "CallCompleted": CallCompletedData,
    "CallTransfered": CallTransferedData,
    "CallRecorded": CallRecordedData,
    "LostCallerAdded": LostCallerAddedData,
    "LostCallerUpdated": LostCallerUpdatedData,
    "LostCallerRemoved": LostCallerRemovedData,
    "VoicemailCreated": VoicemailCreatedData,
    "VoicemailDeleted": VoicemailDeletedData,
}

# The Swagger's descriptions name some events differently from their paths ("LostCallerCreated",
# "CallCompletedEvent"), and nothing pins down what ``eventType`` really carries.
_EVENT_ALIASES: dict[str, str] = {
    **{name.lower(): name for name in WEBHOOK_EVENTS},
    "lostcallercreated": "LostCallerAdded",
    "lostcallerdeleted": "LostCallerRemoved",
    "calltransferred": "CallTransfered",
}


def canonical_event(raw: str | None) -> str | None:
    """The Swagger event name for ``raw`` (case-insensitive, ``Event`` suffix and vendor aliases allowed)."""
    if not raw:
        return None
    key = raw.strip().lower()
    if key.endswith("event") and key not in _EVENT_ALIASES:
        key = key[: -len("event")]
    return _EVENT_ALIASES.get(key)


# -- numbers and times ----------------------------------------------------------------------------
def to_e164(raw: str | None, region: str) -> str | None:
    """``861000001`` / ``37061000001`` / ``+370 610 00001`` -> ``+37061000001``; ``None`` if not a number.

    National numbers are read in ``region`` (``LT`` for Tele2, ``LV`` for LMT); a number that
    already carries a country code, with or without ``+``/``00``, keeps it.
    """
    if raw is None:
        return None
    text = raw.strip()
    digits = _NON_DIGITS.sub("", text)
    if not digits or len(digits) > 17:
        return None
    candidates = [text]
    if not text.startswith(("+", "0")):
        candidates.append("+" + digits)
    parsed: list[Any] = []
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
        parsed.append(number)
    # Number plans change faster than the metadata: a possible number is better than none.
    for number in parsed:
        if phonenumbers.is_possible_number(number):
            return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    return None


def dial_number(e164: str, dial_format: str, region: str) -> str:
    """An E.164 number (``+37061234567``) as ``POST /dial`` should get it in ``dial_format``.

    ``e164`` keeps it; ``e164_no_plus`` drops the ``+``; ``national`` gives the national significant
    number (``61234567``, no trunk or country prefix), as real callbacks spell numbers of the home
    ``region``; a number of another country has no national form there, so it stays E.164.
    """
    if dial_format == "e164":
        return e164
    if dial_format == "e164_no_plus":
        return e164.lstrip("+")
    try:
        number = phonenumbers.parse(e164, region)
    except phonenumbers.NumberParseException:
        return e164
    if number.country_code != phonenumbers.country_code_for_region(region):
        return e164
    return str(phonenumbers.national_significant_number(number))


def parse_time(raw: str | None, zone: tzinfo) -> datetime | None:
    """A vendor timestamp as aware UTC, or ``None`` when empty or unreadable.

    The Swagger gives no format. Real callbacks send ``2018-04-25T13:52:02+0000`` (an offset without
    a colon; captured fixtures); ISO 8601 (``T`` or space separated, with or without an offset,
    ``Z``, ``+00:00`` or ``+0000``) and epoch seconds are read; a time without an offset is local
    time in ``zone``.
    """
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    if _COLONLESS_OFFSET.search(text):  # +0000 -> +00:00: fromisoformat reads both only from Python 3.11 on
        text = text[:-2] + ":" + text[-2:]
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        if text.isdigit() and len(text) in (10, 13):
            seconds = int(text) / (1000 if len(text) == 13 else 1)
            return datetime.fromtimestamp(seconds, UTC)
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)

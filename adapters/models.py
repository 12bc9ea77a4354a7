"""Vendor-neutral domain models shared by every adapter and by the handlers."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from adapters.events import AlertEvent


class Capability(StrEnum):
    """What an adapter can do; handlers check these before calling."""

    PRESENCE_READ = "presence.read"
    PRESENCE_WRITE = "presence.write"
    PRESENCE_ACTIVITIES = "presence.activities"  # named activities (lunch, meeting, ...) beyond plain DND
    DIAL = "call.dial"
    QUEUE_STATUS = "queue.status"
    QUEUE_LOGIN = "queue.login"
    CONTACT_SEARCH = "contacts.search"
    DIRECTORY = "directory"  # list colleagues, used for email matching and /call @user
    ALERT_WEBHOOKS = "alerts.webhooks"  # the vendor pushes events that become channel alerts
    ALERT_POLLING = "alerts.polling"  # phonebot polls the vendor for lost calls / voicemails
    ALERT_CLAIM = "alerts.claim"  # "I'll take it" is written back to the vendor (Dstny call-log assign)
    VOICEMAIL_HEARD = "voicemail.heard"  # a voicemail can be marked heard at the vendor
    VOICEMAIL_AUDIO = "voicemail.audio"  # phonebot can fetch a voicemail's audio (the Listen link plays it)


CAPABILITY_LABELS: dict[Capability, str] = {
    Capability.PRESENCE_READ: "reading presence",
    Capability.PRESENCE_WRITE: "setting presence",
    Capability.PRESENCE_ACTIVITIES: "named presence activities",
    Capability.DIAL: "click-to-dial",
    Capability.QUEUE_STATUS: "queue status",
    Capability.QUEUE_LOGIN: "queue login/logout",
    Capability.CONTACT_SEARCH: "contact search",
    Capability.DIRECTORY: "the colleague directory",
    Capability.ALERT_WEBHOOKS: "event webhooks",
    Capability.ALERT_POLLING: "polling for alerts",
    Capability.ALERT_CLAIM: "claiming lost calls",
    Capability.VOICEMAIL_HEARD: "marking voicemails heard",
    Capability.VOICEMAIL_AUDIO: "playing voicemails from Slack",
}


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class VendorIdentity(_Model):
    """Who a Slack user is at the vendor.

    ``user_id`` is the vendor's own id (Dstny bare user id, Relatel employee id).
    ``token`` is the user's personal credential when the vendor acts as the token
    owner (Relatel); ``None`` means the adapter's service credential is used.
    """

    vendor: str
    user_id: str
    display_name: str | None = None
    email: str | None = None
    token: str | None = Field(default=None, repr=False)
    #: Which of the user's devices a dial rings first, in the vendor's word (one of the adapter's
    #: ``dial_devices``; Relatel's ``restrict_to``); ``None`` = the vendor's default.
    dial_device: str | None = None


class Activity(_Model):
    """A presence activity the vendor offers (``lunch``, ``meeting``, ...)."""

    id: str
    name: str
    available: bool = False


class Presence(_Model):
    """Someone's phone presence as the vendor reports it."""

    available: bool
    activity: Activity | None = None
    dnd: bool = False
    until: datetime | None = None  # aware UTC, None = no end
    note: str | None = None


class PresenceChange(_Model):
    """What ``/presence`` asks the vendor to set.

    ``activity`` is a neutral activity name from the handler's vocabulary
    (``available``, ``lunch``, ``meeting``, ``away``, ``out``, ``vacation``, ``dnd``,
    ``busy``) or a vendor activity id/name typed by the user.
    """

    activity: str
    until: datetime | None = None  # aware UTC
    note: str | None = None


class DialResult(_Model):
    """Outcome of a click-to-dial request: the user's own phone rings first."""

    target: str  # the number or id dialled, in the vendor's format
    reference: str | None = None  # vendor call id where one is returned
    rings: str | None = None  # which of the caller's devices rings first, in words ("mobile"); None = their phone


class QueueStatus(_Model):
    """One queue / hunt group / reception as seen by ``/queue status``."""

    group_id: str
    name: str
    calls_waiting: int | None = None
    longest_wait_seconds: int | None = None
    agents_logged_in: int | None = None
    agents_free: int | None = None
    answered_today: int | None = None
    missed_today: int | None = None
    me_logged_in: bool | None = None


class Contact(_Model):
    """A directory or address-book entry that can be called."""

    id: str
    name: str
    number: str | None = None  # E.164 with '+'
    email: str | None = None
    colleague: bool = False


class VendorUser(_Model):
    """A colleague in the vendor's user directory."""

    user_id: str
    name: str
    email: str | None = None
    number: str | None = None  # E.164 with '+'


class PollResult(_Model):
    """What one ``poll_alerts`` round found, and the cursor to resume from next time.

    ``cursor`` is JSON-serialisable and opaque to the caller, which persists it only after
    every event was queued (so a crash re-polls and the idempotency keys drop repeats).
    """

    events: list[AlertEvent] = Field(default_factory=list)
    cursor: dict[str, Any] = Field(default_factory=dict)


class VoicemailAudio(_Model):
    """A voicemail's recording, as the vendor serves it."""

    content: bytes
    media_type: str = "audio/mpeg"


class UserTokens(_Model):
    """The personal vendor tokens phonebot holds (``users[].token``), for what only an owner may do.

    Some vendors serve a resource only to its owner's own token (Relatel: a personal mailbox's
    recordings). ``by_user`` maps the vendor user id a ``users:`` entry names to that person's
    token; ``unnamed`` are tokens whose entry names no vendor user (matched by email), whose owner
    the adapter asks the vendor for. Secret types throughout, so no repr or log shows them.
    """

    by_user: dict[str, SecretStr] = Field(default_factory=dict)
    unnamed: tuple[SecretStr, ...] = ()

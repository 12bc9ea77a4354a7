"""Vendor-neutral alert events: what every vendor webhook or poller is turned into.

An event is about a *subject* — the thing one Slack message tracks (a lost caller on a
line, a voicemail, a queue) — and carries an ``idempotency_key`` that is the same however
often the vendor delivers the same fact, so duplicates are dropped before they are queued.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: The longest subject or idempotency key kept as the vendor sent it (see :func:`bounded_id`).
MAX_ID_LENGTH = 160


class AlertKind(StrEnum):
    """What happened."""

    LOST_CALL_OPENED = "lost_call.opened"
    LOST_CALL_UPDATED = "lost_call.updated"
    LOST_CALL_RESOLVED = "lost_call.resolved"
    VOICEMAIL_NEW = "voicemail.new"
    VOICEMAIL_REMOVED = "voicemail.removed"
    VOICEMAIL_HEARD = "voicemail.heard"  # listened to outside phonebot (``resolved_by`` says who, if known)
    QUEUE_BREACHED = "queue.breached"
    QUEUE_RECOVERED = "queue.recovered"
    CALL_EVENT = "call.event"  # live call feed, where a route asks for it
    NOTIFICATION = "notification"  # anything else worth a line in a channel (e.g. Multisender replies)


class AlertEvent(BaseModel):
    """One neutral event, ready to be queued, routed and rendered."""

    model_config = ConfigDict(frozen=True)

    kind: AlertKind
    vendor: str
    subject: str  # stable: one Slack message per (vendor, subject)
    idempotency_key: str
    occurred_at: datetime  # aware
    caller_number: str | None = None  # E.164 with '+'
    caller_name: str | None = None
    line: str | None = None  # the line, queue or group the call came in on (display form)
    group_id: str | None = None
    attempts: int | None = None
    duration_seconds: int | None = None
    mailbox: str | None = None
    transcript: str | None = None
    listen_url: str | None = None
    resolved_by: str | None = None
    text: str | None = None  # free text for NOTIFICATION / CALL_EVENT
    detail: dict[str, Any] = Field(default_factory=dict)  # vendor extras, never secrets

    @field_validator("subject", "idempotency_key")
    @classmethod
    def _bounded(cls, value: str) -> str:
        # Both end up in Redis keys and (the subject) in Slack button values, whatever the vendor sent.
        return bounded_id(value)


def bounded_id(value: str, limit: int = MAX_ID_LENGTH) -> str:
    """``value`` itself when at most ``limit`` characters, else a readable prefix and the SHA-256 of the whole.

    Deterministic (the same long value always gives the same id) and idempotent (a bounded id
    is returned unchanged), so ids built from vendor data stay stable and never exceed ``limit``.
    """
    if len(value) <= limit:
        return value
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{value[: max(0, limit - len(digest) - 1)]}~{digest}"


def without_empty(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` without the ``None`` and empty-string entries (for an event's ``detail``)."""
    return {key: value for key, value in values.items() if value is not None and value != ""}

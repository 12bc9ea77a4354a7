"""Tele2 webhooks: subscriptions under the vendor's 20-webhook limit, and callbacks as alert events.

**Subscriptions.** ``POST /webhooks/<Event>`` with ``{"endpoint": url}`` subscribes one URL to one
event; an account holds at most 20 webhooks, whoever made them (Power Automate flows count too), and
the 21st gets ``403 Webhook limit reached``. :func:`plan_sync` decides, from the current list, what
to reuse, create and remove, and refuses up front when the result would pass the limit, so phonebot
never leaves a partial set. A ``target_url`` may contain ``{event}``, replaced by the event name:
the notes advise one callback URL per event so routing never depends on ``eventType``.

**Callbacks.** ``{"type", "version", "eventType", "data": {...}}``, unsigned: Tele2 documents no
signature or auth header, so phonebot authenticates them with an unguessable token in the callback
URL (``bot.webhook_auth.UrlTokens``) before :func:`parse_webhook` sees them. Which event a body is
comes from the callback URL when the receiver passes it, else from ``eventType`` (then ``type``),
matched case-insensitively with vendor aliases (:func:`~adapters.tele2.wire.canonical_event`).
Anything unreadable raises :class:`~adapters.errors.VendorRejected` (the receiver answers 4xx).

Mapping (``caller``/``line`` are E.164 with '+', national numbers read in the configured country,
``LT`` by default; a value that is not a number is kept lower-cased, e.g. ``anonymous``):

===================  ====================  ==========================  ==========================================
event                kind                  subject                     idempotency key (after ``tele2:<event>:``)
===================  ====================  ==========================  ==========================================
LostCallerAdded      LOST_CALL_OPENED      ``lost:<caller>:<line>``    ``tele2:lost:`` caller, line, attempts,
                                                                       last_contact (UTC; shared, see below)
LostCallerUpdated    LOST_CALL_UPDATED     ``lost:<caller>:<line>``    the same ``tele2:lost:`` key
LostCallerRemoved    LOST_CALL_RESOLVED    ``lost:<caller>:<line>``    caller, line, minute of receipt (see below)
VoicemailCreated     VOICEMAIL_NEW         ``voicemail:<voicemailID>`` voicemailID
VoicemailDeleted     VOICEMAIL_REMOVED     ``voicemail:<voicemailID>`` voicemailID
CallStarted          CALL_EVENT            ``call:<callID>``           callID
CallConnected        CALL_EVENT            ``call:<callID>``           callID, contactID
CallCompleted        CALL_EVENT            ``call:<callID>``           callID
CallTransfered       CALL_EVENT            ``call:<callID>``           callID, previous_contactID, contactID
CallRecorded         CALL_EVENT            ``call:<callID>``           recordingID
===================  ====================  ==========================  ==========================================

Callbacks carry no event id, so a key is built from the fact itself: a redelivery repeats it, a new
failed attempt changes ``attempts`` and ``last_contact``. Added and Updated share one key,
``tele2:lost:<caller>:<line>:<attempts>:<last_contact as UTC>``, which ``GET /lost_calls`` rows
get too (:func:`lost_caller_event`), so a lost caller pushed and listed is queued once.
``LostCallerRemoved`` has nothing but the caller and the line, so only the time of receipt tells a
redelivery from the removal of a later lost call by the same caller: removals received within the
same minute share a key. The cost of a redelivery across a minute boundary is a second, harmless
"resolved" (a close told twice keeps the first); the cost of a too-wide window would be a lost
call that never shows as resolved.

``occurred_at`` is the vendor's time where the payload has one (``last_contact``, ``callStarted``,
``callConnected``; a time without an offset is local time in the configured zone), else the time of
receipt. ``detail`` carries ``event`` and, where known, ``line_number`` (what route number filters
match), ``contact_id`` (the employee) and the vendor's raw codes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from pydantic import BaseModel, ValidationError

from adapters.errors import VendorRejected, unreadable_webhook, validation_summary, webhook_json
from adapters.events import AlertEvent, AlertKind, without_empty
from adapters.tele2 import wire
from adapters.tele2.paths import WEBHOOK_EVENTS

#: Replaced by the event name in a ``target_url`` (one callback URL per event).
EVENT_PLACEHOLDER = "{event}"
#: How many webhooks Tele2 lets one account hold at a time (seed, "Known issues and limitations").
VENDOR_WEBHOOK_LIMIT = 20
#: Receipts of the same ``LostCallerRemoved`` within this many seconds count as one delivery.
REMOVAL_WINDOW_SECONDS = 60

_LOST_KINDS: dict[str, AlertKind] = {
    "LostCallerAdded": AlertKind.LOST_CALL_OPENED,
    "LostCallerUpdated": AlertKind.LOST_CALL_UPDATED,
    "LostCallerRemoved": AlertKind.LOST_CALL_RESOLVED,
}


class WebhookLimitReached(VendorRejected):
    """Tele2 itself answered ``403 Webhook limit reached`` to a subscribe call."""


@dataclass(frozen=True)
class Webhook:
    """One webhook subscription at Tele2.

    ``event`` is the Swagger event name when recognised, else the vendor's own string;
    ``id`` is ``None`` only when Tele2 did not say which id a new subscription got.
    """

    id: str | None
    event: str
    endpoint: str


@dataclass(frozen=True)
class WebhookSyncResult:
    """What :meth:`Tele2Adapter.ensure_webhooks` did.

    Args:
        created: subscriptions made now.
        reused: phonebot's subscriptions that were already there.
        removed: duplicate subscriptions of phonebot's (same event and URL), deleted.
        total: webhooks the account holds afterwards (only phonebot's when ``listed`` is False).
        limit: the most it may hold.
    """

    created: tuple[Webhook, ...]
    reused: tuple[Webhook, ...]
    removed: tuple[Webhook, ...]
    total: int
    limit: int
    #: phonebot's recorded subscriptions that are not current (``phonebot webhooks prune`` removes them).
    stale: tuple[Webhook, ...] = ()
    #: True when Tele2 listed its webhooks (``total`` counts everyone's), False when only phonebot's record was used.
    listed: bool = True


@dataclass(frozen=True)
class SyncPlan:
    """The changes that make ``target_url`` receive ``events``; see :func:`plan_sync`."""

    create: tuple[str, ...]
    reuse: tuple[Webhook, ...]
    remove: tuple[Webhook, ...]
    existing: int
    total: int


#: What phonebot subscribes by default: the lost-caller and voicemail events (the alerts).
ALERT_EVENTS: tuple[str, ...] = tuple(e for e in WEBHOOK_EVENTS if e.startswith(("LostCaller", "Voicemail")))


def webhook_events(*, include_call_events: bool = False) -> tuple[str, ...]:
    """The events phonebot subscribes: :data:`ALERT_EVENTS`, and every call event too on request."""
    return WEBHOOK_EVENTS if include_call_events else ALERT_EVENTS


def endpoint_for(target_url: str, event: str) -> str:
    """The callback URL for ``event``: ``target_url`` with ``{event}`` replaced."""
    return target_url.replace(EVENT_PLACEHOLDER, event)


def is_ours(webhook: Webhook, target_url: str) -> bool:
    """True when ``webhook`` delivers its event to ``target_url``."""
    return webhook.endpoint == endpoint_for(target_url, webhook.event)


def wanted_events(events: Sequence[str], *, vendor: str) -> tuple[str, ...]:
    """``events`` as Swagger names, in order and without repeats; unknown names are refused."""
    wanted: list[str] = []
    unknown: list[str] = []
    for raw in events:
        name = wire.canonical_event(raw)
        if name is None:
            unknown.append(raw)
        elif name not in wanted:
            wanted.append(name)
    if unknown:
        raise VendorRejected(
            vendor, f"{vendor} has no webhook event {', '.join(map(repr, unknown))}; it has {', '.join(WEBHOOK_EVENTS)}"
        )
    return tuple(wanted)


def plan_sync(
    existing: Sequence[Webhook], *, target_url: str, events: Sequence[str], limit: int, vendor: str
) -> SyncPlan:
    """Reuse phonebot's subscriptions, create the missing ones, drop duplicates; never pass ``limit``.

    Raises:
        VendorRejected: an unknown event, or the account would hold more than ``limit`` webhooks
            (the message says how many exist, how many more are needed and what the limit is).
    """
    wanted = wanted_events(events, vendor=vendor)
    reuse: dict[str, Webhook] = {}
    remove: list[Webhook] = []
    for webhook in existing:
        if webhook.event in wanted and is_ours(webhook, target_url):
            if webhook.event in reuse:
                remove.append(webhook)
            else:
                reuse[webhook.event] = webhook
    create = tuple(event for event in wanted if event not in reuse)
    total = len(existing) - len(remove) + len(create)
    if total > limit:
        others = len(existing) - len(reuse) - len(remove)
        raise VendorRejected(
            vendor,
            f"Cannot subscribe phonebot to {len(wanted)} {vendor} webhook events: {len(existing)} webhooks exist "
            f"already ({others} of them not phonebot's) and phonebot needs {len(create)} more "
            f"({', '.join(create)}), {total} in all, but the limit is {limit} webhooks per account. Nothing was "
            "changed. Delete webhooks you no longer use in the Mobili Stotele panel (API \u2192 WEB HOOKS) or "
            "subscribe phonebot to fewer events.",
        )
    reused = tuple(reuse[event] for event in wanted if event in reuse)
    return SyncPlan(create=create, reuse=reused, remove=tuple(remove), existing=len(existing), total=total)


# -- phonebot's own record of its subscriptions ----------------------------------------------------
#: Version of the JSON phonebot keeps its subscription ids in (see :func:`dump_records`).
RECORDS_VERSION = 1


def dump_records(webhooks: Sequence[Webhook]) -> str:
    """The subscriptions phonebot made, as the JSON it keeps in its store."""
    rows = [{"id": w.id, "event": w.event, "endpoint": w.endpoint} for w in webhooks]
    return json.dumps({"v": RECORDS_VERSION, "webhooks": rows}, separators=(",", ":"))


def load_records(raw: str | None) -> list[Webhook]:
    """What :func:`dump_records` wrote (``[]`` for nothing stored).

    Raises:
        ValueError: the stored value is not a record of this version.
    """
    if raw is None:
        return []
    data = json.loads(raw)
    if not isinstance(data, dict) or data.get("v") != RECORDS_VERSION or not isinstance(data.get("webhooks"), list):
        raise ValueError("not a webhook record of this version")
    records: list[Webhook] = []
    for row in data["webhooks"]:
        if not isinstance(row, dict) or not all(isinstance(row.get(k), str) for k in ("event", "endpoint")):
            raise ValueError("a webhook record without event or endpoint")
        webhook_id = row.get("id")
        if webhook_id is not None and not isinstance(webhook_id, str):
            raise ValueError("a webhook record whose id is not text")
        records.append(Webhook(id=webhook_id, event=row["event"], endpoint=row["endpoint"]))
    return records


def is_wanted(webhook: Webhook, *, target_url: str, events: Sequence[str]) -> bool:
    """True when ``webhook`` is one of the subscriptions ``target_url`` should have for ``events``."""
    return webhook.event in events and is_ours(webhook, target_url)


@dataclass(frozen=True)
class PrunePlan:
    """Which of phonebot's recorded subscriptions :meth:`Tele2Adapter.prune_webhooks` deletes.

    Args:
        remove: stale ones with an id (another URL, an event no longer wanted, a duplicate).
        keep: the current ones (one per wanted event).
        unremovable: stale ones Tele2 never gave an id for (delete them in the panel).
    """

    remove: tuple[Webhook, ...]
    keep: tuple[Webhook, ...]
    unremovable: tuple[Webhook, ...]


def plan_prune(
    records: Sequence[Webhook], *, target_url: str, events: Sequence[str], everything: bool = False
) -> PrunePlan:
    """Split phonebot's records into current and stale; with ``everything`` all of them are stale."""
    keep: dict[str, Webhook] = {}
    stale: list[Webhook] = []
    for webhook in records:
        if not everything and is_wanted(webhook, target_url=target_url, events=events) and webhook.event not in keep:
            keep[webhook.event] = webhook
        else:
            stale.append(webhook)
    return PrunePlan(
        remove=tuple(w for w in stale if w.id is not None),
        keep=tuple(keep.values()),
        unremovable=tuple(w for w in stale if w.id is None),
    )


# -- callbacks -------------------------------------------------------------------------------------
def parse_webhook(
    body: bytes,
    *,
    vendor: str,
    display_name: str,
    region: str,
    zone: tzinfo,
    received_at: datetime,
    event: str | None = None,
) -> list[AlertEvent]:
    """One callback body as neutral events (always one today); see the module docstring.

    Args:
        body: the raw request body.
        vendor: ``AlertEvent.vendor`` (the adapter name).
        display_name: used in error messages.
        region: country for national numbers (``LT``/``LV``).
        zone: zone of vendor times without an offset.
        received_at: aware time of receipt.
        event: the event name from the callback URL, if the receiver has one; it wins over ``eventType``.

    Raises:
        VendorRejected: not JSON, an unknown event or a payload that does not fit the event's schema.
    """
    raw = webhook_json(display_name, body)
    try:
        envelope = wire.WebhookEnvelope.model_validate(raw)
    except ValidationError as exc:
        raise unreadable_webhook(display_name, validation_summary(exc)) from exc
    if event is not None:
        name = wire.canonical_event(event)
        if name is None:
            raise unreadable_webhook(display_name, f"unknown event {event!r} in the callback URL")
    else:
        name = wire.canonical_event(envelope.eventType) or wire.canonical_event(envelope.type)
        if name is None:
            raise unreadable_webhook(display_name, f"unknown eventType {envelope.eventType!r}")
    try:
        data = wire.WEBHOOK_PAYLOADS[name].model_validate(envelope.data)
    except ValidationError as exc:
        raise unreadable_webhook(display_name, f"{name}: {validation_summary(exc)}") from exc
    mapper = _Mapper(vendor=vendor, event=name, region=region, zone=zone, received_at=received_at)
    return [mapper.map(data)]


def lost_time_key(raw: str | None, zone: tzinfo) -> str:
    """``last_contact`` as it goes into idempotency keys: UTC ISO when readable, so every spelling of one
    instant (``+0000``, ``+00:00``, local time) gives the same key; else the text as sent."""
    moment = wire.parse_time(raw, zone)
    if moment is not None:
        return moment.strftime("%Y%m%dT%H%M%SZ")
    return (raw or "").strip()


def lost_caller_event(
    row: wire.LostCallerAddedData, *, vendor: str, region: str, zone: tzinfo, received_at: datetime
) -> AlertEvent:
    """An open lost caller of ``GET /lost_calls`` as the very event (and key) its webhook would have made.

    ``attempts`` above one is what ``LostCallerUpdated`` reports, else ``LostCallerAdded``; both share
    one idempotency key per (caller, line, attempts, last_contact), so a caller seen by webhook and
    again by the list is queued once.
    """
    event = "LostCallerUpdated" if (row.attempts or 1) > 1 else "LostCallerAdded"
    return _Mapper(vendor=vendor, event=event, region=region, zone=zone, received_at=received_at).map(row)


def lost_caller_gone(
    row: wire.LostCallerAddedData, *, vendor: str, region: str, zone: tzinfo, received_at: datetime
) -> AlertEvent:
    """``LOST_CALL_RESOLVED`` for a caller ``GET /lost_calls`` listed before and lists no longer.

    The key names the episode (attempts and last contact), so the same disappearance read twice
    queues once, and a later lost call by the same caller can resolve again.
    """
    mapper = _Mapper(vendor=vendor, event="LostCallerRemoved", region=region, zone=zone, received_at=received_at)
    caller, line = mapper._party(row.callerid), mapper._party(row.destination)
    line_number = mapper._number(row.destination)
    return mapper._event(
        AlertKind.LOST_CALL_RESOLVED,
        subject=f"lost:{caller}:{line}",
        key=[caller, line, row.attempts, lost_time_key(row.last_contact, zone)],
        key_name="lost-gone",
        caller_number=mapper._number(row.callerid),
        line=line_number or row.destination.strip() or None,
        detail={"line_number": line_number},
    )


@dataclass(frozen=True)
class _Mapper:
    vendor: str
    event: str
    region: str
    zone: tzinfo
    received_at: datetime

    def map(self, data: BaseModel) -> AlertEvent:
        if isinstance(data, wire.LostCallerAddedData | wire.LostCallerRemovedData):
            return self._lost(data)
        if isinstance(data, wire.VoicemailCreatedData):
            return self._voicemail_new(data)
        if isinstance(data, wire.VoicemailDeletedData):
            return self._event(
                AlertKind.VOICEMAIL_REMOVED,
                subject=f"voicemail:{data.voicemailID}",
                key=[data.voicemailID],
                caller_number=self._number(data.sender),
                detail={"voicemail_id": data.voicemailID},
            )
        if isinstance(data, wire.CallRecordedData):
            return self._event(
                AlertKind.CALL_EVENT,
                subject=f"call:{data.callID}",
                key=[data.recordingID],
                duration_seconds=data.connectionTime,
                listen_url=data.recordingURL or None,
                text=f"Recording of call {data.callID} is ready",
                detail={"call_id": data.callID, "recording_id": data.recordingID, "direction": data.direction},
            )
        assert isinstance(data, wire.CallStartedData)
        return self._call(data)

    def _lost(self, data: wire.LostCallerAddedData | wire.LostCallerRemovedData) -> AlertEvent:
        caller, line = self._party(data.callerid), self._party(data.destination)
        line_number = self._number(data.destination)
        detail: dict[str, Any] = {"line_number": line_number}
        key_name = self.event
        if isinstance(data, wire.LostCallerAddedData):
            # One key for the fact, however it arrived (webhook Added/Updated or GET /lost_calls).
            key_name = "lost"
            key: list[object] = [caller, line, data.attempts, lost_time_key(data.last_contact, self.zone)]
            occurred = wire.parse_time(data.last_contact, self.zone)
            detail["last_contact"] = data.last_contact
            name, attempts = data.contact_name or None, data.attempts
        else:
            key = [caller, line, int(self.received_at.timestamp()) // REMOVAL_WINDOW_SECONDS]
            occurred, name, attempts = None, None, None
        return self._event(
            _LOST_KINDS[self.event],
            subject=f"lost:{caller}:{line}",
            key=key,
            key_name=key_name,
            occurred_at=occurred,
            caller_number=self._number(data.callerid),
            caller_name=name,
            line=line_number or data.destination.strip() or None,
            attempts=attempts,
            detail=detail,
        )

    def _voicemail_new(self, data: wire.VoicemailCreatedData) -> AlertEvent:
        mailbox = data.voicemailBoxName or (f"box {data.voicemailBoxID}" if data.voicemailBoxID is not None else None)
        return self._event(
            AlertKind.VOICEMAIL_NEW,
            subject=f"voicemail:{data.voicemailID}",
            key=[data.voicemailID],
            occurred_at=wire.parse_time(data.callStarted, self.zone),
            caller_number=self._number(data.sender),
            duration_seconds=data.length,
            mailbox=mailbox,
            listen_url=data.messageURL or None,
            detail={"voicemail_id": data.voicemailID, "voicemail_box_id": data.voicemailBoxID},
        )

    def _call(self, data: wire.CallStartedData) -> AlertEvent:
        connected = data.callConnected if isinstance(data, wire.CallConnectedData) else None
        seconds = data.connectionTime if isinstance(data, wire.CallCompletedData) else None
        previous = data.previous_contactID if isinstance(data, wire.CallCompletedData) else None
        key: list[object] = [data.callID]
        occurred = None
        if self.event == "CallStarted":
            occurred = wire.parse_time(data.callStarted, self.zone)
        elif self.event == "CallConnected":
            key.append(data.contactID)
            occurred = wire.parse_time(connected, self.zone)
        elif self.event == "CallCompleted":
            # Not in the Swagger's callback schema, but real callbacks carry it (``tests/fixtures/tele2/captured``).
            occurred = wire.parse_time(data.callEnded, self.zone) if isinstance(data, wire.CallCompletedData) else None
        elif self.event == "CallTransfered":
            key += [previous, data.contactID]
        line_number = self._number(data.destination)
        line = line_number or (data.destination or "").strip() or None
        what = {
            "CallStarted": "started",
            "CallConnected": "was answered",
            "CallTransfered": f"was transferred from employee {previous} to employee {data.contactID}",
        }.get(self.event)
        if what is None:  # CallCompleted
            if not connected:
                what = "ended unanswered"
            else:
                what = f"ended after {seconds} s" if seconds is not None else "ended"
        way = {"in": "Incoming", "out": "Outgoing"}.get((data.direction or "").lower(), "A")
        caller = self._number(data.caller) or (data.caller or "").strip() or "an unknown number"
        return self._event(
            AlertKind.CALL_EVENT,
            subject=f"call:{data.callID}",
            key=key,
            occurred_at=occurred,
            caller_number=self._number(data.caller),
            line=line,
            duration_seconds=seconds,
            text=f"{way} call from {caller} to {line or 'an unknown number'} {what}",
            detail={
                "call_id": data.callID,
                "line_number": line_number,
                "direction": data.direction,
                "status": data.status,
                "contact_id": data.contactID,
                "previous_contact_id": previous,
            },
        )

    def _event(
        self,
        kind: AlertKind,
        *,
        subject: str,
        key: Sequence[object],
        detail: Mapping[str, Any],
        occurred_at: datetime | None = None,
        key_name: str | None = None,
        **fields: Any,
    ) -> AlertEvent:
        parts = ("" if part is None else str(part) for part in key)
        return AlertEvent(
            kind=kind,
            vendor=self.vendor,
            subject=subject,
            idempotency_key=":".join(["tele2", key_name or self.event, *parts]),
            occurred_at=occurred_at or self.received_at,
            detail={"event": self.event, **without_empty(detail)},
            **fields,
        )

    def _number(self, raw: str | None) -> str | None:
        return wire.to_e164(raw, self.region)

    def _party(self, raw: str) -> str:
        """A caller or line as used in subjects and keys: E.164, else the raw text (``unknown`` if empty)."""
        return self._number(raw) or "".join(raw.split()).lower() or "unknown"

"""Relatel call-log rows, voicemails and webhooks as phonebot's neutral alert events.

**One mapping for both paths.** A lost call becomes an event in :func:`lost_call_event` only,
whether it was polled (``GET /calls``) or pushed (``call.created`` / ``call.ended`` webhooks), so
the same call always gets the same idempotency key ``relatel:call:<call_uuid>`` and is posted
once however it arrived.

* **Lost call** = an ``incoming`` call with ``status`` in ``{missed, orphaned}`` (CHROME treats
  ``orphaned`` as missed). ``voicemail`` is *not* a lost call here: the caller left a message,
  and that message gets its own voicemail alert, so counting it too would alert twice for one
  call. Every lost call is ``LOST_CALL_OPENED`` with ``attempts=None``, so each one adds an
  attempt to the subject's message. Subject ``lost:<caller E.164>:<line>``; the line is the
  reception the call came in on (its ``endpoint_name``; the first ``Reception#…`` among the
  call's endpoint and ``nodes``, else the call's own endpoint), ``group_id`` its endpoint id
  (``Reception#10``) and ``detail["line_number"]`` the dialled number, for route filters.
* **Resolved** (polling only: it needs to know which lost calls are open, which a stateless
  webhook does not): a later *answered* call from the caller (incoming) or to the caller
  (outgoing) resolves every open subject of that caller, ``resolved_by`` = who answered.
  Key ``relatel:call:<uuid of the answered call>:resolves:<subject>``.
* **Voicemails** (polling only: Relatel has no voicemail webhook). A new id is
  ``VOICEMAIL_NEW`` (key ``relatel:voicemail:<id>``); one that was alerted and is now ``heard``
  is ``VOICEMAIL_HEARD`` (``…:heard``); one that was alerted and has vanished from the window
  fetched is ``VOICEMAIL_REMOVED`` (``…:removed``).

**Paging never loses a call.** ``GET /calls`` has no page parameter: it lists newest first,
at most 100 a request, and is paged back with ``started_at_lt_or_eq`` (the boundary call comes
again). A round pages back through everything that ended since the cursor, up to the adapter's
page limit. When the limit is hit, the part not read (calls that ended since the round's lower
bound and started at or before where paging stopped) is kept in the cursor as a
:class:`CallBacklog` and read first in later rounds' spare pages; the adapter logs a WARNING
and ``phonebot check`` shows it. The cursor therefore never claims a call as handled that no
round has read.

The poll cursor (:class:`PollCursor`) is plain JSON: when the call log was last read, the call
uuids already handled near that boundary (and, while a backlog remains, everywhere in it), the
unread backlog, the open lost-call subjects (at most
:data:`MAX_OPEN` for :data:`OPEN_DAYS` days) and the tracked voicemails (at most
:data:`MAX_VOICEMAILS`). Folding a round into it is a pure function of the old cursor and
what Relatel returned, so a re-poll after a crash produces the same events and keys.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from adapters.errors import unreadable_webhook, validation_summary, webhook_json
from adapters.events import AlertEvent, AlertKind, without_empty
from adapters.relatel import wire

log = logging.getLogger(__name__)

LOST_STATUSES = frozenset({"missed", "orphaned"})
CALL_EVENTS = frozenset({"call.created", "call.ended"})
#: Calls are re-read this far behind the last poll: a call can show up in the log a little after it ended.
OVERLAP = timedelta(minutes=2)
MAX_OPEN = 500
OPEN_DAYS = 7
MAX_VOICEMAILS = 200


class _Json(BaseModel):
    model_config = ConfigDict(extra="ignore")


class OpenLost(_Json):
    """A lost-call subject still waiting for the caller to be reached."""

    caller: str | None  # E.164; None for a withheld number (never resolved by a callback)
    line: str | None = None
    group_id: str | None = None
    line_number: str | None = None
    at: datetime  # the latest lost attempt


class TrackedVoicemail(_Json):
    """A voicemail seen in an earlier round."""

    at: datetime
    heard: bool
    alerted: bool  # False for those present at the first run: never alerted, so never updated


class CallBacklog(_Json):
    """Calls no round has read yet: those that ended at or after ``ended_since`` and started at or before
    ``started_before`` (a round hit its page limit there)."""

    ended_since: datetime
    started_before: datetime


def merge_backlog(older: CallBacklog | None, newer: CallBacklog | None) -> CallBacklog | None:
    """One backlog covering both; calls it re-covers were read already and are deduped on ``seen_calls``."""
    if older is None or newer is None:
        return older or newer
    return CallBacklog(
        ended_since=min(older.ended_since, newer.ended_since),
        started_before=max(older.started_before, newer.started_before),
    )


class PollCursor(_Json):
    """What :meth:`~adapters.relatel.adapter.RelatelAdapter.poll_alerts` resumes from (JSON)."""

    calls_since: datetime
    seen_calls: dict[str, datetime] = Field(default_factory=dict)  # uuid -> ended_at, near the boundary
    backlog: CallBacklog | None = None  # calls not read yet: a round hit its page limit
    open: dict[str, OpenLost] = Field(default_factory=dict)  # subject -> entry
    voicemails: dict[str, TrackedVoicemail] = Field(default_factory=dict)
    voicemail_floor: datetime | None = None  # untracked voicemails this old were pruned, not new

    @classmethod
    def load(cls, raw: Mapping[str, Any] | None) -> PollCursor | None:
        """The cursor, or ``None`` for a first run (also when ``raw`` is unreadable: start afresh)."""
        if raw is None:
            return None
        try:
            return cls.model_validate(raw)
        except ValidationError:
            log.warning("relatel poll cursor unreadable; starting afresh")
            return None

    def dump(self) -> dict[str, Any]:
        """The cursor as JSON-ready values."""
        return self.model_dump(mode="json")


# -- the one call mapping ------------------------------------------------------------------------
def is_lost(call: wire.CallRow) -> bool:
    """An incoming call nobody took (``missed`` or ``orphaned``)."""
    return (call.direction or "").lower() == "incoming" and call.status.lower() in LOST_STATUSES


def is_answered(call: wire.CallRow) -> bool:
    """Someone picked up (``answered_at`` set or ``status`` ``answered``)."""
    return call.answered_at is not None or call.status.lower() == "answered"


def line_of(call: wire.CallRow) -> tuple[str | None, str | None]:
    """``(display name, endpoint id)`` of the reception the call came in on, else of its own endpoint."""
    legs = [(call.endpoint, call.endpoint_name), *((node.endpoint, node.endpoint_name) for node in call.nodes)]
    for endpoint, name in legs:
        if endpoint and endpoint.startswith("Reception#"):
            return name or endpoint, endpoint
    return call.endpoint_name or call.endpoint, call.endpoint


def lost_subject(caller: str | None, line: str | None) -> str:
    """``lost:<caller E.164>:<line>`` (``unknown`` for a missing part)."""
    return f"lost:{caller or 'unknown'}:{line or 'unknown'}"


def wanted(endpoints: Iterable[str | None], alert_endpoints: frozenset[str]) -> bool:
    """True when no endpoint filter is set, or one of ``endpoints`` is in it."""
    return not alert_endpoints or any(e in alert_endpoints for e in endpoints if e)


def lost_call_event(call: wire.CallRow, *, vendor: str, alert_endpoints: frozenset[str]) -> AlertEvent | None:
    """The event for one call-log row: ``LOST_CALL_OPENED`` for a lost call, else ``None``.

    Polling and webhooks both call this, so a call gets the same key on either path.
    """
    if not is_lost(call) or not wanted(call.endpoints, alert_endpoints):
        return None
    caller = wire.to_e164(call.from_number)
    line, endpoint = line_of(call)
    occurred = call.began_at or call.ended_at
    if occurred is None:
        return None  # a call without any time cannot be placed; Relatel always sends one
    line_number = wire.to_e164(call.to_number)
    return AlertEvent(
        kind=AlertKind.LOST_CALL_OPENED,
        vendor=vendor,
        subject=lost_subject(caller, line),
        idempotency_key=f"relatel:call:{call.call_uuid}",
        occurred_at=occurred,
        caller_number=caller,
        caller_name=(call.from_contact.name if call.from_contact else None) or None,
        line=line,
        group_id=endpoint,
        attempts=None,
        detail=without_empty(
            {"call_uuid": call.call_uuid, "status": call.status, "line_number": line_number, "endpoint": endpoint}
        ),
    )


# -- webhooks --------------------------------------------------------------------------------------
def parse_webhook(body: bytes, *, vendor: str, display_name: str, alert_endpoints: frozenset[str]) -> list[AlertEvent]:
    """An authenticated webhook body as events (a lost call, or nothing).

    Raises:
        VendorRejected: the body is not JSON or not Relatel's envelope (the receiver answers 400).
    """
    raw = webhook_json(display_name, body)
    try:
        envelope = wire.WebhookEnvelope.model_validate(raw)
    except ValidationError as exc:
        raise unreadable_webhook(display_name, validation_summary(exc)) from exc
    if envelope.event_type not in CALL_EVENTS:
        return []  # webhook.test, messages, chats, contacts: nothing to alert
    call = call_in(envelope.payload)
    if call is None:
        log.info("relatel %s webhook without a usable call object", envelope.event_type)
        return []
    event = lost_call_event(call, vendor=vendor, alert_endpoints=alert_endpoints)
    return [event] if event is not None else []


def call_in(payload: Mapping[str, Any] | None) -> wire.CallRow | None:
    """The call object of an (undocumented) ``call.*`` payload: the payload itself or ``payload["call"]``."""
    if not payload:
        return None
    nested = payload.get("call")
    candidate = nested if isinstance(nested, dict) else payload
    if "call_uuid" not in candidate or "status" not in candidate:
        return None
    try:
        return wire.CallRow.model_validate(candidate)
    except ValidationError:
        return None


# -- polling ----------------------------------------------------------------------------------------
def first_cursor(now: datetime, calls: Sequence[wire.CallRow], voicemails: Sequence[wire.VoicemailRow]) -> PollCursor:
    """The first run: remember what exists now, alert on none of it."""
    cursor = PollCursor(calls_since=now)
    for call in calls:
        if call.ended_at is not None:
            cursor.seen_calls[call.call_uuid] = call.ended_at
    for voicemail in voicemails:
        cursor.voicemails[voicemail.id] = TrackedVoicemail(
            at=voicemail.created_at, heard=voicemail.heard, alerted=False
        )
    return cursor


def fold_calls(
    cursor: PollCursor,
    calls: Sequence[wire.CallRow],
    *,
    now: datetime,
    vendor: str,
    alert_endpoints: frozenset[str],
    backlog: CallBacklog | None = None,
) -> tuple[list[AlertEvent], PollCursor]:
    """Events for calls not handled before, oldest first, and the cursor that remembers them.

    ``backlog``: what this round left unread (see :class:`CallBacklog`); the calls handled inside
    it stay in ``seen_calls`` so that reading it later alerts only the rest.
    """
    since = max(now, cursor.calls_since)
    seen = dict(cursor.seen_calls)
    open_ = dict(cursor.open)
    events: list[AlertEvent] = []
    fresh = [c for c in calls if c.ended_at is not None and c.call_uuid not in seen]
    for call in sorted(fresh, key=lambda c: (c.began_at or c.ended_at or now, c.call_uuid)):
        assert call.ended_at is not None
        seen[call.call_uuid] = call.ended_at
        event = lost_call_event(call, vendor=vendor, alert_endpoints=alert_endpoints)
        if event is not None:
            open_[event.subject] = OpenLost(
                caller=event.caller_number,
                line=event.line,
                group_id=event.group_id,
                line_number=event.detail.get("line_number"),
                at=event.occurred_at,
            )
            events.append(event)
        elif is_answered(call):
            events += _resolutions(call, open_, vendor=vendor)
    horizon = since - OVERLAP if backlog is None else min(since - OVERLAP, backlog.ended_since)
    seen = {uuid: ended for uuid, ended in seen.items() if ended >= horizon}
    oldest = now - timedelta(days=OPEN_DAYS)
    kept = sorted(((s, e) for s, e in open_.items() if e.at >= oldest), key=lambda item: item[1].at)[-MAX_OPEN:]
    update = {"calls_since": since, "seen_calls": seen, "open": dict(kept), "backlog": backlog}
    return events, cursor.model_copy(update=update)


def _resolutions(call: wire.CallRow, open_: dict[str, OpenLost], *, vendor: str) -> list[AlertEvent]:
    """``LOST_CALL_RESOLVED`` for each open subject of the party ``call`` reached; removes them."""
    outgoing = (call.direction or "").lower() == "outgoing"
    party = wire.to_e164(call.to_number if outgoing else call.from_number)
    began = call.began_at or call.answered_at
    if party is None or began is None:
        return []
    who = _answerer(call, outgoing=outgoing)
    events: list[AlertEvent] = []
    for subject, entry in sorted(open_.items()):
        if entry.caller != party or began < entry.at:
            continue
        del open_[subject]
        events.append(
            AlertEvent(
                kind=AlertKind.LOST_CALL_RESOLVED,
                vendor=vendor,
                subject=subject,
                idempotency_key=f"relatel:call:{call.call_uuid}:resolves:{subject}",
                occurred_at=call.answered_at or began,
                caller_number=entry.caller,
                line=entry.line,
                group_id=entry.group_id,
                resolved_by=who,
                detail=without_empty(
                    {
                        "line_number": entry.line_number,
                        "resolved_by_call": call.call_uuid,
                        "how": "called back" if outgoing else "called again and was answered",
                    }
                ),
            )
        )
    return events


def _answerer(call: wire.CallRow, *, outgoing: bool) -> str | None:
    """Who took the call: the answering employee, or (calling out) the employee who called."""
    answered = call.answered_by.name if call.answered_by else None
    employee = call.endpoint_name if (call.endpoint or "").startswith("Employee#") else None
    return (employee or answered) if outgoing else (answered or employee)


def fold_voicemails(
    cursor: PollCursor,
    voicemails: Sequence[wire.VoicemailRow],
    *,
    page_full: bool,
    now: datetime,
    vendor: str,
    alert_endpoints: frozenset[str],
) -> tuple[list[AlertEvent], PollCursor]:
    """New, newly heard and vanished voicemails, oldest first; the cursor tracks the rest.

    ``page_full``: the list may go on beyond the oldest voicemail fetched, so only tracked
    voicemails at least that new can be known to have vanished.
    """
    tracked = dict(cursor.voicemails)
    events: list[AlertEvent] = []
    present = {v.id for v in voicemails}
    for voicemail in sorted(voicemails, key=lambda v: (v.created_at, v.id)):
        known = tracked.get(voicemail.id)
        if known is None:
            floor = cursor.voicemail_floor
            new = floor is None or voicemail.created_at > floor
            alert = new and wanted([voicemail.endpoint], alert_endpoints)
            tracked[voicemail.id] = TrackedVoicemail(at=voicemail.created_at, heard=voicemail.heard, alerted=alert)
            if alert:
                events.append(_voicemail_new(voicemail, vendor=vendor))
                if voicemail.heard:
                    events.append(_voicemail_event(AlertKind.VOICEMAIL_HEARD, voicemail.id, now, vendor))
        elif voicemail.heard and not known.heard:
            tracked[voicemail.id] = known.model_copy(update={"heard": True})
            if known.alerted:
                events.append(_voicemail_event(AlertKind.VOICEMAIL_HEARD, voicemail.id, now, vendor))
    window = min((v.created_at for v in voicemails), default=None) if page_full else None
    for voicemail_id, known in sorted(tracked.items()):
        if voicemail_id in present or (window is not None and known.at < window):
            continue
        del tracked[voicemail_id]
        if known.alerted:
            events.append(_voicemail_event(AlertKind.VOICEMAIL_REMOVED, voicemail_id, now, vendor))
    floor = cursor.voicemail_floor
    if len(tracked) > MAX_VOICEMAILS:
        ordered = sorted(tracked.items(), key=lambda item: (item[1].at, item[0]))
        dropped, kept = ordered[:-MAX_VOICEMAILS], ordered[-MAX_VOICEMAILS:]
        floor = max([known.at for _, known in dropped] + ([floor] if floor is not None else []))
        tracked = dict(kept)
    return events, cursor.model_copy(update={"voicemails": tracked, "voicemail_floor": floor})


def _voicemail_new(voicemail: wire.VoicemailRow, *, vendor: str) -> AlertEvent:
    return AlertEvent(
        kind=AlertKind.VOICEMAIL_NEW,
        vendor=vendor,
        subject=f"voicemail:{voicemail.id}",
        idempotency_key=f"relatel:voicemail:{voicemail.id}",
        occurred_at=voicemail.created_at,
        caller_number=wire.to_e164(voicemail.from_number),
        caller_name=(voicemail.from_contact.name if voicemail.from_contact else None) or None,
        duration_seconds=voicemail.duration,
        mailbox=voicemail.endpoint_name or voicemail.endpoint,
        transcript=voicemail.message or None,
        # sound.url needs a Relatel token, so it is no link for Slack users: phonebot's Listen link plays it.
        detail=without_empty({"voicemail_id": voicemail.id, "endpoint": voicemail.endpoint}),
    )


def _voicemail_event(kind: AlertKind, voicemail_id: str, at: datetime, vendor: str) -> AlertEvent:
    """``VOICEMAIL_HEARD`` / ``VOICEMAIL_REMOVED``; Relatel says neither who nor when, so ``at`` is when it was seen.

    A re-poll may see it at another time, but the key is the same, so the repeat is dropped.
    """
    suffix = "heard" if kind is AlertKind.VOICEMAIL_HEARD else "removed"
    return AlertEvent(
        kind=kind,
        vendor=vendor,
        subject=f"voicemail:{voicemail_id}",
        idempotency_key=f"relatel:voicemail:{voicemail_id}:{suffix}",
        occurred_at=at,
        detail={"voicemail_id": voicemail_id},
    )

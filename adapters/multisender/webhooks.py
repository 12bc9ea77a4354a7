"""Multisender callbacks (RSVP calls and click-to-call) as neutral NOTIFICATION events.

Multisender signs nothing and documents no auth header, retries or event ids, so phonebot gives every
resource its own unguessable URL (``bot.webhook_auth.UrlTokens``) and the receiver has checked that
token before :func:`parse_webhook` runs. ``resource`` is what the token was issued for:

===============  ==========================================================================================
resource         accepts
===============  ==========================================================================================
``rsvp-<x>``     RSVP state and receiver webhooks; when ``<x>`` is a number it must be the body's ``rsvpCallId``
``c2c-<x>``      click-to-call receiver webhooks; when ``<x>`` is a number it must be the body's id
``account``      both (the URLs ``phonebot webhooks sync`` sets on RSVP calls)
===============  ==========================================================================================

``path`` (after the token) may name the webhook: ``state`` or ``receiver``; empty means "tell by the
body" (a ``state`` field → state webhook, ``rsvpReply``/``reply`` → receiver webhook). A body that does
not fit its resource or path, is not JSON, or lacks an id, state or reply raises
:class:`~adapters.errors.VendorRejected` (the receiver answers 400 and stores nothing).

Mapping (one Slack message per campaign; its title is ``meta.name`` when the campaign's creator set
one, else the id; the state webhook carries no ``meta`` in the seed, so its headline names the id):

===========================  =========  =================  ============================================
webhook                      subject    message part       idempotency key (after ``multisender:``)
===========================  =========  =================  ============================================
RSVP state                   rsvp:<id>  headline           ``rsvp:<id>:state:<state>:<counts>:<timestamp>``
RSVP receiver                rsvp:<id>  one line/receiver  ``rsvp:<id>:receiver:<receiver>:<reply>``
click-to-call receiver       c2c:<id>   one line/receiver  ``c2c:<id>:receiver:<receiver>:<reply>``
===========================  =========  =================  ============================================

Every event is ``AlertKind.NOTIFICATION``: these are campaign outcomes, not a live call feed, and one
family keeps one message per campaign. A receiver's line is keyed by ``detail["entry"]`` (its
``accountId``, else its number), so ``bot.alerts.view`` lists each receiver once under the headline
and a newer reply replaces the older one; ``detail["entry_state"]`` (the reply phrase) is what the
totals count. The message shows exact totals per reply ("3,000 accepted · 1,500 declined") and only the
most recent receivers' lines, so a 5,000-receiver campaign keeps a small record. Receiver keys follow
the notes' advice (id, receiver, reply: a receiver webhook is sent once per receiver), without the
timestamp, so a redelivery with a fresh
timestamp is still a duplicate; a state key includes counts and timestamp because a campaign may go
``halt`` → ``active`` → ``halt`` again.

Receiver webhooks carry no name and often a masked number (``xxxx12342``). A campaign's creator may put
``"names": {"<accountId or E.164>": "Anna Virtanen"}`` in its ``meta`` (echoed unchanged in every
webhook); phonebot shows those names, else ``account <id>``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from adapters.errors import unreadable_webhook, webhook_json
from adapters.events import AlertEvent, AlertKind
from adapters.multisender import wire

Program = Literal["rsvp", "c2c"]
#: Token resource of the URLs ``subscribe_webhooks`` sets (one per account, any RSVP call).
ACCOUNT_RESOURCE = "account"
#: What may follow the token in a callback URL.
PATHS: tuple[str, ...] = ("", "state", "receiver")

_STATE_PHRASES: dict[str, str] = {
    "waitingToActive": "is scheduled",
    "active": "is calling",
    "halt": "is paused",
    "complete": "is complete",
}
_REPLY_PHRASES: dict[str, str] = {"accept": "accepted", "decline": "declined", "noReply": "did not answer"}
_PROGRAM_NAMES: dict[Program, str] = {"rsvp": "RSVP", "c2c": "Click-to-call"}


@dataclass(frozen=True)
class Scope:
    """What a URL token admits: a program (``None``: either) and, optionally, the vendor id or a label."""

    program: Program | None
    ident: str | None

    @classmethod
    def of(cls, resource: str | None, *, display_name: str) -> Scope:
        """The scope of ``resource``; an unknown resource kind is refused."""
        if resource is None or resource == ACCOUNT_RESOURCE:
            return cls(None, None)
        for program in _PROGRAM_NAMES:
            prefix = f"{program}-"
            if resource.startswith(prefix) and len(resource) > len(prefix):
                return cls(program, resource[len(prefix) :])
        raise unreadable_webhook(
            display_name, f"the URL was issued for {resource!r}, which is not rsvp-<id>, c2c-<id> or account"
        )

    def check_id(self, found: str | None, *, display_name: str) -> None:
        """Refuse a body about another campaign than the numeric id the URL was issued for."""
        if found is not None and self.ident is not None and self.ident.isdigit() and found != self.ident:
            raise unreadable_webhook(
                display_name, f"the body is about {found!r} but the URL was issued for {self.ident!r}"
            )


def parse_webhook(
    body: bytes,
    *,
    vendor: str,
    display_name: str,
    region: str,
    zone: tzinfo,
    received_at: datetime,
    path: str,
    resource: str | None,
) -> list[AlertEvent]:
    """One callback as neutral events (always one); see the module docstring.

    Args:
        body: the raw request body.
        vendor: ``AlertEvent.vendor`` (the adapter name).
        display_name: used in error messages.
        region: country for national numbers (``FI``).
        zone: zone of vendor times without an offset.
        received_at: aware time of receipt (used when the body's timestamp is unreadable).
        path: what followed the URL token (``state``, ``receiver`` or empty).
        resource: what the URL token was issued for.

    Raises:
        VendorRejected: unreadable, or not fitting its resource or path.
    """
    scope = Scope.of(resource, display_name=display_name)
    wanted = path.strip("/")
    if wanted not in PATHS:
        raise unreadable_webhook(display_name, f"unknown callback path {wanted!r} (use state, receiver or nothing)")
    raw = webhook_json(display_name, body)
    is_state, is_receiver = "state" in raw, ("rsvpReply" in raw or "reply" in raw)
    if is_state == is_receiver:
        raise unreadable_webhook(display_name, "the body is neither a state nor a receiver webhook")
    kind = "state" if is_state else "receiver"
    if wanted and wanted != kind:
        raise unreadable_webhook(display_name, f"a {kind} webhook arrived at the {wanted} URL")
    mapper = _Mapper(vendor=vendor, region=region, zone=zone, received_at=received_at)
    if is_state:
        if scope.program == "c2c":
            raise unreadable_webhook(display_name, "click-to-call has no state webhook; this URL is for click-to-call")
        state = _validate(wire.StateWebhook, raw, display_name)
        scope.check_id(state.rsvpCallId, display_name=display_name)
        return [mapper.state(state)]
    receiver = _validate(wire.ReceiverWebhook, raw, display_name)
    program, ident = _receiver_program(receiver, scope, display_name)
    return [mapper.receiver(receiver, program, ident)]


def _receiver_program(receiver: wire.ReceiverWebhook, scope: Scope, display_name: str) -> tuple[Program, str]:
    """Which campaign a receiver webhook is about, refused when it does not fit the URL's scope."""
    if scope.program == "rsvp":
        if receiver.rsvpCallId is None:
            raise unreadable_webhook(display_name, "an RSVP receiver webhook without rsvpCallId")
        scope.check_id(receiver.rsvpCallId, display_name=display_name)
        return "rsvp", receiver.rsvpCallId
    if scope.program == "c2c":
        # The click-to-call form is undocumented: its id may come as clickToCallId or as rsvpCallId.
        found = receiver.clickToCallId or receiver.rsvpCallId
        scope.check_id(found, display_name=display_name)
        ident = found or scope.ident
        assert ident is not None  # a c2c scope always has an ident
        return "c2c", ident
    if receiver.clickToCallId is not None:
        return "c2c", receiver.clickToCallId
    if receiver.rsvpCallId is not None:
        return "rsvp", receiver.rsvpCallId
    raise unreadable_webhook(display_name, "a receiver webhook without rsvpCallId or clickToCallId")


@dataclass(frozen=True)
class _Mapper:
    vendor: str
    region: str
    zone: tzinfo
    received_at: datetime

    def state(self, data: wire.StateWebhook) -> AlertEvent:
        title = _title("rsvp", data.rsvpCallId, data.meta)
        phrase = _STATE_PHRASES.get(data.state, f"is {data.state}")
        figures = [
            f"{value} {label}"
            for value, label in (
                (data.totalDialedCalls, "dialled"),
                (data.answeredCalls, "answered"),
                (data.acceptsReceived, "accepted"),
            )
            if value is not None
        ]
        text = f"{title} {phrase}" + (f" — {' · '.join(figures)}" if figures else "")
        key: list[object] = ["rsvp", data.rsvpCallId, "state", data.state]
        key += [data.totalDialedCalls, data.answeredCalls, data.acceptsReceived, data.timestamp]
        return self._event(
            subject=f"rsvp:{data.rsvpCallId}",
            key=key,
            timestamp=data.timestamp,
            text=text,
            detail={
                "webhook": "state",
                "rsvp_call_id": data.rsvpCallId,
                # The seed lists no meta on the state webhook; an id-only title must not hide the
                # named one a receiver webhook brought.
                "title": title if data.meta else None,
                "state": data.state,
                "dialled_calls": data.totalDialedCalls,
                "answered_calls": data.answeredCalls,
                "accepts_received": data.acceptsReceived,
                "total_duration_seconds": data.totalDuration,
            },
        )

    def receiver(self, data: wire.ReceiverWebhook, program: Program, ident: str) -> AlertEvent:
        number = wire.to_e164(data.phoneNumber, self.region)
        shown_number = number or (data.phoneNumber.strip() if data.phoneNumber else None)
        who_key = data.accountId or number or shown_number or f"unknown:{data.timestamp or ''}"
        reply = data.canonical_reply
        name = _name_from_meta(data.meta, (data.accountId, number, data.phoneNumber))
        label = name or (f"account {data.accountId}" if data.accountId else None)
        who = f"{label} ({shown_number})" if label and shown_number else (label or shown_number or "a receiver")
        phrase = _REPLY_PHRASES.get(reply, f"replied {reply!r}")
        id_name = "rsvp_call_id" if program == "rsvp" else "click_to_call_id"
        return self._event(
            subject=f"{program}:{ident}",
            key=[program, ident, "receiver", who_key, reply],
            timestamp=data.timestamp,
            text=f"{who} {phrase}",
            detail={
                "webhook": "receiver",
                id_name: ident,
                "title": _title(program, ident, data.meta),
                "entry": f"receiver:{who_key}",
                "entry_state": phrase,  # totals per state are counted by it (``bot.alerts.tally``)
                "reply": reply,
                "account_id": data.accountId,
            },
        )

    def _event(
        self, *, subject: str, key: Sequence[object], timestamp: str | None, text: str, detail: Mapping[str, Any]
    ) -> AlertEvent:
        return AlertEvent(
            kind=AlertKind.NOTIFICATION,
            vendor=self.vendor,
            subject=subject,
            idempotency_key=":".join(["multisender", *("" if part is None else str(part) for part in key)]),
            occurred_at=wire.parse_time(timestamp, self.zone) or self.received_at,
            text=text,
            detail={k: v for k, v in detail.items() if v is not None},
        )


def _title(program: Program, ident: str, meta: Mapping[str, Any] | None) -> str:
    """``RSVP *Night shift*`` from ``meta.name``, else ``RSVP call *7*`` / ``Click-to-call *12*``."""
    name = None
    if meta:
        name = next((meta[k] for k in ("name", "title", "label") if isinstance(meta.get(k), str)), None)
    shown = _plain(name) if name and _plain(name) else None
    if shown:
        return f"{_PROGRAM_NAMES[program]} *{shown}*"
    return f"RSVP call *{_plain(ident)}*" if program == "rsvp" else f"Click-to-call *{_plain(ident)}*"


def _name_from_meta(meta: Mapping[str, Any] | None, keys: tuple[str | None, ...]) -> str | None:
    """A receiver's name from the campaign's ``meta.names`` (phonebot's convention; see the module docstring)."""
    names = meta.get("names") if meta else None
    if not isinstance(names, dict):
        return None
    for key in keys:
        value = names.get(key) if key else None
        if isinstance(value, str) and _plain(value):
            return _plain(value)
    return None


def _plain(text: str) -> str:
    """Text safe inside Slack mrkdwn emphasis: no formatting characters, one line, bounded."""
    cleaned = "".join(" " if ch in "*_~`<>\n\r\t" else ch for ch in text)
    return " ".join(cleaned.split())[:80]


def _validate(model: type[BaseModel], raw: dict[str, Any], display_name: str) -> Any:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "body"
        raise unreadable_webhook(display_name, f"{where}: {error['msg']}") from exc

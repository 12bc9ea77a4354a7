"""Lost-call backfill: ``GET /lost_calls`` reconciled with what phonebot saw last, so downtime loses nothing.

Tele2 pushes lost callers by webhook, but a callback sent while phonebot was down (or unreachable)
is gone: the Swagger documents no retries. ``GET /lost_calls`` (S1 ``GetLostCalls``; seed 003
"Get lost calls", ~448-500) lists the lost callers that are *still open* — not answered, not
called back — with ``contact_name``, ``destination``, ``attempts``, ``callerid`` and
``last_contact``, and no id. Every poll round reads the whole list (``limit``/``offset`` pages;
``404 No items found`` is an empty list) and compares it with the list of the round before, kept
in the poll cursor:

* a caller listed now and not before, or with other ``attempts``/``last_contact``, becomes the same
  event their ``LostCallerAdded``/``LostCallerUpdated`` webhook makes, with the **same idempotency
  key** (:func:`~adapters.tele2.webhooks.lost_caller_event`), so what a webhook already queued is
  dropped by the queue's dedupe and what it never delivered is queued now, once;
* a caller listed before and not now was reached (called back, or got through):
  ``LOST_CALL_RESOLVED`` (:func:`~adapters.tele2.webhooks.lost_caller_gone`); a subject phonebot
  never showed is ignored by the worker, one a webhook already resolved stays as it was.

The first round ever (no cursor) backfills the callers still open whose last attempt is at most
``lost_calls_backfill_hours`` old (0: none; phonebot only remembers the list). A round that could
not read the whole list (more than :data:`MAX_PAGES` pages) resolves nothing, so a caller it did
not reach is never taken for called back. The cursor is ``{"v": 1, "open": {...}}``; an
unreadable one counts as the first round.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from pydantic import ValidationError

from adapters.events import AlertEvent
from adapters.tele2 import wire
from adapters.tele2.webhooks import lost_caller_event, lost_caller_gone, lost_time_key

CURSOR_VERSION = 1
PAGE_LIMIT = 100
#: 1,000 open lost callers a round; the budget is 100 calls a minute per key.
MAX_PAGES = 10
#: Open callers kept in the cursor at most (the newest); beyond it the oldest are forgotten, not resolved.
MAX_OPEN = 2000

#: Fetches one page: (limit, offset) -> the rows, ``[]`` past the last page.
FetchPage = Callable[[int, int], Awaitable[list[wire.LostCallerAddedData]]]


@dataclass(frozen=True)
class LostCalls:
    """One read of ``GET /lost_calls``: the open callers, and whether that was all of them."""

    rows: list[wire.LostCallerAddedData]
    complete: bool


async def read_all(fetch: FetchPage) -> LostCalls:
    """Every open lost caller, paged with ``offset`` (at most :data:`MAX_PAGES` pages)."""
    rows: list[wire.LostCallerAddedData] = []
    for page in range(MAX_PAGES):
        found = await fetch(PAGE_LIMIT, page * PAGE_LIMIT)
        rows += found
        if len(found) < PAGE_LIMIT:
            return LostCalls(rows, complete=True)
    return LostCalls(rows, complete=False)


def reconcile(
    listed: LostCalls,
    cursor: Mapping[str, Any] | None,
    *,
    vendor: str,
    region: str,
    zone: tzinfo,
    now: datetime,
    backfill: timedelta,
) -> tuple[list[AlertEvent], dict[str, Any]]:
    """The events since ``cursor`` and the cursor to keep (pure; see the module docstring)."""
    before = _open(cursor)
    current: dict[str, dict[str, Any]] = {}
    events: list[AlertEvent] = []
    for row in listed.rows:
        event = lost_caller_event(row, vendor=vendor, region=region, zone=zone, received_at=now)
        current[event.subject] = _stored(row)
        if before is None:
            at = wire.parse_time(row.last_contact, zone)
            if backfill and (at is None or now - at <= backfill):
                events.append(event)
        elif _fact(before.get(event.subject), zone) != _fact(current[event.subject], zone):
            events.append(event)
    if before is not None:
        if listed.complete:
            for subject, stored in before.items():
                if subject not in current and (gone := _row(stored)) is not None:
                    events.append(lost_caller_gone(gone, vendor=vendor, region=region, zone=zone, received_at=now))
        else:  # not read to the end: whoever was not reached may still be open
            current = {**before, **current}
    newest = sorted(current.items(), key=lambda item: str(item[1].get("last_contact") or ""), reverse=True)
    return events, {"v": CURSOR_VERSION, "open": dict(newest[:MAX_OPEN])}


def _open(cursor: Mapping[str, Any] | None) -> dict[str, dict[str, Any]] | None:
    """The callers open at the last round, or ``None`` for a first round (also: unreadable or old cursor)."""
    if not cursor or cursor.get("v") != CURSOR_VERSION or not isinstance(cursor.get("open"), dict):
        return None
    return {str(k): v for k, v in cursor["open"].items() if isinstance(v, dict)}


def _stored(row: wire.LostCallerAddedData) -> dict[str, Any]:
    return row.model_dump(exclude_none=True)


def _row(stored: Mapping[str, Any]) -> wire.LostCallerAddedData | None:
    try:
        return wire.LostCallerAddedData.model_validate(stored)
    except ValidationError:
        return None


def _fact(stored: Mapping[str, Any] | None, zone: tzinfo) -> tuple[object, str] | None:
    """What makes a lost caller's event new: attempts and the instant of the last attempt."""
    if stored is None:
        return None
    return stored.get("attempts"), lost_time_key(stored.get("last_contact"), zone)

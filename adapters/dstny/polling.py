"""Fetching what :mod:`adapters.dstny.alerts` diffs: one poll round and the call-log write-back.

One round, as the configured service user:

1. the group call log, ``GET …/distribution-group/{domain}/{user}/calllog?itemType=MISSED&
   itemType=ANSWERED&limit=N`` with ``since``/``olderThan`` (seed 004 ~640-659; ANSWERED rides
   along so a caller who got through resolves their miss), read with :func:`~adapters.dstny.paging.read_spans`:
   first everything above the highest item id seen (and ranges an earlier round left unread),
   then the range of the open alerts being followed. 004 does not say in which order the log
   answers, so no order is assumed; each part has a page budget and what a round could not
   read stays in the cursor;
2. ``GET /api/commlog/{domain}/{userId}?itemType=VOICEMAIL&since=…`` from just below the oldest
   tracked voicemail (so heard and deleted ones are seen too; the highest id seen on the first run);
3. ``GET /api/commlog/{domain}/{userId}/groupinbox``.

The cursor is ``{"v": 1, "lost": {...}, "calllog": {"high", "pending", "catching_up"},
"voicemail": {...}, "inbox": {...}}``; an unreadable cursor or one of another version counts as
a first run (remember the present, alert on nothing). A first run finds the highest item id by
reading upwards; on a log too big for one round it goes on reading the next rounds
(``catching_up``) and alerts once it has reached the present. A cursor from before ``calllog``
existed resumes above the highest item it followed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from adapters.dstny import alerts
from adapters.dstny.paging import Span, SpanRead, item_number, read_spans
from adapters.dstny.wire import CallLog, CallLogItem, CommLog
from adapters.errors import VendorUnavailable
from adapters.events import AlertEvent
from adapters.http import VendorHttpClient
from adapters.models import PollResult

M = TypeVar("M", bound=BaseModel)
GroupNames = Callable[[set[str]], Awaitable[Mapping[str, str]]]
CallerNames = Callable[[list[str]], Awaitable[Mapping[str, str]]]

log = logging.getLogger(__name__)


class _CallLogCursor(BaseModel):
    model_config = ConfigDict(extra="ignore")

    high: int | None = None  # the highest item id read so far
    pending: list[tuple[int | None, int | None]] = Field(default_factory=list)  # ranges above-cursor rounds left
    catching_up: bool = False  # a first run still reading up to the present


class _Cursor(BaseModel):
    model_config = ConfigDict(extra="ignore")

    v: int
    lost: dict[str, Any]
    calllog: _CallLogCursor | None = None
    voicemail: dict[str, Any]
    inbox: dict[str, Any]


class AlertPolling:
    """One Dstny organisation's alert sources, read with the service user's ticket.

    Args:
        http: the adapter's vendor client (paths from ``ENDPOINTS``).
        domain: the organisation's domain.
        user: the service user's bare id.
        token: the service user's ticket.
        group_names: group ids -> display names (the adapter caches them).
        caller_names: E.164 numbers -> directory names, for the callers of new lost calls.
    """

    def __init__(
        self,
        http: VendorHttpClient,
        *,
        domain: str,
        user: str,
        token: Callable[[], str],
        group_names: GroupNames,
        caller_names: CallerNames,
        vendor: str = "Dstny",
    ) -> None:
        self._http = http
        self._domain = domain
        self._user = user
        self._token = token
        self._group_names = group_names
        self._caller_names = caller_names
        self._vendor = vendor

    async def poll(self, cursor: Mapping[str, Any] | None, *, now: datetime) -> PollResult:
        """Events since ``cursor`` and the cursor to resume from."""
        previous = self._read_cursor(cursor)
        where = {"domain": self._domain, "userId": self._user}  # 004 names the commlog user "userId"
        lost_events, lost, calllog_cursor = await self._lost_calls(previous, now=now)

        vm_before = previous.voicemail if previous else None
        params: list[tuple[str, str]] = [("itemType", "VOICEMAIL")]
        since = _below(alerts.oldest_tracked(vm_before))
        if since is not None:
            params.append(("since", since))
        personal = self._parse(
            CommLog,
            await self._http.call("commlog.list", token=self._token(), path_params=where, params=params),
            "communication log",
        )
        vm_events, voicemail = alerts.diff_voicemails(personal.items, vm_before, mailbox=self._user, now=now)

        inbox_before = previous.inbox if previous else None
        group_inbox = self._parse(
            CommLog,
            await self._http.call("commlog.groupinbox", token=self._token(), path_params=where),
            "group inbox",
        )
        inbox_events, inbox = alerts.diff_voicemails(group_inbox.items, inbox_before, mailbox=self._user, now=now)

        return PollResult(
            events=[*lost_events, *vm_events, *inbox_events],
            cursor={
                "v": alerts.CURSOR_VERSION,
                "lost": lost,
                "calllog": calllog_cursor,
                "voicemail": voicemail,
                "inbox": inbox,
            },
        )

    async def assign(self, user: str, token: str, item_id: str, *, handled: bool, note: str) -> None:
        """Assign call-log item ``item_id`` to ``user`` as INPROGRESS, or mark it HANDLED."""
        await self._http.call(
            "calllog.assign",
            token=token,
            path_params={"domain": self._domain, "user": user, "itemid": item_id},
            json={"state": "HANDLED" if handled else "INPROGRESS", "note": note},
        )

    async def mark_heard(self, item_id: str) -> None:
        """Mark the service user's voicemail ``item_id`` seen and played."""
        await self._http.call(
            "commlog.mark",
            token=self._token(),
            path_params={"domain": self._domain, "userId": self._user, "itemId": item_id},
            params={"isSeen": "true", "isPlayed": "true", "updateCallItem": "true"},
        )

    def backlog(self, cursor: Mapping[str, Any] | None) -> str | None:
        """What a saved cursor has not read yet, in words (``phonebot check``), or ``None``."""
        previous = self._read_cursor(cursor)
        state = previous.calllog if previous is not None else None
        if state is None:
            return None
        if state.catching_up:
            return (
                f"first start: the group call log is still being read up to its newest item (at item {state.high} "
                f"so far, {alerts.CALLLOG_PAGES * alerts.CALLLOG_LIMIT} items a round); lost calls alert once it is"
            )
        if state.pending:
            return (
                f"{len(state.pending)} range(s) of the group call log below item {state.high} are still to be read "
                f"(more than {alerts.CALLLOG_PAGES * alerts.CALLLOG_LIMIT} new items in one round); "
                "later rounds read them first, nothing is skipped"
            )
        return None

    async def _lost_calls(
        self, previous: _Cursor | None, *, now: datetime
    ) -> tuple[list[AlertEvent], dict[str, list[Any]], dict[str, Any]]:
        """The group call log's events, followed items and cursor part for one round."""
        state = self._calllog_cursor(previous)
        followed = self._followed(previous, now) if previous is not None else None
        if followed is None or state.catching_up:
            # Find the present: read upwards to the highest id, alerting nothing.
            start = Span(state.high, None)
            read = await read_spans(
                self._calllog_page,
                [start],
                limit=alerts.CALLLOG_LIMIT,
                max_pages=alerts.CALLLOG_PAGES,
                upward_only=True,
            )
            high = _highest(read, state.high)
            items = list(read.items.values())
            names = await self._names(items, {}, lambda _id: False)
            _, seen = alerts.diff_calllog(items, None, is_new=lambda _id: False, complete=False, names=names, now=now)
            lost = alerts.followed({**(followed or {}), **seen}, now)
            if not read.complete:
                log.warning(
                    "dstny: the group call log is larger than one round reads; still finding its newest item",
                    extra={"vendor": self._vendor, "high": high},
                )
            return [], lost, {"high": high, "pending": [], "catching_up": not read.complete}

        pending = [Span.from_json(span) for span in state.pending]
        # A range left open upwards starts at the highest id read, so the first range covers it already.
        fresh = await read_spans(
            self._calllog_page,
            [Span(state.high, None), *(span for span in pending if span.below is not None)],
            limit=alerts.CALLLOG_LIMIT,
            max_pages=alerts.CALLLOG_PAGES,
        )
        open_numbers = [n for item_id in alerts.open_items(followed) if (n := item_number(item_id)) is not None]
        complete = True
        found = dict(fresh.items)
        if open_numbers and state.high is not None:
            refresh = await read_spans(
                self._calllog_page,
                [Span(min(open_numbers) - 1, state.high + 1)],
                limit=alerts.CALLLOG_LIMIT,
                max_pages=alerts.REFRESH_PAGES,
            )
            complete = refresh.complete
            found = {**refresh.items, **found}
            if not complete:
                log.warning(
                    "dstny: following the open lost calls needs more than %d call-log pages a round; "
                    "their updates may come late and gone items are not resolved",
                    alerts.REFRESH_PAGES,
                    extra={"vendor": self._vendor},
                )

        def is_new(item_id: str) -> bool:
            number = item_number(item_id)
            if number is None:
                return item_id not in followed
            return (state.high is None or number > state.high) or any(span.holds(number) for span in pending)

        rows = list(found.values())
        names = await self._names(rows, followed, is_new)
        events, lost = alerts.diff_calllog(rows, followed, is_new=is_new, complete=complete, names=names, now=now)
        left = _bounded(fresh.left)
        if left:
            log.warning(
                "dstny: more new group call-log items than one round reads; the rest are read next round",
                extra={"vendor": self._vendor, "ranges": len(left)},
            )
        high = _highest(fresh, state.high)
        return events, lost, {"high": high, "pending": [span.to_json() for span in left], "catching_up": False}

    async def _calllog_page(self, span: Span) -> list[CallLogItem]:
        params = [("itemType", "MISSED"), ("itemType", "ANSWERED"), *span.params()]
        params.append(("limit", str(alerts.CALLLOG_LIMIT)))
        body = await self._http.call(
            "calllog",
            token=self._token(),
            path_params={"domain": self._domain, "user": self._user},
            params=params,
        )
        return self._parse(CallLog, body, "group call log").callLogItem

    def _calllog_cursor(self, previous: _Cursor | None) -> _CallLogCursor:
        if previous is None:
            return _CallLogCursor()
        if previous.calllog is not None:
            return previous.calllog
        # A cursor from before ranges were kept: resume above the highest item it followed.
        numbers = [n for item_id in previous.lost if (n := item_number(item_id)) is not None]
        return _CallLogCursor(high=max(numbers)) if numbers else _CallLogCursor(catching_up=True)

    def _followed(self, previous: _Cursor, now: datetime) -> dict[str, list[Any]]:
        entries = {item_id: alerts.followed_entry(raw, now) for item_id, raw in previous.lost.items()}
        return {item_id: entry for item_id, entry in entries.items() if entry is not None}

    async def _names(
        self, items: list[CallLogItem], previous: Mapping[str, Any], is_new: Callable[[str], bool]
    ) -> alerts.LostCallNames:
        group_ids = {item.groupId for item in items if item.groupId}
        groups = await self._group_names(group_ids) if group_ids else {}
        callers = await self._caller_names(alerts.missed_callers(items, previous, is_new))
        return alerts.LostCallNames(groups=groups, callers=callers)

    def _read_cursor(self, cursor: Mapping[str, Any] | None) -> _Cursor | None:
        if cursor is None:
            return None
        try:
            parsed = _Cursor.model_validate(cursor)
        except ValidationError:
            return None
        return parsed if parsed.v == alerts.CURSOR_VERSION else None

    def _parse(self, model: type[M], body: Any, what: str) -> M:
        try:
            return model.model_validate(body if body is not None else {})
        except ValidationError as exc:
            raise VendorUnavailable(self._vendor, f"{self._vendor} sent an unexpected answer ({what})") from exc


def _below(item_id: str | None) -> str | None:
    """``since`` is exclusive: one below ``item_id`` so that item itself comes back."""
    if item_id is None:
        return None
    return str(int(item_id) - 1) if item_id.isdigit() else item_id


def _highest(read: SpanRead, high: int | None) -> int | None:
    numbers = [n for item_id in read.items if (n := item_number(item_id)) is not None]
    return max([*numbers, *([high] if high is not None else [])], default=None)


def _bounded(spans: list[Span]) -> list[Span]:
    """At most :data:`~adapters.dstny.alerts.PENDING_MAX` ranges: the oldest are merged into one.

    A merged range is read again whole; its items already followed are not new, so nothing
    alerts twice (only a range unread for longer than the follow window could).
    """
    ordered = sorted(spans, key=lambda span: (span.above is not None, span.above or 0))
    while len(ordered) > alerts.PENDING_MAX:
        first, second = ordered[0], ordered[1]
        ordered[:2] = [Span(first.above, second.below)]
    return ordered

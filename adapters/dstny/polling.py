"""Fetching what :mod:`adapters.dstny.alerts` diffs: one poll round and the call-log write-back.

One round, as the configured service user:

1. ``GET …/distribution-group/{domain}/{user}/calllog?itemType=MISSED&itemType=ANSWERED&limit=N``
   (ANSWERED rides along in the same request so a caller who got through resolves their miss);
2. ``GET /api/commlog/{domain}/{user}?itemType=VOICEMAIL&since=…`` from just below the oldest
   tracked voicemail (so heard and deleted ones are seen too; the highest id seen on the first run);
3. ``GET /api/commlog/{domain}/{user}/groupinbox``.

The cursor is ``{"v": 1, "lost": {...}, "voicemail": {...}, "inbox": {...}}``; an unreadable
cursor or one of another version counts as a first run (remember the present, alert on nothing).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from adapters.dstny import alerts
from adapters.dstny.wire import CallLog, CommLog
from adapters.errors import VendorUnavailable
from adapters.http import VendorHttpClient
from adapters.models import PollResult

M = TypeVar("M", bound=BaseModel)
GroupNames = Callable[[set[str]], Awaitable[Mapping[str, str]]]
CallerNames = Callable[[list[str]], Awaitable[Mapping[str, str]]]


class _Cursor(BaseModel):
    model_config = ConfigDict(extra="ignore")

    v: int
    lost: dict[str, tuple[int, int, str]]
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
        where = {"domain": self._domain, "user": self._user}
        calllog = self._parse(
            CallLog,
            await self._http.call(
                "calllog",
                token=self._token(),
                path_params=where,
                params=[("itemType", "MISSED"), ("itemType", "ANSWERED"), ("limit", str(alerts.CALLLOG_LIMIT))],
            ),
            "group call log",
        )
        lost_before = previous.lost if previous else None
        names = await self._names(calllog, lost_before or {}, first_run=previous is None)
        lost_events, lost = alerts.diff_calllog(
            calllog.callLogItem,
            lost_before,
            window_full=len(calllog.callLogItem) >= alerts.CALLLOG_LIMIT,
            names=names,
            now=now,
        )

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
            cursor={"v": alerts.CURSOR_VERSION, "lost": lost, "voicemail": voicemail, "inbox": inbox},
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
            path_params={"domain": self._domain, "user": self._user, "item": item_id},
            params={"isSeen": "true", "isPlayed": "true", "updateCallItem": "true"},
        )

    async def _names(self, calllog: CallLog, previous: Mapping[str, Any], *, first_run: bool) -> alerts.LostCallNames:
        group_ids = {item.groupId for item in calllog.callLogItem if item.groupId}
        groups = await self._group_names(group_ids) if group_ids else {}
        callers = {} if first_run else await self._caller_names(alerts.missed_callers(calllog.callLogItem, previous))
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

"""Dstny Core alert polling: group call-log and Communication Log snapshots diffed against a cursor.

Dstny pushes nothing for lost calls or voicemails (the notes' §5.6), so phonebot polls and
compares each answer with what it saw last time. Everything here is pure: the adapter fetches,
these functions decide which neutral events the difference means and what the next cursor is.

Lost calls (group call log)
    Items are aggregated per group, caller and type, so a repeat call raises ``callCount`` on
    the same ``itemId`` instead of adding an item. Each round reads (see
    :mod:`adapters.dstny.polling`) every item above the highest id seen so far, and the id range
    of the open alerts it follows. The cursor keeps ``itemId -> [callCount, closed, subject,
    last call]`` for the followed MISSED items. A new item opens an alert, a higher count
    updates it, and it is resolved when its ``handledStatus.state`` becomes HANDLED, when an
    ANSWERED item for the same group and caller is newer than the miss (the same requests
    return both types), or when it is gone from a complete read of its range. Items that are
    already closed when first seen alert nothing; an open one is followed for
    :data:`FOLLOW_FOR` after its last attempt.

Voicemails (personal Communication Log and group inbox)
    The cursor keeps the highest voicemail id seen and ``itemId -> heard`` for the newest
    voicemails. A new one alerts (unless it was already listened to), a tracked one that is
    now played is "heard", and a tracked one that is gone was deleted.

Idempotency keys are built from the facts alone (item id and count, or item id and state), so
re-polling with an older cursor repeats the very same keys and the sink drops the duplicates.
The cursor is plain JSON and bounded (:data:`TRACKED`, :data:`PENDING_MAX`, :data:`VOICEMAILS_TRACKED`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import phonenumbers

from adapters.dstny.wire import CallLogItem, HistoryItem, parse_time
from adapters.events import AlertEvent, AlertKind

VENDOR = "dstny"
#: Cursor layout version; a cursor of another version is treated like a first run.
CURSOR_VERSION = 1
#: ``limit`` of each group call-log request (one page).
CALLLOG_LIMIT = 100
#: Pages one round reads at most for items above the cursor (and for a first run finding the
#: present); a burst beyond it is left in the cursor and read first thing next round.
CALLLOG_PAGES = 10
#: Pages one round reads at most to follow the open alerts (counts, HANDLED, answered, gone).
REFRESH_PAGES = 5
#: Unread call-log ranges a cursor keeps at most (beyond it the oldest two are merged).
PENDING_MAX = 32
#: Followed call-log items the cursor keeps at most (newest ids).
TRACKED = 500
#: An open lost call is followed this long after its caller's last attempt, then left as it is.
FOLLOW_FOR = timedelta(hours=24)
#: The notes phonebot writes with a claim; an item HANDLED with :data:`RESOLVED_NOTE` was resolved
#: from Slack already, so polling it back must not edit the message a second time.
TAKEN_NOTE = "Taken in Slack (phonebot)"
RESOLVED_NOTE = "Resolved in Slack (phonebot)"
#: Voicemails whose heard/deleted state is followed, per source (newest kept).
VOICEMAILS_TRACKED = 100


@dataclass(frozen=True)
class LostCallNames:
    """Display names the lost-call events need: groups by id, callers by E.164 number."""

    groups: Mapping[str, str]
    callers: Mapping[str, str]


def e164(raw: str | None) -> str | None:
    """``raw`` in E.164 when it is an international number; short internal numbers stay as given."""
    if not raw or not raw.strip():
        return None
    text = raw.strip()
    if not text.startswith("+"):
        return text
    try:
        parsed = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return text
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _id_order(item_id: str) -> tuple[int, str]:
    return (int(item_id), "") if item_id.isdigit() else (-1, item_id)


# -- lost calls -----------------------------------------------------------------------------------
def lost_call_subject(caller: str | None, group: str) -> str:
    """One Slack message per caller and line."""
    return f"lost:{caller or 'unknown'}:{group}"


def missed_callers(
    items: Sequence[CallLogItem], previous: Mapping[str, Any], is_new: Callable[[str], bool]
) -> list[str]:
    """E.164 numbers of callers on new MISSED items the cursor does not know yet (for a directory look-up)."""
    numbers = {e164(i.callerNumber) for i in _missed(items) if i.itemId not in previous and is_new(i.itemId)}
    return sorted(n for n in numbers if n and n.startswith("+"))


def diff_calllog(
    items: Sequence[CallLogItem],
    previous: Mapping[str, Any] | None,
    *,
    is_new: Callable[[str], bool],
    complete: bool,
    names: LostCallNames,
    now: datetime,
) -> tuple[list[AlertEvent], dict[str, list[Any]]]:
    """Events for the change from ``previous`` (cursor part, ``None``: remember silently) to ``items``.

    Args:
        items: the call-log items read this round (MISSED and ANSWERED), each once.
        previous: ``itemId -> [callCount, closed, subject, last call]`` followed so far; ``None``
            on a first run, which records the open misses of the last :data:`FOLLOW_FOR` and
            alerts nothing.
        is_new: whether an item id was never read before (above the cursor's highest id, or in
            a range a full round left unread); only such items open alerts.
        complete: every followed item's id range was read, so a followed item missing from
            ``items`` is gone at the vendor.
        names: group and caller names for display.
        now: the poll time (for facts the vendor gives no time for).
    """
    answered = _latest_answered(items)
    state: dict[str, list[Any]] = {}
    events: list[AlertEvent] = []
    for item in _missed(items):
        closed, who, at = _closed_by(item, answered.get((item.groupId, e164(item.callerNumber))))
        before = previous.get(item.itemId) if previous is not None else None
        if previous is not None and before is None and not is_new(item.itemId):
            continue  # read before and no longer followed (or never open): nothing of ours to change
        # An item keeps the subject it was first seen with, even if its group is renamed later.
        subject = str(before[2]) if before else lost_call_subject(e164(item.callerNumber), _group(item, names)[0])
        last_call = parse_time(item.startTime) or now
        entry = [item.callCount, int(closed), subject, _stamp(last_call)]
        if previous is None:
            if not closed and now - last_call <= FOLLOW_FOR:
                state[item.itemId] = entry
            continue
        state[item.itemId] = entry
        if before is None:
            if not closed:
                events.append(_lost_event(item, AlertKind.LOST_CALL_OPENED, subject, names, now))
            continue
        count, was_closed = int(before[0]), bool(before[1])
        if item.callCount > count and not closed:
            events.append(_lost_event(item, AlertKind.LOST_CALL_UPDATED, subject, names, now))
        if closed and not was_closed and not _resolved_from_slack(item):
            events.append(_resolved(item, subject, names, at or now, who))
    for item_id, before in (previous or {}).items():
        if item_id in state or bool(before[1]):
            continue  # seen this round, or closed already: nothing to carry over
        if complete:
            events.append(_vanished(item_id, int(before[0]), str(before[2]), now))
        else:
            state[item_id] = list(before)  # its range wasn't read this round: still followed as it was
    return events, followed(state, now)


def followed_entry(raw: Any, now: datetime) -> list[Any] | None:
    """A cursor entry as ``[callCount, closed, subject, last call]``; older cursors lack the last call."""
    if not isinstance(raw, list | tuple) or len(raw) < 3:
        return None
    try:
        count, closed, subject = int(raw[0]), int(bool(raw[1])), str(raw[2])
    except (TypeError, ValueError):
        return None
    last = parse_time(str(raw[3])) if len(raw) > 3 and raw[3] else None
    return [count, closed, subject, _stamp(last or now)]


def open_items(previous: Mapping[str, Any]) -> list[str]:
    """Ids of the followed items whose alert is still open."""
    return [item_id for item_id, entry in previous.items() if not bool(entry[1])]


def followed(state: dict[str, list[Any]], now: datetime) -> dict[str, list[Any]]:
    """``state`` less open items whose last call is older than :data:`FOLLOW_FOR`, capped at :data:`TRACKED`.

    An item no longer followed keeps its Slack message as it is; nothing resolves it automatically.
    """
    kept = {
        item_id: entry
        for item_id, entry in state.items()
        if bool(entry[1]) or now - (parse_time(str(entry[3])) or now) <= FOLLOW_FOR
    }
    newest = sorted(kept, key=_id_order)[-TRACKED:]
    return {item_id: kept[item_id] for item_id in newest}


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _closed_by(item: CallLogItem, answer: CallLogItem | None) -> tuple[bool, str | None, datetime | None]:
    """Whether a miss is over (HANDLED, or the caller got through later), and by whom and when."""
    if item.handled:
        status = item.handledStatus
        agent = status.agent if status else None
        return True, agent.name if agent else None, parse_time(status.timeStamp) if status else None
    if answer is not None and _after(parse_time(answer.startTime), parse_time(item.startTime)):
        return True, answer.agent.name if answer.agent else None, parse_time(answer.startTime)
    return False, None, None


def _resolved_from_slack(item: CallLogItem) -> bool:
    return item.handled and item.handledStatus is not None and item.handledStatus.note == RESOLVED_NOTE


def _missed(items: Sequence[CallLogItem]) -> list[CallLogItem]:
    return sorted((i for i in items if (i.itemType or "MISSED").upper() == "MISSED"), key=lambda i: _id_order(i.itemId))


def _latest_answered(items: Sequence[CallLogItem]) -> dict[tuple[str | None, str | None], CallLogItem]:
    latest: dict[tuple[str | None, str | None], CallLogItem] = {}
    for item in items:
        if (item.itemType or "").upper() != "ANSWERED":
            continue
        key = (item.groupId, e164(item.callerNumber))
        known = latest.get(key)
        if known is None or _after(parse_time(item.startTime), parse_time(known.startTime)):
            latest[key] = item
    return latest


def _after(first: datetime | None, second: datetime | None) -> bool:
    return first is not None and (second is None or first > second)


def _group(item: CallLogItem, names: LostCallNames) -> tuple[str, str | None]:
    group_id = item.groupId
    name = names.groups.get(group_id or "") if group_id else None
    return (name or group_id or "group call log"), (name or group_id)


def _lost_event(item: CallLogItem, kind: AlertKind, subject: str, names: LostCallNames, now: datetime) -> AlertEvent:
    caller = e164(item.callerNumber)
    return AlertEvent(
        kind=kind,
        vendor=VENDOR,
        subject=subject,
        idempotency_key=f"dstny:calllog:{item.itemId}:{item.callCount}",
        occurred_at=parse_time(item.startTime) or now,
        caller_number=caller,
        caller_name=names.callers.get(caller or ""),
        line=_group(item, names)[1],
        group_id=item.groupId,
        attempts=item.callCount,
        detail={"calllog_item_id": item.itemId, "group_id": item.groupId},
    )


def _resolved(item: CallLogItem, subject: str, names: LostCallNames, at: datetime, who: str | None) -> AlertEvent:
    caller = e164(item.callerNumber)
    return AlertEvent(
        kind=AlertKind.LOST_CALL_RESOLVED,
        vendor=VENDOR,
        subject=subject,
        idempotency_key=f"dstny:calllog:{item.itemId}:{item.callCount}:resolved",
        occurred_at=at,
        caller_number=caller,
        line=_group(item, names)[1],
        group_id=item.groupId,
        resolved_by=who,
        detail={"calllog_item_id": item.itemId, "group_id": item.groupId},
    )


def _vanished(item_id: str, count: int, subject: str, now: datetime) -> AlertEvent:
    return AlertEvent(
        kind=AlertKind.LOST_CALL_RESOLVED,
        vendor=VENDOR,
        subject=subject,
        idempotency_key=f"dstny:calllog:{item_id}:{count}:resolved",
        occurred_at=now,
        detail={"calllog_item_id": item_id},
    )


# -- voicemails -----------------------------------------------------------------------------------
def diff_voicemails(
    items: Sequence[HistoryItem],
    previous: Mapping[str, Any] | None,
    *,
    mailbox: str,
    now: datetime,
    complete: bool = True,
) -> tuple[list[AlertEvent], dict[str, Any]]:
    """Events for one voicemail source; ``previous`` is ``{"last": id, "seen": {itemId: heard}}``.

    ``complete``: ``items`` covers every tracked id (it was fetched from the oldest tracked
    one on), so a tracked id missing from it was deleted.
    """
    voicemails = sorted(
        (i for i in items if (i.itemType or "VOICEMAIL").upper() == "VOICEMAIL"), key=lambda i: _id_order(i.itemId)
    )
    tracked: dict[str, bool] = {str(k): bool(v) for k, v in ((previous or {}).get("seen") or {}).items()}
    last = str((previous or {}).get("last") or "")
    events: list[AlertEvent] = []
    current: dict[str, bool] = {}
    for item in voicemails:
        current[item.itemId] = item.heard
        if previous is None:
            continue
        if item.itemId not in tracked:
            if last and _id_order(item.itemId) <= _id_order(last):
                continue  # older than anything tracked: seen (or forgotten) before, never re-alerted
            if not item.heard:
                events.append(_voicemail_event(item, AlertKind.VOICEMAIL_NEW, mailbox, now))
        elif item.heard and not tracked[item.itemId]:
            events.append(_voicemail_event(item, AlertKind.VOICEMAIL_HEARD, mailbox, now))
    if previous is not None and complete:
        for item_id in tracked:
            if item_id not in current:
                events.append(
                    AlertEvent(
                        kind=AlertKind.VOICEMAIL_REMOVED,
                        vendor=VENDOR,
                        subject=f"voicemail:{item_id}",
                        idempotency_key=f"dstny:voicemail:{item_id}:removed",
                        occurred_at=now,
                        detail={"voicemail_id": item_id},
                    )
                )
    if not complete:
        current = {**{k: v for k, v in tracked.items() if k not in current}, **current}
    newest = sorted(current, key=_id_order)[-VOICEMAILS_TRACKED:]
    ids = [*newest, *([last] if last else [])]
    return events, {
        "last": max(ids, key=_id_order) if ids else "",
        "seen": {item_id: current[item_id] for item_id in newest},
    }


def oldest_tracked(previous: Mapping[str, Any] | None) -> str | None:
    """The smallest tracked voicemail id, else the last one seen (for ``since=``)."""
    if not previous:
        return None
    seen = [str(k) for k in (previous.get("seen") or {})]
    if seen:
        return min(seen, key=_id_order)
    last = previous.get("last")
    return str(last) if last else None


def _voicemail_event(item: HistoryItem, kind: AlertKind, mailbox: str, now: datetime) -> AlertEvent:
    party = item.remoteParty
    suffix = "new" if kind == AlertKind.VOICEMAIL_NEW else "heard"
    return AlertEvent(
        kind=kind,
        vendor=VENDOR,
        subject=f"voicemail:{item.itemId}",
        idempotency_key=f"dstny:voicemail:{item.itemId}:{suffix}",
        occurred_at=parse_time(item.startTime) or now,
        caller_number=e164(party.number) if party else None,
        caller_name=(party.displayName or None) if party else None,
        duration_seconds=item.duration,
        mailbox=item.inboxName or mailbox,
        detail={"voicemail_id": item.itemId},
    )

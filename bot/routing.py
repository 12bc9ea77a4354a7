"""Which channels an alert goes to, and whether a route is in its quiet hours."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from adapters.events import AlertEvent, AlertKind
from bot.config import AlertFamily, AlertRoute, QuietHours

FAMILIES: dict[AlertKind, AlertFamily] = {
    AlertKind.LOST_CALL_OPENED: "lost_call",
    AlertKind.LOST_CALL_UPDATED: "lost_call",
    AlertKind.LOST_CALL_RESOLVED: "lost_call",
    AlertKind.VOICEMAIL_NEW: "voicemail",
    AlertKind.VOICEMAIL_REMOVED: "voicemail",
    AlertKind.VOICEMAIL_HEARD: "voicemail",
    AlertKind.QUEUE_BREACHED: "queue",
    AlertKind.QUEUE_RECOVERED: "queue",
    AlertKind.CALL_EVENT: "call",
    AlertKind.NOTIFICATION: "notification",
}
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def family_of(kind: AlertKind) -> AlertFamily:
    """The route family (``lost_call``, ``voicemail``, ...) of an event kind."""
    return FAMILIES[kind]


def route_matches(route: AlertRoute, event: AlertEvent) -> bool:
    """True when every filter the route sets accepts the event."""
    if family_of(event.kind) not in route.kinds:
        return False
    if route.vendor is not None and route.vendor != event.vendor:
        return False
    if route.groups:
        wanted = {group.strip().lower() for group in route.groups}
        have = {value.strip().lower() for value in (event.line, event.group_id) if value}
        if not wanted & have:
            return False
    if route.numbers:
        numbers = set(route.numbers)
        line_number = event.detail.get("line_number")
        if not numbers & {n for n in (event.caller_number, line_number) if isinstance(n, str)}:
            return False
    return True


def routes_for(event: AlertEvent, routes: list[AlertRoute]) -> list[AlertRoute]:
    """Every route the event matches (one message per channel; duplicates by channel dropped)."""
    seen: set[str] = set()
    matched: list[AlertRoute] = []
    for route in routes:
        if route.channel not in seen and route_matches(route, event):
            seen.add(route.channel)
            matched.append(route)
    return matched


def quiet_until(quiet: QuietHours | None, now: datetime, default_tz: ZoneInfo) -> datetime | None:
    """When the quiet window containing ``now`` ends (aware), or ``None`` when not quiet."""
    if quiet is None:
        return None
    tz = ZoneInfo(quiet.timezone) if quiet.timezone else default_tz
    local = now.astimezone(tz)
    start, end = _clock(quiet.start), _clock(quiet.end)
    length = _window_length(start, end)
    # The window containing `now` started today or, for windows crossing midnight, yesterday.
    for days_back in (0, 1):
        day = local.date() - timedelta(days=days_back)
        if _WEEKDAYS[day.weekday()] not in quiet.days:
            continue
        opened = datetime.combine(day, start, tzinfo=tz)
        closes = opened + length
        if opened <= local < closes:
            return closes
    return None


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def _window_length(start: time, end: time) -> timedelta:
    minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
    return timedelta(minutes=minutes if minutes > 0 else minutes + 24 * 60)

"""``/presence``: turn ``lunch 45m`` or ``vacation until friday`` into a typed command.

Grammar (words are case-insensitive)::

    (empty) | show | status                      -> ShowPresence(None)
    @user | show @user                           -> ShowPresence(user)
    available | back | clear | online | reset    -> ClearPresence()
    forward [to] <number | @user> [for <duration> | until <when>]
                                                 -> ForwardCalls(...)
    <activity> [[for] <duration> | until <when>] -> SetPresence(...)

Durations are read with a small regex (``45m``, ``1h30``, ``1.5h``, ``2 days``); they
are elapsed time, so ``dnd 2h`` ends two real hours from now even across a DST change.
``until`` expressions are clock times (read here, see ``_next_clock_time``) or anything
``dateparser`` understands, interpreted in the user's time zone.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo

from dateparser.date import DateDataParser

from handlers.parsing.call import CallContact, CallNumber, CallUser, example_number, parse_call
from handlers.parsing.common import UsageError, contains_user_mention, parse_user_mention, quote

__all__ = [
    "NEUTRAL_ACTIVITIES",
    "ClearPresence",
    "ForwardCalls",
    "PresenceCommand",
    "SetPresence",
    "ShowPresence",
    "describe_until",
    "parse_presence",
]

NEUTRAL_ACTIVITIES: frozenset[str] = frozenset(
    {"available", "lunch", "meeting", "away", "out", "vacation", "dnd", "busy", "sick"}
)
"""Activities every adapter understands; anything else is passed on as a vendor activity."""


@dataclass(frozen=True, slots=True)
class ShowPresence:
    """Show presence: the caller's own when ``user_id`` is ``None``, else that Slack user's."""

    user_id: str | None = None


@dataclass(frozen=True, slots=True)
class ClearPresence:
    """Become available again (``/presence back``)."""


@dataclass(frozen=True, slots=True)
class SetPresence:
    """Set an activity, optionally with an end time.

    Attributes:
        activity: The activity word, lower-cased (``lunch``); the handler checks it
            against what the vendor offers.
        until: When it ends, an aware UTC datetime, or ``None`` for no end.
        label: The activity word exactly as typed, for display.
    """

    activity: str
    until: datetime | None
    label: str


@dataclass(frozen=True, slots=True)
class ForwardCalls:
    """Forward the caller's calls to a number or to a colleague, optionally until a time.

    Attributes:
        number: The number in E.164 (``+4571999999``), when one was typed.
        display: That number as people write it.
        user_id: The Slack user id of the colleague, when an @-mention was given.
        until: When forwarding ends, an aware UTC datetime, or ``None`` for no end.
    """

    number: str | None
    display: str | None
    user_id: str | None
    until: datetime | None


PresenceCommand: TypeAlias = ShowPresence | ClearPresence | SetPresence | ForwardCalls

_SHOW_WORDS = frozenset({"show", "status"})
_CLEAR_WORDS = frozenset({"available", "back", "clear", "online", "reset"})
_HELP_WORDS = frozenset({"help", "?"})
_UNTIL_WORDS = frozenset({"until", "till", "til", "untill"})
_FOR_WORDS = frozenset({"for"})
_FORWARD_WORDS = frozenset({"forward", "fwd", "divert"})
_FORWARD_OFF_WORDS = frozenset({"off", "stop", "none", "cancel", "clear"})

# Letters first, so "45m" or "14:00" typed without an activity gets a pointed message.
_ACTIVITY_RE = re.compile(r"[^\W\d_][\w-]{0,39}")

_MINUTES_PER_UNIT = {"m": 1, "h": 60, "d": 24 * 60, "w": 7 * 24 * 60}
_UNIT = r"(?:minutes|minute|mins|min|m|hours|hour|hrs|hr|h|days|day|d|weeks|week|wks|wk|w)(?![a-z])"
_PART_RE = re.compile(
    r"(?P<num>[0-9]+(?:[.,][0-9]+)?)\s*(?P<unit>" + _UNIT + r")"
    r"|(?P<article>an?|half an?) (?P<word>minute|hour|day|week)\b"
)
_SEP_RE = re.compile(r", ?| and |\s?")
_NUMBER_RE = re.compile(r"-?[0-9]+(?:[.,][0-9]+)?")
_MAX_DURATION_CHARS = 60

_CLOCK_RE = re.compile(r"(?P<hour>[0-9]{1,2})(?:[:.h](?P<minute>[0-9]{2})|h)?\s*(?:(?P<ampm>[ap])\.?m\.?)?")
# 1/12, 1-12 and 1/12/2026 are day/month or month/day depending on who types them.
_SLASH_DATE_RE = re.compile(r"(?P<a>[0-9]{1,2})(?P<sep>[/-])(?P<b>[0-9]{1,2})(?:(?P=sep)[0-9]{2,4})?")
# 1.12. and 1.12.2026 are only ever day.month (and dateparser reads them as month.day or
# as 01:12); "14.30" without the trailing dot is left to _CLOCK_RE as a time.
_DOT_DATE_RE = re.compile(r"(?P<day>[0-9]{1,2})\.(?P<month>[0-9]{1,2})\.(?P<year>[0-9]{2}|[0-9]{4})?")
# "friday 9" is Friday at 09:00; dateparser reads the 9 as September.
_DAY_AND_HOUR_RE = re.compile(r"(?P<day>[a-z]+) (?P<hour>[0-9]{1,2})|(?P<hour2>[0-9]{1,2}) (?P<day2>[a-z]+)")
_MONTH_WORD_RE = re.compile(r"jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec")
_DAY_WORD = (
    r"(?:next )?(?:today|tomorrow|mon|monday|tue|tues|tuesday|wed|wednesday|thu|thur|thurs|thursday|"
    r"fri|friday|sat|saturday|sun|sunday)"
)
# "tomorrow 25:00", "friday at 9am", "14:00 monday": the time is checked here, because dateparser
# drops a time it cannot read and keeps the day ("tomorrow 25:00" would become tomorrow 08:00).
_DAY_AT_TIME_RE = re.compile(
    rf"(?P<day>{_DAY_WORD})(?: at)? (?P<time>[0-9]\S*)|(?P<time2>[0-9]\S*)(?: on)? (?P<day2>{_DAY_WORD})"
)
# A time of day dateparser may have ignored when it answers with a whole day.
_CLOCK_SHAPE_RE = re.compile(r"[0-9][:.][0-9]|[0-9] ?[ap]\.?m\b|\b[0-9]{1,2}h\b")
_POINT_IN_TIME_RE = re.compile(
    r"\b[0-9]{1,2}[:.][0-9]{2}\b|[0-9] ?[ap]\.?m\b|\b(?:today|tonight|tomorrow|noon|midnight|next|"
    r"mon|monday|tue|tues|tuesday|wed|wednesday|thu|thur|thurs|thursday|fri|friday|"
    r"sat|saturday|sun|sunday)\b"
)
_MAX_UNTIL_CHARS = 60
_DAY_PERIODS = frozenset({"day", "week", "month", "year"})

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

_HELP = UsageError(
    "`/presence` shows yours, `/presence @someone` shows theirs, `/presence lunch 45m` or "
    "`/presence meeting until 14:00` sets it, `/presence back` clears it. "
    "More in `/phonebot help presence`.",
    "/presence lunch 45m",
)


def parse_presence(
    text: str,
    *,
    now: datetime,
    tz: ZoneInfo,
    default_country: str = "",
    workday_start: time = time(8, 0),
    max_span: timedelta = timedelta(days=90),
) -> PresenceCommand | UsageError:
    """Parse the text of ``/presence``; never raises.

    Args:
        text: What the user typed after ``/presence`` (Slack-escaped).
        now: The current instant, timezone-aware.
        tz: The user's time zone; ``until`` expressions are read in it.
        default_country: ISO 3166 region for a ``forward to`` number typed without a country code.
        workday_start: Local time someone is back when they give only a day
            (``until friday`` = Friday at this time).
        max_span: The furthest an end time may lie in the future.

    Returns:
        A command, or a ``UsageError`` explaining what could not be read.
    """
    words = text.split()
    if not words:
        return ShowPresence()
    first, rest = words[0], words[1:]
    key = first.lower()
    if key in _SHOW_WORDS:
        return _parse_show(first, rest)
    if key in _FORWARD_WORDS:
        return _parse_forward(
            first, rest, now=now, tz=tz, default_country=default_country, workday_start=workday_start, max_span=max_span
        )
    mentioned = parse_user_mention(text)
    if mentioned is not None:
        return ShowPresence(mentioned)
    if contains_user_mention(text):
        return UsageError(
            "I can show a colleague's presence, but only they can change it. Send just the mention to see theirs.",
            "/presence @alice",
        )
    if key in _HELP_WORDS:
        return _HELP
    if key in _CLEAR_WORDS:
        if rest:
            return UsageError(f"{quote(first)} makes you available again and takes nothing after it.", "/presence back")
        return ClearPresence()
    activity_error = _check_activity(first)
    if activity_error is not None:
        return activity_error
    until = _parse_end(rest, label=first, now=now, tz=tz, workday_start=workday_start, max_span=max_span)
    if isinstance(until, UsageError):
        return until
    return SetPresence(activity=key, until=until, label=first)


def describe_until(until: datetime | None, tz: ZoneInfo, now: datetime) -> str:
    """A short local-time phrase for an end time.

    ``"until 14:00"`` today, ``"until tomorrow 09:00"``, ``"until Fri 28 Nov 08:00"``
    further out (with the year when it differs from now's), ``"with no end time"`` for
    ``None``.
    """
    if until is None:
        return "with no end time"
    return f"until {_local_phrase(until, tz, now)}"


def _parse_show(first: str, rest: list[str]) -> ShowPresence | UsageError:
    if not rest:
        return ShowPresence()
    mentioned = parse_user_mention(" ".join(rest))
    if mentioned is not None:
        return ShowPresence(mentioned)
    return UsageError(
        f"{quote(first)} is followed by {quote(' '.join(rest))}, which isn't a Slack mention. "
        "Pick the person from the @-mention list.",
        "/presence @alice",
    )


def _parse_forward(
    first: str,
    rest: list[str],
    *,
    now: datetime,
    tz: ZoneInfo,
    default_country: str,
    workday_start: time,
    max_span: timedelta,
) -> ForwardCalls | UsageError:
    """``forward [to] <number | @user> [for <duration> | until <when>]``; the end reads as for activities."""
    example = f"/presence forward to {example_number(default_country)}"
    if rest and rest[0].lower() == "to":
        rest = rest[1:]
    if rest and rest[0].lower() in _FORWARD_OFF_WORDS:
        return UsageError(
            "`/presence available` ends forwarding, together with the presence it came with.", "/presence available"
        )
    cut = next((i for i, word in enumerate(rest) if word.lower() in _UNTIL_WORDS | _FOR_WORDS), len(rest))
    target, end = " ".join(rest[:cut]), rest[cut:]
    if not target:
        return UsageError(
            f"{quote(first)} needs a phone number or a colleague's @-mention to forward your calls to.", example
        )
    if (target[:1].isdigit() or target[:1] in "+(") and any(char.isalpha() for char in target):
        return UsageError(
            f"I read {quote(target)} as a number with something after it. Put {quote('for')} or "
            f"{quote('until')} before when forwarding should end.",
            f"{example} for 2h",
        )
    parsed = parse_call(target, default_country=default_country)
    if isinstance(parsed, CallContact):
        return UsageError(
            f"I can forward your calls to a phone number or to a colleague's @-mention, not to {quote(target)}.",
            example,
        )
    if isinstance(parsed, UsageError):
        return UsageError(parsed.message, example)
    label = f"forward to {target}"
    until = _parse_end(end, label=label, now=now, tz=tz, workday_start=workday_start, max_span=max_span)
    if isinstance(until, UsageError):
        return until
    if isinstance(parsed, CallUser):
        return ForwardCalls(number=None, display=None, user_id=parsed.user_id, until=until)
    assert isinstance(parsed, CallNumber)
    return ForwardCalls(number=parsed.e164, display=parsed.display, user_id=None, until=until)


def _check_activity(first: str) -> UsageError | None:
    key = first.lower()
    if key in _UNTIL_WORDS or key in _FOR_WORDS or first[:1].isdigit():
        return UsageError("Start with what you're doing, then how long or until when.", "/presence meeting 1h")
    if _ACTIVITY_RE.fullmatch(first):
        return None
    if first.startswith("@"):
        return UsageError(
            f"I couldn't tell who {quote(first)} is. Pick the person from Slack's @-mention list "
            "so it becomes a real mention.",
            "/presence @alice",
        )
    return UsageError(
        f"I couldn't read {quote(first)} as an activity. Use one word such as lunch, meeting or dnd.",
        "/presence lunch 45m",
    )


def _parse_end(
    rest: list[str], *, label: str, now: datetime, tz: ZoneInfo, workday_start: time, max_span: timedelta
) -> datetime | UsageError | None:
    """The end time in UTC, checked against ``now`` and ``max_span``; ``None`` when none was given."""
    if not rest:
        return None
    keyword = rest[0].lower()
    if keyword in _UNTIL_WORDS:
        expr = " ".join(rest[1:])
        if not expr:
            return UsageError(f"{quote(rest[0])} needs a time or a day after it.", f"/presence {label} until 14:00")
        until = _parse_until(expr, label=label, now=now, tz=tz, workday_start=workday_start)
    else:
        until = _parse_duration_end(rest, label=label, now=now, max_span=max_span)
    if isinstance(until, UsageError):
        return until
    return _check_range(until, label=label, now=now, tz=tz, max_span=max_span)


def _parse_duration_end(rest: list[str], *, label: str, now: datetime, max_span: timedelta) -> datetime | UsageError:
    has_for = rest[0].lower() in _FOR_WORDS
    expr = " ".join(rest[1:] if has_for else rest)
    if not expr:
        return UsageError(f"{quote(rest[0])} needs a duration after it.", f"/presence {label} for 1h")
    normal = expr.lower()
    if not has_for and _POINT_IN_TIME_RE.search(normal) and not _PART_RE.match(normal):
        return UsageError(
            f"{quote(expr)} looks like a time, not a duration. Put {quote('until')} before an end time.",
            f"/presence {label} until {expr}",
        )
    if re.search(r"\bmonths?\b", normal):
        return UsageError(
            "Months differ in length, so I don't take them as a duration. Give the day you're back instead.",
            f"/presence {label} until 1 feb",
        )
    minutes = _parse_duration(expr)
    if isinstance(minutes, int):
        if minutes > max_span / timedelta(minutes=1):
            span = _span_words(max_span)
            return UsageError(
                f"{quote(expr)} is more than {span}. Pick a shorter time, or leave the end out.",
                f"/presence {label} until friday",
            )
        return now.astimezone(UTC) + timedelta(minutes=minutes)
    return UsageError(minutes, f"/presence {label} 45m")


def _parse_duration(expr: str) -> int | str:
    """Whole minutes, or a sentence saying what is wrong with ``expr``."""
    normal = " ".join(expr.lower().split()).rstrip(".!")
    unreadable = f"I couldn't read {quote(expr)} as a duration."
    if len(normal) > _MAX_DURATION_CHARS:
        return unreadable
    if normal.startswith("-"):
        return f"A duration has to be longer than zero, so {quote(expr)} won't work."
    if _NUMBER_RE.fullmatch(normal):
        return f"{quote(expr)} needs a unit: m for minutes, h for hours or d for days."
    total = 0.0
    last_unit = ""
    pos = last_end = 0
    while pos < len(normal):
        part = _PART_RE.match(normal, pos)
        if part is None:
            break
        if part.group("num") is not None:
            amount = float(part.group("num").replace(",", "."))
            unit = part.group("unit")[0]
        else:
            amount = 0.5 if part.group("article").startswith("half") else 1.0
            unit = part.group("word")[0]
        total += amount * _MINUTES_PER_UNIT[unit]
        last_unit = unit
        last_end = part.end()
        separator = _SEP_RE.match(normal, last_end)
        pos = separator.end() if separator else last_end
    remainder = normal[pos:]
    if last_end == 0:
        return unreadable
    if remainder:
        # "1h30" / "1 hour 30": a bare number after hours means minutes.
        if last_unit != "h" or not re.fullmatch(r"[0-9]{1,2}", remainder):
            return f"I read {quote(normal[:last_end])} as a duration, but not {quote(remainder)}."
        total += int(remainder)
    elif pos != last_end:
        return unreadable  # dangling "and" or comma
    if not math.isfinite(total):
        return f"{quote(expr)} is far too long."
    minutes = round(total)
    if minutes < 1:
        return f"A duration has to be at least a minute, so {quote(expr)} won't work."
    return minutes


def _parse_until(expr: str, *, label: str, now: datetime, tz: ZoneInfo, workday_start: time) -> datetime | UsageError:
    normal = " ".join(expr.lower().split())
    unreadable = UsageError(
        f"I couldn't read {quote(expr)} as a time or a day.", f"/presence {label} until tomorrow 9am"
    )
    if len(normal) > _MAX_UNTIL_CHARS:
        return unreadable
    # Via UTC so an imaginary wall time (inside a DST gap) in ``now`` is normalised.
    local_now = now.astimezone(UTC).astimezone(tz)
    clock = _CLOCK_RE.fullmatch(normal)
    if clock is not None:
        return _next_clock_time(clock, expr=expr, label=label, local_now=local_now, tz=tz)
    dotted = _DOT_DATE_RE.fullmatch(normal)
    if dotted is not None:
        return _dotted_date(dotted, expr=expr, label=label, local_now=local_now, tz=tz, workday_start=workday_start)
    ambiguous = _SLASH_DATE_RE.fullmatch(normal)
    if ambiguous is not None:
        error = _check_numeric_date(ambiguous, expr=expr, label=label)
        if error is not None:
            return error
    day_at_time = _DAY_AT_TIME_RE.fullmatch(normal)
    if day_at_time is not None:
        day_word = day_at_time.group("day") or day_at_time.group("day2")
        clock_text = day_at_time.group("time") or day_at_time.group("time2")
        wall = _wall_time(clock_text)
        if wall is None:
            return UsageError(
                f"I couldn't read {quote(clock_text)} as a time of day.", f"/presence {label} until {day_word} 14:30"
            )
        normal = f"{day_word} {wall:%H:%M}"
    day_and_hour = _DAY_AND_HOUR_RE.fullmatch(normal)
    if day_at_time is None and day_and_hour is not None:
        day_word = day_and_hour.group("day") or day_and_hour.group("day2")
        hour = day_and_hour.group("hour") or day_and_hour.group("hour2")
        if not _MONTH_WORD_RE.match(day_word) and int(hour) <= 23:
            normal = f"{day_word} {hour}:00"
    parsed = _dateparser(normal, local_now=local_now, tz=tz)
    if parsed is None:
        return unreadable
    moment, period = parsed
    if period in _DAY_PERIODS and _CLOCK_SHAPE_RE.search(normal):
        return UsageError(
            f"I couldn't read the time of day in {quote(expr)}.", f"/presence {label} until tomorrow 14:30"
        )
    try:
        local = moment.astimezone(tz)
        if period in _DAY_PERIODS:
            day = local.date()
            if normal == "next week":
                day -= timedelta(days=day.weekday())
            local = datetime.combine(day, workday_start, tzinfo=tz)
        return local.astimezone(UTC)
    except (OverflowError, ValueError):
        # Year 1 or 9999 and a time zone offset: outside what datetime can hold.
        return unreadable


def _wall_time(text: str) -> time | None:
    """``14:30``, ``9``, ``9am``, ``2:30pm``, ``14h30`` as a wall time; ``None`` when out of range or unreadable."""
    clock = _CLOCK_RE.fullmatch(text)
    if clock is None:
        return None
    hour = int(clock.group("hour"))
    minute = int(clock.group("minute") or 0)
    ampm = clock.group("ampm")
    if not (0 <= minute <= 59 and (1 <= hour <= 12 if ampm else hour <= 23)):
        return None
    if ampm:
        hour = hour % 12 + (12 if ampm == "p" else 0)
    return time(hour, minute)


def _next_clock_time(
    clock: re.Match[str], *, expr: str, label: str, local_now: datetime, tz: ZoneInfo
) -> datetime | UsageError:
    """A bare clock time is its next occurrence: today if still ahead, else tomorrow.

    Read here rather than by dateparser, which takes ``9`` for September and ``14h``
    for 05:00.
    """
    wall = _wall_time(clock.group(0))
    if wall is None:
        return UsageError(f"I couldn't read {quote(expr)} as a time of day.", f"/presence {label} until 14:30")
    now = local_now.astimezone(UTC)
    for days in (0, 1):
        day = local_now.date() + timedelta(days=days)
        both = sorted({datetime.combine(day, wall.replace(fold=fold), tzinfo=tz).astimezone(UTC) for fold in (0, 1)})
        # The repeated hour of a DST night has two real instants: take the next. A wall
        # time skipped by DST has none: push it forward by the gap (fold=0), as Python does.
        real = [moment for moment in both if moment.astimezone(tz).time() == wall]
        for moment in real or [datetime.combine(day, wall, tzinfo=tz).astimezone(UTC)]:
            if moment > now:
                return moment
    return datetime.combine(local_now.date() + timedelta(days=2), wall, tzinfo=tz).astimezone(UTC)


def _dotted_date(
    match: re.Match[str], *, expr: str, label: str, local_now: datetime, tz: ZoneInfo, workday_start: time
) -> datetime | UsageError:
    """``24.12.`` is the next 24 December, ``1.12.2026`` that day; back at ``workday_start``."""
    year_text = match.group("year")
    year = local_now.year if year_text is None else int(year_text) + (2000 if len(year_text) == 2 else 0)
    try:
        day = date(year, int(match.group("month")), int(match.group("day")))
        if year_text is None and day < local_now.date():
            day = date(year + 1, day.month, day.day)
        return datetime.combine(day, workday_start, tzinfo=tz).astimezone(UTC)
    except (ValueError, OverflowError):
        return UsageError(f"{quote(expr)} isn't a date I know.", f"/presence {label} until 24.12.")


def _check_numeric_date(match: re.Match[str], *, expr: str, label: str) -> UsageError | None:
    first = int(match.group("a"))
    second = int(match.group("b"))
    if first == second or first > 12 or second > 12 or first == 0 or second == 0:
        return None
    return UsageError(
        f"{quote(expr)} could be {first} {_MONTH_NAMES[second - 1]} or {_MONTH_NAMES[first - 1]} {second}. "
        "Write the month as a word so I get it right.",
        f"/presence {label} until {first} {_MONTHS[second - 1].lower()}",
    )


def _dateparser(expr: str, *, local_now: datetime, tz: ZoneInfo) -> tuple[datetime, str] | None:
    """``dateparser``'s reading of ``expr`` as aware UTC, plus its period ("time", "day", ...)."""
    settings: dict[str, Any] = {
        "TIMEZONE": str(tz),
        "TO_TIMEZONE": "UTC",
        "RETURN_AS_TIMEZONE_AWARE": True,
        "PREFER_DATES_FROM": "future",
        # dateparser wants the base as naive wall-clock time in TIMEZONE.
        "RELATIVE_BASE": local_now.replace(tzinfo=None),
        # period == "time" only when the text names a time; "day" etc. means we pick one.
        "RETURN_TIME_AS_PERIOD": True,
        # "until december" = back on the 1st, not on today's day-of-month in December.
        "PREFER_DAY_OF_MONTH": "first",
    }
    try:
        data = DateDataParser(languages=["en"], settings=settings).get_date_data(expr)
    except Exception:
        # dateparser is heuristic over arbitrary user text; a bug in it must not fail the command.
        return None
    moment: datetime | None = data.date_obj
    period: str = data.period or "day"
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment, period


def _check_range(
    until: datetime, *, label: str, now: datetime, tz: ZoneInfo, max_span: timedelta
) -> datetime | UsageError:
    if until <= now:
        return UsageError(
            f"That time has already passed ({_full_phrase(until, tz)}). Pick a time that's still ahead.",
            f"/presence {label} until tomorrow 9am",
        )
    if until - now > max_span:
        span = _span_words(max_span)
        return UsageError(
            f"{_full_phrase(until, tz)} is more than {span} away. Pick an end within {span}, or leave the end out.",
            f"/presence {label} until friday",
        )
    return until


def _local_phrase(moment: datetime, tz: ZoneInfo, now: datetime) -> str:
    local = moment.astimezone(tz)
    today = now.astimezone(tz).date()
    clock = f"{local:%H:%M}"
    if local.date() == today:
        return clock
    if local.date() == today + timedelta(days=1):
        return f"tomorrow {clock}"
    return f"{_day_words(local.date(), with_year=local.year != today.year)} {clock}"


def _full_phrase(moment: datetime, tz: ZoneInfo) -> str:
    try:
        local = moment.astimezone(tz)
    except OverflowError:
        local = moment  # the last hours of year 9999 have no local time east of UTC
    return f"{_day_words(local.date(), with_year=True)} {local:%H:%M}"


def _day_words(day: date, *, with_year: bool) -> str:
    # Own tables rather than strftime("%a %b"): those follow the process locale.
    words = f"{_WEEKDAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]}"
    return f"{words} {day.year}" if with_year else words


def _span_words(span: timedelta) -> str:
    if span % timedelta(days=1) == timedelta(0):
        days = span.days
        return f"{days} day" if days == 1 else f"{days} days"
    hours = span / timedelta(hours=1)
    return f"{hours:g} hours"

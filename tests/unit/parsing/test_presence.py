"""``parse_presence`` and ``describe_until`` with a fixed clock: Tuesday 2026-11-24 10:00 in Copenhagen."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from handlers.parsing import (
    NEUTRAL_ACTIVITIES,
    ClearPresence,
    SetPresence,
    ShowPresence,
    UsageError,
    describe_until,
    parse_presence,
)

CPH = ZoneInfo("Europe/Copenhagen")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=CPH)  # a Tuesday; CET = UTC+1


def utc(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def parse(text: str, **kwargs: object) -> object:
    return parse_presence(text, now=NOW, tz=CPH, **kwargs)  # type: ignore[arg-type]


def error(text: str, **kwargs: object) -> UsageError:
    result = parse(text, **kwargs)
    assert isinstance(result, UsageError), result
    assert result.message and result.example
    return result


# --- showing and clearing ---------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "show", "status", "Status"])
def test_empty_or_show_means_my_presence(text: str) -> None:
    assert parse(text) == ShowPresence(None)


@pytest.mark.parametrize(
    "text", ["<@U123ABC|alice>", "<@U123ABC>", "  <@U123ABC|alice> ", "show <@U123ABC|alice>", "status <@U123ABC>"]
)
def test_mention_shows_their_presence(text: str) -> None:
    assert parse(text) == ShowPresence("U123ABC")


def test_enterprise_user_ids_are_mentions_too() -> None:
    assert parse("<@W0123ABC|bob>") == ShowPresence("W0123ABC")


@pytest.mark.parametrize("text", ["available", "back", "clear", "online", "reset", "Back", "AVAILABLE"])
def test_clear_words(text: str) -> None:
    assert parse(text) == ClearPresence()


# --- durations ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "until"),
    [
        ("lunch 45m", utc(11, 24, 9, 45)),
        ("lunch 45 min", utc(11, 24, 9, 45)),
        ("lunch 45 mins", utc(11, 24, 9, 45)),
        ("lunch 45 minutes", utc(11, 24, 9, 45)),
        ("meeting for 1h30", utc(11, 24, 10, 30)),
        ("meeting 1h 30m", utc(11, 24, 10, 30)),
        ("meeting 1h30m", utc(11, 24, 10, 30)),
        ("meeting 1 hour 30", utc(11, 24, 10, 30)),
        ("meeting 1 hour and 30 minutes", utc(11, 24, 10, 30)),
        ("meeting 1h, 30m", utc(11, 24, 10, 30)),
        ("meeting 1.5h", utc(11, 24, 10, 30)),
        ("meeting 1,5 hrs", utc(11, 24, 10, 30)),
        ("dnd 2 hours", utc(11, 24, 11)),
        ("dnd 2hr", utc(11, 24, 11)),
        ("busy for 90 minutes", utc(11, 24, 10, 30)),
        ("lunch for an hour", utc(11, 24, 10)),
        ("lunch half an hour", utc(11, 24, 9, 30)),
        ("out 2 days", utc(11, 26, 9)),
        ("out 1d", utc(11, 25, 9)),
        ("vacation 2 weeks", utc(12, 8, 9)),
        ("LUNCH 45M", utc(11, 24, 9, 45)),
        ("lunch 45m.", utc(11, 24, 9, 45)),
    ],
)
def test_durations(text: str, until: datetime) -> None:
    result = parse(text)
    assert isinstance(result, SetPresence), result
    assert result.until == until
    assert result.until.tzinfo is UTC


def test_durations_are_elapsed_time_across_dst() -> None:
    # Saturday before the spring-forward night; 24 real hours later the clock shows 11:00.
    now = datetime(2026, 3, 28, 10, 0, tzinfo=CPH)
    result = parse_presence("dnd 24h", now=now, tz=CPH)
    assert isinstance(result, SetPresence)
    assert result.until == utc(3, 29, 9)
    assert describe_until(result.until, CPH, now) == "until tomorrow 11:00"


def test_activity_is_lower_cased_and_label_kept() -> None:
    assert parse("Lunch 45m") == SetPresence(activity="lunch", until=utc(11, 24, 9, 45), label="Lunch")


@pytest.mark.parametrize("activity", [*sorted(NEUTRAL_ACTIVITIES - {"available"}), "kundebesøg", "out-of-office"])
def test_any_single_word_activity_without_end(activity: str) -> None:
    assert parse(activity) == SetPresence(activity=activity, until=None, label=activity)


def test_dnd_without_end() -> None:
    assert parse("dnd") == SetPresence(activity="dnd", until=None, label="dnd")


# --- until ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "until"),
    [
        ("away until 14:00", utc(11, 24, 13)),
        ("away till 14:00", utc(11, 24, 13)),
        ("away Until 14:00", utc(11, 24, 13)),
        ("meeting until 2:30pm", utc(11, 24, 13, 30)),
        ("meeting until 2:30 PM", utc(11, 24, 13, 30)),
        ("meeting until 2pm", utc(11, 24, 13)),
        ("away until 14.30", utc(11, 24, 13, 30)),
        ("away until 14h", utc(11, 24, 13)),
        ("away until 14h30", utc(11, 24, 13, 30)),
        ("away until 17", utc(11, 24, 16)),
        ("away until noon", utc(11, 24, 11)),
        ("out until tomorrow 9am", utc(11, 25, 8)),
        ("out until tomorrow at 9:00", utc(11, 25, 8)),
        ("vacation until friday", utc(11, 27, 7)),
        ("vacation until Fri", utc(11, 27, 7)),
        ("vacation until friday 10:00", utc(11, 27, 9)),
        ("sick until monday", utc(11, 30, 7)),
        ("sick until tomorrow", utc(11, 25, 7)),
        ("vacation until 2026-12-01", utc(12, 1, 7)),
        ("vacation until 1 dec", utc(12, 1, 7)),
        ("vacation until december 2", utc(12, 2, 7)),
        ("vacation until 31/12", utc(12, 31, 7)),
        ("vacation until december", utc(12, 1, 7)),
        ("vacation until next week", utc(11, 30, 7)),
        ("away until in 2 hours", utc(11, 24, 11)),
        ("away until friday 9", utc(11, 27, 8)),
        ("away until tomorrow 8", utc(11, 25, 7)),
        ("away until 14 monday", utc(11, 30, 13)),
        ("away until friday at 2:30pm", utc(11, 27, 13, 30)),
        ("away until 9am on friday", utc(11, 27, 8)),
        ("away until tomorrow 23:59", utc(11, 25, 22, 59)),
        ("away until dec 9", utc(12, 9, 7)),
        ("vacation until 1.12.", utc(12, 1, 7)),
        ("vacation until 24.12.", utc(12, 24, 7)),
        ("vacation until 1.12.2026", utc(12, 1, 7)),
        ("vacation until 1.12.26", utc(12, 1, 7)),
        ("vacation until 1.2.", utc(2, 1, 7, year=2027)),
    ],
)
def test_until(text: str, until: datetime) -> None:
    result = parse(text)
    assert isinstance(result, SetPresence), result
    assert result.until == until


def test_midnight_case_is_really_midnight() -> None:
    result = parse("away until 12am")
    assert isinstance(result, SetPresence)
    assert result.until == datetime(2026, 11, 25, 0, 0, tzinfo=CPH)


@pytest.mark.parametrize("text", ["away until 08:00", "away until 8am", "away until 8"])
def test_a_time_already_passed_today_means_tomorrow(text: str) -> None:
    result = parse(text)
    assert isinstance(result, SetPresence)
    assert result.until == utc(11, 25, 7)


def test_the_current_minute_means_tomorrow() -> None:
    result = parse("away until 10:00")
    assert isinstance(result, SetPresence)
    assert result.until == utc(11, 25, 9)


def test_a_weekday_equal_to_today_means_next_week() -> None:
    result = parse("vacation until tuesday")
    assert isinstance(result, SetPresence)
    assert result.until == utc(12, 1, 7)


def test_workday_start_is_configurable() -> None:
    result = parse("vacation until friday", workday_start=time(9, 30))
    assert isinstance(result, SetPresence)
    assert result.until == utc(11, 27, 8, 30)


def test_dates_are_read_in_the_users_time_zone() -> None:
    new_york = ZoneInfo("America/New_York")
    result = parse_presence("away until 14:00", now=NOW, tz=new_york)  # 04:00 in New York
    assert isinstance(result, SetPresence)
    assert result.until == utc(11, 24, 19)
    friday = parse_presence("out until friday", now=NOW, tz=new_york)
    assert isinstance(friday, SetPresence)
    assert friday.until == utc(11, 27, 13)


def test_until_a_day_after_spring_forward_uses_summer_time() -> None:
    now = datetime(2026, 3, 27, 12, 0, tzinfo=CPH)  # Friday, CET
    result = parse_presence("out until monday", now=now, tz=CPH)
    assert isinstance(result, SetPresence)
    assert result.until == utc(3, 30, 6)  # 08:00 CEST


@pytest.mark.parametrize(
    ("now", "text", "until"),
    [
        # Spring forward (02:00 -> 03:00): a skipped wall time is pushed forward by the gap.
        (datetime(2026, 3, 29, 1, 0, tzinfo=CPH), "away until 02:30", utc(3, 29, 1, 30)),
        # An imaginary "now" inside the gap is the instant just after the change.
        (datetime(2026, 3, 29, 2, 0, tzinfo=CPH), "away until 3:00", utc(3, 30, 1)),
        # Fall back (03:00 -> 02:00): the repeated hour resolves to whichever comes next.
        (datetime(2026, 10, 25, 2, 30, tzinfo=CPH), "away until 02:45", utc(10, 25, 0, 45)),
        (datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=CPH), "away until 02:45", utc(10, 25, 1, 45)),
        (datetime(2026, 10, 25, 2, 50, tzinfo=CPH), "away until 02:45", utc(10, 25, 1, 45)),
    ],
)
def test_clock_times_on_dst_nights(now: datetime, text: str, until: datetime) -> None:
    result = parse_presence(text, now=now, tz=CPH)
    assert isinstance(result, SetPresence), result
    assert result.until == until


# --- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("lunch 45x", "I couldn't read \u201c45x\u201d as a duration"),
        ("lunch 45m extra", "not \u201cextra\u201d"),
        ("lunch 1d30", "not \u201c30\u201d"),
        ("meeting 1h and", "not \u201cand\u201d"),
        ("meeting 1h,", "couldn't read \u201c1h,\u201d"),
        ("lunch 1h tomorrow", "not \u201ctomorrow\u201d"),
        ("lunch 45", "needs a unit"),
        ("lunch 0m", "at least a minute"),
        ("lunch 0.001h", "at least a minute"),
        ("lunch -5m", "longer than zero"),
        ("vacation 100d", "more than 90 days"),
        ("lunch 99999999999999999999999999999999999999d", "more than 90 days"),
        ("vacation 1 month", "Months differ in length"),
        ("meeting 14:00", "looks like a time"),
        ("out friday", "looks like a time"),
        ("meeting for 14:00", "as a duration"),
        ("lunch for", "needs a duration"),
        ("lunch until", "needs a time or a day"),
        ("away until blah", "couldn't read \u201cblah\u201d as a time or a day"),
        ("away until 25:00", "as a time of day"),
        ("away until 13pm", "as a time of day"),
        ("away until 10:75", "as a time of day"),
        ("lunch until tomorrow 25:00", "couldn't read \u201c25:00\u201d as a time of day"),
        ("lunch until tomorrow 13:61", "couldn't read \u201c13:61\u201d as a time of day"),
        ("lunch until tomorrow 99", "couldn't read \u201c99\u201d as a time of day"),
        ("lunch until tomorrow at 24:00", "couldn't read \u201c24:00\u201d as a time of day"),
        ("lunch until friday 13pm", "couldn't read \u201c13pm\u201d as a time of day"),
        ("lunch until friday 99", "couldn't read \u201c99\u201d as a time of day"),
        ("lunch until 25:00 monday", "couldn't read \u201c25:00\u201d as a time of day"),
        ("lunch until 99", "as a time of day"),
        ("lunch until 13:61", "as a time of day"),
        ("away until yesterday", "That time has already passed"),
        ("away until today", "That time has already passed (Tue 24 Nov 2026 08:00)"),
        ("away until 2025-01-01", "That time has already passed"),
        ("away until now", "That time has already passed"),
        ("vacation until 2027-06-01", "Tue 1 Jun 2027 08:00 is more than 90 days away"),
        ("away until 1/12", "could be 1 December or January 12"),
        ("away until 31.2.", "isn't a date I know"),
        ("away until 12-1-2026", "could be 12 January or December 1"),
        ("45m", "Start with what you're doing"),
        ("until 14:00", "Start with what you're doing"),
        ("14:00", "Start with what you're doing"),
        ("@alice", "Pick the person from Slack's @-mention list"),
        ("show alice", "isn't a Slack mention"),
        ("<@U123ABC|alice> lunch", "only they can change it"),
        ("lunch <@U123ABC|alice>", "only they can change it"),
        ("back until 14:00", "takes nothing after it"),
        (":sandwich: 45m", "as an activity"),
        ("help", "/presence back"),
        ("away until " + "tomorrow " * 20, "as a time or a day"),
    ],
)
def test_usage_errors(text: str, fragment: str) -> None:
    assert fragment in error(text).message


def test_a_bad_time_after_a_day_is_refused_with_an_example_not_set_to_the_workday_start() -> None:
    refused = error("lunch until tomorrow 25:00")
    assert refused.example == "/presence lunch until tomorrow 14:30"
    assert isinstance(parse(refused.example.removeprefix("/presence ")), SetPresence)


def test_error_examples_use_the_typed_activity() -> None:
    assert error("Lunch 45x").example == "/presence Lunch 45m"
    assert error("meeting 14:00").example == "/presence meeting until 14:00"
    assert error("away until 1/12").example == "/presence away until 1 dec"


def test_max_span_is_configurable() -> None:
    assert "more than 7 days away" in error("vacation until 2026-12-08", max_span=timedelta(days=7)).message
    assert "more than 12 hours" in error("dnd 13h", max_span=timedelta(hours=12)).message
    assert isinstance(parse("dnd 12h", max_span=timedelta(hours=12)), SetPresence)


def test_unambiguous_numeric_dates_are_accepted() -> None:
    result = parse("away until 5/5")
    assert isinstance(result, UsageError)  # 5 May 2027 is too far, but it was read
    assert "Wed 5 May 2027" in result.message


# --- describe_until --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("until", "phrase"),
    [
        (None, "with no end time"),
        (utc(11, 24, 13), "until 14:00"),
        (utc(11, 25, 8), "until tomorrow 09:00"),
        (utc(11, 27, 7), "until Fri 27 Nov 08:00"),
        (utc(12, 31, 23), "until Fri 1 Jan 2027 00:00"),
        (utc(11, 23, 7), "until Mon 23 Nov 08:00"),
    ],
)
def test_describe_until(until: datetime | None, phrase: str) -> None:
    assert describe_until(until, CPH, NOW) == phrase


def test_describe_until_is_local_to_the_viewer() -> None:
    assert describe_until(utc(11, 24, 13), ZoneInfo("Asia/Tokyo"), NOW) == "until 22:00"

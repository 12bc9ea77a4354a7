"""Property tests: every parser returns a command or a ``UsageError`` for any text, and what
it returns keeps its promises (end times ahead and in range, numbers valid E.164)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.parsing import (
    CallContact,
    CallNumber,
    CallUser,
    ClearPresence,
    Help,
    QueueHelp,
    QueueLoginCmd,
    QueueStatusCmd,
    SetPresence,
    ShowPresence,
    UsageError,
    WhoAmI,
    describe_until,
    parse_call,
    parse_phonebot,
    parse_presence,
    parse_queue,
    to_vendor_digits,
)

FAST = settings(max_examples=200, deadline=None)

ZONES = [
    ZoneInfo(name)
    for name in (
        "Europe/Copenhagen",
        "America/New_York",
        "Asia/Kolkata",
        "Pacific/Auckland",
        "Australia/Lord_Howe",  # half-hour DST shift
        "Pacific/Kiritimati",  # UTC+14
        "UTC",
    )
]

zones = st.sampled_from(ZONES)
# Aware instants, including ones near DST changes and the ends of years.
nows = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2040, 12, 31), timezones=zones)
spans = st.sampled_from([timedelta(days=90), timedelta(days=1), timedelta(hours=3), timedelta(days=365)])

MENTIONS = st.sampled_from(["<@U123ABC|alice>", "<@U123ABC>", "<@W9|x y>", "@alice", "<@>", "<#C1|general>"])
PRESENCE_WORDS = st.one_of(
    st.sampled_from(
        [
            "lunch",
            "Meeting",
            "dnd",
            "vacation",
            "back",
            "available",
            "show",
            "status",
            "help",
            "møde",
            "until",
            "till",
            "for",
            "and",
            "a",
            "an",
            "half",
            ",",
            "-",
            "h",
            "m",
            "min",
            "hours",
            "d",
            "days",
            "weeks",
            "month",
            "am",
            "pm",
            "tomorrow",
            "today",
            "yesterday",
            "friday",
            "next",
            "week",
            "noon",
            "midnight",
            "14:00",
            "2:30pm",
            "9am",
            "8",
            "25:00",
            "1/12",
            "31/12",
            "1.12.",
            "2026-12-01",
            "1h30",
            "1.5h",
            "45m",
            "0m",
            "-5m",
            "1d30",
            "9999999999999999999999d",
        ]
    ),
    st.integers(min_value=-10, max_value=100_000).map(str),
    st.decimals(min_value=0, max_value=1000, places=2).map(str),
    MENTIONS,
    st.text(max_size=6),
)
presence_texts = st.lists(PRESENCE_WORDS, max_size=6).map(" ".join)

UNITS = ["m", "min", "mins", "minutes", "h", "hr", "hrs", "hour", "hours", "d", "day", "days", "w", "weeks", "x", ""]
amounts = st.one_of(
    st.integers(min_value=0, max_value=5000).map(str),
    st.decimals(min_value=0, max_value=100, places=1).map(str),
    st.decimals(min_value=0, max_value=100, places=1).map(lambda d: str(d).replace(".", ",")),
    st.sampled_from(["a", "an", "half an"]),
)
duration_parts = st.builds(
    lambda n, space, unit: f"{n}{space}{unit}", amounts, st.sampled_from(["", " "]), st.sampled_from(UNITS)
)
durations = st.lists(duration_parts, min_size=1, max_size=3).flatmap(
    lambda parts: st.sampled_from([" ", "", " and ", ", "]).map(lambda sep: sep.join(parts))
)
clocks = st.builds(
    lambda h, m, style: style.format(h=h, m=m, h12=h % 12 or 12, ampm="am" if h < 12 else "pm"),
    st.integers(0, 25),
    st.integers(0, 61),
    st.sampled_from(
        ["{h}:{m:02d}", "{h}.{m:02d}", "{h}", "{h}h", "{h}h{m:02d}", "{h12}{ampm}", "{h12}:{m:02d} {ampm}"]
    ),
)
days = st.sampled_from(
    [
        "today",
        "tomorrow",
        "friday",
        "monday",
        "next week",
        "december",
        "1 dec",
        "2026-12-01",
        "31/12",
        "noon",
        "tonight",
    ]
)
dotted_dates = st.builds(
    lambda d, m, y: f"{d}.{m}.{y}",
    st.integers(0, 40),
    st.integers(0, 14),
    st.sampled_from(["", "26", "2026", "0", "9999"]),
)
when = st.one_of(clocks, days, dotted_dates, st.builds(lambda d, c: f"{d} {c}", days, clocks), st.text(max_size=8))
presence_sentences = st.one_of(
    st.builds(lambda a, e: f"{a} {e}", st.sampled_from(["lunch", "Meeting", "dnd"]), durations),
    st.builds(lambda a, e: f"{a} for {e}", st.sampled_from(["busy", "out"]), durations),
    st.builds(
        lambda a, k, e: f"{a} {k} {e}", st.sampled_from(["away", "Vacation"]), st.sampled_from(["until", "till"]), when
    ),
)


def assert_usage_error_is_helpful(result: object) -> None:
    if isinstance(result, UsageError):
        assert result.message.strip()
        assert result.example.strip()


def check_presence(text: str, now: datetime, tz: ZoneInfo, max_span: timedelta) -> None:
    result = parse_presence(text, now=now, tz=tz, max_span=max_span)
    assert isinstance(result, ShowPresence | ClearPresence | SetPresence | UsageError)
    assert_usage_error_is_helpful(result)
    if isinstance(result, SetPresence):
        assert result.label and result.activity == result.label.lower()
        if result.until is not None:
            assert result.until.utcoffset() == timedelta(0)
            assert now < result.until <= now + max_span
            assert describe_until(result.until, tz, now).startswith("until ")


@FAST
@given(st.text(), nows, zones, spans)
def test_presence_any_text(text: str, now: datetime, tz: ZoneInfo, max_span: timedelta) -> None:
    check_presence(text, now, tz, max_span)


@FAST
@given(presence_texts, nows, zones, spans)
def test_presence_structured_text(text: str, now: datetime, tz: ZoneInfo, max_span: timedelta) -> None:
    check_presence(text, now, tz, max_span)


@FAST
@given(presence_sentences, nows, zones, spans)
def test_presence_sentences(text: str, now: datetime, tz: ZoneInfo, max_span: timedelta) -> None:
    check_presence(text, now, tz, max_span)


@FAST
@given(
    st.sampled_from(["", "for "]),
    st.sampled_from(["until", "till", "until next", "until tomorrow", "until friday"]),
    st.text(max_size=20),
    nows,
    zones,
)
def test_presence_until_with_junk(prefix: str, keyword: str, junk: str, now: datetime, tz: ZoneInfo) -> None:
    check_presence(f"away {prefix}{keyword} {junk}", now, tz, timedelta(days=90))


@FAST
@given(st.integers(0, 60), st.integers(0, 59), st.booleans(), nows)
def test_presence_durations_add_up(hours: int, minutes: int, spaced: bool, now: datetime) -> None:
    text = f"meeting {hours}h {minutes}m" if spaced else f"meeting for {hours}h{minutes:02d}"
    result = parse_presence(text, now=now, tz=ZONES[0])
    if hours == minutes == 0:
        assert isinstance(result, UsageError)
        return
    assert isinstance(result, SetPresence)
    assert result.until == now.astimezone(UTC) + timedelta(hours=hours, minutes=minutes)


@FAST
@given(st.integers(0, 23), st.integers(0, 59), nows, zones)
def test_presence_clock_time_is_the_next_occurrence(hour: int, minute: int, now: datetime, tz: ZoneInfo) -> None:
    result = parse_presence(f"away until {hour}:{minute:02d}", now=now, tz=tz)
    assert isinstance(result, SetPresence), result
    assert result.until is not None
    # Within a day, plus slack for a DST change in between.
    assert now < result.until <= now + timedelta(hours=26)
    local = result.until.astimezone(tz)
    if local.utcoffset() == now.astimezone(tz).utcoffset():
        assert (local.hour, local.minute) == (hour, minute)


@FAST
@given(
    st.sampled_from(["tomorrow", "tomorrow at", "friday", "next monday", "sunday at"]),
    st.one_of(
        st.builds("{}:{:02d}".format, st.integers(24, 99), st.integers(0, 59)),
        st.builds("{}:{}".format, st.integers(0, 23), st.integers(60, 99)),
        st.builds("{}.{}".format, st.integers(0, 99), st.integers(60, 99)),
        st.builds(str, st.integers(24, 999)),
        st.builds("{}pm".format, st.integers(13, 99)),
    ),
    nows,
    zones,
)
def test_presence_an_impossible_time_after_a_day_is_refused(day: str, clock: str, now: datetime, tz: ZoneInfo) -> None:
    result = parse_presence(f"lunch until {day} {clock}", now=now, tz=tz)
    assert isinstance(result, UsageError), result  # never quietly the start of that day
    assert_usage_error_is_helpful(result)
    assert result.example.startswith("/presence lunch until ")


@FAST
@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1), timezones=zones), nows, zones)
def test_describe_until_never_raises(until: datetime, now: datetime, tz: ZoneInfo) -> None:
    assert describe_until(until, tz, now).startswith("until ")


COUNTRIES = st.sampled_from(["DK", "dk", "US", "GB", "DE", "IT", "SE", "", "XX"])
PHONE_ALPHABET = "0123456789 +()-./"
phone_like = st.one_of(
    st.text(alphabet=PHONE_ALPHABET, max_size=25),
    st.builds(
        lambda code, digits: f"+{code} {digits}",
        st.sampled_from([1, 7, 39, 44, 45, 46, 49, 61, 81, 86, 91, 299, 800, 882, 979]),
        st.text(alphabet="0123456789", min_size=1, max_size=14),
    ),
    st.builds(lambda digits: f"00{digits}", st.text(alphabet="0123456789 ", max_size=16)),
    MENTIONS,
    st.lists(st.sampled_from(["Jens", "acme", "ext", "x", "12", "71999999", "&amp;", "<tel:+4571999999>"])).map(
        " ".join
    ),
)


def check_call(text: str, country: str) -> None:
    result = parse_call(text, default_country=country)
    assert isinstance(result, CallNumber | CallUser | CallContact | UsageError)
    assert_usage_error_is_helpful(result)
    if isinstance(result, CallNumber):
        assert result.e164.startswith("+")
        assert result.e164[1:].isdigit()
        assert phonenumbers.is_valid_number(phonenumbers.parse(result.e164, None))
        assert to_vendor_digits(result.e164) == result.e164[1:]
        assert result.display
    if isinstance(result, CallContact):
        assert result.query.strip() == result.query and result.query


REGIONS = sorted(r for r in phonenumbers.SUPPORTED_REGIONS if phonenumbers.example_number(r) is not None)
FORMATS = [
    phonenumbers.PhoneNumberFormat.E164,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.NATIONAL,
]


@FAST
@given(st.sampled_from(REGIONS), st.sampled_from(FORMATS))
def test_call_valid_numbers_round_trip(region: str, style: int) -> None:
    example = phonenumbers.example_number(region)
    assert example is not None
    text = phonenumbers.format_number(example, style)
    result = parse_call(text, default_country=region)
    assert isinstance(result, CallNumber), (text, result)
    assert result.e164 == phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    check_call(text, region)


@FAST
@given(st.text(), COUNTRIES)
def test_call_any_text(text: str, country: str) -> None:
    check_call(text, country)


@FAST
@given(phone_like, COUNTRIES)
def test_call_phone_like_text(text: str, country: str) -> None:
    check_call(text, country)


@FAST
@given(st.one_of(st.text(), st.lists(st.sampled_from(["status", "log", "in", "out", "help", "x"])).map(" ".join)))
def test_queue_any_text(text: str) -> None:
    result = parse_queue(text)
    assert isinstance(result, QueueStatusCmd | QueueLoginCmd | QueueHelp | UsageError)
    assert_usage_error_is_helpful(result)
    if isinstance(result, QueueStatusCmd | QueueLoginCmd) and result.group is not None:
        assert result.group.strip() == result.group and result.group


@FAST
@given(
    st.one_of(st.text(), st.lists(st.sampled_from(["help", "whoami", "me", "presence", "/call", "x"])).map(" ".join))
)
def test_phonebot_any_text(text: str) -> None:
    result = parse_phonebot(text)
    assert isinstance(result, Help | WhoAmI | UsageError)
    assert_usage_error_is_helpful(result)

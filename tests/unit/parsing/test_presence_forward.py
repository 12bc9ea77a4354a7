"""``/presence forward to <number | @user> [for … | until …]``, Tuesday 2026-11-24 10:00 in Copenhagen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from handlers.parsing import ForwardCalls, SetPresence, ShowPresence, UsageError, help_text, parse_presence

CPH = ZoneInfo("Europe/Copenhagen")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=CPH)


def parse(text: str) -> object:
    return parse_presence(text, now=NOW, tz=CPH, default_country="DK")


def error(text: str) -> UsageError:
    result = parse(text)
    assert isinstance(result, UsageError), result
    assert result.message and result.example
    return result


@pytest.mark.parametrize(
    "text",
    [
        "forward to +45 71 99 99 99",
        "forward to 71999999",
        "Forward +4571999999",
        "fwd to 0045 71 99 99 99",
        "divert to <tel:+4571999999|+45 71 99 99 99>",
    ],
)
def test_forward_to_a_number(text: str) -> None:
    assert parse(text) == ForwardCalls(number="+4571999999", display="71 99 99 99", user_id=None, until=None)


def test_forward_to_a_colleague() -> None:
    assert parse("forward to <@U0BOB|bob>") == ForwardCalls(number=None, display=None, user_id="U0BOB", until=None)


def test_forward_until_a_time_reads_it_as_presence_does() -> None:
    parsed = parse("forward to <@U0BOB|bob> until 14:00")
    assert isinstance(parsed, ForwardCalls)
    assert parsed.until == datetime(2026, 11, 24, 13, 0, tzinfo=UTC)  # 14:00 CET
    assert parse("forward to +45 71 99 99 99 until friday") == ForwardCalls(
        number="+4571999999", display="71 99 99 99", user_id=None, until=datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
    )


def test_forward_for_a_duration() -> None:
    parsed = parse("forward to +45 71 99 99 99 for 2h")
    assert isinstance(parsed, ForwardCalls) and parsed.until == NOW.astimezone(UTC) + timedelta(hours=2)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("forward", "needs a phone number"),
        ("forward to", "needs a phone number"),
        ("forward to jensen", "not to"),
        ("forward to +45 71 99 99 99 2h", "before when forwarding should end"),
        ("forward to +45 12", "too short"),
        ("forward to +45 71 99 99 99 until yesterday", "already passed"),
        ("forward to +45 71 99 99 99 for", "needs a duration"),
        ("forward off", "`/presence available` ends forwarding"),
    ],
)
def test_forward_mistakes_get_a_kind_answer_with_an_example(text: str, words: str) -> None:
    problem = error(text)
    assert words in problem.message
    assert problem.example.startswith("/presence ")


def test_forward_does_not_disturb_the_rest_of_the_grammar() -> None:
    assert parse("<@U0BOB|bob>") == ShowPresence("U0BOB")
    assert isinstance(parse("lunch 45m"), SetPresence)
    assert "only they can change it" in error("lunch <@U0BOB|bob>").message


def test_the_presence_help_explains_forwarding() -> None:
    text = help_text("presence")
    assert "/presence forward to +45 71 99 99 99" in text and "forward to @alice until 14:00" in text
    assert "ends forwarding" in text

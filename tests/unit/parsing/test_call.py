"""``parse_call``, ``format_display`` and ``to_vendor_digits``."""

from __future__ import annotations

import pytest

from handlers.parsing import (
    CallContact,
    CallNumber,
    CallUser,
    UsageError,
    format_display,
    parse_call,
    to_vendor_digits,
)


def error(text: str, country: str = "DK") -> UsageError:
    result = parse_call(text, default_country=country)
    assert isinstance(result, UsageError), result
    assert result.message and result.example.startswith("/call ")
    return result


@pytest.mark.parametrize(
    "text",
    [
        "+45 71 99 99 99",
        "004571999999",
        "71999999",
        "71 99 99 99",
        "(+45) 7199-9999",
        "+45 71-99.99/99",
        "  +4571999999  ",
        "\uff17\uff11\uff19\uff19\uff19\uff19\uff19\uff19",  # full-width digits from a phone keyboard
        "<tel:+4571999999|+45 71 99 99 99>",  # Slack's auto-link
    ],
)
def test_danish_number(text: str) -> None:
    assert parse_call(text, default_country="DK") == CallNumber(e164="+4571999999", display="71 99 99 99")


def test_foreign_number_is_shown_internationally() -> None:
    assert parse_call("+1 (415) 555-2671", default_country="DK") == CallNumber(
        e164="+14155552671", display="+1 415-555-2671"
    )


def test_national_number_in_another_default_country() -> None:
    assert parse_call("(415) 555-2671", default_country="us") == CallNumber(
        e164="+14155552671", display="(415) 555-2671"
    )


def test_italian_leading_zero_survives() -> None:
    result = parse_call("+39 06 1234 5678", default_country="DK")
    assert isinstance(result, CallNumber)
    assert result.e164 == "+390612345678"


@pytest.mark.parametrize(("text", "user_id"), [("<@U123ABC|alice>", "U123ABC"), (" <@U123ABC> ", "U123ABC")])
def test_colleague(text: str, user_id: str) -> None:
    assert parse_call(text, default_country="DK") == CallUser(user_id)


@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("Acme", "Acme"),
        ("jens jensen", "jens jensen"),
        ("  Jens   Jensen ", "Jens Jensen"),
        ("Acme 2000", "Acme 2000"),
        ("Smith &amp; Co", "Smith & Co"),
        ("Søren Ærø", "Søren Ærø"),
    ],
)
def test_contact_search(text: str, query: str) -> None:
    assert parse_call(text, default_country="DK") == CallContact(query)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "Tell me who to call"),
        ("   ", "Tell me who to call"),
        ("+45 1234", "too short for a number in region DK"),
        ("12", "too short for a number in region DK"),
        ("+45 123456789012", "too long for a number in region DK"),
        ("+45 00000000", "isn't a valid number for region DK"),
        ("+7 000 000 00 00", "country code +7"),
        ("+999 123456", "country code I don't know"),
        ("0045", "too short to be a phone number"),
        ("+45 71 99 99 99 99 99 99 99 99 99 99 99 99 99 99", "too long to be a phone number"),
        ("+", "couldn't find a phone number or a name"),
        ("\U0001f642", "couldn't find a phone number or a name"),
        ("+45 71 99 99 99 ext 12", "mixes letters and a number"),
        ("<@U1|a> <@U2|b>", "one colleague at a time"),
        ("<@U1|a> mobile", "one colleague at a time"),
        ("@alice", "Pick the person from Slack's @-mention list"),
        ("acme " * 30, "long name"),
    ],
)
def test_usage_errors(text: str, fragment: str) -> None:
    assert fragment in error(text).message


def test_example_uses_the_default_countrys_format() -> None:
    assert error("").example == "/call +45 32 12 34 56"
    assert error("", country="US").example.startswith("/call +1 ")


def test_missing_default_country_needs_a_country_code() -> None:
    assert "has no country code" in error("71999999", country="").message
    assert "has no country code" in error("71999999", country="XX").message
    assert parse_call("+4571999999", default_country="") == CallNumber(e164="+4571999999", display="+45 71 99 99 99")


def test_to_vendor_digits() -> None:
    assert to_vendor_digits("+4571999999") == "4571999999"
    assert to_vendor_digits("+14155552671") == "14155552671"


@pytest.mark.parametrize(
    ("e164", "country", "shown"),
    [
        ("+4571999999", "DK", "71 99 99 99"),
        ("+4571999999", "dk", "71 99 99 99"),
        ("+4571999999", "SE", "+45 71 99 99 99"),
        ("+14155552671", "US", "(415) 555-2671"),
        ("+14155552671", "DK", "+1 415-555-2671"),
        ("not a number", "DK", "not a number"),
        ("+45 1234", "DK", "+45 1234"),
    ],
)
def test_format_display(e164: str, country: str, shown: str) -> None:
    assert format_display(e164, country) == shown

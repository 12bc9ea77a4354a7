"""``/call``: a phone number, a colleague (``@user``) or a contact name to search for."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypeAlias

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

from handlers.parsing.common import UsageError, contains_user_mention, parse_user_mention, quote, slack_unescape

__all__ = [
    "CallCommand",
    "CallContact",
    "CallNumber",
    "CallUser",
    "example_number",
    "format_display",
    "parse_call",
    "to_vendor_digits",
]


@dataclass(frozen=True, slots=True)
class CallNumber:
    """Dial a phone number.

    Attributes:
        e164: The number in E.164 (``+4571999999``), valid according to ``phonenumbers``.
        display: The number as people write it (see ``format_display``).
    """

    e164: str
    display: str


@dataclass(frozen=True, slots=True)
class CallUser:
    """Dial a colleague, given by Slack user id."""

    user_id: str


@dataclass(frozen=True, slots=True)
class CallContact:
    """Search the phone system's contacts for ``query`` and dial the match."""

    query: str


CallCommand: TypeAlias = CallNumber | CallUser | CallContact

# Slack links: <tel:+4571999999|+45 71 99 99 99>, <mailto:a@b|a@b>, <#C123|general>.
_LINK_RE = re.compile(r"<(?!@)([^<>|]*)(?:\|([^<>]*))?>")
# Names with a few digits ("Acme 2000") are names; this many digits next to letters is
# more likely a number with a note or an extension, which we can't dial as one.
_MIXED_DIGITS = 6
_MAX_QUERY_CHARS = 100
_FALLBACK_EXAMPLE = "+45 71 99 99 99"


def parse_call(text: str, *, default_country: str) -> CallCommand | UsageError:
    """Parse the text of ``/call``; never raises.

    Args:
        text: What the user typed after ``/call`` (Slack-escaped).
        default_country: ISO 3166 region (``"DK"``) for numbers written without a country code.

    Returns:
        ``CallUser`` for a mention, ``CallContact`` for text with letters, ``CallNumber``
        for a valid number, else a ``UsageError`` saying why the number isn't one.
    """
    region = default_country.strip().upper()
    example = f"/call {example_number(region)}"
    stripped = text.strip()
    if not stripped:
        return UsageError(
            "Tell me who to call: a phone number, a contact's name or an @-mention of a colleague.", example
        )
    mentioned = parse_user_mention(stripped)
    if mentioned is not None:
        return CallUser(mentioned)
    if contains_user_mention(stripped):
        return UsageError("I can call one colleague at a time; send just their @-mention.", "/call @alice")
    if stripped.startswith("@"):
        return UsageError(
            f"I couldn't tell who {quote(stripped)} is. Pick the person from Slack's @-mention list "
            "so it becomes a real mention.",
            "/call @alice",
        )
    plain = " ".join(slack_unescape(_LINK_RE.sub(_link_text, stripped)).split())
    if any(char.isalpha() for char in plain):
        return _parse_contact(plain, example=example)
    return _parse_number(plain, region=region, example=example)


def to_vendor_digits(e164: str) -> str:
    """The digits of an E.164 number without ``+`` (``+4571999999`` -> ``4571999999``), as Relatel wants."""
    return "".join(char for char in e164 if char in "0123456789")


def format_display(e164: str, default_country: str) -> str:
    """How people write ``e164``: national format in ``default_country``, international elsewhere.

    Anything that isn't a valid number is returned unchanged, so vendor data that is
    malformed still shows up as the vendor gave it.
    """
    region = default_country.strip().upper()
    try:
        number = phonenumbers.parse(e164, region or None)
    except NumberParseException:
        return e164
    if not phonenumbers.is_valid_number(number):
        return e164
    same_country = number.country_code == phonenumbers.country_code_for_region(region)
    style = PhoneNumberFormat.NATIONAL if same_country else PhoneNumberFormat.INTERNATIONAL
    return str(phonenumbers.format_number(number, style))


def _link_text(match: re.Match[str]) -> str:
    target, label = match.group(1), match.group(2)
    if target.startswith("tel:"):
        return target[len("tel:") :]
    return label if label is not None else target


def _parse_contact(query: str, *, example: str) -> CallContact | UsageError:
    if sum(char.isdigit() for char in query) >= _MIXED_DIGITS:
        return UsageError(
            f"{quote(query)} mixes letters and a number, so I can't tell which one to call. "
            "Send just the number or just the name.",
            example,
        )
    if len(query) > _MAX_QUERY_CHARS:
        return UsageError("That's a long name to search for; the first word or two is usually enough.", "/call Acme")
    return CallContact(query)


def _parse_number(text: str, *, region: str, example: str) -> CallNumber | UsageError:
    if not any(char.isdigit() for char in text):
        return UsageError(f"I couldn't find a phone number or a name in {quote(text)}.", example)
    try:
        number = phonenumbers.parse(text, region or None)
    except NumberParseException as exc:
        return UsageError(_parse_failure(text, exc.error_type), example)
    if not phonenumbers.is_valid_number(number):
        return UsageError(_invalid(text, number), example)
    e164 = str(phonenumbers.format_number(number, PhoneNumberFormat.E164))
    try:
        # Guard the promise that e164 is a valid number on its own (no default region).
        valid = phonenumbers.is_valid_number(phonenumbers.parse(e164, None))
    except NumberParseException:
        valid = False
    if not valid:
        return UsageError(f"{quote(text)} isn't a number I can dial. Write it with + and the country code.", example)
    return CallNumber(e164=e164, display=format_display(e164, region))


def _parse_failure(text: str, error_type: int) -> str:
    shown = quote(text)
    if error_type == NumberParseException.INVALID_COUNTRY_CODE:
        if text.startswith(("+", "00")):
            return f"{shown} starts with a country code I don't know."
        return f"{shown} has no country code. Start it with + and the country code."
    if error_type in (NumberParseException.TOO_SHORT_AFTER_IDD, NumberParseException.TOO_SHORT_NSN):
        return f"{shown} is too short to be a phone number."
    if error_type == NumberParseException.TOO_LONG:
        return f"{shown} is too long to be a phone number."
    return f"I couldn't read {shown} as a phone number."


def _invalid(text: str, number: phonenumbers.PhoneNumber) -> str:
    shown = quote(text)
    where = _region_words(number.country_code)
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason == ValidationResult.TOO_SHORT:
        return f"{shown} is too short for a number in {where}."
    if reason == ValidationResult.TOO_LONG:
        return f"{shown} is too long for a number in {where}."
    if reason == ValidationResult.INVALID_LENGTH:
        return f"{shown} doesn't have the right number of digits for {where}."
    if reason == ValidationResult.INVALID_COUNTRY_CODE:
        return f"{shown} starts with a country code I don't know."
    if reason == ValidationResult.IS_POSSIBLE_LOCAL_ONLY:
        return f"{shown} looks like a local number; add the area code."
    return f"{shown} isn't a valid number for {where}."


def _region_words(country_code: int | None) -> str:
    if country_code is None:
        return "its country"
    regions = phonenumbers.region_codes_for_country_code(country_code)
    if len(regions) == 1 and regions[0] != "001":
        return f"region {regions[0]}"
    return f"country code +{country_code}"


def example_number(region: str) -> str:
    """A valid number of ``region`` in international format, for examples in messages."""
    region = region.strip().upper()
    example = phonenumbers.example_number(region) if region else None
    if example is None:
        return _FALLBACK_EXAMPLE
    return str(phonenumbers.format_number(example, PhoneNumberFormat.INTERNATIONAL))

"""Webhook authentication: Relatel HMAC signatures and secret URL tokens."""

from __future__ import annotations

import pytest

from adapters.errors import WebhookAuthError
from adapters.relatel.signature import relatel_signature, verify_relatel_signature
from bot.store import MemoryStore
from bot.webhook_auth import UrlTokens

SECRET = "whsec_test"
BODY = b'{"delivery_id":"d1","event_type":"call.ended","payload":{}}'


def test_valid_signature_passes() -> None:
    header = relatel_signature(SECRET, BODY, 1_700_000_000)
    verify_relatel_signature(SECRET, BODY, header, clock=lambda: 1_700_000_010)


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        (None, "missing"),
        ("v1=abc", "malformed"),
        ("t=abc,v1=abc", "malformed"),
        (relatel_signature("other-secret", BODY, 1_700_000_000), "does not match"),
        (relatel_signature(SECRET, BODY + b" ", 1_700_000_000), "does not match"),
        (relatel_signature(SECRET, BODY, 1_699_999_000), "replay window"),
    ],
)
def test_bad_signatures_are_refused(header: str | None, problem: str) -> None:
    with pytest.raises(WebhookAuthError, match=problem):
        verify_relatel_signature(SECRET, BODY, header, clock=lambda: 1_700_000_000)


def test_rotation_accepts_any_listed_v1() -> None:
    good = relatel_signature(SECRET, BODY, 1_700_000_000)
    header = "t=1700000000,v1=" + "0" * 64 + "," + good.split(",")[1]
    verify_relatel_signature(SECRET, BODY, header, clock=lambda: 1_700_000_000)


async def test_url_tokens_are_unguessable_and_bound_to_vendor_and_resource() -> None:
    tokens = UrlTokens(b"0123456789abcdef-secret")
    token = tokens.token_for("multisender", "rsvp-7")
    assert token.startswith("rsvp-7.") and len(token) >= 40
    assert tokens.token_for("multisender", "rsvp-7") == token  # stable: sync can find its own URLs
    assert tokens.resource_for("multisender", token) == "rsvp-7"
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    for vendor, candidate in (("multisender", forged), ("relatel", token), ("multisender", "rsvp-8" + token[6:])):
        with pytest.raises(WebhookAuthError):
            tokens.resource_for(vendor, candidate)
    with pytest.raises(WebhookAuthError):
        UrlTokens(b"another-secret-of-16+").resource_for("multisender", token)  # rotation revokes


async def test_url_token_secret_is_generated_once_and_kept() -> None:
    store = MemoryStore()
    first = await UrlTokens.load(store)
    second = await UrlTokens.load(store)
    assert first.token_for("tele2", "account") == second.token_for("tele2", "account")
    configured = await UrlTokens.load(store, "configured-secret-1234")
    assert configured.token_for("tele2", "account") != first.token_for("tele2", "account")
    with pytest.raises(ValueError):
        first.token_for("tele2", "no/slashes")

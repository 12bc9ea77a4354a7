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


async def test_url_tokens_are_unguessable_and_stored_hashed() -> None:
    store = MemoryStore()
    tokens = UrlTokens(store)
    token = await tokens.issue("multisender", "campaign-7")
    assert len(token) >= 40
    assert await tokens.resource_for("multisender", token) == "campaign-7"
    assert all(token not in key for key in await store.client.keys("*"))  # only the hash is kept
    with pytest.raises(WebhookAuthError):
        await tokens.resource_for("multisender", token[:-1] + ("A" if token[-1] != "A" else "B"))
    with pytest.raises(WebhookAuthError):
        await tokens.resource_for("relatel", token)
    await tokens.revoke("multisender", token)
    with pytest.raises(WebhookAuthError):
        await tokens.resource_for("multisender", token)

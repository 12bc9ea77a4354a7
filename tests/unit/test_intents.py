"""Intent claims: once per key, given back only when nothing can have happened; truthful explanations."""

from __future__ import annotations

import pytest

from adapters.errors import IdentityError, VendorRejected, VendorTimeout, VendorUnavailable
from bot.store.memory import MemoryStore
from handlers.errors import explain
from handlers.intents import Intents, click_key, delivery_key


async def _try(intents: Intents, key: str, error: Exception | None = None) -> bool:
    """Enter the claim once; raise ``error`` inside it. True when this attempt got to act."""
    acted = False
    try:
        async with intents.once(key, ttl=60) as first:
            acted = first
            if first and error is not None:
                raise error
    except Exception as exc:
        assert exc is error
    return acted


async def test_the_second_claim_of_an_intent_does_nothing() -> None:
    intents = Intents(MemoryStore())
    key = click_key(user_id="U1", action="callback", container="message:C1:1.0", value="v")
    assert await _try(intents, key)
    assert not await _try(intents, key)
    other_user = click_key(user_id="U2", action="callback", container="message:C1:1.0", value="v")
    assert await _try(intents, other_user)


@pytest.mark.parametrize(
    "refusal",
    [
        VendorRejected("Dstny", "bad number", status_code=400),
        VendorUnavailable("Dstny", "could not be reached"),
        VendorTimeout("Dstny", "did not answer in time"),  # a connect timeout: never sent
        IdentityError("not linked"),
    ],
)
async def test_a_refusal_gives_the_intent_back(refusal: Exception) -> None:
    intents = Intents(MemoryStore())
    assert await _try(intents, "intent:test", refusal)
    assert await _try(intents, "intent:test")


@pytest.mark.parametrize(
    "unknown",
    [
        VendorTimeout("Relatel", "did not answer in time", outcome_unknown=True),
        RuntimeError("a bug mid-request"),
    ],
)
async def test_an_unknown_outcome_keeps_the_intent(unknown: Exception) -> None:
    intents = Intents(MemoryStore())
    assert await _try(intents, "intent:test", unknown)
    assert not await _try(intents, "intent:test")


def test_keys_are_short_whatever_they_identify() -> None:
    assert len(click_key(user_id="U1", action="a" * 300, container="c" * 300, value="v" * 5000)) <= 64
    assert len(delivery_key("payload=" + "x" * 100_000)) <= 64
    assert delivery_key("a=1") == delivery_key("a=1") != delivery_key("a=2")


def test_an_unknown_outcome_is_never_explained_as_nothing_changed() -> None:
    text = explain(VendorTimeout("Relatel", "did not answer in time", outcome_unknown=True)).text
    assert "Nothing was changed" not in text
    assert "may still have gone through" in text and "won't retry" in text
    assert "Nothing was changed" in explain(VendorTimeout("Relatel", "did not answer in time")).text

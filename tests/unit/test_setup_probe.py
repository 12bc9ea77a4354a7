"""Checking a vendor before its settings are saved: the adapter's probe, its failures named by field, no vendor text."""

from __future__ import annotations

import httpx
import pytest

from adapters.registry import parse_adapter_config
from handlers.setup.probe import probe_vendor

CONFIG = {"base_url": "http://relatel.test/api/v2", "token": "tok-123456789"}


def answering(status: int, body: object) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(status, json=body))


@pytest.mark.parametrize(
    ("transport", "ok", "field", "words"),
    [
        (answering(401, {"message": "vendor-secret-detail"}), False, "token", "refused these credentials"),
        (answering(404, {"message": "vendor-secret-detail"}), False, "base_url", "doesn't answer like Relatel"),
    ],
    ids=["refused", "not-relatel"],
)
async def test_failures_name_the_field_to_fix_in_phonebots_words(
    transport: httpx.MockTransport, ok: bool, field: str, words: str
) -> None:
    config = parse_adapter_config("relatel", {**CONFIG, "timeout_seconds": 1})
    outcome = await probe_vendor("relatel", config, transport=transport)
    assert (outcome.ok, outcome.field) == (ok, field) and words in outcome.message
    assert "vendor-secret-detail" not in outcome.message and "tok-123456789" not in outcome.message

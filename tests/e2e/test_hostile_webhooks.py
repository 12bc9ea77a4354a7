"""Hostile bytes at the webhook and Listen endpoints of the running app, over a real socket.

Non-ASCII tokens and signatures are attacker input: they must be refused like any other forgery
(401/404), never crash the comparison (``hmac.compare_digest`` raises on non-ASCII ``str``) into a
500. A body nested deeper than the JSON parser's stack is a malformed body (400), not a
``RecursionError``. Nothing of any of them is stored.
"""

from __future__ import annotations

import time

import httpx
import pytest
import redis

from adapters.relatel.signature import relatel_signature
from adapters.relatel.simulator import WEBHOOK_SECRET
from tests.e2e.alerting import tele2_url
from tests.e2e.conftest import RunningApp

pytestmark = pytest.mark.e2e

DEEP = b'{"a":' * 100_000 + b"1" + b"}" * 100_000


def _nothing_stored(app: RunningApp) -> None:
    client = redis.Redis.from_url(app.runtime.settings.redis_url or "", decode_responses=True)
    try:
        assert client.xlen("phonebot:alerts:stream") == 0
        assert not client.keys("phonebot:alerts:seen:*")
    finally:
        client.close()


def test_non_ascii_url_tokens_signatures_and_listen_links_are_refused_not_500(app: RunningApp) -> None:
    body = app.phones.tele2.webhook_body("LostCallerAdded", None)
    for token in ("account.%C3%A9", "account.%E9", "%C3%A9.%C3%A9"):
        answer = httpx.post(f"{app.url}/webhooks/tele2/{token}/LostCallerAdded", json=body)
        assert answer.status_code == 401, token

    payload = b'{"event":"call.ended","data":{}}'
    genuine = relatel_signature(WEBHOOK_SECRET, payload, int(time.time()))
    for signature in (
        genuine[:-1].encode() + b"\xe9",
        b"t=1,v1=\xe9\xe9",
        genuine.split("v1=")[0].encode() + b"v1=\xc3\xa9",
    ):
        answer = httpx.post(
            f"{app.url}/webhooks/relatel",
            content=payload,
            headers={"Relatel-Signature": signature, "Content-Type": "application/json"},  # type: ignore[dict-item]
        )
        assert answer.status_code == 401, signature

    for token in ("voicemail-1.%C3%A9", "voicemail-1.%E9", "%C3%A9"):
        assert httpx.get(f"{app.url}/voicemails/relatel/{token}").status_code == 404, token
    _nothing_stored(app)


def test_json_nested_deeper_than_the_parser_is_a_400(app: RunningApp) -> None:
    answer = httpx.post(tele2_url(app).replace("{event}", "LostCallerAdded"), content=DEEP)
    assert answer.status_code == 400

    signature = relatel_signature(WEBHOOK_SECRET, DEEP, int(time.time()))
    answer = httpx.post(f"{app.url}/webhooks/relatel", content=DEEP, headers={"Relatel-Signature": signature})
    assert answer.status_code == 400
    _nothing_stored(app)
    assert httpx.get(f"{app.url}/healthz").status_code == 200

"""A 5,000-receiver Multisender campaign keeps a small record and exact totals per reply.

Real Multisender webhook bodies go through ``parse_webhook``, the queue and the worker (a spawned
redis-server, the fake Slack Web API): the record stays a few KB however many receivers there
are, and the message counts every receiver once in its latest reply, including receivers whose
lines are long gone when they reply again.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import redis.asyncio as aioredis

from adapters.multisender.webhooks import parse_webhook
from bot.alerts.queue import subject_key
from tests.fakes.slack_api import FakeSlack
from tests.unit.alerts.test_pipeline import Pipeline, settings

RECEIVERS = 5000
RECORD_MAX_BYTES = 16_000  # 30 receiver lines, 200 idempotency keys and the campaign's detail
REPLIES = ("accept", "decline", "noReply")
PHRASES = {"accept": "accepted", "decline": "declined", "noReply": "did not answer"}


def receiver_webhook(account: int, reply: str) -> bytes:
    return json.dumps(
        {
            "rsvpCallId": "303",
            "phoneNumber": f"+35840{account:07d}",
            "accountId": str(account),
            "rsvpReply": reply,
            "meta": {"name": "Night shift"},
            "timestamp": "2026-11-24 09:30:00",
        }
    ).encode()


async def submit(pipe: Pipeline, account: int, reply: str) -> bool:
    [event] = parse_webhook(
        receiver_webhook(account, reply),
        vendor="multisender",
        display_name="Multisender",
        region="FI",
        zone=ZoneInfo("Europe/Helsinki"),
        received_at=datetime.now(UTC),
        path="receiver",
        resource="rsvp-303",
    )
    return await pipe.queue.submit(event)


async def test_a_five_thousand_receiver_campaign_keeps_a_bounded_record_and_exact_totals(
    redis_url: str, fake_slack: FakeSlack
) -> None:
    redis = aioredis.from_url(redis_url, decode_responses=True)
    pipe = Pipeline(redis, fake_slack, settings(kinds=["notification"], digest_after_per_minute=600))
    await pipe.queue.ensure_group()
    latest: dict[int, str] = {}
    for start in range(0, RECEIVERS, 20):  # a few at a time, as webhooks arrive
        chunk = range(start, start + 20)
        latest.update((account, REPLIES[account % 3]) for account in chunk)
        assert all(await asyncio.gather(*(submit(pipe, account, latest[account]) for account in chunk)))
    for account in range(1, 300, 3):  # 100 early "decline"s, long scrolled off the message, become "accept"
        assert await submit(pipe, account, "accept")
        latest[account] = "accept"
    worker = pipe.worker()
    await pipe.drain(worker, rounds=500)

    record = pipe.keys.record(subject_key("multisender", "rsvp:303"))
    assert 0 < await redis.strlen(record) < RECORD_MAX_BYTES

    [message] = fake_slack.messages.values()
    text = message["blocks"][0]["text"]["text"]
    expected = Counter(PHRASES[reply] for reply in latest.values())
    assert expected == Counter({"accepted": 1767, "declined": 1567, "did not answer": 1666})
    for phrase, count in expected.items():
        assert f"*{count:,}* {phrase}" in text
    assert f"…{RECEIVERS - 30:,} earlier" in text
    assert len(re.findall(r"^• ", text, flags=re.M)) == 30
    assert text.splitlines()[-1].startswith("• account 298 ") and text.endswith(" accepted")  # the newest reply
    fake_slack.assert_no_violations()
    await redis.aclose()

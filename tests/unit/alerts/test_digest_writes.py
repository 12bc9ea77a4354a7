"""Digest writes never hold up the subjects that join them; nothing is stored for alerts no route shows.

Over a spawned redis-server and the fake Slack Web API, with the worker of ``test_pipeline``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from bot.alerts.ledger import PostIntent
from bot.alerts.worker import AlertWorker
from bot.config import AlertSettings, DeliverySettings
from tests.fakes.slack_api import FakeSlack
from tests.unit.alerts.test_pipeline import Pipeline, lost, settings

CHANNEL = "C0ALERTS"


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


def digest_posts(slack: FakeSlack) -> list[str]:
    return [c.args["text"] for c in slack.calls_to("chat.postMessage") if "more lost call" in c.args["text"]]


async def test_joining_a_digest_never_waits_for_its_lock(redis: aioredis.Redis, fake_slack: FakeSlack) -> None:
    """Every alert beyond the first folds into the digest; another writer holds the digest's lock meanwhile.

    The batch must finish (entries acknowledged) without waiting for that lock at all: it
    only marks the digest for a write. Before the fix each subject waited up to 30 s for it.
    """
    pipe = Pipeline(redis, fake_slack, settings(digest_after_per_minute=1))
    await pipe.queue.ensure_group()
    worker = pipe.worker()
    digest_id = await worker.digests.burst(CHANNEL)
    writer = redis.lock(pipe.keys.lock(f"digest:{digest_id}"), timeout=60)
    assert await writer.acquire(blocking=False)  # "another replica" is writing this digest right now
    for n in range(30):
        await pipe.queue.submit(lost(f"+45300000{n:02d}", 1))

    await asyncio.wait_for(pipe.drain(worker), timeout=10)

    assert await pipe.queue.backlog() == 0  # all 30 acknowledged while the lock was held
    assert len(fake_slack.calls_to("chat.postMessage")) == 1  # the first alert's own message only
    assert await worker.digests.due(float("inf")) == [digest_id]  # the digest is scheduled, not lost

    await writer.release()
    await worker.tick()  # the next round writes it: once, with every member
    [digest] = digest_posts(fake_slack)
    assert "+29 more lost calls" in digest
    assert await worker.digests.due(float("inf")) == []
    fake_slack.assert_no_violations()


async def test_a_batch_folded_into_one_digest_costs_one_write(redis: aioredis.Redis, fake_slack: FakeSlack) -> None:
    pipe = Pipeline(redis, fake_slack, settings(digest_after_per_minute=1))
    await pipe.queue.ensure_group()
    worker = pipe.worker()
    for n in range(45):
        await pipe.queue.submit(lost(f"+45310000{n:02d}", 1))
    await pipe.drain(worker)
    assert digest_posts(fake_slack) == [":bell: +44 more lost calls — too many at once, so they are listed here"]
    assert not fake_slack.calls_to("chat.update")  # one post after the batch, not one write per alert


async def test_a_change_during_a_digest_write_is_written_later(redis: aioredis.Redis, fake_slack: FakeSlack) -> None:
    """A member added while the digest is being written keeps it scheduled (the write saw the older version)."""
    pipe = Pipeline(redis, fake_slack, settings(digest_after_per_minute=1))
    await pipe.queue.ensure_group()
    worker = pipe.worker()
    digest_id = await worker.digests.burst(CHANNEL)
    await worker.digests.add(digest_id, "sim|a", now=0, arrived=1)
    written = await worker.digests.get(digest_id)
    assert written is not None
    await worker.digests.add(digest_id, "sim|b", now=0, arrived=2)  # joins while ``written`` is being written
    await worker.digests.mark_synced(digest_id, ts="1.1", version=written.version, next_edit_at=5)
    assert await redis.zscore(pipe.keys.releases, digest_id) == 5  # due again at the next edit
    await worker.digests.released(digest_id)  # a writer finding it behind must not take it off
    assert await worker.digests.due(10) == [digest_id]


async def test_alerts_no_route_shows_leave_no_subject_records(redis: aioredis.Redis, fake_slack: FakeSlack) -> None:
    pipe = Pipeline(redis, fake_slack, AlertSettings(routes=[], delivery=DeliverySettings(pace_seconds=0)))
    await pipe.queue.ensure_group()
    worker: AlertWorker = pipe.worker()
    for n in range(60):
        await pipe.queue.submit(lost(f"+45320000{n:02d}", 1))
        await pipe.queue.submit(lost(f"+45320000{n:02d}", 2, minutes=1))
    await pipe.drain(worker)
    assert [key async for key in redis.scan_iter(match=f"{pipe.keys.prefix}:subject:*")] == []
    assert not fake_slack.calls


async def test_a_digest_post_intent_is_kept_until_written_and_never_revives_a_gone_digest(
    redis: aioredis.Redis, fake_slack: FakeSlack
) -> None:
    pipe = Pipeline(redis, fake_slack, settings(digest_after_per_minute=1))
    digests = pipe.worker().digests
    digest_id = await digests.burst(CHANNEL)
    await digests.intend(digest_id, PostIntent(nonce="n1", since=1700000000.25))
    digest = await digests.get(digest_id)
    assert digest is not None and digest.posting == PostIntent(nonce="n1", since=1700000000.25)

    await digests.mark_synced(digest_id, ts="1700000000.000100", version=0, next_edit_at=0)
    digest = await digests.get(digest_id)
    assert digest is not None and digest.posting is None and digest.ts == "1700000000.000100"

    await redis.delete(pipe.keys.digest(digest_id))  # expired
    await digests.intend(digest_id, PostIntent(nonce="n2", since=1700000001.0))
    await digests.adopted(digest_id, "1700000001.000100")
    assert not await redis.exists(pipe.keys.digest(digest_id))

"""The alert pipeline over a spawned redis-server and the fake Slack Web API (real slack_sdk client)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import redis.asyncio as aioredis
from slack_sdk.web.async_client import AsyncWebClient

from adapters.events import AlertEvent, AlertKind
from bot.alerts.delivery import SlackDelivery
from bot.alerts.pacing import ChannelPacer
from bot.alerts.queue import AlertKeys, AlertQueue, subject_key
from bot.alerts.worker import AlertWorker
from bot.config import AlertRoute, AlertSettings, DeliverySettings, QuietHours
from tests.fakes.slack_api import FakeSlack

TZ = ZoneInfo("Europe/Copenhagen")
T0 = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


def lost(caller: str, attempts: int, *, line: str = "+4570000001", minutes: int = 0, **extra: Any) -> AlertEvent:
    kind = AlertKind.LOST_CALL_OPENED if attempts == 1 else AlertKind.LOST_CALL_UPDATED
    return AlertEvent(
        kind=kind,
        vendor="sim",
        subject=f"lost:{caller}:{line}",
        idempotency_key=f"sim:lost:{caller}:{line}:{attempts}",
        occurred_at=T0 + timedelta(minutes=minutes),
        caller_number=caller,
        line=line,
        attempts=attempts,
        **extra,
    )


def resolved(caller: str, *, line: str = "+4570000001", by: str = "Bob") -> AlertEvent:
    return AlertEvent(
        kind=AlertKind.LOST_CALL_RESOLVED,
        vendor="sim",
        subject=f"lost:{caller}:{line}",
        idempotency_key=f"sim:lost:{caller}:{line}:resolved",
        occurred_at=T0 + timedelta(minutes=30),
        resolved_by=by,
    )


class Pipeline:
    def __init__(self, redis: aioredis.Redis, slack: FakeSlack, settings: AlertSettings) -> None:
        self.redis = redis
        self.slack = slack
        self.keys = AlertKeys("test")
        self.queue = AlertQueue(redis, self.keys)
        self.settings = settings
        self.client = AsyncWebClient(token="xoxb-test", base_url=slack.url)

    def worker(self, *, name: str = "w1", clock: datetime = T0) -> AlertWorker:
        delivery_settings = self.settings.delivery
        pacer = ChannelPacer(self.redis, self.keys, interval=delivery_settings.pace_seconds)
        delivery = SlackDelivery(
            self.client, pacer, retries=delivery_settings.retries, backoff_seconds=delivery_settings.backoff_seconds
        )
        return AlertWorker(self.queue, delivery, self.settings, tz=TZ, consumer=name, clock=lambda: clock)

    async def drain(self, worker: AlertWorker, *, rounds: int = 200) -> None:
        for _ in range(rounds):
            await worker.tick()
            if await self.queue.backlog() == 0:
                return
        raise AssertionError(f"{await self.queue.backlog()} entries still queued")


def settings(**route: Any) -> AlertSettings:
    return AlertSettings(
        routes=[AlertRoute(channel="C0ALERTS", name="Support", **route)],
        delivery=DeliverySettings(pace_seconds=0, retries=1, backoff_seconds=0.01, max_attempts=3),
    )


@pytest.fixture
async def pipe(redis_url: str, fake_slack: FakeSlack) -> AsyncIterator[Pipeline]:
    redis = aioredis.from_url(redis_url, decode_responses=True)
    pipeline = Pipeline(redis, fake_slack, settings())
    await pipeline.queue.ensure_group()
    yield pipeline
    await redis.aclose()


def texts(slack: FakeSlack, method: str) -> list[str]:
    return [call.args["text"] for call in slack.calls_to(method)]


async def test_duplicates_are_dropped_before_queueing(pipe: Pipeline) -> None:
    event = lost("+4520000001", 1)
    results = await asyncio.gather(*(pipe.queue.submit(event) for _ in range(5)))
    assert results.count(True) == 1
    assert await pipe.queue.backlog() == 1
    await pipe.drain(pipe.worker())
    assert len(pipe.slack.calls_to("chat.postMessage")) == 1


async def test_repeat_attempts_edit_one_message_and_resolution_goes_to_the_thread(pipe: Pipeline) -> None:
    worker = pipe.worker()
    await pipe.queue.submit(lost("+4520000001", 1))
    await pipe.drain(worker)
    await pipe.queue.submit(lost("+4520000001", 2, minutes=3))
    await pipe.drain(worker)
    await pipe.queue.submit(resolved("+4520000001"))
    await pipe.drain(worker)

    posts = pipe.slack.calls_to("chat.postMessage")
    updates = pipe.slack.calls_to("chat.update")
    assert next(p.args.get("thread_ts") for p in posts) is None
    assert len(posts) == 2 and posts[1].args["thread_ts"] == posts[0].response["ts"]  # type: ignore[index]
    assert "Resolved by Bob" in posts[1].args["text"]
    assert len(updates) == 2
    assert all(u.args["ts"] == posts[0].response["ts"] for u in updates)  # type: ignore[index]
    assert "2 attempts" in str(updates[0].args["blocks"])
    assert "resolved" in updates[1].args["text"] or "resolved" in str(updates[1].args["blocks"])
    pipe.slack.assert_no_violations()


async def test_several_events_in_one_batch_cost_one_write(pipe: Pipeline) -> None:
    for attempts in (1, 2, 3):
        await pipe.queue.submit(lost("+4520000001", attempts, minutes=attempts))
    await pipe.drain(pipe.worker())
    assert len(pipe.slack.calls_to("chat.postMessage")) == 1
    assert not pipe.slack.calls_to("chat.update")
    assert "3 attempts" in str(pipe.slack.calls_to("chat.postMessage")[0].args["blocks"])


async def test_resolution_of_something_never_shown_posts_nothing(pipe: Pipeline) -> None:
    await pipe.queue.submit(resolved("+4520000009"))
    await pipe.drain(pipe.worker())
    assert not pipe.slack.calls_to("chat.postMessage")


async def test_rate_limited_slack_delays_but_delivers_everything_in_order(pipe: Pipeline) -> None:
    pipe.slack.fail("chat.postMessage", status=429, retry_after=1, times=2)
    worker = pipe.worker()
    await pipe.queue.submit(lost("+4520000001", 1))
    await pipe.queue.submit(lost("+4520000002", 1))
    await pipe.drain(worker)
    ok_posts = [
        c for c in pipe.slack.calls_to("chat.postMessage") if c.status == 200 and c.response and c.response["ok"]
    ]
    assert len(ok_posts) == 2
    limited = [c for c in pipe.slack.calls_to("chat.postMessage") if c.status == 429]
    assert len(limited) == 2
    assert ok_posts[0].at - limited[0].at >= 0.9  # Retry-After honoured


async def test_server_errors_are_retried_then_dead_lettered_and_replayable(pipe: Pipeline) -> None:
    pipe.slack.fail("chat.postMessage", status=500, times=None)
    pipe.settings.delivery.retry_window_seconds = 0  # dead-lettered after max_attempts alone
    worker = pipe.worker()
    await pipe.queue.submit(lost("+4520000001", 1))
    for _ in range(100):
        await worker.tick()
        if not await pipe.queue.backlog():
            break
        await asyncio.sleep(0.02)
    dead = await pipe.queue.dead_letters()
    assert len(dead) == 1 and "500" in dead[0].reason
    assert dead[0].event is not None and dead[0].event.caller_number == "+4520000001"

    pipe.slack.clear_faults()
    assert await pipe.queue.replay(dead[0].id)
    await pipe.drain(worker)
    assert await pipe.queue.dead_letters() == []
    assert len([c for c in pipe.slack.calls_to("chat.postMessage") if c.status == 200]) == 1


async def test_permanent_refusal_is_dead_lettered_at_once(pipe: Pipeline) -> None:
    pipe.slack.error("chat.postMessage", "channel_not_found")
    await pipe.queue.submit(lost("+4520000001", 1))
    await pipe.drain(pipe.worker())
    [dead] = await pipe.queue.dead_letters()
    assert "channel_not_found" in dead.reason
    assert len(pipe.slack.calls_to("chat.postMessage")) == 1


async def test_entries_of_a_dead_worker_are_taken_over(pipe: Pipeline) -> None:
    await pipe.queue.submit(lost("+4520000001", 1))
    # "w1" reads the entry and dies before posting.
    assert len(await pipe.queue.read_new("w1", count=10, block_ms=0)) == 1
    pipe.settings.delivery.take_over_after_seconds = 0.2
    survivor = pipe.worker(name="w2")
    await survivor.tick()
    assert not pipe.slack.calls_to("chat.postMessage")  # not idle long enough yet
    await asyncio.sleep(0.3)
    survivor._last_take_over = 0
    await pipe.drain(survivor)
    assert len(pipe.slack.calls_to("chat.postMessage")) == 1


async def test_two_workers_post_every_alert_exactly_once(pipe: Pipeline) -> None:
    pipe.settings.routes[0].digest_after_per_minute = 100
    for n in range(30):
        await pipe.queue.submit(lost(f"+45200000{n:02d}", 1))
        await pipe.queue.submit(lost(f"+45200000{n:02d}", 2, minutes=1))
    a, b = pipe.worker(name="a"), pipe.worker(name="b")
    for _ in range(100):
        await asyncio.gather(a.tick(), b.tick())
        if not await pipe.queue.backlog():
            break
    posts = pipe.slack.calls_to("chat.postMessage")
    assert len(posts) == 30
    assert len({p.args["text"] for p in posts}) == 30


async def test_pacing_spaces_writes_to_a_channel(pipe: Pipeline) -> None:
    pipe.settings.delivery.pace_seconds = 0.2
    for n in range(4):
        await pipe.queue.submit(lost(f"+452000001{n}", 1))
    await pipe.drain(pipe.worker())
    times = [c.at for c in pipe.slack.calls_to("chat.postMessage")]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(times) == 4 and min(gaps) >= 0.15


async def test_a_burst_folds_into_one_digest_updated_in_place(redis_url: str, fake_slack: FakeSlack) -> None:
    redis = aioredis.from_url(redis_url, decode_responses=True)
    pipe = Pipeline(redis, fake_slack, settings(digest_after_per_minute=5))
    await pipe.queue.ensure_group()
    for n in range(40):
        await pipe.queue.submit(lost(f"+45300000{n:02d}", 1))
    await pipe.drain(pipe.worker())
    edits_while_coming_in = len(fake_slack.calls_to("chat.update"))
    await pipe.worker(clock=T0 + timedelta(seconds=10)).tick()  # the digest's next refresh is due
    # One batch: the digest is written once after it, with every member, so the refresh has nothing to add.
    assert edits_while_coming_in <= 1 and len(fake_slack.calls_to("chat.update")) == edits_while_coming_in
    posts = fake_slack.calls_to("chat.postMessage")
    assert len(posts) == 6  # five alerts of their own + one digest
    digest_ts = next(p.response["ts"] for p in posts if "more lost calls" in p.args["text"])  # type: ignore[index]
    final = fake_slack.message("C0ALERTS", digest_ts)
    assert final is not None and "+35 more lost calls" in final["text"]
    assert len(fake_slack.calls_to("chat.update")) < 35  # coalesced, not one edit per alert
    fake_slack.assert_no_violations()
    await redis.aclose()


async def test_quiet_hours_hold_alerts_and_post_one_digest_when_they_end(redis_url: str, fake_slack: FakeSlack) -> None:
    redis = aioredis.from_url(redis_url, decode_responses=True)
    now = datetime.now(UTC)
    local = now.astimezone(TZ)
    start = (local - timedelta(hours=1)).strftime("%H:%M")
    end = (local + timedelta(seconds=61)).strftime("%H:%M")  # ends within the next minute or two
    pipe = Pipeline(redis, fake_slack, settings(quiet_hours=QuietHours(start=start, end=end)))
    await pipe.queue.ensure_group()
    worker = pipe.worker(clock=now)
    for n in range(3):
        await pipe.queue.submit(lost(f"+45400000{n:02d}", 1))
    await pipe.drain(worker)
    assert not fake_slack.calls_to("chat.postMessage")
    [digest_id] = await worker.digests.due(float("inf"))
    digest = await worker.digests.get(digest_id)
    assert digest is not None
    await redis.zadd(pipe.keys.releases, {digest_id: 0})  # fast-forward to the end of the quiet hours
    await redis.hset(pipe.keys.digest(digest_id), "not_before", 0)
    worker.clock = lambda: datetime.now(UTC)
    await worker.tick()
    [post] = fake_slack.calls_to("chat.postMessage")
    assert "While *Support* was quiet" in post.args["blocks"][0]["text"]["text"]
    assert "3 lost calls" in post.args["text"]
    assert await worker.digests.due(float("inf")) == []
    await redis.aclose()


async def test_snoozed_channel_holds_alerts(pipe: Pipeline) -> None:
    await pipe.redis.set(pipe.keys.snooze("C0ALERTS"), str((T0 + timedelta(minutes=30)).timestamp()))
    await pipe.queue.submit(lost("+4520000001", 1))
    await pipe.drain(pipe.worker())
    assert not pipe.slack.calls_to("chat.postMessage")
    assert len(await pipe.worker().digests.due(float("inf"))) == 1


async def test_subject_key_is_stable() -> None:
    assert subject_key("relatel", "lost:+45:+46") == "relatel|lost:+45:+46"

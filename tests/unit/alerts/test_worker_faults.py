"""The worker is never wedged: poison, half-gone digests, quiet time ending, and Slack outages.

Over a spawned redis-server and the fake Slack Web API (the real slack_sdk client), as in test_pipeline.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import redis.asyncio as aioredis

from adapters.events import AlertEvent, AlertKind
from bot.alerts.ledger import RECORD_TTL_SECONDS
from bot.alerts.queue import QueueEntry, subject_key
from bot.alerts.worker import AlertWorker
from handlers.alert_view import AlertState
from tests.fakes.slack_api import FakeSlack
from tests.unit.alerts.test_pipeline import T0, Pipeline, lost, settings

LINE = "+4570000001"


@pytest.fixture
async def pipe(redis_url: str, fake_slack: FakeSlack) -> AsyncIterator[Pipeline]:
    redis = aioredis.from_url(redis_url, decode_responses=True)
    pipeline = Pipeline(redis, fake_slack, settings())
    await pipeline.queue.ensure_group()
    yield pipeline
    await redis.aclose()


def key_of(caller: str) -> str:
    return subject_key("sim", f"lost:{caller}:{LINE}")


def posts(slack: FakeSlack) -> list[str]:
    return [call.args["text"] for call in slack.calls_to("chat.postMessage") if call.status == 200]


async def tick_until(worker: AlertWorker, done: object, *, rounds: int = 300) -> None:
    """Tick (giving retries their time) until ``done()`` is true."""
    for _ in range(rounds):
        if await done():  # type: ignore[operator]
            return
        await worker.tick()
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met")


# -- point 1: one bad subject or entry never stops the others ------------------------------------
async def test_an_entry_that_cannot_be_read_is_dead_lettered_and_the_rest_delivered(pipe: Pipeline) -> None:
    poison = await pipe.redis.xadd(pipe.keys.stream, {"sk": key_of("+4520000009"), "event": '{"kind": "nonsense'})
    await pipe.redis.xadd(pipe.keys.stream, {"event": "{}"})  # not even a subject
    await pipe.queue.submit(lost("+4520000001", 1))
    await pipe.drain(pipe.worker())
    assert posts(pipe.slack) == ["Lost call from +4520000001 on +4570000001"]
    dead = {letter.id: letter for letter in await pipe.queue.dead_letters()}
    assert len(dead) == 2 and "unreadable queue entry" in dead[poison].reason
    assert not any(letter.transient for letter in dead.values())


async def test_a_subject_that_fails_to_render_is_dead_lettered_with_the_reason_and_the_others_go_on(
    pipe: Pipeline, caplog: pytest.LogCaptureFixture
) -> None:
    worker = pipe.worker()

    def listen_link(state: AlertState) -> str | None:
        if state.caller_number == "+4520000002":
            raise RuntimeError("renderer exploded")
        return None

    worker.listen_link = listen_link
    for n in (1, 2, 3):
        await pipe.queue.submit(lost(f"+452000000{n}", 1))
    with caplog.at_level(logging.ERROR, logger="bot.alerts.worker"):
        await pipe.drain(worker)
    assert sorted(posts(pipe.slack)) == [f"Lost call from +452000000{n} on +4570000001" for n in (1, 3)]
    [dead] = await pipe.queue.dead_letters()
    assert dead.subject_key == key_of("+4520000002")
    assert dead.reason == "could not be handled: RuntimeError: renderer exploded"
    assert any(record.exc_info for record in caplog.records)  # logged with its traceback
    # The worker goes on: a later alert for a good subject is delivered.
    await pipe.queue.submit(lost("+4520000001", 2, minutes=1))
    await pipe.drain(worker)
    assert len(pipe.slack.calls_to("chat.update")) == 1


async def test_a_subject_of_2100_characters_is_posted_within_slacks_limits(pipe: Pipeline) -> None:
    line = "9" * 2100
    await pipe.queue.submit(lost("+4520000001", 1, line=line))
    await pipe.queue.submit(lost("+4520000002", 1))
    await pipe.drain(pipe.worker())
    assert len(posts(pipe.slack)) == 2
    assert await pipe.queue.dead_letters() == []
    pipe.slack.assert_no_violations()


# -- point 4: digest and subject lifetimes never disagree ---------------------------------------
async def _subject_in_a_burst_digest(pipe: Pipeline) -> tuple[AlertWorker, str]:
    pipe.settings.routes[0].digest_after_per_minute = 1
    worker = pipe.worker()
    await pipe.queue.submit(lost("+4520000001", 1))
    await pipe.queue.submit(lost("+4520000002", 1))
    await pipe.drain(worker)
    record = await worker.ledger.load(key_of("+4520000002"))
    digest_id = record.targets["C0ALERTS"].digest_id
    assert digest_id is not None and record.targets["C0ALERTS"].mode == "digest"
    return worker, digest_id


async def test_a_subject_whose_digest_expired_gets_its_own_message_and_no_half_digest_is_made(
    pipe: Pipeline,
) -> None:
    worker, digest_id = await _subject_in_a_burst_digest(pipe)
    await pipe.redis.delete(pipe.keys.digest(digest_id))  # expired; the subject's record lived on
    await pipe.queue.submit(lost("+4520000002", 2, minutes=1))
    await pipe.drain(worker)
    assert await pipe.redis.exists(pipe.keys.digest(digest_id)) == 0  # never recreated without its channel
    sent = pipe.slack.calls_to("chat.postMessage")
    own = [c for c in sent if c.args["text"].startswith("Lost call from +4520000002")]
    assert len(own) == 1 and "2 attempts" in str(own[0].args["blocks"])
    assert "actions" in [block["type"] for block in own[0].args["blocks"]]
    record = await worker.ledger.load(key_of("+4520000002"))
    assert record.targets["C0ALERTS"].mode == "message" and record.targets["C0ALERTS"].ts is not None


async def test_a_change_refreshes_the_digest_lifetime_with_the_subjects(pipe: Pipeline) -> None:
    worker, digest_id = await _subject_in_a_burst_digest(pipe)
    digest_key = pipe.keys.digest(digest_id)
    for key in (digest_key, f"{digest_key}:members"):
        await pipe.redis.expire(key, 100)  # as if a month had gone by since the digest began
    await pipe.queue.submit(lost("+4520000002", 2, minutes=1))
    await pipe.drain(worker)
    record_ttl = await pipe.redis.ttl(pipe.keys.record(key_of("+4520000002")))
    assert record_ttl > RECORD_TTL_SECONDS - 60
    for key in (digest_key, f"{digest_key}:members"):
        assert await pipe.redis.ttl(key) >= record_ttl - 60


# -- point 5: a subject leaves the quiet digest on its next change ------------------------------
async def test_after_the_quiet_time_a_held_subject_gets_its_own_message_on_its_next_change(pipe: Pipeline) -> None:
    snoozed_until = T0 + timedelta(minutes=30)
    await pipe.redis.set(pipe.keys.snooze("C0ALERTS"), str(snoozed_until.timestamp()))
    worker = pipe.worker()
    await pipe.queue.submit(lost("+4520000001", 1))
    await pipe.drain(worker)
    assert posts(pipe.slack) == []
    worker.clock = lambda: snoozed_until + timedelta(minutes=1)
    await worker.tick()  # the quiet time is over: the digest is posted
    [digest_post] = pipe.slack.calls_to("chat.postMessage")
    assert "quiet" in digest_post.args["blocks"][0]["text"]["text"]

    await pipe.queue.submit(lost("+4520000001", 2, minutes=32))
    await pipe.drain(worker)
    own = [c for c in pipe.slack.calls_to("chat.postMessage") if c.args["text"].startswith("Lost call from")]
    assert len(own) == 1
    assert "2 attempts" in str(own[0].args["blocks"])
    assert [b for b in own[0].args["blocks"] if b["type"] == "actions"]  # with its buttons
    await pipe.queue.submit(lost("+4520000001", 3, minutes=33))
    await pipe.drain(worker)
    assert [c.args["ts"] for c in pipe.slack.calls_to("chat.update")][-1] == own[0].response["ts"]  # type: ignore[index]


# -- point 6: a Slack outage is waited out, and what was parked comes back by itself -------------
async def test_transient_failures_are_retried_for_the_whole_window_not_parked_after_max_attempts(
    pipe: Pipeline,
) -> None:
    pipe.settings.delivery.retry_window_seconds = 120
    pipe.slack.fail("chat.postMessage", status=503, times=None)
    worker = pipe.worker()
    await pipe.queue.submit(lost("+4520000001", 1))
    [entry_id] = [entry.id for entry in await pipe.queue.read_new("w1", count=1, block_ms=0)]

    async def failed_often() -> bool:
        return int(await pipe.redis.hget(pipe.keys.failures, entry_id) or 0) >= 6

    await tick_until(worker, failed_often)
    assert await pipe.queue.dead_letters() == []  # max_attempts (3) passed, the window not
    pipe.slack.clear_faults()
    worker._retry_at.clear()  # skip the rest of the backoff
    await pipe.drain(worker)
    assert posts(pipe.slack) == ["Lost call from +4520000001 on +4570000001"]


async def test_alerts_parked_while_slack_was_down_are_replayed_once_it_answers(pipe: Pipeline) -> None:
    pipe.settings.delivery.retry_window_seconds = 0
    pipe.settings.delivery.max_attempts = 1
    pipe.slack.fail("chat.postMessage", status=500, times=None)
    worker = pipe.worker()
    worker.parked_check_seconds = 0
    refused = AlertEvent(
        kind=AlertKind.VOICEMAIL_NEW, vendor="sim", subject="voicemail:1", idempotency_key="sim:vm:1", occurred_at=T0
    )
    await pipe.queue.dead_letter(QueueEntry("1-1", subject_key("sim", "voicemail:1"), refused), "Slack refused: x")
    for n in (1, 2, 3):
        await pipe.queue.submit(lost(f"+452000000{n}", 1))

    async def parked() -> bool:
        return len([letter for letter in await pipe.queue.dead_letters() if letter.transient]) == 3

    await tick_until(worker, parked)
    pipe.slack.clear_faults()

    async def delivered() -> bool:
        return len(posts(pipe.slack)) == 3 and await pipe.queue.backlog() == 0

    await tick_until(worker, delivered)
    [left] = await pipe.queue.dead_letters()
    assert left.id == "1-1" and not left.transient  # a permanent refusal waits for a person
    assert sorted(posts(pipe.slack)) == [f"Lost call from +452000000{n} on +4570000001" for n in (1, 2, 3)]

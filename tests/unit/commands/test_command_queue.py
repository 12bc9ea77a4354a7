"""The command queue and a command worker against a real redis-server: bounded, durable, never run twice."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from bot.commands.queue import STREAM, RedisCommandQueue
from bot.commands.runner import unsure_reply
from bot.commands.worker import DEAD_AFTER_SECONDS, CommandWorker
from handlers.deferred import DeferredCommand, QueueFull, QueueRefused


def job(text: str = "status", *, command: str = "/queue", acked_at: float | None = None) -> DeferredCommand:
    return DeferredCommand(
        command=command,
        text=text,
        user_id="U0ALICE",
        response_url="https://hooks.slack.com/commands/T0/1/abc",
        enterprise_id=None,
        team_id="T0001",
        is_enterprise_install=False,
        acked_at=time.time() if acked_at is None else acked_at,
    )


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


class Recorder:
    """What a worker did: commands run, and commands answered "may or may not have happened"."""

    def __init__(self) -> None:
        self.ran: list[DeferredCommand] = []
        self.unsure: list[DeferredCommand] = []

    async def run(self, job: DeferredCommand) -> None:
        self.ran.append(job)

    async def answer_unsure(self, job: DeferredCommand) -> None:
        self.unsure.append(job)


async def wait_for(condition: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def test_an_entry_round_trips_and_a_forged_one_is_refused() -> None:
    original = job("login Support", command="/queue")
    assert DeferredCommand.from_fields(original.to_fields()) == original
    assert DeferredCommand.from_fields({**original.to_fields(), "command": "/rm"}) is None
    assert DeferredCommand.from_fields({**original.to_fields(), "text": "x" * 4001}) is None
    assert DeferredCommand.from_fields({**original.to_fields(), "acked_at": "soon"}) is None
    assert DeferredCommand.from_fields({"command": "/queue"}) is None


def test_every_slash_command_can_be_queued() -> None:
    from handlers.commands import SLASH_COMMANDS
    from handlers.deferred import COMMAND_NAMES

    assert tuple(SLASH_COMMANDS) == COMMAND_NAMES


async def test_a_full_queue_refuses_at_the_door(redis: aioredis.Redis) -> None:
    queue = RedisCommandQueue(redis, max_backlog=3)
    for _ in range(3):
        await queue.put(job())
    with pytest.raises(QueueFull):
        await queue.put(job())
    assert (await queue.backlog()).depth == 3


async def test_a_refused_connection_means_certainly_not_queued() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = aioredis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1, retry=Retry(NoBackoff(), 0))
    with pytest.raises(QueueRefused):
        await RedisCommandQueue(client).put(job())
    await client.aclose()


async def test_a_worker_runs_each_command_once_and_forgets_it(redis: aioredis.Redis) -> None:
    queue = RedisCommandQueue(redis)
    done = Recorder()
    worker = CommandWorker(queue, done.run, done.answer_unsure, name="w1", block_ms=50)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    for index in range(20):
        await queue.put(job(f"status {index}"))
    await queue.redis.xadd(STREAM, {"command": "/queue"})  # an entry no acking process wrote
    await wait_for(lambda: len(done.ran) == 20)
    await wait_for(lambda: worker.in_hand == 0)
    stop.set()
    await running
    assert sorted(j.text for j in done.ran) == sorted(f"status {i}" for i in range(20))
    assert await redis.xlen(STREAM) == 0, "answered and unreadable entries are both gone"
    assert done.unsure == []


async def test_commands_a_dead_worker_held_are_answered_unsure_never_run_again(redis: aioredis.Redis) -> None:
    queue = RedisCommandQueue(redis)
    await queue.ensure_group()
    await queue.put(job("+4571999999", command="/call"))
    dead_beat = time.time() - DEAD_AFTER_SECONDS - 1
    await queue.beat("dead", dead_beat)
    assert len(await queue.read("dead", count=10, block_ms=10)) == 1  # it took the call, then died
    await queue.put(job("status"))  # still waiting: any worker runs it
    done = Recorder()
    worker = CommandWorker(queue, done.run, done.answer_unsure, name="alive", block_ms=50)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    await wait_for(lambda: len(done.unsure) == 1 and len(done.ran) == 1)
    await wait_for(lambda: worker.in_hand == 0)
    stop.set()
    await running
    assert [j.command for j in done.unsure] == ["/call"] and [j.text for j in done.ran] == ["status"]
    assert await redis.xlen(STREAM) == 0
    assert [c["name"] for c in await redis.xinfo_consumers(STREAM, "command-workers")] == ["alive"]


async def test_a_live_slow_worker_keeps_what_it_holds(redis: aioredis.Redis) -> None:
    queue = RedisCommandQueue(redis)
    await queue.ensure_group()
    await queue.put(job("+4571999999", command="/call"))
    await queue.beat("slow")
    assert len(await queue.read("slow", count=10, block_ms=10)) == 1
    assert await queue.take_over_dead("other", dead_after=DEAD_AFTER_SECONDS) == []


async def test_one_failing_answer_does_not_stop_the_worker(redis: aioredis.Redis) -> None:
    queue = RedisCommandQueue(redis)
    done = Recorder()

    async def flaky(job: DeferredCommand) -> None:
        if job.text == "boom":
            raise RuntimeError("response_url gone")
        await done.run(job)

    worker = CommandWorker(queue, flaky, done.answer_unsure, name="w", block_ms=50)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    await queue.put(job("boom"))
    await queue.put(job("after"))
    await wait_for(lambda: [j.text for j in done.ran] == ["after"])
    stop.set()
    await running
    assert await redis.xlen(STREAM) == 0


def test_the_unsure_answer_escapes_what_the_user_typed() -> None:
    text = unsure_reply(job("<!channel> +45 `x`", command="/call")).text
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert "may or may not have happened" in text

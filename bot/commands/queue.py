"""The Redis stream acked slash commands wait in until a command worker takes them.

One stream, one consumer group. An entry is added by the acking process (bounded: a full queue
refuses at the door, and the ack says so), read by one worker, and deleted when its answer is
out, so the stream's length is the work outstanding. Workers beat a heartbeat into a sorted set;
a worker that stopped beating is dead, and another worker takes over what it held.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from bot.commands.deferred import DeferredCommand, QueueFull, QueueRefused

STREAM = "phonebot:commands:stream"
WORKERS = "phonebot:commands:workers"
GROUP = "command-workers"
#: Commands waiting or in hand at most; beyond it the ack says "too busy" (at 150/s: over a minute of work).
DEFAULT_MAX_BACKLOG = 10_000

# XLEN and XADD in one step, so the bound holds however many processes ack at once.
_PUT = """
if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[1]) then return false end
return redis.call('XADD', KEYS[1], '*', unpack(ARGV, 2))
"""


@dataclass(frozen=True)
class Backlog:
    """What ``/readyz`` and the gauges look at."""

    depth: int  # commands queued or in a worker's hands
    oldest_age_seconds: float  # since the oldest of them was acked (0 when none)


class RedisCommandQueue:
    """Put, read, finish and take over acked commands."""

    def __init__(self, redis: aioredis.Redis, *, max_backlog: int = DEFAULT_MAX_BACKLOG) -> None:
        self.redis = redis
        self.max_backlog = max_backlog
        self._put = redis.register_script(_PUT)

    async def ensure_group(self) -> None:
        """Create the stream and its consumer group if missing (idempotent)."""
        try:
            await self.redis.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def put(self, job: DeferredCommand) -> None:
        """Queue ``job``; :class:`QueueFull` at the bound, :class:`QueueRefused` when Redis refused the connection."""
        args: list[str | int] = [self.max_backlog]
        for name, value in job.to_fields().items():
            args += [name, value]
        try:
            added = await self._put(keys=[STREAM], args=args)
        except RedisConnectionError as exc:
            if _refused(exc):
                raise QueueRefused(str(exc)) from None
            raise
        if not added:
            raise QueueFull(f"{self.max_backlog} commands outstanding")

    async def read(self, consumer: str, *, count: int, block_ms: int) -> list[tuple[str, dict[str, str]]]:
        """Up to ``count`` new entries for ``consumer``, waiting up to ``block_ms`` for the first."""
        answer: Any = await self.redis.xreadgroup(GROUP, consumer, {STREAM: ">"}, count=count, block=block_ms)
        return [(entry_id, fields) for _, entries in answer or [] for entry_id, fields in entries]

    async def finish(self, entry_id: str) -> None:
        """The entry's work is done (answered, or answered that it can't be): forget it."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xack(STREAM, GROUP, entry_id)
            pipe.xdel(STREAM, entry_id)
            await pipe.execute()

    async def beat(self, consumer: str, now: float | None = None) -> None:
        """``consumer`` is alive."""
        await self.redis.zadd(WORKERS, {consumer: time.time() if now is None else now})

    async def alive(self, *, within: float, now: float | None = None) -> int:
        """How many workers beat within the last ``within`` seconds."""
        now = time.time() if now is None else now
        return int(await self.redis.zcount(WORKERS, now - within, "+inf"))

    async def take_over_dead(
        self, consumer: str, *, dead_after: float, now: float | None = None, batch: int = 100
    ) -> list[tuple[str, dict[str, str]]]:
        """Claim for ``consumer`` the entries held by workers that stopped beating ``dead_after`` s ago,
        and forget those workers."""
        now = time.time() if now is None else now
        taken: list[tuple[str, dict[str, str]]] = []
        for info in await self.redis.xinfo_consumers(STREAM, GROUP):
            name = str(info.get("name"))
            if name == consumer:
                continue
            beat = await self.redis.zscore(WORKERS, name)
            if beat is not None and beat >= now - dead_after:
                continue
            while True:
                pending = await self.redis.xpending_range(STREAM, GROUP, "-", "+", batch, consumername=name)
                if not pending:
                    break
                ids: list[Any] = [str(item["message_id"]) for item in pending]
                claimed: Any = await self.redis.xclaim(STREAM, GROUP, consumer, 0, ids)
                taken += [(entry_id, fields) for entry_id, fields in claimed if fields]
                gone = set(ids) - {entry_id for entry_id, _ in claimed}
                if gone:  # deleted meanwhile: nothing to answer, nothing to keep
                    await self.redis.xack(STREAM, GROUP, *gone)
            await self.redis.xgroup_delconsumer(STREAM, GROUP, name)
            await self.redis.zrem(WORKERS, name)
        return taken

    async def backlog(self, now: float | None = None) -> Backlog:
        """How many commands are outstanding, and how long the oldest has waited."""
        now = time.time() if now is None else now
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.xlen(STREAM)
            pipe.xrange(STREAM, "-", "+", count=1)
            depth, first = await pipe.execute()
        if not first:
            return Backlog(int(depth), 0.0)
        acked_at = float(first[0][1].get("acked_at") or now)
        return Backlog(int(depth), max(0.0, now - acked_at))


def _refused(exc: RedisConnectionError) -> bool:
    """True when the connection was refused (nothing was sent), not lost mid-call."""
    cause = exc.__cause__ or exc.__context__
    return isinstance(cause, ConnectionRefusedError) or "refused" in str(exc).lower()

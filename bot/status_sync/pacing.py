"""Pacing of phonebot's Slack status writes per workspace (issue 12 point 9): a burst is spread out, never dropped.

``users.profile.set`` is Tier 3 (50+ a minute per method, per workspace, per app; docs/slack-platform.md §4).
Every presence change phonebot shows takes one slot of its workspace, :attr:`PacedSync.interval` seconds
apart across every process (a Redis reservation on Redis's clock, as :mod:`bot.alerts.pacing` does for
channels); the default, 1.5 s, is 40 a minute, leaving room for restores and people's own clients. A change
whose slot is more than :data:`INLINE_SECONDS` away is kept in Redis (:class:`PendingWrites`, the latest per
person) and written by the supervised task ``slack-status-pacer`` when its slot comes; ``/presence`` says the
Slack status will follow. A queued write that fails is tried again later, until it is a day old.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from redis.asyncio import Redis

from bot.slots import HOLD_OFF, RESERVE
from bot.status_sync.poller import Revoked
from bot.status_sync.sync import Outcome, StatusSync
from bot.status_sync.workspace_status import StatusSettings
from bot.supervisor import Supervisor

log = logging.getLogger(__name__)

TASK = "slack-status-pacer"
#: Under the workspace's data prefix (``ws:…:slack-status:pace``), so an uninstall deletes it with the rest.
PACE_KEY = "slack-status:pace"
PENDING_KEY = "phonebot:slack-status:pending"
ORDER_KEY = "phonebot:slack-status:pending-order"
#: 40 writes a minute per workspace: under Tier 3's 50, with room for restores.
DEFAULT_INTERVAL = 1.5
#: A slot at most this far away is waited for in line (the ``/presence`` reply waits for it).
INLINE_SECONDS = 2.0
#: Queued writes taken per look.
BATCH = 50
#: A queued write that failed waits this long (and its workspace with it: likely a 429).
RETRY_SECONDS = 15.0
GIVE_UP_SECONDS = 24 * 3600.0
#: Queued people kept at most (beyond it a write is refused loudly rather than Redis growing without end).
MAX_PENDING = 100_000


# Take up to ARGV[1] of the oldest queued writes: each removed as it is taken (one taker only).
_TAKE = """
local members = redis.call('ZRANGE', KEYS[2], 0, tonumber(ARGV[1]) - 1, 'WITHSCORES')
local taken = {}
for i = 1, #members, 2 do
  local job = redis.call('HGET', KEYS[1], members[i])
  redis.call('HDEL', KEYS[1], members[i])
  redis.call('ZREM', KEYS[2], members[i])
  if job then
    table.insert(taken, members[i]); table.insert(taken, members[i + 1]); table.insert(taken, job)
  end
end
return taken
"""


class PendingWrite(BaseModel):
    """One person's Slack status change waiting for its workspace's slot."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["set", "cleared"]
    activity: str = Field(default="", max_length=100)
    label: str = Field(default="", max_length=200)
    until: datetime | None = None
    workspace: StatusSettings | None = None
    queued_at: float = 0.0


class PendingWrites:
    """The durable queue: a hash (person → their latest write) and a sorted set (people by when they queued)."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._take = redis.register_script(_TAKE)

    @staticmethod
    def member(prefix: str, slack_user_id: str) -> str:
        return json.dumps([prefix, slack_user_id[:32]])

    async def waiting(self, prefix: str, slack_user_id: str) -> bool:
        return bool(await self.redis.hexists(PENDING_KEY, self.member(prefix, slack_user_id)))

    async def put(self, prefix: str, slack_user_id: str, write: PendingWrite, *, at: float | None = None) -> bool:
        """Queue ``write`` for the person, replacing an earlier one but keeping its place; ``False`` when full."""
        member = self.member(prefix, slack_user_id)
        if await self.redis.zcard(ORDER_KEY) >= MAX_PENDING and not await self.redis.hexists(PENDING_KEY, member):
            return False
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(PENDING_KEY, member, write.model_dump_json())
            pipe.zadd(ORDER_KEY, {member: at if at is not None else write.queued_at}, nx=True)
            await pipe.execute()
        return True

    async def put_back(self, member: str, score: float, raw: str) -> None:
        """A taken write not done yet goes back in its place, unless a newer one for the person arrived."""
        if await self.redis.hsetnx(PENDING_KEY, member, raw):
            await self.redis.zadd(ORDER_KEY, {member: score}, nx=True)

    async def take(self, limit: int = BATCH) -> list[tuple[str, float, str]]:
        """Up to ``limit`` of the oldest writes as ``(member, score, job)``, each removed by this caller."""
        flat = cast(list[str], await self._take(keys=[PENDING_KEY, ORDER_KEY], args=[limit]))
        return [(flat[i], float(flat[i + 1]), flat[i + 2]) for i in range(0, len(flat), 3)]

    async def forget_workspace(self, prefix: str) -> None:
        """Drop the queued writes of an uninstalled workspace."""
        start = json.dumps([prefix])[:-1]
        members = [m for m in await self.redis.hkeys(PENDING_KEY) if str(m).startswith(start)]
        if members:
            await self.redis.hdel(PENDING_KEY, *members)
            await self.redis.zrem(ORDER_KEY, *members)


class PacedSync:
    """:class:`StatusSync`'s set and clear paths, each taking a slot of the person's workspace first."""

    def __init__(
        self, redis: Redis, sync: StatusSync, *, interval: float = DEFAULT_INTERVAL, revoked: Revoked | None = None
    ) -> None:
        self.sync = sync
        self.interval = interval
        self.pending = PendingWrites(redis)
        self.revoked = revoked
        self.clock: Callable[[], float] = time.time
        self._try_reserve = redis.register_script(RESERVE)
        self._hold_off = redis.register_script(HOLD_OFF)
        self._stop = asyncio.Event()
        self.supervisor = Supervisor(self._stop)

    async def presence_set(
        self,
        prefix: str,
        slack_user_id: str,
        *,
        activity: str,
        label: str,
        until: datetime | None,
        now: datetime,
        workspace: StatusSettings | None = None,
    ) -> Outcome:
        """As :meth:`StatusSync.presence_set`, or :attr:`Outcome.QUEUED` when the slot is further away."""
        write = PendingWrite(
            kind="set", activity=activity, label=label[:200], until=until, workspace=workspace, queued_at=self.clock()
        )
        if await self._in_line(prefix, slack_user_id, write):
            return await self.sync.presence_set(
                prefix, slack_user_id, activity=activity, label=label, until=until, now=now, workspace=workspace
            )
        return Outcome.QUEUED

    async def presence_cleared(self, prefix: str, slack_user_id: str, *, now: datetime) -> Outcome:
        """As :meth:`StatusSync.presence_cleared`, or :attr:`Outcome.QUEUED`."""
        if await self.sync.tokens.get(prefix, slack_user_id) is None:
            return Outcome.NOT_CONNECTED  # nothing to pace: no write will happen
        write = PendingWrite(kind="cleared", queued_at=self.clock())
        if await self._in_line(prefix, slack_user_id, write):
            return await self.sync.presence_cleared(prefix, slack_user_id, now=now)
        return Outcome.QUEUED

    async def _in_line(self, prefix: str, slack_user_id: str, write: PendingWrite) -> bool:
        """Wait for a slot coming soon (``True``), else queue ``write`` (``False``). A person with a write
        queued queues this one too (it replaces theirs): an older write never lands after a newer one."""
        if not await self.pending.waiting(prefix, slack_user_id):
            wait = await self._reserve(prefix, INLINE_SECONDS)
            if wait is not None:
                await asyncio.sleep(wait)
                return True
        if not await self.pending.put(prefix, slack_user_id, write):
            log.error("the queue of paced Slack status writes is full; writing one unpaced")
            return True
        return False

    async def _reserve(self, prefix: str, within: float) -> float | None:
        """Reserve the workspace's next slot if it is at most ``within`` seconds away; the wait, else ``None``."""
        waited = int(
            await self._try_reserve(keys=[prefix + PACE_KEY], args=[int(self.interval * 1000), int(within * 1000)])
        )
        return None if waited < 0 else waited / 1000

    async def hold_off(self, prefix: str, seconds: float) -> None:
        """No write in the workspace for ``seconds`` (Slack refused one)."""
        await self._hold_off(keys=[prefix + PACE_KEY], args=[int(seconds * 1000)])

    # -- the supervised task writing what waits ---------------------------------------------
    async def start(self) -> None:
        self._stop.clear()
        self.supervisor.start(TASK, self._run)

    async def stop(self) -> None:
        await self.supervisor.stop(cancel=[TASK])

    async def problem(self) -> str | None:
        """For ``/readyz``: ``None`` while the task runs."""
        return None if self.supervisor.running(TASK) else "the Slack status pacer is not running"

    async def pass_once(self) -> int:
        """Write the queued changes whose workspace has a slot now (the others go back in place); how many."""
        done = 0
        for member, score, raw in await self.pending.take():
            try:
                prefix, user = (str(part) for part in json.loads(member))
                write = PendingWrite.model_validate_json(raw)
            except (ValueError, ValidationError):
                log.warning("a queued Slack status write could not be read; dropped")
                continue
            wait = await self._reserve(prefix, 0.05)
            if wait is None:
                await self.pending.put_back(member, score, raw)
                continue
            await asyncio.sleep(wait)
            outcome = await self._write(prefix, user, write)
            done += 1
            if outcome is Outcome.FAILED and self.clock() - write.queued_at < GIVE_UP_SECONDS:
                await self.hold_off(prefix, RETRY_SECONDS)
                await self.pending.put_back(member, score, raw)
            elif outcome is Outcome.REVOKED and self.revoked is not None:
                await self.revoked(prefix, user)
        return done

    async def _write(self, prefix: str, user: str, write: PendingWrite) -> Outcome:
        now = datetime.fromtimestamp(self.clock(), UTC)
        try:
            if write.kind == "cleared":
                return await self.sync.presence_cleared(prefix, user, now=now)
            if write.until is not None and write.until <= now:
                return Outcome.NOTHING  # that presence ended while it waited: Slack would clear it at once
            return await self.sync.presence_set(
                prefix,
                user,
                activity=write.activity,
                label=write.label,
                until=write.until,
                now=now,
                workspace=write.workspace,
            )
        except Exception as exc:  # one write's failure never stops the others'
            log.warning("a queued Slack status write failed (%s)", type(exc).__name__)
            return Outcome.FAILED

    async def _run(self) -> None:
        while not self._stop.is_set():
            done = await self.pass_once()
            if done:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=min(self.interval, 0.5))

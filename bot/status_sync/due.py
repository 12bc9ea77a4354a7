"""When phonebot's Slack statuses end: a Redis sorted set of due restores, and the task that works it.

Slack clears a status at its ``status_expiration`` by itself; the person's own status is then put back
by :meth:`~bot.status_sync.sync.StatusSync.restore_if_due`. The set survives restarts (it is in Redis);
a member names the workspace's data prefix and the person, its score is the epoch second the status
ends. Each due member is taken with ``ZREM`` first, so two serving processes never restore one twice.
One set serves every workspace: a member of a workspace that has since been uninstalled finds no token
and is dropped when due.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import cast

from redis.asyncio import Redis

from bot.store.redis import glob_escape
from bot.supervisor import Supervisor

log = logging.getLogger(__name__)

DUE_KEY = "phonebot:slack-status:due"
#: Restores taken per pass: a team lunch ending at once is worked through over a few passes, never dropped.
BATCH = 50
TASK = "slack-status-restores"


class DueRestores:
    """The sorted set of Slack statuses phonebot set and the second each ends."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    @staticmethod
    def _member(prefix: str, slack_user_id: str) -> str:
        return json.dumps([prefix, slack_user_id[:32]])

    async def add(self, prefix: str, slack_user_id: str, at: int) -> None:
        await self.redis.zadd(DUE_KEY, {self._member(prefix, slack_user_id): at})

    async def retry(self, prefix: str, slack_user_id: str, at: float) -> bool:
        """Try the person's restore again at ``at``, unless a later presence has scheduled theirs since."""
        return bool(await self.redis.zadd(DUE_KEY, {self._member(prefix, slack_user_id): at}, nx=True))

    async def remove(self, prefix: str, slack_user_id: str) -> None:
        await self.redis.zrem(DUE_KEY, self._member(prefix, slack_user_id))

    async def forget_workspace(self, prefix: str) -> int:
        """Drop every restore of the workspace whose data prefix is ``prefix`` (it was uninstalled); how many."""
        members = [
            m async for m, _ in self.redis.zscan_iter(DUE_KEY, match=glob_escape(json.dumps([prefix])[:-1]) + "*")
        ]
        return int(await self.redis.zrem(DUE_KEY, *members)) if members else 0

    async def take_due(self, now: float, *, limit: int = BATCH) -> list[tuple[str, str, int]]:
        """Up to ``limit`` restores due by ``now`` as ``(prefix, user, at)``, each taken (removed) by this caller."""
        found = await self.redis.zrangebyscore(DUE_KEY, "-inf", now, start=0, num=limit, withscores=True)
        taken: list[tuple[str, str, int]] = []
        for member, score in cast(list[tuple[str, float]], found):
            if await self.redis.zrem(DUE_KEY, member):
                prefix, user = json.loads(member)
                taken.append((str(prefix), str(user), int(score)))
        return taken


#: Put one person's own status back: ``(prefix, user, at, now)``; the outcome is judged by ``failed``.
Restore = Callable[[str, str, int, datetime], Awaitable[object]]
#: A restore that failed (Slack rate-limited, down, slow) is tried again this long after, never dropped...
RETRY_SECONDS = 60.0
#: ...until it is this old: by then the person's own status has long been theirs to set again.
GIVE_UP_SECONDS = 24 * 3600.0


class DueRestorer:
    """A supervised task that restores people's statuses as phonebot's end (every ``interval`` seconds)."""

    def __init__(
        self,
        due: DueRestores,
        restore: Restore,
        *,
        interval: float,
        failed: Callable[[object], bool] = lambda outcome: False,
    ) -> None:
        self.due = due
        self.restore = restore
        self.failed = failed
        self.interval = interval
        self.clock: Callable[[], float] = time.time
        self._stop = asyncio.Event()
        self.supervisor = Supervisor(self._stop)

    async def start(self) -> None:
        self._stop.clear()
        self.supervisor.start(TASK, self._run)

    async def stop(self) -> None:
        await self.supervisor.stop(cancel=[TASK])

    async def pass_once(self) -> int:
        """Restore what is due now; how many were."""
        now = self.clock()
        taken = await self.due.take_due(now)
        for prefix, user, at in taken:
            try:
                again = self.failed(await self.restore(prefix, user, at, datetime.fromtimestamp(now, UTC)))
            except Exception as exc:  # one person's failure never stops the others'
                log.warning("putting a Slack status back failed (%s)", type(exc).__name__)
                again = True
            if again and now - at < GIVE_UP_SECONDS:  # a burst Slack paced (429) or an outage: later, not never
                await self.due.retry(prefix, user, now + RETRY_SECONDS)
        return len(taken)

    async def _run(self) -> None:
        while not self._stop.is_set():
            if await self.pass_once() >= BATCH:
                continue  # more are due: no pause
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.interval)

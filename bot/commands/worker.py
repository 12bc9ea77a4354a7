"""A command worker: takes acked commands off the queue, a bounded number at once, and answers each.

At most ``capacity`` commands are in its hands (running, or waiting for one of the handlers'
work slots, which tell the user "queued" when the wait is long); the rest stay in the stream for
whichever worker has room. Every ``BEAT_SECONDS`` it beats its heartbeat and takes over what a
dead worker held: those commands may have been half done (a dial may be out), so they are never
run again — their users are told it may or may not have happened. One bad entry or one failing
answer is logged and finished; nothing in an entry can stop the worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable

from prometheus_client import Counter

from bot.commands.deferred import DeferredCommand
from bot.commands.queue import RedisCommandQueue

log = logging.getLogger(__name__)

BEAT_SECONDS = 5.0
#: A worker silent this long is dead (generous: a busy, low-priority worker may beat late).
DEAD_AFTER_SECONDS = 60.0
BLOCK_MS = 1000
DEFAULT_CAPACITY = 256

COMMANDS_TAKEN = Counter("phonebot_commands_taken_total", "Acked commands a command worker took", ["outcome"])


def worker_name() -> str:
    """This process's consumer name: host and pid (a restarted worker is a new one)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}"


class CommandWorker:
    """Consumes the command queue until ``stop`` is set."""

    def __init__(
        self,
        queue: RedisCommandQueue,
        run: Callable[[DeferredCommand], Awaitable[None]],
        answer_unsure: Callable[[DeferredCommand], Awaitable[None]],
        *,
        name: str | None = None,
        capacity: int = DEFAULT_CAPACITY,
        block_ms: int = BLOCK_MS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.queue = queue
        self._run = run
        self._answer_unsure = answer_unsure
        self.name = name or worker_name()
        self.capacity = capacity
        self.block_ms = block_ms
        self._clock = clock
        self._tasks: set[asyncio.Task[None]] = set()
        self._next_beat = 0.0

    @property
    def in_hand(self) -> int:
        """Commands taken and not yet finished."""
        return len(self._tasks)

    async def run(self, stop: asyncio.Event) -> None:
        """Take and answer commands until ``stop``; then finish those in hand (a supervisor restarts a crash)."""
        await self.queue.ensure_group()
        try:
            while not stop.is_set():
                await self._beat_if_due()
                free = self.capacity - len(self._tasks)
                if free <= 0:
                    await asyncio.wait(self._tasks, timeout=self.block_ms / 1000, return_when=asyncio.FIRST_COMPLETED)
                    continue
                for entry_id, fields in await self.queue.read(self.name, count=free, block_ms=self.block_ms):
                    self._start(self._one(entry_id, fields, taken_over=False))
        finally:
            if self._tasks:
                await asyncio.wait(self._tasks, timeout=30)

    async def _beat_if_due(self) -> None:
        now = self._clock()
        if now < self._next_beat:
            return
        self._next_beat = now + BEAT_SECONDS
        await self.queue.beat(self.name, now)
        for entry_id, fields in await self.queue.take_over_dead(self.name, dead_after=DEAD_AFTER_SECONDS, now=now):
            self._start(self._one(entry_id, fields, taken_over=True))

    def _start(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _one(self, entry_id: str, fields: dict[str, str], *, taken_over: bool) -> None:
        job = DeferredCommand.from_fields(fields)
        outcome = "unreadable"
        try:
            if job is None:
                log.warning("dropped a command queue entry no acking process could have written (%s)", entry_id)
            elif taken_over:
                outcome = "taken_over"
                await self._answer_unsure(job)
            else:
                outcome = "answered"
                await self._run(job)
        except Exception as exc:
            outcome = "failed"
            log.warning("could not answer a %s command (%s)", job.command if job else "queued", type(exc).__name__)
        finally:
            COMMANDS_TAKEN.labels(outcome).inc()
            with contextlib.suppress(Exception):  # Redis away: the entry stays and a later worker answers it unsure
                await self.queue.finish(entry_id)

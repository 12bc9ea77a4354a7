"""Wires the command queue and its workers into a running phonebot: start, stop, ``/readyz``, gauges.

With ``PHONEBOT_COMMAND_WORKERS`` ≥ 1 the work runs in that many child processes
(:mod:`bot.commands.process`), each supervised as ``command-worker-N``; with 0, one worker runs
inside the serving process (still through the durable queue). Either way a worker is ready when it
beats, and the queue is healthy while no command has waited longer than ``max_queued_seconds``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from prometheus_client import Gauge
from redis.exceptions import RedisError

from bot.commands.process import run_worker_process
from bot.commands.queue import RedisCommandQueue
from bot.commands.worker import DEAD_AFTER_SECONDS, CommandWorker
from bot.config import PhonebotConfig, Settings
from bot.supervisor import Supervisor

COMMAND_BACKLOG = Gauge("phonebot_command_backlog", "Acked slash commands queued or in a worker's hands")
COMMAND_OLDEST = Gauge("phonebot_command_oldest_seconds", "Seconds the oldest outstanding slash command has waited")
GAUGE_SECONDS = 5.0
IN_PROCESS_TASK = "command-worker"


class CommandService:
    """The acking process's side of the command queue."""

    def __init__(
        self,
        queue: RedisCommandQueue,
        settings: Settings,
        config: PhonebotConfig,
        *,
        in_process: CommandWorker | None = None,
    ) -> None:
        self.queue = queue
        self.settings = settings
        self.config = config
        self.in_process = in_process
        self._stop = asyncio.Event()
        self.supervisor = Supervisor(self._stop)

    @property
    def task_names(self) -> list[str]:
        """The supervised tasks that run the workers."""
        if self.in_process is not None:
            return [IN_PROCESS_TASK]
        return [f"command-worker-{index}" for index in range(1, self.settings.phonebot_command_workers + 1)]

    async def start(self) -> None:
        """Create the queue if needed and start the workers (and the gauges)."""
        self._stop.clear()
        with contextlib.suppress(RedisError, OSError):  # Redis away at start: the workers create it later
            await self.queue.ensure_group()
        if self.in_process is not None:
            worker = self.in_process
            self.supervisor.start(IN_PROCESS_TASK, lambda: worker.run(self._stop))
        else:
            nice = self.settings.phonebot_command_worker_nice
            for index, name in enumerate(self.task_names, start=1):
                self.supervisor.start(name, self._process_runner(nice, index))
        self.supervisor.start("command-queue-gauges", self._refresh_gauges)

    def _process_runner(self, nice: int, index: int) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            await run_worker_process(self.settings, self.config, nice=nice, index=index)

        return run

    async def workers_problem(self) -> str | None:
        """``/readyz``: ``None`` while at least one worker beats."""
        down = [name for name in self.task_names if not self.supervisor.running(name)]
        if len(down) == len(self.task_names):
            return "not running (restarting after a crash)" if not self._stop.is_set() else "stopped"
        if await self.queue.alive(within=DEAD_AFTER_SECONDS / 4) == 0:
            return "no command worker has checked in yet (starting, or stuck)"
        return None

    async def backlog_problem(self) -> str | None:
        """``/readyz``: ``None`` unless a command has waited longer than ``max_queued_seconds``."""
        backlog = await self.queue.backlog()
        COMMAND_BACKLOG.set(backlog.depth)
        COMMAND_OLDEST.set(backlog.oldest_age_seconds)
        if backlog.oldest_age_seconds > self.config.max_queued_seconds:
            return f"oldest of {backlog.depth} command(s) waiting {backlog.oldest_age_seconds:.0f} s"
        return None

    async def _refresh_gauges(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(RedisError, OSError):
                await self.backlog_problem()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=GAUGE_SECONDS)

    async def stop(self) -> None:
        """Stop the workers: child processes are asked to finish what they hold; the in-process one too."""
        await self.supervisor.stop(cancel=[name for name in self.task_names if self.in_process is None], timeout=15)

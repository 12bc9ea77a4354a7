"""Background tasks that cannot die quietly.

Each long-running part of a process (the alert worker, the poller, the webhook sync at start…)
runs under a :class:`Supervisor`: when it raises, the crash is logged with its traceback,
counted in ``phonebot_task_restarts_total{task}``, and the task is started again after a pause
that doubles from ``first_delay`` up to ``max_delay`` (and starts over once a run lasted
``healthy_after`` seconds). A task that returns has finished its work and is not restarted.
``phonebot_task_running{task}`` is 1 while a task runs, 0 while it waits to restart or is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable

from bot.metrics import TASK_RESTARTS, TASK_RUNNING

log = logging.getLogger(__name__)


class Supervisor:
    """Runs named coroutines, restarting each one that crashes, until ``stop`` is set."""

    def __init__(
        self,
        stop: asyncio.Event,
        *,
        first_delay: float = 0.5,
        max_delay: float = 60.0,
        healthy_after: float = 60.0,
    ) -> None:
        self.stop_event = stop
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.healthy_after = healthy_after
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._running: set[str] = set()

    def start(self, name: str, run: Callable[[], Awaitable[None]]) -> None:
        """Run ``run()`` as the task ``name``, and again whenever it raises (until stopped)."""
        if name in self._tasks and not self._tasks[name].done():
            raise ValueError(f"task {name} is already supervised")
        TASK_RESTARTS.labels(name)  # the series exists (at 0) before the first crash
        self._tasks[name] = asyncio.create_task(self._supervise(name, run), name=name)

    def running(self, name: str) -> bool:
        """``True`` while the task ``name`` is running (not waiting to restart, not finished)."""
        return name in self._running

    def supervised(self, name: str) -> bool:
        """``True`` when a task ``name`` was started here."""
        return name in self._tasks

    async def stop(self, *, cancel: Iterable[str] = (), timeout: float = 5.0) -> None:
        """Set ``stop``, cancel the tasks named in ``cancel``, and wait up to ``timeout`` s for each task."""
        self.stop_event.set()
        doomed = set(cancel)
        for name, task in self._tasks.items():
            if name in doomed:
                task.cancel()
        for task in self._tasks.values():
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=timeout)
        self._tasks.clear()

    async def _supervise(self, name: str, run: Callable[[], Awaitable[None]]) -> None:
        delay = self.first_delay
        while not self.stop_event.is_set():
            started = time.monotonic()
            self._set_running(name, True)
            try:
                await run()
                return  # done with its work (or told to stop)
            except Exception:
                if time.monotonic() - started >= self.healthy_after:
                    delay = self.first_delay  # it ran well for a while: this is a fresh crash
                TASK_RESTARTS.labels(name).inc()
                log.exception("background task %s crashed; restarting in %.1f s", name, delay)
            finally:
                self._set_running(name, False)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop_event.wait(), timeout=delay)
            delay = min(delay * 2, self.max_delay)

    def _set_running(self, name: str, running: bool) -> None:
        if running:
            self._running.add(name)
        else:
            self._running.discard(name)
        TASK_RUNNING.labels(name).set(1 if running else 0)

"""Publish a person's App Home again when something it shows changed, at most once per refresh period.

A change (a presence set, a queue toggle, a call placed) asks for a refresh of that person's Home with a
``publish`` callable; the newest one asked for wins. A supervised task publishes each pending Home once its
period since the last publish (an open counts) is over, so a burst of changes is one ``views.publish``.
Pending refreshes are in memory and bounded: a lost one only means the Home is refreshed on its next open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from bot.supervisor import Supervisor

log = logging.getLogger(__name__)

Publish = Callable[[], Awaitable[None]]
TASK = "home-refresh"
#: People whose Home waits to be published again, at most (more are dropped until the next open).
MAX_PENDING = 2000
#: Homes published at once, and how long one may take.
CONCURRENCY = 4
PUBLISH_TIMEOUT_SECONDS = 10.0


class HomeRefresher:
    """Debounced App Home publishes, per person (a key naming workspace and user)."""

    def __init__(self, period: float, *, max_pending: int = MAX_PENDING) -> None:
        self.period = period
        self.max_pending = max_pending
        self.clock: Callable[[], float] = time.monotonic
        self._pending: dict[str, Publish] = {}
        self._last: dict[str, float] = {}
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self.supervisor = Supervisor(self._stop)

    def request(self, key: str, publish: Publish) -> None:
        """Ask for ``key``'s Home to be published again with ``publish`` (never blocks, never raises)."""
        if key not in self._pending and len(self._pending) >= self.max_pending:
            log.warning("too many App Home refreshes pending; this one waits for the next open")
            return
        self._pending[key] = publish
        self._wake.set()

    def published(self, key: str) -> None:
        """``key``'s Home was just published (it was opened): the next refresh waits a full period."""
        self._last[key] = self.clock()

    def pending(self, key: str) -> bool:
        """Whether a refresh of ``key``'s Home is waiting."""
        return key in self._pending

    async def start(self) -> None:
        """Start the supervised publishing task."""
        self._stop.clear()
        self.supervisor.start(TASK, self._run)

    async def stop(self) -> None:
        """Stop the task; pending refreshes are dropped (the next open publishes)."""
        await self.supervisor.stop(cancel=[TASK])

    def running(self) -> bool:
        """Whether the publishing task runs (for ``/readyz``)."""
        return self.supervisor.running(TASK)

    async def pass_once(self) -> float | None:
        """Publish the Homes that are due; seconds until the next one is (``None``: none waits)."""
        now = self.clock()
        self._forget_old(now)
        due = [key for key in self._pending if self._last.get(key, -self.period) + self.period <= now][:CONCURRENCY]
        jobs = [(key, self._pending.pop(key)) for key in due]
        for key, _ in jobs:
            self._last[key] = now  # before publishing: a change during the publish waits its period
        await asyncio.gather(*(self._publish(key, publish) for key, publish in jobs))
        if not self._pending:
            return None
        now = self.clock()
        return max(0.0, min(self._last.get(key, -self.period) + self.period for key in self._pending) - now)

    async def _publish(self, key: str, publish: Publish) -> None:
        try:
            async with asyncio.timeout(PUBLISH_TIMEOUT_SECONDS):
                await publish()
        except Exception as exc:  # one person's Home never stops the others'
            log.warning("publishing an App Home again failed (%s)", type(exc).__name__)

    def _forget_old(self, now: float) -> None:
        old = [key for key, at in self._last.items() if at + self.period <= now and key not in self._pending]
        for key in old:
            del self._last[key]

    async def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            wait = await self.pass_once()
            if wait == 0:
                continue
            stop = asyncio.ensure_future(self._stop.wait())
            wake = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait({stop, wake}, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in (stop, wake):
                    waiter.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await waiter

"""A per-process bound on the vendor work commands and buttons do after their ack.

A burst of slash commands must not turn into an unbounded pile of concurrent vendor
requests: at most ``limit`` pieces of work run at once, the rest wait their turn in
arrival order (``asyncio.Semaphore`` is FIFO), and work that waits longer than
``max_wait`` is refused with a kind answer instead of running long after the user gave up.
Work in a slot is *interactive* (:func:`adapters.http.interactive`): its vendor requests can
use all but a few of a vendor client's connections, so the alert poller always finds free ones
during a burst, and identical reads in flight share one request — so the limit is about how
many commands may wait on vendors at once, not about vendor connections.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from prometheus_client import Counter, Gauge

from adapters.http import interactive

WORK_RUNNING = Gauge("phonebot_work_running", "Command and button work running after its ack")
WORK_QUEUED = Gauge("phonebot_work_queued", "Command and button work waiting for a free slot")
WORK_REFUSED = Counter("phonebot_work_refused_total", "Command and button work refused after waiting too long")

DEFAULT_MAX_CONCURRENT_WORK = 256
DEFAULT_MAX_QUEUED_SECONDS = 60.0


class WorkBusy(Exception):
    """The work waited longer than ``max_wait`` for a free slot and was not started."""


class WorkLimiter:
    """At most ``limit`` pieces of work at once; the rest queue, at most ``max_wait`` seconds each."""

    def __init__(self, limit: int = DEFAULT_MAX_CONCURRENT_WORK, *, max_wait: float = DEFAULT_MAX_QUEUED_SECONDS):
        self.limit = limit
        self.max_wait = max_wait
        self.running = 0
        self.queued = 0
        self._slots = asyncio.Semaphore(limit)

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one slot for the body; raises :class:`WorkBusy` when none came free in time."""
        self.queued += 1
        WORK_QUEUED.inc()
        try:
            async with asyncio.timeout(self.max_wait):
                await self._slots.acquire()
        except TimeoutError:
            WORK_REFUSED.inc()
            raise WorkBusy(f"no free slot within {self.max_wait:g} s") from None
        finally:
            self.queued -= 1
            WORK_QUEUED.dec()
        self.running += 1
        WORK_RUNNING.inc()
        try:
            with interactive():
                yield
        finally:
            self.running -= 1
            WORK_RUNNING.dec()
            self._slots.release()

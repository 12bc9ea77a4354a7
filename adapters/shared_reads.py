"""Single flight for vendor reads: identical GETs in flight at once share one request.

A burst of ``/queue status`` from a team asks the vendor the same questions many times a
second. Each one waiting on its own identical request costs a pool slot and CPU for an answer
no fresher than the one already on its way, so a read joins an identical read in flight
(same method, path, query and credentials) and gets its response. Nothing is kept once the
request is done: a read never sees an answer that started before any write this client sent
(a write moves the generation on, so later reads start their own request).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar, cast

from prometheus_client import Counter

T = TypeVar("T")

SHARED_READS = Counter(
    "phonebot_vendor_reads_shared_total",
    "Vendor reads answered by an identical read already in flight (no request of their own)",
    ["vendor"],
)


class SharedReads:
    """Runs each distinct read once at a time; callers asking the same meanwhile share its outcome."""

    def __init__(self, vendor: str) -> None:
        self.vendor = vendor
        self._generation = 0
        self._flights: dict[Hashable, asyncio.Future[Any]] = {}

    @property
    def in_flight(self) -> int:
        """Distinct reads on their way now."""
        return len(self._flights)

    def wrote(self) -> None:
        """A write was sent: reads from now on don't join reads that started before it."""
        self._generation += 1

    async def run(self, key: Hashable, read: Callable[[], Awaitable[T]]) -> T:
        """``read()``'s outcome, shared with every caller that asks for ``key`` while it runs.

        The read runs in its own task: a caller that is cancelled stops waiting, the others
        still get the answer.
        """
        flight_key = (self._generation, key)
        flight = self._flights.get(flight_key)
        if flight is None:
            flight = asyncio.ensure_future(read())
            self._flights[flight_key] = flight
            flight.add_done_callback(lambda done: self._landed(flight_key, done))
        else:
            SHARED_READS.labels(self.vendor).inc()
        return cast(T, await asyncio.shield(flight))

    def _landed(self, key: Hashable, flight: asyncio.Future[Any]) -> None:
        self._flights.pop(key, None)
        if not flight.cancelled():
            flight.exception()  # retrieved, so a read whose callers all left logs no warning

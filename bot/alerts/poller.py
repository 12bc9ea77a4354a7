"""The poll loop: vendors that cannot push alerts are asked for them, and queues are checked against thresholds.

Every ``alerts.poll_interval_seconds``, for each vendor:

1. adapters declaring ``ALERT_POLLING``: ``poll_alerts(cursor, now=...)`` with the cursor
   persisted last time (``None`` on the very first run, so old items are not alerted);
2. adapters declaring ``QUEUE_STATUS``, when ``alerts.queue_thresholds`` apply to the vendor:
   ``queue_status(service_identity())`` evaluated by :mod:`bot.alerts.thresholds`.

Delivery is at least once. The events of a round are submitted to the :class:`EventSink` in
order, and the new cursor (or threshold state) is written to the store only after the last
``submit`` returned, i.e. once every event is durable. A crash or a sink failure in between
leaves the old cursor in place, so the next round polls the same items again and the sink
drops the events it already has by their idempotency keys. A cursor is never saved ahead of
its events, so nothing is lost; the price is a re-poll after a crash.

Failures stay with their vendor: a :class:`~adapters.errors.VendorError` (or anything else)
is logged without secrets and retried next round, with exponential backoff after repeated
failures (capped at :data:`MAX_BACKOFF_SECONDS`, longer if the vendor sent ``Retry-After``).
The loop itself never dies. A 404 from a poll switches that capability off for an hour with
one warning (:mod:`bot.alerts.capability_gate`) instead of failing every round.

With several replicas only one polls a vendor at a time: each round a replica takes or renews
a lease ``poll:lease:<vendor>`` in the store (``set_if_absent`` with a TTL of two intervals)
and skips the vendor while another replica holds it. A replica that dies stops renewing, and
another one takes over within two intervals. The renewal is check-then-set (the store has no
compare-and-set), which is safe because renewals happen long before the TTL runs out; should
a round outlast the lease, two replicas may briefly poll the same vendor, which the
idempotency keys make harmless.

Store keys (JSON values): ``poll:cursor:<vendor>``, ``poll:thresholds:<vendor>``,
``poll:lease:<vendor>`` (the owner id).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import Counter

from adapters.base import VendorAdapter
from adapters.errors import NotFound, VendorError, VendorRateLimited
from adapters.events import AlertEvent
from adapters.models import Capability
from bot.alerts.capability_gate import CapabilityGate
from bot.alerts.sink import EventSink
from bot.alerts.thresholds import evaluate, thresholds_for
from bot.config import AlertSettings
from bot.metrics import ALERT_EVENTS
from bot.store import Store

log = logging.getLogger(__name__)

#: The longest pause between two attempts at a vendor that keeps failing.
MAX_BACKOFF_SECONDS = 600.0

POLLS = Counter(
    "phonebot_alert_polls_total",
    "Alert poll rounds per vendor (ok, failed, backoff: skipped after failures, elsewhere: another replica polls)",
    ["vendor", "outcome"],
)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def cursor_key(vendor: str) -> str:
    """Where ``vendor``'s ``poll_alerts`` cursor is kept."""
    return f"poll:cursor:{vendor}"


def thresholds_key(vendor: str) -> str:
    """Where ``vendor``'s queue-threshold state is kept."""
    return f"poll:thresholds:{vendor}"


def lease_key(vendor: str) -> str:
    """The lease naming the replica that polls ``vendor``."""
    return f"poll:lease:{vendor}"


@dataclass
class _Backoff:
    failures: int = 0
    next_at: datetime | None = None


class AlertPoller:
    """Polls every adapter that can be polled; see the module docstring for the guarantees.

    Args:
        adapters: the configured adapters by vendor name.
        store: where cursors, threshold state and leases live (shared by the replicas).
        sink: where events go (the durable alert queue).
        settings: the ``alerts:`` section (interval and queue thresholds).
        clock: the current time, aware (tests move it).
        owner_id: this replica's name in the leases; unique per process.
    """

    def __init__(
        self,
        adapters: Mapping[str, VendorAdapter],
        store: Store,
        sink: EventSink,
        settings: AlertSettings,
        *,
        clock: Callable[[], datetime] = _utcnow,
        owner_id: str,
    ) -> None:
        self.adapters = adapters
        self.store = store
        self.sink = sink
        self.settings = settings
        self.clock = clock
        self.owner_id = owner_id
        self._backoff: dict[str, _Backoff] = {}
        #: Polled capabilities the vendor answered 404 for, switched off for a while.
        self.gate = CapabilityGate()

    @property
    def interval(self) -> float:
        """Seconds between rounds."""
        return float(self.settings.poll_interval_seconds)

    @property
    def lease_seconds(self) -> float:
        """How long a lease outlives its last renewal."""
        return 2 * self.interval

    def pollable(self) -> list[str]:
        """The vendors this poller has work for."""
        return [
            vendor
            for vendor, adapter in self.adapters.items()
            if self._wants_alerts(adapter) or self._wants_queues(vendor, adapter)
        ]

    async def run_once(self) -> int:
        """One round over every vendor, concurrently; returns how many events were submitted.

        Never raises for a vendor's failure; the vendor is retried in a later round.
        """
        counts = await asyncio.gather(*(self._round(vendor) for vendor in self.pollable()))
        return sum(counts)

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Poll every interval until ``stop`` is set, then hand the leases back."""
        if not self.pollable():
            return
        log.info("alert poller %s: every %g s for %s", self.owner_id, self.interval, ", ".join(self.pollable()))
        try:
            while not stop.is_set():
                try:
                    await self.run_once()
                except Exception as exc:  # the loop must outlive anything a round throws
                    log.error("alert poll round failed: %s", type(exc).__name__, exc_info=_debug())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.interval)
        finally:
            await self.release()

    async def release(self) -> None:
        """Give up the leases this replica holds, so another replica takes over at once."""
        for vendor in self.pollable():
            with contextlib.suppress(Exception):
                if await self.store.get(lease_key(vendor)) == self.owner_id:
                    await self.store.delete(lease_key(vendor))

    # -- one vendor -----------------------------------------------------------------------
    async def _round(self, vendor: str) -> int:
        adapter = self.adapters[vendor]
        try:
            if not await self._hold_lease(vendor):
                POLLS.labels(vendor, "elsewhere").inc()
                return 0
        except Exception as exc:  # store down: nobody can poll safely, try again next round
            log.warning("alert poll %s skipped: lease store unavailable (%s)", vendor, type(exc).__name__)
            POLLS.labels(vendor, "failed").inc()
            return 0
        now = self.clock()
        backoff = self._backoff.setdefault(vendor, _Backoff())
        if backoff.next_at is not None and now < backoff.next_at:
            POLLS.labels(vendor, "backoff").inc()
            return 0
        submitted = 0
        failure: Exception | None = None
        steps: list[tuple[Capability, Callable[[str, VendorAdapter, datetime], Awaitable[int]]]] = []
        if self._wants_alerts(adapter):
            steps.append((Capability.ALERT_POLLING, self._poll_alerts))
        if self._wants_queues(vendor, adapter):
            steps.append((Capability.QUEUE_STATUS, self._check_queues))
        for capability, step in steps:  # independent: a failing alert poll does not stop the queue check
            if self.gate.is_off(vendor, capability, now):
                continue
            try:
                submitted += await step(vendor, adapter, now)
            except NotFound:
                self.gate.not_found(vendor, adapter.display_name, capability, now)
            except Exception as exc:
                failure = exc
                self._log_failure(vendor, exc)
            else:
                self.gate.worked(vendor, adapter.display_name, capability)
        if failure is None:
            self._backoff[vendor] = _Backoff()
            POLLS.labels(vendor, "ok").inc()
        else:
            self._failed(vendor, backoff, failure, now)
            POLLS.labels(vendor, "failed").inc()
        return submitted

    async def _poll_alerts(self, vendor: str, adapter: VendorAdapter, now: datetime) -> int:
        cursor = await self._load(cursor_key(vendor))
        result = await adapter.poll_alerts(cursor, now=now)
        await self._submit(vendor, result.events)
        if cursor is None or result.cursor != cursor:
            await self.store.set(cursor_key(vendor), json.dumps(result.cursor))
        return len(result.events)

    async def _check_queues(self, vendor: str, adapter: VendorAdapter, now: datetime) -> int:
        queues = await adapter.queue_status(adapter.service_identity())
        state = await self._load(thresholds_key(vendor))
        events, new_state = evaluate(self.settings.queue_thresholds, vendor, queues, now=now, state=state)
        await self._submit(vendor, events)
        if new_state != (state or {}):
            await self.store.set(thresholds_key(vendor), json.dumps(new_state))
        return len(events)

    async def _submit(self, vendor: str, events: list[AlertEvent]) -> None:
        for event in events:  # in order: a later event may update what an earlier one opened
            fresh = await self.sink.submit(event)
            ALERT_EVENTS.labels(vendor, "queued" if fresh else "duplicate").inc()

    async def _load(self, key: str) -> dict[str, Any] | None:
        raw = await self.store.get(key)
        if raw is None:
            return None
        try:
            value = json.loads(raw)
        except ValueError:
            value = None
        if not isinstance(value, dict):
            log.warning("%s is unreadable; starting afresh", key)
            return None
        return value

    async def _hold_lease(self, vendor: str) -> bool:
        key = lease_key(vendor)
        if await self.store.set_if_absent(key, self.owner_id, ttl=self.lease_seconds):
            return True
        if await self.store.get(key) != self.owner_id:
            return False
        await self.store.set(key, self.owner_id, ttl=self.lease_seconds)
        return True

    # -- failures -------------------------------------------------------------------------
    def _failed(self, vendor: str, backoff: _Backoff, exc: Exception, now: datetime) -> None:
        backoff.failures += 1
        # The first failure is retried next round; each further one doubles the pause.
        delay = min(self.interval * 2 ** (backoff.failures - 1), max(MAX_BACKOFF_SECONDS, self.interval))
        if isinstance(exc, VendorRateLimited) and exc.retry_after:
            delay = max(delay, exc.retry_after)
        # Half an interval early, so the round that falls due is not skipped by clock jitter.
        backoff.next_at = now + timedelta(seconds=delay - self.interval / 2)
        if backoff.failures > 1:
            log.info("alert poll %s: %d failures in a row, next try in %.0f s", vendor, backoff.failures, delay)

    def _log_failure(self, vendor: str, exc: Exception) -> None:
        if isinstance(exc, VendorError):
            log.warning("alert poll %s failed: %s", vendor, exc.message)  # adapter messages carry no secrets
        else:
            # Other errors may quote payloads or URLs: the type only, the traceback at debug level.
            log.error("alert poll %s failed: %s", vendor, type(exc).__name__, exc_info=_debug())

    # -- what to poll ---------------------------------------------------------------------
    @staticmethod
    def _wants_alerts(adapter: VendorAdapter) -> bool:
        return adapter.supports(Capability.ALERT_POLLING)

    def _wants_queues(self, vendor: str, adapter: VendorAdapter) -> bool:
        return adapter.supports(Capability.QUEUE_STATUS) and bool(
            thresholds_for(self.settings.queue_thresholds, vendor)
        )


def _debug() -> bool:
    return log.isEnabledFor(logging.DEBUG)

"""AlertPoller against the Dstny simulator (queue thresholds) and a polling vendor, on both store backends."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest

from adapters.base import AdapterConfig, VendorAdapter
from adapters.dstny.adapter import DstnyAdapter, DstnyConfig
from adapters.dstny.simulator import DEMO_TOKEN, DstnySimulator
from adapters.errors import VendorRateLimited, VendorUnavailable
from adapters.events import AlertEvent, AlertKind
from adapters.http import RetryPolicy
from adapters.models import Capability, PollResult, VendorIdentity
from adapters.simulation import LoopbackServer
from bot.alerts.poller import MAX_BACKOFF_SECONDS, AlertPoller, cursor_key, lease_key, thresholds_key
from bot.alerts.queue import AlertQueue
from bot.config import AlertSettings, QueueThreshold
from bot.store import MemoryStore, RedisStore, Store
from tests.fakes.clock import SettableClock

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
INTERVAL = 30


class RecordingSink:
    """Keeps what it accepted, drops repeated idempotency keys, can be told to fail.

    Each submit also notes the cursor stored at that moment, to prove it is saved only afterwards.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.accepted: list[AlertEvent] = []
        self.duplicates: list[AlertEvent] = []
        self.cursors_seen: list[str | None] = []
        self.fail_on: set[int] = set()  # 1-based submit numbers that raise
        self.submits = 0

    async def submit(self, event: AlertEvent) -> bool:
        self.submits += 1
        if self.submits in self.fail_on:
            raise ConnectionError("queue unavailable")
        self.cursors_seen.append(await self.store.get(cursor_key(event.vendor)))
        if any(e.idempotency_key == event.idempotency_key for e in self.accepted):
            self.duplicates.append(event)
            return False
        self.accepted.append(event)
        return True


class FakeCallLog(AdapterConfig):
    pass


@dataclass
class Missed:
    id: int
    caller: str


@dataclass
class CallLogVendor:
    """The vendor side of the polling adapter: a missed-call log, and faults."""

    missed: list[Missed] = field(default_factory=list)
    fail: Exception | None = None
    polls: int = 0

    def add(self, caller: str) -> None:
        self.missed.append(Missed(len(self.missed) + 1, caller))


class CallLogAdapter(VendorAdapter):
    """A vendor that can only be polled: lost calls from a call log with increasing ids."""

    name = "calllog"
    display_name = "Call Log"
    config_model = FakeCallLog
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.ALERT_POLLING})

    def __init__(self, vendor: CallLogVendor) -> None:
        super().__init__(FakeCallLog(base_url="http://127.0.0.1:1"))
        self.vendor = vendor

    async def aclose(self) -> None:
        return None

    def service_identity(self) -> VendorIdentity:
        return VendorIdentity(vendor=self.name, user_id="service")

    async def poll_alerts(self, cursor: Mapping[str, Any] | None, *, now: datetime) -> PollResult:
        self.vendor.polls += 1
        if self.vendor.fail is not None:
            raise self.vendor.fail
        last = max((m.id for m in self.vendor.missed), default=0)
        if cursor is None:
            return PollResult(cursor={"after": last})
        new = [m for m in self.vendor.missed if m.id > int(cursor["after"])]
        events = [
            AlertEvent(
                kind=AlertKind.LOST_CALL_OPENED,
                vendor=self.name,
                subject=f"lost:{m.caller}:+4570000000",
                idempotency_key=f"calllog:{m.id}",
                occurred_at=now,
                caller_number=m.caller,
                line="+4570000000",
                attempts=1,
            )
            for m in new
        ]
        return PollResult(events=events, cursor={"after": last})


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    backend: Store = MemoryStore() if request.param == "memory" else RedisStore(request.getfixturevalue("redis_url"))
    yield backend
    await backend.close()


@pytest.fixture
def dstny_sim() -> Iterator[tuple[DstnySimulator, str]]:
    sim = DstnySimulator()
    with LoopbackServer(sim.build_app()) as server:
        yield sim, server.url


@pytest.fixture
async def dstny(dstny_sim: tuple[DstnySimulator, str]) -> AsyncIterator[DstnyAdapter]:
    config = DstnyConfig(base_url=dstny_sim[1], token=DEMO_TOKEN, domain="example.com", user="phonebot")
    adapter = DstnyAdapter(config, retry=RetryPolicy(attempts=1))
    yield adapter
    await adapter.aclose()


@pytest.fixture
def calllog() -> CallLogVendor:
    return CallLogVendor()


def settings(*thresholds: QueueThreshold, interval: float = INTERVAL) -> AlertSettings:
    return AlertSettings(queue_thresholds=list(thresholds)).model_copy(update={"poll_interval_seconds": interval})


SUPPORT_LIMIT = QueueThreshold(group="Support", calls_waiting=3, min_duration_seconds=30)


def make_poller(
    adapters: Mapping[str, VendorAdapter],
    store: Store,
    sink: Any,
    alert_settings: AlertSettings | None = None,
    *,
    clock: SettableClock | None = None,
    owner: str = "replica-a",
) -> AlertPoller:
    return AlertPoller(
        adapters, store, sink, alert_settings or settings(), clock=clock or SettableClock(T0), owner_id=owner
    )


# -- polled alerts ----------------------------------------------------------------------------


async def test_first_round_remembers_the_present_then_alerts_on_new_items(store: Store, calllog: CallLogVendor) -> None:
    calllog.add("+4511111111")  # happened before phonebot started: never alerted
    sink = RecordingSink(store)
    poller = make_poller({"calllog": CallLogAdapter(calllog)}, store, sink)
    assert await poller.run_once() == 0
    assert json.loads(await store.get(cursor_key("calllog")) or "") == {"after": 1}

    calllog.add("+4522222222")
    calllog.add("+4533333333")
    assert await poller.run_once() == 2
    assert [e.caller_number for e in sink.accepted] == ["+4522222222", "+4533333333"]  # in order
    # Both events were submitted while the old cursor was still stored; the new one came after.
    assert sink.cursors_seen == ['{"after": 1}', '{"after": 1}']
    assert json.loads(await store.get(cursor_key("calllog")) or "") == {"after": 3}
    assert await poller.run_once() == 0


async def test_sink_failure_keeps_the_cursor_and_the_next_round_delivers_the_rest(
    store: Store, calllog: CallLogVendor
) -> None:
    sink = RecordingSink(store)
    clock = SettableClock(T0)
    poller = make_poller({"calllog": CallLogAdapter(calllog)}, store, sink, clock=clock)
    await poller.run_once()
    calllog.add("+4522222222")
    calllog.add("+4533333333")
    sink.fail_on = {2}  # the second event is not durable
    assert await poller.run_once() == 0
    assert [e.caller_number for e in sink.accepted] == ["+4522222222"]
    assert json.loads(await store.get(cursor_key("calllog")) or "") == {"after": 0}  # not advanced

    clock.advance(INTERVAL)
    assert await poller.run_once() == 2  # re-polled: the first is a duplicate, the second is new
    assert [e.caller_number for e in sink.accepted] == ["+4522222222", "+4533333333"]
    assert [e.caller_number for e in sink.duplicates] == ["+4522222222"]
    assert json.loads(await store.get(cursor_key("calllog")) or "") == {"after": 2}


async def test_crash_before_the_cursor_is_saved_is_deduplicated_by_the_real_queue(
    store: Store, calllog: CallLogVendor
) -> None:
    assert isinstance(store, RedisStore)
    queue = AlertQueue(store.client)
    poller = make_poller({"calllog": CallLogAdapter(calllog)}, store, queue)
    await poller.run_once()
    before_crash = await store.get(cursor_key("calllog"))
    calllog.add("+4522222222")
    assert await poller.run_once() == 1
    await store.set(cursor_key("calllog"), before_crash or "")  # as if the process died before saving it
    assert await poller.run_once() == 1  # submitted again ...
    assert await store.client.xlen(queue.keys.stream) == 1  # ... and dropped by its idempotency key


async def test_unreadable_cursor_starts_afresh(store: Store, calllog: CallLogVendor) -> None:
    await store.set(cursor_key("calllog"), "not json")
    calllog.add("+4511111111")
    poller = make_poller({"calllog": CallLogAdapter(calllog)}, store, RecordingSink(store))
    assert await poller.run_once() == 0  # treated as a first run: nothing old is alerted
    assert json.loads(await store.get(cursor_key("calllog")) or "") == {"after": 1}


# -- queue thresholds (Dstny simulator over HTTP) ---------------------------------------------


async def test_queue_threshold_breach_and_recovery_from_the_simulator(
    store: Store, dstny: DstnyAdapter, dstny_sim: tuple[DstnySimulator, str]
) -> None:
    sim = dstny_sim[0]
    sink = RecordingSink(store)
    clock = SettableClock(T0)
    poller = make_poller({"dstny": dstny}, store, sink, settings(SUPPORT_LIMIT), clock=clock)
    assert poller.pollable() == ["dstny"]
    assert await poller.run_once() == 0  # Support has 2 waiting: fine

    sim.groups[35].calls_in_queue = 5
    assert await poller.run_once() == 0  # breach seen, must last 30 s
    state = json.loads(await store.get(thresholds_key("dstny")) or "")
    assert state["queues"]["35"]["status"] == "pending"
    clock.advance(30)
    assert await poller.run_once() == 1
    [breach] = sink.accepted
    assert (breach.kind, breach.vendor, breach.subject, breach.line) == (
        AlertKind.QUEUE_BREACHED,
        "dstny",
        "queue:35",
        "Support",
    )
    assert breach.text == "Support: 5 calls waiting (limit 3), longest wait 1m 35s, 1 agent free"
    assert breach.detail["agents_logged_in"] == 2

    sim.groups[35].calls_in_queue = 0
    clock.advance(30)
    assert await poller.run_once() == 0  # recovering
    clock.advance(30)
    assert await poller.run_once() == 1
    assert sink.accepted[-1].kind is AlertKind.QUEUE_RECOVERED
    assert json.loads(await store.get(thresholds_key("dstny")) or "") == {"version": 1, "queues": {}}


async def test_threshold_state_is_saved_only_after_its_events_are_queued(
    store: Store, dstny: DstnyAdapter, dstny_sim: tuple[DstnySimulator, str]
) -> None:
    dstny_sim[0].groups[35].calls_in_queue = 5
    sink = RecordingSink(store)
    sink.fail_on = {1}
    at_once = QueueThreshold(group="Support", calls_waiting=3, min_duration_seconds=0)
    clock = SettableClock(T0)
    poller = make_poller({"dstny": dstny}, store, sink, settings(at_once), clock=clock)
    assert await poller.run_once() == 0
    assert await store.get(thresholds_key("dstny")) is None  # the breach was not queued: not remembered
    clock.advance(INTERVAL)
    assert await poller.run_once() == 1
    assert [e.kind for e in sink.accepted] == [AlertKind.QUEUE_BREACHED]
    state = json.loads(await store.get(thresholds_key("dstny")) or "")
    assert state["queues"]["35"]["status"] == "breached"


async def test_queue_status_is_not_fetched_without_thresholds_for_the_vendor(
    store: Store, dstny: DstnyAdapter, dstny_sim: tuple[DstnySimulator, str]
) -> None:
    other_vendor = QueueThreshold(group="*", vendor="relatel", calls_waiting=1)
    poller = make_poller({"dstny": dstny}, store, RecordingSink(store), settings(other_vendor))
    assert await poller.run_once() == 0
    # Dstny is still polled for lost calls and voicemails, but its queues are not read.
    assert not [r for r in dstny_sim[0].requests if "acd-attendant-group" in r.path or "queuestatistics" in r.path]


# -- failures and backoff ---------------------------------------------------------------------


async def test_a_failing_vendor_does_not_stop_the_others_and_backs_off(
    store: Store,
    calllog: CallLogVendor,
    dstny: DstnyAdapter,
    dstny_sim: tuple[DstnySimulator, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    sim = dstny_sim[0]
    sim.groups[35].calls_in_queue = 5
    clock = SettableClock(T0)
    sink = RecordingSink(store)
    limit_now = QueueThreshold(group="Support", calls_waiting=3, min_duration_seconds=0)
    adapters = {"calllog": CallLogAdapter(calllog), "dstny": dstny}
    poller = make_poller(adapters, store, sink, settings(limit_now), clock=clock)
    calllog.fail = VendorUnavailable("Call Log", "Call Log is not answering")
    with caplog.at_level(logging.INFO, logger="bot.alerts.poller"):
        assert await poller.run_once() == 1  # Dstny's breach went through
    assert "Call Log is not answering" in caplog.text
    assert calllog.polls == 1

    # First failure: retried next round. Second in a row: the round after is skipped.
    clock.advance(INTERVAL)
    await poller.run_once()
    assert calllog.polls == 2
    clock.advance(INTERVAL)
    await poller.run_once()
    assert calllog.polls == 2
    clock.advance(INTERVAL)
    await poller.run_once()
    assert calllog.polls == 3

    # The simulator failing too: both fail, nothing raises, nothing is saved.
    sim.set_faults(status=500)
    state_before = await store.get(thresholds_key("dstny"))
    clock.advance(10 * INTERVAL)
    assert await poller.run_once() == 0
    assert await store.get(thresholds_key("dstny")) == state_before
    sim.clear_faults()

    calllog.fail = None
    clock.advance(MAX_BACKOFF_SECONDS)  # the pause never grows beyond the cap
    await poller.run_once()
    assert calllog.polls == 5
    clock.advance(INTERVAL)
    await poller.run_once()  # recovered: polled every round again
    assert calllog.polls == 6


async def test_retry_after_is_honoured(store: Store, calllog: CallLogVendor) -> None:
    clock = SettableClock(T0)
    poller = make_poller({"calllog": CallLogAdapter(calllog)}, store, RecordingSink(store), clock=clock)
    calllog.fail = VendorRateLimited("Call Log", "slow down", retry_after=300)
    await poller.run_once()
    calllog.fail = None
    for _ in range(9):
        clock.advance(INTERVAL)
        await poller.run_once()
    assert calllog.polls == 1  # 270 s: still waiting for the 300 s the vendor asked for
    clock.advance(INTERVAL)
    await poller.run_once()
    assert calllog.polls == 2


async def test_no_secrets_in_logs_when_the_vendor_refuses_the_token(
    store: Store, dstny_sim: tuple[DstnySimulator, str], caplog: pytest.LogCaptureFixture
) -> None:
    config = DstnyConfig(base_url=dstny_sim[1], token="secret-wrong-ticket", domain="example.com", user="phonebot")
    adapter = DstnyAdapter(config, retry=RetryPolicy(attempts=1))
    poller = make_poller({"dstny": adapter}, store, RecordingSink(store), settings(SUPPORT_LIMIT))
    with caplog.at_level(logging.DEBUG, logger="bot.alerts.poller"):
        assert await poller.run_once() == 0
    await adapter.aclose()
    assert "alert poll dstny failed" in caplog.text
    assert "secret-wrong-ticket" not in caplog.text


# -- replicas ---------------------------------------------------------------------------------


async def test_lease_lets_one_replica_poll_a_vendor(store: Store, calllog: CallLogVendor) -> None:
    adapters = {"calllog": CallLogAdapter(calllog)}
    a = make_poller(adapters, store, RecordingSink(store), owner="replica-a")
    b = make_poller(adapters, store, RecordingSink(store), owner="replica-b")
    await asyncio.gather(a.run_once(), b.run_once())
    assert calllog.polls == 1
    holder = await store.get(lease_key("calllog"))
    assert holder in {"replica-a", "replica-b"}
    first, second = (a, b) if holder == "replica-a" else (b, a)

    await second.run_once()
    assert calllog.polls == 1  # skipped: the other replica holds the lease
    await first.run_once()
    assert calllog.polls == 2  # the holder renews and keeps polling
    ttl = await store.ttl(lease_key("calllog"))
    assert ttl is not None and 0 < ttl <= 2 * INTERVAL

    await first.release()  # e.g. on shutdown
    await second.run_once()
    assert calllog.polls == 3
    assert await store.get(lease_key("calllog")) == second.owner_id


async def test_a_dead_replicas_lease_expires(store: Store, calllog: CallLogVendor) -> None:
    adapters = {"calllog": CallLogAdapter(calllog)}
    fast = settings(interval=0.1)  # lease: 0.2 s
    a = make_poller(adapters, store, RecordingSink(store), fast, owner="replica-a")
    b = make_poller(adapters, store, RecordingSink(store), fast, owner="replica-b")
    await a.run_once()
    await b.run_once()
    assert calllog.polls == 1
    await asyncio.sleep(0.3)  # replica-a died and stopped renewing
    await b.run_once()
    assert calllog.polls == 2
    assert await store.get(lease_key("calllog")) == "replica-b"


async def test_run_forever_survives_errors_and_hands_back_the_lease(store: Store, calllog: CallLogVendor) -> None:
    class Flaky(CallLogAdapter):
        async def poll_alerts(self, cursor: Mapping[str, Any] | None, *, now: datetime) -> PollResult:
            if self.vendor.polls < 2:
                self.vendor.polls += 1
                raise KeyError("a bug, not a VendorError")
            return await super().poll_alerts(cursor, now=now)

    await store.set(cursor_key("calllog"), json.dumps({"after": 0}))
    calllog.add("+4522222222")
    sink = RecordingSink(store)
    clock = SettableClock(T0)
    poller = make_poller({"calllog": Flaky(calllog)}, store, sink, settings(interval=0.02), clock=clock)
    stop = asyncio.Event()

    async def tick() -> None:  # the injected clock runs along with real time, faster
        while not stop.is_set():
            clock.advance(0.05)
            await asyncio.sleep(0.01)

    ticker = asyncio.create_task(tick())
    task = asyncio.create_task(poller.run_forever(stop))
    for _ in range(100):
        if sink.accepted:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, timeout=1)
    await ticker
    assert calllog.polls == 3  # two failures, then the event
    assert [e.caller_number for e in sink.accepted] == ["+4522222222"]
    assert await store.get(lease_key("calllog")) is None


# -- a capability the vendor doesn't have (issue 10, point 12) ---------------------------------


async def test_a_404_switches_the_polled_capability_off_with_one_warning_and_rechecks_hourly(
    calllog: CallLogVendor, caplog: pytest.LogCaptureFixture
) -> None:
    from prometheus_client import REGISTRY

    from adapters.errors import NotFound
    from bot.alerts.capability_gate import RECHECK_AFTER

    store = MemoryStore()
    clock = SettableClock(T0)
    poller = make_poller({"calllog": CallLogAdapter(calllog)}, store, RecordingSink(store), clock=clock)
    calllog.fail = NotFound("Call Log", "Call Log has no such item")
    with caplog.at_level(logging.INFO):
        for _ in range(10):
            await poller.run_once()
            clock.now += RECHECK_AFTER / 20
    # Asked once, warned once: not a failure (and a backoff) per round.
    assert calllog.polls == 1
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        "Call Log answered 404 for alerts.polling: switched off until Call Log has the path or licence"
        " (checked again hourly; `phonebot check` shows the row, vendors.calllog.paths can correct a path)"
    ]
    off = {"vendor": "calllog", "capability": "alerts.polling"}
    assert REGISTRY.get_sample_value("phonebot_capability_off", off) == 1
    assert poller.gate.switched_off() == [("calllog", Capability.ALERT_POLLING)]
    # An hour on, it is asked again; once it works it is back on for good.
    calllog.fail = None
    clock.now = T0 + RECHECK_AFTER
    await poller.run_once()
    await poller.run_once()
    assert calllog.polls == 3
    assert poller.gate.switched_off() == []
    assert REGISTRY.get_sample_value("phonebot_capability_off", off) == 0

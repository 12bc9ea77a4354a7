"""``AlertService.sync_webhooks``: two replicas starting together subscribe once, through one lock in the store."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from adapters.simulation import LoopbackServer
from adapters.tele2.adapter import Tele2Adapter, Tele2Config
from adapters.tele2.simulator import API_KEY, Tele2Simulator
from bot.alerts.service import WEBHOOK_LOCK_KEY, AlertService
from bot.config import Settings, parse_config
from bot.store import MemoryStore

PUBLIC = "https://phonebot.example"


@pytest.fixture
def sim() -> Iterator[tuple[Tele2Simulator, LoopbackServer]]:
    simulator = Tele2Simulator()  # the documented API: no GET /webhooks
    with LoopbackServer(simulator.build_app()) as server:
        yield simulator, server


def replica(store: MemoryStore, server: LoopbackServer) -> AlertService:
    settings = Settings(phonebot_webhook_secret="unit-test-webhook-secret-0123456789")
    config = parse_config({}, source="t", env={})
    adapter = Tele2Adapter(Tele2Config(base_url=server.url + "/api/v2/", api_key=API_KEY))
    return AlertService(settings, config, store, store.client, {"tele2": adapter}, "http://127.0.0.1:9/api/")


async def test_two_replicas_starting_together_subscribe_once(sim: tuple[Tele2Simulator, LoopbackServer]) -> None:
    simulator, server = sim
    store = MemoryStore()  # one Redis for both replicas
    first, second = replica(store, server), replica(store, server)
    try:
        results = await asyncio.gather(first.sync_webhooks(PUBLIC), second.sync_webhooks(PUBLIC))
    finally:
        for service in (first, second):
            await service.adapters["tele2"].aclose()
    ours = [w for w in simulator.subscriptions() if w["endpoint"].startswith(PUBLIC)]
    assert len(ours) == 5, results  # without the lock: 10
    assert sorted(r["tele2"].split(",")[0] for r in results) == ["0 created", "5 created"]
    assert await store.get(WEBHOOK_LOCK_KEY) is None  # released
    # The ids live under phonebot's namespace for the vendor, not loose in the store.
    keys = [key async for key in store.client.scan_iter("phonebot:vendor:tele2:webhooks:*")]
    assert len(keys) == 1

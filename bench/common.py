"""Plumbing every bench shares: served apps, a load client, a Redis, the fakes, and the figures.

Process layout (2 cores are easily saturated by one Python process, so the parts that are
measured never share a GIL with the parts that measure):

* **the app under test** (phonebot, or the floor it is compared with) runs in its own
  process, served by :class:`~adapters.simulation.LoopbackServer` — the same uvicorn
  settings for phonebot and for every floor (:class:`ServedApp`, factories in ``bench.apps``);
* **the load client** runs in another process: asyncio + ``httpx.AsyncClient`` with a bounded
  connection pool, open loop (a fixed rate, whatever the answers do) or closed loop (N senders
  back to back) (:class:`LoadClient`);
* **the fakes** (vendor simulators, fake Slack Web API with its ``response_url`` recording)
  run in the bench's own process, where the results are read.

Everything listens on 127.0.0.1 only; every run is bounded in count and time.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import math
import multiprocessing
import os
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx

SIGNING_SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-bench"
SLOW_NOTICE = ":hourglass_flowing_sand:"
"""How phonebot's interim notes ("Working on it…") start; they are not the answer."""
SLACK_ACK_LIMIT_MS = 3000.0
"""Slack shows the user an error when a slash command is not acknowledged within 3 s."""

# Children are forked from a single-threaded fork server that imported the heavy modules once:
# never a fork of this process (it runs server threads), and no second import of phonebot per child.
_mp = multiprocessing.get_context("forkserver")
_mp.set_forkserver_preload(["bench.common", "bench.apps", "bot.runtime", "bot.server", "bot.config"])


# -- figures -------------------------------------------------------------------------------


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100) of a non-empty sample."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True)
class Latency:
    """p50/p95/p99/max of one set of latencies, in ms."""

    n: int
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, samples: Sequence[float]) -> Latency:
        if not samples:
            return cls(0, math.nan, math.nan, math.nan, math.nan)
        return cls(
            len(samples), percentile(samples, 50), percentile(samples, 95), percentile(samples, 99), max(samples)
        )


def latency_row(name: str, latency: Latency, floor: Latency | None = None) -> str:
    """One aligned line: percentiles in ms and, against ``floor``, the p50 and p99 ratios."""
    line = (
        f"{name:<44} n {latency.n:5d}  p50 {latency.p50:8.2f}  p95 {latency.p95:8.2f}"
        f"  p99 {latency.p99:8.2f}  max {latency.max:8.1f} ms"
    )
    if floor is not None:
        line += f"  xfloor p50 {latency.p50 / floor.p50:5.2f} p99 {latency.p99 / floor.p99:5.2f}"
    return line


def rate_row(name: str, count: int, seconds: float, floor_rate: float | None = None) -> str:
    """One aligned line: ``count`` things in ``seconds`` as a rate, and its ratio to ``floor_rate``."""
    rate = count / seconds if seconds > 0 else math.inf
    line = f"{name:<44} {rate:9.1f} /s  ({count} in {seconds:.2f} s)"
    if floor_rate is not None:
        line += f"  xfloor {rate / floor_rate:5.2f}"
    return line


@dataclass
class Targets:
    """PASS/FAIL lines for the targets a bench checks; ``ok`` is False once any failed."""

    lines: list[str] = field(default_factory=list)
    ok: bool = True

    def check(self, name: str, passed: bool, detail: str) -> None:
        self.ok = self.ok and passed
        self.lines.append(f"{'PASS' if passed else 'FAIL'}  {name}: {detail}")


# -- the load client -----------------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """One HTTP request, built (and signed) before the load starts."""

    method: str
    url: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """What one request got. ``sent_at`` is wall-clock (``time.time()``, comparable across processes)."""

    sent_at: float
    lag_ms: float
    """How late the client sent it against its schedule (open loop) — the client's own floor."""
    latency_ms: float
    status: int
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and 200 <= self.status < 300


@dataclass(frozen=True)
class Job:
    """A load to apply: ``rate`` per second (open loop) or ``concurrency`` senders (closed loop)."""

    requests: list[Prepared]
    rate: float | None = None
    concurrency: int = 1
    connections: int = 64
    timeout: float = 10.0
    start_at: float | None = None
    """Wall-clock moment to begin (several load processes sharing one schedule); at once by default."""
    offset: float = 0.0
    """Seconds after the beginning that the first request is due (open loop)."""


@dataclass(frozen=True)
class Ran:
    """A job's outcomes (in request order) and its wall time from first send to last answer."""

    outcomes: list[Outcome]
    seconds: float
    cpu_seconds: float
    """CPU the load process itself spent: near ``seconds``, the client was the bottleneck."""
    max_in_flight: int = 0
    """Most requests awaiting an answer at once (summed over load processes); at the job's
    ``connections`` the client pool was the limit."""

    def latencies(self, *, ok_only: bool = False) -> list[float]:
        return [o.latency_ms for o in self.outcomes if o.ok or not ok_only]

    @property
    def sent_rate(self) -> float:
        """Requests per second the client actually sent (first to last send)."""
        moments = [o.sent_at for o in self.outcomes]
        span = max(moments) - min(moments) if len(moments) > 1 else 0.0
        return (len(moments) - 1) / span if span > 0 else math.inf

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]

    def failure_summary(self) -> str:
        counts: dict[str, int] = {}
        for outcome in self.failures:
            key = outcome.error or f"HTTP {outcome.status}"
            counts[key] = counts.get(key, 0) + 1
        return ", ".join(f"{n}x {key}" for key, n in sorted(counts.items())) or "none"


class _InFlight:
    def __init__(self) -> None:
        self.now = 0
        self.most = 0

    def enter(self) -> None:
        self.now += 1
        self.most = max(self.most, self.now)

    def leave(self) -> None:
        self.now -= 1


async def _send(client: httpx.AsyncClient, request: Prepared, scheduled: float, in_flight: _InFlight) -> Outcome:
    sent_at = time.time()
    started = time.perf_counter()
    lag_ms = max(0.0, (started - scheduled) * 1000)
    in_flight.enter()
    try:
        response = await client.request(request.method, request.url, content=request.body, headers=request.headers)
    except httpx.HTTPError as exc:
        return Outcome(sent_at, lag_ms, (time.perf_counter() - started) * 1000, 0, type(exc).__name__)
    finally:
        in_flight.leave()
    return Outcome(sent_at, lag_ms, (time.perf_counter() - started) * 1000, response.status_code)


async def _run_job(job: Job) -> Ran:
    limits = httpx.Limits(max_connections=job.connections, max_keepalive_connections=job.connections)
    # verify=False: plain http on loopback only, and it spares loading the CA bundle for every job.
    async with httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(job.timeout), verify=False) as client:
        outcomes: list[Outcome | None] = [None] * len(job.requests)
        in_flight = _InFlight()
        if job.start_at is not None:
            await asyncio.sleep(max(0.0, job.start_at - time.time()))
        began, cpu_began = time.perf_counter(), time.process_time()
        if job.rate:
            tasks = []
            for index, request in enumerate(job.requests):
                scheduled = began + job.offset + index / job.rate
                await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
                tasks.append(asyncio.ensure_future(_send(client, request, scheduled, in_flight)))
            for index, outcome in enumerate(await asyncio.gather(*tasks)):
                outcomes[index] = outcome
        else:
            pending = iter(enumerate(job.requests))

            async def sender() -> None:
                for index, request in pending:
                    outcomes[index] = await _send(client, request, time.perf_counter(), in_flight)

            await asyncio.gather(*(sender() for _ in range(job.concurrency)))
        seconds, cpu_seconds = time.perf_counter() - began, time.process_time() - cpu_began
    return Ran([o for o in outcomes if o is not None], seconds, cpu_seconds, in_flight.most)


def _load_process(conn: Connection) -> None:
    while (job := conn.recv()) is not None:
        conn.send(asyncio.run(_run_job(job)))


class LoadClient:
    """The load generator, in ``processes`` processes of its own; :meth:`run` applies one :class:`Job`.

    A job's requests are dealt round-robin over the processes: an open-loop job keeps one shared
    schedule, a closed-loop job's senders are shared out. Use several when one client process
    can't keep up (its CPU near the job's wall time, or send lag): httpx costs more CPU per
    request the more connections one client juggles.
    """

    def __init__(self, processes: int = 1) -> None:
        self._conns: list[Connection] = []
        self._processes = []
        for n in range(max(1, processes)):
            conn, child = _mp.Pipe()
            self._conns.append(conn)
            self._processes.append(
                _mp.Process(target=_load_process, args=(child,), name=f"bench-load-{n}", daemon=True)
            )

    def __enter__(self) -> LoadClient:
        for process in self._processes:
            process.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.send(None)
        for process in self._processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()

    def run(self, job: Job) -> Ran:
        n = min(len(self._conns), len(job.requests) if job.rate else job.concurrency)
        if n <= 1:
            self._conns[0].send(job)
            ran: Ran = self._conns[0].recv()
            return ran
        start_at = time.time() + 0.2  # every process has the job before the first send is due
        for k, conn in enumerate(self._conns[:n]):
            if job.rate:
                part = replace(
                    job, requests=job.requests[k::n], rate=job.rate / n, start_at=start_at, offset=k / job.rate
                )
            else:
                senders = job.concurrency // n + (k < job.concurrency % n)
                part = replace(job, requests=job.requests[k::n], concurrency=senders, start_at=start_at)
            conn.send(part)
        parts: list[Ran] = [conn.recv() for conn in self._conns[:n]]
        outcomes: list[Outcome] = [None] * len(job.requests)  # type: ignore[list-item]
        for k, part in enumerate(parts):
            outcomes[k::n] = part.outcomes
        return Ran(
            outcomes,
            max(part.seconds for part in parts),
            sum(part.cpu_seconds for part in parts),
            sum(part.max_in_flight for part in parts),
        )


# -- the app under test, in its own process ------------------------------------------------


class _CountingHandler(logging.Handler):
    """Counts the served app's WARNING+ log records and keeps the first few (not printed: a burst floods)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0
        self.first: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if len(self.first) < 3:
            error = f" [{record.exc_info[0].__name__}]" if record.exc_info and record.exc_info[0] else ""
            self.first.append(f"{record.levelname} {record.name}: {record.getMessage()[:160]}{error}")


def _serve_process(factory: str, kwargs: dict[str, Any], conn: Connection) -> None:
    from adapters.simulation import LoopbackServer

    logs = _CountingHandler()
    logging.basicConfig(level=logging.WARNING, handlers=[logs], force=True)
    try:
        module, _, name = factory.partition(":")
        app = getattr(importlib.import_module(module), name)(**kwargs)
        server = LoopbackServer(app, lifespan="on").start()
    except Exception as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("url", server.url))
    conn.recv()  # told to stop
    server.stop()
    conn.send((logs.count, logs.first))


def _process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _with_descendants(pid: int) -> list[int]:
    found = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += _with_descendants(int(child))
    return found


class ServedApp:
    """An ASGI app built by ``factory`` (``"module:function"``, called with ``kwargs``) in its own process.

    :meth:`start` returns at once (start several, then :meth:`wait`); :attr:`url` is where it listens.
    After :meth:`stop`, :attr:`warnings` is how many WARNING+ records the app logged and
    :attr:`first_warnings` the first few.
    """

    def __init__(self, factory: str, **kwargs: Any) -> None:
        self.factory = factory
        self._conn, child = _mp.Pipe()
        self._process = _mp.Process(target=_serve_process, args=(factory, kwargs, child), daemon=True)
        self.url = ""
        self.warnings = 0
        self.first_warnings: list[str] = []
        self._stopping = False

    def start(self) -> ServedApp:
        self._process.start()
        return self

    def cpu_seconds(self, *, children: bool = True) -> float | None:
        """CPU time (user + system) the app's process — and, with ``children``, its live children
        (phonebot's command workers) — has used so far; ``None`` where /proc is missing."""
        try:
            pid = self._process.pid or 0
            return sum(_process_cpu(each) for each in (_with_descendants(pid) if children else [pid]))
        except (OSError, IndexError):
            return None

    def wait(self, timeout: float = 30.0) -> ServedApp:
        if not self._conn.poll(timeout):
            raise RuntimeError(f"{self.factory} did not start within {timeout} s")
        try:
            kind, value = self._conn.recv()
        except EOFError:
            kind, value = "error", f"the process exited with {self._process.exitcode}"
        if kind != "url":
            raise RuntimeError(f"{self.factory} failed to start: {value}")
        self.url = value
        return self

    def request_stop(self) -> None:
        """Tell the app to stop without waiting (stop several at once, then :meth:`stop` each)."""
        if self._process.is_alive() and self.url and not self._stopping:
            self._stopping = True
            with contextlib.suppress(OSError):
                self._conn.send("stop")

    def stop(self) -> None:
        self.request_stop()
        with contextlib.suppress(OSError, EOFError):
            if self._stopping and self._conn.poll(15):
                self.warnings, self.first_warnings = self._conn.recv()
        self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(timeout=5)


@contextlib.contextmanager
def served(*apps: ServedApp) -> Iterator[tuple[ServedApp, ...]]:
    """Start ``apps`` in parallel, wait until each listens, stop them all afterwards."""
    try:
        for app in apps:
            app.start()
        for app in apps:
            app.wait()
        yield apps
    finally:
        for app in apps:
            app.request_stop()
        for app in apps:
            app.stop()


# -- Redis and the fakes -------------------------------------------------------------------


@contextlib.contextmanager
def bench_redis(url: str | None) -> Iterator[str]:
    """``url`` flushed first (point it at a scratch database), or a throwaway ``redis-server``."""
    import redis

    if url:
        with redis.Redis.from_url(url) as client:
            client.flushdb()
        yield url
        return
    from tests.fakes.redis_server import RedisServer

    with tempfile.TemporaryDirectory(prefix="phonebot-bench-") as tmp, RedisServer(tmp) as server:
        yield server.url


@contextlib.contextmanager
def fakes() -> Iterator[tuple[Any, Any]]:
    """The vendor simulators and the fake Slack (with the demo users), on loopback, in this process."""
    from bot.simulate import DEMO_SLACK_USERS, SimulatedPhoneSystems
    from tests.fakes.slack_api import FakeSlack

    with SimulatedPhoneSystems() as phones, FakeSlack() as slack:
        for user in DEMO_SLACK_USERS:
            slack.add_user(user.id, name=user.name, email=user.email or "", tz=user.tz or "UTC")
        yield phones, slack


def phonebot_settings(slack_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    """Settings (as keyword arguments for :class:`bot.config.Settings`) for phonebot under bench."""
    return {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": slack_url,
        "redis_url": redis_url,
        **extra,
    }


def slash_commands(slack: Any, url: str, command: str, text: str, count: int) -> list[Prepared]:
    """``count`` signed slash commands from the demo users in turn, each with its own ``response_url``."""
    from bot.simulate import DEMO_SLACK_USERS
    from tests.fakes.slack_requests import SlackSigner

    signer = SlackSigner(SIGNING_SECRET)
    requests = []
    for index in range(count):
        user = DEMO_SLACK_USERS[index % len(DEMO_SLACK_USERS)]
        body, headers = signer.slash_command(
            command, text, user_id=user.id, user_name=user.name, response_url=slack.new_response_url()
        )
        requests.append(Prepared("POST", url + "/slack/events", body, headers))
    return requests


def response_url_of(request: Prepared) -> str:
    """The ``response_url`` of a prepared slash command."""
    return parse_qs(request.body.decode())["response_url"][0]


def posts_to(slack: Any, request: Prepared) -> list[Any]:
    """The fake Slack's :class:`~tests.fakes.slack_api.ResponsePost`\\ s to a command's ``response_url``."""
    return list(slack.responses.get(response_url_of(request).rsplit("/", 1)[-1], []))


def is_notice(body: dict[str, Any]) -> bool:
    """An interim note ("Working on it…"), not the answer."""
    return str(body.get("text") or "").startswith(SLOW_NOTICE)


def wait_until_answered(slack: Any, requests: Sequence[Prepared], timeout: float) -> int:
    """Wait (at most ``timeout``) until each command got a post that is not a notice; returns how many did."""
    deadline = time.monotonic() + timeout
    while True:
        answered = sum(any(not is_notice(post.body) for post in posts_to(slack, r)) for r in requests)
        if answered == len(requests) or time.monotonic() > deadline:
            return answered
        time.sleep(0.02)


def gets(url: str, count: int) -> list[Prepared]:
    """``count`` plain GETs of ``url``."""
    return [Prepared("GET", url) for _ in range(count)]

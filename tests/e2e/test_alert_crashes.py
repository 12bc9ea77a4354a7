"""Alert delivery survives crashes: SIGKILL mid-delivery, a Redis restart, and two replicas at once.

``phonebot serve`` runs as real subprocesses on one spawned redis-server; the Tele2 simulator
(a loopback HTTP server) provides webhook bodies; the fake Slack counts what arrives.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import redis
import yaml

from adapters.simulation import LoopbackServer
from adapters.tele2.simulator import API_KEY, Tele2Simulator
from bot.webhook_auth import UrlTokens
from tests.fakes.fixtures import SIGNING_SECRET
from tests.fakes.redis_server import RedisServer
from tests.fakes.slack_api import FakeSlack

pytestmark = pytest.mark.e2e

CHANNEL = "C0LOST"
SECRET = "crash-test-webhook-secret-0123"
STREAM = "phonebot:alerts:stream"


@pytest.fixture
def tele2() -> Iterator[tuple[Tele2Simulator, str]]:
    sim = Tele2Simulator()
    with LoopbackServer(sim.build_app()) as server:
        yield sim, server.url


@pytest.fixture
def config_file(tmp_path: Path, tele2: tuple[Tele2Simulator, str]) -> Path:
    config = {
        "default_country": "LT",
        "timezone": "Europe/Vilnius",
        "vendors": {"tele2": {"base_url": tele2[1] + "/api/v2/", "api_key": API_KEY}},
        "alerts": {
            "routes": [{"channel": CHANNEL, "name": "Support", "digest_after_per_minute": 200}],
            "delivery": {
                "pace_seconds": 0.05,
                "retries": 1,
                "backoff_seconds": 0.05,
                "max_attempts": 3,
                "take_over_after_seconds": 1,
            },
        },
    }
    path = tmp_path / "phonebot.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


class Replica:
    """One ``phonebot serve`` process; ``token`` tells its Slack calls from another replica's in the fake.

    Started with ``ready=False`` it is not waited for: call :meth:`wait_ready` (to start several at once).
    """

    def __init__(
        self, config: Path, redis_url: str, slack: FakeSlack, *, token: str = "xoxb-test-token", ready: bool = True
    ) -> None:
        self.token = token
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "REDIS_", "PHONEBOT_"))}
        env.update(
            SLACK_BOT_TOKEN=token,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=slack.url,
            REDIS_URL=redis_url,
            PHONEBOT_CONFIG=str(config),
            PHONEBOT_WEBHOOK_SECRET=SECRET,
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        if ready:
            self.wait_ready()

    def wait_ready(self) -> None:
        """Wait until it answers ``/healthz``."""
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert self.proc.poll() is None, self.proc.communicate()[1]
            assert time.monotonic() < deadline, "phonebot serve did not come up"
            time.sleep(0.1)

    def webhook(self, sim: Tele2Simulator, event: str, **data: object) -> int:
        token = UrlTokens(SECRET.encode()).token_for("tele2", "account")
        body = sim.webhook_body(event, dict(data) or None)
        return httpx.post(f"{self.url}/webhooks/tele2/{token}/{event}", json=body, timeout=5).status_code

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=5)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if self.proc.stderr:
            self.proc.stderr.close()


@pytest.fixture
def replicas(config_file: Path, fake_slack: FakeSlack) -> Iterator[Callable[[str], Replica]]:
    started: list[Replica] = []

    def start(redis_url: str) -> Replica:
        replica = Replica(config_file, redis_url, fake_slack)
        started.append(replica)
        return replica

    yield start
    for replica in started:
        replica.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _posts(slack: FakeSlack) -> list[str]:
    return [
        call.args["text"]
        for call in slack.calls_to("chat.postMessage")
        if call.status == 200 and (call.response or {}).get("ok")
    ]


def _wait(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def _block_channel(client: redis.Redis, seconds: int) -> None:
    """Make the channel's next write slot lie in the future: workers dequeue, then wait before posting."""
    now_s, now_us = client.time()
    client.set(f"phonebot:alerts:pace:{CHANNEL}", now_s * 1000 + now_us // 1000 + seconds * 1000)


def test_sigkill_between_dequeue_and_post_delivers_exactly_once(
    redis_url: str, replicas: Callable[[str], Replica], fake_slack: FakeSlack, tele2: tuple[Tele2Simulator, str]
) -> None:
    sim = tele2[0]
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    first = replicas(redis_url)
    _block_channel(client, 60)
    assert first.webhook(sim, "LostCallerAdded") == 200
    _wait(lambda: client.xpending(STREAM, "phonebot")["pending"] == 1)  # dequeued, waiting to post
    first.kill()
    assert _posts(fake_slack) == []
    client.delete(f"phonebot:alerts:pace:{CHANNEL}")

    replicas(redis_url)  # the restart (or another replica) takes the entry over
    _wait(lambda: len(_posts(fake_slack)) == 1)
    _wait(lambda: client.xlen(STREAM) == 0)
    time.sleep(1.5)
    assert len(_posts(fake_slack)) == 1


def test_two_replicas_on_one_redis_post_every_alert_exactly_once(
    redis_url: str, replicas: Callable[[str], Replica], fake_slack: FakeSlack, tele2: tuple[Tele2Simulator, str]
) -> None:
    sim = tele2[0]
    a, b = replicas(redis_url), replicas(redis_url)
    callers = [f"+370699{n:05d}" for n in range(30)]
    for n, caller in enumerate(callers):
        # The vendor delivers each webhook twice, once to each replica (a load balancer in between).
        assert (a if n % 2 else b).webhook(sim, "LostCallerAdded", callerid=caller) == 200
        assert (b if n % 2 else a).webhook(sim, "LostCallerAdded", callerid=caller) == 200
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    _wait(lambda: len(_posts(fake_slack)) >= 30 and client.xlen(STREAM) == 0, timeout=30)
    time.sleep(1.0)
    posts = _posts(fake_slack)
    assert len(posts) == 30
    assert sorted(next(c for c in callers if c in text) for text in posts) == callers


def test_redis_restart_with_aof_loses_nothing(
    tmp_path: Path, replicas: Callable[[str], Replica], fake_slack: FakeSlack, tele2: tuple[Tele2Simulator, str]
) -> None:
    sim = tele2[0]
    with RedisServer(tmp_path / "aof", appendonly=True) as server:
        client = redis.Redis.from_url(server.url, decode_responses=True)
        replica = replicas(server.url)
        _block_channel(client, 4)  # the worker dequeues the first alert and waits for its slot
        callers = [f"+370698{n:05d}" for n in range(5)]
        for caller in callers:
            assert replica.webhook(sim, "LostCallerAdded", callerid=caller) == 200
        _wait(lambda: client.xlen(STREAM) == 5 and client.xpending(STREAM, "phonebot")["pending"] >= 1)
        time.sleep(1.5)  # appendfsync everysec: let the AOF catch up
        server.kill()
        server.restart()
        client = redis.Redis.from_url(server.url, decode_responses=True)
        assert client.xlen(STREAM) == 5  # the queue survived the restart
        _wait(lambda: len(_posts(fake_slack)) == 5, timeout=30)
        _wait(lambda: client.xlen(STREAM) == 0)
        time.sleep(1.0)
        assert sorted(next(c for c in callers if c in text) for text in _posts(fake_slack)) == callers

"""Every alert message, thread follow-up and digest is posted exactly once, whatever happens to a post in flight.

Each test injects exactly one fault while ``chat.postMessage`` calls of one kind are in flight,
into real ``phonebot serve`` subprocesses on a spawned redis-server (Tele2 simulator webhooks
in, the fake Slack out), and then counts what Slack shows:

* Slack answers only after the client timeout (it did post);
* the process is SIGKILLed while Slack is slow, then restarted;
* Redis is killed while Slack is slow (AOF on), then restarted;
* two replicas share the work and one is SIGKILLed while Slack is slow.

The kinds (``kind``, parametrized): **alert** — each lost call's own message, counted per alert
subject (phonebot puts the subject in every message's metadata); **follow-up** — the "Resolved"
reply each alert gets in its thread, counted per thread; **digest** — the burst digest alerts
beyond a channel's per-minute limit fold into, counted in the channel.

The fake Slack limits ``conversations.history`` and ``conversations.replies`` to one read per
second each here (Slack: one per minute for apps distributed outside the Marketplace), so the
lookups must be batched and honour 429.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml

from adapters.simulation import LoopbackServer
from adapters.tele2.simulator import API_KEY, Tele2Simulator
from tests.e2e.test_alert_crashes import Replica
from tests.fakes.redis_server import RedisServer
from tests.fakes.slack_api import FakeSlack, SlackCall

pytestmark = pytest.mark.e2e

STREAM = "phonebot:alerts:stream"
DEAD = "phonebot:alerts:dead"
RELEASES = "phonebot:alerts:releases"  # digests waiting to be written
#: Slack holds each post's answer this long; the kills below land inside that window.
SLOW_SLACK = 1.2
BURST_TITLE = "too many at once"

StartReplica = Callable[..., Replica]


@pytest.fixture
def tele2() -> Iterator[tuple[Tele2Simulator, str]]:
    sim = Tele2Simulator()
    with LoopbackServer(sim.build_app()) as server:
        yield sim, server.url


@pytest.fixture
def replicas(tmp_path: Path, fake_slack: FakeSlack, tele2: tuple[Tele2Simulator, str]) -> Iterator[StartReplica]:
    """Start ``phonebot serve`` on a Redis URL with a given Slack client timeout and route.

    Each replica has a token of its own, so the fake Slack tells whose call it got.
    """
    started: list[Replica] = []
    fake_slack.rate_limit("conversations.history", per_seconds=1)
    fake_slack.rate_limit("conversations.replies", per_seconds=1)

    def start(redis_url: str, slack_timeout: float, route: dict[str, Any], *, ready: bool = True) -> Replica:
        config = tmp_path / f"phonebot-{len(started)}.yml"
        config.write_text(yaml.safe_dump(_config(tele2[1], slack_timeout, route)), encoding="utf-8")
        replica = Replica(config, redis_url, fake_slack, token=f"xoxb-replica-{len(started)}", ready=ready)
        started.append(replica)
        return replica

    yield start
    for replica in started:
        replica.stop()


def _two(start: StartReplica, *args: Any) -> tuple[Replica, Replica]:
    """Two replicas, started side by side."""
    a, b = start(*args, ready=False), start(*args, ready=False)
    a.wait_ready()
    b.wait_ready()
    return a, b


def _config(tele2_url: str, slack_timeout: float, route: dict[str, Any]) -> dict[str, Any]:
    return {
        "default_country": "LT",
        "timezone": "Europe/Vilnius",
        "vendors": {"tele2": {"base_url": tele2_url + "/api/v2/", "api_key": API_KEY}},
        "alerts": {
            "routes": [route],
            "delivery": {
                "pace_seconds": 0.05,
                "retries": 1,
                "backoff_seconds": 0.05,
                "max_attempts": 10,
                "take_over_after_seconds": 1,
                "slack_timeout_seconds": slack_timeout,
                "history_interval_seconds": 1,
                "digest_refresh_seconds": 0.2,
            },
        },
    }


def _hold_channel(client: redis.Redis, seconds: float, channel: str) -> None:
    """Make the channel's next write slot lie ahead: workers dequeue, then post together when it comes."""
    now_s, now_us = client.time()
    client.set(f"phonebot:alerts:pace:{channel}", int(now_s * 1000 + now_us // 1000 + seconds * 1000))


def _posts_per_subject(slack: FakeSlack, channel: str) -> Counter[str]:
    """How many messages in the channel carry each alert subject."""
    return Counter(
        message["metadata"]["event_payload"]["subject"]
        for message in slack.channel_messages(channel)
        if (message.get("metadata") or {}).get("event_type") == "phonebot_alert"
    )


def _top_level_posts(slack: FakeSlack, channel: str) -> list[SlackCall]:
    return [
        c
        for c in slack.calls_to("chat.postMessage")
        if c.status == 200 and c.args.get("channel") == channel and not c.args.get("thread_ts")
    ]


def _wait(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


@dataclass(frozen=True)
class Kind:
    """One kind of post the faults are injected while it is in flight."""

    name: str
    route: dict[str, Any]
    count: int  # how many posts of this kind one run puts in flight
    lookup: str  # the method that looks for them
    most_reads: int  # successful lookups a run may take (fewer than the posts where they are batched)

    @property
    def channel(self) -> str:
        return str(self.route["channel"])

    def prepare(self, replica: Replica, sim: Tele2Simulator, client: redis.Redis, slack: FakeSlack) -> list[str]:
        """What exists before the fault (no fault yet): for follow-ups, the alerts whose threads get them."""
        if self.name != "follow-up":
            return []
        callers = [f"+37069950{n:04d}" for n in range(self.count)]
        for caller in callers:
            assert replica.webhook(sim, "LostCallerAdded", callerid=caller) == 200
        _wait(lambda: len(slack.channel_messages(self.channel)) == len(callers) and client.xlen(STREAM) == 0)
        return callers

    def send(self, replicas: list[Replica], sim: Tele2Simulator, client: redis.Redis, callers: list[str]) -> None:
        """The webhooks whose posts the fault hits, spread over ``replicas``; the channel held back 1 s."""
        _hold_channel(client, 1, self.channel)
        if self.name == "follow-up":  # each alert is resolved: an edit, and a follow-up in its thread
            bodies = [("LostCallerRemoved", caller) for caller in callers]
        elif self.name == "digest":  # one alert gets its message, the rest fold into the digest
            bodies = [("LostCallerAdded", f"+37069960{n:04d}") for n in range(4)]
        else:
            bodies = [("LostCallerAdded", f"+37069910{n:04d}") for n in range(self.count)]
        for n, (event, caller) in enumerate(bodies):
            assert replicas[n % len(replicas)].webhook(sim, event, callerid=caller) == 200

    def posts(self, slack: FakeSlack) -> list[SlackCall]:
        """Accepted ``chat.postMessage`` calls of this kind so far."""
        if self.name == "follow-up":
            return [c for c in slack.calls_to("chat.postMessage") if c.status == 200 and c.args.get("thread_ts")]
        posts = _top_level_posts(slack, self.channel)
        if self.name == "digest":
            return [c for c in posts if BURST_TITLE in str(c.args.get("text"))]
        return posts

    def shown(self, slack: FakeSlack) -> dict[str, int]:
        """What Slack shows: messages per alert subject, replies per alert thread, or digest messages."""
        if self.name == "follow-up":
            messages = slack.channel_messages(self.channel)
            return {m["ts"]: len(slack.thread_replies(self.channel, m["ts"])) for m in messages}
        if self.name == "digest":
            digests = [m for m in slack.channel_messages(self.channel) if BURST_TITLE in str(m.get("text"))]
            return {"digest messages": len(digests)} if digests else {}
        return dict(_posts_per_subject(slack, self.channel))


ALERT = Kind(
    "alert",
    {"channel": "C0ONCE", "name": "Support", "digest_after_per_minute": 200},
    count=6,
    lookup="conversations.history",
    most_reads=5,
)
FOLLOW_UP = Kind(
    "follow-up",
    {"channel": "C0THREADS", "name": "Support", "digest_after_per_minute": 200},
    count=4,
    lookup="conversations.replies",
    most_reads=4,  # one per thread: a channel read never shows thread replies
)
DIGEST = Kind(
    "digest",
    # The first alert a minute gets its own message; the rest fold into one burst digest.
    {"channel": "C0DIGESTS", "name": "Support", "digest_after_per_minute": 1},
    count=1,
    lookup="conversations.history",
    most_reads=2,  # the first alert's own message may be looked for in a read of its own
)
KINDS = pytest.mark.parametrize("kind", [ALERT, FOLLOW_UP, DIGEST], ids=lambda kind: kind.name)


def _in_flight(kind: Kind, slack: FakeSlack) -> bool:
    """Slack took all posts of the kind and the answers to at least half of them have not left yet.

    (The worker's first batch may hold one entry alone and hear back before the rest are posted.)
    """
    posts = kind.posts(slack)
    return len(posts) >= kind.count and 2 * sum(call.answered_at is None for call in posts) >= kind.count


def _shown_once(kind: Kind, client: redis.Redis, slack: FakeSlack) -> None:
    """Wait until the queue is empty, no digest is due and Slack shows every post; then: none doubled."""

    def finished() -> bool:
        shown = kind.shown(slack)
        nothing_left = client.xlen(STREAM) == 0 and client.zcard(RELEASES) == 0
        return nothing_left and len(shown) == kind.count and all(shown.values())

    try:
        _wait(finished)
        done = True
    except AssertionError:
        done = False  # say what doubled first, if anything did
    time.sleep(1.0)  # a doubled post would come within the take-over/lookup cycle just finished
    shown = kind.shown(slack)
    doubled = {where: n for where, n in shown.items() if n > 1}
    assert not doubled, f"{sum(n - 1 for n in doubled.values())} doubled {kind.name} post(s) of {kind.count}: {doubled}"
    assert done, f"not all shown: {shown}; {client.xlen(STREAM)} queued, {client.zcard(RELEASES)} digest(s) due"
    assert not [s for s, n in _posts_per_subject(slack, kind.channel).items() if n > 1]  # nor any alert message
    assert client.hlen(DEAD) == 0


@KINDS
def test_slack_answering_after_the_client_timeout_posts_each_once(
    kind: Kind, redis_url: str, replicas: StartReplica, fake_slack: FakeSlack, tele2: tuple[Tele2Simulator, str]
) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    replica = replicas(redis_url, 0.5, kind.route)
    callers = kind.prepare(replica, tele2[0], client, fake_slack)
    fake_slack.answer_late("chat.postMessage", 1.0)  # every post lands, every answer comes after 0.5 s
    kind.send([replica], tele2[0], client, callers)
    _shown_once(kind, client, fake_slack)
    # Looked for by metadata, within the method's limit (429s honoured), batched where Slack allows.
    reads = fake_slack.calls_to(kind.lookup)
    assert 1 <= len([r for r in reads if r.status == 200]) <= kind.most_reads
    assert all(call.args.get("include_all_metadata") == "1" for call in reads)


@KINDS
def test_sigkill_while_slack_is_slow_then_restart_posts_each_once(
    kind: Kind, redis_url: str, replicas: StartReplica, fake_slack: FakeSlack, tele2: tuple[Tele2Simulator, str]
) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    first = replicas(redis_url, 1.5, kind.route)
    callers = kind.prepare(first, tele2[0], client, fake_slack)
    fake_slack.answer_late("chat.postMessage", SLOW_SLACK)
    kind.send([first], tele2[0], client, callers)
    _wait(lambda: _in_flight(kind, fake_slack), timeout=10)
    first.kill()  # Slack posted them; phonebot never heard back
    fake_slack.clear_faults("chat.postMessage")

    replicas(redis_url, 1.5, kind.route)  # the restart takes the work over
    _shown_once(kind, client, fake_slack)


@KINDS
def test_redis_killed_while_slack_is_slow_posts_each_once(
    kind: Kind, tmp_path: Path, replicas: StartReplica, fake_slack: FakeSlack, tele2: tuple[Tele2Simulator, str]
) -> None:
    with RedisServer(tmp_path / "aof", appendonly=True) as server:
        client = redis.Redis.from_url(server.url, decode_responses=True)
        replica = replicas(server.url, 1.5, kind.route)
        callers = kind.prepare(replica, tele2[0], client, fake_slack)
        fake_slack.answer_late("chat.postMessage", SLOW_SLACK)
        kind.send([replica], tele2[0], client, callers)
        _wait(lambda: _in_flight(kind, fake_slack), timeout=10)
        server.kill()  # Slack posted them; phonebot can't record the answers
        fake_slack.clear_faults("chat.postMessage")
        _wait(lambda: all(c.answered_at is not None for c in fake_slack.calls_to("chat.postMessage")))
        time.sleep(0.3)  # the worker tries to save the outcome and finds Redis gone
        server.restart()
        _shown_once(kind, redis.Redis.from_url(server.url, decode_responses=True), fake_slack)


@KINDS
def test_two_replicas_one_sigkilled_while_slack_is_slow_post_each_once(
    kind: Kind, redis_url: str, replicas: StartReplica, fake_slack: FakeSlack, tele2: tuple[Tele2Simulator, str]
) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    a, b = _two(replicas, redis_url, 1.5, kind.route)
    callers = kind.prepare(a, tele2[0], client, fake_slack)
    fake_slack.answer_late("chat.postMessage", SLOW_SLACK)
    kind.send([a, b], tele2[0], client, callers)
    _wait(lambda: _in_flight(kind, fake_slack), timeout=10)
    unanswered = Counter(c.headers["authorization"] for c in kind.posts(fake_slack) if c.answered_at is None)
    victim = max((a, b), key=lambda r: unanswered[f"Bearer {r.token}"])
    assert unanswered[f"Bearer {victim.token}"] > 0  # it has posts in flight
    victim.kill()
    fake_slack.clear_faults("chat.postMessage")
    _shown_once(kind, client, fake_slack)

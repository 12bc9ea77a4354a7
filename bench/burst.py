"""A burst of vendor-backed slash commands, then one more: are acks still fast, is the next one answered?

``/queue status`` from the demo users in turn, ``--rate`` per second for ``--seconds``
(open loop: sent on schedule whatever the answers do), against phonebot with the Dstny
simulator answering every request after ``--vendor-latency`` seconds. Once every burst
command has been acked, one more ``/queue status`` is sent; its answer time is read from the
fake Slack's ``response_url`` recording.

Measured in the same run, the same way (each app in its own process, served by uvicorn via
``LoopbackServer`` on 127.0.0.1; a separate load process with asyncio + ``httpx.AsyncClient``
and at most ``--connections`` connections; ``--clients N`` spreads the schedule over N such processes):

* the client's own floor: the same load against a trivial 200 endpoint, with the send lag
  (how late the client fired against its schedule);
* the bare-Bolt floor: the same signed burst against a Bolt app that only acks.

Targets (issue 8, point 20), each printed PASS/FAIL; the exit status is 1 if any failed:

* ack p99 during the burst ≤ 1.3x the bare-Bolt floor's p99;
* every ack < 3 s (Slack's limit; a request with no answer counts as a failure);
* the after-burst command answered < 3 s after it was sent.

    python -m bench.burst [--rate 150] [--seconds 10] [--vendor-latency 0.25] [--clients 2] [--command-workers 1]
                          [--redis-url URL]

Without ``--redis-url`` a throwaway ``redis-server`` is spawned; with it, that database is flushed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from typing import Any

import httpx

from bench.common import (
    BOT_TOKEN,
    SIGNING_SECRET,
    SLACK_ACK_LIMIT_MS,
    Job,
    Latency,
    LoadClient,
    Ran,
    ServedApp,
    Targets,
    bench_redis,
    fakes,
    gets,
    latency_row,
    percentile,
    phonebot_settings,
    posts_to,
    served,
    slash_commands,
)

ACK_P99_RATIO_TARGET = 1.3
ANSWER_TARGET_SECONDS = 3.0
LAG_NOTE_MS = 100.0
"""Send lag (p99) beyond which the report says the client could not keep the schedule."""
ANSWERED = ("Queue status from", "You aren't in any queue")
"""Text only a real ``/queue status`` answer carries."""
REFUSED = (":hourglass: ", ":warning:", ":x:", ":link:", ":mag:", ":no_entry_sign:", ":closed_lock_with_key:")
"""How an error reply starts (``handlers.errors.explain``)."""


@dataclass(frozen=True)
class Answer:
    """What the after-burst command got: its ack, and its answer (``None``: none in time)."""

    ack_ms: float
    ack_status: int
    seconds: float | None
    text: str
    posts: list[tuple[float, str]]
    """Every post to its ``response_url``: (seconds after sending, start of the text)."""


def _text(body: dict[str, Any]) -> str:
    return str(body.get("text") or "")


def after_burst_command(slack: Any, load: LoadClient, url: str, timeout: float) -> Answer:
    """Send one ``/queue status`` (from the load process) and wait up to ``timeout`` for its answer."""
    [request] = slash_commands(slack, url, "/queue", "status", 1)
    [ack] = load.run(Job([request], timeout=timeout)).outcomes
    deadline = time.monotonic() + timeout
    while True:
        posts = posts_to(slack, request)
        timeline = [(post.at - ack.sent_at, _text(post.body)[:70]) for post in posts]
        for post in posts:
            if _answers(post.body) or _text(post.body).startswith(REFUSED):
                return Answer(ack.latency_ms, ack.status, post.at - ack.sent_at, _text(post.body)[:120], timeline)
        if time.monotonic() > deadline:
            return Answer(ack.latency_ms, ack.status, None, "", timeline)
        time.sleep(0.02)


def _answers(body: dict[str, Any]) -> bool:
    dumped = json.dumps(body)
    return any(marker in dumped for marker in ANSWERED)


def answered_count(slack: Any, ran_requests: list[Any]) -> int:
    """How many of the burst's commands got a real answer (not a notice, not an error) so far."""
    count = 0
    for request in ran_requests:
        count += any(_answers(post.body) for post in posts_to(slack, request))
    return count


def wait_answered(slack: Any, requests: list[Any], timeout: float) -> int:
    """How many of ``requests`` got their answer, waiting up to ``timeout`` for all of them."""
    deadline = time.monotonic() + timeout
    while (answered := answered_count(slack, requests)) < len(requests) and time.monotonic() < deadline:
        time.sleep(0.1)
    return answered


def _cpu(app: ServedApp) -> float | None:
    return app.cpu_seconds()


def _minus(after: float | None, before: float | None) -> float | None:
    return None if after is None or before is None else after - before


def _per(seconds: float | None, count: int) -> str:
    return "n/a" if seconds is None else f"{seconds * 1000 / count:.2f} ms"


def _phase(name: str, ran: Ran, floor: Latency | None, connections: int) -> list[str]:
    """A phase's ack row, the client's send lag in it, and what the client managed."""
    return [
        latency_row(name, Latency.of(ran.latencies()), floor),
        latency_row("  client send lag (late against schedule)", Latency.of([o.lag_ms for o in ran.outcomes])),
        f"  sent at {ran.sent_rate:.1f}/s, most in flight {ran.max_in_flight} (client pool {connections}),"
        f" client CPU {ran.cpu_seconds:.2f} s of {ran.seconds:.2f} s, failed: {ran.failure_summary()}",
    ]


def run(
    rate: float,
    seconds: float,
    vendor_latency: float = 0.25,
    redis_url: str | None = None,
    *,
    connections: int = 256,
    clients: int = 2,
    timeout: float = 20.0,
    answer_timeout: float = 30.0,
    command_workers: int = 1,
) -> tuple[list[str], Targets]:
    """Run the bench; returns the report lines and the targets checked."""
    count = max(1, round(rate * seconds))
    with (
        bench_redis(redis_url) as redis,
        fakes() as (phones, slack),
        LoadClient(clients) as load,
        served(ServedApp("bench.apps:dstny_simulator")) as (dstny,),
    ):
        config = phones.config()
        config["vendors"]["dstny"]["base_url"] = dstny.url
        settings = phonebot_settings(slack.url, redis, phonebot_command_workers=str(command_workers))
        phonebot = ServedApp("bench.apps:phonebot", settings=settings, config=config)
        bare = ServedApp(
            "bench.apps:bare_bolt", signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN, slack_url=slack.url
        )
        trivial = ServedApp("bench.apps:trivial")
        with served(phonebot, bare, trivial):

            def burst(requests: list[Any]) -> Ran:
                return load.run(Job(requests, rate=rate, connections=connections, timeout=timeout))

            warm = min(10, count)
            load.run(Job(gets(trivial.url + "/", warm), concurrency=warm))
            load.run(Job(slash_commands(slack, bare.url, "/queue", "status", warm), concurrency=1))
            load.run(Job(slash_commands(slack, phonebot.url, "/phonebot", "help", warm), concurrency=1))
            client_floor = burst(gets(trivial.url + "/", count))
            bare_cpu = _cpu(bare)
            bare_ran = burst(slash_commands(slack, bare.url, "/queue", "status", count))
            bare_cpu = _minus(_cpu(bare), bare_cpu)
            httpx.post(dstny.url + "/_sim/faults", json={"latency": vendor_latency}).raise_for_status()
            burst_requests = slash_commands(slack, phonebot.url, "/queue", "status", count)
            phonebot_cpu, serving_cpu, dstny_cpu = _cpu(phonebot), phonebot.cpu_seconds(children=False), _cpu(dstny)
            burst_ran = burst(burst_requests)
            after = after_burst_command(slack, load, phonebot.url, answer_timeout)
            answered = wait_answered(slack, burst_requests, answer_timeout)
            phonebot_cpu = _minus(_cpu(phonebot), phonebot_cpu)
            serving_cpu = _minus(phonebot.cpu_seconds(children=False), serving_cpu)
            dstny_cpu = _minus(_cpu(dstny), dstny_cpu)
        floor = Latency.of(bare_ran.latencies())
        acks = Latency.of(burst_ran.latencies())
        lines = [
            f"/queue status at {rate:g}/s for {seconds:g} s ({count} commands), Dstny simulator answering after"
            f" {vendor_latency:g} s; open loop from {clients} load process(es), at most {connections} connections each,"
            f" client timeout {timeout:g} s; phonebot with {command_workers} command worker process(es); ms",
            *_phase("trivial 200 (client + uvicorn floor)", client_floor, None, connections),
            *_phase("bare Bolt ack (floor)", bare_ran, floor, connections),
            *_phase("phonebot ack during the burst", burst_ran, floor, connections),
        ]
        worst_lag = max(percentile([o.lag_ms for o in ran.outcomes], 99) for ran in (client_floor, bare_ran, burst_ran))
        if worst_lag > LAG_NOTE_MS:
            lines.append(
                f"NOTE: the client fell behind its schedule by up to {worst_lag:.0f} ms (p99): the machine was"
                " saturated (the load came later and bunched up); compare the ratios, not the absolute figures"
            )
        lines += [
            f"server CPU per command: bare Bolt {_per(bare_cpu, count)}, phonebot {_per(phonebot_cpu, count + 1)}"
            " (phonebot's: ack and all the work after it, until every burst command was answered)",
            f"  of which the serving (acking) process {_per(serving_cpu, count + 1)}, its command workers"
            f" {_per(_minus(phonebot_cpu, serving_cpu), count + 1)}; the Dstny simulator {_per(dstny_cpu, count + 1)}",
            f"burst commands answered by the end: {answered} of {count}",
            f"after-burst /queue status: ack {after.ack_ms:.1f} ms (HTTP {after.ack_status}), answer "
            + (
                f"{after.seconds:.2f} s: {after.text!r}"
                if after.seconds is not None
                else f"none in {answer_timeout:g} s"
            ),
        ]
        lines += [f"  post to its response_url at +{at:.2f} s: {text!r}" for at, text in after.posts]
        lines.append(
            f"phonebot logged {phonebot.warnings} warnings/errors"
            + "".join(f"\n  {line}" for line in phonebot.first_warnings)
        )
    targets = Targets()
    limit = ACK_P99_RATIO_TARGET * floor.p99
    targets.check(
        f"ack p99 during the burst ≤ {ACK_P99_RATIO_TARGET}x bare Bolt",
        burst_ran.failures == [] and acks.p99 <= limit,
        f"{acks.p99:.1f} ms vs {ACK_P99_RATIO_TARGET}x {floor.p99:.1f} = {limit:.1f} ms ({acks.p99 / floor.p99:.2f}x)",
    )
    targets.check(
        "every ack < 3 s",
        burst_ran.failures == [] and acks.max < SLACK_ACK_LIMIT_MS,
        f"slowest {acks.max:.1f} ms, {len(burst_ran.failures)} failed ({burst_ran.failure_summary()})",
    )
    targets.check(
        f"after-burst answer < {ANSWER_TARGET_SECONDS:g} s",
        after.seconds is not None and after.seconds < ANSWER_TARGET_SECONDS and not after.text.startswith(REFUSED),
        f"{after.seconds:.2f} s: {after.text[:60]!r}"
        if after.seconds is not None
        else f"no answer in {answer_timeout:g} s",
    )
    return lines, targets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=150)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--vendor-latency", type=float, default=0.25, help="seconds the Dstny simulator takes")
    parser.add_argument("--connections", type=int, default=256, help="the load client's connection limit")
    parser.add_argument("--clients", type=int, default=2, help="load processes sharing the schedule")
    parser.add_argument("--timeout", type=float, default=20, help="the load client's per-request timeout")
    parser.add_argument("--answer-timeout", type=float, default=30, help="how long to wait for the after-burst answer")
    parser.add_argument("--redis-url", default=None)
    parser.add_argument(
        "--command-workers", type=int, default=1, help="PHONEBOT_COMMAND_WORKERS (0: the work in the acking process)"
    )
    args = parser.parse_args()
    lines, targets = run(
        args.rate,
        args.seconds,
        args.vendor_latency,
        args.redis_url,
        connections=args.connections,
        clients=args.clients,
        timeout=args.timeout,
        answer_timeout=args.answer_timeout,
        command_workers=args.command_workers,
    )
    print("\n".join(lines + targets.lines))
    sys.exit(0 if targets.ok else 1)


if __name__ == "__main__":
    main()

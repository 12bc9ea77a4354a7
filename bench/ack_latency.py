"""Slash-command ack latency against a bare Bolt app that only acks, measured in the same run.

phonebot and the floor are each served in their own process the same way (uvicorn via
``LoopbackServer``, 127.0.0.1) and get the same Slack-signed requests from a separate load
process, ``--concurrency`` senders back to back (1 by default: this measures latency, not
load — see ``bench.burst`` for load). Rows:

* ``trivial 200`` — client + uvicorn + loopback, the floor under every floor;
* ``bare Bolt ack`` — the floor phonebot's ack is compared with (ratios are against it);
* ``/phonebot help`` (answered in the ack), ``/queue status`` with a fast vendor, and with a
  vendor that takes 2 s to answer (the ack must not notice).

    python -m bench.ack_latency [--requests 200] [--concurrency 1] [--clients 1] [--redis-url URL]

Without ``--redis-url`` a throwaway ``redis-server`` is spawned; with it, that database is flushed.
"""

from __future__ import annotations

import argparse

from bench.common import (
    BOT_TOKEN,
    SIGNING_SECRET,
    Job,
    Latency,
    LoadClient,
    Prepared,
    ServedApp,
    bench_redis,
    fakes,
    gets,
    latency_row,
    phonebot_settings,
    served,
    slash_commands,
    wait_until_answered,
)

SLOW_VENDOR_SECONDS = 2.0


def run(
    requests: int,
    concurrency: int = 1,
    redis_url: str | None = None,
    *,
    slow_vendor: float = SLOW_VENDOR_SECONDS,
    clients: int = 1,
) -> list[str]:
    """Run the bench; returns the report lines."""
    warmup = min(20, requests)
    with bench_redis(redis_url) as redis, fakes() as (phones, slack), LoadClient(clients) as load:
        phonebot = ServedApp(
            "bench.apps:phonebot", settings=phonebot_settings(slack.url, redis), config=phones.config()
        )
        bare = ServedApp(
            "bench.apps:bare_bolt", signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN, slack_url=slack.url
        )
        trivial = ServedApp("bench.apps:trivial")
        with served(phonebot, bare, trivial):

            def measure(requests_: list[Prepared], *, warm: list[Prepared] | None = None) -> Latency:
                if warm:
                    load.run(Job(warm, concurrency=concurrency))
                ran = load.run(Job(requests_, concurrency=concurrency))
                if ran.failures:
                    raise SystemExit(f"{len(ran.failures)} requests failed: {ran.failure_summary()}")
                return Latency.of(ran.latencies())

            def commands(url: str, command: str, text: str, count: int) -> list[Prepared]:
                return slash_commands(slack, url, command, text, count)

            floor0 = measure(gets(trivial.url + "/", requests), warm=gets(trivial.url + "/", warmup))
            floor = measure(
                commands(bare.url, "/queue", "status", requests), warm=commands(bare.url, "/queue", "status", warmup)
            )
            help_ = measure(
                commands(phonebot.url, "/phonebot", "help", requests),
                warm=commands(phonebot.url, "/queue", "status", warmup),
            )
            fast = measure(commands(phonebot.url, "/queue", "status", requests))
            phones.dstny.set_faults(latency=slow_vendor)
            slow_requests = commands(phonebot.url, "/queue", "status", max(5, requests // 10))
            slow = measure(slow_requests)
            answered = wait_until_answered(slack, slow_requests, timeout=slow_vendor * 3 + 10)
            phones.dstny.clear_faults()
    return [
        f"{requests} requests per row, {concurrency} sender(s) back to back, loopback HTTP, Redis; ms",
        latency_row("trivial 200 (client + uvicorn floor)", floor0),
        latency_row("bare Bolt ack (floor)", floor, floor),
        latency_row("/phonebot help (answered in the ack)", help_, floor),
        latency_row("/queue status (vendor fast)", fast, floor),
        latency_row(f"/queue status (vendor takes {slow_vendor:g} s)", slow, floor),
        f"  of these, answered through response_url afterwards: {answered} of {len(slow_requests)}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--clients", type=int, default=1, help="load processes sharing the senders")
    parser.add_argument("--redis-url", default=None)
    args = parser.parse_args()
    print("\n".join(run(args.requests, args.concurrency, args.redis_url, clients=args.clients)))


if __name__ == "__main__":
    main()

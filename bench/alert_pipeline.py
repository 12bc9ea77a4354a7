"""Alert pipeline figures, each against its floor measured in the same run, with concurrent senders.

phonebot and the floors are each served in their own process the same way (uvicorn via
``LoopbackServer``, 127.0.0.1); the vendor's side is a separate load process with
``--senders`` concurrent senders (shared out over ``--clients`` processes: one httpx client
juggling 16 connections is CPU-bound on its own); all use the same Redis.

1. **Webhook intake.** Tele2 lost-call webhooks (each a new caller) POSTed to
   ``/webhooks/tele2/...``; each 2xx means the events are authenticated, validated,
   deduplicated and durable in the queue. Floor: a bare Starlette endpoint that reads the
   same bodies and ``XADD``\\ s each to a stream in the same Redis, same senders.
2. **Delivery throughput.** From the first webhook sent to the last alert Slack confirmed,
   in alerts per second, with channel pacing off (the pipeline, not Slack's limit, is
   measured). Floor: the same number of ``chat.postMessage`` calls sent straight to the same
   fake Slack with the worker's concurrency (:data:`WORKER_CONCURRENCY`) — Slack writes alone.

    python -m bench.alert_pipeline [--alerts 300] [--senders 16] [--clients 2] [--redis-url URL]

Without ``--redis-url`` a throwaway ``redis-server`` is spawned; with it, that database is flushed.
"""

from __future__ import annotations

import argparse
import json
import time

from bench.common import (
    BOT_TOKEN,
    Job,
    Latency,
    LoadClient,
    Prepared,
    ServedApp,
    bench_redis,
    fakes,
    latency_row,
    phonebot_settings,
    rate_row,
    served,
)

WEBHOOK_SECRET = "bench-webhook-secret-0123456789"
CHANNEL = "C0BENCH"
WORKER_CONCURRENCY = 8
"""Subjects the alert worker handles at once (``AlertWorker``'s default)."""
DELIVERY_TIMEOUT_SECONDS = 120.0
MAX_ALERTS = 600
"""The route's ``digest_after_per_minute`` (its maximum): up to this many alerts each get their own post."""


def run(alerts: int, senders: int = 16, redis_url: str | None = None, *, clients: int = 2) -> list[str]:
    """Run the bench; returns the report lines."""
    from bot.webhook_auth import UrlTokens

    with bench_redis(redis_url) as redis, fakes() as (phones, slack), LoadClient(clients) as load:
        config = phones.config()
        config["alerts"] = {
            "routes": [{"channel": CHANNEL, "name": "Bench", "digest_after_per_minute": MAX_ALERTS}],
            "delivery": {"pace_seconds": 0},
        }
        settings = phonebot_settings(slack.url, redis, phonebot_webhook_secret=WEBHOOK_SECRET)
        phonebot = ServedApp("bench.apps:phonebot", settings=settings, config=config)
        floor_app = ServedApp("bench.apps:bare_xadd", redis_url=redis)
        with served(phonebot, floor_app):
            bodies = [
                json.dumps(phones.tele2.webhook_body("LostCallerAdded", {"callerid": f"+3706990{n:04d}"})).encode()
                for n in range(alerts)
            ]
            headers = {"Content-Type": "application/json"}
            token = UrlTokens(WEBHOOK_SECRET.encode()).token_for("tele2", "account")
            webhook_url = f"{phonebot.url}/webhooks/tele2/{token}/LostCallerAdded"

            def webhooks(url: str) -> list[Prepared]:
                return [Prepared("POST", url, body, headers) for body in bodies]

            load.run(Job(webhooks(floor_app.url + "/webhook")[: min(20, alerts)], concurrency=senders))  # warm-up
            floor = load.run(Job(webhooks(floor_app.url + "/webhook"), concurrency=senders))

            intake = load.run(Job(webhooks(webhook_url), concurrency=senders))
            first_sent = min(o.sent_at for o in intake.outcomes)
            if intake.failures:
                raise SystemExit(f"{len(intake.failures)} webhooks refused: {intake.failure_summary()}")
            deadline = time.monotonic() + DELIVERY_TIMEOUT_SECONDS
            while len(confirmed := [c for c in slack.calls_to("chat.postMessage") if c.status == 200]) < alerts:
                if time.monotonic() > deadline:
                    raise SystemExit(f"{len(confirmed)} of {alerts} alerts delivered in {DELIVERY_TIMEOUT_SECONDS} s")
                time.sleep(0.01)
            pipeline_seconds = max(c.at for c in confirmed) - first_sent

            post = {"Authorization": f"Bearer {BOT_TOKEN}", "Content-Type": "application/json; charset=utf-8"}
            direct = load.run(
                Job(
                    [
                        Prepared(
                            "POST",
                            slack.url + "chat.postMessage",
                            json.dumps({"channel": "C0FLOOR", "text": f"floor {n}"}).encode(),
                            post,
                        )
                        for n in range(alerts)
                    ],
                    concurrency=WORKER_CONCURRENCY,
                )
            )
    floor_latency = Latency.of(floor.latencies())
    floor_rate = alerts / direct.seconds
    return [
        f"{alerts} alerts, {senders} concurrent senders in {clients} load process(es), loopback HTTP, Redis; ms",
        latency_row("bare Starlette XADD (floor)", floor_latency, floor_latency),
        latency_row("Tele2 webhook → queued (ack)", Latency.of(intake.latencies()), floor_latency),
        rate_row("bare Starlette XADD intake (floor)", alerts, floor.seconds)
        + f"  client CPU {floor.cpu_seconds:.2f} s",
        rate_row("Tele2 webhook intake", alerts, intake.seconds, alerts / floor.seconds)
        + f"  client CPU {intake.cpu_seconds:.2f} s",
        rate_row(f"chat.postMessage alone, {WORKER_CONCURRENCY} at once (floor)", alerts, direct.seconds),
        rate_row("webhook → Slack, whole pipeline", alerts, pipeline_seconds, floor_rate),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=300)
    parser.add_argument("--senders", type=int, default=16)
    parser.add_argument("--clients", type=int, default=2, help="load processes sharing the senders")
    parser.add_argument("--redis-url", default=None)
    args = parser.parse_args()
    if not 1 <= args.alerts <= MAX_ALERTS:
        parser.error(
            f"--alerts must be 1..{MAX_ALERTS}: more would fold into a digest, which this bench doesn't measure"
        )
    print("\n".join(run(args.alerts, args.senders, args.redis_url, clients=args.clients)))


if __name__ == "__main__":
    main()

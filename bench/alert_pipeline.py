"""Alert pipeline figures against baselines measured in the same run.

Runs phonebot over loopback HTTP with the vendor simulators and a fake Slack Web API, then:

1. **Webhook ack latency.** Tele2 lost-call webhooks (each a new caller) are POSTed to
   ``/webhooks/tele2/...``; each answer means the events are authenticated, validated,
   deduplicated and durable in the queue. Baseline: ``GET /healthz`` on the same server.
2. **Delivery throughput.** From the first webhook to the last alert confirmed by Slack, in
   alerts per second, with channel pacing off (the pipeline, not Slack's limit, is measured).
   Baseline: the same number of ``chat.postMessage`` calls made directly with ``slack_sdk``
   against the same fake Slack, one after another — the cost of Slack writes alone.

    python -m bench.alert_pipeline [--alerts 300] [--redis-url redis://127.0.0.1:6379/15]

Without ``--redis-url`` the embedded store (in-process Redis) is used. With it, the database
is flushed first: point it at a scratch database.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import httpx
from slack_sdk.web.async_client import AsyncWebClient

from adapters.simulation import LoopbackServer
from bot.config import Settings, parse_config
from bot.runtime import build_runtime
from bot.server import build_asgi_app
from bot.simulate import SimulatedPhoneSystems
from bot.webhook_auth import UrlTokens
from tests.fakes.slack_api import FakeSlack

SECRET = "bench-signing-secret"
WEBHOOK_SECRET = "bench-webhook-secret-0123456789"
CHANNEL = "C0BENCH"


def percentiles(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples), statistics.quantiles(samples, n=20)[18]


async def direct_posts(slack_url: str, count: int) -> float:
    """Seconds for ``count`` sequential chat.postMessage calls straight from slack_sdk."""
    client = AsyncWebClient(token="xoxb-bench", base_url=slack_url)
    started = time.perf_counter()
    for n in range(count):
        await client.chat_postMessage(channel="C0BASELINE", text=f"baseline {n}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alerts", type=int, default=300)
    parser.add_argument("--redis-url", default=None)
    args = parser.parse_args()
    n: int = args.alerts
    if args.redis_url:
        import redis

        redis.Redis.from_url(args.redis_url).flushdb()
    with SimulatedPhoneSystems() as phones, FakeSlack() as slack:
        raw = phones.config()
        raw["alerts"] = {
            "routes": [{"channel": CHANNEL, "name": "Bench", "digest_after_per_minute": 600}],
            "delivery": {"pace_seconds": 0},
        }
        settings = Settings(
            slack_bot_token="xoxb-bench",
            slack_signing_secret=SECRET,
            slack_api_url=slack.url,
            redis_url=args.redis_url,
            phonebot_webhook_secret=WEBHOOK_SECRET,
        )
        runtime = build_runtime(settings, parse_config(raw, source="bench"))
        token = UrlTokens(WEBHOOK_SECRET.encode()).token_for("tele2", "account")
        with LoopbackServer(build_asgi_app(runtime), lifespan="on") as server, httpx.Client() as client:
            url = f"{server.url}/webhooks/tele2/{token}/LostCallerAdded"
            for _ in range(20):  # warm-up
                client.get(server.url + "/healthz")
            baseline = []
            for _ in range(n):
                started = time.perf_counter()
                client.get(server.url + "/healthz")
                baseline.append((time.perf_counter() - started) * 1000)

            acks = []
            first_sent = time.perf_counter()
            for index in range(n):
                body = phones.tele2.webhook_body("LostCallerAdded", {"callerid": f"+3706990{index:04d}"})
                started = time.perf_counter()
                answer = client.post(url, json=body)
                acks.append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 200, answer.text
            deadline = time.monotonic() + 300
            while len([c for c in slack.calls_to("chat.postMessage") if c.status == 200]) < n:
                if time.monotonic() > deadline:
                    raise SystemExit("alerts were not all delivered within 300 s")
                time.sleep(0.01)
            pipeline_seconds = time.perf_counter() - first_sent

        direct_seconds = asyncio.run(direct_posts(slack.url, n))

    base_p50, base_p95 = percentiles(baseline)
    ack_p50, ack_p95 = percentiles(acks)
    store = "Redis at " + args.redis_url if args.redis_url else "embedded store"
    print(f"{n} alerts, loopback HTTP, {store}")
    print(f"{'GET /healthz (baseline)':<40} p50 {base_p50:7.2f} ms  p95 {base_p95:7.2f} ms  ratio(p50) 1.00x")
    print(
        f"{'Tele2 webhook → queued (ack)':<40} p50 {ack_p50:7.2f} ms  p95 {ack_p95:7.2f} ms"
        f"  ratio(p50) {ack_p50 / base_p50:5.2f}x  slowest {max(acks):.1f} ms"
    )
    direct_rate, pipeline_rate = n / direct_seconds, n / pipeline_seconds
    print(f"{'slack_sdk posts alone (baseline)':<40} {direct_rate:8.1f} msg/s  ratio 1.00x")
    print(
        f"{'webhook → Slack, whole pipeline':<40} {pipeline_rate:8.1f} alerts/s"
        f"  ratio {pipeline_rate / direct_rate:5.2f}x  ({pipeline_seconds:.2f} s for {n})"
    )


if __name__ == "__main__":
    main()

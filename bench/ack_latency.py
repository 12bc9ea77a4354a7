"""Ack latency of slash commands against a same-run baseline (GET /healthz).

Runs phonebot over loopback HTTP with the vendor simulators, a fake Slack Web API and the
embedded store, then sends signed slash commands. Reports p50/p95 in ms and as a ratio of
the baseline measured in the same run, once with a fast vendor and once with a vendor that
takes 2 s to answer (the ack must not notice).

    python -m bench.ack_latency [--requests 200]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import httpx

from adapters.simulation import LoopbackServer
from bot.config import Settings, parse_config
from bot.runtime import build_runtime
from bot.server import build_asgi_app
from bot.simulate import DEMO_SLACK_USERS, SimulatedPhoneSystems
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import SlackSigner

SECRET = "bench-secret"


def measure(n: int, send: Callable[[], httpx.Response]) -> list[float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        response = send()
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    return samples


def summary(name: str, samples: list[float], baseline_p50: float) -> str:
    p50 = statistics.median(samples)
    p95 = statistics.quantiles(samples, n=20)[18]
    return f"{name:<38} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms  ratio(p50) {p50 / baseline_p50:5.2f}x"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    n = parser.parse_args().requests
    with SimulatedPhoneSystems() as phones, FakeSlack() as slack:
        for user in DEMO_SLACK_USERS:
            slack.add_user(user.id, name=user.name, email=user.email or "", tz=user.tz or "UTC")
        config = parse_config(phones.config(), source="bench")
        settings = Settings(slack_bot_token="xoxb-bench", slack_signing_secret=SECRET, slack_api_url=slack.url)
        runtime = build_runtime(settings, config)
        signer = SlackSigner(SECRET)
        with LoopbackServer(build_asgi_app(runtime), lifespan="on") as server, httpx.Client() as client:

            def command(name: str, text: str) -> Callable[[], httpx.Response]:
                def send() -> httpx.Response:
                    body, headers = signer.slash_command(
                        name, text, user_id="U0ALICE", user_name="alice", response_url=slack.new_response_url()
                    )
                    return client.post(server.url + "/slack/events", content=body, headers=headers)

                return send

            def healthz() -> httpx.Response:
                return client.get(server.url + "/healthz")

            measure(20, healthz)  # warm-up
            measure(20, command("/queue", "status"))
            baseline = measure(n, healthz)
            base_p50 = statistics.median(baseline)
            print(f"{n} requests each, loopback HTTP, embedded store")
            print(summary("GET /healthz (baseline)", baseline, base_p50))
            print(summary("/phonebot help (answered in the ack)", measure(n, command("/phonebot", "help")), base_p50))
            print(summary("/queue status (vendor fast)", measure(n, command("/queue", "status")), base_p50))
            phones.dstny.set_faults(latency=2.0)
            slow = measure(max(20, n // 10), command("/queue", "status"))
            print(summary("/queue status (vendor takes 2 s)", slow, base_p50))
            print(f"slowest ack with the 2 s vendor: {max(slow):.1f} ms (Slack's limit: 3000 ms)")
            phones.dstny.clear_faults()


if __name__ == "__main__":
    main()

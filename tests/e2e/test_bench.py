"""The benches run end to end with tiny counts, so they can't rot (the figures themselves are not judged)."""

from __future__ import annotations

import re

import pytest

from bench import ack_latency, alert_pipeline, burst
from bench.common import Latency, Targets, percentile

pytestmark = pytest.mark.e2e

FIGURES = re.compile(r"n +(\d+) +p50 +[\d.]+ +p95 +[\d.]+ +p99 +[\d.]+ +max +[\d.]+ ms")


def rows(lines: list[str]) -> dict[str, int]:
    """Row name → sample count, for every latency row of a report."""
    found = {}
    for line in lines:
        if match := FIGURES.search(line):
            found[line[: match.start()].strip()] = int(match.group(1))
    return found


def test_percentiles_are_nearest_rank_and_targets_fail_once_any_fails() -> None:
    samples = [float(n) for n in range(1, 101)]
    assert (percentile(samples, 50), percentile(samples, 99), percentile(samples, 100)) == (50.0, 99.0, 100.0)
    assert Latency.of([5.0]).p99 == 5.0
    targets = Targets()
    targets.check("fast", True, "ok")
    targets.check("slow", False, "too slow")
    assert not targets.ok
    assert targets.lines == ["PASS  fast: ok", "FAIL  slow: too slow"]


def test_ack_latency_bench_compares_phonebot_with_bare_bolt(redis_url: str) -> None:
    report = rows(ack_latency.run(requests=3, redis_url=redis_url, slow_vendor=0.5))
    assert report == {
        "trivial 200 (client + uvicorn floor)": 3,
        "bare Bolt ack (floor)": 3,
        "/phonebot help (answered in the ack)": 3,
        "/queue status (vendor fast)": 3,
        "/queue status (vendor takes 0.5 s)": 5,
    }


def test_alert_pipeline_bench_delivers_every_alert_against_its_floors(redis_url: str) -> None:
    lines = alert_pipeline.run(alerts=6, senders=3, redis_url=redis_url)
    assert rows(lines) == {"bare Starlette XADD (floor)": 6, "Tele2 webhook → queued (ack)": 6}
    assert any(line.startswith("webhook → Slack, whole pipeline") and "(6 in " in line for line in lines)


def test_burst_bench_measures_floors_and_the_after_burst_answer(redis_url: str) -> None:
    lines, targets = burst.run(
        rate=20, seconds=0.25, vendor_latency=0.05, redis_url=redis_url, timeout=5, answer_timeout=10
    )
    assert rows(lines) == {
        "trivial 200 (client + uvicorn floor)": 5,
        "client send lag (late against schedule)": 5,
        "bare Bolt ack (floor)": 5,
        "phonebot ack during the burst": 5,
    }
    assert "burst commands answered by the end: 5 of 5" in lines
    assert any(re.match(r"after-burst /queue status: .* answer [\d.]+ s: '\*Support\*", line) for line in lines)
    verdicts = [re.match(r"(PASS|FAIL)  ([^:]+):", line) for line in targets.lines]
    assert [v.group(2) for v in verdicts if v] == [
        "ack p99 during the burst ≤ 1.3x bare Bolt",
        "every ack < 3 s",
        "after-burst answer < 3 s",
    ]

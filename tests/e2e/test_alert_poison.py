"""One bad alert never stops the others, and a crashed task is restarted, seen in ``/metrics`` and ``/readyz``.

Everything over real HTTP: Tele2 webhooks from its simulator, the fake Slack, a spawned redis-server.
Faults come from outside phonebot: what a vendor may send, what Redis may hold.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import httpx
import pytest
import redis

from bot.alerts.queue import GROUP
from bot.cli import main
from bot.simulate import SimulatedPhoneSystems
from tests.e2e.alerting import STREAM, alert_overrides, settle, subscribe, wait_until, writes
from tests.e2e.conftest import RunningApp, start_app
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import SlackSigner

CHANNEL = "C0LOST"
ALERTS = alert_overrides({"channel": CHANNEL, "name": "Support", "digest_after_per_minute": 200})
DEAD = "phonebot:alerts:dead"
pytestmark = pytest.mark.phonebot(overrides=ALERTS)


@pytest.fixture
def store(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


def _posted_callers(slack: FakeSlack) -> list[str]:
    return [
        match.group(0)
        for call in writes(slack)
        if call.method == "chat.postMessage" and (match := re.search(r"\+3706\d+", call.args["text"]))
    ]


def _button_values(slack: FakeSlack) -> list[str]:
    values = []
    for call in writes(slack):
        for block in call.args.get("blocks") or []:
            values += [element.get("value", "") for element in block.get("elements", []) if "action_id" in element]
    return values


def _metric(app: RunningApp, name: str, labels: str = "") -> float:
    text = httpx.get(f"{app.url}/metrics").text
    match = re.search(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_a_2100_character_destination_does_not_stop_the_alerts_after_it(app: RunningApp) -> None:
    subscribe(app)
    sim = app.phones.tele2
    long_line = "9" * 2100
    answer = sim.send_webhook_sync("LostCallerAdded", {"callerid": "+37069900001", "destination": long_line})
    assert answer.status_code == 200
    sim.send_webhook_sync("LostCallerAdded", {"callerid": "+37069900002"})
    wait_until(lambda: len(_posted_callers(app.slack)) == 2)
    assert sorted(_posted_callers(app.slack)) == ["+37069900001", "+37069900002"]
    values = _button_values(app.slack)
    assert values and all(len(value) <= 2000 for value in values)  # Slack's limit for a button value
    assert max(len(json.loads(value)["subject"]) for value in values) <= 160
    assert httpx.get(f"{app.url}/readyz").json()["checks"]["alert_worker"] == "ok"


def test_a_record_that_cannot_be_read_dead_letters_its_subject_and_the_rest_is_delivered(
    app: RunningApp, store: redis.Redis
) -> None:
    subscribe(app)
    sim = app.phones.tele2
    sim.send_webhook_sync("LostCallerAdded", {"callerid": "+37069900003"})
    wait_until(lambda: len(_posted_callers(app.slack)) == 1)
    [record_key] = store.keys("phonebot:alerts:subject:*")
    store.set(record_key, '{"key": "half-expired", "targets": {"C0LOST": {}}}')  # what is left of a record
    sim.send_webhook_sync("LostCallerUpdated", {"callerid": "+37069900003", "attempts": 2})
    sim.send_webhook_sync("LostCallerAdded", {"callerid": "+37069900004"})
    wait_until(lambda: len(_posted_callers(app.slack)) == 2)
    wait_until(lambda: store.hlen(DEAD) == 1)
    [letter] = [json.loads(text) for text in store.hvals(DEAD)]
    assert letter["reason"].startswith("could not be handled: ValidationError")
    assert letter["transient"] is False
    settle(app, seconds=0.1)


def test_a_poison_entry_left_by_a_crashed_replica_is_dead_lettered_on_take_over_and_a_restart_is_fine(
    phones: SimulatedPhoneSystems,
    slack: FakeSlack,
    signer: SlackSigner,
    redis_url: str,
    store: redis.Redis,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Another replica read an entry nobody can parse, then died with it pending.
    store.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    poison_id = store.xadd(STREAM, {"sk": "tele2|lost:+37069900009:+37052000000", "event": '{"kind": "nonsense'})
    assert store.xreadgroup(GROUP, "crashed-replica", {STREAM: ">"}, count=10)
    for attempt in range(2):  # the first start takes it over; a restart finds nothing wrong
        app, server = start_app(phones, slack, signer, redis_url, overrides=ALERTS)
        try:
            subscribe(app)
            phones.tele2.send_webhook_sync("LostCallerAdded", {"callerid": f"+3706990002{attempt}"})
            wait_until(lambda expected=attempt + 1: len(_posted_callers(slack)) == expected)
            wait_until(lambda: store.hlen(DEAD) == 1)
            settle(app, seconds=0.1)
            assert httpx.get(f"{app.url}/readyz").status_code == 200
        finally:
            server.stop()
    monkeypatch.setenv("REDIS_URL", redis_url)
    assert main(["alerts", "dead"]) == 0
    out = capsys.readouterr().out
    assert poison_id in out and "unreadable queue entry" in out
    slack.assert_no_violations()


def test_a_crashing_worker_is_restarted_counted_and_shown_in_readyz(app: RunningApp, store: redis.Redis) -> None:
    subscribe(app)
    assert httpx.get(f"{app.url}/readyz").status_code == 200
    restarts = _metric(app, "phonebot_task_restarts_total", '{task="alert-worker"}')
    store.set("phonebot:alerts:releases", "not a sorted set")  # every worker round now fails (WRONGTYPE)
    wait_until(lambda: _metric(app, "phonebot_task_restarts_total", '{task="alert-worker"}') >= restarts + 1)

    def not_ready() -> bool:
        answer = httpx.get(f"{app.url}/readyz")
        return answer.status_code == 503 and answer.json()["checks"]["alert_worker"] != "ok"

    wait_until(not_ready)
    store.delete("phonebot:alerts:releases")
    app.phones.tele2.send_webhook_sync("LostCallerAdded", {"callerid": "+37069900005"})
    wait_until(lambda: _posted_callers(app.slack) == ["+37069900005"], timeout=15)
    wait_until(lambda: httpx.get(f"{app.url}/readyz").status_code == 200)
    assert _metric(app, "phonebot_task_running", '{task="alert-worker"}') == 1


@pytest.mark.phonebot(
    overrides=alert_overrides(
        {"channel": CHANNEL, "name": "Support"},
        delivery={
            "pace_seconds": 0.05,
            "retries": 0,
            "backoff_seconds": 0.05,
            "max_attempts": 2,
            "retry_window_seconds": 600,
            "take_over_after_seconds": 1,
            "ready_max_pending_age_seconds": 1,
        },
    )
)
def test_readyz_is_503_while_an_alert_waits_too_long_and_the_queue_gauges_say_so(app: RunningApp) -> None:
    subscribe(app)
    app.slack.fail("chat.postMessage", status=503, times=None)
    app.phones.tele2.send_webhook_sync("LostCallerAdded", {"callerid": "+37069900006"})

    def stuck() -> bool:
        answer = httpx.get(f"{app.url}/readyz")
        return answer.status_code == 503 and "waiting" in answer.json()["checks"]["alert_queue"]

    wait_until(stuck)
    assert _metric(app, "phonebot_alert_queue_depth") == 1
    assert _metric(app, "phonebot_alert_oldest_pending_seconds") > 1
    app.slack.clear_faults()
    wait_until(lambda: _posted_callers(app.slack) == ["+37069900006"], timeout=15)  # still retried, not parked
    wait_until(lambda: httpx.get(f"{app.url}/readyz").status_code == 200)

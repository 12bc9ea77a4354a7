"""Tele2 across restarts: webhook subscriptions never leak, and lost calls made while phonebot was down arrive once.

The simulator behaves as the documented API does (Swagger ``apiDefinition.swagger.json`` and seed
003): there is no ``GET /webhooks`` (the Swagger has only ``POST /webhooks/{Event}`` and
``DELETE /webhooks/{webhook_id}``, operation ``DeleteWebhookByID``), so it answers 404; the 21st
webhook gets "403 Webhook limit reached" (003, "Common errors and remedies"); ``GET /lost_calls``
(``GetLostCalls``; 003 "Get lost calls": "Retrieve all lost call records ... that have not been
answered, have been called back ...") lists the open lost callers.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from bot.simulate import SimulatedPhoneSystems
from tests.e2e.alerting import alert_overrides, settle, wait_until, writes
from tests.e2e.conftest import RunningApp, start_app
from tests.e2e.test_cli import WEBHOOK_SECRET, _env
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import SlackSigner

pytestmark = pytest.mark.e2e

PHONEBOT = [sys.executable, "-m", "bot.cli"]
#: What phonebot subscribes without call routes: the lost-caller and voicemail events.
ALERT_EVENTS = 5


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def ours(phones: SimulatedPhoneSystems, base: str) -> list[str]:
    """The callback URLs of the simulator's subscriptions that point at ``base``."""
    return sorted(w["endpoint"] for w in phones.tele2.subscriptions() if w["endpoint"].startswith(base))


@contextmanager
def served(
    phones: SimulatedPhoneSystems, slack: FakeSlack, signer: SlackSigner, redis_url: str, **options: object
) -> Iterator[RunningApp]:
    app, server = start_app(phones, slack, signer, redis_url, default_vendor="tele2", **options)  # type: ignore[arg-type]
    try:
        yield app
    finally:
        server.stop()


# -- point 1: serve and sync never leak subscriptions ----------------------------------------------
def test_repeated_serve_starts_leave_exactly_the_subscriptions_phonebot_needs(
    phones: SimulatedPhoneSystems, slack: FakeSlack, signer: SlackSigner, redis_url: str
) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}/webhooks/tele2/"
    for start in range(4):
        with served(phones, slack, signer, redis_url, public_url=True, port=port) as app:
            wait_until(lambda: app.runtime.alerts.startup_sync is not None)
            summary = (app.runtime.alerts.startup_sync or {})["tele2"]
            assert not summary.startswith("failed"), summary
            assert summary.startswith(f"{ALERT_EVENTS if start == 0 else 0} created"), summary
        # On main (GET /webhooks 404 read as "none"): 5, 10, 15, then "Webhook limit reached".
        assert len(ours(phones, base)) == ALERT_EVENTS
    assert len(phones.tele2.webhooks) == 2 + ALERT_EVENTS  # the two foreign flows untouched


def test_webhooks_sync_and_prune_from_the_command_line(
    tmp_path: Path, phones: SimulatedPhoneSystems, redis_url: str
) -> None:
    config = tmp_path / "phonebot.yml"
    config.write_text(yaml.safe_dump({"vendors": {"tele2": phones.config()["vendors"]["tele2"]}}))
    env = _env(REDIS_URL=redis_url, **WEBHOOK_SECRET)

    def phonebot(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*PHONEBOT, "webhooks", *args, "--config", str(config)], capture_output=True, text=True, env=env, timeout=60
        )

    old, new = "https://old.phonebot.example", "https://phonebot.example"
    for run in range(2):
        synced = phonebot("sync", "--public-url", old)
        assert synced.returncode == 0, synced.stderr
        assert synced.stdout.startswith("tele2: 0 created, 5 reused" if run else "tele2: 5 created")
        assert len(ours(phones, f"{old}/webhooks/tele2/")) == ALERT_EVENTS  # on main: 5, then 10

    moved = phonebot("sync", "--public-url", new)  # the public URL changed: the old five are stale now
    assert "5 stale subscription(s) of phonebot's remain (phonebot webhooks prune)" in moved.stdout
    pruned = phonebot("prune", "--public-url", new)
    assert pruned.returncode == 0 and pruned.stdout.strip() == "tele2: 5 stale subscription(s) removed, 5 current kept"
    assert ours(phones, f"{old}/webhooks/tele2/") == [] and len(ours(phones, f"{new}/webhooks/tele2/")) == 5
    assert len(phones.tele2.webhooks) == 2 + 5  # someone else's two webhooks are never touched


# -- point 15: lost calls made while phonebot was down ---------------------------------------------
ROUTES = alert_overrides({"channel": "C0LOST", "kinds": ["lost_call"]}, poll_interval_seconds=0.3)


def polls(phones: SimulatedPhoneSystems) -> int:
    return sum(1 for r in phones.tele2.requests if r.path == "/api/v2/lost_calls")


def test_lost_calls_made_while_phonebot_was_down_are_posted_once(
    phones: SimulatedPhoneSystems, slack: FakeSlack, signer: SlackSigner, redis_url: str
) -> None:
    sim = phones.tele2
    early, _ = sim.lose_call("+37069900001", contact_name="UAB Ankstus")
    with served(phones, slack, signer, redis_url, overrides=ROUTES) as app:
        # First start: the callers still open are backfilled (GET /lost_calls), once.
        wait_until(lambda: any("+37069900001" in c.args.get("text", "") for c in writes(slack)))
        settle(app)
    posted = len(writes(slack))
    assert posted == 1

    # phonebot is down: two callers are lost (their webhooks reach nobody), the early one is called back.
    sim.lose_call("+37069900002", contact_name="UAB Medis")
    sim.lose_call("+37069900003")
    sim.lose_call("+37069900003")  # and tries again
    sim.reach_caller("+37069900001")

    with served(phones, slack, signer, redis_url, overrides=ROUTES) as app:
        wait_until(lambda: len(writes(slack)) >= posted + 3)
        settle(app)
    texts = [c.args.get("text", "") for c in slack.calls_to("chat.postMessage")]
    assert sum("+37069900002" in t for t in texts) == 1 and sum("+37069900003" in t for t in texts) == 1
    resolved = [c for c in writes(slack) if c.method == "chat.update" or c.args.get("thread_ts")]
    assert resolved, "the early caller, called back while phonebot was down, is shown resolved"
    after_second = len(writes(slack))

    with served(phones, slack, signer, redis_url, overrides=ROUTES) as app:
        seen = polls(phones)
        wait_until(lambda: polls(phones) >= seen + 3)  # several rounds of the backfill, nothing new
        settle(app)
    assert len(writes(slack)) == after_second  # a third start posts nothing again
    assert early == "LostCallerAdded"


def test_a_lost_call_pushed_and_listed_is_posted_once(
    phones: SimulatedPhoneSystems, slack: FakeSlack, signer: SlackSigner, redis_url: str
) -> None:
    """The webhook and the list give the same idempotency key: one post, however it arrives."""
    with served(phones, slack, signer, redis_url, overrides=ROUTES, public_url=True) as app:
        wait_until(lambda: app.runtime.alerts.startup_sync is not None)
        seen = polls(phones)
        phones.tele2.send_webhook_sync("LostCallerAdded")  # delivered, and now listed by GET /lost_calls too
        wait_until(lambda: polls(phones) >= seen + 3)
        settle(app)
    posts = slack.calls_to("chat.postMessage")
    assert len([c for c in posts if "+37069912345" in c.args.get("text", "")]) == 1

"""The ``phonebot`` command itself, run as a subprocess like a person would."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from bot.simulate import SimulatedPhoneSystems
from tests.fakes.fixtures import SIGNING_SECRET
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import SlackClientSim, SlackSigner

pytestmark = pytest.mark.e2e

PHONEBOT = [sys.executable, "-m", "bot.cli"]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "REDIS_", "PHONEBOT_"))}
    env.update(extra)
    return env


def run(*args: str, stdin: str = "", timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PHONEBOT, *args], input=stdin, capture_output=True, text=True, timeout=timeout, env=_env(**env)
    )


def test_console_simulate_reads_commands_from_a_pipe() -> None:
    result = run("console", "--simulate", stdin="/presence lunch 45m\n/queue status\n/call jensen\n1\n")
    assert result.returncode == 0, result.stderr
    assert "not durable" in result.stderr
    out = result.stdout
    assert "> /presence lunch 45m" in out and "Your phone presence is now Lunch until" in out
    assert "Support" in out and "waiting" in out
    assert "[1] Jens Jensen" in out and "Calling Jens Jensen" in out
    assert "Traceback" not in out + result.stderr


def test_console_simulate_relatel_and_other_users() -> None:
    result = run("console", "--simulate", "--vendor", "relatel", "--as", "bob", stdin="/phonebot whoami\n")
    assert result.returncode == 0, result.stderr
    assert "Relatel user 2" in result.stdout and "with your own token" in result.stdout


def test_check_simulate_prints_the_capability_table() -> None:
    result = run("check", "--simulate")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "config: ok (" in out and " vendor(s): dstny, relatel, tele2" in out
    assert "\nadmins: 1 (U0ALICE)\n" in out
    assert "store: ok (embedded in-process store" in out
    assert "slack: skipped" in out
    assert "Dstny (dstny)" in out and "Relatel (relatel)" in out and "Multisender (multisender)" in out
    dstny_rows = out.split("Relatel (relatel)")[0]
    assert "presence.read" in dstny_rows and "call.dial" in dstny_rows and "declared" in dstny_rows
    relatel_rows = out.split("Relatel (relatel)")[1]
    assert "presence.activities    no" in relatel_rows


def test_bad_config_names_file_field_and_problem(tmp_path: Path) -> None:
    config = tmp_path / "phonebot.yml"
    config.write_text("vendors:\n  dstny:\n    base_url: https://bc.example.com\n    token: x\n    user: svc\n")
    result = run("check", "--config", str(config))
    assert result.returncode == 2
    assert f"{config}: vendors.dstny.domain: Field required" in result.stderr
    assert "Traceback" not in result.stderr


def test_socket_mode_needs_an_app_token() -> None:
    result = run("serve", "--simulate", "--socket-mode", SLACK_BOT_TOKEN="xoxb-test")
    assert result.returncode == 2
    assert "SLACK_APP_TOKEN" in result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(base: str, timeout: float = 30.0) -> dict[str, str]:
    """``/readyz``'s checks once it answers 200 (the command worker process takes a moment to start)."""
    deadline = time.monotonic() + timeout
    while True:
        ready = httpx.get(base + "/readyz", timeout=5)
        if ready.status_code == 200:
            checks: dict[str, str] = ready.json()["checks"]
            return checks
        assert time.monotonic() < deadline, ready.text
        time.sleep(0.1)


def test_serve_answers_signed_slack_requests(fake_slack: FakeSlack, redis_url: str) -> None:
    port = _free_port()
    env = _env(
        SLACK_BOT_TOKEN="xoxb-test-token",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack.url,
        REDIS_URL=redis_url,
    )
    proc = subprocess.Popen(
        [*PHONEBOT, "serve", "--simulate", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, "phonebot serve did not come up"
            time.sleep(0.1)
        checks = wait_ready(base)
        assert set(checks) == {
            *("store", "slack", "vendors", "alert_worker", "alert_queue"),
            *("command_workers", "command_queue"),
        } and set(checks.values()) == {"ok"}
        signer = SlackSigner(SIGNING_SECRET)
        body, headers = signer.slash_command(
            "/phonebot", "help", user_id="U0ALICE", user_name="alice", response_url=fake_slack.new_response_url()
        )
        response = SlackClientSim(base, signer).send_sync(body, headers)
        assert response.status_code == 200 and "/presence" in response.json()["text"]
        assert "phonebot_commands_total" in httpx.get(base + "/metrics").text
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_webhooks_url_gives_secret_urls_to_unsigned_vendors_and_plain_ones_to_signed_vendors() -> None:
    secret = {"PHONEBOT_WEBHOOK_SECRET": "cli-test-webhook-secret-0123456789"}
    base = "https://pb.example.com"
    first = run("webhooks", "url", "multisender", "rsvp-42", "--public-url", base, **secret)
    again = run("webhooks", "url", "multisender", "rsvp-42", "--public-url", base, **secret)
    other = run("webhooks", "url", "multisender", "rsvp-43", "--public-url", base, **secret)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(f"{base}/webhooks/multisender/rsvp-42.") and first.stdout == again.stdout
    assert other.stdout != first.stdout  # one unguessable URL per resource
    signed = run("webhooks", "url", "relatel", "--public-url", base, **secret)
    assert signed.returncode == 0 and signed.stdout.strip() == f"{base}/webhooks/relatel"
    assert "webhook_secret" in signed.stderr
    unknown = run("webhooks", "url", "nosuchvendor", "--public-url", base)
    assert unknown.returncode == 2 and "known: dstny, multisender, relatel, tele2" in unknown.stderr


# -- the front door: serve refuses what it cannot do well, and says what it does ---------------------
SERVE_ENV = {"SLACK_SIGNING_SECRET": SIGNING_SECRET}
WEBHOOK_SECRET = {"PHONEBOT_WEBHOOK_SECRET": "cli-test-webhook-secret-0123456789"}


def _config(tmp_path: Path, vendors: dict[str, object]) -> str:
    path = tmp_path / "phonebot.yml"
    path.write_text(yaml.safe_dump({"vendors": vendors}))
    return str(path)


def _relatel(phones: SimulatedPhoneSystems) -> dict[str, object]:
    return {"relatel": phones.config()["vendors"]["relatel"]}


class Served:
    """A ``phonebot serve`` subprocess that answered ``/healthz``; ``stop()`` returns its stderr."""

    def __init__(self, *args: str, **env: str) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [*PHONEBOT, "serve", "--host", "127.0.0.1", "--port", str(self.port), *args],
            env=_env(**env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                raise AssertionError(self.proc.communicate()[1])
            assert time.monotonic() < deadline, "phonebot serve did not come up"
            time.sleep(0.1)

    def readyz(self) -> httpx.Response:
        return httpx.get(self.base + "/readyz", timeout=10)

    def stop(self) -> str:
        self.proc.send_signal(signal.SIGTERM)
        try:
            _, err = self.proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return err


def test_serve_without_redis_refuses_unless_embedded_store_and_a_webhook_secret(
    tmp_path: Path, phones: SimulatedPhoneSystems
) -> None:
    config = _config(tmp_path, _relatel(phones))
    refused = run("serve", "--config", config, **SERVE_ENV, **WEBHOOK_SECRET)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert refused.stderr.strip().splitlines() == [
        "phonebot: REDIS_URL is not set: alerts, dedupe and poll cursors would live in memory and be lost on "
        "restart. Set REDIS_URL, or pass --embedded-store to run without durability."
    ]
    no_secret = run("serve", "--config", config, "--embedded-store", **SERVE_ENV)
    assert no_secret.returncode == 2 and "Traceback" not in no_secret.stderr
    assert len(no_secret.stderr.strip().splitlines()) == 1
    assert "PHONEBOT_WEBHOOK_SECRET must be set" in no_secret.stderr and "every vendor subscription" in no_secret.stderr


def test_serve_on_the_embedded_store_warns_and_readyz_says_not_durable(
    tmp_path: Path, phones: SimulatedPhoneSystems, fake_slack: FakeSlack
) -> None:
    slack = {"SLACK_BOT_TOKEN": "xoxb-test-token", "SLACK_API_URL": fake_slack.url}
    served = Served(
        "--config", _config(tmp_path, _relatel(phones)), "--embedded-store", **SERVE_ENV, **WEBHOOK_SECRET, **slack
    )
    try:
        ready = served.readyz()
    finally:
        err = served.stop()
    # Chosen explicitly, so ready, but said plainly: a restart loses what is not yet posted.
    assert ready.status_code == 200, ready.text
    assert ready.json() == {
        "ready": True,
        "checks": {
            "store": "embedded (not durable)",
            "slack": "ok",
            "vendors": "ok",
            "alert_worker": "ok",
            "alert_queue": "ok",
            "command_workers": "ok",  # in this process: a worker process could not reach an embedded store
            "command_queue": "ok",
        },
    }
    assert "WARNING phonebot: running on the embedded store (--embedded-store)" in err and "lost on restart" in err
    assert f"listening on http://127.0.0.1:{served.port}" in err
    assert "alerts: no alerts.routes configured" in err
    assert "Traceback" not in err


def test_serve_with_no_vendors_is_not_ready(tmp_path: Path, redis_url: str, fake_slack: FakeSlack) -> None:
    slack = {"SLACK_BOT_TOKEN": "xoxb-test-token", "SLACK_API_URL": fake_slack.url}
    served = Served("--config", _config(tmp_path, {}), REDIS_URL=redis_url, **SERVE_ENV, **slack)
    try:
        ready = served.readyz()
    finally:
        err = served.stop()
    assert ready.status_code == 503
    assert ready.json()["checks"]["vendors"].startswith("none configured")
    assert ready.json()["checks"]["store"] == "ok"
    assert "no vendors configured" in err


def test_serve_simulate_needs_no_slack_credentials_and_says_where_alerts_go() -> None:
    served = Served("--simulate")
    try:
        ready = served.readyz()
        refused = httpx.post(served.base + "/slack/events", content=b"command=/phonebot&text=help")
    finally:
        err = served.stop()
    assert ready.status_code == 503 and ready.json()["checks"]["slack"] != "ok"  # honest: no Slack here
    assert refused.status_code == 401  # nothing unverified gets in
    assert "no SLACK_BOT_TOKEN, so the simulators' alerts for #phones are written to this log" in err
    assert "no SLACK_BOT_TOKEN: simulating without Slack" in err
    assert f"listening on http://127.0.0.1:{served.port}" in err
    assert "Traceback" not in err


def test_unreachable_redis_is_one_clear_line_for_serve_and_alerts_dead(tmp_path: Path) -> None:
    dead_redis = {"REDIS_URL": "redis://:hunter2@127.0.0.1:1/0"}
    served = run("serve", "--config", _config(tmp_path, {}), **SERVE_ENV, **dead_redis)
    letters = run("alerts", "dead", **dead_redis)
    for result in (served, letters):
        assert result.returncode == 1
        [line] = result.stderr.strip().splitlines()
        assert line.startswith("phonebot: Redis at redis://***@127.0.0.1:1/0 is unreachable"), line
        assert "hunter2" not in result.stderr + result.stdout


def test_check_without_a_config_says_what_is_missing(tmp_path: Path) -> None:
    missing = run("check")
    assert missing.returncode == 2
    assert missing.stdout.startswith("config: MISSING: pass --config FILE or set PHONEBOT_CONFIG")
    empty = run("check", "--config", _config(tmp_path, {}))
    assert empty.returncode == 1 and "config: NO VENDORS" in empty.stdout
    assert "admins: WARNING: none listed under admins:" in empty.stdout


def test_check_shows_a_relatel_poll_backlog(tmp_path: Path, phones: SimulatedPhoneSystems, redis_url: str) -> None:
    import json

    import redis

    from bot.alerts.poller import cursor_key

    cursor = {
        "calls_since": "2026-12-01T10:00:00Z",
        "backlog": {"ended_since": "2026-12-01T09:50:00Z", "started_before": "2026-12-01T09:55:00Z"},
    }
    with redis.Redis.from_url(redis_url) as client:
        client.set(cursor_key("relatel"), json.dumps(cursor))
    result = run("check", "--config", _config(tmp_path, _relatel(phones)), REDIS_URL=redis_url)
    assert result.returncode == 0, result.stdout + result.stderr
    [row] = [line for line in result.stdout.splitlines() if "alerts.backlog" in line]
    assert "WARNING" in row and "started at or before 2026-12-01T09:55:00Z are still to be read" in row


def test_check_with_add_to_slack_says_where_alerts_go_or_why_they_wait(
    tmp_path: Path, phones: SimulatedPhoneSystems, redis_url: str, fake_slack: FakeSlack
) -> None:
    """Issue 11: alerts go to SLACK_TEAM_ID's installation, else the only one; ``check`` says which, or why none."""
    import asyncio

    from cryptography.fernet import Fernet
    from slack_sdk.oauth.installation_store import Installation

    from bot.installs.records import StoreInstallationStore
    from bot.secret_box import SecretBox
    from bot.store import RedisStore

    key = Fernet.generate_key().decode()
    config = tmp_path / "phonebot.yml"
    config.write_text(yaml.safe_dump({"vendors": _relatel(phones), "alerts": {"routes": [{"channel": "C0LOST"}]}}))
    oauth = {
        "REDIS_URL": redis_url,
        "SLACK_API_URL": fake_slack.url,
        "SLACK_CLIENT_ID": "1111.2222",
        "SLACK_CLIENT_SECRET": "client-secret",
        "PHONEBOT_SECRET_KEY": key,
    }
    none = run("check", "--config", str(config), **oauth)
    assert none.returncode == 1
    assert "alerts: NOT POSTED: no workspace installed yet" in none.stdout, none.stdout

    async def install(*teams: str) -> None:
        store = RedisStore(redis_url)
        records = StoreInstallationStore(store, SecretBox.from_setting(key))
        for team in teams:
            await records.async_save(
                Installation(app_id="A0001", team_id=team, bot_token=f"xoxb-{team.lower()}", user_id="U0ALICE")
            )
        await store.close()

    asyncio.run(install("T0FIRST", "T0SECOND"))
    several = run("check", "--config", str(config), **oauth)
    assert several.returncode == 1
    several_line = "alerts: NOT POSTED: several workspaces installed (T0FIRST, T0SECOND): set SLACK_TEAM_ID to the one"
    assert several_line + " alerts go to" in several.stdout
    named = run("check", "--config", str(config), SLACK_TEAM_ID="T0SECOND", **oauth)
    assert named.returncode == 0, named.stdout + named.stderr
    assert "alerts: ok (posted in workspace T0SECOND: team" in named.stdout
    assert [call.token for call in fake_slack.calls_to("auth.test")] == ["xoxb-t0second"]
    assert "xoxb-t0second" not in named.stdout + named.stderr

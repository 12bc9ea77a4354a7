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
        checks = httpx.get(base + "/readyz").json()["checks"]
        assert checks == {"store": "ok", "slack": "ok", "alert_worker": "ok", "alert_queue": "ok"}
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

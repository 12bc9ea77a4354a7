"""Alerts without Slack: ``console --simulate`` shows channel alerts with working buttons, and ``serve
--simulate`` without a token writes them to its log. Both run the real CLI as a subprocess."""

from __future__ import annotations

import httpx
import pytest

from adapters.relatel.simulator import WEBHOOK_SECRET, RelatelSimulator
from tests.e2e.alerting import wait_until
from tests.e2e.test_cli import Served, run

pytestmark = pytest.mark.e2e


def _after(out: str, marker: str) -> str:
    assert marker in out, out
    return out[out.index(marker) + len(marker) :]


def test_console_shows_a_simulated_lost_call_and_its_call_back_button_works() -> None:
    result = run("console", "--simulate", stdin="/simulate lost-call\n1\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    # The alert the worker posted, from its blocks, before /simulate answers; then button 1's effect.
    alert = _after(out, "> /simulate lost-call\n── new in #phones ──\n")
    assert alert.startswith("☎ Lost call from +452")
    assert "[1] Call back\n  [2] I'll take it\n  [3] Resolve\n  [4] Snooze 30 min" in alert
    clicked = _after(alert, "in the Support queue.\n> 1\n")
    assert clicked.startswith("☎ Calling ") and "Your own phone rings first (Dstny)" in clicked
    # The click went through the alert actions: the message is re-rendered in place and noted in its thread.
    updated = _after(clicked, "── updated in #phones ──\n")
    assert "🙋 @alice is on it" in updated and "[2] Release" in updated
    assert "── new in #phones (thread) ──\n☎ @alice is calling back" in updated
    assert "Traceback" not in out + result.stderr


def test_console_voicemail_mark_heard_and_queue_burst() -> None:
    result = run("console", "--simulate", stdin="/simulate voicemail\n2\n/simulate queue-burst\n/simulate nonsense\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    voicemail = _after(out, "> /simulate voicemail\n── new in #phones ──\n📨 New voicemail from ")
    assert "[1] Call back\n  [2] Mark heard" in voicemail
    heard = _after(voicemail, "> 2\n")
    assert heard.startswith("👂 Marked heard. It is marked heard in Dstny too.")
    assert "heard by @alice" in _after(heard, "── updated in #phones ──\n")
    burst = _after(out, "> /simulate queue-burst\n")
    assert "🚨 Queue Support needs attention" in burst and "8 waiting" in burst
    assert "Try /simulate lost-call, /simulate voicemail, /simulate queue-burst." in out
    assert "Traceback" not in out + result.stderr


def test_console_tele2_lost_call_comes_through_its_lost_call_poll() -> None:
    result = run("console", "--simulate", "--vendor", "tele2", stdin="/simulate lost-call\n/simulate queue-burst\n")
    assert result.returncode == 0, result.stderr
    assert "── new in #phones ──\n☎ Lost call from +3706990000" in result.stdout
    assert "The simulated tele2 can't produce a queue-burst in the console; it offers lost-call." in result.stdout


def _metrics(served: Served) -> str:
    return httpx.get(served.base + "/metrics", timeout=5).text


def test_serve_simulate_without_slack_writes_alerts_to_its_log() -> None:
    served = Served("--simulate")
    try:
        # A Relatel webhook, signed with the simulation's secret, into the real webhook receiver (the same
        # call.ended envelope the Relatel alert tests send).
        sim = RelatelSimulator()
        call = sim.add_missed_call("4540000001", contact_name="Jens Jensen")
        answer = sim.send_webhook_sync(
            served.base + "/webhooks/relatel", "call.ended", {"call": call}, secret=WEBHOOK_SECRET
        )
        assert answer.status_code == 200, answer.text
        # The worker posts through the local sink, which logs it; wait until the worker counts it delivered.
        wait_until(lambda: 'phonebot_alert_deliveries_total{outcome="delivered"} 1.0' in _metrics(served))
    finally:
        err = served.stop()
    assert "so the simulators' alerts for #phones are written to this log (lines starting 'alert in #phones')" in err
    line = next((line for line in err.splitlines() if "alert in #phones (new" in line), None)
    assert line is not None, err
    assert "Lost call from *Jens Jensen" in line and "buttons: Call back, I'll take it, Resolve" in line
    assert "Traceback" not in err

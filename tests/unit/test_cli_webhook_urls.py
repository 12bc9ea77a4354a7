"""``phonebot webhooks url``: exactly the URL(s) to paste into a vendor's panel, one per event if the path has it."""

from __future__ import annotations

import pytest

from bot.cli import main
from bot.webhook_auth import UrlTokens

SECRET = "unit-test-webhook-secret-0123456789"
BASE = "https://phonebot.example"


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("REDIS_URL", "PHONEBOT_PUBLIC_URL", "PHONEBOT_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PHONEBOT_WEBHOOK_SECRET", SECRET)


def urls(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[list[str], str]:
    assert main(["webhooks", "url", *args, "--public-url", BASE]) == 0
    out, err = capsys.readouterr()
    return out.splitlines(), err


def test_tele2_gets_one_url_per_event_it_subscribes(capsys: pytest.CaptureFixture[str]) -> None:
    token = UrlTokens(SECRET.encode()).token_for("tele2", "account")
    lines, note = urls(capsys, "tele2")
    events = ["LostCallerAdded", "LostCallerUpdated", "LostCallerRemoved", "VoicemailCreated", "VoicemailDeleted"]
    # The same URLs `webhooks sync` registers (…/<token>/{event}), so the receiver reads the event from the path.
    assert lines == [f"{BASE}/webhooks/tele2/{token}/{event}" for event in events]
    assert "one per Tele2 Mobili Stotele webhook event" in note and "API \u2192 WEB HOOKS" in note
    with_calls, _ = urls(capsys, "tele2", "--call-events")
    assert len(with_calls) == 10
    assert {line.rsplit("/", 1)[1] for line in with_calls} >= {"CallStarted", "CallCompleted", "CallRecorded"}


def test_vendors_without_events_in_the_path_get_one_url(capsys: pytest.CaptureFixture[str]) -> None:
    lines, _ = urls(capsys, "multisender", "rsvp-42")
    token = UrlTokens(SECRET.encode()).token_for("multisender", "rsvp-42")
    assert lines == [f"{BASE}/webhooks/multisender/{token}"]
    assert urls(capsys, "relatel")[0] == [f"{BASE}/webhooks/relatel"]


def test_with_team_the_url_is_that_workspaces_own_under_its_own_token(capsys: pytest.CaptureFixture[str]) -> None:
    [line] = urls(capsys, "multisender", "rsvp-42", "--team", "T0ALPHA")[0]
    [other] = urls(capsys, "multisender", "rsvp-42", "--team", "E0ORG-T0BRAVO")[0]
    plain = UrlTokens(SECRET.encode()).token_for("multisender", "rsvp-42")
    assert line.startswith(f"{BASE}/w/T0ALPHA/webhooks/multisender/rsvp-42.")
    assert other.startswith(f"{BASE}/w/E0ORG-T0BRAVO/webhooks/multisender/rsvp-42.")
    assert len({line.rsplit("/", 1)[1], other.rsplit("/", 1)[1], plain}) == 3  # one secret per workspace
    assert urls(capsys, "relatel", "--team", "T0ALPHA")[0] == [f"{BASE}/w/T0ALPHA/webhooks/relatel"]
    assert main(["webhooks", "url", "tele2", "--team", "../T1", "--public-url", BASE]) == 2

"""Issue 12 points 4 and 9a over real HTTP: presence changed in the Dstny app shows in Slack within a poll.

Alice connects her Slack status (the real Connect flow at the fake Slack), then changes her presence "in the
Dstny app" (:meth:`DstnySimulator.change_in_app`, the state the simulator's API serves). The poller, a
supervised task of the running app, reads her presence through the simulator's Contacts Information API
(vendors/dstny.md §5.1 ``GET /api/contacts/info/v1/{domain}/{cid}``) and sets her Slack status through the
fake Slack's ``users.profile.*`` with her own token.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from handlers.slack_status import CONNECT_ACTION
from handlers.status_background import REVOKED_NOTE
from tests.e2e.alerting import wait_until
from tests.e2e.conftest import RunningApp
from tests.e2e.test_status_sync import button, connect, installed, open_home, presence

__all__ = ["installed"]

pytestmark = pytest.mark.phonebot(
    oauth=True,
    settings_overrides={"phonebot_presence_poll_seconds": 0.1, "phonebot_status_restore_seconds": 0.05},
)

ALICE = "U0ALICE"


def presence_reads(app: RunningApp) -> int:
    """The poller's (and /presence's) reads of Alice's presence at the Dstny simulator: phonebot is a service
    user there, so it reads her contact card (vendors/dstny.md §5.1 ``GET /api/contacts/info/v1/{domain}/{cid}``)."""
    card = "/api/contacts/info/v1/example.com/alice@example.com"
    return sum(1 for r in app.phones.dstny.requests if r.method == "GET" and r.path == card)


def passes(app: RunningApp, count: int = 2) -> None:
    """Wait until the poller has read Alice's presence ``count`` more times."""
    seen = presence_reads(app)
    wait_until(lambda: presence_reads(app) >= seen + count, timeout=10)


def test_a_presence_changed_in_the_dstny_app_shows_in_slack_and_the_previous_status_comes_back(
    installed: RunningApp,
) -> None:
    app = installed
    app.slack.set_status(ALICE, "Working from home", ":house:")
    connect(app)
    passes(app)  # the first look only notes what the phone shows
    assert app.slack.calls_to("users.profile.set") == []

    ends = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=45)
    app.phones.dstny.change_in_app("alice", "lunch", until=ends)
    wait_until(lambda: app.slack.status_of(ALICE).get("status_emoji") == ":hamburger:", timeout=10)
    status = app.slack.status_of(ALICE)
    assert status["status_text"] == "Lunch"
    assert abs(status["status_expiration"] - ends.timestamp()) <= 1
    passes(app)
    assert len(app.slack.calls_to("users.profile.set")) == 1  # shown once, not every pass

    app.phones.dstny.change_in_app("alice", "available")
    wait_until(lambda: app.slack.status_of(ALICE).get("status_emoji") == ":house:", timeout=10)
    assert app.slack.status_of(ALICE)["status_text"] == "Working from home"
    passes(app)
    assert len(app.slack.calls_to("users.profile.set")) == 2


def test_a_presence_phonebot_set_itself_is_not_shown_again(installed: RunningApp) -> None:
    app = installed
    connect(app)
    passes(app)
    assert "Slack status shows it too" in presence(app, "meeting 30m")
    assert len(app.slack.calls_to("users.profile.set")) == 1
    passes(app, 3)
    assert len(app.slack.calls_to("users.profile.set")) == 1  # /presence's own change: no echo
    presence(app, "available")
    sets = len(app.slack.calls_to("users.profile.set"))
    passes(app, 3)
    assert len(app.slack.calls_to("users.profile.set")) == sets


def test_a_revoked_token_found_by_a_restore_turns_sync_off_and_dms_once(installed: RunningApp) -> None:
    app = installed
    app.slack.set_status(ALICE, "Working from home", ":house:")
    connect(app)
    presence(app, "lunch 45m")
    [token] = [t for t in app.slack.oauth.tokens if t.startswith("xoxp-")]
    app.slack.oauth.revoke(token)
    assert app.runtime.status_restorer is not None
    later = time.time() + 46 * 60
    app.slack.clock = lambda: later
    app.runtime.status_restorer.clock = lambda: later
    [note] = app.slack.wait_for("chat.postMessage")
    assert note.args["channel"] == ALICE and note.args["text"] == REVOKED_NOTE
    assert not (note.token or "").startswith("xoxp-")  # the bot's token, not the refused one
    assert button(open_home(app, ALICE), CONNECT_ACTION) is not None  # sync is off: Connect is offered again
    reads = presence_reads(app)
    app.phones.dstny.change_in_app("alice", "meeting")
    presence(app, "dnd 10m")  # a later read of her phone; still no Slack call with the refused token
    assert presence_reads(app) > reads
    assert [c.token for c in app.slack.calls_to("users.profile.set")].count(token) == 1
    assert len(app.slack.calls_to("chat.postMessage")) == 1

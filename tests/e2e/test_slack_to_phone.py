"""Issue 12 points 5-7, over real HTTP: Slack huddles and Slack statuses set the phone presence, with no loops.

Signed ``user_huddle_changed`` / ``user_status_changed`` deliveries as Slack sends them, the Dstny simulator as
Alice's phone (matched by her Slack email), the person's switches kept with ``PersonPrefs`` in the test's Redis
as an App Home click keeps them. "Nothing happened" is waited on through the outcome counter of the event.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import REGISTRY

from adapters.simulation import Faults
from bot.installs.workspace import WorkspaceKey
from bot.status_sync.prefs import PersonPrefs, SyncPrefs
from bot.store import RedisStore
from handlers.slack_to_phone_listeners import HUDDLE_EVENT, STATUS_EVENT
from tests.e2e.conftest import RunningApp
from tests.e2e.test_status_sync import connect, installed, presence

__all__ = ["installed"]  # the fixture, shared with the phone -> Slack tests

pytestmark = pytest.mark.phonebot(oauth=True)

ALICE, BOB = "U0ALICE", "U0BOB"
PREFIX = WorkspaceKey(None, "T0001").data_prefix
_events = iter(range(1, 10_000))


def switch_on(app: RunningApp, user: str = ALICE, **prefs: bool) -> None:
    async def put() -> None:
        store = RedisStore(app.runtime.settings.redis_url or "")
        try:
            await PersonPrefs(store).put(PREFIX, user, SyncPrefs(**prefs))
        finally:
            await store.close()

    asyncio.run(put())


def outcome(event: str, done: str) -> float:
    return REGISTRY.get_sample_value("phonebot_commands_total", {"command": event, "outcome": done}) or 0.0


def wait_until(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def send(app: RunningApp, event_type: str, user: str, **profile: Any) -> None:
    """Deliver the event and wait until phonebot finished with it (any outcome)."""
    before = sum(outcome(event_type, done) for done in _OUTCOMES)
    event = {"type": event_type, "user": {"id": user, "team_id": "T0001", "profile": profile}, "event_ts": "1.2"}
    body, headers = app.signer.event_callback(event, event_id=f"EvToPhone{next(_events)}")
    started = time.monotonic()
    assert app.client.send_sync(body, headers).status_code == 200
    assert time.monotonic() - started < 3  # acked inside Slack's window
    wait_until(lambda: sum(outcome(event_type, done) for done in _OUTCOMES) > before)


_OUTCOMES = (
    "off", "echo", "nothing", "not_linked", "unsupported", "set", "restored", "left_alone", "busy", "failed", "error"
)  # fmt: skip


def huddle(app: RunningApp, user: str, on: bool) -> None:
    state = "in_a_huddle" if on else "default_unset"
    send(app, HUDDLE_EVENT, user, huddle_state=state, status_text="", status_emoji="", status_expiration=0)


def activity_writes(app: RunningApp) -> int:
    """Presence writes the Dstny simulator received (only Alice's phone changes in these tests)."""
    return sum(1 for r in app.phones.dstny.requests if r.method == "PUT" and r.path.endswith("/activity"))


def test_a_huddle_puts_the_phone_on_dnd_and_back_to_what_it_showed(installed: RunningApp) -> None:
    app = installed
    switch_on(app, huddle_to_phone=True)
    alice = app.phones.dstny.presence_of("alice")
    assert "Lunch" in presence(app, "lunch 2h")
    lunch_ends = alice.expires
    assert alice.activity == "lunch" and lunch_ends is not None

    huddle(app, ALICE, on=True)
    assert (alice.activity, alice.expires) == ("dnd", None)
    huddle(app, ALICE, on=True)  # Slack says it again (another user_change): still one write
    assert activity_writes(app) == 2

    huddle(app, ALICE, on=False)
    assert alice.activity == "lunch" and alice.expires == lunch_ends  # what it showed before the huddle
    huddle(app, ALICE, on=False)
    assert activity_writes(app) == 3


def test_after_a_huddle_the_phone_is_available_and_a_change_made_meanwhile_stays(installed: RunningApp) -> None:
    app = installed
    switch_on(app, huddle_to_phone=True)
    alice = app.phones.dstny.presence_of("alice")
    huddle(app, ALICE, on=True)
    assert alice.activity == "dnd"
    huddle(app, ALICE, on=False)
    assert alice.activity == "available"

    huddle(app, ALICE, on=True)
    presence(app, "meeting 30m")  # set by hand during the huddle
    huddle(app, ALICE, on=False)
    assert alice.activity == "meeting"
    assert outcome(HUDDLE_EVENT, "left_alone") >= 1


def test_a_person_without_the_switch_is_left_alone(installed: RunningApp) -> None:
    app = installed
    switch_on(app, BOB, huddle_to_phone=False, slack_status_to_phone=False)
    switch_on(app, ALICE, huddle_to_phone=False, slack_status_to_phone=False)
    off = outcome(HUDDLE_EVENT, "off")
    huddle(app, ALICE, on=True)
    send(app, STATUS_EVENT, ALICE, status_text="Lunch", status_emoji=":hamburger:", status_expiration=0)
    assert outcome(HUDDLE_EVENT, "off") == off + 1
    assert app.phones.dstny.presence_of("alice").activity == "available"
    assert activity_writes(app) == 0


def _next_1300(now: datetime) -> int:
    local = now.astimezone(ZoneInfo("Europe/Copenhagen"))
    at = local.replace(hour=13, minute=0, second=0, microsecond=0)
    if at <= local:
        at += timedelta(days=1)
    return int(at.timestamp())


def test_a_slack_status_sets_the_phone_until_it_ends_and_clearing_it_makes_the_phone_available(
    installed: RunningApp,
) -> None:
    app = installed
    switch_on(app, slack_status_to_phone=True)
    alice = app.phones.dstny.presence_of("alice")
    ends = _next_1300(datetime.now(UTC))
    send(app, STATUS_EVENT, ALICE, status_text="Lunch", status_emoji=":hamburger:", status_expiration=ends)
    assert alice.activity == "lunch"
    assert alice.expires is not None and int(alice.expires.timestamp()) == ends

    send(app, STATUS_EVENT, ALICE, status_text="Commuting", status_emoji=":train:", status_expiration=0)
    assert alice.activity == "available"
    send(app, STATUS_EVENT, ALICE, status_text="", status_emoji="", status_expiration=0)
    assert activity_writes(app) == 2  # nothing phonebot set from Slack is left to undo


def test_both_directions_on_no_loop(installed: RunningApp) -> None:
    app = installed
    connect(app)
    switch_on(app, slack_status_to_phone=True, huddle_to_phone=True)
    app.slack.set_status(ALICE, "Working from home", ":house:")

    assert "Slack status shows it too" in presence(app, "lunch 45m")
    assert activity_writes(app) == 1
    shown = app.slack.status_of(ALICE)
    assert shown["status_emoji"] == ":hamburger:"
    echoes = outcome(STATUS_EVENT, "echo")
    send(app, STATUS_EVENT, ALICE, **shown)  # what Slack sends for phonebot's own users.profile.set
    assert outcome(STATUS_EVENT, "echo") == echoes + 1
    assert activity_writes(app) == 1

    presence(app, "available")  # phonebot puts :house: back; Slack tells of that change too
    back = app.slack.status_of(ALICE)
    assert back["status_emoji"] == ":house:"
    send(app, STATUS_EVENT, ALICE, **back)
    assert activity_writes(app) == 2  # /presence available only

    profile_sets = len(app.slack.calls_to("users.profile.set"))
    huddle(app, ALICE, on=True)  # phone -> DND from Slack is not written back to Slack as a new phone change
    assert app.phones.dstny.presence_of("alice").activity == "dnd"
    assert len(app.slack.calls_to("users.profile.set")) == profile_sets


def test_a_phone_system_failure_is_told_once_an_hour_and_never_verbatim(installed: RunningApp) -> None:
    app = installed
    switch_on(app, slack_status_to_phone=True, huddle_to_phone=True)
    app.phones.dstny.faults = Faults(status=500)
    failed = outcome(STATUS_EVENT, "failed")
    send(app, STATUS_EVENT, ALICE, status_text="Lunch", status_emoji=":hamburger:", status_expiration=0)
    assert outcome(STATUS_EVENT, "failed") == failed + 1
    [note] = app.slack.wait_for("chat.postMessage")
    assert note.args["channel"] == ALICE and "couldn't update your phone presence" in note.args["text"]
    assert "500" not in note.args["text"]
    huddle(app, ALICE, on=True)
    assert outcome(HUDDLE_EVENT, "failed") >= 1
    assert len(app.slack.calls_to("chat.postMessage")) == 1  # at most one note an hour

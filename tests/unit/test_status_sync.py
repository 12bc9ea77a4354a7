"""Issue 12 points 1 and 2: which Slack status a presence shows, and the restore-don't-clobber rules.

The Slack side is a stand-in for the person's Web API client (the e2e tests use the fake Slack over HTTP).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.secret_box import SecretBox
from bot.status_sync.due import RETRY_SECONDS, DueRestorer, DueRestores
from bot.status_sync.mapping import OPEN_ENDED_SNOOZE_MINUTES, SlackStatus, status_for
from bot.status_sync.sync import Outcome, StatusSync
from bot.status_sync.tokens import StatusTokens
from bot.store.memory import MemoryStore

NOW = datetime(2026, 12, 3, 11, 0, tzinfo=UTC)
PREFIX, USER = "ws:-:T0001:", "U0ALICE"
KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="


@pytest.mark.parametrize(
    ("activity", "emoji", "text", "snooze"),
    [
        ("lunch", ":hamburger:", "Lunch", None),
        ("meeting", ":calendar:", "In a meeting", 45),
        ("dnd", ":no_entry:", "Do not disturb", 45),
        ("away", ":walking:", "Away", None),
        ("training", ":telephone_receiver:", "Training", None),
    ],
    ids=["lunch", "meeting", "dnd", "away", "vendor-activity"],
)
def test_each_activity_has_its_emoji_text_and_dnd(activity: str, emoji: str, text: str, snooze: int | None) -> None:
    shown = status_for(activity, activity, NOW + timedelta(minutes=45), NOW)
    assert (shown.status.emoji, shown.status.text, shown.snooze_minutes) == (emoji, text, snooze)
    assert shown.status.expiration == int((NOW + timedelta(minutes=45)).timestamp())


def test_an_open_ended_presence_never_expires_and_dnd_still_ends() -> None:
    shown = status_for("dnd", "dnd", None, NOW)
    assert shown.status.expiration == 0 and shown.snooze_minutes == OPEN_ENDED_SNOOZE_MINUTES
    assert status_for("lunch", "lunch", NOW + timedelta(seconds=61), NOW).status.expiration > NOW.timestamp() + 60


class PersonSlack:
    """One person's status and snooze as Slack keeps them; ``error`` makes every call fail with it."""

    def __init__(self) -> None:
        self.status = SlackStatus("", "", 0)
        self.snoozed: int | None = None
        self.error: str | None = None
        self.sets: list[dict[str, Any]] = []

    def _check(self) -> None:
        if self.error is not None:
            raise SlackApiError("refused", {"ok": False, "error": self.error})

    async def users_profile_get(self) -> dict[str, Any]:
        self._check()
        return {"ok": True, "profile": self.status.to_profile()}

    async def users_profile_set(self, *, profile: dict[str, Any]) -> dict[str, Any]:
        self._check()
        self.sets.append(profile)
        self.status = SlackStatus.from_profile(profile)
        return {"ok": True}

    async def dnd_setSnooze(self, *, num_minutes: int) -> dict[str, Any]:
        self._check()
        self.snoozed = num_minutes
        return {"ok": True}

    async def dnd_endSnooze(self) -> dict[str, Any]:
        self._check()
        if self.snoozed is None:
            raise SlackApiError("refused", {"ok": False, "error": "snooze_not_active"})
        self.snoozed = None
        return {"ok": True}


@pytest.fixture
async def parts() -> tuple[StatusSync, PersonSlack]:
    store = MemoryStore()
    slack = PersonSlack()
    tokens = StatusTokens(store, SecretBox.from_setting(KEY))
    await tokens.put(PREFIX, USER, "xoxp-secret-token", "users.profile:read")

    def client(token: str) -> AsyncWebClient:
        assert token == "xoxp-secret-token"
        return slack  # type: ignore[return-value]

    return StatusSync(store, tokens, client), slack


async def lunch(sync: StatusSync, minutes: int = 45, activity: str = "lunch") -> Outcome:
    until = NOW + timedelta(minutes=minutes)
    return await sync.presence_set(PREFIX, USER, activity=activity, label=activity, until=until, now=NOW)


async def test_the_previous_status_is_saved_once_and_put_back(parts: tuple[StatusSync, PersonSlack]) -> None:
    sync, slack = parts
    slack.status = SlackStatus("Working from home", ":house:", 0)
    assert await lunch(sync) is Outcome.SET
    assert await lunch(sync, 60, "meeting") is Outcome.SET  # phonebot's own showed: not saved as "previous"
    assert slack.snoozed == 60
    assert await sync.presence_cleared(PREFIX, USER, now=NOW) is Outcome.RESTORED
    assert slack.status == SlackStatus("Working from home", ":house:", 0) and slack.snoozed is None
    assert await sync.presence_cleared(PREFIX, USER, now=NOW) is Outcome.NOTHING


async def test_a_previous_status_that_expired_meanwhile_is_not_put_back(parts: tuple[StatusSync, PersonSlack]) -> None:
    sync, slack = parts
    ends = int((NOW + timedelta(minutes=30)).timestamp())
    slack.status = SlackStatus("Commuting", ":bus:", ends)
    await lunch(sync)
    later = NOW + timedelta(minutes=31)
    assert await sync.presence_cleared(PREFIX, USER, now=later) is Outcome.CLEARED
    assert slack.status.empty


async def test_a_hand_set_status_wins_and_the_saved_one_is_forgotten(parts: tuple[StatusSync, PersonSlack]) -> None:
    sync, slack = parts
    slack.status = SlackStatus("Working from home", ":house:", 0)
    await lunch(sync)
    slack.status = SlackStatus("Biking", ":bike:", 0)
    assert await sync.presence_cleared(PREFIX, USER, now=NOW) is Outcome.LEFT_ALONE
    assert slack.status.text == "Biking"
    await lunch(sync)  # the hand-set one is now the one to come back
    await sync.presence_cleared(PREFIX, USER, now=NOW)
    assert slack.status.text == "Biking"


@pytest.mark.parametrize("error", ["token_revoked", "invalid_auth"], ids=["revoked", "invalid-auth"])
async def test_a_revoked_token_is_forgotten(parts: tuple[StatusSync, PersonSlack], error: str) -> None:
    sync, slack = parts
    slack.error = error
    assert await lunch(sync) is Outcome.REVOKED
    assert not await sync.tokens.connected(PREFIX, USER)
    assert await lunch(sync) is Outcome.NOT_CONNECTED


async def test_another_slack_failure_keeps_the_token_and_reports_it(parts: tuple[StatusSync, PersonSlack]) -> None:
    sync, slack = parts
    slack.error = "ratelimited"
    assert await lunch(sync) is Outcome.FAILED
    assert await sync.tokens.connected(PREFIX, USER)


async def test_the_token_is_sealed_in_the_store(parts: tuple[StatusSync, PersonSlack]) -> None:
    sync, _ = parts
    raw = await sync.store.get(StatusTokens.key(PREFIX, USER))
    assert raw is not None and "xoxp-secret-token" not in raw


@pytest.fixture
async def scheduled() -> tuple[StatusSync, PersonSlack, DueRestores]:
    store = MemoryStore()
    slack = PersonSlack()
    tokens = StatusTokens(store, SecretBox.from_setting(KEY))
    await tokens.put(PREFIX, USER, "xoxp-secret-token", "users.profile:read")
    due = DueRestores(store.client)
    return StatusSync(store, tokens, lambda token: slack, due), slack, due  # type: ignore[arg-type,return-value]


async def test_an_ended_status_is_due_once_and_the_previous_comes_back(
    scheduled: tuple[StatusSync, PersonSlack, DueRestores],
) -> None:
    sync, slack, due = scheduled
    slack.status = SlackStatus("Working from home", ":house:", 0)
    await lunch(sync, 45)
    ends = int((NOW + timedelta(minutes=45)).timestamp())
    assert await due.take_due(NOW.timestamp()) == []
    [(prefix, user, at)] = await due.take_due(ends + 1)
    assert (prefix, user, at) == (PREFIX, USER, ends) and await due.take_due(ends + 1) == []  # taken once
    slack.status = SlackStatus("", "", 0)  # Slack cleared phonebot's at its expiration
    after = NOW + timedelta(minutes=46)
    assert await sync.restore_if_due(PREFIX, USER, at, after) is Outcome.RESTORED
    assert slack.status.text == "Working from home"


async def test_a_later_presence_or_a_hand_set_status_is_not_restored_over(
    scheduled: tuple[StatusSync, PersonSlack, DueRestores],
) -> None:
    sync, slack, due = scheduled
    await lunch(sync, 45)
    first = int((NOW + timedelta(minutes=45)).timestamp())
    await lunch(sync, 90)  # a later presence replaced the first: its restore moved with it
    assert await due.take_due(first + 1) == []
    assert await sync.restore_if_due(PREFIX, USER, first, NOW) is Outcome.NOTHING
    slack.status = SlackStatus("Biking", ":bike:", 0)
    later = int((NOW + timedelta(minutes=90)).timestamp())
    assert await sync.restore_if_due(PREFIX, USER, later, NOW + timedelta(minutes=91)) is Outcome.LEFT_ALONE
    assert slack.status.text == "Biking"


async def test_available_and_disconnect_cancel_the_restore(
    scheduled: tuple[StatusSync, PersonSlack, DueRestores],
) -> None:
    sync, _, due = scheduled
    await lunch(sync, 45)
    await sync.presence_cleared(PREFIX, USER, now=NOW)
    await lunch(sync, 45)
    await sync.disconnect(PREFIX, USER)
    assert await due.take_due(NOW.timestamp() + 86400) == []


async def test_an_uninstalled_workspaces_restores_are_dropped_and_no_other_workspaces() -> None:
    due = DueRestores(MemoryStore().client)
    await due.add("ws:-:T1:", "U1", 100)
    await due.add("ws:-:T1:", "U2", 200)
    await due.add("ws:-:T10:", "U1", 100)  # a prefix that starts the same way is another workspace
    assert await due.forget_workspace("ws:-:T1:") == 2
    assert await due.take_due(1000) == [("ws:-:T10:", "U1", 100)]


async def test_a_restore_slack_refused_is_tried_again_not_dropped_and_never_over_a_later_one() -> None:
    """Issue 12 point 9: a burst of restores Slack paces (429) or an outage is retried later, never dropped."""
    due = DueRestores(MemoryStore().client)
    outcomes = ["failed", "restored"]
    seen: list[tuple[str, int]] = []

    async def restore(prefix: str, user: str, at: int, now: datetime) -> object:
        seen.append((user, at))
        return outcomes.pop(0)

    restorer = DueRestorer(due, restore, interval=1, failed=lambda outcome: outcome == "failed")
    restorer.clock = lambda: 1000.0
    await due.add("ws:-:T1:", "U1", 900)
    assert await restorer.pass_once() == 1
    assert await due.take_due(1000) == []  # not due again yet...
    restorer.clock = lambda: 1000.0 + RETRY_SECONDS
    assert await restorer.pass_once() == 1  # ...but a minute later it is, and goes through
    assert seen == [("U1", 900), ("U1", int(1000 + RETRY_SECONDS))]
    assert await restorer.pass_once() == 0  # done: nothing left

    await due.add("ws:-:T1:", "U2", 5000)  # a later presence scheduled its own restore...
    assert not await due.retry("ws:-:T1:", "U2", 1060)  # ...so a retry does not move it earlier
    assert await due.take_due(1100) == []

"""Slack → phone (issue 12 points 6 and 7): the reverse emoji mapping and the loop guards."""

from __future__ import annotations

from datetime import timedelta

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from adapters.models import Activity, Presence
from bot.secret_box import SecretBox
from bot.status_sync.echoes import MAX_NOTES, FromSlack, PhoneFromSlack, PhoneShape, StatusEchoes
from bot.status_sync.mapping import DEFAULT_STATUSES, SlackStatus
from bot.status_sync.reverse import activity_for_emoji, until_of
from bot.status_sync.sync import StatusSync
from bot.status_sync.tokens import StatusTokens
from bot.store.memory import MemoryStore
from tests.unit.test_status_sync import KEY, NOW, PREFIX, USER, PersonSlack, lunch


@pytest.mark.parametrize(
    ("emoji", "activity"),
    [
        (":hamburger:", "lunch"),
        ("hamburger", "lunch"),
        (":Calendar:", "meeting"),
        (":no_entry:", "dnd"),  # shared with busy: the first listed wins
        (":walking:", "away"),  # shared with out
        (":palm_tree:", "vacation"),
        (":face_with_thermometer:", "sick"),
        (":house:", None),
        ("", None),
        ("::", None),
    ],
    ids=["lunch", "bare", "case", "dnd", "away", "vacation", "sick", "unmapped", "empty", "colons"],
)
def test_an_emoji_maps_back_to_its_activity(emoji: str, activity: str | None) -> None:
    assert activity_for_emoji(emoji) == activity


def test_every_activitys_emoji_maps_back_to_an_activity_showing_it() -> None:
    for emoji, _ in DEFAULT_STATUSES.values():
        found = activity_for_emoji(emoji)
        assert found is not None and DEFAULT_STATUSES[found][0] == emoji


def test_a_workspace_mapping_is_used_when_given() -> None:
    assert activity_for_emoji(":sandwich:", {"lunch": (":sandwich:", "Lunch")}) == "lunch"
    assert activity_for_emoji(":hamburger:", {"lunch": (":sandwich:", "Lunch")}) is None


def test_the_status_expiration_is_the_phone_presences_end() -> None:
    assert until_of(0, NOW) is None
    ends = NOW + timedelta(hours=2)
    assert until_of(int(ends.timestamp()), NOW) == ends.replace(microsecond=0)
    with pytest.raises(ValueError):
        until_of(int(NOW.timestamp()) - 1, NOW)


@pytest.fixture
async def sync_and_slack() -> tuple[StatusSync, PersonSlack]:
    store = MemoryStore()
    slack = PersonSlack()
    tokens = StatusTokens(store, SecretBox.from_setting(KEY))
    await tokens.put(PREFIX, USER, "xoxp-secret-token", "users.profile:read")

    def client(token: str) -> AsyncWebClient:
        return slack  # type: ignore[return-value]

    return StatusSync(store, tokens, client), slack


async def test_the_status_phonebot_set_and_the_one_it_put_back_are_its_own(
    sync_and_slack: tuple[StatusSync, PersonSlack],
) -> None:
    sync, slack = sync_and_slack
    slack.status = SlackStatus("Working from home", ":house:", 0)
    assert not await sync.is_own(PREFIX, USER, slack.status)  # the person's own, before phonebot did anything
    await lunch(sync)
    assert await sync.is_own(PREFIX, USER, slack.status)
    await sync.presence_cleared(PREFIX, USER, now=NOW)
    assert slack.status.emoji == ":house:" and await sync.is_own(PREFIX, USER, slack.status)  # the restore
    assert not await sync.is_own(PREFIX, "U0SOMEONE", slack.status)


async def test_the_same_emoji_set_by_hand_for_another_span_is_the_persons(
    sync_and_slack: tuple[StatusSync, PersonSlack],
) -> None:
    sync, slack = sync_and_slack
    await lunch(sync)
    ours = slack.status
    assert await sync.is_own(PREFIX, USER, SlackStatus(ours.text, ours.emoji, ours.expiration + 30))  # rounding
    later = SlackStatus(ours.text, ours.emoji, ours.expiration + 3600)
    assert not await sync.is_own(PREFIX, USER, later)
    assert not await sync.is_own(PREFIX, USER, SlackStatus("Lunch with the team", ours.emoji, ours.expiration))


async def test_echo_notes_are_bounded_per_person() -> None:
    echoes = StatusEchoes(MemoryStore())
    written = [SlackStatus(f"s{i}", ":x:", 0) for i in range(MAX_NOTES + 2)]
    for status in written:
        await echoes.wrote(PREFIX, USER, status)
    assert [await echoes.is_echo(PREFIX, USER, s) for s in written] == [False] * 2 + [True] * MAX_NOTES


async def test_a_phone_presence_set_from_slack_is_never_taken_for_a_phone_side_change() -> None:
    records = PhoneFromSlack(MemoryStore())
    dnd = Presence(available=False, activity=Activity(id="dnd", name="Do not disturb"))
    lunch_now = Presence(available=False, activity=Activity(id="lunch", name="Lunch"))
    assert not await records.is_own(PREFIX, USER, dnd)
    await records.put(PREFIX, USER, FromSlack(source="huddle", set=PhoneShape.of(dnd)), now=NOW)
    assert await records.is_own(PREFIX, USER, dnd)
    assert not await records.is_own(PREFIX, USER, lunch_now)  # changed in the phone app: a real change
    await records.forget(PREFIX, USER)
    assert not await records.is_own(PREFIX, USER, dnd)


def test_a_dnd_only_phone_shape_is_dnd() -> None:
    assert PhoneShape.of(Presence(available=False, dnd=True)).activity == "dnd"
    assert PhoneShape.of(Presence(available=True)).activity == "available"


def test_the_workspaces_own_emoji_set_the_phone_and_a_replaced_default_no_longer_does() -> None:
    from bot.status_sync.reverse import activity_for_emoji
    from bot.status_sync.workspace_status import StatusSettings
    from handlers.slack_to_phone import _statuses

    settings = StatusSettings.model_validate(
        {"activities": {"lunch": {"emoji": ":sandwich:", "text": "Out for lunch"}}}
    )
    assert activity_for_emoji(":sandwich:", _statuses(settings)) == "lunch"
    assert activity_for_emoji(":hamburger:", _statuses(settings)) is None  # the admin replaced it
    assert activity_for_emoji(":hamburger:", _statuses(None)) == "lunch"

"""Issue 12 point 8: the workspace's Slack status mapping (validated, looked up), each person's switches."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from bot.secret_box import SecretBox
from bot.status_sync.mapping import status_for
from bot.status_sync.prefs import SyncPrefs
from bot.status_sync.sync import Outcome, StatusSync
from bot.status_sync.tokens import StatusTokens
from bot.status_sync.workspace_status import MAX_ACTIVITIES, ActivityStatus, StatusSettings, valid_emoji
from bot.store.memory import MemoryStore
from bot.workspaces.settings import WorkspaceSettings
from handlers.setup.status_form import (
    ACTIVITIES_BLOCK,
    CALL_BLOCK,
    DEFAULTS_BLOCK,
    HUDDLE_BLOCK,
    MIN_CALL_BLOCK,
    read_status_form,
)
from handlers.slack_status_prefs import ticked
from tests.unit.test_status_sync import KEY, NOW, PREFIX, USER, PersonSlack, lunch

SCOPE = "-:T0001"
SANDWICH = StatusSettings(activities={"lunch": ActivityStatus(emoji=":sandwich:", text="Out for lunch")})


def test_the_workspaces_mapping_wins_over_the_defaults_and_the_rest_keep_theirs() -> None:
    until = NOW + timedelta(minutes=30)
    shown = status_for("lunch", "lunch", until, NOW, SANDWICH.lookup())
    assert (shown.status.emoji, shown.status.text) == (":sandwich:", "Out for lunch")
    assert status_for("meeting", "meeting", until, NOW, SANDWICH.lookup()).status.emoji == ":calendar:"
    assert status_for("dnd", "dnd", until, NOW, SANDWICH.lookup()).snooze_minutes == 30  # DND stays the code's


@pytest.mark.parametrize(
    "emoji",
    ["sandwich", ":Sandwich:", ":two words:", "::", ":" + "a" * 100 + ":", ":a:b:", "<@U1>"],
    ids=["bare", "capital", "space", "empty", "too-long", "two", "mention"],
)
def test_an_emoji_is_slacks_colon_name(emoji: str) -> None:
    assert not valid_emoji(emoji)
    with pytest.raises(ValidationError):
        ActivityStatus(emoji=emoji, text="Lunch")


def test_the_section_is_bounded() -> None:
    assert valid_emoji(":+1:") and valid_emoji(":thumbsup::skin-tone-3:") and valid_emoji(":face_with_thermometer:")
    with pytest.raises(ValidationError):
        ActivityStatus(emoji=":x:", text="t" * 101)
    many = {f"act{i}": ActivityStatus(emoji=":x:", text="x") for i in range(MAX_ACTIVITIES + 1)}
    with pytest.raises(ValidationError):
        StatusSettings(activities=many)
    with pytest.raises(ValidationError):
        StatusSettings(activities={"Not A Name": ActivityStatus(emoji=":x:", text="x")})
    with pytest.raises(ValidationError):
        StatusSettings(min_call_seconds=-1)
    assert WorkspaceSettings().status.min_call_seconds == 20  # the default, and the record reads without it
    assert WorkspaceSettings.model_validate_json("{}").status == StatusSettings()


def form(
    lines: str, *, call: str = ":telephone_receiver: On a call", seconds: str = "20", ticks: Any = (), huddle: str = ""
) -> Any:
    return {
        HUDDLE_BLOCK: {"value": {"type": "plain_text_input", "value": huddle}},
        ACTIVITIES_BLOCK: {"value": {"type": "plain_text_input", "value": lines}},
        CALL_BLOCK: {"value": {"type": "plain_text_input", "value": call}},
        MIN_CALL_BLOCK: {"value": {"type": "plain_text_input", "value": seconds}},
        DEFAULTS_BLOCK: {"value": {"type": "checkboxes", "selected_options": [{"value": v} for v in ticks]}},
    }


def test_the_form_keeps_only_what_differs_from_the_defaults() -> None:
    read = read_status_form(
        SCOPE,
        form(
            "lunch :sandwich: Out for lunch\nmeeting :calendar: In a meeting\n\ntraining :books: Training",
            seconds="45",
            ticks=[f"{SCOPE}|phone_to_slack", f"{SCOPE}|on_a_call", "-:T0OTHER|huddle_to_phone"],
        ),
    )
    assert read.errors == {} and read.status is not None
    assert read.status.lookup() == {"lunch": (":sandwich:", "Out for lunch"), "training": (":books:", "Training")}
    assert read.status.min_call_seconds == 45
    assert read.status.defaults == SyncPrefs(phone_to_slack=True, on_a_call=True)  # another workspace's tick: no


@pytest.mark.parametrize(
    ("values", "block", "says"),
    [
        (form("lunch sandwich Out for lunch"), ACTIVITIES_BLOCK, "Line 1: sandwich is not an emoji"),
        (form("lunch :hamburger: Lunch\nlunch :x: Again"), ACTIVITIES_BLOCK, "Line 2: lunch is there twice"),
        (form("lunch :sandwich:"), ACTIVITIES_BLOCK, "Add the text"),
        (form("lunch :sandwich: " + "x" * 101), ACTIVITIES_BLOCK, "at most 100"),
        (form("\n".join(f"a{i} :x: x" for i in range(21))), ACTIVITIES_BLOCK, "At most 20"),
        (form(":sandwich: Lunch"), ACTIVITIES_BLOCK, "start with the activity"),
        (form("lunch :hamburger: Lunch", call="phone On a call"), CALL_BLOCK, "not an emoji"),
        (form("lunch :hamburger: Lunch", seconds="-3"), MIN_CALL_BLOCK, "whole number"),
        (form("lunch :hamburger: Lunch", seconds="99999"), MIN_CALL_BLOCK, "whole number"),
        (form("lunch :hamburger: Lunch", huddle="available"), HUDDLE_BLOCK, "other than available"),
        (form("lunch :hamburger: Lunch", huddle="in a huddle"), HUDDLE_BLOCK, "One activity name"),
    ],
    ids=[
        "bad-emoji",
        "twice",
        "no-text",
        "long-text",
        "too-many",
        "no-name",
        "call-emoji",
        "negative",
        "too-long",
        "huddle-available",
        "huddle-words",
    ],
)
def test_the_form_reports_each_problem_on_its_field(values: Any, block: str, says: str) -> None:
    read = read_status_form(SCOPE, values)
    assert read.status is None and says in read.errors[block]


def test_the_huddle_activity_is_read_and_defaults_to_dnd() -> None:
    assert (
        read_status_form(SCOPE, form("lunch :hamburger: Lunch")).status or StatusSettings()
    ).huddle_activity == "dnd"
    read = read_status_form(SCOPE, form("lunch :hamburger: Lunch", huddle=" Meeting "))
    assert read.status is not None and read.status.huddle_activity == "meeting"
    with pytest.raises(ValidationError):
        StatusSettings(huddle_activity="available")


def test_a_persons_ticks_must_all_be_this_workspaces_switches() -> None:
    assert ticked(SCOPE, [{"value": f"{SCOPE}|on_a_call"}]) == SyncPrefs(phone_to_slack=False, on_a_call=True)
    assert ticked(SCOPE, []) == SyncPrefs(phone_to_slack=False)
    assert ticked(SCOPE, [{"value": "-:T0OTHER|on_a_call"}]) is None
    assert ticked(SCOPE, [{"value": f"{SCOPE}|is_admin"}]) is None
    assert ticked(SCOPE, "nope") is None


@pytest.fixture
async def connected() -> tuple[StatusSync, PersonSlack]:
    store, slack = MemoryStore(), PersonSlack()
    tokens = StatusTokens(store, SecretBox.from_setting(KEY))
    await tokens.put(PREFIX, USER, "xoxp-secret-token", "users.profile:read")
    return StatusSync(store, tokens, lambda token: slack), slack  # type: ignore[arg-type, return-value]


async def test_switched_off_presence_leaves_slack_alone_and_the_workspace_default_applies(
    connected: tuple[StatusSync, PersonSlack],
) -> None:
    sync, slack = connected
    await sync.prefs.put(PREFIX, USER, SyncPrefs(phone_to_slack=False))
    assert await lunch(sync) is Outcome.OFF and slack.sets == []
    await sync.store.delete(sync.prefs.key(PREFIX, USER))  # never chose: the workspace's default says
    off = StatusSettings(defaults=SyncPrefs(phone_to_slack=False))
    until = NOW + timedelta(minutes=30)
    kwargs: Any = {"activity": "lunch", "label": "lunch", "until": until, "now": NOW}
    assert await sync.presence_set(PREFIX, USER, **kwargs, workspace=off) is Outcome.OFF and slack.sets == []
    assert await sync.presence_set(PREFIX, USER, **kwargs, workspace=SANDWICH) is Outcome.SET
    assert slack.status.emoji == ":sandwich:" and slack.status.text == "Out for lunch"

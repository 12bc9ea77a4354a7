"""The Show all modal's Block Kit, and the fake Slack's modal methods that e2e tests rely on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.alert_view import SHOW_ALL_ACTION, AlertState, render_digest
from handlers.digest_modal import (
    DIGEST_CALLBACK_ACTION,
    DIGEST_PAGE_ACTION,
    PAGE_SIZE,
    DigestPage,
    ModalPlace,
    digest_modal,
)
from tests.fakes.slack_api import MAX_VIEW_BLOCKS, FakeSlack, check_blocks

TZ = ZoneInfo("Europe/Copenhagen")
T0 = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


def lost(n: int, **changes: object) -> AlertState:
    moment = T0 + timedelta(seconds=n)
    state = AlertState(
        vendor="tele2", subject=f"lost:{n}", family="lost_call", caller_number=f"+4520{n:06d}", first_at=moment,
        last_at=moment, attempts=1,
    )  # fmt: skip
    return state.model_copy(update=changes)


def test_the_digest_lists_the_newest_forty_and_offers_show_all() -> None:
    states = [lost(n) for n in range(180, 0, -1)]  # newest first, as the worker reads them
    message = render_digest("title", states, tz=TZ, digest_id="burst:C1:abc")
    text = str(message.blocks)
    assert "+4520000180" in text and "+4520000141" in text and "+4520000140" not in text
    assert "and 140 older" in text
    [actions] = [b for b in message.blocks if b["type"] == "actions"]
    assert actions["elements"][0]["action_id"] == SHOW_ALL_ACTION
    assert actions["elements"][0]["value"] == "burst:C1:abc"
    assert check_blocks(message.blocks) == []


def test_a_full_page_fits_the_view_limits_with_a_bounded_call_back_per_alert() -> None:
    members = [(f"tele2|lost:{n}", lost(n)) for n in range(PAGE_SIZE)]
    page = DigestPage(digest_id="burst:C1:abc", channel="C1", page=1, total=3 * PAGE_SIZE, members=members)
    view = digest_modal(page, tz=TZ, status="x" * 4000)
    assert len(view["blocks"]) <= MAX_VIEW_BLOCKS
    assert check_blocks(view["blocks"], max_blocks=MAX_VIEW_BLOCKS) == []
    calls = [b["accessory"] for b in view["blocks"] if b["type"] == "section" and "accessory" in b]
    assert [c["value"] for c in calls] == [key for key, _ in members]
    assert {c["action_id"] for c in calls} == {DIGEST_CALLBACK_ACTION}
    [pager] = [b for b in view["blocks"] if b["type"] == "actions"]
    assert [e["text"]["text"] for e in pager["elements"]] == ["Newer", "Older"]
    assert {e["action_id"] for e in pager["elements"]} == {DIGEST_PAGE_ACTION}
    assert [e["value"] for e in pager["elements"]] == ["0", "2"]  # the page only: the digest is the modal's own
    here = ModalPlace.load(view["private_metadata"])
    assert here == ModalPlace("burst:C1:abc", 1)
    assert [here.turned_to(e["value"]) for e in pager["elements"]] == [
        ModalPlace("burst:C1:abc", 0),
        ModalPlace("burst:C1:abc", 2),
    ]
    assert len(view["title"]["text"]) <= 24


def test_alerts_without_a_number_or_record_are_listed_without_call_back() -> None:
    members = [("a", lost(1, caller_number=None)), ("b", None), ("c", lost(2))]
    view = digest_modal(DigestPage("d", "C1", 0, 3, members), tz=TZ)
    sections = [b for b in view["blocks"] if b["type"] == "section"]
    assert ["accessory" in b for b in sections] == [False, False, True]
    assert not [b for b in view["blocks"] if b["type"] == "actions"]  # one page: no page buttons
    assert digest_modal(None, tz=TZ)["blocks"][0]["text"]["text"] == "This digest is no longer available."


async def test_fake_slack_opens_updates_and_checks_modals(fake_slack: FakeSlack) -> None:
    client = AsyncWebClient(token="xoxb-test", base_url=fake_slack.url)
    view = digest_modal(DigestPage("d", "C1", 0, 1, [("c", lost(2))]), tz=TZ)
    opened = (await client.views_open(trigger_id="1.2.abc", view=view))["view"]
    assert fake_slack.views[opened["id"]]["blocks"] == view["blocks"]
    updated = (await client.views_update(view_id=opened["id"], view={**view, "blocks": view["blocks"][:1]}))["view"]
    assert len(fake_slack.views[opened["id"]]["blocks"]) == 1 and updated["hash"] != opened["hash"]
    with pytest.raises(SlackApiError, match="hash_conflict"):
        await client.views_update(view_id=opened["id"], hash=opened["hash"], view=view)
    with pytest.raises(SlackApiError, match="not_found"):
        await client.views_update(view_id="VNOPE", view=view)
    await client.views_push(trigger_id="1.2.def", view=view)
    assert not fake_slack.violations

    long_title = {"type": "plain_text", "text": "t" * 25}
    too_many = {**view, "blocks": view["blocks"] * (MAX_VIEW_BLOCKS + 1), "title": long_title}
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        await client.views_open(trigger_id="1.2.ghi", view=too_many)
    problems = {v.path for v in fake_slack.violations}
    assert {"view.blocks", "view.title.text"} <= problems
    fake_slack.violations.clear()
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        await client.api_call("views.open", json={"view": view})  # no trigger_id
    assert [v.path for v in fake_slack.violations] == ["trigger_id"]
    fake_slack.violations.clear()


@pytest.mark.parametrize(
    "raw",
    [
        '{"digest": "burst:C1:abc", "page": "false"}',
        '{"digest": "burst:C1:abc", "page": true}',
        '{"digest": "burst:C1:abc", "page": "1"}',
        '{"digest": "burst:C1:abc", "page": -1}',
        '{"digest": "lists:C1:abc", "page": 0}',
        '{"digest": ["burst:C1:abc"], "page": 0}',
        '["burst:C1:abc", 0]',
        "false",
        "",
    ],
)
def test_a_modal_place_is_read_strictly_never_coerced(raw: str) -> None:
    assert ModalPlace.load(raw) is None


def test_a_page_button_turns_only_this_modals_digest() -> None:
    here = ModalPlace("burst:C1:abc", 1)
    assert here.turned_to("2") == ModalPlace("burst:C1:abc", 2)
    assert here.turned_to(ModalPlace("burst:C1:abc", 0).dump()) == ModalPlace("burst:C1:abc", 0)  # an older modal
    for crafted in (ModalPlace("burst:C9:def", 0).dump(), "false", "true", "-1", "1e3", " 1", ""):
        assert here.turned_to(crafted) is None

"""PostFinder: one history read answers every unconfirmed post in a channel, within Slack's limits."""

from __future__ import annotations

import time

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.alerts.recovery import LookupPending, PostFinder, alert_metadata
from tests.fakes.slack_api import FakeSlack

CHANNEL = "C0REC"


async def _post(client: AsyncWebClient, subject: str, nonce: str) -> str:
    response = await client.chat_postMessage(channel=CHANNEL, text=subject, metadata=alert_metadata(subject, nonce))
    return str(response["ts"])


@pytest.fixture
def client(fake_slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-test", base_url=fake_slack.url, retry_handlers=[])


async def test_one_read_answers_every_open_intent_in_the_channel(fake_slack: FakeSlack, client: AsyncWebClient) -> None:
    minutes_passed = [0]
    finder = PostFinder(client, interval=60, settle=0, skew=5, clock=lambda: time.time() + 61 * minutes_passed[0])
    since = finder.now()
    posted = {f"n{i}": await _post(client, f"tele2|lost:{i}", f"n{i}") for i in range(20)}  # more than one page
    answers = {}
    for nonce in [*posted, "never-posted"]:
        for _ in range(3):  # more pages come one read at a time; the interval is what the finder asks to wait
            try:
                answers[nonce] = await finder.find(CHANNEL, nonce, since)
                break
            except LookupPending:
                minutes_passed[0] += 1  # wait out the interval the finder asked for
    assert answers == {**posted, "never-posted": None}
    reads = fake_slack.calls_to("conversations.history")
    assert len(reads) == 2  # 21 lookups, 20 messages: two pages of at most 15
    assert all(r.args["include_all_metadata"] == "1" and r.args["limit"] == "15" for r in reads)


async def test_lookups_wait_for_settle_and_for_retry_after(fake_slack: FakeSlack, client: AsyncWebClient) -> None:
    finder = PostFinder(client, interval=0, settle=30, skew=5)
    with pytest.raises(LookupPending) as early:
        await finder.find(CHANNEL, "n1", finder.now())
    assert early.value.retry_in > 25 and not fake_slack.calls_to("conversations.history")

    fake_slack.fail("conversations.history", status=429, retry_after=7)
    since = finder.now() - 31
    with pytest.raises(LookupPending) as limited:
        await finder.find(CHANNEL, "n2", since)
    assert 6 < limited.value.retry_in <= 7
    with pytest.raises(LookupPending):  # Retry-After is honoured: no second request
        await finder.find(CHANNEL, "n2", since)
    assert len(fake_slack.calls_to("conversations.history")) == 1


async def test_a_channel_phonebot_cannot_read_means_post_again(fake_slack: FakeSlack, client: AsyncWebClient) -> None:
    fake_slack.error("conversations.history", "not_in_channel")
    finder = PostFinder(client, interval=0, settle=0)
    assert await finder.find(CHANNEL, "n1", finder.now()) is None
    assert await finder.find(CHANNEL, "n2", finder.now()) is None  # not asked again for a while
    assert len(fake_slack.calls_to("conversations.history")) == 1


async def test_metadata_is_returned_only_when_asked(fake_slack: FakeSlack, client: AsyncWebClient) -> None:
    await _post(client, "tele2|lost:1", "n1")
    plain = await client.conversations_history(channel=CHANNEL)
    rich = await client.conversations_history(channel=CHANNEL, include_all_metadata=True)
    assert "metadata" not in plain["messages"][0]
    assert rich["messages"][0]["metadata"]["event_payload"] == {"subject": "tele2|lost:1", "post": "n1"}

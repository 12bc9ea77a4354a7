"""PostFinder: one read answers every unconfirmed post in a channel or a thread, within Slack's limits."""

from __future__ import annotations

import asyncio
import time

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.alerts.ledger import SubjectRecord
from bot.alerts.recovery import (
    ALERT_EVENT_TYPE,
    FOLLOW_UP_EVENT_TYPE,
    LookupPending,
    PostFinder,
    post_metadata,
)
from tests.fakes.slack_api import FakeSlack

CHANNEL = "C0REC"


async def _post(client: AsyncWebClient, subject: str, nonce: str) -> str:
    response = await client.chat_postMessage(
        channel=CHANNEL, text=subject, metadata=post_metadata(ALERT_EVENT_TYPE, {"subject": subject}, nonce)
    )
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


async def _reply(client: AsyncWebClient, thread_ts: str, seq: int, nonce: str) -> str:
    metadata = post_metadata(FOLLOW_UP_EVENT_TYPE, {"subject": "tele2|lost:1", "follow_up": seq}, nonce)
    response = await client.chat_postMessage(
        channel=CHANNEL, text=f"note {seq}", thread_ts=thread_ts, metadata=metadata
    )
    return str(response["ts"])


async def test_a_follow_up_is_looked_for_in_its_thread_one_read_per_thread(
    fake_slack: FakeSlack, client: AsyncWebClient
) -> None:
    minutes_passed = [0]
    finder = PostFinder(client, interval=60, settle=0, skew=5, clock=lambda: time.time() + 61 * minutes_passed[0])
    first, second = await _post(client, "tele2|lost:1", "p1"), await _post(client, "tele2|lost:2", "p2")
    since = finder.now()
    replies = {f"r{i}": await _reply(client, first, i, f"r{i}") for i in range(3)}
    other = await _reply(client, second, 1, "o1")

    nonces = [*replies, "lost"]
    found = await asyncio.gather(*(finder.find(CHANNEL, nonce, since, thread_ts=first) for nonce in nonces))
    assert dict(zip(nonces, found, strict=True)) == {**replies, "lost": None}  # one read answered all four
    reads = fake_slack.calls_to("conversations.replies")
    assert len(reads) == 1 and reads[0].args["ts"] == first and reads[0].args["include_all_metadata"] == "1"
    assert not fake_slack.calls_to("conversations.history")  # a channel read never shows thread replies

    with pytest.raises(LookupPending):  # another thread is another read, within the method's interval
        await finder.find(CHANNEL, "o1", since, thread_ts=second)
    assert await finder.find(CHANNEL, "p-new", since) is None  # history has its own budget
    minutes_passed[0] += 1
    assert await finder.find(CHANNEL, "o1", since, thread_ts=second) == other
    assert len(fake_slack.calls_to("conversations.replies")) == 2


async def test_a_thread_slack_no_longer_knows_holds_no_post(fake_slack: FakeSlack, client: AsyncWebClient) -> None:
    finder = PostFinder(client, interval=0, settle=0)
    assert await finder.find(CHANNEL, "r1", finder.now(), thread_ts="1700000000.000100") is None
    assert fake_slack.calls_to("conversations.replies")[0].response == {"ok": False, "error": "thread_not_found"}
    await _post(client, "tele2|lost:1", "p1")
    assert await finder.find(CHANNEL, "p1", finder.now()) is not None  # the channel is still read


async def test_replies_read_one_thread_parent_first_oldest_first(fake_slack: FakeSlack, client: AsyncWebClient) -> None:
    parent = await _post(client, "tele2|lost:1", "p1")
    replies = [await _reply(client, parent, i, f"r{i}") for i in range(20)]
    first = await client.conversations_replies(channel=CHANNEL, ts=replies[3], limit=15)
    assert [m["ts"] for m in first["messages"]] == [parent, *replies[:14]]  # any ts in the thread reads it all
    assert first["has_more"] and "metadata" not in first["messages"][1]
    cursor = first["response_metadata"]["next_cursor"]
    rest = await client.conversations_replies(channel=CHANNEL, ts=parent, cursor=cursor, include_all_metadata=True)
    assert [m["ts"] for m in rest["messages"]] == replies[14:] and not rest["has_more"]
    assert rest["messages"][0]["metadata"]["event_payload"] == {
        "subject": "tele2|lost:1",
        "follow_up": 14,
        "post": "r14",
    }
    window = await client.conversations_replies(channel=CHANNEL, ts=parent, oldest=replies[18], inclusive=True)
    assert [m["ts"] for m in window["messages"]] == [parent, *replies[18:]]  # the parent heads the first page
    history = await client.conversations_history(channel=CHANNEL)
    assert [m["ts"] for m in history["messages"]] == [parent]
    assert history["messages"][0]["reply_count"] == 20 and history["messages"][0]["latest_reply"] == replies[-1]


def test_records_saved_before_follow_ups_were_numbered_still_load() -> None:
    raw = '{"key": "tele2|lost:1", "targets": {"C1": {"channel": "C1", "ts": "1.2", "notes": ["Resolved at 10:00."]}}}'
    note = SubjectRecord.model_validate_json(raw).targets["C1"].notes[0]
    assert (note.text, note.seq, note.posting) == ("Resolved at 10:00.", 0, None)

"""Dstny alert polling and claim write-back: DstnyAdapter against DstnySimulator over loopback HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.dstny import alerts
from adapters.dstny.adapter import DstnyAdapter, DstnyConfig
from adapters.dstny.alerts import CALLLOG_LIMIT
from adapters.dstny.simulator import DEMO_TOKEN, DstnySimulator
from adapters.dstny.wire import CommLog
from adapters.errors import NotFound, VendorRejected
from adapters.events import AlertEvent, AlertKind
from adapters.http import RetryPolicy
from adapters.models import Capability, PollResult, VendorIdentity
from adapters.simulation import LoopbackServer
from tests.fakes.clock import SettableClock

CALLER = "+4540000001"  # Jens Jensen in the simulator's contacts
STRANGER = "+4522334455"
ALICE = VendorIdentity(vendor="dstny", user_id="alice")
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(T0)


@pytest.fixture
def sim(clock: SettableClock) -> Iterator[DstnySimulator]:
    yield DstnySimulator(clock=clock)


@pytest.fixture
async def adapter(sim: DstnySimulator) -> AsyncIterator[DstnyAdapter]:
    with LoopbackServer(sim.build_app()) as server:
        config = DstnyConfig(base_url=server.url, token=DEMO_TOKEN, domain="example.com", user="phonebot")
        dstny = DstnyAdapter(config, retry=RetryPolicy(attempts=1))
        yield dstny
        await dstny.aclose()


async def poll(adapter: DstnyAdapter, cursor: dict[str, Any] | None, clock: SettableClock) -> PollResult:
    result = await adapter.poll_alerts(cursor, now=clock())
    assert json.loads(json.dumps(result.cursor)) == result.cursor  # the poller stores it as JSON
    return result


def kinds(events: list[AlertEvent]) -> list[AlertKind]:
    return [event.kind for event in events]


def test_alert_capabilities_are_declared() -> None:
    wanted = {Capability.ALERT_POLLING, Capability.ALERT_CLAIM, Capability.VOICEMAIL_HEARD}
    assert wanted <= DstnyAdapter.capabilities


async def test_one_malformed_row_is_skipped_and_logged_not_the_whole_poll(
    adapter: DstnyAdapter, sim: DstnySimulator, clock: SettableClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 9 point 17: a broken row must not fail every poll round (Relatel already skips them)."""
    cursor = (await poll(adapter, None, clock)).cursor
    sim.odd_calllog_rows.append({"itemId": None, "callCount": "lots", "callerNumber": "+4511111111"})
    sim.odd_commlog_rows.append({".CallDTO": {"isSeen": "maybe"}})
    sim.miss_call(35, CALLER)
    sim.leave_voicemail(STRANGER)

    result = await poll(adapter, cursor, clock)

    assert sorted(kinds(result.events)) == sorted([AlertKind.LOST_CALL_OPENED, AlertKind.VOICEMAIL_NEW])
    skipped = [r.getMessage() for r in caplog.records if "skipped an unreadable Dstny" in r.getMessage()]
    assert any("call-log item" in line for line in skipped) and any("communication-log" in line for line in skipped)
    assert not any("+4511111111" in r.getMessage() for r in caplog.records)  # row content is not logged


# -- lost calls -----------------------------------------------------------------------------------
async def test_first_run_remembers_the_present_and_alerts_nothing(
    adapter: DstnyAdapter, sim: DstnySimulator, clock: SettableClock
) -> None:
    sim.miss_call(35, CALLER)
    sim.leave_voicemail(STRANGER)
    sim.leave_voicemail(STRANGER, inbox="Support inbox")

    first = await poll(adapter, None, clock)
    assert first.events == []
    again = await poll(adapter, first.cursor, clock)
    assert again.events == []


async def test_lost_call_opens_updates_and_resolves_with_who(
    adapter: DstnyAdapter, sim: DstnySimulator, clock: SettableClock
) -> None:
    cursor = (await poll(adapter, None, clock)).cursor
    clock.tick()
    item = sim.miss_call(35, CALLER)

    opened = await poll(adapter, cursor, clock)
    [event] = opened.events
    assert event.kind == AlertKind.LOST_CALL_OPENED
    assert event.attempts == 1
    assert event.subject == f"lost:{CALLER}:Support"
    assert event.line == "Support" and event.group_id == "35"
    assert event.caller_number == CALLER and event.caller_name == "Jens Jensen"
    assert event.idempotency_key == f"dstny:calllog:{item.item_id}:1"
    assert event.detail == {"calllog_item_id": str(item.item_id), "group_id": "35"}
    assert event.occurred_at == clock()

    clock.tick()
    assert sim.miss_call(35, CALLER).item_id == item.item_id  # aggregated on the same item
    updated = await poll(adapter, opened.cursor, clock)
    [event] = updated.events
    assert (event.kind, event.attempts, event.subject) == (AlertKind.LOST_CALL_UPDATED, 2, f"lost:{CALLER}:Support")
    assert event.idempotency_key == f"dstny:calllog:{item.item_id}:2"

    sim.handle_call(item.item_id, "bob")
    resolved = await poll(adapter, updated.cursor, clock)
    [event] = resolved.events
    assert event.kind == AlertKind.LOST_CALL_RESOLVED
    assert event.resolved_by == "Bob Berg"
    assert event.subject == f"lost:{CALLER}:Support"
    assert (await poll(adapter, resolved.cursor, clock)).events == []


async def test_repolling_with_an_old_cursor_repeats_the_same_keys(
    adapter: DstnyAdapter, sim: DstnySimulator, clock: SettableClock
) -> None:
    cursor = (await poll(adapter, None, clock)).cursor
    sim.miss_call(35, CALLER)
    sim.miss_call(36, STRANGER)
    sim.leave_voicemail(STRANGER, name="Sam")

    first = await poll(adapter, cursor, clock)
    second = await poll(adapter, cursor, clock)  # the poller crashed before saving first.cursor
    assert [e.idempotency_key for e in first.events] == [e.idempotency_key for e in second.events]
    assert kinds(first.events) == [AlertKind.LOST_CALL_OPENED, AlertKind.LOST_CALL_OPENED, AlertKind.VOICEMAIL_NEW]
    assert first.cursor == second.cursor
    assert (await poll(adapter, first.cursor, clock)).events == []


async def test_the_cursor_survives_a_restart_and_keeps_each_items_subject(
    adapter: DstnyAdapter, sim: DstnySimulator, clock: SettableClock
) -> None:
    cursor = (await poll(adapter, None, clock)).cursor
    sim.miss_call(35, CALLER)
    stored = json.dumps((await poll(adapter, cursor, clock)).cursor)
    sim.groups[35].name = "Helpdesk"  # renamed while phonebot restarted
    sim.miss_call(35, CALLER)
    restarted = DstnyAdapter(adapter.settings, retry=RetryPolicy(attempts=1))
    try:
        [event] = (await restarted.poll_alerts(json.loads(stored), now=clock())).events
    finally:
        await restarted.aclose()
    assert (event.kind, event.attempts) == (AlertKind.LOST_CALL_UPDATED, 2)
    assert event.subject == f"lost:{CALLER}:Support"  # the same Slack message is edited
    assert event.line == "Helpdesk"


async def test_an_answered_call_newer_than_the_miss_resolves_it(
    adapter: DstnyAdapter, sim: DstnySimulator, clock: SettableClock
) -> None:
    cursor = (await poll(adapter, None, clock)).cursor
    sim.miss_call(35, STRANGER)
    cursor = (await poll(adapter, cursor, clock)).cursor
    clock.tick()
    sim.answer_call(35, STRANGER, agent="carol")

    [event] = (await poll(adapter, cursor, clock)).events
    assert event.kind == AlertKind.LOST_CALL_RESOLVED
    assert event.resolved_by == "Carol Christensen"
    assert event.subject == f"lost:{STRANGER}:Support"


async def test_a_vanished_item_resolves_its_alert(
    adapter: DstnyAdapter, sim: DstnySimulator, clock: SettableClock
) -> None:
    cursor = (await poll(adapter, None, clock)).cursor
    sim.miss_call(35, STRANGER)
    cursor = (await poll(adapter, cursor, clock)).cursor
    sim.calllog.clear()  # expired or deleted at the vendor

    [event] = (await poll(adapter, cursor, clock)).events
    assert (event.kind, event.subject) == (AlertKind.LOST_CALL_RESOLVED, f"lost:{STRANGER}:Support")


async def test_the_call_log_requests_ask_for_misses_and_answers_with_a_limit_and_a_range(
    adapter: DstnyAdapter, sim: DstnySimulator, clock: SettableClock
) -> None:
    cursor = (await poll(adapter, None, clock)).cursor
    [first] = [r for r in sim.requests if r.path.endswith("/calllog")]
    assert first.path == "/api/user/distribution-group/example.com/phonebot/calllog"
    assert first.query == {"itemType": ["MISSED", "ANSWERED"], "limit": [str(CALLLOG_LIMIT)]}
    item = sim.miss_call(35, CALLER)
    cursor = (await poll(adapter, cursor, clock)).cursor
    assert cursor["calllog"]["high"] == item.item_id
    sim.requests.clear()

    await poll(adapter, cursor, clock)
    queries = [r.query for r in sim.requests if r.path.endswith("/calllog")]
    assert queries == [
        {"itemType": ["MISSED", "ANSWERED"], "since": [str(item.item_id)], "limit": [str(CALLLOG_LIMIT)]},
        {  # the range of the one open alert
            "itemType": ["MISSED", "ANSWERED"],
            "since": [str(item.item_id - 1)],
            "olderThan": [str(item.item_id + 1)],
            "limit": [str(CALLLOG_LIMIT)],
        },
    ]


async def test_the_cursor_stays_bounded(
    adapter: DstnyAdapter, sim: DstnySimulator, clock: SettableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(alerts, "TRACKED", 2)
    cursor = (await poll(adapter, None, clock)).cursor
    for n in (1, 2, 3):
        sim.miss_call(35, f"+452200000{n}")

    result = await poll(adapter, cursor, clock)
    assert [e.caller_number for e in result.events] == ["+4522000001", "+4522000002", "+4522000003"]
    assert len(result.cursor["lost"]) == 2  # the newest two are followed


async def test_an_open_miss_is_followed_for_a_day_after_its_last_attempt_then_left_as_it_is(
    adapter: DstnyAdapter, sim: DstnySimulator, clock: SettableClock
) -> None:
    cursor = (await poll(adapter, None, clock)).cursor
    sim.miss_call(35, STRANGER)
    cursor = (await poll(adapter, cursor, clock)).cursor
    clock.tick(alerts.FOLLOW_FOR.total_seconds() - 60)
    cursor = (await poll(adapter, cursor, clock)).cursor
    assert list(cursor["lost"]) == [str(sim.calllog[0].item_id)]

    clock.tick(120)
    cursor = (await poll(adapter, cursor, clock)).cursor
    assert cursor["lost"] == {}
    sim.calllog.clear()
    assert (await poll(adapter, cursor, clock)).events == []  # no longer followed: not "resolved"


ORDERS = ["newest_first", "oldest_first", "shuffled"]


def _fill(sim: DstnySimulator, count: int, *, prefix: str) -> list[int]:
    """``count`` misses from distinct callers with an answered call after every second one; the miss ids."""
    misses = []
    for n in range(count):
        misses.append(sim.miss_call(35 + n % 2, f"+45{prefix}{n:06d}").item_id)
        if n % 2:
            sim.answer_call(35, f"+4529{prefix}{n:04d}")
    return misses


def _opened(result: PollResult) -> list[str]:
    return [str(e.detail["calllog_item_id"]) for e in result.events if e.kind == AlertKind.LOST_CALL_OPENED]


@pytest.mark.parametrize("order", ORDERS)
async def test_every_new_miss_is_seen_once_whatever_the_logs_size_and_order(
    adapter: DstnyAdapter, sim: DstnySimulator, clock: SettableClock, order: str
) -> None:
    """Issue 10 point 5: 004 documents since/olderThan but no order; >100 items must not hide new misses."""
    sim.calllog_order = order
    _fill(sim, 150, prefix="21")  # the log phonebot finds on its first start
    first = await poll(adapter, None, clock)
    assert first.events == [] and first.cursor["calllog"]["catching_up"] is False
    clock.tick()
    new_misses = _fill(sim, 130, prefix="22")  # more than a page between two rounds

    opened: list[str] = []
    cursor = first.cursor
    for _ in range(3):
        result = await poll(adapter, cursor, clock)
        opened += _opened(result)
        cursor = result.cursor
    assert sorted(opened, key=int) == [str(item_id) for item_id in new_misses]  # each one, once
    assert cursor["calllog"]["pending"] == []


@pytest.mark.parametrize("order", ORDERS)
async def test_a_burst_beyond_one_rounds_pages_is_read_in_the_next_rounds_once(
    adapter: DstnyAdapter,
    sim: DstnySimulator,
    clock: SettableClock,
    monkeypatch: pytest.MonkeyPatch,
    order: str,
) -> None:
    monkeypatch.setattr(alerts, "CALLLOG_LIMIT", 5)
    monkeypatch.setattr(alerts, "CALLLOG_PAGES", 3)
    sim.calllog_order = order
    _fill(sim, 4, prefix="21")
    cursor = (await poll(adapter, None, clock)).cursor
    new_misses = _fill(sim, 24, prefix="22")

    opened: list[str] = []
    rounds = 0
    while True:
        rounds += 1
        result = await poll(adapter, cursor, clock)
        opened += _opened(result)
        cursor = result.cursor
        if adapter.poll_backlog(cursor) is None:
            break
        assert rounds < 40
    assert sorted(opened, key=int) == [str(item_id) for item_id in new_misses]
    assert rounds > 2  # it took several rounds of at most three requests each
    assert _opened(await poll(adapter, cursor, clock)) == []


async def test_a_round_that_hits_its_page_limit_says_so_in_the_backlog(
    adapter: DstnyAdapter, sim: DstnySimulator, clock: SettableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(alerts, "CALLLOG_LIMIT", 5)
    monkeypatch.setattr(alerts, "CALLLOG_PAGES", 2)
    cursor = (await poll(adapter, None, clock)).cursor
    _fill(sim, 40, prefix="22")
    cursor = (await poll(adapter, cursor, clock)).cursor
    backlog = adapter.poll_backlog(cursor)
    assert backlog is not None and "still to be read" in backlog and "nothing is skipped" in backlog


async def test_a_first_start_on_a_large_log_reads_up_to_the_present_before_alerting(
    adapter: DstnyAdapter, sim: DstnySimulator, clock: SettableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(alerts, "CALLLOG_LIMIT", 5)
    monkeypatch.setattr(alerts, "CALLLOG_PAGES", 2)
    sim.calllog_order = "oldest_first"  # the worst case: each page is the oldest rest
    _fill(sim, 30, prefix="21")

    result = await poll(adapter, None, clock)
    assert result.events == [] and result.cursor["calllog"]["catching_up"] is True
    assert "first start" in (adapter.poll_backlog(result.cursor) or "")
    while result.cursor["calllog"]["catching_up"]:
        result = await poll(adapter, result.cursor, clock)
        assert result.events == []  # old misses never alert
    [item] = _fill(sim, 1, prefix="22")
    [event] = (await poll(adapter, result.cursor, clock)).events
    assert (event.kind, event.detail["calllog_item_id"]) == (AlertKind.LOST_CALL_OPENED, str(item))


async def test_a_cursor_from_before_ranges_were_kept_resumes_above_its_highest_item(
    adapter: DstnyAdapter, sim: DstnySimulator, clock: SettableClock
) -> None:
    cursor = (await poll(adapter, None, clock)).cursor
    old = sim.miss_call(35, STRANGER)
    cursor = (await poll(adapter, cursor, clock)).cursor
    legacy = {
        "v": 1,
        "lost": {str(old.item_id): [1, 0, f"lost:{STRANGER}:Support"]},  # as phonebot wrote it before
        "voicemail": cursor["voicemail"],
        "inbox": cursor["inbox"],
    }
    new = sim.miss_call(36, CALLER)
    sim.miss_call(35, STRANGER)  # another attempt on the followed item

    result = await poll(adapter, legacy, clock)
    assert [(e.kind, e.detail["calllog_item_id"]) for e in result.events] == [
        (AlertKind.LOST_CALL_UPDATED, str(old.item_id)),
        (AlertKind.LOST_CALL_OPENED, str(new.item_id)),
    ]


async def test_an_unreadable_cursor_counts_as_a_first_run(
    adapter: DstnyAdapter, sim: DstnySimulator, clock: SettableClock
) -> None:
    sim.miss_call(35, CALLER)
    result = await poll(adapter, {"v": 99, "something": "else"}, clock)
    assert result.events == []
    assert result.cursor["v"] == 1


# -- claim write-back -----------------------------------------------------------------------------
async def test_claim_assigns_the_item_as_the_clicking_user(
    adapter: DstnyAdapter, sim: DstnySimulator, clock: SettableClock
) -> None:
    item = sim.miss_call(35, CALLER)
    detail = {"calllog_item_id": str(item.item_id), "group_id": "35"}

    await adapter.claim_alert(ALICE, detail, handled=False)
    await adapter.claim_alert(ALICE, detail, handled=True)

    puts = [r for r in sim.requests if r.method == "PUT"]
    assert [r.path for r in puts] == [f"/api/user/distribution-group/example.com/alice/calllog/{item.item_id}"] * 2
    assert [r.body["state"] for r in puts] == ["INPROGRESS", "HANDLED"]
    assert all(isinstance(r.body["note"], str) and r.body["note"] for r in puts)
    assert [(a.user, a.state) for a in sim.assignments] == [("alice", "INPROGRESS"), ("alice", "HANDLED")]
    assert puts[0].authorization == f"Bearer {DEMO_TOKEN}"


async def test_claim_of_an_alert_without_an_item_is_a_clear_error(adapter: DstnyAdapter) -> None:
    with pytest.raises(VendorRejected, match="call-log item"):
        await adapter.claim_alert(ALICE, {}, handled=False)


async def test_claim_of_an_unknown_item_reports_not_found(adapter: DstnyAdapter) -> None:
    with pytest.raises(NotFound):
        await adapter.claim_alert(ALICE, {"calllog_item_id": "999"}, handled=False)


async def test_phonebots_own_claim_and_resolve_write_backs_alert_nothing(
    adapter: DstnyAdapter, sim: DstnySimulator, clock: SettableClock
) -> None:
    cursor = (await poll(adapter, None, clock)).cursor
    item = sim.miss_call(35, CALLER)
    cursor = (await poll(adapter, cursor, clock)).cursor
    await adapter.claim_alert(ALICE, {"calllog_item_id": str(item.item_id)}, handled=False)
    result = await poll(adapter, cursor, clock)
    assert result.events == []
    await adapter.claim_alert(ALICE, {"calllog_item_id": str(item.item_id)}, handled=True)
    resolved = await poll(adapter, result.cursor, clock)
    assert resolved.events == []  # Resolve in Slack already closed the message
    assert resolved.cursor["lost"][str(item.item_id)][1] == 1


# -- voicemails -----------------------------------------------------------------------------------
async def test_voicemail_new_then_heard_then_removed(
    adapter: DstnyAdapter, sim: DstnySimulator, clock: SettableClock
) -> None:
    old = sim.leave_voicemail(STRANGER)
    cursor = (await poll(adapter, None, clock)).cursor
    clock.tick()
    voicemail = sim.leave_voicemail(CALLER, name="Jens Jensen", duration=42)

    new = await poll(adapter, cursor, clock)
    [event] = new.events
    assert event.kind == AlertKind.VOICEMAIL_NEW
    assert event.subject == f"voicemail:{voicemail.item_id}"
    assert (event.caller_number, event.caller_name, event.duration_seconds) == (CALLER, "Jens Jensen", 42)
    assert event.mailbox == "phonebot"
    assert event.detail == {"voicemail_id": str(voicemail.item_id)}
    assert event.idempotency_key == f"dstny:voicemail:{voicemail.item_id}:new"

    sim.play_voicemail(voicemail.item_id)
    heard = await poll(adapter, new.cursor, clock)
    assert [(e.kind, e.subject) for e in heard.events] == [
        (AlertKind.VOICEMAIL_HEARD, f"voicemail:{voicemail.item_id}")
    ]
    # The next poll asks from the oldest tracked voicemail on, so the old one is still followed.
    since = [r.query.get("since") for r in sim.requests if r.path == "/api/commlog/example.com/phonebot"][-1]
    assert since == [str(old.item_id - 1)]

    sim.delete_voicemail(voicemail.item_id)
    removed = await poll(adapter, heard.cursor, clock)
    assert [(e.kind, e.idempotency_key) for e in removed.events] == [
        (AlertKind.VOICEMAIL_REMOVED, f"dstny:voicemail:{voicemail.item_id}:removed")
    ]
    assert (await poll(adapter, removed.cursor, clock)).events == []


async def test_group_inbox_voicemail_names_its_inbox(
    adapter: DstnyAdapter, sim: DstnySimulator, clock: SettableClock
) -> None:
    cursor = (await poll(adapter, None, clock)).cursor
    voicemail = sim.leave_voicemail(STRANGER, inbox="Support inbox")
    [event] = (await poll(adapter, cursor, clock)).events
    assert (event.kind, event.mailbox) == (AlertKind.VOICEMAIL_NEW, "Support inbox")
    assert event.detail == {"voicemail_id": str(voicemail.item_id)}


async def test_mark_voicemail_heard_sets_seen_and_played(adapter: DstnyAdapter, sim: DstnySimulator) -> None:
    voicemail = sim.leave_voicemail(STRANGER)
    await adapter.mark_voicemail_heard(ALICE, str(voicemail.item_id))
    assert voicemail.is_seen and voicemail.is_played
    [put] = [r for r in sim.requests if r.method == "PUT"]
    assert put.path == f"/api/commlog/example.com/phonebot/{voicemail.item_id}"
    assert put.query == {"isSeen": ["true"], "isPlayed": ["true"], "updateCallItem": ["true"]}


def test_history_items_are_unwrapped_from_their_dotted_type_name() -> None:
    body = {
        "historyItems": [
            {".CallDTO": {"itemId": 1247, "itemType": "MISSED_CALL", "isSeen": False, "duration": 0}},
            {".GroupInboxVoiceMailDTO": {"itemId": 370, "itemType": "VOICEMAIL", "isSeen": True, "isPlayed": False}},
        ]
    }
    log = CommLog.model_validate(body)
    assert [(e.type_name, e.item.itemId, e.item.heard) for e in log.historyItems] == [
        ("CallDTO", "1247", False),
        ("GroupInboxVoiceMailDTO", "370", False),  # seen in the list, not played
    ]

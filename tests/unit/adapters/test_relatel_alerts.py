"""Relatel alert sources (polling, signed webhooks, mark heard) against RelatelSimulator on loopback."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from adapters.errors import IdentityError, NotFound, VendorAuthError, VendorRejected, WebhookAuthError
from adapters.events import AlertEvent, AlertKind
from adapters.http import RetryPolicy
from adapters.models import Capability, UserTokens, VendorIdentity
from adapters.relatel.adapter import NO_OWNER_TOKEN, RelatelAdapter, RelatelConfig
from adapters.relatel.simulator import ADMIN_TOKEN, BOB_TOKEN, WEBHOOK_SECRET, RelatelSimulator, voicemail_audio
from adapters.simulation import LoopbackServer
from tests.fakes.clock import SettableClock

NOW = datetime(2026, 10, 6, 10, 0, tzinfo=UTC)
FAST = RetryPolicy(attempts=2, base_delay=0.001, max_delay=0.005)
CALLER = "4520000001"


@pytest.fixture(scope="module")
def clock() -> SettableClock:
    return SettableClock(NOW)


@pytest.fixture(scope="module")
def sim(clock: SettableClock) -> RelatelSimulator:
    return RelatelSimulator(clock=clock)


@pytest.fixture(scope="module")
def server(sim: RelatelSimulator) -> Iterator[LoopbackServer]:
    with LoopbackServer(sim.build_app()) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh(clock: SettableClock, sim: RelatelSimulator) -> None:
    clock.now = NOW
    sim.reset()


def make_adapter(server: LoopbackServer, clock: SettableClock, **config: Any) -> RelatelAdapter:
    config.setdefault("webhook_secret", WEBHOOK_SECRET)
    settings = RelatelConfig(base_url=server.url + "/api/v2", token=ADMIN_TOKEN, **config)
    return RelatelAdapter(settings, retry=FAST, clock=clock)


@pytest.fixture
async def adapter(server: LoopbackServer, clock: SettableClock) -> AsyncIterator[RelatelAdapter]:
    relatel = make_adapter(server, clock)
    yield relatel
    await relatel.aclose()


class Poller:
    """Polls like bot.alerts.poller does: the cursor goes through JSON between rounds."""

    def __init__(self, adapter: RelatelAdapter, clock: SettableClock) -> None:
        self.adapter = adapter
        self.clock = clock
        self.cursor: dict[str, Any] | None = None

    async def round(self, cursor: dict[str, Any] | None = None, *, keep: bool = True) -> list[AlertEvent]:
        start = self.cursor if cursor is None else cursor
        result = await self.adapter.poll_alerts(start, now=self.clock())
        stored = json.loads(json.dumps(result.cursor))  # survives a restart: JSON only
        assert stored == result.cursor
        if keep:
            self.cursor = stored
        return result.events


@pytest.fixture
async def poller(adapter: RelatelAdapter, clock: SettableClock) -> Poller:
    running = Poller(adapter, clock)
    assert await running.round() == []  # the first run remembers the present
    return running


def kinds(events: list[AlertEvent]) -> list[tuple[AlertKind, str]]:
    return [(event.kind, event.subject) for event in events]


# -- capabilities and config -------------------------------------------------------------------------
def test_declares_alert_capabilities_and_signature_auth(adapter: RelatelAdapter) -> None:
    for capability in (Capability.ALERT_POLLING, Capability.ALERT_WEBHOOKS, Capability.VOICEMAIL_HEARD):
        assert adapter.supports(capability)
    assert adapter.webhook_auth == "signature"
    assert "relatel-webhook-secret" not in repr(adapter.settings)


# -- lost calls ---------------------------------------------------------------------------------------
async def test_first_run_is_silent_even_with_recent_calls_and_voicemails(
    adapter: RelatelAdapter, sim: RelatelSimulator, clock: SettableClock
) -> None:
    sim.add_missed_call(CALLER, at=clock.now - timedelta(seconds=40))
    sim.add_voicemail(CALLER)
    running = Poller(adapter, clock)
    assert await running.round() == []
    clock.advance(seconds=30)
    assert await running.round() == []  # still not alerted: they were there before phonebot looked


async def test_missed_call_opens_a_lost_call(poller: Poller, sim: RelatelSimulator, clock: SettableClock) -> None:
    call = sim.add_missed_call(CALLER, at=clock.advance(minutes=1), contact_name="Jens Jensen")
    clock.advance(minutes=1)
    [event] = await poller.round()
    assert event.kind is AlertKind.LOST_CALL_OPENED
    assert event.subject == "lost:+4520000001:Main line"
    assert event.idempotency_key == f"relatel:call:{call['call_uuid']}"
    assert event.caller_number == "+4520000001" and event.caller_name == "Jens Jensen"
    assert event.line == "Main line" and event.group_id == "Reception#10"
    assert event.attempts is None  # each lost call adds an attempt to the message
    assert event.occurred_at == NOW + timedelta(minutes=1)
    assert event.detail["line_number"] == "+4570000010"
    clock.advance(minutes=1)
    assert await poller.round() == []  # never alerted twice


async def test_orphaned_counts_as_lost_but_voicemail_and_answered_do_not(
    poller: Poller, sim: RelatelSimulator, clock: SettableClock
) -> None:
    sim.add_missed_call("4520000002", at=clock.advance(minutes=1), status="orphaned", reception=11)
    sim.add_missed_call("4520000003", at=clock.advance(minutes=1), status="voicemail")
    sim.add_answered_call("4520000004", at=clock.advance(minutes=1))
    clock.advance(minutes=1)
    assert kinds(await poller.round()) == [(AlertKind.LOST_CALL_OPENED, "lost:+4520000002:Support")]


async def test_second_missed_call_same_caller_is_a_second_event_on_the_same_subject(
    poller: Poller, sim: RelatelSimulator, clock: SettableClock
) -> None:
    first = sim.add_missed_call(CALLER, at=clock.advance(minutes=1))
    clock.advance(minutes=1)
    [opened] = await poller.round()
    second = sim.add_missed_call(CALLER, at=clock.advance(minutes=1))
    clock.advance(minutes=1)
    [again] = await poller.round()
    assert again.subject == opened.subject
    assert (opened.idempotency_key, again.idempotency_key) == (
        f"relatel:call:{first['call_uuid']}",
        f"relatel:call:{second['call_uuid']}",
    )


async def test_callback_resolves_with_who_called(poller: Poller, sim: RelatelSimulator, clock: SettableClock) -> None:
    sim.add_missed_call(CALLER, at=clock.advance(minutes=1))
    sim.add_missed_call(CALLER, at=clock.advance(minutes=1), reception=11)
    clock.advance(minutes=1)
    assert len(await poller.round()) == 2
    callback = sim.add_callback(CALLER, by=2, at=clock.advance(minutes=1))
    clock.advance(minutes=3)
    events = await poller.round()
    assert kinds(events) == [
        (AlertKind.LOST_CALL_RESOLVED, "lost:+4520000001:Main line"),
        (AlertKind.LOST_CALL_RESOLVED, "lost:+4520000001:Support"),
    ]
    assert {event.resolved_by for event in events} == {"Bob Berg"}
    assert events[0].idempotency_key == f"relatel:call:{callback['call_uuid']}:resolves:lost:+4520000001:Main line"
    assert events[0].line == "Main line" and events[0].detail["line_number"] == "+4570000010"
    sim.add_callback(CALLER, by=1, at=clock.advance(minutes=1))
    clock.advance(minutes=3)
    assert await poller.round() == []  # nothing open any more


async def test_answered_incoming_call_resolves_and_a_later_miss_reopens(
    poller: Poller, sim: RelatelSimulator, clock: SettableClock
) -> None:
    sim.add_missed_call(CALLER, at=clock.advance(minutes=1))
    clock.advance(minutes=1)
    await poller.round()
    sim.add_answered_call(CALLER, by=3, at=clock.advance(minutes=1))
    sim.add_missed_call(CALLER, at=clock.advance(minutes=2))
    clock.advance(minutes=1)
    events = await poller.round()
    assert [e.kind for e in events] == [AlertKind.LOST_CALL_RESOLVED, AlertKind.LOST_CALL_OPENED]
    assert events[0].resolved_by == "Carol Christensen"


async def test_a_callback_before_the_miss_does_not_resolve_it(
    poller: Poller, sim: RelatelSimulator, clock: SettableClock
) -> None:
    sim.add_callback(CALLER, at=clock.advance(minutes=1))
    sim.add_missed_call(CALLER, at=clock.advance(minutes=3))
    clock.advance(minutes=1)
    assert [e.kind for e in await poller.round()] == [AlertKind.LOST_CALL_OPENED]


async def test_repoll_after_a_crash_gives_the_same_keys(
    poller: Poller, sim: RelatelSimulator, clock: SettableClock
) -> None:
    sim.add_missed_call(CALLER, at=clock.advance(minutes=1))
    clock.advance(minutes=1)
    await poller.round()
    before_crash = poller.cursor
    sim.add_missed_call(CALLER, at=clock.advance(minutes=1))
    sim.add_callback(CALLER, at=clock.advance(minutes=1))
    sim.add_voicemail(CALLER, at=clock.advance(seconds=30))
    clock.advance(minutes=3)
    first = await poller.round(before_crash, keep=False)  # events queued, then the crash: cursor not saved
    clock.advance(seconds=30)
    again = await poller.round(before_crash)
    assert [e.idempotency_key for e in first] == [e.idempotency_key for e in again]
    assert [e.kind for e in again] == [
        AlertKind.LOST_CALL_OPENED,
        AlertKind.LOST_CALL_RESOLVED,
        AlertKind.VOICEMAIL_NEW,
    ]


async def test_a_restart_keeps_the_cursor(
    poller: Poller, server: LoopbackServer, sim: RelatelSimulator, clock: SettableClock
) -> None:
    sim.add_missed_call(CALLER, at=clock.advance(minutes=1))
    clock.advance(minutes=1)
    await poller.round()
    restarted = make_adapter(server, clock)
    try:
        sim.add_callback(CALLER, at=clock.advance(minutes=1))
        clock.advance(minutes=3)
        result = await restarted.poll_alerts(poller.cursor, now=clock())
    finally:
        await restarted.aclose()
    assert [e.kind for e in result.events] == [AlertKind.LOST_CALL_RESOLVED]


async def test_a_full_page_is_paged_back_and_deduped(
    poller: Poller, sim: RelatelSimulator, clock: SettableClock
) -> None:
    start = clock.advance(minutes=1)
    for n in range(150):
        sim.add_missed_call(f"45300{n:05d}", at=start + timedelta(seconds=n))
    clock.advance(minutes=5)
    events = await poller.round()
    assert len(events) == len({e.idempotency_key for e in events}) == 150
    pages = [r for r in sim.requests if r.path.endswith("/calls")]
    assert [("started_at_lt_or_eq" in r.query) for r in pages[-2:]] == [False, True]
    assert all(r.query["limit"] == ["100"] for r in pages)


async def test_1200_calls_in_the_re_read_window_are_all_alerted(
    poller: Poller, sim: RelatelSimulator, clock: SettableClock
) -> None:
    start = clock.advance(minutes=1)
    for n in range(1200):
        sim.add_missed_call(f"45310{n:05d}", at=start + timedelta(seconds=n))
    clock.advance(minutes=21)
    events = await poller.round()
    assert len({e.idempotency_key for e in events}) == len(events) == 1200
    assert poller.cursor is not None and poller.cursor["backlog"] is None
    pages = [r for r in sim.requests if r.path.endswith("/calls")]
    assert all("page" not in r.query and "per_page" not in r.query for r in pages)  # Relatel has neither
    clock.advance(seconds=30)
    assert await poller.round() == []


async def test_a_page_limit_keeps_what_was_not_read_in_the_cursor_and_later_rounds_read_it(
    poller: Poller,
    adapter: RelatelAdapter,
    server: LoopbackServer,
    sim: RelatelSimulator,
    clock: SettableClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    adapter.max_call_pages = 3
    start = clock.advance(minutes=1)
    calls = [sim.add_missed_call(f"45320{n:05d}", at=start + timedelta(seconds=n)) for n in range(450)]
    clock.advance(minutes=9)
    with caplog.at_level("WARNING", logger="adapters.relatel.adapter"):
        first = await poller.round()
    assert [r.levelname for r in caplog.records if "page limit" in r.getMessage()] == ["WARNING"]
    alerted = {e.idempotency_key for e in first}
    assert len(alerted) == len(first) == 298  # three pages of 100, each boundary call read twice
    assert alerted == {f"relatel:call:{c['call_uuid']}" for c in calls[-298:]}  # newest first
    # Not advanced past what was read: every call not alerted lies inside the backlog the cursor keeps.
    assert poller.cursor is not None
    backlog = poller.cursor["backlog"]
    assert backlog["started_before"] == calls[-298]["started_at"]
    for call in calls[:-298]:
        assert call["ended_at"] >= backlog["ended_since"] and call["started_at"] <= backlog["started_before"]
    assert "still to be read" in (adapter.poll_backlog(poller.cursor) or "")

    later = start + timedelta(minutes=9)
    newer = [sim.add_missed_call(f"45330{n:05d}", at=later + timedelta(seconds=n)) for n in range(50)]
    clock.advance(minutes=2)
    restarted = make_adapter(server, clock)  # a restart in between: the backlog lives in the JSON cursor
    restarted.max_call_pages = 3
    try:
        poller.adapter = restarted
        rest = await poller.round()
        while poller.cursor is not None and poller.cursor["backlog"] is not None:
            clock.advance(seconds=30)
            rest += await poller.round()
    finally:
        await restarted.aclose()
    keys = [e.idempotency_key for e in first + rest]
    assert len(keys) == len(set(keys)) == 500  # every call alerted exactly once
    assert set(keys) == {f"relatel:call:{c['call_uuid']}" for c in calls + newer}
    assert restarted.poll_backlog(poller.cursor) is None


async def test_probe_says_when_one_round_cannot_read_the_whole_window(
    adapter: RelatelAdapter, sim: RelatelSimulator, clock: SettableClock
) -> None:
    adapter.max_call_pages = 1
    for n in range(150):
        sim.add_missed_call(f"45340{n:05d}", at=clock.now - timedelta(seconds=100 - n // 2))
    rows = {row.capability: row for row in await adapter.probe()}
    assert rows[Capability.ALERT_POLLING].ok is True
    assert "more than 100 calls ended in the last two minutes" in rows[Capability.ALERT_POLLING].detail


async def test_endpoint_filter_is_applied_here(
    server: LoopbackServer, sim: RelatelSimulator, clock: SettableClock
) -> None:
    filtered = make_adapter(server, clock, alert_endpoints=["Reception#11"])
    try:
        running = Poller(filtered, clock)
        await running.round()
        sim.add_missed_call("4520000002", at=clock.advance(minutes=1), reception=10)
        sim.add_missed_call("4520000003", at=clock.advance(minutes=1), reception=11)
        sim.add_voicemail("4520000002", reception=10, at=clock.advance(minutes=1))
        clock.advance(minutes=1)
        assert kinds(await running.round()) == [(AlertKind.LOST_CALL_OPENED, "lost:+4520000003:Support")]
    finally:
        await filtered.aclose()


async def test_an_unreadable_cursor_starts_afresh(adapter: RelatelAdapter, clock: SettableClock) -> None:
    result = await adapter.poll_alerts({"calls_since": "yesterday"}, now=clock())
    assert result.events == [] and "calls_since" in result.cursor


# -- voicemails ---------------------------------------------------------------------------------------
async def test_voicemail_new_then_heard_then_removed(
    poller: Poller, sim: RelatelSimulator, clock: SettableClock
) -> None:
    voicemail = sim.add_voicemail(CALLER, at=clock.advance(minutes=1), message="Call me back", contact_name="Jens")
    clock.advance(seconds=30)
    [new] = await poller.round()
    vid = str(voicemail["id"])
    assert new.kind is AlertKind.VOICEMAIL_NEW and new.subject == f"voicemail:{vid}"
    assert new.idempotency_key == f"relatel:voicemail:{vid}"
    assert (new.caller_number, new.caller_name, new.duration_seconds) == ("+4520000001", "Jens", 21)
    assert (new.mailbox, new.transcript) == ("Main line", "Call me back")
    assert new.listen_url is None  # sound.url needs a Relatel token; phonebot's own Listen link plays it
    assert new.detail["voicemail_id"] == vid
    assert await poller.round() == []

    sim.hear_voicemail(voicemail["id"])
    [heard] = await poller.round()
    assert (heard.kind, heard.subject, heard.idempotency_key) == (
        AlertKind.VOICEMAIL_HEARD,
        f"voicemail:{vid}",
        f"relatel:voicemail:{vid}:heard",
    )
    assert await poller.round() == []

    sim.delete_voicemail(voicemail["id"])
    [removed] = await poller.round()
    assert (removed.kind, removed.idempotency_key) == (AlertKind.VOICEMAIL_REMOVED, f"relatel:voicemail:{vid}:removed")
    assert await poller.round() == []


async def test_voicemails_from_before_the_first_run_never_alert(poller: Poller, sim: RelatelSimulator) -> None:
    sim.hear_voicemail(502)  # the demo's unheard voicemail, present at the first run
    sim.delete_voicemail(501)
    assert await poller.round() == []


async def test_only_vanished_voicemails_inside_the_fetched_window_count_as_removed(
    poller: Poller, sim: RelatelSimulator, clock: SettableClock
) -> None:
    old = sim.add_voicemail(CALLER, at=clock.advance(minutes=1))
    assert [e.kind for e in await poller.round()] == [AlertKind.VOICEMAIL_NEW]
    start = clock.advance(minutes=1)
    for n in range(50):  # pushes `old` beyond the 50 fetched
        sim.add_voicemail(f"45300{n:05d}", at=start + timedelta(seconds=n))
    events = await poller.round()
    assert len(events) == 50 and {e.kind for e in events} == {AlertKind.VOICEMAIL_NEW}
    assert f"voicemail:{old['id']}" not in {e.subject for e in events}


async def test_mark_heard_puts_heard_with_the_users_own_token(adapter: RelatelAdapter, sim: RelatelSimulator) -> None:
    bob = VendorIdentity(vendor="relatel", user_id="2", token=BOB_TOKEN)
    await adapter.mark_voicemail_heard(bob, "502")
    put = sim.requests[-1]
    assert (put.method, put.path, put.body) == ("PUT", "/api/v2/voice_mails/502", {"voice_mail": {"heard": True}})
    assert put.authorization == f"Bearer {BOB_TOKEN}"
    assert sim.voicemails[502]["heard"] is True

    await adapter.mark_voicemail_heard(VendorIdentity(vendor="relatel", user_id="3"), "501")
    assert sim.requests[-1].authorization == f"Bearer {ADMIN_TOKEN}"  # no own token: the service token


# -- webhooks -----------------------------------------------------------------------------------------
def signed(sim: RelatelSimulator, event_type: str, payload: dict[str, Any] | None, **kw: Any) -> tuple[bytes, Any]:
    return sim.webhook_request(event_type, payload, secret=kw.pop("secret", WEBHOOK_SECRET), **kw)


async def test_signed_call_webhook_and_poll_give_the_same_key(
    poller: Poller, adapter: RelatelAdapter, sim: RelatelSimulator, clock: SettableClock
) -> None:
    call = sim.add_missed_call(CALLER, at=clock.advance(minutes=1))
    body, headers = signed(sim, "call.ended", {"call": call}, delivery_id="d-1")
    adapter.verify_webhook(body, headers)
    assert adapter.webhook_delivery_id(headers) == "d-1"
    assert adapter.webhook_delivery_id({k.lower(): v for k, v in headers.items()}) == "d-1"
    [pushed] = adapter.parse_webhook(body, headers, path="")
    [bare] = adapter.parse_webhook(signed(sim, "call.created", call)[0], {}, path="")  # payload is the call
    clock.advance(minutes=1)
    [polled] = await poller.round()
    assert pushed == bare == polled


@pytest.mark.parametrize(
    ("event_type", "payload"),
    [
        ("webhook.test", {}),
        ("webhook.test", None),
        ("call.created", {"something": "else"}),
        ("call.ended", {"call": {"call_uuid": "x", "status": "missed", "started_at": "not a time"}}),
        ("incoming_message.created", {"body": "hi"}),
        ("chat.created", {"uuid": "c-1"}),
    ],
)
def test_webhooks_without_a_usable_call_give_no_events(
    adapter: RelatelAdapter, sim: RelatelSimulator, event_type: str, payload: dict[str, Any] | None
) -> None:
    body, headers = signed(sim, event_type, payload)
    adapter.verify_webhook(body, headers)
    assert adapter.parse_webhook(body, headers, path="") == []


def test_answered_call_webhook_gives_no_event(adapter: RelatelAdapter, sim: RelatelSimulator) -> None:
    body, headers = signed(sim, "call.ended", {"call": sim.add_answered_call(CALLER)})
    assert adapter.parse_webhook(body, headers, path="") == []


def test_forged_and_stale_signatures_are_refused(
    adapter: RelatelAdapter, sim: RelatelSimulator, clock: SettableClock
) -> None:
    body, headers = signed(sim, "call.ended", {"call": sim.add_missed_call(CALLER)})
    with pytest.raises(WebhookAuthError, match="does not match"):
        adapter.verify_webhook(body + b" ", headers)
    forged = signed(sim, "call.ended", {}, secret="not-the-secret")
    with pytest.raises(WebhookAuthError, match="does not match"):
        adapter.verify_webhook(*forged)
    with pytest.raises(WebhookAuthError, match="missing"):
        adapter.verify_webhook(body, {"Content-Type": "application/json"})
    clock.advance(minutes=10)  # a replay ten minutes later
    with pytest.raises(WebhookAuthError, match="replay window"):
        adapter.verify_webhook(body, headers)


async def test_no_secret_configured_refuses_every_webhook(
    server: LoopbackServer, sim: RelatelSimulator, clock: SettableClock
) -> None:
    unsigned = make_adapter(server, clock, webhook_secret=None)
    try:
        body, headers = signed(sim, "webhook.test", {})
        with pytest.raises(WebhookAuthError, match="no relatel webhook_secret"):
            unsigned.verify_webhook(body, headers)
    finally:
        await unsigned.aclose()


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[1, 2]",
        b'{"event_type": "call.ended", "payload": {}}',
        b'{"delivery_id": "d", "event_type": "call.ended", "occurred_at": "soon", "payload": {}}',
        b'{"delivery_id": "d", "event_type": "call.ended", "occurred_at": "2026-10-06T10:00:00Z", "payload": [1]}',
    ],
)
def test_malformed_bodies_are_rejected(adapter: RelatelAdapter, body: bytes) -> None:
    with pytest.raises(VendorRejected, match="unreadable Relatel webhook"):
        adapter.parse_webhook(body, {}, path="")


async def test_probe_reads_the_alert_sources_and_reports_the_webhook_secret(
    server: LoopbackServer, sim: RelatelSimulator, clock: SettableClock
) -> None:
    for secret, expected in ((WEBHOOK_SECRET, "webhook_secret set"), (None, "no webhook_secret")):
        relatel = make_adapter(server, clock, webhook_secret=secret)
        try:
            rows = {row.capability: row for row in await relatel.probe()}
        finally:
            await relatel.aclose()
        assert rows[Capability.ALERT_POLLING].ok is True
        assert rows[Capability.ALERT_WEBHOOKS].ok is None and expected in rows[Capability.ALERT_WEBHOOKS].detail
        assert rows[Capability.VOICEMAIL_HEARD].ok is None  # it would change state
    assert not [r for r in sim.requests if r.method != "GET"]


def _sound_requests(sim: RelatelSimulator) -> list[Any]:
    return [r for r in sim.requests if r.path.endswith("/sound")]


async def test_a_reception_mailbox_is_fetched_with_the_service_token(
    adapter: RelatelAdapter, sim: RelatelSimulator
) -> None:
    voicemail = sim.add_voicemail(CALLER)  # on Reception#10: a company line, no one person's
    audio = await adapter.voicemail_audio(str(voicemail["id"]))
    assert audio.media_type == "audio/mpeg" and audio.content == voicemail_audio(voicemail["id"])
    [request] = _sound_requests(sim)
    assert request.authorization == f"Bearer {ADMIN_TOKEN}"
    with pytest.raises(NotFound):
        await adapter.voicemail_audio("999999")
    with pytest.raises(NotFound):
        await adapter.voicemail_audio("../employees")


# "Only a number's own user may hear its recordings" (GoatSmile/jensen-fms,
# src/lib/inbound/call-import/relatel.ts, live-tested): the simulator answers a personal
# mailbox's sound only to its owner, so the admin token must not be what phonebot sends.
async def test_a_personal_mailbox_is_fetched_with_its_owners_own_token(
    adapter: RelatelAdapter, sim: RelatelSimulator
) -> None:
    voicemail = sim.add_voicemail(CALLER, employee=2)
    owners = UserTokens(by_user={"2": SecretStr(BOB_TOKEN)})
    audio = await adapter.voicemail_audio(str(voicemail["id"]), owners=owners)
    assert audio.content == voicemail_audio(voicemail["id"])
    assert [r.authorization for r in _sound_requests(sim)] == [f"Bearer {BOB_TOKEN}"]
    [lookup] = [r for r in sim.requests if r.path == f"/api/v2/voice_mails/{voicemail['id']}"]
    assert lookup.method == "GET" and lookup.authorization == f"Bearer {ADMIN_TOKEN}"  # reading the mailbox is fine


async def test_an_owner_matched_by_email_is_found_among_the_unnamed_tokens(
    adapter: RelatelAdapter, sim: RelatelSimulator
) -> None:
    voicemail = sim.add_voicemail(CALLER, employee=2)
    owners = UserTokens(unnamed=(SecretStr("relatel-revoked-token"), SecretStr(BOB_TOKEN)))
    audio = await adapter.voicemail_audio(str(voicemail["id"]), owners=owners)
    assert audio.content == voicemail_audio(voicemail["id"])
    assert [r.authorization for r in _sound_requests(sim)] == [f"Bearer {BOB_TOKEN}"]


async def test_without_the_owners_token_no_audio_is_requested_and_the_reason_is_plain(
    adapter: RelatelAdapter, sim: RelatelSimulator
) -> None:
    voicemail = sim.add_voicemail(CALLER, employee=3)  # Carol's mailbox; phonebot has no token of hers
    misfiled = UserTokens(by_user={"3": SecretStr(BOB_TOKEN)})  # an entry for Carol holding Bob's token
    for owners in (None, misfiled):
        with pytest.raises(IdentityError) as caught:
            await adapter.voicemail_audio(str(voicemail["id"]), owners=owners)
        assert caught.value.args[0] == NO_OWNER_TOKEN
    assert not _sound_requests(sim)  # neither the admin's nor Bob's token was tried on her mailbox


async def test_the_service_tokens_owner_hears_their_own_mailbox(adapter: RelatelAdapter, sim: RelatelSimulator) -> None:
    voicemail = sim.add_voicemail(CALLER, employee=1)  # Alice owns the service token
    audio = await adapter.voicemail_audio(str(voicemail["id"]))
    assert audio.content == voicemail_audio(voicemail["id"])
    assert [r.authorization for r in _sound_requests(sim)] == [f"Bearer {ADMIN_TOKEN}"]


async def test_a_refused_recording_is_plain_words(adapter: RelatelAdapter, sim: RelatelSimulator) -> None:
    voicemail = sim.add_voicemail(CALLER, employee=2)
    sim.respond_with("GET", f"/voice_mails/{voicemail['id']}/sound", {"status": "failure", "message": "x"}, status=403)
    with pytest.raises(VendorAuthError) as caught:
        await adapter.voicemail_audio(str(voicemail["id"]), owners=UserTokens(by_user={"2": SecretStr(BOB_TOKEN)}))
    assert caught.value.message == "Relatel refused to hand phonebot this recording (403)"

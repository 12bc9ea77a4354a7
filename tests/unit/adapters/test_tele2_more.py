"""Tele2: the lost-call backfill (``GET /lost_calls``), the dial number format, and real captured callbacks.

Vendor facts quoted from the Swagger (``shared/vendors/specs/mobili-stotele/apiDefinition.swagger.json``,
vendored in ``tests/fixtures/tele2/``) and seed 003 (``shared/seeds/003_8708be4dfefa65d5.txt``):

* ``GET /lost_calls`` — Swagger operation ``GetLostCalls``; 003 "Get lost calls" (~448): "Retrieve
  all lost call records from call history that have not been answered, have been called back or
  the caller has not reached the employee in repeated attempts within the same day." Parameters
  ``limit``, ``offset``, ``destination``, ``date_from``, ``date_to`` (none required); ``data`` is an
  array of ``contact_name``, ``destination``, ``attempts``, ``callerid``, ``last_contact``.
* ``POST /dial`` — operation ``Dial``; 003 "Dial" (~92): ``destination`` "Destination number."
  (string, required) and ``contactID`` (integer, required). No number format is documented.
* 003 "Common errors and remedies": "404 No items found".
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.errors import VendorRejected
from adapters.events import AlertEvent, AlertKind
from adapters.http import RetryPolicy
from adapters.models import Capability, VendorIdentity
from adapters.simulation import LoopbackServer
from adapters.tele2 import lost_calls, wire
from adapters.tele2.adapter import Tele2Adapter, Tele2Config
from adapters.tele2.simulator import API_KEY, MAIN_LINE, Tele2Simulator
from bot.config import ConfigError, parse_config
from tests.fakes.clock import SettableClock

NOW = datetime(2026, 10, 6, 9, 0, tzinfo=UTC)
FAST = RetryPolicy(attempts=2, base_delay=0.001, max_delay=0.002)
CAPTURED = Path(__file__).resolve().parents[2] / "fixtures/tele2/captured"


@pytest.fixture(scope="module")
def clock() -> SettableClock:
    return SettableClock(NOW)


@pytest.fixture(scope="module")
def sim(clock: SettableClock) -> Tele2Simulator:
    return Tele2Simulator(clock=clock)


@pytest.fixture(scope="module")
def server(sim: Tele2Simulator) -> Iterator[LoopbackServer]:
    with LoopbackServer(sim.build_app()) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh(clock: SettableClock, sim: Tele2Simulator) -> None:
    clock.now = NOW
    sim.reset()


def make(server: LoopbackServer, clock: SettableClock, **config: Any) -> Tele2Adapter:
    return Tele2Adapter(
        Tele2Config(base_url=server.url + "/api/v2/", api_key=API_KEY, **config), retry=FAST, clock=clock
    )


@pytest.fixture
async def adapter(server: LoopbackServer, clock: SettableClock) -> AsyncIterator[Tele2Adapter]:
    tele2 = make(server, clock)
    yield tele2
    await tele2.aclose()


def lost_requests(sim: Tele2Simulator) -> list[dict[str, list[str]]]:
    return [r.query for r in sim.requests if r.path == "/api/v2/lost_calls"]


def webhook_of(adapter: Tele2Adapter, event: str, data: dict[str, Any]) -> AlertEvent:
    [parsed] = adapter.parse_webhook(
        json.dumps({"type": "Event", "version": "v1", "eventType": event, "data": data}).encode(), {}, path=event
    )
    return parsed


# -- the backfill ---------------------------------------------------------------------------------
async def test_first_round_backfills_open_callers_of_the_last_day(
    adapter: Tele2Adapter, sim: Tele2Simulator, clock: SettableClock
) -> None:
    clock.now = NOW - timedelta(hours=30)
    sim.lose_call("+37069900009")  # open, but older than lost_calls_backfill_hours (24)
    clock.now = NOW - timedelta(minutes=5)
    event, data = sim.lose_call("+37069900001", contact_name="UAB Medis")
    clock.now = NOW
    result = await adapter.poll_alerts(None, now=NOW)
    [opened] = result.events
    assert (opened.kind, opened.subject, opened.caller_name) == (
        AlertKind.LOST_CALL_OPENED,
        f"lost:+37069900001:{MAIN_LINE}",
        "UAB Medis",
    )
    assert opened.occurred_at == NOW - timedelta(minutes=5)
    # The very key the LostCallerAdded webhook gives: pushed and listed, it is queued once.
    assert opened.idempotency_key == webhook_of(adapter, event, data).idempotency_key
    assert set(result.cursor["open"]) == {f"lost:+37069900001:{MAIN_LINE}", f"lost:+37069900009:{MAIN_LINE}"}
    assert lost_requests(sim) == [{"limit": ["100"], "offset": ["0"]}]


async def test_later_rounds_queue_what_changed_and_resolve_who_was_reached(
    adapter: Tele2Adapter, sim: Tele2Simulator, clock: SettableClock
) -> None:
    sim.lose_call("+37069900001")
    sim.lose_call("+37069900002")
    cursor = (await adapter.poll_alerts(None, now=NOW)).cursor
    again = await adapter.poll_alerts(cursor, now=NOW)
    assert again.events == [] and again.cursor == cursor  # nothing new: nothing queued

    clock.now = NOW + timedelta(minutes=3)
    event, data = sim.lose_call("+37069900001")  # tried again (while phonebot was down, say)
    sim.reach_caller("+37069900002")  # called back
    sim.lose_call("+37069900003")  # and a new one
    later = await adapter.poll_alerts(cursor, now=clock.now)
    kinds = {(e.kind, e.subject.split(":")[1]) for e in later.events}
    assert kinds == {
        (AlertKind.LOST_CALL_UPDATED, "+37069900001"),
        (AlertKind.LOST_CALL_RESOLVED, "+37069900002"),
        (AlertKind.LOST_CALL_OPENED, "+37069900003"),
    }
    updated = next(e for e in later.events if e.kind is AlertKind.LOST_CALL_UPDATED)
    assert event == "LostCallerUpdated" and updated.attempts == 2
    assert updated.idempotency_key == webhook_of(adapter, event, data).idempotency_key
    resolved = next(e for e in later.events if e.kind is AlertKind.LOST_CALL_RESOLVED)
    assert resolved.occurred_at == clock.now
    # The same round read again (a crash before the cursor was saved) gives the same facts: the same keys.
    repeat = await adapter.poll_alerts(cursor, now=clock.now + timedelta(seconds=30))
    assert {e.idempotency_key for e in repeat.events} == {e.idempotency_key for e in later.events}


async def test_a_list_read_only_in_part_resolves_nobody(
    adapter: Tele2Adapter, sim: Tele2Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(150):
        sim.lose_call(f"+370699{n:05d}")
    cursor = (await adapter.poll_alerts(None, now=NOW)).cursor
    assert len(cursor["open"]) == 150
    assert [q["offset"] for q in lost_requests(sim)] == [["0"], ["100"]]
    monkeypatch.setattr(lost_calls, "MAX_PAGES", 1)
    partial = await adapter.poll_alerts(cursor, now=NOW)
    assert partial.events == [] and len(partial.cursor["open"]) == 150  # the 50 unread are not "called back"


async def test_nobody_waiting_is_404_no_items_found(adapter: Tele2Adapter, sim: Tele2Simulator) -> None:
    result = await adapter.poll_alerts(None, now=NOW)
    assert result.events == [] and result.cursor == {"v": 1, "open": {}}


async def test_backfill_can_be_narrowed_or_turned_off(
    server: LoopbackServer, clock: SettableClock, sim: Tele2Simulator
) -> None:
    sim.lose_call("+37069900001")
    quiet = make(server, clock, lost_calls_backfill_hours=0)
    off = make(server, clock, poll_lost_calls=False)
    try:
        first = await quiet.poll_alerts(None, now=NOW)
        assert first.events == [] and len(first.cursor["open"]) == 1  # remembered, not alerted
        assert quiet.supports(Capability.ALERT_POLLING) and not off.supports(Capability.ALERT_POLLING)
        probe = {row.capability: row for row in await off.probe()}
        assert probe[Capability.ALERT_POLLING].ok is None
    finally:
        await quiet.aclose()
        await off.aclose()


async def test_probe_reads_the_lost_call_list(adapter: Tele2Adapter, sim: Tele2Simulator) -> None:
    row = {r.capability: r for r in await adapter.probe()}[Capability.ALERT_POLLING]
    assert row.ok is True and "GET /lost_calls readable" in row.detail
    sim.set_faults(status=403, path_prefix="/api/v2/lost_calls")
    row = {r.capability: r for r in await adapter.probe()}[Capability.ALERT_POLLING]
    assert row.ok is False and "GET /lost_calls" in row.detail and "allowed this method" in row.detail


async def test_simulator_lists_lost_calls_as_documented(server: LoopbackServer, sim: Tele2Simulator) -> None:
    import httpx

    sim.lose_call("+37069900001", line="+37052000200")
    sim.lose_call("+37069900002")
    with httpx.Client(base_url=server.url + "/api/v2", headers={"Authorization": f"Bearer {API_KEY}"}) as http:
        assert len(http.get("/lost_calls").json()["data"]) == 2
        only = http.get("/lost_calls", params={"destination": "+37052000200"}).json()["data"]
        assert [row["callerid"] for row in only] == ["69900001"]
        assert http.get("/lost_calls", params={"date_from": "2030-01-01T00:00:00Z"}).status_code == 404
        assert http.get("/lost_calls", params={"date_from": "soon"}).status_code == 422
        assert http.get("/lost_calls", params={"offset": 5}).json()["message"] == "No items found"


# -- dial number format ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("dial_format", "region", "number", "sent"),
    [
        ("e164", "LT", "8 699 12345", "+37069912345"),
        ("e164_no_plus", "LT", "8 699 12345", "37069912345"),
        ("national", "LT", "8 699 12345", "69912345"),
        ("national", "LV", "+371 29000001", "29000001"),
        ("national", "LT", "+4571999999", "+4571999999"),  # another country: no national form, stays E.164
    ],
)
async def test_dial_format_spells_the_destination(
    server: LoopbackServer,
    clock: SettableClock,
    sim: Tele2Simulator,
    dial_format: str,
    region: str,
    number: str,
    sent: str,
) -> None:
    tele2 = make(server, clock, dial_format=dial_format, default_country=region)
    try:
        result = await tele2.dial(VendorIdentity(vendor="tele2", user_id="101"), number)
    finally:
        await tele2.aclose()
    [request] = [r for r in sim.requests if r.path == "/api/v2/dial"]
    assert request.body == {"destination": sent, "contactID": 101}
    assert result.target.startswith("+")  # what phonebot tells the user is always E.164


async def test_a_refused_number_points_the_admin_at_dial_format(adapter: Tele2Adapter, sim: Tele2Simulator) -> None:
    sim.respond_with("POST", "/dial", {"statusCode": 422, "message": "Unprocessable Entity"}, status=422)
    with pytest.raises(VendorRejected) as caught:
        await adapter.dial(VendorIdentity(vendor="tele2", user_id="101"), "+37069912345")
    assert "refused to dial +37069912345 (422)" in caught.value.message
    assert "dial_format" in caught.value.message and "Unprocessable" not in caught.value.message


def test_dial_format_is_validated_with_a_clear_error() -> None:
    assert Tele2Config(api_key="k").dial_format == "e164"  # the default: what the notes infer, and main sent
    with pytest.raises(ConfigError, match=r"vendors\.tele2\.dial_format: .*'e164', 'e164_no_plus' or 'national'"):
        parse_config({"vendors": {"tele2": {"api_key": "k", "dial_format": "+national"}}}, source="t")


# -- real captured callbacks ----------------------------------------------------------------------
def captured(name: str) -> dict[str, Any]:
    fixture = json.loads((CAPTURED / name).read_text(encoding="utf-8"))
    assert fixture["source"]["repository"].startswith("https://github.com/") and fixture["source"]["commit"]
    body: dict[str, Any] = fixture["body"]
    return body


@pytest.fixture
def lmt() -> Iterator[Tele2Adapter]:
    config = Tele2Config(
        api_key="k", base_url="https://zvanuparvaldnieks.lmt.lv/api/v2/", default_country="LV", timezone="Europe/Riga"
    )
    yield Tele2Adapter(config, clock=lambda: NOW)


@pytest.mark.parametrize("name", sorted(p.name for p in CAPTURED.glob("*.json")))
def test_every_captured_callback_parses(lmt: Tele2Adapter, name: str) -> None:
    body = captured(name)
    [from_type] = lmt.parse_webhook(json.dumps(body).encode(), {}, path="")  # eventType as sent
    [from_url] = lmt.parse_webhook(json.dumps(body).encode(), {}, path=body["eventType"])
    assert from_type == from_url and from_type.detail["event"] == body["eventType"]


def test_captured_ids_beyond_int32_offsets_without_colon_and_call_ended(lmt: Tele2Adapter) -> None:
    [completed] = lmt.parse_webhook(json.dumps(captured("lmt-call-completed-inbound.json")).encode(), {}, path="")
    assert completed.subject == "call:1524664322937898" and completed.detail["call_id"] == 1524664322937898 > 2**31
    assert completed.occurred_at == datetime(2018, 4, 25, 13, 52, 47, tzinfo=UTC)  # callEnded, read from "+0000"
    assert (completed.caller_number, completed.line) == ("+37129000001", "+37167000002")  # national, read as LV
    assert completed.text == "Incoming call from +37129000001 to +37167000002 ended after 26 s"
    [started] = lmt.parse_webhook(json.dumps(captured("lmt-call-started-inbound.json")).encode(), {}, path="")
    assert started.occurred_at == datetime(2018, 4, 25, 13, 52, 2, tzinfo=UTC)
    [voicemail] = lmt.parse_webhook(json.dumps(captured("lmt-voicemail-created.json")).encode(), {}, path="")
    assert voicemail.subject == "voicemail:171118926552" and voicemail.caller_number == "+37123332222"
    assert voicemail.occurred_at == datetime(2017, 10, 16, 21, 26, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("2018-04-25T13:52:02+0000", datetime(2018, 4, 25, 13, 52, 2, tzinfo=UTC)),
        ("2018-04-25T16:52:02+0300", datetime(2018, 4, 25, 13, 52, 2, tzinfo=UTC)),
        ("2018-04-25T13:52:02-0130", datetime(2018, 4, 25, 15, 22, 2, tzinfo=UTC)),
        ("2018-04-25 13:52:02+0000", datetime(2018, 4, 25, 13, 52, 2, tzinfo=UTC)),
    ],
)
def test_offsets_without_a_colon(raw: str, parsed: datetime) -> None:
    assert wire.parse_time(raw, UTC) == parsed


def test_simulated_callbacks_are_spelled_like_the_captured_ones(sim: Tele2Simulator) -> None:
    real = captured("lmt-call-completed-inbound.json")
    simulated = sim.webhook_body("CallCompleted")
    assert (simulated["type"], simulated["version"], simulated["eventType"]) == (
        real["type"],
        real["version"],
        real["eventType"],
    )
    assert set(real["data"]) == set(simulated["data"])
    for field in ("callStarted", "callConnected", "callEnded"):
        assert simulated["data"][field].endswith("+0000") and "T" in simulated["data"][field]
    assert simulated["data"]["caller"].isdigit()  # national, no prefix

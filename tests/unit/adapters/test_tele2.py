"""Tele2Adapter against Tele2Simulator over real HTTP on loopback, and its webhook mapping."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.base import AdapterConfig
from adapters.errors import (
    IdentityError,
    VendorAuthError,
    VendorRateLimited,
    VendorRejected,
    VendorTimeout,
    VendorUnavailable,
)
from adapters.events import AlertEvent, AlertKind
from adapters.http import RetryPolicy
from adapters.models import Capability, VendorIdentity
from adapters.simulation import LoopbackServer, RecordedRequest
from adapters.tele2 import wire
from adapters.tele2.adapter import LMT_BASE_URL, NEEDS_CONTACT_ID, Tele2Adapter, Tele2Config
from adapters.tele2.paths import WEBHOOK_EVENTS
from adapters.tele2.simulator import API_KEY, FOREIGN_WEBHOOKS, MAIN_LINE, Tele2Simulator
from adapters.tele2.webhooks import Webhook, plan_sync
from tests.fakes.clock import SettableClock

# 12:00 in Vilnius (EEST, UTC+3).
NOW = datetime(2026, 10, 6, 9, 0, tzinfo=UTC)
FAST = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.005)
SECRET = "s3cret-url-token"
LOST_EVENTS = ["LostCallerAdded", "LostCallerUpdated", "LostCallerRemoved", "VoicemailCreated", "VoicemailDeleted"]


class Receiver:
    """phonebot's side of a webhook: a secret URL token, then ``parse_webhook`` (400 when unreadable)."""

    def __init__(self) -> None:
        self.parse: Callable[..., list[AlertEvent]] | None = None
        self.events: list[AlertEvent] = []

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/hooks/tele2/{token}", self._receive, methods=["POST"]),
                Route("/hooks/tele2/{token}/{event}", self._receive, methods=["POST"]),
            ]
        )

    async def _receive(self, request: Request) -> Response:
        if request.path_params["token"] != SECRET:
            return JSONResponse({"ok": False}, status_code=401)
        assert self.parse is not None
        try:
            events = self.parse(await request.body(), request.headers, path=request.path_params.get("event") or "")
        except VendorRejected as exc:
            return JSONResponse({"ok": False, "error": exc.message}, status_code=400)
        self.events.extend(events)
        return JSONResponse({"ok": True})


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


@pytest.fixture(scope="module")
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture(scope="module")
def hooks(receiver: Receiver) -> Iterator[LoopbackServer]:
    with LoopbackServer(receiver.app()) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh(clock: SettableClock, sim: Tele2Simulator, receiver: Receiver) -> None:
    clock.now = NOW
    sim.reset()
    sim.echo_ids = True
    sim.serve_webhook_list = False
    sim.send_location = True
    receiver.events.clear()


def make_adapter(
    server: LoopbackServer, clock: SettableClock, *, api_key: str = API_KEY, **config: Any
) -> Tele2Adapter:
    settings = Tele2Config(base_url=server.url + "/api/v2/", api_key=api_key, **config)
    return Tele2Adapter(settings, retry=FAST, clock=clock)


@pytest.fixture
async def adapter(server: LoopbackServer, clock: SettableClock) -> AsyncIterator[Tele2Adapter]:
    tele2 = make_adapter(server, clock)
    yield tele2
    await tele2.aclose()


def who(user_id: str) -> VendorIdentity:
    return VendorIdentity(vendor="tele2", user_id=user_id)


def sent(sim: Tele2Simulator, method: str, path: str) -> list[RecordedRequest]:
    return [r for r in sim.requests if r.method == method and r.path == "/api/v2" + path]


def body(sim: Tele2Simulator, event: str, **data: Any) -> bytes:
    return json.dumps(sim.webhook_body(event, data)).encode()


class StoreState:
    """phonebot's store as an adapter sees it (``AdapterState``), durable like Redis."""

    durable = True

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    async def get(self, key: str) -> str | None:
        return self.values.get(key)

    async def set(self, key: str, value: str) -> None:
        self.values[key] = value


def one(events: list[AlertEvent]) -> AlertEvent:
    assert len(events) == 1
    return events[0]


# -- configuration ------------------------------------------------------------------------------
def test_config_defaults_and_validation() -> None:
    config = Tele2Config.model_validate({"api_key": "Bearer OnYSrLTH3i2qiyb873au2LNdAajXjf5I", "default_country": "lt"})
    assert str(config.base_url) == "https://mobili-stotele.tele2.lt/api/v2/"
    assert config.api_key.get_secret_value() == "OnYSrLTH3i2qiyb873au2LNdAajXjf5I"  # pasted "Bearer " dropped
    assert (config.default_country, config.timezone, config.webhook_limit) == ("LT", "Europe/Vilnius", 20)
    lmt = Tele2Config(base_url=LMT_BASE_URL, api_key="k", default_country="LV", timezone="Europe/Riga")
    assert str(lmt.base_url) == "https://zvanuparvaldnieks.lmt.lv/api/v2/"
    invalid: list[tuple[dict[str, Any], str]] = [
        ({"default_country": "XX"}, "country"),
        ({"timezone": "Mars/Olympus"}, "time zone"),
        ({"webhook_limit": 21}, "less than or equal to 20"),
        ({"api_key": "Bearer  "}, "empty"),
    ]
    for bad, problem in invalid:
        with pytest.raises(ValueError, match=problem):
            Tele2Config.model_validate({"api_key": "k", **bad})


def test_capabilities_are_what_the_api_offers() -> None:
    assert Tele2Adapter.capabilities == {
        Capability.DIAL,
        Capability.DIRECTORY,
        Capability.CONTACT_SEARCH,
        Capability.ALERT_WEBHOOKS,
        Capability.ALERT_POLLING,  # GET /lost_calls: the backfill behind the webhooks
    }
    assert not Tele2Adapter.acts_as_token_owner
    with pytest.raises(TypeError, match="needs a Tele2Config"):
        Tele2Adapter(AdapterConfig(base_url="https://mobili-stotele.tele2.lt/api/v2/"))


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("+370 699 12345", "LT", "+37069912345"),
        ("869912345", "LT", "+37069912345"),
        ("069912345", "LT", "+37069912345"),
        ("37069912345", "LT", "+37069912345"),
        ("0037069912345", "LT", "+37069912345"),
        ("(8 5) 200 0100", "LT", "+37052000100"),
        ("20000001", "LV", "+37120000001"),
        ("+4571999999", "LT", "+4571999999"),
        ("4571999999", "LT", "+4571999999"),
        ("anonymous", "LT", None),
        ("", "LT", None),
        ("+3706", "LT", None),
    ],
)
def test_numbers_become_e164(raw: str, region: str, e164: str | None) -> None:
    assert wire.to_e164(raw, region) == e164


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("2026-10-06 12:00:00", datetime(2026, 10, 6, 9, 0, tzinfo=UTC)),  # local Vilnius time
        ("2026-10-06T12:00:00", datetime(2026, 10, 6, 9, 0, tzinfo=UTC)),
        ("2026-10-06T09:00:00Z", datetime(2026, 10, 6, 9, 0, tzinfo=UTC)),
        ("2026-10-06T12:00:00+03:00", datetime(2026, 10, 6, 9, 0, tzinfo=UTC)),
        ("1791277200", datetime(2026, 10, 6, 9, 0, tzinfo=UTC)),
        ("yesterday", None),
        ("", None),
        (None, None),
    ],
)
def test_vendor_times(raw: str | None, parsed: datetime | None) -> None:
    assert wire.parse_time(raw, ZoneInfo("Europe/Vilnius")) == parsed


# -- dial ---------------------------------------------------------------------------------------
async def test_dial_sends_e164_and_the_employee(adapter: Tele2Adapter, sim: Tele2Simulator) -> None:
    result = await adapter.dial(who("101"), "8 699 12345")
    assert result.target == "+37069912345"
    [request] = sent(sim, "POST", "/dial")
    assert request.body == {"destination": "+37069912345", "contactID": 101}
    assert request.authorization == f"Bearer {API_KEY}"
    assert [(d.contact_id, d.destination) for d in sim.dials] == [(101, "+37069912345")]


async def test_lmt_reads_national_numbers_as_latvian(
    server: LoopbackServer, clock: SettableClock, sim: Tele2Simulator
) -> None:
    lmt = make_adapter(server, clock, default_country="LV", timezone="Europe/Riga")
    try:
        assert (await lmt.dial(who("102"), "20000001")).target == "+37120000001"
    finally:
        await lmt.aclose()


async def test_dial_is_never_retried(adapter: Tele2Adapter, sim: Tele2Simulator) -> None:
    sim.set_faults(status=500, path_prefix="/api/v2/dial")
    with pytest.raises(VendorUnavailable):
        await adapter.dial(who("101"), "+37069912345")
    assert len(sent(sim, "POST", "/dial")) == 1
    assert not sim.dials


async def test_dial_needs_an_employee_and_a_number(adapter: Tele2Adapter, sim: Tele2Simulator) -> None:
    with pytest.raises(IdentityError) as caught:
        await adapter.dial(adapter.service_identity(), "+37069912345")
    assert str(caught.value) == NEEDS_CONTACT_ID and "contactID" in NEEDS_CONTACT_ID
    with pytest.raises(VendorRejected, match="isn't a number"):
        await adapter.dial(who("101"), "+370 69x")
    assert not sim.requests


# -- HTTP errors --------------------------------------------------------------------------------
async def test_unknown_key_is_an_auth_error(server: LoopbackServer, clock: SettableClock) -> None:
    tele2 = make_adapter(server, clock, api_key="revoked")
    try:
        with pytest.raises(VendorAuthError) as caught:
            await tele2.list_users(tele2.service_identity())
        assert caught.value.status_code == 401
    finally:
        await tele2.aclose()


async def test_forbidden_names_the_method_to_allow(adapter: Tele2Adapter, sim: Tele2Simulator) -> None:
    sim.set_faults(status=403, path_prefix="/api/v2/trigger/contacts")
    with pytest.raises(VendorAuthError, match="GET /trigger/contacts") as caught:
        await adapter.list_users(adapter.service_identity())
    assert "IP ACL" in caught.value.message and caught.value.status_code == 403


async def test_rate_limit_carries_retry_after(adapter: Tele2Adapter, sim: Tele2Simulator) -> None:
    sim.set_faults(status=429, retry_after=7)
    with pytest.raises(VendorRateLimited) as caught:
        await adapter.list_users(adapter.service_identity())
    assert caught.value.retry_after == 7
    assert len(sent(sim, "GET", "/trigger/contacts")) == FAST.attempts


async def test_slow_answer_is_a_timeout(server: LoopbackServer, clock: SettableClock, sim: Tele2Simulator) -> None:
    tele2 = make_adapter(server, clock, timeout_seconds=0.05)
    sim.set_faults(latency=0.3, count=FAST.attempts)
    try:
        with pytest.raises(VendorTimeout):
            await tele2.list_users(tele2.service_identity())
    finally:
        await tele2.aclose()


@pytest.mark.parametrize("answer", [{"data": "oops"}, ["not", "an", "envelope"], {"data": [{"firstname": "No id"}]}])
async def test_malformed_answers_are_vendor_unavailable(
    adapter: Tele2Adapter, sim: Tele2Simulator, answer: Any
) -> None:
    sim.respond_with("GET", "/trigger/contacts", answer)
    with pytest.raises(VendorUnavailable, match="unexpected answer"):
        await adapter.list_users(adapter.service_identity())


# -- directory ----------------------------------------------------------------------------------
async def test_list_users_skips_archived_and_has_no_emails(adapter: Tele2Adapter, sim: Tele2Simulator) -> None:
    users = await adapter.list_users(adapter.service_identity())
    assert [(u.user_id, u.name, u.email, u.number) for u in users] == [
        ("101", "Aistė Kazlauskienė", None, "+37061000101"),
        ("103", "Carol Christensen", None, "+37061000103"),
        ("102", "Jonas Petrauskas", None, "+37061000102"),
    ]
    [request] = sent(sim, "GET", "/trigger/contacts")
    assert request.query == {"initial_contact_id": ["0"], "limit": ["100"], "offset": ["0"]}
    assert await adapter.find_user_by_email(adapter.service_identity(), "carol@example.com") is None


async def test_list_users_pages_with_offset(adapter: Tele2Adapter, sim: Tele2Simulator) -> None:
    for contact_id in range(1000, 1150):
        sim.employees[contact_id] = {"contactID": contact_id, "firstname": "Darbuotojas", "lastname": str(contact_id)}
    assert len(await adapter.list_users(adapter.service_identity())) == 153
    offsets = [r.query["offset"] for r in sent(sim, "GET", "/trigger/contacts")]
    assert offsets == [["0"], ["100"]]


async def test_no_items_found_is_an_empty_list(adapter: Tele2Adapter, sim: Tele2Simulator) -> None:
    sim.employees.clear()
    assert await adapter.list_users(adapter.service_identity()) == []
    assert await adapter.search_contacts(adapter.service_identity(), "jonas") == []


async def test_search_contacts_by_name_and_number(adapter: Tele2Adapter, sim: Tele2Simulator) -> None:
    [carol] = await adapter.search_contacts(adapter.service_identity(), "CAROL chr")
    assert (carol.id, carol.name, carol.number, carol.colleague) == (
        "employee:103",
        "Carol Christensen",
        "+37061000103",
        True,
    )
    [jonas] = await adapter.search_contacts(adapter.service_identity(), "8 610 00102")
    assert jonas.name == "Jonas Petrauskas"
    assert await adapter.search_contacts(adapter.service_identity(), "Tomas") == []  # archived
    assert await adapter.search_contacts(adapter.service_identity(), "  ") == []


async def test_probe(adapter: Tele2Adapter, sim: Tele2Simulator) -> None:
    rows = {row.capability: row for row in await adapter.probe()}
    assert rows[Capability.DIRECTORY].ok is True and rows[Capability.CONTACT_SEARCH].ok is True
    assert rows[Capability.DIAL].ok is None
    assert rows[Capability.PRESENCE_READ].ok is False and rows[Capability.QUEUE_STATUS].ok is False
    assert not sent(sim, "POST", "/dial")


# -- webhook subscriptions ----------------------------------------------------------------------
# The Swagger and the seed publish no way to list webhooks (only POST /webhooks/{Event} and
# DELETE /webhooks/{webhook_id}, S1 DeleteWebhookByID), so the simulator answers GET /webhooks
# 404 like any route the API lacks; tests of an account that does list set sim.serve_webhook_list.
TARGET = "https://bot.example/hooks/tele2/tok/{event}"


async def test_list_webhooks_includes_others_when_tele2_lists_them(adapter: Tele2Adapter, sim: Tele2Simulator) -> None:
    sim.serve_webhook_list = True
    listed = await adapter.list_webhooks()
    assert listed is not None and [(w.event, w.endpoint) for w in listed] == list(FOREIGN_WEBHOOKS)


@pytest.mark.parametrize(
    "answer",
    [
        None,  # the documented API: no such route, a plain 404
        (404, {"statusCode": 404, "message": "No items found", "data": []}),  # looks like an empty list
        (405, {"message": "Method Not Allowed"}),
    ],
)
async def test_a_list_tele2_does_not_serve_is_unknown_never_empty(
    adapter: Tele2Adapter, sim: Tele2Simulator, answer: tuple[int, Any] | None
) -> None:
    if answer is not None:
        sim.respond_with("GET", "/webhooks", answer[1], status=answer[0])
    assert await adapter.list_webhooks() is None


async def test_ensure_webhooks_records_the_ids_and_reuses_them(adapter: Tele2Adapter, sim: Tele2Simulator) -> None:
    first = await adapter.ensure_webhooks(TARGET, LOST_EVENTS)
    assert [w.event for w in first.created] == LOST_EVENTS
    assert [w.id for w in first.created] == ["3", "4", "5", "6", "7"]  # POST /webhooks/{Event}: data = the id
    assert (first.reused, first.removed, first.total, first.limit, first.listed) == ((), (), 5, 20, False)
    assert {w["endpoint"] for w in sim.subscriptions("LostCallerAdded")} == {
        "https://bot.example/hooks/tele2/tok/LostCallerAdded"
    }
    posts = [r for r in sim.requests if r.method == "POST"]
    assert [r.path for r in posts] == [f"/api/v2/webhooks/{e}" for e in LOST_EVENTS]
    assert posts[0].body == {"endpoint": "https://bot.example/hooks/tele2/tok/LostCallerAdded"}
    assert await adapter.registered_webhooks() == list(first.created)

    sim.requests.clear()
    again = await adapter.ensure_webhooks(TARGET, ["lostcalleradded", *LOST_EVENTS])  # case and repeats ignored
    assert again.created == () and [w.id for w in again.reused] == [w.id for w in first.created]
    assert again.total == 5 and len(sim.webhooks) == 7
    assert [(r.method, r.path) for r in sim.requests] == [("GET", "/api/v2/webhooks")]  # asked, answered 404


async def test_repeated_syncs_never_leak_when_tele2_does_not_list(
    server: LoopbackServer, clock: SettableClock, sim: Tele2Simulator
) -> None:
    """A new adapter per start, one store between them: phonebot's record, not the list, says what exists."""
    state = StoreState()
    for _ in range(4):
        tele2 = make_adapter(server, clock)
        tele2.use_state(state)
        try:
            await tele2.subscribe_webhooks(TARGET)
        finally:
            await tele2.aclose()
        assert len(sim.webhooks) == 2 + len(LOST_EVENTS)  # on main: 7, 12, 17, then "Webhook limit reached"


async def test_records_are_per_api_key_and_host(
    server: LoopbackServer, clock: SettableClock, sim: Tele2Simulator
) -> None:
    state = StoreState()
    tele2 = make_adapter(server, clock)
    tele2.use_state(state)
    await tele2.ensure_webhooks(TARGET, ["LostCallerAdded"])
    await tele2.aclose()
    [key] = state.values
    assert key.startswith("webhooks:") and API_KEY not in key
    sim.api_keys.add("second-key")
    other = make_adapter(server, clock, api_key="second-key")
    other.use_state(state)
    try:
        assert await other.registered_webhooks() == []
    finally:
        await other.aclose()


async def test_an_unreadable_record_is_a_fresh_start(adapter: Tele2Adapter, sim: Tele2Simulator) -> None:
    await adapter.ensure_webhooks(TARGET, ["LostCallerAdded"])
    state = adapter.state
    assert isinstance(state, object) and state is not None
    await state.set(adapter._records_key(), "{not json")
    assert await adapter.registered_webhooks() == []


async def test_the_list_when_served_corrects_the_record(adapter: Tele2Adapter, sim: Tele2Simulator) -> None:
    target = "https://bot.example/hooks/tele2/tok"  # one URL for every event
    await adapter.ensure_webhooks(target, LOST_EVENTS)
    [updated] = sim.subscriptions("LostCallerUpdated")
    del sim.webhooks[updated["id"]]  # deleted in the panel
    sim.serve_webhook_list = True
    result = await adapter.ensure_webhooks(target, LOST_EVENTS)
    assert [w.event for w in result.created] == ["LostCallerUpdated"]
    assert len(result.reused) == 4 and result.total == 7 and result.listed
    assert str(updated["id"]) not in {w.id for w in await adapter.registered_webhooks()}


async def test_ensure_webhooks_drops_duplicates_the_list_shows(adapter: Tele2Adapter, sim: Tele2Simulator) -> None:
    sim.serve_webhook_list = True
    target = "https://bot.example/hooks/tele2/tok"
    kept = sim.add_webhook("LostCallerAdded", target)
    spare = sim.add_webhook("LostCallerAdded", target)
    result = await adapter.ensure_webhooks(target, ["LostCallerAdded"])
    assert [w.id for w in result.reused] == [str(kept["id"])]
    assert [w.id for w in result.removed] == [str(spare["id"])]
    assert result.created == () and result.total == 3 and len(sim.webhooks) == 3
    assert [w.id for w in await adapter.registered_webhooks()] == [str(kept["id"])]  # adopted


async def test_ensure_webhooks_refuses_past_the_limit_without_changes(
    adapter: Tele2Adapter, sim: Tele2Simulator
) -> None:
    sim.serve_webhook_list = True
    sim.add_webhook("LostCallerAdded", "https://bot.example/hooks/tele2/tok/LostCallerAdded")  # ours: reused
    for n in range(15):
        sim.add_webhook("CallStarted", f"https://flows.example.lt/flow-{n}")
    before = sim.subscriptions()
    with pytest.raises(VendorRejected) as caught:
        await adapter.ensure_webhooks(TARGET, LOST_EVENTS)
    message = caught.value.message
    assert "18 webhooks exist already (17 of them not phonebot's)" in message
    assert "phonebot needs 4 more" in message and "22 in all" in message
    assert "the limit is 20 webhooks per account" in message and "Nothing was changed" in message
    assert sim.subscriptions() == before
    assert [r.method for r in sim.requests] == ["GET"]


async def test_ensure_webhooks_counts_its_own_records_against_the_limit(
    server: LoopbackServer, clock: SettableClock, sim: Tele2Simulator
) -> None:
    tele2 = make_adapter(server, clock, webhook_limit=7)
    try:
        await tele2.ensure_webhooks("https://old.example/h/{event}", LOST_EVENTS)  # 5 on record
        with pytest.raises(VendorRejected, match="10 in all, but the limit is 7"):
            await tele2.ensure_webhooks(TARGET, LOST_EVENTS)  # a new URL: 5 more
    finally:
        await tele2.aclose()


async def test_ensure_webhooks_fills_the_account_exactly(adapter: Tele2Adapter, sim: Tele2Simulator) -> None:
    sim.serve_webhook_list = True
    for n in range(13):
        sim.add_webhook("CallStarted", f"https://flows.example.lt/flow-{n}")
    result = await adapter.ensure_webhooks("https://bot.example/h/{event}", LOST_EVENTS)
    assert result.total == 20 and len(sim.webhooks) == 20


async def test_ensure_webhooks_honours_a_lower_configured_limit(
    server: LoopbackServer, clock: SettableClock, sim: Tele2Simulator
) -> None:
    sim.serve_webhook_list = True
    tele2 = make_adapter(server, clock, webhook_limit=5)
    try:
        with pytest.raises(VendorRejected, match="the limit is 5 webhooks"):
            await tele2.ensure_webhooks("https://bot.example/h/{event}", LOST_EVENTS)
    finally:
        await tele2.aclose()
    assert len(sim.webhooks) == 2


async def test_vendor_limit_mid_way_rolls_back(adapter: Tele2Adapter, sim: Tele2Simulator) -> None:
    """Webhooks phonebot could not count: Tele2's documented 403 stops the sync (seed 003, "Common errors
    and remedies": "403 Webhook limit reached"); what it made is deleted again and not recorded."""
    for n in range(16):
        sim.add_webhook("CallStarted", f"https://flows.example.lt/flow-{n}")
    with pytest.raises(VendorRejected) as caught:
        await adapter.ensure_webhooks("https://bot.example/h/{event}", LOST_EVENTS)
    message = caught.value.message
    assert "Webhook limit reached" in message and "the limit is 20" in message
    assert "Tele2 does not list webhooks" in message and "phonebot webhooks prune" in message
    assert "made just now were deleted again" in message
    assert len(sent(sim, "POST", "/webhooks/LostCallerRemoved")) == 1  # the 19th and 20th were made, then
    assert len(sim.webhooks) == 18  # ... deleted again
    assert [r.path for r in sim.requests if r.method == "DELETE"] == ["/api/v2/webhooks/19", "/api/v2/webhooks/20"]
    assert await adapter.registered_webhooks() == []


async def test_a_failed_subscribe_rolls_back_and_reports_the_failure(
    adapter: Tele2Adapter, sim: Tele2Simulator
) -> None:
    sim.set_faults(status=500, path_prefix="/api/v2/webhooks/LostCallerRemoved")
    with pytest.raises(VendorUnavailable):
        await adapter.ensure_webhooks("https://bot.example/h/{event}", LOST_EVENTS)
    assert len(sent(sim, "POST", "/webhooks/LostCallerRemoved")) == 1  # POST: never retried
    assert [(w["event"], w["endpoint"]) for w in sim.subscriptions()] == list(FOREIGN_WEBHOOKS)
    assert await adapter.registered_webhooks() == []


async def test_the_id_comes_from_location_when_data_is_not_one(adapter: Tele2Adapter, sim: Tele2Simulator) -> None:
    sim.echo_ids = False  # data: "Webhook created"; Location: .../api/v2/webhooks/<id>
    result = await adapter.ensure_webhooks("https://bot.example/h/{event}", ["VoicemailCreated", "VoicemailDeleted"])
    assert [w.id for w in result.created] == ["3", "4"]
    assert [w.endpoint for w in await adapter.remove_webhooks("https://bot.example/h/{event}")] == [
        "https://bot.example/h/VoicemailCreated",
        "https://bot.example/h/VoicemailDeleted",
    ]
    assert len(sim.webhooks) == 2


async def test_subscribe_answer_without_id_is_matched_from_the_list(adapter: Tele2Adapter, sim: Tele2Simulator) -> None:
    sim.serve_webhook_list, sim.echo_ids, sim.send_location = True, False, False
    result = await adapter.ensure_webhooks("https://bot.example/h/{event}", ["VoicemailCreated", "VoicemailDeleted"])
    assert [w.id for w in result.created] == ["3", "4"]
    assert [w.id for w in await adapter.registered_webhooks()] == ["3", "4"]


async def test_an_id_nobody_gives_is_recorded_without_one(adapter: Tele2Adapter, sim: Tele2Simulator) -> None:
    sim.echo_ids, sim.send_location = False, False
    result = await adapter.ensure_webhooks("https://bot.example/h/{event}", ["VoicemailCreated"])
    assert [w.id for w in result.created] == [None]
    again = await adapter.ensure_webhooks("https://bot.example/h/{event}", ["VoicemailCreated"])
    assert again.created == () and len(sim.webhooks) == 3  # reused, not made twice


async def test_unknown_event_is_refused_before_any_request(adapter: Tele2Adapter, sim: Tele2Simulator) -> None:
    with pytest.raises(VendorRejected, match="no webhook event 'LostCall'"):
        await adapter.ensure_webhooks("https://bot.example/h", ["LostCallerAdded", "LostCall"])
    assert not sim.requests


async def test_remove_webhooks_leaves_others_alone(adapter: Tele2Adapter, sim: Tele2Simulator) -> None:
    await adapter.ensure_webhooks(TARGET, LOST_EVENTS)
    removed = await adapter.remove_webhooks(TARGET)
    assert [w.event for w in removed] == LOST_EVENTS
    assert [(w["event"], w["endpoint"]) for w in sim.subscriptions()] == list(FOREIGN_WEBHOOKS)
    assert await adapter.remove_webhooks(TARGET) == []


async def test_prune_removes_phonebots_stale_subscriptions_by_their_ids(
    adapter: Tele2Adapter, sim: Tele2Simulator
) -> None:
    await adapter.ensure_webhooks("https://old.example/h/{event}", LOST_EVENTS)  # before the URL changed
    await adapter.ensure_webhooks(TARGET, LOST_EVENTS)
    assert len(sim.webhooks) == 12
    sim.requests.clear()
    summary = await adapter.prune_webhooks(TARGET)
    assert summary == "5 stale subscription(s) removed, 5 current kept"
    assert [r.path for r in sim.requests] == [f"/api/v2/webhooks/{n}" for n in range(3, 8)]  # DELETE by id only
    assert {w["endpoint"] for w in sim.subscriptions()} == {
        *(endpoint for _, endpoint in FOREIGN_WEBHOOKS),
        *(TARGET.replace("{event}", e) for e in LOST_EVENTS),
    }
    assert await adapter.prune_webhooks(TARGET) == "0 stale subscription(s) removed, 5 current kept"


async def test_prune_everything_then_sync_starts_afresh(adapter: Tele2Adapter, sim: Tele2Simulator) -> None:
    await adapter.ensure_webhooks(TARGET, LOST_EVENTS)
    [added] = sim.subscriptions("LostCallerAdded")
    del sim.webhooks[added["id"]]  # deleted in the panel: phonebot cannot see that without a list
    assert (await adapter.ensure_webhooks(TARGET, LOST_EVENTS)).created == ()
    assert await adapter.prune_webhooks(TARGET, everything=True) == "5 stale subscription(s) removed, 0 current kept"
    assert [(w["event"], w["endpoint"]) for w in sim.subscriptions()] == list(FOREIGN_WEBHOOKS)
    assert len((await adapter.ensure_webhooks(TARGET, LOST_EVENTS)).created) == 5


async def test_prune_reports_what_it_cannot_delete(adapter: Tele2Adapter, sim: Tele2Simulator) -> None:
    await adapter._save_records([Webhook(None, "LostCallerAdded", "https://old.example/h/LostCallerAdded")])
    summary = await adapter.prune_webhooks(TARGET)
    assert "1 without an id" in summary and "API \u2192 WEB HOOKS" in summary
    assert not [r for r in sim.requests if r.method == "DELETE"]


async def test_subscribe_summary_names_stale_and_undurable_records(adapter: Tele2Adapter, sim: Tele2Simulator) -> None:
    await adapter.ensure_webhooks("https://old.example/h/{event}", LOST_EVENTS)
    summary = await adapter.subscribe_webhooks(TARGET)
    assert summary.startswith("5 created, 0 reused, 0 duplicate(s) removed; phonebot holds 10 of the account's")
    assert "5 stale subscription(s) of phonebot's remain (phonebot webhooks prune)" in summary
    assert "forgotten on restart (set REDIS_URL)" in summary  # no store given: this adapter's memory only


def test_plan_sync_is_pure_and_counts_everyone() -> None:
    ours = Webhook("7", "LostCallerAdded", "https://bot/x")
    theirs = [Webhook(str(n), "CallStarted", f"https://flow/{n}") for n in range(18)]

    def plan(existing: list[Webhook], events: list[str]) -> Any:
        return plan_sync(existing, target_url="https://bot/x", events=events, limit=20, vendor="Tele2")

    reused = plan([ours, *theirs], ["LostCallerAdded"])
    assert (reused.create, reused.reuse, reused.total) == ((), (ours,), 19)
    assert plan(theirs, ["LostCallerAdded", "VoicemailCreated"]).total == 20
    with pytest.raises(VendorRejected, match="19 webhooks exist already"):
        plan([ours, *theirs], LOST_EVENTS)


# -- webhook callbacks --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("event", "kind", "subject"),
    [
        ("LostCallerAdded", AlertKind.LOST_CALL_OPENED, f"lost:+37069912345:{MAIN_LINE}"),
        ("LostCallerUpdated", AlertKind.LOST_CALL_UPDATED, f"lost:+37069912345:{MAIN_LINE}"),
        ("LostCallerRemoved", AlertKind.LOST_CALL_RESOLVED, f"lost:+37069912345:{MAIN_LINE}"),
        ("VoicemailCreated", AlertKind.VOICEMAIL_NEW, "voicemail:7001"),
        ("VoicemailDeleted", AlertKind.VOICEMAIL_REMOVED, "voicemail:7001"),
        ("CallStarted", AlertKind.CALL_EVENT, "call:5001"),
        ("CallConnected", AlertKind.CALL_EVENT, "call:5001"),
        ("CallCompleted", AlertKind.CALL_EVENT, "call:5001"),
        ("CallTransfered", AlertKind.CALL_EVENT, "call:5001"),
        ("CallRecorded", AlertKind.CALL_EVENT, "call:5001"),
    ],
)
async def test_every_event_maps(
    adapter: Tele2Adapter, sim: Tele2Simulator, event: str, kind: AlertKind, subject: str
) -> None:
    from_body = one(adapter.parse_webhook(body(sim, event), {}, path=""))
    assert (from_body.kind, from_body.vendor, from_body.subject) == (kind, "tele2", subject)
    assert from_body.detail["event"] == event
    # Lost callers share one key however they arrive (webhook Added/Updated, or GET /lost_calls).
    key_name = "lost" if event in ("LostCallerAdded", "LostCallerUpdated") else event
    assert from_body.idempotency_key.startswith(f"tele2:{key_name}:")
    from_url = one(adapter.parse_webhook(body(sim, event), {}, path=event))
    assert from_url == from_body


async def test_lost_call_fields(adapter: Tele2Adapter, sim: Tele2Simulator) -> None:
    opened = one(adapter.parse_webhook(body(sim, "LostCallerAdded", last_contact="2026-10-06 11:58:30"), {}, path=""))
    assert (opened.caller_number, opened.caller_name, opened.line, opened.attempts) == (
        "+37069912345",
        "UAB Medis",
        MAIN_LINE,
        1,
    )
    assert opened.occurred_at == datetime(2026, 10, 6, 8, 58, 30, tzinfo=UTC)  # Vilnius local time
    assert opened.detail["line_number"] == MAIN_LINE
    resolved = one(adapter.parse_webhook(body(sim, "LostCallerRemoved"), {}, path=""))
    assert (resolved.occurred_at, resolved.attempts, resolved.caller_name) == (NOW, None, None)


async def test_voicemail_and_call_fields(adapter: Tele2Adapter, sim: Tele2Simulator) -> None:
    voicemail = one(adapter.parse_webhook(body(sim, "VoicemailCreated"), {}, path=""))
    assert (voicemail.caller_number, voicemail.duration_seconds, voicemail.mailbox) == (
        "+37069954321",
        23,
        "Klientų aptarnavimas",
    )
    assert voicemail.listen_url == "https://mobili-stotele.tele2.lt/voicemails/7001.mp3"
    assert voicemail.occurred_at == NOW - timedelta(minutes=2)
    completed = one(adapter.parse_webhook(body(sim, "CallCompleted"), {}, path=""))
    assert completed.text == f"Incoming call from +37069912345 to {MAIN_LINE} ended after 95 s"
    assert (completed.duration_seconds, completed.detail["contact_id"]) == (95, 101)
    missed = one(adapter.parse_webhook(body(sim, "CallCompleted", callConnected="", connectionTime=0), {}, path=""))
    assert missed.text is not None and missed.text.endswith("ended unanswered")
    recorded = one(adapter.parse_webhook(body(sim, "CallRecorded"), {}, path=""))
    assert recorded.listen_url == "https://mobili-stotele.tele2.lt/recordings/9001.mp3"


async def test_redelivery_and_new_attempts(adapter: Tele2Adapter, sim: Tele2Simulator, clock: SettableClock) -> None:
    def parse(event: str, **data: Any) -> AlertEvent:
        return one(adapter.parse_webhook(body(sim, event, **data), {}, path=""))

    first = parse("LostCallerAdded", last_contact="2026-10-06 11:58:30")
    clock.now += timedelta(minutes=5)  # a redelivery, later, with the caller written nationally
    assert parse("LostCallerAdded", last_contact="2026-10-06 11:58:30", callerid="869912345") == first
    again = parse("LostCallerUpdated", attempts=2, last_contact="2026-10-06 12:03:10")
    third = parse("LostCallerUpdated", attempts=3, last_contact="2026-10-06 12:04:00")
    assert len({first.idempotency_key, again.idempotency_key, third.idempotency_key}) == 3
    assert first.subject == again.subject == third.subject == parse("LostCallerRemoved").subject

    removed = parse("LostCallerRemoved")
    clock.now += timedelta(seconds=20)
    assert parse("LostCallerRemoved").idempotency_key == removed.idempotency_key
    clock.now += timedelta(minutes=30)  # the caller was lost again and called back again
    assert parse("LostCallerRemoved").idempotency_key != removed.idempotency_key

    created, deleted = parse("VoicemailCreated"), parse("VoicemailDeleted")
    assert created.subject == deleted.subject and created.idempotency_key != deleted.idempotency_key
    assert parse("VoicemailCreated").idempotency_key == created.idempotency_key
    assert parse("VoicemailCreated", voicemailID=7002).idempotency_key != created.idempotency_key
    transfers = {
        parse("CallTransfered", contactID=c, previous_contactID=p).idempotency_key for c, p in [(2, 1), (3, 2)]
    }
    assert len(transfers) == 2


async def test_subjects_are_per_caller_and_line(adapter: Tele2Adapter, sim: Tele2Simulator) -> None:
    def subject(**data: Any) -> str:
        return one(adapter.parse_webhook(body(sim, "LostCallerAdded", **data), {}, path="")).subject

    assert subject(destination="852000100") == subject(destination="+370 5 200 0100")
    assert subject(destination="+37052000200") != subject()
    assert subject(callerid="+37069900000") != subject()
    hidden = one(adapter.parse_webhook(body(sim, "LostCallerAdded", callerid="Anonymous"), {}, path=""))
    assert (hidden.subject, hidden.caller_number) == (f"lost:anonymous:{MAIN_LINE}", None)


@pytest.mark.parametrize(
    ("event", "event_type", "expected"),
    [
        ("LostCallerAdded", "LostCallerCreated", AlertKind.LOST_CALL_OPENED),
        ("LostCallerAdded", "lostcalleradded", AlertKind.LOST_CALL_OPENED),
        ("LostCallerRemoved", "LostCallerDeleted", AlertKind.LOST_CALL_RESOLVED),
        ("CallCompleted", "CallCompletedEvent", AlertKind.CALL_EVENT),
        ("CallTransfered", "CallTransferred", AlertKind.CALL_EVENT),
        ("VoicemailCreated", "VOICEMAILCREATED", AlertKind.VOICEMAIL_NEW),
    ],
)
async def test_event_type_spellings(
    adapter: Tele2Adapter, sim: Tele2Simulator, event: str, event_type: str, expected: AlertKind
) -> None:
    raw = dict(sim.webhook_body(event), eventType=event_type)
    parsed = one(adapter.parse_webhook(json.dumps(raw).encode(), {}, path=""))
    assert (parsed.kind, parsed.detail["event"]) == (expected, event)


async def test_the_callback_url_names_the_event(adapter: Tele2Adapter, sim: Tele2Simulator) -> None:
    raw = dict(sim.webhook_body("LostCallerUpdated"), eventType="LostCallerCreated", type=None)
    assert one(adapter.parse_webhook(json.dumps(raw).encode(), {}, path="LostCallerUpdated")).kind is (
        AlertKind.LOST_CALL_UPDATED
    )
    raw = dict(sim.webhook_body("LostCallerUpdated"), eventType=None, type="LostCallerUpdated")
    assert one(adapter.parse_webhook(json.dumps(raw).encode(), {}, path="")).kind is AlertKind.LOST_CALL_UPDATED


LOST = {"callerid": "+37069912345", "destination": MAIN_LINE}
MALFORMED: list[tuple[bytes | dict[str, Any], str | None, str]] = [
    (b"not json", None, "not JSON"),
    (b"\xff\xfe", None, "not JSON"),
    (b"[]", None, "not a JSON object"),
    ({"eventType": "LostCallerAdded"}, None, "data"),
    ({"eventType": "LostCallerAdded", "data": []}, None, "data"),
    ({"eventType": "Coffee", "data": {}}, None, "unknown eventType"),
    ({"data": LOST}, None, "unknown eventType"),
    ({"data": {}}, "Coffee", "unknown event 'Coffee'"),
    ({"eventType": "LostCallerCreated", "data": {"destination": MAIN_LINE}}, None, "callerid"),
    ({"eventType": "LostCallerUpdated", "data": {**LOST, "attempts": "x"}}, None, "attempts"),
    ({"eventType": "LostCallerUpdated", "data": {**LOST, "attempts": -1}}, None, "attempts"),
    ({"eventType": "VoicemailCreated", "data": {"sender": "+37069954321"}}, None, "voicemailID"),
    ({"eventType": "CallCompleted", "data": {"callID": "five"}}, None, "callID"),
]


@pytest.mark.parametrize(("raw", "event", "problem"), MALFORMED)
async def test_malformed_callbacks_are_rejected(
    adapter: Tele2Adapter, raw: bytes | dict[str, Any], event: str | None, problem: str
) -> None:
    payload = raw if isinstance(raw, bytes) else json.dumps(raw).encode()
    with pytest.raises(VendorRejected, match=problem) as caught:
        adapter.parse_webhook(payload, {"content-type": "application/json"}, path=event or "")
    assert caught.value.status_code == 400


# -- the vendor delivers webhooks -----------------------------------------------------------------
async def test_simulator_delivers_to_the_subscribed_url(
    adapter: Tele2Adapter, sim: Tele2Simulator, hooks: LoopbackServer, receiver: Receiver
) -> None:
    receiver.parse = adapter.parse_webhook
    await adapter.ensure_webhooks(f"{hooks.url}/hooks/tele2/{SECRET}/{{event}}", LOST_EVENTS)
    answer = await sim.send_webhook("LostCallerAdded", {"attempts": 1})
    assert answer.status_code == 200
    answer = sim.send_webhook_sync("LostCallerUpdated", {"attempts": 2})
    assert answer.status_code == 200
    assert [(e.kind, e.attempts) for e in receiver.events] == [
        (AlertKind.LOST_CALL_OPENED, 1),
        (AlertKind.LOST_CALL_UPDATED, 2),
    ]
    assert [d.endpoint.rsplit("/", 1)[1] for d in sim.deliveries] == ["LostCallerAdded", "LostCallerUpdated"]

    bad = await sim.send_webhook("VoicemailCreated", {"voicemailID": "not-a-number"})
    assert bad.status_code == 400  # phonebot's answer; the other subscriber (a flow) is unreachable here
    assert sorted(d.status_code for d in sim.deliveries[-2:]) == [0, 400]
    with pytest.raises(LookupError):
        await sim.send_webhook("CallRecorded")
    with pytest.raises(ValueError, match="unknown webhook event"):
        sim.webhook_body("CallMissed")


async def test_a_wrong_url_token_is_refused(sim: Tele2Simulator, hooks: LoopbackServer, receiver: Receiver) -> None:
    sim.add_webhook("LostCallerAdded", f"{hooks.url}/hooks/tele2/guess")
    assert (await sim.send_webhook("LostCallerAdded")).status_code == 401
    assert receiver.events == []


def test_webhook_events_have_models() -> None:
    assert set(wire.WEBHOOK_PAYLOADS) == set(WEBHOOK_EVENTS)


async def test_search_users_finds_employees_by_name_words_or_number_and_is_bounded(adapter: Tele2Adapter) -> None:
    me = adapter.service_identity()
    [jonas] = await adapter.search_users(me, "petrausk jon", limit=10)
    assert (jonas.user_id, jonas.name, jonas.number) == ("102", "Jonas Petrauskas", "+37061000102")
    assert [u.user_id for u in await adapter.search_users(me, "061000102", limit=10)] == ["102"]
    assert len(await adapter.search_users(me, "a", limit=1)) == 1
    assert await adapter.search_users(me, "   ", limit=10) == []

"""MultisenderAdapter against MultisenderSimulator over real HTTP on loopback, and its webhook mapping."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.base import AdapterConfig
from adapters.errors import NotSupported, VendorAuthError, VendorRejected, VendorUnavailable, WebhookAuthError
from adapters.events import AlertEvent, AlertKind
from adapters.http import RetryPolicy
from adapters.models import Capability
from adapters.multisender import wire
from adapters.multisender.adapter import MultisenderAdapter, MultisenderConfig
from adapters.multisender.paths import ENDPOINTS
from adapters.multisender.simulator import API_TOKEN, FOREIGN_URL, MultisenderSimulator
from adapters.simulation import LoopbackServer, RecordedRequest
from bot.webhook_auth import UrlTokens
from handlers.alert_view import merge, render
from tests.fakes.clock import SettableClock

# 11:00 in Helsinki (EET, UTC+2).
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
HELSINKI = ZoneInfo("Europe/Helsinki")
FAST = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.005)
TOKENS = UrlTokens(b"unit-test-webhook-secret-0123")


class Receiver:
    """phonebot's side of a webhook: the URL token (401), then ``parse_webhook`` (400 when unreadable)."""

    def __init__(self) -> None:
        self.adapter: MultisenderAdapter | None = None
        self.events: list[AlertEvent] = []

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/webhooks/multisender/{token}", self._receive, methods=["POST"]),
                Route("/webhooks/multisender/{token}/{path:path}", self._receive, methods=["POST"]),
            ]
        )

    async def _receive(self, request: Request) -> Response:
        try:
            resource = TOKENS.resource_for("multisender", request.path_params["token"])
        except WebhookAuthError:
            return JSONResponse({"ok": False}, status_code=401)
        assert self.adapter is not None
        try:
            events = self.adapter.parse_webhook(
                await request.body(), request.headers, path=request.path_params.get("path", ""), resource=resource
            )
        except VendorRejected as exc:
            return JSONResponse({"ok": False, "error": exc.message}, status_code=400)
        self.events.extend(events)
        return JSONResponse({"ok": True})


@pytest.fixture(scope="module")
def clock() -> SettableClock:
    return SettableClock(NOW)


@pytest.fixture(scope="module")
def sim(clock: SettableClock) -> MultisenderSimulator:
    return MultisenderSimulator(clock=clock)


@pytest.fixture(scope="module")
def server(sim: MultisenderSimulator) -> Iterator[LoopbackServer]:
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
def fresh(clock: SettableClock, sim: MultisenderSimulator, receiver: Receiver) -> None:
    clock.now = NOW
    sim.reset()
    sim.mask_numbers = True
    receiver.events.clear()


def make_adapter(
    server: LoopbackServer, clock: SettableClock, *, api_token: str = API_TOKEN, **config: Any
) -> MultisenderAdapter:
    settings = MultisenderConfig(base_url=server.url + "/v1/", api_token=api_token, **config)
    return MultisenderAdapter(settings, retry=FAST, clock=clock)


@pytest.fixture
async def adapter(
    server: LoopbackServer, clock: SettableClock, receiver: Receiver
) -> AsyncIterator[MultisenderAdapter]:
    multisender = make_adapter(server, clock, attach_rsvp_webhooks=True)
    receiver.adapter = multisender
    yield multisender
    await multisender.aclose()


def url(hooks: LoopbackServer, resource: str, path: str = "") -> str:
    return f"{hooks.url}/webhooks/multisender/{TOKENS.token_for('multisender', resource)}" + (
        f"/{path}" if path else ""
    )


def sent(sim: MultisenderSimulator, method: str, path: str) -> list[RecordedRequest]:
    return [r for r in sim.requests if r.method == method and r.path == "/v1" + path]


def parse(adapter: MultisenderAdapter, body: dict[str, Any] | bytes, *, resource: str, path: str = "") -> AlertEvent:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    [event] = adapter.parse_webhook(raw, {}, path=path, resource=resource)
    return event


# -- configuration ------------------------------------------------------------------------------
def test_config_defaults_and_validation() -> None:
    config = MultisenderConfig.model_validate({"api_token": "  123xyz  ", "default_country": "fi"})
    assert str(config.base_url) == "https://api.multisender.net/v1/"
    assert config.api_token.get_secret_value() == "123xyz"
    assert "123xyz" not in repr(config)
    assert (config.default_country, config.timezone, config.attach_rsvp_webhooks) == ("FI", "Europe/Helsinki", False)
    invalid: list[tuple[dict[str, Any], str]] = [
        ({"default_country": "XX"}, "country"),
        ({"timezone": "Mars/Olympus"}, "time zone"),
        ({"api_token": "   "}, "empty"),
        ({"api_token": "abc def"}, "spaces"),
        ({"password": "hunter2"}, "Extra inputs"),
    ]
    for bad, problem in invalid:
        with pytest.raises(ValueError, match=problem):
            MultisenderConfig.model_validate({"api_token": "k", **bad})


def test_capabilities_are_only_webhooks() -> None:
    assert MultisenderAdapter.capabilities == {Capability.ALERT_WEBHOOKS}
    assert MultisenderAdapter.webhook_auth == "url_token"
    assert not MultisenderAdapter.acts_as_token_owner
    with pytest.raises(TypeError, match="needs a MultisenderConfig"):
        MultisenderAdapter(AdapterConfig(base_url="https://api.multisender.net/v1/"))


def test_every_endpoint_is_tagged() -> None:
    assert {e.source for e in ENDPOINTS.values()} <= {"seed", "inferred"}
    assert all(e.note for e in ENDPOINTS.values())


async def test_service_identity_and_probe(adapter: MultisenderAdapter, sim: MultisenderSimulator) -> None:
    me = adapter.service_identity()
    assert (me.vendor, me.user_id) == ("multisender", "")
    rows = {row.capability: row for row in await adapter.probe()}
    assert (rows[Capability.ALERT_WEBHOOKS].ok, rows[Capability.ALERT_WEBHOOKS].detail) == (
        True,
        "token accepted; 3 RSVP call(s)",
    )
    assert rows[Capability.DIAL].ok is False and rows[Capability.PRESENCE_READ].ok is False
    assert [(r.method, r.path) for r in sim.requests] == [("GET", "/v1/rsvp_calls")]


async def test_probe_reports_a_refused_token(server: LoopbackServer, clock: SettableClock) -> None:
    wrong = make_adapter(server, clock, api_token="not-the-token")
    rows = {row.capability: row for row in await wrong.probe()}
    assert rows[Capability.ALERT_WEBHOOKS].ok is False and "credentials (401)" in rows[Capability.ALERT_WEBHOOKS].detail
    await wrong.aclose()


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+358 40 123 4567", "+358401234567"),
        ("0401234567", "+358401234567"),
        ("358401234567", "+358401234567"),
        ("+4571999999", "+4571999999"),
        ("xxxx12342", None),
        ("", None),
        (None, None),
    ],
)
def test_numbers_become_e164(raw: str | None, e164: str | None) -> None:
    assert wire.to_e164(raw, "FI") == e164


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("2017-01-01:00:00:00", datetime(2016, 12, 31, 22, 0, tzinfo=UTC)),  # the webhook examples' format
        ("2026-12-01 11:00:00", NOW),
        ("2026-12-01T09:00:00Z", NOW),
        ("2026-12-01T11:00:00+02:00", NOW),
        ("1796115600", NOW),
        ("yesterday", None),
        ("", None),
    ],
)
def test_vendor_times(raw: str, parsed: datetime | None) -> None:
    assert wire.parse_time(raw, HELSINKI) == parsed


# -- API calls ------------------------------------------------------------------------------------
async def test_reads_send_both_token_headers_and_json_types(
    adapter: MultisenderAdapter, sim: MultisenderSimulator
) -> None:
    calls = await adapter.list_rsvp_calls()
    assert [c.rsvpCallId for c in calls] == ["7", "8", "9"]
    one = await adapter.rsvp_call("7")
    assert (one.state, one.acceptsWanted, one.meta and one.meta["name"]) == ("active", 2, "Night shift")
    assert [c.clickToCallId for c in await adapter.list_click_to_calls()] == ["12"]
    assert [r.path for r in sim.requests] == ["/v1/rsvp_calls", "/v1/rsvp_calls/7", "/v1/click_to_calls"]


@pytest.mark.parametrize("header", ["X-Access-Token", "X-Authentication-Token"])
async def test_the_token_goes_in_both_documented_headers(
    adapter: MultisenderAdapter, sim: MultisenderSimulator, header: str
) -> None:
    sim.token_header = header
    assert len(await adapter.list_rsvp_calls()) == 3
    sim.token_header = "X-Something-Else"
    with pytest.raises(VendorAuthError):
        await adapter.list_rsvp_calls()


async def test_unknown_token_is_an_auth_error(server: LoopbackServer, clock: SettableClock) -> None:
    wrong = make_adapter(server, clock, api_token="not-the-token")
    with pytest.raises(VendorAuthError):
        await wrong.list_rsvp_calls()
    await wrong.aclose()


async def test_malformed_answers_are_vendor_unavailable(adapter: MultisenderAdapter, sim: MultisenderSimulator) -> None:
    sim.rsvp_calls["7"].pop("rsvpCallId")
    with pytest.raises(VendorUnavailable, match="unexpected answer"):
        await adapter.list_rsvp_calls()


async def test_subscribe_is_off_by_default(
    server: LoopbackServer, clock: SettableClock, sim: MultisenderSimulator
) -> None:
    plain = make_adapter(server, clock)
    with pytest.raises(NotSupported, match="attach_rsvp_webhooks"):
        await plain.subscribe_webhooks("https://phonebot.example/webhooks/multisender/account.x/{event}")
    assert not sim.requests
    await plain.aclose()


async def test_subscribe_attaches_only_calls_without_webhooks(
    adapter: MultisenderAdapter, sim: MultisenderSimulator
) -> None:
    target = "https://phonebot.example/webhooks/multisender/account.x/{event}"
    summary = await adapter.subscribe_webhooks(target)
    assert summary.startswith("1 RSVP call(s) now report to phonebot; 0 already did; 1 left alone")
    assert "1 complete" in summary and "1 click-to-call list(s) do not report" in summary
    night = sim.rsvp_call("7")
    assert night["stateWebhookUrl"] == target.replace("{event}", "state")
    assert night["receiverWebhookUrl"] == target.replace("{event}", "receiver")
    assert sim.rsvp_call("9")["stateWebhookUrl"] == FOREIGN_URL + "/state"  # someone else's: untouched
    [put] = sent(sim, "PUT", "/rsvp_calls/7")
    assert "receivers" not in put.body and "startTime" not in put.body  # started: "null = now" is moot
    assert put.body["state"] == "active" and put.body["meta"] == night["meta"]
    assert night["state"] == "active" and night["receivers"][0]["accountId"] == "808"

    again = await adapter.subscribe_webhooks(target)
    assert again.startswith("0 RSVP call(s) now report to phonebot; 1 already did")
    assert len(sent(sim, "PUT", "/rsvp_calls/7")) == 1


async def test_set_webhooks_keeps_a_future_start_and_a_pause(
    adapter: MultisenderAdapter, sim: MultisenderSimulator
) -> None:
    call = sim.rsvp_call("7")
    call.update(state="waitingToActive", startTime="2026-12-02 06:00:00")
    await adapter.set_rsvp_webhooks("7", state_url="https://p.example/s", receiver_url="https://p.example/r")
    [put] = sent(sim, "PUT", "/rsvp_calls/7")
    assert put.body["startTime"] == "2026-12-02 06:00:00" and "state" not in put.body
    assert call["state"] == "waitingToActive"  # not started early

    call.update(state="halt")
    await adapter.set_rsvp_webhooks("7", state_url="https://p.example/s", receiver_url="https://p.example/r")
    assert sim.rsvp_call("7")["state"] == "halt"


async def test_set_webhooks_refuses_what_it_cannot_send_back(
    adapter: MultisenderAdapter, sim: MultisenderSimulator
) -> None:
    with pytest.raises(VendorRejected, match="complete"):
        await adapter.set_rsvp_webhooks("8", state_url="https://p.example/s", receiver_url="https://p.example/r")
    sim.rsvp_call("7").pop("voiceFiles")
    with pytest.raises(VendorRejected, match="voiceFiles"):
        await adapter.set_rsvp_webhooks("7", state_url="https://p.example/s", receiver_url="https://p.example/r")
    assert not sent(sim, "PUT", "/rsvp_calls/7")


async def test_a_refused_update_is_reported_and_the_rest_goes_on(
    adapter: MultisenderAdapter, sim: MultisenderSimulator
) -> None:
    sim.rsvp_call("9").update(receiverWebhookUrl=None, stateWebhookUrl=None)
    sim.set_faults(status=400, count=1, path_prefix="/v1/rsvp_calls/7")
    summary = await adapter.subscribe_webhooks("https://p.example/hook/{event}")
    assert "1 RSVP call(s) now report" in summary and "1 could not be updated (7)" in summary
    assert sim.rsvp_call("9")["stateWebhookUrl"] == "https://p.example/hook/state"


# -- webhooks over HTTP --------------------------------------------------------------------------------
async def test_rsvp_webhooks_from_the_simulator(
    adapter: MultisenderAdapter, sim: MultisenderSimulator, receiver: Receiver, hooks: LoopbackServer
) -> None:
    call = sim.rsvp_call("7")
    call.update(stateWebhookUrl=url(hooks, "rsvp-7", "state"), receiverWebhookUrl=url(hooks, "rsvp-7", "receiver"))
    assert sim.change_state("7", "active").status_code == 200  # type: ignore[union-attr]
    assert sim.reply("7", "808", "accept").status_code == 200  # type: ignore[union-attr]
    assert sim.reply("7", "809", "decline").status_code == 200  # type: ignore[union-attr]
    assert sim.reply("7", "810", "noReply").status_code == 200  # type: ignore[union-attr]
    assert sim.change_state("7", "complete").status_code == 200  # type: ignore[union-attr]
    texts = [e.text for e in receiver.events]
    assert texts == [
        "RSVP call *7* is calling — 0 dialled · 0 answered · 0 accepted",  # no meta in a state webhook
        "Anna Virtanen (xxxx34567) accepted",
        "Mikko Korhonen (xxxx34568) declined",
        "Liisa Nieminen (xxxx34569) did not answer",
        "RSVP call *7* is complete — 3 dialled · 2 answered · 1 accepted",
    ]
    assert {e.kind for e in receiver.events} == {AlertKind.NOTIFICATION}
    assert {e.subject for e in receiver.events} == {"rsvp:7"}
    assert len({e.idempotency_key for e in receiver.events}) == 5
    assert receiver.events[1].detail["entry"] == "receiver:808"
    assert receiver.events[1].occurred_at == NOW

    state: Any = None
    for event in receiver.events:
        state = merge(state, event)
    shown = render(state, tz=HELSINKI)
    section = shown.blocks[0]["text"]["text"]
    assert state.detail["title"] == "RSVP *Night shift*"
    assert section.splitlines() == [
        "RSVP call *7* is complete — 3 dialled · 2 answered · 1 accepted",
        "• Anna Virtanen (xxxx34567) accepted",
        "• Mikko Korhonen (xxxx34568) declined",
        "• Liisa Nieminen (xxxx34569) did not answer",
    ]


async def test_click_to_call_webhook_from_the_simulator(
    adapter: MultisenderAdapter, sim: MultisenderSimulator, receiver: Receiver, hooks: LoopbackServer
) -> None:
    answer = await sim.send_webhook(url(hooks, "c2c-12"), sim.click_to_call_body("12", "809", "noReply"))
    assert answer.status_code == 200
    sim.mask_numbers = False
    await sim.send_webhook(url(hooks, "c2c-12"), sim.click_to_call_body("12", "808", "accept"))
    first, second = receiver.events
    assert (first.subject, first.text) == ("c2c:12", "Mikko Korhonen (xxxx34568) did not answer")
    assert second.text == "Anna Virtanen (+358401234567) accepted"
    assert second.detail["title"] == "Click-to-call *On-call escalation*"
    state = merge(merge(None, first), second)
    assert render(state, tz=HELSINKI).blocks[0]["text"]["text"].splitlines() == [
        "Click-to-call *On-call escalation*",
        "• Mikko Korhonen (xxxx34568) did not answer",
        "• Anna Virtanen (+358401234567) accepted",
    ]


async def test_forged_and_malformed_webhooks_over_http(
    adapter: MultisenderAdapter, sim: MultisenderSimulator, receiver: Receiver, hooks: LoopbackServer
) -> None:
    good = url(hooks, "rsvp-7")
    forged = good.replace("rsvp-7.", "rsvp-8.")
    assert (await sim.send_webhook(forged, sim.state_body("7"))).status_code == 401
    assert (await sim.send_webhook(good, b"{not json")).status_code == 400
    assert (await sim.send_webhook(good, sim.state_body("8"))).status_code == 400  # another call's body
    assert not receiver.events


# -- webhook mapping ------------------------------------------------------------------------------------
SEED_STATE = {
    "rsvpCallId": "303",
    "state": "active",
    "dialedCalls": 10,
    "answeredCalls": 8,
    "totalDuration": 3600,
    "acceptsReceived": 5,
    "timestamp": "2017-01-01:00:00:00",
}
SEED_RECEIVER = {
    "rsvpCallId": "303",
    "phoneNumber": "xxxx12342",
    "accountId": "808",
    "rsvpReply": "accept",
    "meta": {"somekey": "some-value", "someotherkey": "value"},
    "timestamp": "2017-01-01:00:00:00",
}


async def test_the_seed_examples(adapter: MultisenderAdapter) -> None:
    state = parse(adapter, SEED_STATE, resource="rsvp-303")
    assert state.text == "RSVP call *303* is calling — 10 dialled · 8 answered · 5 accepted"
    assert (state.subject, state.occurred_at) == ("rsvp:303", datetime(2016, 12, 31, 22, 0, tzinfo=UTC))
    assert state.detail["total_duration_seconds"] == 3600 and "title" not in state.detail
    assert "entry" not in state.detail
    table_form = parse(adapter, {**SEED_STATE, "dialedCalls": None, "totalDialedCalls": 10}, resource="account")
    assert table_form.text == state.text

    reply = parse(adapter, SEED_RECEIVER, resource="rsvp-303")
    assert (reply.subject, reply.text) == ("rsvp:303", "account 808 (xxxx12342) accepted")
    assert reply.idempotency_key == "multisender:rsvp:303:receiver:808:accept"
    assert reply.detail["entry"] == "receiver:808" and reply.detail["reply"] == "accept"


async def test_idempotency_is_stable_for_redelivery(adapter: MultisenderAdapter, clock: SettableClock) -> None:
    first = parse(adapter, SEED_RECEIVER, resource="rsvp-303")
    clock.now = NOW + timedelta(minutes=5)
    later = parse(adapter, {**SEED_RECEIVER, "timestamp": "2017-01-01:00:05:00"}, resource="account")
    assert later.idempotency_key == first.idempotency_key  # a re-sent reply with a new timestamp
    declined = parse(adapter, {**SEED_RECEIVER, "rsvpReply": "decline"}, resource="rsvp-303")
    assert declined.idempotency_key != first.idempotency_key
    assert (
        parse(adapter, SEED_STATE, resource="rsvp-303").idempotency_key
        == parse(adapter, SEED_STATE, resource="rsvp-303").idempotency_key
    )
    paused = parse(adapter, {**SEED_STATE, "state": "halt"}, resource="rsvp-303")
    resumed_later = parse(adapter, {**SEED_STATE, "timestamp": "2017-01-01:01:00:00"}, resource="rsvp-303")
    assert len({paused.idempotency_key, resumed_later.idempotency_key, first.idempotency_key}) == 3


async def test_names_numbers_and_replies(adapter: MultisenderAdapter) -> None:
    meta = {"name": "Night *shift*", "names": {"808": "Anna", "+358401234568": "Mikko"}}
    anna = parse(adapter, {**SEED_RECEIVER, "meta": meta, "phoneNumber": "0401234567"}, resource="rsvp-303")
    assert anna.text == "Anna (+358401234567) accepted"
    assert anna.detail["title"] == "RSVP *Night shift*"
    mikko = parse(
        adapter,
        {**SEED_RECEIVER, "meta": meta, "accountId": None, "phoneNumber": "+358401234568", "rsvpReply": "noAnswer"},
        resource="rsvp-303",
    )
    assert (mikko.text, mikko.detail["entry"]) == ("Mikko (+358401234568) did not answer", "receiver:+358401234568")
    odd = parse(adapter, {**SEED_RECEIVER, "rsvpReply": "busy", "phoneNumber": None}, resource="rsvp-303")
    assert odd.text == "account 808 replied 'busy'"
    unknown = parse(adapter, {**SEED_STATE, "state": "archived", "dialedCalls": None}, resource="rsvp-303")
    assert unknown.text == "RSVP call *303* is archived — 8 answered · 5 accepted"


async def test_click_to_call_forms(adapter: MultisenderAdapter) -> None:
    body = {**SEED_RECEIVER, "rsvpCallId": None, "clickToCallId": "12", "reply": "decline"}
    body.pop("rsvpReply")
    event = parse(adapter, body, resource="c2c-12")
    assert (event.subject, event.text, event.detail["click_to_call_id"]) == (
        "c2c:12",
        "account 808 (xxxx12342) declined",
        "12",
    )
    assert parse(adapter, body, resource="account").subject == "c2c:12"
    # Undocumented: the click-to-call body may reuse rsvpCallId, or carry no id at all.
    assert parse(adapter, {**SEED_RECEIVER, "rsvpCallId": "12"}, resource="c2c-12").subject == "c2c:12"
    assert parse(adapter, {**SEED_RECEIVER, "rsvpCallId": None}, resource="c2c-oncall").subject == "c2c:oncall"


@pytest.mark.parametrize(
    ("body", "resource", "path", "problem"),
    [
        (b"{not json", "rsvp-303", "", "not JSON"),
        (b"[1, 2]", "rsvp-303", "", "not a JSON object"),
        ({"rsvpCallId": "303"}, "rsvp-303", "", "neither a state nor a receiver"),
        ({**SEED_STATE, "rsvpReply": "accept"}, "rsvp-303", "", "neither a state nor a receiver"),
        ({**SEED_STATE, "rsvpCallId": None}, "rsvp-303", "", "rsvpCallId"),
        ({**SEED_STATE, "state": ""}, "rsvp-303", "", "state"),
        ({**SEED_STATE, "answeredCalls": "many"}, "rsvp-303", "", "answeredCalls"),
        ({**SEED_RECEIVER, "rsvpReply": ""}, "rsvp-303", "", "rsvpReply"),
        ({**SEED_RECEIVER, "rsvpCallId": None}, "account", "", "without rsvpCallId or clickToCallId"),
        ({**SEED_RECEIVER, "rsvpCallId": None}, "rsvp-303", "", "without rsvpCallId"),
        # bodies that do not fit the resource or path the URL was issued for
        (SEED_STATE, "rsvp-7", "", "issued for '7'"),
        (SEED_RECEIVER, "rsvp-7", "", "issued for '7'"),
        (SEED_STATE, "c2c-12", "", "no state webhook"),
        ({**SEED_RECEIVER, "rsvpCallId": None, "clickToCallId": "13"}, "c2c-12", "", "issued for '12'"),
        (SEED_STATE, "queue-1", "", "not rsvp-<id>"),
        (SEED_STATE, "rsvp-303", "receiver", "state webhook arrived at the receiver URL"),
        (SEED_RECEIVER, "rsvp-303", "state", "receiver webhook arrived at the state URL"),
        (SEED_STATE, "rsvp-303", "other", "unknown callback path"),
    ],
)
async def test_unreadable_or_misplaced_bodies_are_rejected(
    adapter: MultisenderAdapter, body: dict[str, Any] | bytes, resource: str, path: str, problem: str
) -> None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    with pytest.raises(VendorRejected, match=problem) as caught:
        adapter.parse_webhook(raw, {}, path=path, resource=resource)
    assert caught.value.status_code == 400


async def test_a_long_campaign_shows_its_latest_lines(adapter: MultisenderAdapter) -> None:
    state: Any = merge(None, parse(adapter, SEED_STATE, resource="rsvp-303"))
    for account in range(35):
        state = merge(state, parse(adapter, {**SEED_RECEIVER, "accountId": str(account)}, resource="rsvp-303"))
    lines = render(state, tz=HELSINKI).blocks[0]["text"]["text"].splitlines()
    # Only the most recent lines are kept (the worker adds exact totals: tests/unit/alerts/test_entry_totals.py).
    assert lines[:2] == [
        "RSVP call *303* is calling — 10 dialled · 8 answered · 5 accepted",
        "• account 5 (xxxx12342) accepted",
    ]
    assert len(lines) == 31 and lines[-1] == "• account 34 (xxxx12342) accepted"
    again = merge(
        state, parse(adapter, {**SEED_RECEIVER, "accountId": "34", "rsvpReply": "decline"}, resource="rsvp-303")
    )
    assert len(again.entries) == 30 and again.entries["receiver:34"] == "account 34 (xxxx12342) declined"

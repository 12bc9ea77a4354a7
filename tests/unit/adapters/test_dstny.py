"""DstnyAdapter against DstnySimulator over real HTTP on 127.0.0.1 (plus a few MockTransport cases)."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from adapters.base import ProbeResult
from adapters.dstny.adapter import STATISTICS_LEFT_OUT, DstnyAdapter, DstnyConfig, format_expiry, resolve_activity
from adapters.dstny.paths import AGENT_LOGIN, ENDPOINTS
from adapters.dstny.simulator import DEMO_TOKEN, DstnySimulator, SimUser
from adapters.errors import (
    VendorAuthError,
    VendorRateLimited,
    VendorRejected,
    VendorTimeout,
    VendorUnavailable,
)
from adapters.http import RetryPolicy
from adapters.models import Activity, Capability, DialResult, PresenceChange, VendorIdentity
from adapters.registry import build_adapter, parse_adapter_config
from adapters.simulation import LoopbackServer

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02)
ONCE = RetryPolicy(attempts=1)
ALICE_TOKEN = "alice-own-ticket"

ALICE = VendorIdentity(vendor="dstny", user_id="alice")
ALICE_OWN = VendorIdentity(vendor="dstny", user_id="alice", token=ALICE_TOKEN)

MakeAdapter = Callable[..., DstnyAdapter]


class _Swappable:
    """One loopback server for the module; each test plugs in a fresh simulator app."""

    def __init__(self) -> None:
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def loopback() -> Iterator[tuple[LoopbackServer, _Swappable]]:
    holder = _Swappable()
    server = LoopbackServer(holder).start()
    yield server, holder
    server.stop()


@pytest.fixture
def sim(loopback: tuple[LoopbackServer, _Swappable]) -> DstnySimulator:
    simulator = DstnySimulator(tokens={DEMO_TOKEN, ALICE_TOKEN})
    loopback[1].app = simulator.build_app()
    return simulator


@pytest.fixture
async def make_adapter(loopback: tuple[LoopbackServer, _Swappable]) -> AsyncIterator[MakeAdapter]:
    created: list[DstnyAdapter] = []

    def make(
        *,
        token: str = DEMO_TOKEN,
        timeout: float = 2.0,
        retry: RetryPolicy = FAST,
        monotonic: Callable[[], float] = time.monotonic,
        **settings: Any,
    ) -> DstnyAdapter:
        config = DstnyConfig(
            base_url=loopback[0].url,
            token=token,
            domain="example.com",
            user="phonebot",
            timeout_seconds=timeout,
            **settings,
        )
        adapter = DstnyAdapter(config, retry=retry, monotonic=monotonic)
        created.append(adapter)
        return adapter

    yield make
    for adapter in created:
        await adapter.aclose()


@pytest.fixture
def adapter(make_adapter: MakeAdapter, sim: DstnySimulator) -> DstnyAdapter:
    return make_adapter()


def _vendor_requests(sim: DstnySimulator) -> list[tuple[str, str, dict[str, list[str]]]]:
    return [(r.method, r.path, r.query) for r in sim.requests]


# -- presence -----------------------------------------------------------------------------------
async def test_presence_round_trip_with_expiry(adapter: DstnyAdapter, sim: DstnySimulator) -> None:
    until = (datetime.now(UTC) + timedelta(minutes=45)).replace(microsecond=0)

    presence = await adapter.set_presence(ALICE, PresenceChange(activity="lunch", until=until, note="lunch"))

    assert presence.available is False
    assert presence.activity == Activity(id="lunch", name="Lunch", available=False)
    assert presence.until == until
    assert sim.presence_of("alice").activity == "lunch"
    puts = [(path, query) for method, path, query in _vendor_requests(sim) if method == "PUT"]
    # The service ticket acts on another user through Contacts Information V1.
    assert puts == [
        ("/api/contacts/info/v1/example.com/alice@example.com/presence/activity", {"activity": ["lunch"]}),
        (
            "/api/contacts/info/v1/example.com/alice@example.com/presence/activity/expires",
            {"expires": [format_expiry(until)]},
        ),
    ]
    assert format_expiry(until).endswith("Z")
    assert await adapter.get_presence(ALICE) == presence


async def test_own_ticket_uses_userinfo_paths(adapter: DstnyAdapter, sim: DstnySimulator) -> None:
    presence = await adapter.set_presence(ALICE_OWN, PresenceChange(activity="dnd"))

    assert presence.dnd is True
    assert presence.until is None
    assert presence.activity is not None and presence.activity.name == "Do not disturb"
    vendor_paths = [path for _, path, _ in _vendor_requests(sim)]
    assert "/api/userinfo/presence/example.com/alice/activity" in vendor_paths
    assert not any(path.startswith("/api/contacts/info") for path in vendor_paths)
    expires = [r for r in sim.requests if r.path.endswith("/activity/expires")]
    assert expires[0].query == {"expires": ["never"]}
    assert {r.authorization for r in sim.requests} == {f"Bearer {ALICE_TOKEN}"}


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("out", "out"), ("Do not disturb", "dnd"), ("VACATION", "vacation"), ("busy", "busy"), ("available", "available")],
)
async def test_activity_words_resolve(adapter: DstnyAdapter, sim: DstnySimulator, typed: str, expected: str) -> None:
    presence = await adapter.set_presence(ALICE, PresenceChange(activity=typed))
    assert presence.activity is not None and presence.activity.id == expected
    assert sim.presence_of("alice").activity == expected


def test_neutral_synonyms_fall_back_to_vendor_names() -> None:
    activities = [
        Activity(id="available", name="Available", available=True),
        Activity(id="1230040550060", name="Out of office"),
        Activity(id="1230040550061", name="Busy"),
    ]
    assert resolve_activity("out", activities) == activities[1]
    assert resolve_activity("vacation", activities) == activities[1]
    assert resolve_activity("dnd", activities) == activities[2]
    assert resolve_activity("1230040550061", activities) == activities[2]
    assert resolve_activity("lunch", activities) is None


async def test_unknown_activity_lists_valid_names(adapter: DstnyAdapter, sim: DstnySimulator) -> None:
    with pytest.raises(VendorRejected) as caught:
        await adapter.set_presence(ALICE, PresenceChange(activity="karaoke"))

    for name in ("Available", "Lunch", "Out of office", "Do not disturb"):
        assert name in caught.value.message
    assert "karaoke" in caught.value.message
    assert not [r for r in sim.requests if r.method == "PUT"]


async def test_activity_lapses_at_its_end_time(adapter: DstnyAdapter, sim: DstnySimulator) -> None:
    until = datetime.now(UTC) + timedelta(hours=1)
    await adapter.set_presence(ALICE, PresenceChange(activity="meeting", until=until))
    sim.clock = lambda: until + timedelta(seconds=1)

    presence = await adapter.get_presence(ALICE)

    assert presence.available is True
    assert presence.activity is not None and presence.activity.id == "available"
    assert presence.until is None


# -- calls --------------------------------------------------------------------------------------
async def test_dial_encodes_plus_and_returns_reference(adapter: DstnyAdapter, sim: DstnySimulator) -> None:
    result = await adapter.dial(ALICE, "+4540000001")

    assert result.target == "+4540000001"
    assert result.reference == sim.dials[-1].reference
    dial = sim.dials[-1]
    assert (dial.user, dial.aptype, dial.target) == ("alice", "mobile", "+4540000001")
    assert dial.raw_path == "/api/calls/current/example.com/alice/mobile/%2B4540000001"


async def test_dial_is_never_retried(adapter: DstnyAdapter, sim: DstnySimulator) -> None:
    sim.set_faults(status=500, path_prefix="/api/calls/")

    with pytest.raises(VendorUnavailable):
        await adapter.dial(ALICE, "+4540000001")

    assert [r.method for r in sim.requests if r.path.startswith("/api/calls/")] == ["POST"]
    assert ENDPOINTS["callback"].retry is False


async def test_dial_validation_error_is_rejected(adapter: DstnyAdapter, sim: DstnySimulator) -> None:
    with pytest.raises(VendorRejected) as caught:
        await adapter.dial(ALICE, "+12")

    assert caught.value.message == "Dstny refused the request (400: that isn't a valid phone number)"
    assert "+12" not in caught.value.message  # the vendor's own text (which echoes input) is not shown
    assert caught.value.status_code == 400
    assert sim.dials == []


# -- call forwarding (issue 10 point 16) --------------------------------------------------------
async def test_forwarding_shows_away_and_sets_a_diversion_scoped_to_that_activity(
    adapter: DstnyAdapter, sim: DstnySimulator
) -> None:
    until = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)

    presence = await adapter.set_forwarding(ALICE, "+4540000001", until=until)

    assert presence.activity is not None and presence.activity.id == "away" and presence.until == until
    alice = sim.presence_of("alice")
    assert (alice.activity, alice.diversion, alice.diversion_scoped) == ("away", "+4540000001", True)
    assert await adapter.get_forwarding(ALICE) == "+4540000001"
    puts = [(r.path, r.query) for r in sim.requests if r.method == "PUT"]
    assert puts[-1] == (
        "/api/diversion/example.com/alice/active",
        {"phoneNumber": ["+4540000001"], "activityScoped": ["true"]},
    )  # after the activity: setting the activity later would clear it

    await adapter.set_presence(ALICE, PresenceChange(activity="available"))
    assert sim.presence_of("alice").diversion is None
    assert await adapter.get_forwarding(ALICE) is None


async def test_forwarding_ends_when_its_activity_lapses(adapter: DstnyAdapter, sim: DstnySimulator) -> None:
    sim.clock = lambda: datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    await adapter.set_forwarding(ALICE, "+4540000001", until=datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    assert await adapter.get_forwarding(ALICE) == "+4540000001"

    sim.clock = lambda: datetime(2026, 12, 1, 10, 0, 1, tzinfo=UTC)
    assert await adapter.get_forwarding(ALICE) is None
    assert sim.presence_of("alice").activity == "available"


# -- answer places (issue 10 point 6) -----------------------------------------------------------
def _answerplace_reads(sim: DstnySimulator) -> list[str]:
    return [r.path for r in sim.requests if r.path.endswith("/answerplaces")]


async def test_call_back_rings_an_answer_place_the_user_really_has(adapter: DstnyAdapter, sim: DstnySimulator) -> None:
    """004 ~1350: aptype "should be a valid answerplace for the specified user"; Carol has no mobile."""
    sim.users["carol"].answer_places = ("softphone", "deskphone")

    await adapter.dial(VendorIdentity(vendor="dstny", user_id="carol"), "+4540000001")

    assert (sim.dials[-1].user, sim.dials[-1].aptype) == ("carol", "softphone")  # the first Dstny lists
    assert _answerplace_reads(sim) == ["/api/configuration/example.com/carol/answerplaces"]


async def test_the_organisations_answer_place_is_kept_where_the_user_has_it(
    adapter: DstnyAdapter, sim: DstnySimulator
) -> None:
    sim.users["alice"].answer_places = ("softphone", "mobile")
    await adapter.dial(ALICE, "+4540000001")
    assert sim.dials[-1].aptype == "mobile"


async def test_a_per_user_answer_place_in_the_config_wins_and_needs_no_lookup(
    make_adapter: MakeAdapter, sim: DstnySimulator
) -> None:
    sim.users["alice"].answer_places = ("mobile", "deskphone")
    adapter = make_adapter(answer_places={"Alice": "deskphone"})

    await adapter.dial(ALICE, "+4540000001")
    await adapter.dial(VendorIdentity(vendor="dstny", user_id="bob"), "+4540000001")

    assert [(d.user, d.aptype) for d in sim.dials] == [("alice", "deskphone"), ("bob", "mobile")]
    assert _answerplace_reads(sim) == ["/api/configuration/example.com/bob/answerplaces"]


async def test_discovered_answer_places_are_cached_for_their_ttl(
    make_adapter: MakeAdapter, sim: DstnySimulator
) -> None:
    now = [1000.0]
    adapter = make_adapter(monotonic=lambda: now[0], answer_places_cache_seconds=600)
    sim.users["alice"].answer_places = ("softphone",)

    await adapter.dial(ALICE, "+4540000001")
    now[0] += 599
    sim.users["alice"].answer_places = ("deskphone", "softphone")  # changed in Dstny; still cached
    await adapter.dial(ALICE, "+4540000001")
    now[0] += 2
    await adapter.dial(ALICE, "+4540000001")

    assert [d.aptype for d in sim.dials] == ["softphone", "softphone", "deskphone"]
    assert len(_answerplace_reads(sim)) == 2


@pytest.mark.parametrize("status", [403, 404])
async def test_when_dstny_wont_list_answer_places_the_organisations_default_is_used(
    make_adapter: MakeAdapter, sim: DstnySimulator, status: int
) -> None:
    adapter = make_adapter(retry=ONCE)
    sim.set_faults(status=status, path_prefix="/api/configuration/")

    await adapter.dial(ALICE, "+4540000001")

    assert sim.dials[-1].aptype == "mobile"


async def test_an_outage_while_looking_up_the_answer_place_rings_nothing(
    make_adapter: MakeAdapter, sim: DstnySimulator
) -> None:
    adapter = make_adapter(retry=ONCE)
    sim.set_faults(status=503, path_prefix="/api/configuration/")

    with pytest.raises(VendorUnavailable):
        await adapter.dial(ALICE, "+4540000001")

    assert sim.dials == [] and not [r for r in sim.requests if r.path.startswith("/api/calls/")]


def test_answer_places_config_is_validated() -> None:
    base = {"base_url": "https://x", "token": "t", "domain": "d", "user": "svc"}
    assert DstnyConfig.model_validate({**base, "answer_places": {" Bob ": " softphone "}}).answer_places == {
        "bob": "softphone"
    }
    with pytest.raises(ValueError, match="answer place"):
        DstnyConfig.model_validate({**base, "answer_places": {"bob": " "}})


# -- HTTP failure mapping -----------------------------------------------------------------------
async def test_get_is_retried_on_500_then_succeeds(adapter: DstnyAdapter, sim: DstnySimulator) -> None:
    sim.set_faults(status=500, count=2)

    activities = await adapter.list_activities(ALICE)

    assert [a.id for a in activities][:3] == ["available", "lunch", "meeting"]
    assert len(sim.requests) == 3


async def test_unknown_token_is_auth_error(make_adapter: MakeAdapter, sim: DstnySimulator) -> None:
    adapter = make_adapter(token="revoked-ticket")

    with pytest.raises(VendorAuthError) as caught:
        await adapter.get_presence(ALICE)

    assert caught.value.status_code == 401
    assert "revoked-ticket" not in repr(adapter.settings)


async def test_rate_limit_carries_retry_after(make_adapter: MakeAdapter, sim: DstnySimulator) -> None:
    adapter = make_adapter(retry=ONCE)
    sim.set_faults(status=429, retry_after=7)

    with pytest.raises(VendorRateLimited) as caught:
        await adapter.queue_status(ALICE)

    assert caught.value.retry_after == 7.0


async def test_slow_answer_is_timeout(make_adapter: MakeAdapter, sim: DstnySimulator) -> None:
    adapter = make_adapter(timeout=0.3, retry=ONCE)
    sim.set_faults(latency=1.0, count=1)
    started = time.monotonic()

    with pytest.raises(VendorTimeout):
        await adapter.search_contacts(ALICE, "jensen")

    assert time.monotonic() - started < 0.9


# -- queues -------------------------------------------------------------------------------------
async def test_queue_status_fields(adapter: DstnyAdapter, sim: DstnySimulator) -> None:
    support, sales = await adapter.queue_status(ALICE)

    assert support.group_id == "35" and support.name == "Support"
    assert support.calls_waiting == 2
    assert (support.agents_logged_in, support.agents_free) == (2, 1)  # bob is in a meeting
    assert (support.longest_wait_seconds, support.answered_today, support.missed_today) == (95, 42, 4)
    assert support.me_logged_in is True
    assert (sales.group_id, sales.me_logged_in, sales.calls_waiting) == ("36", False, 0)


async def test_queue_status_without_supervisor_licence(adapter: DstnyAdapter, sim: DstnySimulator) -> None:
    sim.supervisors = set()

    support = (await adapter.queue_status(ALICE))[0]

    assert support.calls_waiting == 2 and support.agents_logged_in == 2
    assert support.longest_wait_seconds is None and support.answered_today is None


async def test_queue_statistics_outage_is_not_swallowed(make_adapter: MakeAdapter, sim: DstnySimulator) -> None:
    adapter = make_adapter(retry=ONCE)
    sim.set_faults(status=503, path_prefix="/api/queuestatistics")

    with pytest.raises(VendorUnavailable):
        await adapter.queue_status(ALICE)


async def test_queue_login_and_logout_change_state(adapter: DstnyAdapter, sim: DstnySimulator) -> None:
    await adapter.queue_login(ALICE, "36", logged_in=True)
    await adapter.queue_login(ALICE, "35@example.com", logged_in=False)

    assert sim.is_logged_in("alice", 36) and not sim.is_logged_in("alice", 35)
    support, sales = await adapter.queue_status(ALICE)
    assert (sales.me_logged_in, sales.agents_logged_in) == (True, 2)
    assert (support.me_logged_in, support.agents_logged_in) == (False, 1)
    login = next(r for r in sim.requests if r.method == "POST")
    assert login.path == "/api/acd-attendant-group/v1/example.com/36/agents/alice@example.com"
    assert login.query == {"action": ["login"]}


async def test_queue_login_rejects_a_malformed_group_id(adapter: DstnyAdapter, sim: DstnySimulator) -> None:
    with pytest.raises(VendorRejected):
        await adapter.queue_login(ALICE, "support", logged_in=True)
    assert sim.requests == []


# -- directory ----------------------------------------------------------------------------------
async def test_contact_search(adapter: DstnyAdapter, sim: DstnySimulator) -> None:
    jensens = await adapter.search_contacts(ALICE, "jensen")
    assert sorted((c.name, c.number, c.colleague) for c in jensens) == [
        ("Jens Jensen", "+4540000001", False),
        ("Jensen Plumbing", "+4540000002", False),
    ]

    (alice,) = await adapter.search_contacts(ALICE, "alice")
    assert (alice.id, alice.name, alice.number, alice.email, alice.colleague) == (
        "alice@example.com",
        "Alice Andersen",
        "+4571000001",
        "alice@example.com",
        True,
    )
    assert sim.requests[0].query == {"query": ["jensen"], "maxResults": ["25"]}


async def test_find_user_by_email(adapter: DstnyAdapter, sim: DstnySimulator) -> None:
    bob = await adapter.find_user_by_email(adapter.service_identity(), "Bob@Example.com")

    assert bob is not None
    assert (bob.user_id, bob.name, bob.email, bob.number) == ("bob", "Bob Berg", "bob@example.com", "+4571000002")
    assert await adapter.find_user_by_email(adapter.service_identity(), "nobody@example.com") is None


async def test_list_users_are_directory_favourites(adapter: DstnyAdapter, sim: DstnySimulator) -> None:
    users = await adapter.list_users(adapter.service_identity())

    assert [u.user_id for u in users] == ["alice", "bob", "carol"]
    assert sim.requests[0].query == {}


async def test_a_partner_organisations_user_keeps_its_domain_and_call_back_rings_them(
    adapter: DstnyAdapter, sim: DstnySimulator
) -> None:
    """Issue 9 point 13: ``jensen@partner.example`` must not become ``jensen@example.com`` (a namesake here)."""
    sim.users["jensen"] = SimUser("jensen", "Jens", "Jensen", "jens@example.com", "+4571000009")
    sim.users["jensen@partner"] = SimUser(
        "jensen", "Jens", "Partner", "jensen@partner.example", "+4571000010", domain="partner.example"
    )

    users = {u.email: u.user_id for u in await adapter.list_users(adapter.service_identity())}
    assert users["jens@example.com"] == "jensen"
    assert users["jensen@partner.example"] == "jensen@partner.example"

    partner = VendorIdentity(vendor="dstny", user_id=users["jensen@partner.example"])
    await adapter.dial(partner, "+4540000001")
    dial = sim.dials[-1]
    assert (dial.user, dial.domain) == ("jensen", "partner.example")
    assert dial.raw_path == "/api/calls/current/partner.example/jensen/mobile/%2B4540000001"

    await adapter.dial(VendorIdentity(vendor="dstny", user_id="jensen"), "+4540000001")
    assert (sim.dials[-1].user, sim.dials[-1].domain) == ("jensen", "example.com")


async def test_probe(adapter: DstnyAdapter, sim: DstnySimulator) -> None:
    results = {r.capability: r for r in await adapter.probe()}

    readers = {Capability.PRESENCE_READ, Capability.PRESENCE_ACTIVITIES, Capability.QUEUE_STATUS}
    readers |= {Capability.CONTACT_SEARCH, Capability.DIRECTORY, Capability.CALL_FORWARD}
    assert {c for c, r in results.items() if r.ok} == readers
    assert results[Capability.DIAL] == ProbeResult(Capability.DIAL, None, "not probed: it would change state")
    assert all(r.method == "GET" for r in sim.requests)


# -- the endpoint table -------------------------------------------------------------------------
def _template_regex(path: str) -> re.Pattern[str]:
    parts = re.split(r"\{[A-Za-z_-]+\}", path)
    return re.compile("^" + "[^/]+".join(re.escape(p) for p in parts) + "$")


async def test_every_request_uses_the_endpoint_table(adapter: DstnyAdapter, sim: DstnySimulator) -> None:
    await adapter.set_presence(ALICE, PresenceChange(activity="lunch"))
    await adapter.set_presence(ALICE_OWN, PresenceChange(activity="available"))
    await adapter.dial(ALICE, "+4533000001")
    await adapter.set_forwarding(ALICE, "+4533000001", until=None)
    await adapter.get_forwarding(ALICE)
    await adapter.queue_status(ALICE)
    await adapter.queue_login(ALICE, "36", logged_in=True)
    AGENT_LOGIN.forget()
    sim.agent_login_forms = {"deprecated"}  # an installation without the current form
    await adapter.queue_login(ALICE, "36", logged_in=False)
    await adapter.find_user_by_email(ALICE, "carol@example.com")
    await adapter.probe()
    cursor = (await adapter.poll_alerts(None, now=datetime.now(UTC))).cursor
    item = sim.miss_call(35, "+4540000001")
    await adapter.poll_alerts(cursor, now=datetime.now(UTC))
    await adapter.claim_alert(ALICE, {"calllog_item_id": str(item.item_id)}, handled=False)
    await adapter.mark_voicemail_heard(ALICE, str(sim.leave_voicemail("+4540000002").item_id))

    table = [(e.method, _template_regex(e.path)) for e in ENDPOINTS.values()]
    for method, path, _ in _vendor_requests(sim):
        assert any(m == method and rx.match(path) for m, rx in table), (method, path)
    used = {name for name, e in ENDPOINTS.items() for r in sim.requests if _template_regex(e.path).match(r.path)}
    assert used == set(ENDPOINTS)
    assert all(e.source in ("seed", "public", "inferred") and e.note for e in ENDPOINTS.values())


# -- without the simulator ----------------------------------------------------------------------
def _mock_adapter(handler: Callable[[httpx.Request], httpx.Response]) -> DstnyAdapter:
    config = parse_adapter_config(
        "dstny",
        {"base_url": "https://bc.dstny.se/api", "token": "t0ken", "domain": "example.org", "user": "svc"},
    )
    adapter = build_adapter("dstny", config, transport=httpx.MockTransport(handler))
    assert isinstance(adapter, DstnyAdapter)
    return adapter


@pytest.mark.parametrize("body", [{"groups": "nope"}, {"groups": [{"name": "no id"}]}, "<html>oops</html>", None])
async def test_malformed_answer_is_unavailable(body: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        content = body if isinstance(body, str) else json.dumps(body) if body is not None else ""
        return httpx.Response(200, content=content.encode())

    adapter = _mock_adapter(handler)
    with pytest.raises(VendorUnavailable, match="unexpected answer"):
        await adapter.queue_status(ALICE)
    await adapter.aclose()


async def test_config_and_headers() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"field": [{"code": "cid.barred", "description": "Number barred"}]})

    adapter = _mock_adapter(handler)
    with pytest.raises(VendorRejected, match="Dstny refused the call: it did not accept the call") as caught:
        await adapter.dial(ALICE, "+4690000000")
    assert "Number barred" not in caught.value.message  # the vendor's text goes to the log only
    await adapter.aclose()

    assert str(seen[-1].url) == "https://bc.dstny.se/api/calls/current/example.org/alice/mobile/%2B4690000000"
    assert seen[-1].headers["accept"] == "application/json"
    assert seen[-1].headers["authorization"] == "Bearer t0ken"
    assert "t0ken" not in repr(adapter.settings)
    with pytest.raises(ValueError, match="bare id"):
        DstnyConfig.model_validate({"base_url": "https://x", "token": "t", "domain": "d", "user": "svc@d"})


@pytest.mark.parametrize("content", [b"OK", b'{"field": "odd"}', b""])
async def test_dial_with_odd_success_body_still_succeeds(content: bytes) -> None:
    adapter = _mock_adapter(lambda request: httpx.Response(200, content=content))

    assert await adapter.dial(ALICE, "+4690000000") == DialResult(target="+4690000000")
    await adapter.aclose()


async def test_queue_status_without_the_supervisor_licence_warns_once_and_check_says_what_is_missing(
    adapter: DstnyAdapter, sim: DstnySimulator, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 10, point 12: a refused part of a capability is one clear line and a check row, not silence."""
    sim.supervisors.clear()  # 004: queue statistics need the Supervisor licence
    for group in sim.groups.values():
        group.members.append("phonebot")  # a plain agent of every group
    with caplog.at_level(logging.WARNING, logger="adapters.base"):
        for _ in range(3):
            queues = await adapter.queue_status(adapter.service_identity())
    assert queues and all(queue.longest_wait_seconds is None for queue in queues)
    assert [record.getMessage() for record in caplog.records] == [
        f"Dstny refused {STATISTICS_LEFT_OUT}: queue.status is answered without it"
    ]
    row = next(row for row in await adapter.probe() if row.capability is Capability.QUEUE_STATUS)
    assert row.ok is True and row.detail == f"ok, without {STATISTICS_LEFT_OUT}"

"""RelatelAdapter against RelatelSimulator over real HTTP on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.errors import (
    IdentityError,
    NotFound,
    VendorAuthError,
    VendorRateLimited,
    VendorRejected,
    VendorTimeout,
    VendorUnavailable,
)
from adapters.http import RetryPolicy
from adapters.models import Capability, PresenceChange, VendorIdentity
from adapters.registry import adapter_class, parse_adapter_config
from adapters.relatel import wire
from adapters.relatel.adapter import MEMBERSHIP_TRIES, NEEDS_OWN_TOKEN, RelatelAdapter, RelatelConfig
from adapters.relatel.simulator import ADMIN_TOKEN, BOB_TOKEN, RelatelSimulator
from adapters.simulation import LoopbackServer
from tests.fakes.clock import SettableClock

# 12:00 in Copenhagen (CEST), so "today" started at 2026-10-05T22:00Z.
NOW = datetime(2026, 10, 6, 10, 0, tzinfo=UTC)
FAST = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.005)


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


def make_adapter(
    server: LoopbackServer, clock: SettableClock, *, token: str = ADMIN_TOKEN, **config: Any
) -> RelatelAdapter:
    settings = RelatelConfig(base_url=server.url + "/api/v2", token=token, **config)
    return RelatelAdapter(settings, retry=FAST, clock=clock)


@pytest.fixture
async def adapter(server: LoopbackServer, clock: SettableClock) -> AsyncIterator[RelatelAdapter]:
    relatel = make_adapter(server, clock)
    yield relatel
    await relatel.aclose()


def who(user_id: str, token: str | None = None) -> VendorIdentity:
    return VendorIdentity(vendor="relatel", user_id=user_id, token=token)


def sent(sim: RelatelSimulator, method: str, path: str) -> list[Any]:
    return [r for r in sim.requests if r.method == method and r.path == "/api/v2" + path]


# -- configuration and identity ---------------------------------------------------------------
def test_config_defaults_and_registry() -> None:
    config = parse_adapter_config("relatel", {"token": "t"})
    assert isinstance(config, RelatelConfig)
    assert str(config.base_url) == "https://app.relatel.dk/api/v2"
    assert (config.answer_target_seconds, config.timezone) == (30, "Europe/Copenhagen")
    assert adapter_class("relatel") is RelatelAdapter
    assert RelatelAdapter.acts_as_token_owner
    assert Capability.PRESENCE_ACTIVITIES not in RelatelAdapter.capabilities
    with pytest.raises(ValueError, match="time zone"):
        RelatelConfig(token="t", timezone="Mars/Olympus")


@pytest.mark.parametrize(
    ("raw", "digits"),
    [
        ("+45 71 99 99 99", "4571999999"),
        ("0045-7199 9999", "4571999999"),
        ("4571999999", "4571999999"),
        ("+45 7x", None),
    ],
)
def test_relatel_number_format(raw: str, digits: str | None) -> None:
    assert wire.to_relatel_number(raw) == digits
    assert wire.to_e164(digits) == (f"+{digits}" if digits else None)


@pytest.mark.parametrize(
    ("value", "parsed"),
    [("mobile", ("mobile",)), ("switch, mobile", ("switch", "mobile")), (["switch"], ("switch",)), (None, ()), (7, ())],
)
def test_features_string_or_list(value: Any, parsed: tuple[str, ...]) -> None:
    assert wire.parse_employee({"id": 1, "name": "A", "features": value}).features == parsed


async def test_service_identity_is_a_placeholder_until_resolved(adapter: RelatelAdapter) -> None:
    assert adapter.service_identity().user_id == ""
    resolved = await adapter.resolve_service_identity()
    assert (resolved.user_id, resolved.display_name, resolved.email) == ("1", "Alice Andersen", "alice@example.com")
    assert adapter.service_identity() == resolved


# -- presence -----------------------------------------------------------------------------------
async def test_dnd_round_trip_with_expiry(adapter: RelatelAdapter, sim: RelatelSimulator, clock: SettableClock) -> None:
    until = NOW + timedelta(minutes=45)
    presence = await adapter.set_presence(who("1", ADMIN_TOKEN), PresenceChange(activity="lunch", until=until))
    assert (presence.available, presence.dnd, presence.until) == (False, True, until)
    [put] = sent(sim, "PUT", "/employee")
    assert put.body == {"employee": {"do_not_disturb": True, "dnd_timeout_at": "2026-10-06T10:45:00Z"}}
    assert put.authorization == f"Bearer {ADMIN_TOKEN}"

    read = await adapter.get_presence(who("1"))
    assert (read.dnd, read.until) == (True, until)
    clock.now = until + timedelta(seconds=1)
    assert (await adapter.get_presence(who("1"))).available


async def test_clearing_dnd(adapter: RelatelAdapter, sim: RelatelSimulator) -> None:
    sim.set_dnd(1, True)
    assert (await adapter.get_presence(adapter.service_identity())).dnd
    presence = await adapter.set_presence(adapter.service_identity(), PresenceChange(activity="available"))
    assert presence.available and not presence.dnd and presence.until is None
    assert sent(sim, "PUT", "/employee")[0].body == {"employee": {"do_not_disturb": False, "dnd_timeout_at": None}}
    assert sim.employee(1)["do_not_disturb"] is False


async def test_colleague_presence_uses_admin_endpoints(adapter: RelatelAdapter, sim: RelatelSimulator) -> None:
    presence = await adapter.set_presence(who("3"), PresenceChange(activity="meeting"))
    assert presence.dnd and presence.until is None
    assert sent(sim, "PUT", "/employees/3") and not sent(sim, "PUT", "/employee")
    assert sim.employee(3)["do_not_disturb"] is True
    sim.employee(3)["live_presence"] = "ringing"
    sim.set_dnd(3, False)
    read = await adapter.get_presence(who("3"))
    assert (read.available, read.dnd, read.note) == (False, False, "ringing")


async def test_non_admin_service_token_cannot_set_colleagues_dnd(server: LoopbackServer, clock: SettableClock) -> None:
    relatel = make_adapter(server, clock, token=BOB_TOKEN)
    try:
        with pytest.raises(VendorAuthError, match="admin") as caught:
            await relatel.set_presence(who("3"), PresenceChange(activity="away"))
        assert caught.value.status_code == 403
    finally:
        await relatel.aclose()


async def test_wrapped_and_bare_employee_answers(adapter: RelatelAdapter, sim: RelatelSimulator) -> None:
    bare = dict(sim.employee(1), features="mobile", do_not_disturb=True, dnd_timeout_at="2026-10-06T12:30:00+01:00")
    sim.respond_with("GET", "/employee", bare)
    presence = await adapter.get_presence(adapter.service_identity())
    assert presence.dnd and presence.until == datetime(2026, 10, 6, 11, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "body",
    [{"employee": "oops"}, {"employees": []}, "<html>Bad gateway</html>", {"employee": {"name": "no id"}}, None],
)
async def test_malformed_answers_are_vendor_unavailable(
    adapter: RelatelAdapter, sim: RelatelSimulator, body: Any
) -> None:
    sim.respond_with("GET", "/employee", body)
    with pytest.raises(VendorUnavailable, match="unexpected answer"):
        await adapter.get_presence(adapter.service_identity())


# -- dial ---------------------------------------------------------------------------------------
async def test_dial_sends_digits_as_a_string_and_rings_the_token_owner(
    adapter: RelatelAdapter, sim: RelatelSimulator
) -> None:
    result = await adapter.dial(who("1"), "+45 71 99 99 99")
    assert result.target == "4571999999"
    assert sent(sim, "POST", "/switch/dial")[0].body == {"to_number": "4571999999"}
    assert [(d.employee_id, d.to_number) for d in sim.dials] == [(1, "4571999999")]


async def test_dial_is_never_retried(adapter: RelatelAdapter, sim: RelatelSimulator) -> None:
    sim.set_faults(status=500, path_prefix="/api/v2/switch/dial")
    with pytest.raises(VendorUnavailable):
        await adapter.dial(adapter.service_identity(), "+4571999999")
    assert len(sent(sim, "POST", "/switch/dial")) == 1


async def test_dial_for_someone_else_without_own_token_is_refused(
    adapter: RelatelAdapter, sim: RelatelSimulator
) -> None:
    with pytest.raises(IdentityError) as caught:
        await adapter.dial(who("3"), "+4571999999")
    assert str(caught.value) == NEEDS_OWN_TOKEN
    assert "Per-user Relatel tokens" in NEEDS_OWN_TOKEN and "owns the API token" in NEEDS_OWN_TOKEN
    assert not sent(sim, "POST", "/switch/dial") and not sim.dials


async def test_dial_with_own_token_rings_that_employee(adapter: RelatelAdapter, sim: RelatelSimulator) -> None:
    await adapter.dial(who("2", BOB_TOKEN), "+4533000001")
    [request] = sent(sim, "POST", "/switch/dial")
    assert request.authorization == f"Bearer {BOB_TOKEN}"
    assert [(d.employee_id, d.to_number) for d in sim.dials] == [(2, "4533000001")]


async def test_dial_with_someone_elses_token_is_refused(adapter: RelatelAdapter, sim: RelatelSimulator) -> None:
    with pytest.raises(IdentityError, match="different Relatel employee"):
        await adapter.dial(who("3", BOB_TOKEN), "+4533000001")
    assert not sim.dials


# Seed 000 ~660, POST /switch/dial: 'restrict_to | string Enum: "" "web_call" "mobile" Can be empty,
# "web_call", or "mobile". If present, only rings on that device.'
@pytest.mark.parametrize(("device", "words"), [("mobile", "mobile"), ("web_call", "Relatel web phone")])
async def test_dial_rings_only_the_users_chosen_device(
    adapter: RelatelAdapter, sim: RelatelSimulator, device: str, words: str
) -> None:
    bob = who("2", BOB_TOKEN).model_copy(update={"dial_device": device})
    result = await adapter.dial(bob, "+4533000001")
    assert sent(sim, "POST", "/switch/dial")[0].body == {"to_number": "4533000001", "restrict_to": device}
    assert [(d.employee_id, d.restrict_to) for d in sim.dials] == [(2, device)]
    assert result.rings == words


async def test_dial_without_a_device_leaves_restrict_to_out(adapter: RelatelAdapter, sim: RelatelSimulator) -> None:
    result = await adapter.dial(who("2", BOB_TOKEN), "+4533000001")
    assert "restrict_to" not in sent(sim, "POST", "/switch/dial")[0].body
    assert sim.dials[0].restrict_to is None and result.rings is None


async def test_dial_refuses_a_device_relatel_does_not_have_before_any_request(
    adapter: RelatelAdapter, sim: RelatelSimulator
) -> None:
    with pytest.raises(VendorRejected, match="can ring only your mobile or Relatel web phone"):
        await adapter.dial(who("2", BOB_TOKEN).model_copy(update={"dial_device": "desk"}), "+4533000001")
    assert not sim.requests and not sim.dials


async def test_dial_rejects_what_is_not_a_number(adapter: RelatelAdapter, sim: RelatelSimulator) -> None:
    with pytest.raises(VendorRejected):
        await adapter.dial(adapter.service_identity(), "+45 71 ab")
    assert not sim.requests


# -- HTTP errors --------------------------------------------------------------------------------
async def test_unknown_token_is_an_auth_error(server: LoopbackServer, clock: SettableClock) -> None:
    relatel = make_adapter(server, clock, token="revoked")
    try:
        with pytest.raises(VendorAuthError) as caught:
            await relatel.get_presence(relatel.service_identity())
        assert caught.value.status_code == 401
    finally:
        await relatel.aclose()


async def test_rate_limit_carries_retry_after(adapter: RelatelAdapter, sim: RelatelSimulator) -> None:
    sim.set_faults(status=429, retry_after=7)
    with pytest.raises(VendorRateLimited) as caught:
        await adapter.list_users(adapter.service_identity())
    assert caught.value.retry_after == 7
    assert len(sent(sim, "GET", "/employees")) == FAST.attempts


async def test_slow_answer_is_a_timeout(server: LoopbackServer, clock: SettableClock, sim: RelatelSimulator) -> None:
    relatel = make_adapter(server, clock, timeout_seconds=0.05)
    sim.set_faults(latency=0.3, count=FAST.attempts)
    try:
        with pytest.raises(VendorTimeout):
            await relatel.get_presence(relatel.service_identity())
    finally:
        await relatel.aclose()


# -- queues -------------------------------------------------------------------------------------
async def test_queue_status_maps_receptions_and_groups(adapter: RelatelAdapter, sim: RelatelSimulator) -> None:
    sim.set_dnd(2, True)
    queues = {q.group_id: q for q in await adapter.queue_status(who("1"))}
    assert list(queues) == ["reception:10", "reception:11", "group:20", "group:21"]

    main, support = queues["reception:10"], queues["reception:11"]
    assert (main.name, main.calls_waiting, main.longest_wait_seconds) == ("Main line", 0, None)
    assert (main.answered_today, main.missed_today, main.me_logged_in) == (1, 1, None)
    # One call rings on Reception#11 itself, one came in there and now rings at the group.
    assert (support.calls_waiting, support.longest_wait_seconds) == (2, 240)
    assert (support.answered_today, support.missed_today) == (1, 0)

    team, sales = queues["group:20"], queues["group:21"]
    assert (team.name, team.agents_logged_in, team.agents_free, team.me_logged_in) == ("Support team", 2, 1, True)
    assert (team.calls_waiting, team.longest_wait_seconds) == (1, 60)
    assert (sales.agents_logged_in, sales.agents_free, sales.me_logged_in) == (1, 1, False)

    [calls] = sent(sim, "GET", "/calls")
    assert calls.query == {"status": ["ringing"], "limit": ["100"]}
    stats = sent(sim, "GET", "/receptions/11/statistics")[0].query
    assert stats == {
        "answer_target": ["30"],
        "from_time": ["2026-10-06T00:00:00+02:00"],
        "to_time": ["2026-10-06T10:00:00Z"],
    }


async def test_queue_status_without_statistics_plan(adapter: RelatelAdapter, sim: RelatelSimulator) -> None:
    sim.respond_with("GET", "/receptions/10/statistics", {"status": "failure", "message": "no"}, status=403)
    queues = {q.group_id: q for q in await adapter.queue_status(adapter.service_identity())}
    assert (queues["reception:10"].answered_today, queues["reception:10"].missed_today) == (None, None)
    assert queues["reception:11"].answered_today == 1
    assert queues["group:20"].me_logged_in is True


# Seed 000 ~299-311, the employee-group update: "id required | integer Employee group ID |
# employee_group | object |" {"employee_group": { }} answered with the bare group {id, name,
# live_presence, speed_dial, employee_ids}; employee_ids is the field the create body (~283-289) sets.
async def test_join_and_leave_fall_back_to_the_documented_admin_group_update(
    adapter: RelatelAdapter, sim: RelatelSimulator
) -> None:
    bob = who("2", BOB_TOKEN)
    await adapter.queue_login(bob, "group:21", logged_in=True)
    assert sim.group(21)["employee_ids"] == [3, 2]
    assert sent(sim, "POST", "/employee_groups/21/join")[0].authorization == f"Bearer {BOB_TOKEN}"  # 404: gone
    [put] = sent(sim, "PUT", "/employee_groups/21")
    assert put.body == {"employee_group": {"employee_ids": [3, 2]}}
    assert put.authorization == f"Bearer {ADMIN_TOKEN}"
    await adapter.queue_login(bob, "group:20", logged_in=False)
    assert not sent(sim, "POST", "/employee_groups/20/leave")  # remembered: the 2014 route is not tried again
    assert sent(sim, "PUT", "/employee_groups/20")[0].body == {"employee_group": {"employee_ids": [1]}}
    assert sim.group(20)["employee_ids"] == [1]
    assert sim.employee(2)["employee_group_ids"] == [21]


async def test_the_2014_join_route_is_used_where_relatel_still_answers_it(
    adapter: RelatelAdapter, sim: RelatelSimulator
) -> None:
    sim.legacy_group_routes = True
    await adapter.queue_login(who("2", BOB_TOKEN), "group:21", logged_in=True)
    assert sim.group(21)["employee_ids"] == [3, 2]
    assert sent(sim, "POST", "/employee_groups/21/join")[0].authorization == f"Bearer {BOB_TOKEN}"
    assert not sent(sim, "PUT", "/employee_groups/21")


async def test_login_without_own_token_uses_the_admin_group_update(
    adapter: RelatelAdapter, sim: RelatelSimulator
) -> None:
    await adapter.queue_login(who("3"), "group:20", logged_in=True)
    assert sent(sim, "PUT", "/employee_groups/20")[0].body == {"employee_group": {"employee_ids": [1, 2, 3]}}
    assert sim.group(20)["employee_ids"] == [1, 2, 3] and sim.employee(3)["employee_group_ids"] == [21, 20]
    assert not sent(sim, "POST", "/employee_groups/20/join")


async def test_login_that_changes_nothing_writes_nothing(adapter: RelatelAdapter, sim: RelatelSimulator) -> None:
    await adapter.queue_login(who("3"), "group:21", logged_in=True)  # Carol is in Sales already
    await adapter.queue_login(who("3"), "group:20", logged_in=False)  # and not in the support team
    assert not [r for r in sim.requests if r.method == "PUT"]


async def test_group_update_refused_to_a_non_admin_says_it_needs_an_admin(
    server: LoopbackServer, clock: SettableClock, sim: RelatelSimulator
) -> None:
    relatel = make_adapter(server, clock, token=BOB_TOKEN)  # Bob is not an admin
    try:
        with pytest.raises(VendorAuthError, match="needs an admin's service token"):
            await relatel.queue_login(who("3"), "group:20", logged_in=True)
    finally:
        await relatel.aclose()
    assert sim.group(20)["employee_ids"] == [1, 2]


async def test_a_concurrent_write_that_undoes_the_login_is_applied_again(
    adapter: RelatelAdapter, sim: RelatelSimulator
) -> None:
    undone: list[int] = []

    def someone_else_writes(group: dict[str, Any]) -> None:  # another writer's stale list lands after ours
        if not undone:
            undone.append(1)
            group["employee_ids"] = [3]

    sim.after_group_update = someone_else_writes
    await adapter.queue_login(who("2", BOB_TOKEN), "group:21", logged_in=True)
    assert sim.group(21)["employee_ids"] == [3, 2]
    assert len(sent(sim, "PUT", "/employee_groups/21")) == 2


async def test_a_login_undone_every_time_gives_up_after_a_bounded_number_of_writes(
    adapter: RelatelAdapter, sim: RelatelSimulator
) -> None:
    sim.after_group_update = lambda group: group.update(employee_ids=[3])
    with pytest.raises(VendorRejected, match="changed at the same moment; try again") as caught:
        await adapter.queue_login(who("2", BOB_TOKEN), "group:21", logged_in=True)
    assert "employee_group" not in caught.value.message
    assert len(sent(sim, "PUT", "/employee_groups/21")) == MEMBERSHIP_TRIES


async def test_concurrent_logins_to_one_group_in_one_process_all_land(
    adapter: RelatelAdapter, sim: RelatelSimulator
) -> None:
    await asyncio.gather(
        adapter.queue_login(who("1"), "group:21", logged_in=True),
        adapter.queue_login(who("2", BOB_TOKEN), "group:21", logged_in=True),
    )
    assert sorted(sim.group(21)["employee_ids"]) == [1, 2, 3]


async def test_a_missing_group_is_plain_words_and_keeps_trying_the_2014_route(
    adapter: RelatelAdapter, sim: RelatelSimulator
) -> None:
    with pytest.raises(NotFound) as caught:
        await adapter.queue_login(who("2", BOB_TOKEN), "group:99", logged_in=True)
    assert caught.value.message == "Relatel has no such employee group (it may have been deleted)"
    await adapter.queue_login(who("2", BOB_TOKEN), "group:21", logged_in=True)
    assert sent(sim, "POST", "/employee_groups/21/join")  # a 404 for a missing group proves nothing about the route


async def test_receptions_and_unknown_ids_have_no_login(adapter: RelatelAdapter, sim: RelatelSimulator) -> None:
    with pytest.raises(VendorRejected, match="receptions have no agent login"):
        await adapter.queue_login(adapter.service_identity(), "reception:11", logged_in=True)
    with pytest.raises(NotFound):
        await adapter.queue_login(adapter.service_identity(), "queue-7", logged_in=True)
    assert not sim.requests


# -- directory ----------------------------------------------------------------------------------
async def test_search_contacts_by_name_pages_and_includes_colleagues(
    adapter: RelatelAdapter, sim: RelatelSimulator
) -> None:
    found = await adapter.search_contacts(adapter.service_identity(), "jensen")
    assert [(c.name, c.number) for c in found] == [
        ("Jens Jensen", "+4540000001"),
        ("Jensen Plumbing", "+4540000002"),
    ]
    pages = sent(sim, "GET", "/contacts")
    assert [p.query for p in pages] == [{"limit": ["100"]}, {"limit": ["100"], "id_gt_or_eq": ["101"]}]

    [bob] = await adapter.search_contacts(adapter.service_identity(), "bob b")
    assert (bob.id, bob.colleague, bob.number, bob.email) == ("employee:2", True, "+4571000002", "bob@example.com")


async def test_search_contacts_by_number(adapter: RelatelAdapter, sim: RelatelSimulator) -> None:
    [acme] = await adapter.search_contacts(adapter.service_identity(), "+45 33 00 00 01")
    assert (acme.name, acme.number, acme.colleague) == ("Acme Corp", "+4533000001", False)
    assert [c.name for c in await adapter.search_contacts(adapter.service_identity(), "71 00 00 03")] == [
        "Carol Christensen"
    ]
    assert [r.query["number"] for r in sent(sim, "GET", "/contacts")] == [["4533000001"], ["4571000003"]]


async def test_list_users_and_email_lookup(adapter: RelatelAdapter, sim: RelatelSimulator) -> None:
    sim.employee(3)["email"] = None
    users = await adapter.list_users(adapter.service_identity())
    assert [(u.user_id, u.name, u.email, u.number) for u in users] == [
        ("1", "Alice Andersen", "alice@example.com", "+4571000001"),
        ("2", "Bob Berg", "bob@example.com", "+4571000002"),
        ("3", "Carol Christensen", None, "+4571000003"),
    ]
    found = await adapter.find_user_by_email(adapter.service_identity(), "BOB@example.com")
    assert found is not None and found.user_id == "2"


# -- diagnostics --------------------------------------------------------------------------------
async def test_probe(adapter: RelatelAdapter, sim: RelatelSimulator) -> None:
    rows = {row.capability: row for row in await adapter.probe()}
    assert rows[Capability.PRESENCE_ACTIVITIES].ok is False
    assert rows[Capability.DIAL].ok is None and "Alice Andersen" in rows[Capability.DIAL].detail
    assert rows[Capability.PRESENCE_WRITE].ok is None
    for capability in (Capability.PRESENCE_READ, Capability.QUEUE_STATUS, Capability.CONTACT_SEARCH):
        assert rows[capability].ok is True, rows[capability].detail
    assert rows[Capability.DIRECTORY].ok is True
    assert not sent(sim, "POST", "/switch/dial") and not sent(sim, "PUT", "/employee")


async def test_probe_with_a_revoked_token(server: LoopbackServer, clock: SettableClock) -> None:
    relatel = make_adapter(server, clock, token="revoked")
    try:
        rows = await relatel.probe()
    finally:
        await relatel.aclose()
    probed = [row for row in rows if row.capability in RelatelAdapter.capabilities and row.ok is not None]
    assert probed and all(row.ok is False and "401" in row.detail for row in probed)

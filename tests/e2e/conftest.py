"""The running phonebot over real HTTP, wired to real parts only.

* Slack → phonebot: requests signed exactly as Slack signs them (``SlackSigner``), sent over HTTP.
* phonebot → Slack: the real ``slack_sdk`` async client, pointed at :class:`FakeSlack` on loopback.
* phonebot → vendors: the Dstny and Relatel simulators, real HTTP servers on loopback.
* state: a ``redis-server`` the tests spawn on a free port.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from adapters.simulation import LoopbackServer
from bot.config import Settings, parse_config
from bot.runtime import Runtime, build_runtime
from bot.server import build_asgi_app
from bot.simulate import DEMO_SLACK_USERS, SimulatedPhoneSystems
from tests.fakes.fixtures import SIGNING_SECRET
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import SlackClientSim, SlackSigner

pytestmark = pytest.mark.e2e

#: Keys the secret webhook URLs of the app under test (tests compute the same URLs).
WEBHOOK_SECRET = "e2e-webhook-secret-0123456789"
#: PHONEBOT_SECRET_KEY of an "Add to Slack" app under test (a Fernet key: 32 bytes, URL-safe base64).
SECRET_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="


@dataclass
class RunningApp:
    """phonebot served on loopback, plus the parts around it."""

    url: str
    runtime: Runtime
    phones: SimulatedPhoneSystems
    slack: FakeSlack
    signer: SlackSigner
    client: SlackClientSim

    def command(self, command: str, text: str, *, user: str = "U0ALICE", **kwargs: Any) -> tuple[httpx.Response, str]:
        """Send a slash command; returns phonebot's HTTP answer and the command's response_url."""
        response_url = self.slack.new_response_url()
        body, headers = self.signer.slash_command(
            command, text, user_id=user, user_name=user.lower(), response_url=response_url, **kwargs
        )
        return self.client.send_sync(body, headers), response_url

    def click(self, action_id: str, value: str, *, user: str = "U0ALICE", **kwargs: Any) -> tuple[httpx.Response, str]:
        """Click a button on an ephemeral reply; returns the HTTP answer and the response_url."""
        response_url = self.slack.new_response_url()
        body, headers = self.signer.block_action(
            action_id,
            value,
            user_id=user,
            response_url=response_url,
            channel_id="C0001",
            message_ts="1.000001",
            **kwargs,
        )
        return self.client.send_sync(body, headers), response_url

    def reply(self, response_url: str, count: int = 1, timeout: float = 10.0) -> dict[str, Any]:
        """The ``count``-th message phonebot posted to ``response_url``."""
        return self.slack.wait_for_response(response_url, count=count, timeout=timeout)[count - 1]


def start_app(
    phones: SimulatedPhoneSystems,
    slack: FakeSlack,
    signer: SlackSigner,
    redis_url: str,
    *,
    default_vendor: str = "dstny",
    overrides: dict[str, Any] | None = None,
    public_url: bool = False,
    port: int = 0,
    oauth: bool = False,
    secret_key: bool = False,
    settings_overrides: dict[str, Any] | None = None,
    file_vendors: tuple[str, ...] | None = None,
) -> tuple[RunningApp, LoopbackServer]:
    """Serve phonebot on loopback; ``public_url`` makes its own address ``PHONEBOT_PUBLIC_URL``.

    ``port`` fixes the port (a restart at the same address); 0 picks a free one. ``oauth`` serves
    "Add to Slack" against the fake Slack's OAuth app instead of a bot token (with a public URL, whose
    redirect URL the fake's app registers). ``settings_overrides`` sets other :class:`Settings` fields
    (the environment), e.g. ``{"slack_team_id": "T0001"}``. ``file_vendors`` keeps only those vendors in the
    file (``()``: a file with no phone system, as a deployment set up from Slack starts).
    """
    public_url = public_url or oauth
    raw = _merge(phones.config(default_vendor=default_vendor), overrides or {})
    if file_vendors is not None:
        raw = _only_vendors(raw, file_vendors)
    config = parse_config(raw, source="e2e")
    port = port or (_free_port() if public_url else 0)
    settings = Settings(
        slack_bot_token=None if oauth else "xoxb-test-token",
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack.url,
        redis_url=redis_url,
        phonebot_webhook_secret=WEBHOOK_SECRET,
        phonebot_public_url=f"http://127.0.0.1:{port}" if public_url else None,
        # The commands' work goes through the durable queue all the same, to a worker in this process
        # (tests/e2e/test_command_workers.py runs the worker processes `phonebot serve` starts).
        phonebot_command_workers=0,
        phonebot_secret_key=SecretStr(SECRET_KEY) if secret_key else None,
    )
    if oauth:
        settings = settings.model_copy(
            update={
                "slack_client_id": slack.oauth.client_id,
                "slack_client_secret": SecretStr(slack.oauth.client_secret),
                "slack_authorize_url": slack.authorize_url,
                "phonebot_secret_key": SecretStr(SECRET_KEY),
            }
        )
        slack.oauth.redirect_urls[:] = [f"http://127.0.0.1:{port}/slack/oauth_redirect"]
    if settings_overrides:
        settings = settings.model_copy(update=settings_overrides)
    runtime = build_runtime(settings, config)
    server = LoopbackServer(build_asgi_app(runtime), port=port, lifespan="on").start()
    app = RunningApp(
        url=server.url,
        runtime=runtime,
        phones=phones,
        slack=slack,
        signer=signer,
        client=SlackClientSim(server.url, signer),
    )
    return app, server


def _only_vendors(raw: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    vendors = {name: section for name, section in raw.get("vendors", {}).items() if name in names}
    users = [user for user in raw.get("users", []) if user.get("vendor") in vendors]
    default = raw.get("default_vendor") if raw.get("default_vendor") in vendors else None
    return {**raw, "vendors": vendors, "users": users, "default_vendor": default}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@pytest.fixture
def phones() -> Iterator[SimulatedPhoneSystems]:
    with SimulatedPhoneSystems() as systems:
        yield systems


@pytest.fixture
def slack(fake_slack: FakeSlack) -> FakeSlack:
    for user in DEMO_SLACK_USERS:
        assert user.email is not None and user.tz is not None
        fake_slack.add_user(user.id, name=user.name, email=user.email, tz=user.tz, is_admin=user.is_admin)
    fake_slack.add_user("U0STRANGER", name="Sam Stranger", email="sam@elsewhere.example")
    return fake_slack


@pytest.fixture
def app(
    phones: SimulatedPhoneSystems, slack: FakeSlack, signer: SlackSigner, redis_url: str, request: pytest.FixtureRequest
) -> Iterator[RunningApp]:
    marker = request.node.get_closest_marker("phonebot")
    options = dict(marker.kwargs) if marker else {}
    running, server = start_app(phones, slack, signer, redis_url, **options)
    try:
        yield running
    finally:
        server.stop()
        slack.assert_no_violations()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "phonebot(default_vendor=..., overrides=..., public_url=..., oauth=..., secret_key=..., "
        "settings_overrides=...): how to start the app",
    )

"""The shared Slack session (issue 8, point 9): one per process, closed on shutdown."""

from __future__ import annotations

from bot.config import Settings, parse_config
from bot.runtime import build_runtime
from tests.fakes.slack_api import FakeSlack


async def test_bot_and_alert_clients_share_one_session_that_shutdown_closes(fake_slack: FakeSlack) -> None:
    settings = Settings(slack_bot_token="xoxb-test", slack_signing_secret="s", slack_api_url=fake_slack.url)
    runtime = build_runtime(settings, parse_config({}, source="test", env={}))
    for _ in range(5):
        await runtime.slack.auth_test()
        await runtime.alerts.slack.auth_test()
    session = runtime.slack.session
    assert session is not None and session is runtime.alerts.slack.session
    assert fake_slack.connections_used() == 1
    await runtime.aclose()
    assert session.closed

"""Shared fixtures: a real redis-server, the fake Slack Web API, Slack request signing."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from adapters.dstny.paths import AGENT_LOGIN
from tests.fakes.fixtures import *  # noqa: F403
from tests.fakes.relatel_oauth import oauth_server, oauth_sim  # noqa: F401  (fixtures)

_SECRET_ENV = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "REDIS_URL",
    "PHONEBOT_CONFIG",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "SLACK_AUTHORIZE_URL",
    "PHONEBOT_SECRET_KEY",
)


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test sees the developer's real Slack/Redis settings."""
    for name in _SECRET_ENV:
        monkeypatch.delenv(name, raising=False)
    yield
    assert "SLACK_BOT_TOKEN" not in os.environ or os.environ["SLACK_BOT_TOKEN"].startswith("xoxb-test")


@pytest.fixture(autouse=True)
def fresh_dstny_form_memo() -> Iterator[None]:
    """Each test starts as a fresh process would: no Dstny agent-login form remembered yet."""
    AGENT_LOGIN.forget()
    yield
    AGENT_LOGIN.forget()

"""Pytest fixtures for the fakes; ``tests/conftest.py`` pulls them in with
``from tests.fakes.fixtures import *``.

* ``redis_server`` (session) — one spawned ``redis-server`` for the run.
* ``redis_url`` — its URL, with every database flushed before the test (restarted first if
  an earlier test stopped or killed it).
* ``fake_slack_server`` (session) — one running :class:`FakeSlack`.
* ``fake_slack`` — that fake, reset before and after the test.
* ``signer`` — a :class:`SlackSigner` for :data:`SIGNING_SECRET`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.redis_server import RedisServer
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import SlackSigner

__all__ = [
    "SIGNING_SECRET",
    "fake_slack",
    "fake_slack_server",
    "redis_server",
    "redis_url",
    "signer",
]

SIGNING_SECRET = "test-signing-secret"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A ``redis-server`` child process shared by the whole session (no persistence)."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """``redis://127.0.0.1:PORT/0`` of the session server, emptied for this test."""
    if not redis_server.running:
        redis_server.restart()
    redis_server.flushall()
    return redis_server.url


@pytest.fixture(scope="session")
def fake_slack_server() -> Iterator[FakeSlack]:
    """The session's :class:`FakeSlack` server; tests should use ``fake_slack``."""
    fake = FakeSlack().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def fake_slack(fake_slack_server: FakeSlack) -> Iterator[FakeSlack]:
    """The running :class:`FakeSlack` with no calls, users, faults or violations recorded."""
    fake_slack_server.reset()
    yield fake_slack_server
    fake_slack_server.reset()


@pytest.fixture
def signer() -> SlackSigner:
    """Signs requests with :data:`SIGNING_SECRET` (configure the app under test with the same)."""
    return SlackSigner(SIGNING_SECRET)

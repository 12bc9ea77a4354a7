"""Issue 14 point 7: ``PHONEBOT_LOG_FORMAT=json`` makes ``phonebot serve`` write one JSON object per line, with
what the line is about (``vendor``, ``team``, ``request_id``) bound where it is known; text stays the default.

The real ``phonebot serve`` process, its stderr read back: a refused Tele2 webhook (wrong URL token) and a signed
slash command, each answered with an ``X-Request-Id`` that the lines they caused carry.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml

from tests.e2e.alerting import wait_until
from tests.fakes.fixtures import SIGNING_SECRET
from tests.fakes.phonebot_process import PhonebotProcess
from tests.fakes.redis_server import RedisServer
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import SlackSigner

pytestmark = pytest.mark.e2e


def _serve(
    tmp_path_factory: pytest.TempPathFactory, redis: RedisServer, slack: FakeSlack, **env: str
) -> PhonebotProcess:
    work = tmp_path_factory.mktemp("logs")
    config = work / "phonebot.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "default_country": "LT",
                "timezone": "Europe/Vilnius",
                "vendors": {"tele2": {"base_url": "http://127.0.0.1:9/api/v2/", "api_key": "k"}},
            }
        )
    )
    return PhonebotProcess(
        config, redis_url=redis.url.rsplit("/", 1)[0] + "/8", slack_api_url=slack.url, log_dir=work, env=env
    )


@pytest.fixture(scope="module")
def json_served(
    tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer, fake_slack_server: FakeSlack
) -> Iterator[PhonebotProcess]:
    process = _serve(tmp_path_factory, redis_server, fake_slack_server, PHONEBOT_LOG_FORMAT="json")
    yield process
    process.stop()


def _lines(process: PhonebotProcess) -> list[dict[str, Any]]:
    """Every stderr line, each of which must be one JSON object."""
    parsed = []
    for line in process.log().splitlines():
        if line.strip():
            value = json.loads(line)  # a line that is not JSON fails here
            assert isinstance(value, dict), line
            parsed.append(value)
    return parsed


def test_every_line_is_one_json_object_with_level_logger_and_message(json_served: PhonebotProcess) -> None:
    lines = _lines(json_served)
    assert lines, "serve logs where it listens at start"
    for line in lines:
        assert {"ts", "level", "logger", "message"} <= set(line)


def test_a_webhook_line_carries_its_vendor_and_request_id(json_served: PhonebotProcess) -> None:
    answer = httpx.post(json_served.url + "/webhooks/tele2/not-the-secret-token", json={"event": "CallStarted"})
    assert 400 <= answer.status_code < 500
    request_id = answer.headers["x-request-id"]
    wait_until(lambda: any(line.get("request_id") == request_id for line in _lines(json_served)))
    about = [line for line in _lines(json_served) if line.get("request_id") == request_id]
    assert all(line["vendor"] == "tele2" for line in about), about


def test_a_slash_command_line_carries_its_team(json_served: PhonebotProcess, fake_slack_server: FakeSlack) -> None:
    signer = SlackSigner(SIGNING_SECRET)
    body, headers = signer.slash_command(
        "/presence",
        "lunch 45m",
        user_id="U0NOBODY",
        user_name="nobody",
        team_id="T0OTHER",
        response_url=fake_slack_server.new_response_url(),
    )
    answer = httpx.post(json_served.url + "/slack/events", content=body, headers=headers)
    request_id = answer.headers["x-request-id"]
    wait_until(lambda: any(line.get("request_id") == request_id for line in _lines(json_served)))
    about = [line for line in _lines(json_served) if line.get("request_id") == request_id]
    assert any(line.get("team") == "T0OTHER" for line in about), about


def test_text_stays_the_default(
    tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer, fake_slack_server: FakeSlack
) -> None:
    process = _serve(tmp_path_factory, redis_server, fake_slack_server)
    try:
        first = process.log().splitlines()[0]
        assert not first.startswith("{") and " INFO " in first, first
    finally:
        process.stop()

"""Slack calls reuse connections (issue 8, point 9): one aiohttp session per process.

The fake Slack records the client address of every request; distinct (host, port) pairs are
distinct TCP connections. Before the fix every Web API call and every ``response_url`` post
opened its own session, so N posts used N connections.
"""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.alerting import alert_overrides, settle, subscribe, tele2_url, wait_until, writes
from tests.e2e.conftest import RunningApp

POSTS = 20
CHANNEL = "C0REUSE"


def test_response_url_replies_reuse_connections(app: RunningApp) -> None:
    _, url = app.command("/phonebot", "whoami")  # links alice (users.info) first
    app.reply(url)
    app.slack.peers.clear()
    for _ in range(POSTS):
        _, url = app.command("/phonebot", "whoami")
        assert "Dstny user *alice*" in str(app.reply(url).get("text"))
    assert app.slack.connections_used() <= 3, f"{app.slack.connections_used()} connections for {POSTS} replies"


@pytest.mark.phonebot(overrides=alert_overrides({"channel": CHANNEL, "name": "Support"}))
def test_alert_posts_reuse_connections(app: RunningApp) -> None:
    subscribe(app)
    url = tele2_url(app).replace("{event}", "LostCallerAdded")
    app.slack.peers.clear()
    with httpx.Client() as vendor:
        for n in range(POSTS):
            body = app.phones.tele2.webhook_body("LostCallerAdded", {"callerid": f"+3706991{n:04d}"})
            assert vendor.post(url, json=body).status_code == 200
    wait_until(lambda: len(writes(app.slack)) >= POSTS, timeout=30)
    settle(app)
    assert app.slack.connections_used() <= 3, f"{app.slack.connections_used()} connections for {POSTS} alert posts"

"""Issue 11 points 5 and 11: a workspace's setup saved in the store takes effect without a restart.

The file names no phone system. An admin's save — written here straight into the store, sealed with the
deployment's key, as another replica's App Home would — adds Dstny; the next command already uses it.
Removing it again is seen as quickly. Nothing is restarted, nothing is mocked: signed Slack requests in,
the Dstny simulator and the fake Slack out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bot.installs.workspace import WorkspaceKey
from bot.linking.relatel_flow import CALLBACK_PATH
from bot.secret_box import SecretBox
from bot.store import RedisStore
from bot.workspaces.settings import WorkspaceSettings, WorkspaceSettingsStore
from tests.e2e.conftest import SECRET_KEY, RunningApp

pytestmark = pytest.mark.phonebot(secret_key=True, file_vendors=())

TEAM = WorkspaceKey(None, "T0001")  # the fake Slack's workspace, the one of SLACK_BOT_TOKEN


def save(redis_url: str, change: Any) -> None:
    async def run() -> None:
        store = RedisStore(redis_url)
        try:
            await WorkspaceSettingsStore(store, SecretBox.from_setting(SECRET_KEY)).update(TEAM, change, by="U0ALICE")
        finally:
            await store.close()

    asyncio.run(run())


@pytest.fixture
def dstny_section(app: RunningApp) -> Iterator[dict[str, Any]]:
    yield dict(app.phones.config()["vendors"]["dstny"])


def test_a_vendor_saved_for_the_workspace_is_used_by_the_next_command(
    app: RunningApp, redis_url: str, dstny_section: dict[str, Any]
) -> None:
    ready = httpx.get(app.url + "/readyz")  # an admin must still reach the App Home to set one up
    assert ready.status_code == 200 and ready.json()["checks"]["vendors"].startswith("none in the config file")
    _, url = app.command("/presence", "lunch 45m")
    assert "No phone system is configured yet" in app.reply(url)["text"]
    assert app.phones.dstny.presence_of("alice").activity != "lunch"

    def add_dstny(current: WorkspaceSettings) -> WorkspaceSettings:
        current.vendors["dstny"] = dstny_section
        return current

    save(redis_url, add_dstny)
    # Contexts look at the settings' version at most once a second: the next commands see the save.
    text = until_answer(app, "lunch 45m", "Your phone presence is now *Lunch*", "No phone system is configured yet")
    assert app.phones.dstny.presence_of("alice").activity == "lunch", text

    def remove_dstny(current: WorkspaceSettings) -> WorkspaceSettings:
        current.vendors.pop("dstny")
        return current

    save(redis_url, remove_dstny)
    until_answer(app, "back", "No phone system is configured yet", "available again")


def until_answer(
    app: RunningApp, text: str, wanted: str, meanwhile: str, *, user: str = "U0ALICE", timeout: float = 5.0
) -> str:
    """Run ``/presence text`` until its answer says ``wanted``; every answer before says ``meanwhile``."""
    deadline = time.monotonic() + timeout
    while True:
        _, url = app.command("/presence", text, user=user)
        answer = str(app.reply(url)["text"])
        if wanted in answer:
            return answer
        assert meanwhile in answer, answer
        assert time.monotonic() < deadline, f"still {answer!r} after {timeout} s"
        time.sleep(0.1)


@pytest.mark.phonebot(secret_key=True, file_vendors=(), public_url=True)
def test_people_link_through_the_oauth_app_of_a_relatel_set_up_in_slack(app: RunningApp, redis_url: str) -> None:
    """The Relatel vendor and its OAuth application exist only in the workspace's saved setup."""
    app.phones.relatel.oauth_apps["slack-setup-app"] = ("slack-setup-secret", app.url + CALLBACK_PATH)
    app.phones.relatel.consenting_employee = 3
    section = {
        **app.phones.config()["vendors"]["relatel"],
        "oauth_client_id": "slack-setup-app",
        "oauth_client_secret": "slack-setup-secret",
    }

    def add_relatel(current: WorkspaceSettings) -> WorkspaceSettings:
        current.vendors["relatel"] = section
        return current

    save(redis_url, add_relatel)
    deadline = time.monotonic() + 5
    while True:  # the context sees the save within a second
        _, url = app.command("/call", "+4571999999", user="U0STRANGER")
        offer = app.reply(url)
        if "isn't linked to a Relatel user" in offer["text"]:
            break
        assert time.monotonic() < deadline, offer["text"]
        time.sleep(0.1)
    [button] = [e for block in offer["blocks"] if block["type"] == "actions" for e in block["elements"]]
    browser = httpx.Client(follow_redirects=True, timeout=10)
    page = browser.get(button["url"])
    assert page.status_code == 200 and "linked as Carol Christensen" in page.text, page.text
    _, url = app.command("/call", "+4571999999", user="U0STRANGER")
    assert "Calling" in app.reply(url)["text"]
    assert [dial.employee_id for dial in app.phones.relatel.dials] == [3]

    _, url = app.command("/phonebot", "whoami", user="U0STRANGER")
    [unlink] = [e for block in app.reply(url)["blocks"] if block["type"] == "actions" for e in block["elements"]]
    _, url = app.click(unlink["action_id"], unlink["value"], user="U0STRANGER")
    assert "Unlinked" in app.reply(url)["text"]
    _, url = app.command("/call", "+4571999999", user="U0STRANGER")
    [button] = [e for block in app.reply(url)["blocks"] if block["type"] == "actions" for e in block["elements"]]

    def remove_relatel(current: WorkspaceSettings) -> WorkspaceSettings:
        current.vendors.pop("relatel")
        return current

    save(redis_url, remove_relatel)
    until_answer(app, "back", "No phone system is configured yet", "", user="U0STRANGER")  # the context saw it
    late = httpx.get(button["url"], follow_redirects=False)
    assert late.status_code == 400 and "no longer set up" in late.text

"""The App Home's Set up section: admins only, file vs Slack marked, secrets hinted, within 100 blocks."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any

from cryptography.fernet import Fernet
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import parse_config
from bot.installs.workspace import WorkspaceKey
from bot.linking.links import AccountLinks
from bot.linking.requests import MAX_PENDING, LinkRequests
from bot.runtime import build_services
from bot.secret_box import SecretBox
from bot.slack_users import SlackUser, StaticUserDirectory
from bot.status_sync.flow import SlackStatusFlow
from bot.status_sync.sync import StatusSync
from bot.status_sync.tokens import StatusTokens
from bot.store import MemoryStore
from bot.workspaces.settings import MAX_ROUTES, MAX_THRESHOLDS, WorkspaceSettings, WorkspaceSettingsStore
from handlers.context import Services
from handlers.home import home_view
from handlers.setup import home_blocks as home
from handlers.setup.answer import Answer, answer_within
from tests.fakes.slack_api import MAX_VIEW_BLOCKS, check_blocks

WORKSPACE = WorkspaceKey(None, "T0001")
SECRET = "tele2-key-abcdefgh-WXYZ"
FILE = {
    "vendors": {"relatel": {"base_url": "http://127.0.0.1:9/api/v2", "token": "file-token-000111"}},
    "alerts": {"routes": [{"channel": "C0FILE"}], "queue_thresholds": [{"group": "*", "calls_waiting": 3}]},
    "admins": ["U0YAML"],
}
USERS = [
    SlackUser(id="U0SLACKADMIN", name="Ada", email=None, tz=None, is_admin=True),
    SlackUser(id="U0YAML", name="Yan", email=None, tz=None),
    SlackUser(id="U0BOB", name="Bob", email=None, tz=None),
]


def services(raw: dict[str, Any], *, with_store: bool = True) -> Services:
    store = MemoryStore()
    built = build_services(
        parse_config(raw, source="test", env={}),
        store=store,
        adapters={},
        users=StaticUserDirectory(USERS),
        links=AccountLinks(store, None),
    ).for_request(None, WORKSPACE)  # type: ignore[arg-type]  # a StaticUserDirectory asks no Slack client
    box = SecretBox.from_setting(Fernet.generate_key().decode())
    return replace(built, settings=WorkspaceSettingsStore(store, box) if with_store else None)


def with_status_sync(here: Services) -> None:
    """Status sync as a deployment with per-person Slack OAuth has it."""
    tokens = StatusTokens(here.store, SecretBox.from_setting(Fernet.generate_key().decode()))
    here.status_sync = StatusSync(here.store, tokens, lambda token: AsyncWebClient(token=token))
    here.status_flow = SlackStatusFlow(
        store=here.store,
        tokens=tokens,
        client=AsyncWebClient(),
        client_id="1.2",
        client_secret="s",
        authorize_url="https://slack.com/oauth/v2/authorize",
        public_url="https://phonebot.example.com",
    )


def text_of(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


async def test_only_workspace_admins_get_the_section() -> None:
    here = services(FILE)
    assert await home.setup_blocks(here, "U0BOB") == []
    for admin in ("U0SLACKADMIN", "U0YAML"):  # Slack's admins and the file's admins:
        shown = text_of(await home.setup_blocks(here, admin))
        assert '"Set up"' in shown and home.ADD_VENDOR in shown


async def test_file_settings_are_marked_and_not_editable_and_slack_ones_are() -> None:
    here = services(FILE)
    assert here.settings is not None

    def change(current: WorkspaceSettings) -> WorkspaceSettings:
        current.vendors["tele2"] = {"api_key": SECRET}
        current.routes.append({"channel": "C0SLACK", "kinds": ["voicemail"]})
        return current

    await here.settings.update(WORKSPACE, change, by="U0SLACKADMIN")
    blocks = await home.setup_blocks(here, "U0SLACKADMIN")
    shown = text_of(blocks)
    assert "*Relatel* · from the config file" in shown and "<#C0FILE>" in shown
    assert "*Tele2 Mobili Stotele* · set up in Slack · API key •••• WXYZ" in shown and SECRET not in shown
    assert "file-token-000111" not in shown
    edits = [
        e["value"]
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == home.EDIT_VENDOR
    ]
    assert edits == ["-:T0001|tele2|"]  # the file's Relatel has no Edit button
    assert "<#C0SLACK>: Voicemails" in shown and home.REMOVE_ROUTE in shown


async def test_without_a_secret_key_it_says_so_and_shows_the_file_read_only() -> None:
    shown = text_of(await home.setup_blocks(services(FILE, with_store=False), "U0YAML"))
    assert "needs `PHONEBOT_SECRET_KEY`" in shown and "Relatel" in shown and "*Alert routes:* 1" in shown
    assert home.ADD_VENDOR not in shown and home.REMOVE_ROUTE not in shown


async def test_a_full_record_keeps_the_whole_home_within_slacks_limits() -> None:
    raw = {**FILE, "alerts": {"routes": [{"channel": f"C0F{i}"} for i in range(40)]}}
    here = services(raw)
    assert here.settings is not None

    def fill(current: WorkspaceSettings) -> WorkspaceSettings:
        current.vendors = {name: {"token": "t" * 20} for name in ("dstny", "tele2", "multisender", "relatel")}
        current.routes = [{"channel": f"C0R{i}", "groups": ["g" * 100] * 50} for i in range(MAX_ROUTES)]
        current.queue_thresholds = [{"group": "q" * 100, "calls_waiting": i + 1} for i in range(MAX_THRESHOLDS)]
        return current

    await here.settings.update(WORKSPACE, fill, by="U0SLACKADMIN")
    # With the People section at its fullest too: every list it shows is bounded as well.
    links = here.identities.links
    assert links is not None
    requests = LinkRequests(here.store, links)
    for n in range(60):
        await links.put(WORKSPACE.data_prefix, f"UL{n:02d}", vendor="dstny", user_id=f"l{n}", how="directory")
    for n in range(MAX_PENDING):
        await requests.ask(WORKSPACE.data_prefix, f"UP{n:02d}", vendor="dstny", user_id=f"p{n}", name="someone")
    with_status_sync(here)  # and the Slack status section
    view = await home_view(here, user_id="U0SLACKADMIN")
    assert '"Approve"' in text_of(view["blocks"]) and '"Unlink"' in text_of(view["blocks"])
    assert '"Connect Slack status"' in text_of(view["blocks"])
    assert len(view["blocks"]) <= MAX_VIEW_BLOCKS
    assert check_blocks(view["blocks"], max_blocks=MAX_VIEW_BLOCKS) == []
    shown = text_of(view["blocks"])
    assert f"and {MAX_ROUTES - home.SHOWN_PER_LIST} more set up in Slack" in shown and "and 30 more" in shown
    assert home.EDIT_STATUS in shown  # the admin's Slack status mapping button
    assert here.status_sync is not None  # connected, the admin has their switches and Disconnect too:
    await here.status_sync.tokens.put(WORKSPACE.data_prefix, "U0SLACKADMIN", "xoxp-1", "users.profile:write")
    view = await home_view(here, user_id="U0SLACKADMIN")
    assert '"slack_status_prefs"' in text_of(view["blocks"]) and '"slack_status_disconnect"' in text_of(view["blocks"])
    assert check_blocks(view["blocks"], max_blocks=MAX_VIEW_BLOCKS) == []


class Acks:
    def __init__(self) -> None:
        self.acks: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []

    async def __call__(self, **kwargs: Any) -> None:
        self.acks.append(kwargs)

    async def views_update(self, **kwargs: Any) -> None:
        self.updates.append(kwargs)


async def test_work_within_the_budget_answers_in_the_ack_and_slower_work_by_views_update() -> None:
    loop = asyncio.get_running_loop()
    fast, form, done = Acks(), {"type": "modal", "blocks": []}, {"type": "modal", "title": "done"}

    async def errors() -> Answer:
        return Answer(view=form, errors={"b": "bad"})

    await answer_within(fast, fast, view_id="V1", work=errors(), pending={}, started=loop.time())  # type: ignore[arg-type]
    assert fast.acks == [{"response_action": "errors", "errors": {"b": "bad"}}] and fast.updates == []

    async def slow() -> Answer:
        await asyncio.sleep(0.2)
        return Answer(view=done, saved=True)

    late = Acks()
    answer = await answer_within(
        late, late, view_id="V1", work=slow(), pending={"p": 1}, started=loop.time(), budget=0.05
    )  # type: ignore[arg-type]
    assert answer.saved and late.acks == [{"response_action": "update", "view": {"p": 1}}]
    assert late.updates == [{"view_id": "V1", "view": done}]

    async def broken() -> Answer:
        raise RuntimeError("secret detail")

    oops = Acks()
    await answer_within(oops, oops, view_id="V1", work=broken(), pending={}, started=loop.time())  # type: ignore[arg-type]
    assert "logged as" in json.dumps(oops.acks) and "secret detail" not in json.dumps(oops.acks)

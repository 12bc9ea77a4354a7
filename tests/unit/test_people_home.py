"""The App Home's People section (issue 11 point 8): admins only, bounded, approval read-only without settings."""

from __future__ import annotations

from bot.config import parse_config
from bot.installs.workspace import WorkspaceKey
from bot.linking.links import AccountLinks
from bot.linking.requests import MAX_PENDING, LinkRequests
from bot.runtime import build_adapters, build_services
from bot.slack_users import SlackUser, StaticUserDirectory
from bot.store import MemoryStore
from handlers.context import Services
from handlers.linking.home import MAX_LINKED, MAX_PENDING_SHOWN, people_blocks
from handlers.reply import Reply
from tests.fakes.slack_api import check_blocks

ONE = WorkspaceKey(None, "T1")


def services(links: AccountLinks) -> Services:
    vendors = {"dstny": {"base_url": "http://127.0.0.1:9", "token": "t", "domain": "example.com", "user": "pb"}}
    config = parse_config({"vendors": vendors, "admins": ["UADMIN"]}, source="test", env={})
    slack = StaticUserDirectory(
        [SlackUser(id="UADMIN", name="Ada", email=None, tz=None), SlackUser(id="U1", name="Bo", email=None, tz=None)]
    )
    built = build_services(config, store=links.store, adapters=build_adapters(config), users=slack, links=links)
    return built.for_request(None, ONE)  # type: ignore[arg-type]


async def test_admins_see_a_bounded_people_section_and_others_none() -> None:
    store = MemoryStore()
    links = AccountLinks(store, None)
    requests = LinkRequests(store, links)
    for n in range(60):
        await links.put(ONE.data_prefix, f"UL{n:02d}", vendor="dstny", user_id=f"l{n}", how="directory")
    for n in range(MAX_PENDING):
        await requests.ask(ONE.data_prefix, f"UP{n:02d}", vendor="dstny", user_id=f"p{n}", name="<!channel> & co")
    here = services(links)

    blocks = [block.to_dict() for block in await people_blocks(here, user_id="UADMIN", me=Reply(text="x"))]
    text = str(blocks)
    assert check_blocks(blocks, max_blocks=70) == []  # leaves room on the 100-block Home tab
    assert text.count("'Approve'") == MAX_PENDING_SHOWN and f"and {MAX_PENDING - MAX_PENDING_SHOWN} more" in text
    assert text.count("'Unlink'") == MAX_LINKED and f"60 people are linked; the first {MAX_LINKED}" in text
    assert "&lt;!channel&gt; &amp; co" in text and "<!channel>" not in text  # vendor-ish text escaped
    assert "Changing it needs `PHONEBOT_SECRET_KEY`" in text and "Turn approval" not in text  # no settings store

    assert "People" not in str([b.to_dict() for b in await people_blocks(here, user_id="U1", me=Reply(text="x"))])
    for adapter in here.adapters.values():
        await adapter.aclose()

"""Account links (issue 11 points 7 and 9, the store and resolver part): sealed tokens, per workspace, used by /call."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.fernet import Fernet

from adapters.relatel.oauth import RelatelOAuthClient
from adapters.relatel.simulator import ADMIN_TOKEN, RelatelSimulator
from adapters.simulation import LoopbackServer
from bot.config import parse_config
from bot.installs.forget import WorkspaceForgetter
from bot.installs.workspace import WorkspaceKey
from bot.linking.links import AccountLinks, LinkTokenWithoutKey
from bot.runtime import build_adapters, build_services
from bot.secret_box import SecretBox
from bot.slack_users import SlackUser, StaticUserDirectory
from bot.store import MemoryStore
from handlers.context import Services
from handlers.phonebot import whoami
from tests.fakes.relatel_oauth import REDIRECT

ONE = WorkspaceKey(None, "T1")
OTHER = WorkspaceKey(None, "T2")


def box() -> SecretBox:
    return SecretBox([Fernet.generate_key().decode()])


async def test_a_token_is_sealed_at_rest_and_opened_on_read() -> None:
    store = MemoryStore()
    links = AccountLinks(store, box())
    await links.put(ONE.data_prefix, "U1", vendor="relatel", user_id="2", how="oauth", token="tok-secret-1")
    raw = await store.get(AccountLinks.key(ONE.data_prefix, "U1"))
    assert raw is not None and "tok-secret-1" not in raw
    link = await links.get(ONE.data_prefix, "U1")
    assert link is not None and (link.vendor, link.user_id, link.how, link.token) == (
        "relatel",
        "2",
        "oauth",
        "tok-secret-1",
    )
    assert "tok-secret-1" not in repr(link)


async def test_no_key_means_no_tokens_kept_and_a_lost_key_means_not_linked() -> None:
    store = MemoryStore()
    with pytest.raises(LinkTokenWithoutKey):
        await AccountLinks(store, None).put(
            ONE.data_prefix, "U1", vendor="relatel", user_id="2", how="oauth", token="t"
        )
    await AccountLinks(store, None).put(ONE.data_prefix, "U2", vendor="dstny", user_id="bob", how="directory")
    assert (await AccountLinks(store, None).get(ONE.data_prefix, "U2")) is not None  # no token: no key needed
    await AccountLinks(store, box()).put(ONE.data_prefix, "U1", vendor="relatel", user_id="2", how="oauth", token="t")
    assert await AccountLinks(store, box()).get(ONE.data_prefix, "U1") is None  # another key: unreadable, unlinked


async def test_links_are_per_workspace_and_go_with_an_uninstall() -> None:
    store = MemoryStore()
    links = AccountLinks(store, box())
    await links.put(ONE.data_prefix, "U1", vendor="relatel", user_id="2", how="oauth", token="t1")
    assert await links.get(OTHER.data_prefix, "U1") is None
    await WorkspaceForgetter(store).forget_workspace(ONE)
    assert await links.get(ONE.data_prefix, "U1") is None


def relatel_services(
    oauth_server: LoopbackServer, links: AccountLinks, *, users_yaml: list[dict[str, str]]
) -> Services:
    vendors = {"relatel": {"base_url": oauth_server.url + "/api/v2", "token": ADMIN_TOKEN}}
    config = parse_config({"vendors": vendors, "users": users_yaml}, source="test", env={})
    slack = StaticUserDirectory(
        [SlackUser(id="U1", name="Bob", email=None, tz=None), SlackUser(id="U9", name="Alice", email=None, tz=None)]
    )
    services = build_services(config, store=links.store, adapters=build_adapters(config), users=slack, links=links)
    return services.for_request(None, ONE)  # type: ignore[arg-type]


async def test_a_user_linked_by_oauth_calls_with_their_own_token(
    oauth_sim: RelatelSimulator, oauth_server: LoopbackServer
) -> None:
    """The path the Link button starts: consent at Relatel, the token kept, then /call rings *their* phone."""
    flow = RelatelOAuthClient(
        base_url=oauth_server.url + "/api/v2", client_id="app-1", client_secret="s3cret", redirect_uri=REDIRECT
    )
    back = httpx.get(flow.authorize_url("st"), follow_redirects=False).headers["location"]
    token = await flow.exchange(parse_qs(urlsplit(back).query)["code"][0])
    links = AccountLinks(MemoryStore(), box())
    await links.put(ONE.data_prefix, "U1", vendor="relatel", user_id="2", how="oauth", name="Bob Berg", token=token)
    services = relatel_services(
        oauth_server, links, users_yaml=[{"slack": "U9", "vendor": "relatel", "vendor_user": "1"}]
    )
    linked = await services.identities.resolve("U1")
    assert (linked.how, linked.identity.user_id, linked.identity.token) == ("oauth", "2", token)
    await linked.adapter.dial(linked.identity, "+4571999999")
    assert [dial.employee_id for dial in oauth_sim.dials] == [2]  # Bob's phone, not the admin token's owner
    reply = await whoami(services, user_id="U1")
    assert "you linked your own Relatel account" in reply.text and "with your own token" in reply.text
    await linked.adapter.aclose()


async def test_the_config_file_wins_over_a_link(oauth_server: LoopbackServer) -> None:
    links = AccountLinks(MemoryStore(), box())
    await links.put(ONE.data_prefix, "U1", vendor="relatel", user_id="2", how="oauth", token="t")
    services = relatel_services(
        oauth_server, links, users_yaml=[{"slack": "U1", "vendor": "relatel", "vendor_user": "3"}]
    )
    linked = await services.identities.resolve("U1")
    assert (linked.how, linked.identity.user_id) == ("config", "3")
    await linked.adapter.aclose()

"""Listen links: issued only where phonebot can play the voicemail, and only for voicemails."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import httpx
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.routing import Route

from adapters.models import UserTokens
from adapters.relatel.adapter import RelatelAdapter, RelatelConfig
from adapters.relatel.simulator import RelatelSimulator, voicemail_audio
from adapters.simulation import LoopbackServer
from adapters.tele2.adapter import Tele2Adapter, Tele2Config
from bot.alerts.listen import ListenLinks, revoke_all_links, revoke_link
from bot.simulate import RELATEL_ADMIN_TOKEN as RELATEL_ADMIN
from bot.simulate import RELATEL_BOB_TOKEN as RELATEL_BOB
from bot.store.memory import MemoryStore
from bot.webhook_auth import UrlTokens
from handlers.alert_view import AlertState

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TOKENS = UrlTokens(b"unit-test-secret-0123456789")
ADAPTERS = {
    "relatel": RelatelAdapter(RelatelConfig(token="t")),
    "tele2": Tele2Adapter(Tele2Config(api_key="k")),
}


def state(vendor: str, family: str = "voicemail", **detail: object) -> AlertState:
    return AlertState(vendor=vendor, subject="s", family=family, first_at=T0, last_at=T0, detail=detail)  # type: ignore[arg-type]


def test_links_only_for_voicemails_of_vendors_phonebot_can_play() -> None:
    links = ListenLinks("https://pb.example.com/", TOKENS, ADAPTERS)
    url = links.url_for(state("relatel", voicemail_id="502"))
    assert url is not None and url.startswith("https://pb.example.com/voicemails/relatel/voicemail-502:")
    assert TOKENS.resource_for("relatel", url.rsplit("/", 1)[1]).startswith("voicemail-502:")
    assert links.url_for(state("tele2", voicemail_id="7001")) is None  # Tele2 gives its own link
    assert links.url_for(state("relatel", family="lost_call", voicemail_id="502")) is None
    assert links.url_for(state("relatel")) is None  # no id, no link
    assert links.url_for(state("relatel", voicemail_id="not a valid/token id")) is None


def test_no_public_url_no_link() -> None:
    assert ListenLinks(None, TOKENS, ADAPTERS).url_for(state("relatel", voicemail_id="502")) is None


# -- serving: expiry, revocation, content type, one vendor call ----------------------------------
class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def relatel() -> Iterator[tuple[RelatelSimulator, str]]:
    sim = RelatelSimulator()
    with LoopbackServer(sim.build_app()) as server:
        yield sim, server.url


@pytest.fixture
async def served(
    relatel: tuple[RelatelSimulator, str],
) -> AsyncIterator[tuple[ListenLinks, httpx.AsyncClient, RelatelSimulator, _Clock]]:
    sim, url = relatel
    adapter = RelatelAdapter(RelatelConfig(base_url=url + "/api/v2", token=RELATEL_ADMIN))
    store = MemoryStore()
    clock = _Clock(T0.timestamp())
    owners = {"relatel": UserTokens(by_user={"2": SecretStr(RELATEL_BOB)})}
    links = ListenLinks(
        "https://pb.example.com", TOKENS, {"relatel": adapter}, store=store, clock=clock, owner_tokens=owners
    )
    app = Starlette(routes=[Route("/voicemails/{vendor}/{token}", links.serve)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://pb.example.com") as client:
        yield links, client, sim, clock
    await adapter.aclose()
    await store.close()


def _voicemail(sim: RelatelSimulator, *, employee: int | None = None) -> tuple[str, AlertState]:
    voicemail = sim.add_voicemail("+4520000001", employee=employee)
    return str(voicemail["id"]), state("relatel", voicemail_id=str(voicemail["id"]))


def _plain_page(answer: httpx.Response, status: int) -> str:
    """The answer is phonebot's own short text page, safe to show on phonebot's origin."""
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith("text/plain")
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in answer.headers["content-security-policy"]
    return answer.text


def _sound_calls(sim: RelatelSimulator) -> int:
    return sum(1 for request in sim.requests if request.path.endswith("/sound"))


async def test_audio_is_served_as_audio_with_nosniff_and_fetched_once_for_many_requests(
    served: tuple[ListenLinks, httpx.AsyncClient, RelatelSimulator, _Clock],
) -> None:
    links, client, sim, _ = served
    voicemail_id, alert = _voicemail(sim)
    url = links.url_for(alert)
    assert url is not None

    answers = []
    for _ in range(15):  # 300 GETs, 20 at a time: concurrent ones share a fetch, later ones the cache
        answers += await asyncio.gather(*(client.get(url) for _ in range(20)))

    assert {answer.status_code for answer in answers} == {200}
    assert answers[0].headers["content-type"] == "audio/mpeg"
    assert answers[0].headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in answers[0].headers["content-security-policy"]
    assert answers[0].content == voicemail_audio(int(voicemail_id))
    assert _sound_calls(sim) == 1  # a leaked link can't drain the vendor's rate limit


async def test_a_vendor_body_that_is_not_audio_is_never_served(
    served: tuple[ListenLinks, httpx.AsyncClient, RelatelSimulator, _Clock],
) -> None:
    links, client, sim, _ = served
    sim.sound_media_type = "text/html"
    _, alert = _voicemail(sim)
    answer = await client.get(links.url_for(alert) or "")
    assert "isn't a recording" in _plain_page(answer, 502)


async def test_links_expire_and_are_revocable_without_rotating_the_secret(
    served: tuple[ListenLinks, httpx.AsyncClient, RelatelSimulator, _Clock],
) -> None:
    links, client, sim, clock = served
    voicemail_id, alert = _voicemail(sim)
    old = links.url_for(alert) or ""
    assert (await client.get(old)).status_code == 200

    clock.now += 7 * 24 * 3600 + 1  # the default lifetime: 7 days
    assert (await client.get(old)).status_code == 404
    fresh = links.url_for(alert) or ""
    assert (await client.get(fresh)).status_code == 200

    assert links.store is not None
    await revoke_all_links(links.store, now=clock.now)
    assert (await client.get(fresh)).status_code == 404  # revoked, though the webhook secret is the same
    clock.now += 2
    newer = links.url_for(alert) or ""
    assert (await client.get(newer)).status_code == 200  # links issued after the revocation work

    await revoke_link(links.store, "relatel", voicemail_id, lifetime_seconds=links.lifetime_seconds)
    assert (await client.get(newer)).status_code == 404
    _, other = _voicemail(sim)
    assert (await client.get(links.url_for(other) or "")).status_code == 200  # only that voicemail


# -- a personal mailbox plays only with its owner's token (Relatel: "Only a number's own user may
# -- hear its recordings", GoatSmile/jensen-fms src/lib/inbound/call-import/relatel.ts) -----------
async def test_a_personal_voicemail_plays_with_its_owners_token(
    served: tuple[ListenLinks, httpx.AsyncClient, RelatelSimulator, _Clock],
) -> None:
    links, client, sim, _ = served
    voicemail_id, alert = _voicemail(sim, employee=2)
    answer = await client.get(links.url_for(alert) or "")
    assert answer.status_code == 200 and answer.content == voicemail_audio(int(voicemail_id))
    assert [r.authorization for r in sim.requests if r.path.endswith("/sound")] == [f"Bearer {RELATEL_BOB}"]


async def test_without_the_owners_token_the_page_says_so_and_no_audio_is_fetched(
    served: tuple[ListenLinks, httpx.AsyncClient, RelatelSimulator, _Clock],
) -> None:
    links, client, sim, _ = served
    _, alert = _voicemail(sim, employee=3)  # Carol's mailbox: phonebot holds no token of hers
    text = _plain_page(await client.get(links.url_for(alert) or ""), 403)
    assert text.startswith("phonebot can't play this voicemail. Relatel plays a personal voicemail only to its owner")
    assert "Listen to it in Relatel" in text
    assert not [r for r in sim.requests if r.path.endswith("/sound")]


async def test_every_failure_is_a_plain_page_in_phonebots_words(
    served: tuple[ListenLinks, httpx.AsyncClient, RelatelSimulator, _Clock],
) -> None:
    links, client, sim, clock = served
    voicemail_id, alert = _voicemail(sim)
    url = links.url_for(alert) or ""
    leak = {"status": "failure", "message": "internal: mailbox acl row 77 for Reception#10"}
    sim.respond_with("GET", f"/voice_mails/{voicemail_id}/sound", leak, status=500)
    down = _plain_page(await client.get(url), 502)
    assert down.startswith("Relatel didn't hand over the recording just now") and "acl" not in down
    sim.respond_with("GET", f"/voice_mails/{voicemail_id}/sound", leak, status=403)
    links.audio.forget("relatel", voicemail_id)
    refused = _plain_page(await client.get(url), 403)
    assert refused.startswith("Relatel refused to hand phonebot this recording") and "acl" not in refused
    sim.delete_voicemail(int(voicemail_id))
    assert "isn't in Relatel any more" in _plain_page(await client.get(url), 404)
    clock.now += 8 * 24 * 3600
    assert "isn't valid any more" in _plain_page(await client.get(url), 404)

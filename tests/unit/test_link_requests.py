"""Pending directory picks and the links' owner index (issue 11 point 8): bounds, TTL, one per user, no claiming."""

from __future__ import annotations

import pytest

from adapters.models import VendorUser
from bot.installs.workspace import WorkspaceKey
from bot.linking.directory import OFFER_SECONDS, DirectoryLinking, SearchOffer
from bot.linking.links import AccountLinks, AlreadyLinked
from bot.linking.requests import MAX_PENDING, REQUEST_SECONDS, LinkRequest, LinkRequests, Refused
from bot.store import MemoryStore

P = WorkspaceKey(None, "T1").data_prefix
OTHER = WorkspaceKey(None, "T2").data_prefix


def parts() -> tuple[MemoryStore, AccountLinks, LinkRequests]:
    store = MemoryStore()
    links = AccountLinks(store, None)
    return store, links, LinkRequests(store, links)


async def test_one_request_per_user_kept_for_fourteen_days_and_taken_once() -> None:
    store, _, requests = parts()
    await requests.ask(P, "U1", vendor="dstny", user_id="bob", name="Bob")
    asked = await requests.ask(P, "U1", vendor="dstny", user_id="sam", name="Sam")
    assert isinstance(asked, LinkRequest)
    assert await requests.count(P) == 1 and (await requests.pending(P, limit=5))[1] == 1
    held = await requests.get(P, "U1")
    assert held is not None and held.user_id == "sam"  # the later pick replaced the earlier
    ttl = await store.ttl(LinkRequests.key(P, "U1"))
    assert ttl is not None and REQUEST_SECONDS - 5 < ttl <= REQUEST_SECONDS
    assert await requests.count(OTHER) == 0  # per workspace
    assert await requests.take(P, "U1") is not None and await requests.take(P, "U1") is None


async def test_a_workspace_holds_at_most_max_pending_requests() -> None:
    _, _, requests = parts()
    for n in range(MAX_PENDING):
        assert isinstance(await requests.ask(P, f"U{n}", vendor="dstny", user_id=f"u{n}"), LinkRequest)
    assert await requests.ask(P, "UNEW", vendor="dstny", user_id="x") == Refused("full")
    assert isinstance(await requests.ask(P, "U3", vendor="dstny", user_id="y"), LinkRequest)  # a re-pick still fits
    shown, total = await requests.pending(P, limit=10)
    assert len(shown) == 10 and total == MAX_PENDING


async def test_a_phone_user_linked_to_someone_else_cannot_be_asked_for_or_claimed() -> None:
    _, links, requests = parts()
    await links.put(P, "U1", vendor="dstny", user_id="sam", how="directory", exclusive=True)
    assert await requests.ask(P, "U2", vendor="dstny", user_id="sam") == Refused("taken", "U1")
    assert isinstance(await requests.ask(P, "U1", vendor="dstny", user_id="sam"), LinkRequest)  # their own
    with pytest.raises(AlreadyLinked) as taken:
        await links.put(P, "U2", vendor="dstny", user_id="sam", how="directory", exclusive=True)
    assert taken.value.owner == "U1"
    assert isinstance(await requests.ask(OTHER, "U2", vendor="dstny", user_id="sam"), LinkRequest)  # per workspace


async def test_the_owner_index_follows_relinks_and_unlinks() -> None:
    _, links, _ = parts()
    await links.put(P, "U1", vendor="dstny", user_id="sam", how="directory", exclusive=True)
    await links.put(P, "U1", vendor="dstny", user_id="bob", how="directory", exclusive=True)  # U1 moves to bob
    assert await links.owner_of(P, "dstny", "sam") is None and await links.owner_of(P, "dstny", "bob") == "U1"
    await links.put(P, "U2", vendor="dstny", user_id="sam", how="directory", exclusive=True)  # sam is free again
    assert await links.remove(P, "U1") and await links.owner_of(P, "dstny", "bob") is None
    linked, total = await links.linked(P, limit=10)
    assert [(user, link.user_id) for user, link in linked] == [("U2", "sam")] and total == 1


async def offer(store: MemoryStore, searcher: str, *users: str) -> None:
    found = SearchOffer(vendor="dstny", users=[VendorUser(user_id=u, name=u.title()) for u in users])
    await store.set(f"{P}link-offer:{searcher}", found.model_dump_json(), ttl=OFFER_SECONDS)


async def test_a_pick_must_be_from_the_pickers_own_search_and_approval_rechecks_the_owner() -> None:
    store, links, _ = parts()
    linking = DirectoryLinking(store, links, P)
    await offer(store, "U1", "sam")
    assert (await linking.pick("U1", "carol", approval=True)).outcome == "not_offered"
    assert (await linking.pick("U2", "sam", approval=True)).outcome == "not_offered"  # U1's search, not U2's
    assert (await linking.pick("U1", "sam", approval=True)).outcome == "pending"
    await offer(store, "U2", "sam")
    assert (await linking.pick("U2", "sam", approval=False)).outcome == "linked"  # approval off: at once
    taken = await linking.approve("U1")  # meanwhile U2 took sam
    assert (taken.outcome, taken.owner) == ("taken", "U2") and await links.get(P, "U1") is None
    assert (await linking.approve("U1")).outcome == "gone"
    await offer(store, "UADMIN", "sam")
    moved = await linking.link_by_admin("UADMIN", "U1", "sam")  # an admin moves sam to U1
    assert (moved.outcome, moved.owner) == ("linked", "U2")
    assert await links.get(P, "U2") is None and await links.owner_of(P, "dstny", "sam") == "U1"
    link = await links.get(P, "U1")
    assert link is not None and link.how == "admin"

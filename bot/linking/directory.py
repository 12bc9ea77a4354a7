"""Linking people of a phone system without per-user OAuth (Dstny, Tele2): directory picks and admins.

A person searches the vendor's directory and picks themselves; the matches they were shown are kept
for ``OFFER_SECONDS`` (``<prefix>link-offer:<Slack user id>``) and a pick must be one of them, so a
crafted submission can't name a phone-system user the search never offered. The pick waits for an
admin (:mod:`bot.linking.requests`) unless the workspace turned approval off; then it links at once
(``how="directory"``), but never a phone-system user another Slack user is linked to. Admins approve,
deny, link anyone (``how="admin"``, moving the phone-system user from whoever had it) and unlink.

This module trusts its caller to have checked who is an admin; the handlers re-check on every click.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from adapters.base import VendorAdapter
from adapters.models import VendorUser
from bot.installs.workspace import WorkspaceKey
from bot.linking.links import MAX_FIELD, AccountLinks, AlreadyLinked
from bot.linking.requests import LinkRequest, LinkRequests, Refused
from bot.store import Store
from bot.workspaces.settings import WorkspaceSettingsStore

#: Matches shown for one search: a modal's radio buttons, of which Slack allows 10 in one group.
MAX_MATCHES = 10
#: What a person may type to search.
MAX_QUERY = 80
#: Slack's limit on an option's value: a longer vendor user id can't be offered.
MAX_OPTION_VALUE = 150
#: How long the matches of a search can be picked from.
OFFER_SECONDS = 1800

Outcome = Literal["pending", "linked", "taken", "full", "gone", "not_offered"]


class SearchOffer(BaseModel):
    """The matches one person was last shown (their pick must be one of them)."""

    model_config = ConfigDict(extra="forbid")

    vendor: str = Field(max_length=64)
    users: list[VendorUser] = Field(max_length=MAX_MATCHES)


@dataclass(frozen=True)
class PickResult:
    """What became of a pick or an approval; ``owner`` is who holds the phone-system user when ``taken``."""

    outcome: Outcome
    user: VendorUser | None = None
    owner: str | None = None


async def approval_on(settings: WorkspaceSettingsStore | None, workspace: WorkspaceKey | None) -> bool:
    """Whether picks wait for an admin here (always, without a settings store to turn it off)."""
    if settings is None or workspace is None:
        return True
    return (await settings.load(workspace)).link_approval


#: The Slack user whose profile email an address is, if anyone's (``users.lookupByEmail``).
EmailOwner = Callable[[str], Awaitable[str | None]]


class DirectoryLinking:
    """Directory searches, picks, approvals and admin links for one workspace (``prefix``)."""

    def __init__(self, store: Store, links: AccountLinks, prefix: str) -> None:
        self.store = store
        self.links = links
        self.requests = LinkRequests(store, links)
        self.prefix = prefix

    def offer_key(self, searcher: str) -> str:
        """``<prefix>link-offer:<Slack user id of who searched>``."""
        return f"{self.prefix}link-offer:{searcher[:32]}"

    async def search(self, adapter: VendorAdapter, searcher: str, query: str) -> list[VendorUser]:
        """Up to ``MAX_MATCHES`` directory users matching ``query``, remembered as ``searcher``'s offer.

        Raises the adapter's errors (:class:`~adapters.errors.VendorError`) for the caller to explain.
        """
        needle = query.strip()[:MAX_QUERY]
        if not needle:
            return []
        found = await adapter.search_users(adapter.service_identity(), needle, limit=MAX_MATCHES)
        users = [_bounded(user) for user in found if 0 < len(user.user_id) <= MAX_OPTION_VALUE][:MAX_MATCHES]
        offer = SearchOffer(vendor=adapter.name, users=users)
        await self.store.set(self.offer_key(searcher), offer.model_dump_json(), ttl=OFFER_SECONDS)
        return users

    async def offered(self, searcher: str, user_id: str) -> tuple[str, VendorUser] | None:
        """``(vendor, user)`` when ``user_id`` was among the matches ``searcher`` was last shown."""
        raw = await self.store.get(self.offer_key(searcher))
        if raw is None:
            return None
        try:
            offer = SearchOffer.model_validate_json(raw)
        except ValidationError:
            return None
        user = next((u for u in offer.users if u.user_id == user_id), None)
        return (offer.vendor, user) if user is not None else None

    async def pick(
        self, slack_user: str, picked_user_id: str, *, approval: bool, email_owner: EmailOwner | None = None
    ) -> PickResult:
        """``slack_user`` says they are ``picked_user_id`` (from their last search).

        A directory user whose email is another Slack user's profile email is that person's (they are
        matched by it without any link), so nobody else can pick it: ``email_owner`` says whose it is.
        """
        offered = await self.offered(slack_user, picked_user_id)
        if offered is None:
            return PickResult("not_offered")
        vendor, user = offered
        if user.email and email_owner is not None:
            owner = await email_owner(user.email)
            if owner is not None and owner != slack_user:
                return PickResult("taken", user, owner)
        if approval:
            asked = await self.requests.ask(
                self.prefix, slack_user, vendor=vendor, user_id=user.user_id, name=user.name, number=user.number
            )
            if isinstance(asked, Refused):
                return PickResult("taken" if asked.reason == "taken" else "full", user, asked.owner)
            return PickResult("pending", user)
        try:
            await self.links.put(
                self.prefix,
                slack_user,
                vendor=vendor,
                user_id=user.user_id,
                how="directory",
                name=user.name,
                exclusive=True,
            )
        except AlreadyLinked as taken:
            return PickResult("taken", user, taken.owner)
        await self.store.delete(self.offer_key(slack_user), self.requests.key(self.prefix, slack_user))
        return PickResult("linked", user)

    async def approve(self, requester: str) -> PickResult:
        """Link ``requester`` as they asked (``how="directory"``), unless someone else has that user by now."""
        request = await self.requests.take(self.prefix, requester)
        if request is None:
            return PickResult("gone")
        user = VendorUser(user_id=request.user_id, name=request.name or request.user_id, number=request.number)
        try:
            await self.links.put(
                self.prefix,
                requester,
                vendor=request.vendor,
                user_id=request.user_id,
                how="directory",
                name=request.name,
                exclusive=True,
            )
        except AlreadyLinked as taken:
            return PickResult("taken", user, taken.owner)
        return PickResult("linked", user)

    async def deny(self, requester: str) -> LinkRequest | None:
        """Drop ``requester``'s request; the request, if there was one."""
        return await self.requests.take(self.prefix, requester)

    async def link_by_admin(self, admin: str, slack_user: str, picked_user_id: str) -> PickResult:
        """Link ``slack_user`` to a user from ``admin``'s last search; whoever had it is unlinked (``owner``)."""
        offered = await self.offered(admin, picked_user_id)
        if offered is None:
            return PickResult("not_offered")
        vendor, user = offered
        owner = await self.links.owner_of(self.prefix, vendor, user.user_id)
        if owner is not None and owner != slack_user:
            await self.links.remove(self.prefix, owner)
        await self.links.put(self.prefix, slack_user, vendor=vendor, user_id=user.user_id, how="admin", name=user.name)
        await self.store.delete(self.offer_key(admin), self.requests.key(self.prefix, slack_user))
        return PickResult("linked", user, owner if owner != slack_user else None)

    async def unlink(self, slack_user: str) -> bool:
        """Unlink ``slack_user`` (any way they were linked here); whether they were."""
        return await self.links.remove(self.prefix, slack_user)


def _bounded(user: VendorUser) -> VendorUser:
    return user.model_copy(
        update={
            "name": (user.name or user.user_id)[:MAX_FIELD],
            # Kept (server-side, for the offer's 30 minutes) to tell whose phone this is; never shown.
            "email": user.email[:254] if user.email else None,
            "number": user.number[:40] if user.number else None,
        }
    )

"""People who picked themselves from a phone system's directory, waiting for an admin's approval.

One request per Slack user (a new pick replaces their earlier one), kept for ``REQUEST_SECONDS``
under the workspace's data prefix (``<prefix>link-request:<Slack user id>``), at most
``MAX_PENDING`` per workspace, so nobody can fill the store by picking over and over. A phone-system
user already linked to another Slack user can't be asked for: only an admin can move it. Approving
or denying *takes* the request, so two admins clicking at once act on it once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.linking.links import MAX_FIELD, AccountLinks
from bot.store import Store

log = logging.getLogger(__name__)

#: A request nobody answered is forgotten after 14 days.
REQUEST_SECONDS = 14 * 24 * 3600
#: Pending requests one workspace may have at once.
MAX_PENDING = 50


class LinkRequest(BaseModel):
    """A Slack user's pick: which phone-system user they say they are."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slack_user: str = Field(max_length=32)
    vendor: str = Field(max_length=64)
    user_id: str = Field(max_length=MAX_FIELD)
    name: str | None = Field(default=None, max_length=MAX_FIELD)
    number: str | None = Field(default=None, max_length=40)
    requested_at: datetime


@dataclass(frozen=True)
class Refused:
    """Why a pick was not kept: ``taken`` (linked to ``owner``) or ``full`` (too many pending)."""

    reason: str
    owner: str | None = None


class LinkRequests:
    """Reads and writes pending requests; ``links`` tells whether a phone-system user is taken."""

    def __init__(self, store: Store, links: AccountLinks) -> None:
        self.store = store
        self.links = links

    @staticmethod
    def key(prefix: str, slack_user_id: str) -> str:
        """``<workspace data prefix>link-request:<Slack user id>``."""
        return f"{prefix}link-request:{slack_user_id[:32]}"

    async def ask(
        self,
        prefix: str,
        slack_user_id: str,
        *,
        vendor: str,
        user_id: str,
        name: str | None = None,
        number: str | None = None,
        now: datetime | None = None,
    ) -> LinkRequest | Refused:
        """Keep the user's pick for an admin (replacing their earlier one), or say why not."""
        owner = await self.links.owner_of(prefix, vendor, user_id)
        if owner is not None and owner != slack_user_id:
            return Refused("taken", owner)
        key = self.key(prefix, slack_user_id)
        if await self.store.get(key) is None and await self.count(prefix) >= MAX_PENDING:
            return Refused("full")
        request = LinkRequest(
            slack_user=slack_user_id[:32],
            vendor=vendor,
            user_id=user_id,
            name=name[:MAX_FIELD] if name else None,
            number=number[:40] if number else None,
            requested_at=now or datetime.now(UTC),
        )
        await self.store.set(key, request.model_dump_json(), ttl=REQUEST_SECONDS)
        return request

    async def get(self, prefix: str, slack_user_id: str) -> LinkRequest | None:
        """The user's pending request, if any."""
        return _parse(await self.store.get(self.key(prefix, slack_user_id)))

    async def take(self, prefix: str, slack_user_id: str) -> LinkRequest | None:
        """Remove and return the user's request (at most one caller gets it)."""
        return _parse(await self.store.take(self.key(prefix, slack_user_id)))

    async def count(self, prefix: str) -> int:
        """How many requests the workspace has pending (counted up to ``MAX_PENDING + 1``)."""
        return len(await self.store.keys_with_prefix(self.key(prefix, ""), limit=MAX_PENDING + 1))

    async def pending(self, prefix: str, *, limit: int) -> tuple[list[LinkRequest], int]:
        """The oldest ``limit`` pending requests and how many there are."""
        keys = await self.store.keys_with_prefix(self.key(prefix, ""), limit=MAX_PENDING + 1)
        found = [request for key in keys if (request := _parse(await self.store.get(key))) is not None]
        found.sort(key=lambda request: request.requested_at)
        return found[:limit], len(found)


def _parse(raw: str | None) -> LinkRequest | None:
    if raw is None:
        return None
    try:
        return LinkRequest.model_validate_json(raw)
    except ValidationError:
        log.warning("a pending link request could not be read; dropping it from the list")
        return None

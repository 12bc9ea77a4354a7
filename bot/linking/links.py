"""Account links kept in the store, one per Slack user, under their workspace's data prefix.

A link says which phone-system user a Slack user is and how that was established: ``oauth`` (the
person granted phonebot access to their own account, e.g. Relatel's OAuth flow, and phonebot keeps
that token), ``directory`` (they picked themselves from the vendor's directory) or ``admin`` (an
admin linked them). Tokens are sealed with :class:`~bot.secret_box.SecretBox` before they are
stored; the link record itself carries no secret in the clear. Links live under
``WorkspaceKey.data_prefix``, so uninstalling the workspace forgets them with everything else
(:mod:`bot.installs.forget`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from adapters.redaction import SECRETS
from bot.secret_box import SecretBox, SecretUnreadable
from bot.store import Store

log = logging.getLogger(__name__)

LinkHow = Literal["oauth", "directory", "admin"]
MAX_FIELD = 200


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    vendor: str = Field(max_length=64)
    user_id: str = Field(max_length=MAX_FIELD)
    how: LinkHow
    name: str | None = Field(default=None, max_length=MAX_FIELD)
    sealed_token: str | None = Field(default=None, max_length=4096)
    linked_at: datetime


@dataclass(frozen=True)
class AccountLink:
    """One Slack user's link to a phone-system user (``token`` opened, when the link has one)."""

    vendor: str
    user_id: str
    how: LinkHow
    linked_at: datetime
    name: str | None = None
    token: str | None = field(default=None, repr=False)


class AlreadyLinked(Exception):
    """The phone-system user is linked to another Slack user (``owner``), and the link asked not to take it."""

    def __init__(self, owner: str) -> None:
        super().__init__("that phone-system user is linked to someone else")
        self.owner = owner


class LinkTokenWithoutKey(RuntimeError):
    """A link with a token was to be stored, but no ``PHONEBOT_SECRET_KEY`` is set to seal it."""


class AccountLinks:
    """Reads and writes links; ``box`` seals tokens (``None``: links without a token only)."""

    def __init__(self, store: Store, box: SecretBox | None) -> None:
        self.store = store
        self.box = box

    @staticmethod
    def key(prefix: str, slack_user_id: str) -> str:
        """``<workspace data prefix>link:<Slack user id>``."""
        return f"{prefix}link:{slack_user_id[:32]}"

    @staticmethod
    def owner_key(prefix: str, vendor: str, user_id: str) -> str:
        """``<workspace data prefix>link-owner:<vendor>:<vendor user id>`` → the Slack user linked to it."""
        return f"{prefix}link-owner:{vendor[:64]}:{user_id[:MAX_FIELD]}"

    async def owner_of(self, prefix: str, vendor: str, user_id: str) -> str | None:
        """The Slack user linked to ``vendor``'s ``user_id`` in this workspace, if any."""
        return await self.store.get(self.owner_key(prefix, vendor, user_id))

    async def linked(self, prefix: str, *, limit: int, scan: int = 1000) -> tuple[list[tuple[str, AccountLink]], int]:
        """Up to ``limit`` links of the workspace (by Slack user id), and how many there are (at most ``scan``).

        A store scan: for an admin's App Home, not for every request.
        """
        base = self.key(prefix, "")
        users = sorted(key.removeprefix(base) for key in await self.store.keys_with_prefix(base, limit=scan))
        found: list[tuple[str, AccountLink]] = []
        for slack_user_id in users[:limit]:
            link = await self.get(prefix, slack_user_id)
            if link is not None:
                found.append((slack_user_id, link))
        return found, len(users)

    async def get(self, prefix: str, slack_user_id: str) -> AccountLink | None:
        """The user's link, or ``None`` (also when the record or its token can no longer be read)."""
        raw = await self.store.get(self.key(prefix, slack_user_id))
        if raw is None:
            return None
        try:
            record = _Record.model_validate_json(raw)
        except ValidationError:
            log.warning("an account link could not be read; treating the user as not linked")
            return None
        token = None
        if record.sealed_token is not None:
            if self.box is None:
                log.warning("an account link has a token but PHONEBOT_SECRET_KEY is not set; not using it")
                return None
            try:
                token = self.box.open(record.sealed_token)
            except SecretUnreadable:
                log.warning("an account link's token was sealed with a key phonebot no longer has")
                return None
            SECRETS.add(token)  # masked wherever it might show up in a log line
        return AccountLink(record.vendor, record.user_id, record.how, record.linked_at, record.name, token)

    async def put(
        self,
        prefix: str,
        slack_user_id: str,
        *,
        vendor: str,
        user_id: str,
        how: LinkHow,
        name: str | None = None,
        token: str | None = None,
        now: datetime | None = None,
        exclusive: bool = False,
    ) -> AccountLink:
        """Link the user (replacing any earlier link of theirs); a ``token`` is sealed first.

        The phone-system user then names this Slack user as its owner. ``exclusive``: only when no other
        Slack user owns it (a person picking themselves can't take a colleague's phone); otherwise the
        earlier owner's link is left as it was and only the owner record moves.

        Raises:
            LinkTokenWithoutKey: ``token`` given but there is no key to seal it with.
            AlreadyLinked: ``exclusive`` and another Slack user owns the phone-system user.
        """
        if token is not None and self.box is None:
            raise LinkTokenWithoutKey("set PHONEBOT_SECRET_KEY to keep people's own tokens")
        owner_key = self.owner_key(prefix, vendor, user_id)
        if exclusive and not await self.store.set_if_absent(owner_key, slack_user_id):
            owner = await self.store.get(owner_key)
            if owner is not None and owner != slack_user_id:
                raise AlreadyLinked(owner)
        earlier = await self._owned(prefix, slack_user_id)
        if earlier is not None and earlier != (vendor, user_id):
            await self._drop_owner(prefix, slack_user_id, earlier)
        await self.store.set(owner_key, slack_user_id)
        if token is not None:
            SECRETS.add(token)
        at = now or datetime.now(UTC)
        record = _Record(
            vendor=vendor,
            user_id=user_id,
            how=how,
            name=name[:MAX_FIELD] if name else None,
            sealed_token=self.box.seal(token) if token is not None and self.box is not None else None,
            linked_at=at,
        )
        await self.store.set(self.key(prefix, slack_user_id), record.model_dump_json())
        return AccountLink(vendor, user_id, how, at, record.name, token)

    async def remove(self, prefix: str, slack_user_id: str) -> bool:
        """Unlink the user; whether there was a link."""
        earlier = await self._owned(prefix, slack_user_id)
        if earlier is not None:
            await self._drop_owner(prefix, slack_user_id, earlier)
        return bool(await self.store.delete(self.key(prefix, slack_user_id)))

    async def _owned(self, prefix: str, slack_user_id: str) -> tuple[str, str] | None:
        """``(vendor, vendor user id)`` of the user's link as stored (readable without the token's key)."""
        raw = await self.store.get(self.key(prefix, slack_user_id))
        if raw is None:
            return None
        try:
            record = _Record.model_validate_json(raw)
        except ValidationError:
            return None
        return record.vendor, record.user_id

    async def _drop_owner(self, prefix: str, slack_user_id: str, owned: tuple[str, str]) -> None:
        """Forget that ``slack_user_id`` owns the phone-system user ``owned`` (only if they still do)."""
        owner_key = self.owner_key(prefix, *owned)
        if await self.store.get(owner_key) == slack_user_id:
            await self.store.delete(owner_key)

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
    ) -> AccountLink:
        """Link the user (replacing any earlier link); a ``token`` is sealed first.

        Raises:
            LinkTokenWithoutKey: ``token`` given but there is no key to seal it with.
        """
        if token is not None and self.box is None:
            raise LinkTokenWithoutKey("set PHONEBOT_SECRET_KEY to keep people's own tokens")
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
        return bool(await self.store.delete(self.key(prefix, slack_user_id)))

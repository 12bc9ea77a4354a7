"""Secret URL tokens for vendors that sign nothing (Tele2, Multisender).

phonebot issues an unguessable token per resource and gives the vendor
``/webhooks/<vendor>/<token>/...``; only a hash of the token is stored, so a leaked store
does not leak working URLs. Vendors that sign bodies (Relatel) verify in their adapter.
"""

from __future__ import annotations

import hashlib
import secrets

from adapters.errors import WebhookAuthError
from bot.store import Store


class UrlTokens:
    """Unguessable per-resource webhook URL tokens; only their SHA-256 is stored."""

    PREFIX = "webhook-token:"

    def __init__(self, store: Store) -> None:
        self.store = store

    async def issue(self, vendor: str, resource: str) -> str:
        """A new token for ``vendor``'s ``resource`` (e.g. a campaign id)."""
        token = secrets.token_urlsafe(32)
        await self.store.set(self._key(vendor, token), resource)
        return token

    async def resource_for(self, vendor: str, token: str) -> str:
        """The resource a token was issued for; :class:`WebhookAuthError` when unknown."""
        if not token or len(token) > 128:
            raise WebhookAuthError("unknown webhook token")
        resource = await self.store.get(self._key(vendor, token))
        if resource is None:
            raise WebhookAuthError("unknown webhook token")
        return resource

    async def revoke(self, vendor: str, token: str) -> None:
        await self.store.delete(self._key(vendor, token))

    def _key(self, vendor: str, token: str) -> str:
        return f"{self.PREFIX}{vendor}:{hashlib.sha256(token.encode()).hexdigest()}"

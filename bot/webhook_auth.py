"""Secret URL tokens for vendors that sign nothing (Tele2, Multisender).

The vendor is given ``/webhooks/<vendor>/<resource>.<mac>/...`` where ``mac`` is an
HMAC-SHA256 of ``<vendor>:<resource>`` under phonebot's webhook secret. Nothing per token is
stored: every replica can check a URL, the same resource always gets the same URL (so
``phonebot webhooks sync`` finds and reuses its subscriptions), and rotating the secret
revokes every URL at once. The secret comes from ``PHONEBOT_WEBHOOK_SECRET`` or, when unset,
is generated once and kept in the store.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

from adapters.errors import WebhookAuthError
from bot.store import Store

SECRET_KEY = "phonebot:webhook-secret"
_RESOURCE = re.compile(r"^[A-Za-z0-9_:-]{1,64}$")


class UrlTokens:
    """Issues and checks per-resource webhook URL tokens."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the webhook secret must be at least 16 bytes")
        self._secret = secret

    @classmethod
    async def load(cls, store: Store, configured: str | None = None, *, scope: str = "") -> UrlTokens:
        """Tokens under ``configured``, else under a secret generated once and kept in ``store``.

        With a workspace ``scope`` (and ``store`` seen through it) each workspace has a secret of its own:
        ``configured`` is turned into one per scope, so one workspace's URL token is refused on another's URL.
        """
        if configured:
            if scope:
                return cls(hmac.new(configured.encode(), f"workspace:{scope}".encode(), hashlib.sha256).digest())
            return cls(configured.encode())
        await store.set_if_absent(SECRET_KEY, secrets.token_urlsafe(32))
        stored = await store.get(SECRET_KEY)
        assert stored is not None
        return cls(stored.encode())

    def token_for(self, vendor: str, resource: str) -> str:
        """The URL token for ``vendor``'s ``resource`` (e.g. ``account`` or ``rsvp-7``)."""
        if not _RESOURCE.match(resource):
            raise ValueError(f"resource {resource!r} must be 1-64 of A-Z a-z 0-9 _ : -")
        return f"{resource}.{self._mac(vendor, resource)}"

    def resource_for(self, vendor: str, token: str) -> str:
        """The resource ``token`` was issued for; :class:`WebhookAuthError` unless it is genuine."""
        resource, _, mac = token.rpartition(".")
        # Bytes, not str: compare_digest raises TypeError on non-ASCII str, and a token is attacker input.
        presented = mac.encode("utf-8", "surrogateescape")
        if not _RESOURCE.match(resource) or not hmac.compare_digest(presented, self._mac(vendor, resource).encode()):
            raise WebhookAuthError("unknown webhook token")
        return resource

    def _mac(self, vendor: str, resource: str) -> str:
        digest = hmac.new(self._secret, f"{vendor}:{resource}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

"""Authenticating vendor webhooks before anything is stored.

Two schemes, one per kind of vendor:

* **Signed bodies** (Relatel): ``Relatel-Signature: t=<unix ts>,v1=<hex>`` where
  ``v1 = HMAC-SHA256(secret, "<t>.<raw body>")``, compared in constant time, with a
  replay window on ``t``.
* **Secret URL tokens** (vendors that sign nothing, e.g. Multisender): phonebot issues an
  unguessable token per resource and gives the vendor ``/webhooks/<vendor>/<token>``; only a
  hash of the token is stored, so a leaked store does not leak working URLs.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable

from bot.store import Store

DEFAULT_TOLERANCE_SECONDS = 300


class WebhookAuthError(Exception):
    """The webhook is not from who it claims to be; answer 401 and store nothing."""


def relatel_signature(secret: str, body: bytes, timestamp: int) -> str:
    """The ``Relatel-Signature`` header value Relatel would send for ``body`` at ``timestamp``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_relatel_signature(
    secret: str,
    body: bytes,
    header: str | None,
    *,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
    clock: Callable[[], float] = time.time,
) -> None:
    """Raise :class:`WebhookAuthError` unless ``header`` signs ``body`` with ``secret`` recently."""
    if not header:
        raise WebhookAuthError("missing Relatel-Signature header")
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        raise WebhookAuthError("malformed Relatel-Signature header") from None
    if abs(clock() - timestamp) > tolerance:
        raise WebhookAuthError("Relatel-Signature timestamp outside the replay window")
    expected = relatel_signature(secret, body, timestamp).split("v1=", 1)[1]
    # Several v1 values may be present while a secret is being rotated.
    if not any(hmac.compare_digest(expected, candidate) for candidate in parts.get("v1", [])):
        raise WebhookAuthError("Relatel-Signature does not match")


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

"""Relatel webhook signatures.

``Relatel-Signature: t=<unix ts>,v1=<hex>`` where ``v1 = HMAC-SHA256(secret, "<t>.<raw body>")``,
compared in constant time over the raw bytes, with a replay window on ``t``. Several ``v1``
values may be present while a secret is being rotated.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable

from adapters.errors import WebhookAuthError

DEFAULT_TOLERANCE_SECONDS = 300


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
    expected = relatel_signature(secret, body, timestamp).split("v1=", 1)[1].encode()
    # Several v1 values may be present while a secret is being rotated. Compared as bytes: the header is
    # attacker input, and compare_digest raises TypeError on non-ASCII str.
    candidates = (candidate.encode("utf-8", "surrogateescape") for candidate in parts.get("v1", []))
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise WebhookAuthError("Relatel-Signature does not match")

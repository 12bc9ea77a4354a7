"""At most once per intent: a side effect (a dial) is claimed in the store before it is sent.

A user's intent has a key: for a button, who clicked which button on which message
(:func:`click_key`); for a Slack request, the request itself (:func:`delivery_key`, used by
the delivery middleware in ``handlers/bolt.py``). The first claimant wins an atomic
``set_if_absent`` with a TTL; a second click, a re-sent request or a Slack retry finds the
key taken and does nothing. Keys are hashes, so whatever Slack or a vendor put in a
button value, they stay short.

A claim is given back only when the failure proves the vendor did nothing (refused at the
door: 4xx, connection refused, a connect timeout), so the user can simply click again.
When the outcome is unknown (the request went out and no answer came) the claim stays:
clicking again must not ring the phone a second time.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from adapters.errors import IdentityError, VendorError
from bot.store import Store

#: How long a click on one button counts as the same intent (a double click, an impatient
#: second click). After that, clicking again means "call again".
CLICK_WINDOW_SECONDS = 60.0
#: Slack refuses a signed request older than 5 minutes; a re-sent copy is recognised for
#: twice that, since the timestamp may be up to 5 minutes off either way.
DELIVERY_WINDOW_SECONDS = 600.0


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def click_key(*, user_id: str, action: str, container: str, value: str) -> str:
    """The intent of one user's click on one button (``action`` + ``value``) of one message or view."""
    return f"intent:click:{_digest(user_id, action, container, value)}"


def delivery_key(raw_body: str) -> str:
    """The identity of one Slack request: its signed body (which carries a unique ``trigger_id``).

    A retry (``X-Slack-Retry-Num``) or a re-sent copy has the same body, whatever its timestamp.
    """
    return f"intent:delivery:{_digest(raw_body)}"


def never_happened(exc: BaseException) -> bool:
    """True when ``exc`` proves the vendor did nothing, so the intent may be tried again."""
    if isinstance(exc, IdentityError):
        return True
    if isinstance(exc, VendorError):
        return not exc.outcome_unknown
    return False  # a bug or a cancellation mid-request: the write may be out


class Intents:
    """Claims intent keys in the store (Redis, or the embedded store)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def claim(self, key: str, *, ttl: float) -> bool:
        """True for the first claimant of ``key`` within ``ttl`` seconds; atomic."""
        return await self.store.set_if_absent(key, "1", ttl=ttl)

    async def release(self, key: str) -> None:
        """Give ``key`` back (the side effect provably did not happen)."""
        await self.store.delete(key)

    @asynccontextmanager
    async def once(self, key: str, *, ttl: float) -> AsyncIterator[bool]:
        """Run the body's side effect at most once per ``key``.

        Yields True to the first claimant (do it) and False to any later one (say it is
        already under way). If the body raises an error proving nothing happened, the claim
        is released; any other error keeps it.
        """
        if not await self.claim(key, ttl=ttl):
            yield False
            return
        try:
            yield True
        except BaseException as exc:
            if never_happened(exc):
                await self.release(key)
            raise

"""Finding a message whose post had no certain outcome, before posting it again.

Slack has no idempotency key for ``chat.postMessage``. When a post times out, the connection
breaks after the request went out, or the process or Redis dies while it is in flight, the
message may or may not be in the channel. The worker records an *intent* (a nonce and the
time) before every post and sends the nonce in the message's metadata
(:func:`alert_metadata`); when an intent is still open, :class:`PostFinder` reads the channel
with ``conversations.history`` (``include_all_metadata``) around the intent's time and returns
the message's ``ts`` if it is there, so the worker adopts it instead of posting again.

Slack's limits shape this (https://api.slack.com/changelog/2025-05-terms-rate-limit-update-and-faq,
https://api.slack.com/apis/rate-limits): for apps not approved for the Slack Marketplace,
``conversations.history`` is Tier 1-like — **one request per minute** per method per workspace —
and returns **at most 15 messages per page**. So:

* reads are batched per channel: one read records every phonebot message in its time window,
  and answers every open intent in that channel whose time it covers;
* reads are spaced ``interval`` seconds apart across all channels, and a 429 holds them off for
  ``Retry-After``; until a read can answer it, a lookup raises :class:`LookupPending` (the entry
  stays pending; it is neither posted again nor counted as a failed attempt);
* a window is bounded on both sides (``skew`` for clock differences, ``settle`` for Slack still
  working on a request we stopped waiting for), and pages are followed one read at a time.

If the channel can't be read at all (``not_in_channel`` — phonebot posts to public channels it
was never invited to — or a missing ``channels:history``/``groups:history`` scope), the lookup
says "not found" and logs a warning: posting again risks a double, not posting would lose it.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.alerts.delivery import DeliveryFailed, error_code, retry_after

log = logging.getLogger(__name__)

ALERT_EVENT_TYPE = "phonebot_alert"
#: Messages per ``conversations.history`` page: Slack's cap for apps outside the Marketplace.
PAGE_LIMIT = 15
#: A channel phonebot may not read is not tried again for this long (each try costs a history request).
UNREADABLE_RETRY_SECONDS = 600.0


def new_nonce() -> str:
    """A fresh id for one post attempt, sent in the message's metadata."""
    return uuid.uuid4().hex[:16]


def alert_metadata(subject_key: str, nonce: str | None) -> dict[str, Any]:
    """The ``metadata`` phonebot sends with an alert message: which subject, which post."""
    payload: dict[str, str] = {"subject": subject_key}
    if nonce is not None:
        payload["post"] = nonce
    return {"event_type": ALERT_EVENT_TYPE, "event_payload": payload}


class LookupPending(DeliveryFailed):
    """Whether an earlier post landed can't be told yet; ask again in ``retry_in`` seconds."""

    def __init__(self, reason: str, *, retry_in: float) -> None:
        super().__init__(reason, permanent=False)
        self.retry_in = max(0.05, retry_in)


@dataclass
class _Scan:
    """One channel's read of the window ``[oldest, latest]`` (Slack ts), page by page."""

    oldest: float
    latest: float
    started: float
    cursor: str | None = None
    complete: bool = False
    seen: dict[str, str] = field(default_factory=dict)  # post nonce -> ts

    def covers(self, since: float, *, skew: float, settle: float) -> bool:
        return self.oldest <= since - skew and since + settle + skew <= self.latest and since + settle <= self.started


class PostFinder:
    """Looks up posts with an open intent, batched per channel and within Slack's history limits.

    Args:
        client: The bot's Slack client.
        interval: Least seconds between two ``conversations.history`` requests (all channels).
        settle: Seconds after an intent before a read counts as conclusive for it (Slack may
            still be handling a request we stopped waiting for); twice the client timeout suits.
        skew: Seconds of clock difference between phonebot and Slack allowed for.
        clock: Wall clock in seconds (Slack's ``ts`` are wall-clock seconds).
    """

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        interval: float = 60.0,
        settle: float = 20.0,
        skew: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.interval = interval
        self.settle = settle
        self.skew = skew
        self.clock = clock
        self._wanted: dict[str, dict[str, float]] = {}  # channel -> nonce -> intent time
        self._scans: dict[str, _Scan] = {}
        self._unreadable: dict[str, float] = {}  # channel -> when to try reading it again
        self._next_read_at = 0.0
        self._reading = asyncio.Lock()

    def now(self) -> float:
        """The time to stamp an intent with."""
        return self.clock()

    async def find(self, channel: str, nonce: str, since: float) -> str | None:
        """The ``ts`` of the message posted with ``nonce`` at about ``since``; ``None`` if it isn't there.

        Raises:
            LookupPending: no read can answer yet (too soon after the intent, rate limit, more pages).
        """
        if self._unreadable.get(channel, 0.0) > self.clock():
            return None
        self._wanted.setdefault(channel, {})[nonce] = since
        async with self._reading:
            answer = self._answer(channel, nonce, since)
            if answer is not None:
                return self._done(channel, nonce, answer[0])
            now = self.clock()
            ready_at = max(since + self.settle, self._next_read_at)
            if now < ready_at:
                raise LookupPending("waiting to look for an unconfirmed post", retry_in=ready_at - now)
            if not await self._read_page(channel):
                return self._done(channel, nonce, None)  # the channel can't be read: posting again is all we can do
            answer = self._answer(channel, nonce, since)
            if answer is not None:
                return self._done(channel, nonce, answer[0])
            raise LookupPending("more history to read", retry_in=max(0.0, self._next_read_at - self.clock()))

    def _done(self, channel: str, nonce: str, ts: str | None) -> str | None:
        self._wanted.get(channel, {}).pop(nonce, None)
        log.info("unconfirmed post %s in %s: %s", nonce, channel, f"found ({ts})" if ts else "not posted")
        return ts

    def _answer(self, channel: str, nonce: str, since: float) -> tuple[str | None] | None:
        scan = self._scans.get(channel)
        if scan is None:
            return None
        if nonce in scan.seen:
            return (scan.seen[nonce],)  # found is conclusive, even mid-scan
        if scan.complete and scan.covers(since, skew=self.skew, settle=self.settle):
            return (None,)
        return None

    async def _read_page(self, channel: str) -> bool:
        """Read the next page for ``channel`` (starting a new scan if needed); ``False`` if it can't be read."""
        scan = self._scans.get(channel)
        now = self.clock()
        if scan is None or scan.complete:
            wanted = self._wanted.get(channel, {})
            times = list(wanted.values())
            scan = _Scan(
                oldest=min(times) - self.skew,
                latest=max(times) + self.settle + self.skew,  # may lie ahead: Slack's clock may too
                started=now,
                seen={n: ts for n, ts in scan.seen.items() if n in wanted} if scan is not None else {},
            )
            self._scans[channel] = scan
        self._next_read_at = now + self.interval
        try:
            response = await self.client.conversations_history(
                channel=channel,
                oldest=f"{scan.oldest:.6f}",
                latest=f"{scan.latest:.6f}",
                inclusive=True,
                limit=PAGE_LIMIT,
                include_all_metadata=True,
                cursor=scan.cursor,
            )
        except SlackApiError as exc:
            error = error_code(exc.response)
            if exc.response.status_code == 429 or error == "ratelimited":
                self._next_read_at = self.clock() + retry_after(exc.response.headers)
                return True
            if exc.response.status_code >= 500:
                return True
            log.warning(
                "can't read %s to check for an unconfirmed post (%s); posting it again, which may double it. "
                "Invite phonebot to the channel and grant channels:history/groups:history",
                channel,
                error,
            )
            self._scans.pop(channel, None)
            self._unreadable[channel] = self.clock() + UNREADABLE_RETRY_SECONDS
            return False
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            log.warning("reading %s history failed (%s); trying again later", channel, type(exc).__name__)
            return True
        for message in response.get("messages") or []:
            nonce = _post_nonce(message)
            if nonce is not None:
                scan.seen[nonce] = str(message["ts"])
        cursor = (response.get("response_metadata") or {}).get("next_cursor")
        scan.cursor = str(cursor) if cursor and response.get("has_more") else None
        scan.complete = scan.cursor is None
        return True


def _post_nonce(message: dict[str, Any]) -> str | None:
    metadata = message.get("metadata")
    if not isinstance(metadata, dict) or metadata.get("event_type") != ALERT_EVENT_TYPE:
        return None
    payload = metadata.get("event_payload")
    nonce = payload.get("post") if isinstance(payload, dict) else None
    return str(nonce) if nonce else None

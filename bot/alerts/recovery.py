"""Posting each message once: an intent saved before the post, and a look for it when in doubt.

Slack has no idempotency key for ``chat.postMessage``. When a post times out, the connection
breaks after the request went out, or the process or Redis dies while it is in flight, the
message may or may not be in the channel. :class:`OncePoster` is how phonebot posts every
message it may have to post again — an alert's own message, a follow-up in its thread, a
digest: it has the caller save an *intent* (a nonce and the time) before the post and sends the
nonce in the message's metadata (:func:`post_metadata`). When an intent is still open,
:class:`PostFinder` reads the channel (``conversations.history``) or the thread
(``conversations.replies``), with ``include_all_metadata``, around the intent's time and returns
the message's ``ts`` if it is there, so the caller adopts it instead of posting again.

Slack's limits shape this (https://api.slack.com/changelog/2025-05-terms-rate-limit-update-and-faq,
https://api.slack.com/apis/rate-limits, https://docs.slack.dev/reference/methods/conversations.replies):
for apps not approved for the Slack Marketplace, ``conversations.history`` and
``conversations.replies`` are each limited to **one request per minute** per workspace and
return **at most 15 messages per page**. So:

* reads are batched per place — a channel's top level, or one thread: one read records every
  phonebot message in its time window there, and answers every open intent in that place whose
  time it covers (``conversations.history`` never shows thread replies, so a follow-up can only
  be looked for in its own thread);
* reads of one method are spaced ``interval`` seconds apart across all places (Slack counts
  each method separately), and a 429 holds that method off for ``Retry-After``; until a read can
  answer it, a lookup raises :class:`LookupPending` (the work stays pending; it is neither posted
  again nor counted as a failed attempt);
* a window is bounded on both sides (``skew`` for clock differences, ``settle`` for Slack still
  working on a request we stopped waiting for), and pages are followed one read at a time.

If the channel can't be read at all (``not_in_channel`` — phonebot posts to public channels it
was never invited to — or a missing ``channels:history``/``groups:history`` scope), the lookup
says "not found" and logs a warning: posting again risks a double, not posting would lose it.
A thread Slack no longer knows (``thread_not_found``: its message was deleted) holds nothing
phonebot posted either.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.alerts.delivery import (
    AUTH_ERRORS,
    DeliveryFailed,
    PostUncertain,
    SlackDelivery,
    TokenSource,
    call_token,
    error_code,
    retry_after,
)
from bot.alerts.ledger import PostIntent

log = logging.getLogger(__name__)

#: Metadata ``event_type`` of an alert's own message (``event_payload``: ``subject``, ``post``).
ALERT_EVENT_TYPE = "phonebot_alert"
#: ... of a follow-up in an alert's thread (``subject``, ``follow_up``: its number in the thread, ``post``).
FOLLOW_UP_EVENT_TYPE = "phonebot_alert_follow_up"
#: ... of a digest message (``digest``: the digest id, ``post``).
DIGEST_EVENT_TYPE = "phonebot_digest"
_EVENT_TYPES = frozenset({ALERT_EVENT_TYPE, FOLLOW_UP_EVENT_TYPE, DIGEST_EVENT_TYPE})
#: Messages per ``conversations.history`` page: Slack's cap for apps outside the Marketplace.
PAGE_LIMIT = 15
#: A channel phonebot may not read is not tried again for this long (each try costs a history request).
UNREADABLE_RETRY_SECONDS = 600.0


def new_nonce() -> str:
    """A fresh id for one post attempt, sent in the message's metadata."""
    return uuid.uuid4().hex[:16]


def post_metadata(event_type: str, payload: dict[str, Any], nonce: str) -> dict[str, Any]:
    """The ``metadata`` phonebot sends with a message: what it is (``payload``) and which post (``nonce``)."""
    return {"event_type": event_type, "event_payload": {**payload, "post": nonce}}


class LookupPending(DeliveryFailed):
    """Whether an earlier post landed can't be told yet; ask again in ``retry_in`` seconds."""

    def __init__(self, reason: str, *, retry_in: float) -> None:
        super().__init__(reason, permanent=False)
        self.retry_in = max(0.05, retry_in)


#: Where a post is looked for: a channel's top level (thread ``None``) or one thread in it.
Place = tuple[str, str | None]
_HISTORY = "conversations.history"
_REPLIES = "conversations.replies"


@dataclass
class _Scan:
    """One place's read of the window ``[oldest, latest]`` (Slack ts), page by page."""

    oldest: float
    latest: float
    started: float
    cursor: str | None = None
    complete: bool = False
    seen: dict[str, str] = field(default_factory=dict)  # post nonce -> ts

    def covers(self, since: float, *, skew: float, settle: float) -> bool:
        return self.oldest <= since - skew and since + settle + skew <= self.latest and since + settle <= self.started


class PostFinder:
    """Looks up posts with an open intent, batched per channel or thread and within Slack's read limits.

    Args:
        client: The bot's Slack client.
        interval: Least seconds between two reads with one method (``conversations.history``,
            ``conversations.replies``), across all channels and threads.
        settle: Seconds after an intent before a read counts as conclusive for it (Slack may
            still be handling a request we stopped waiting for); twice the client timeout suits.
        skew: Seconds of clock difference between phonebot and Slack allowed for.
        clock: Wall clock in seconds (Slack's ``ts`` are wall-clock seconds).
        tokens: Where each read's token comes from ("Add to Slack"); ``None``: the client's own.
    """

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        interval: float = 60.0,
        settle: float = 20.0,
        skew: float = 30.0,
        clock: Callable[[], float] = time.time,
        tokens: TokenSource | None = None,
    ) -> None:
        self.client = client
        self.tokens = tokens
        self.interval = interval
        self.settle = settle
        self.skew = skew
        self.clock = clock
        self._wanted: dict[Place, dict[str, float]] = {}  # place -> nonce -> intent time
        self._scans: dict[Place, _Scan] = {}
        self._unreadable: dict[str, float] = {}  # channel -> when to try reading it again
        self._next_read_at: dict[str, float] = {}  # method -> when it may be called again
        self._reading = asyncio.Lock()

    def now(self) -> float:
        """The time to stamp an intent with."""
        return self.clock()

    async def find(self, channel: str, nonce: str, since: float, *, thread_ts: str | None = None) -> str | None:
        """The ``ts`` of the message posted with ``nonce`` at about ``since``; ``None`` if it isn't there.

        With ``thread_ts`` the message is a reply in that thread, and the thread is read.

        Raises:
            LookupPending: no read can answer yet (too soon after the intent, rate limit, more pages).
        """
        if self._unreadable.get(channel, 0.0) > self.clock():
            return None
        place: Place = (channel, thread_ts)
        self._wanted.setdefault(place, {})[nonce] = since
        async with self._reading:
            answer = self._answer(place, nonce, since)
            if answer is not None:
                return self._done(place, nonce, answer[0])
            now = self.clock()
            ready_at = max(since + self.settle, self._next_read_at.get(_method(place), 0.0))
            if now < ready_at:
                raise LookupPending("waiting to look for an unconfirmed post", retry_in=ready_at - now)
            if not await self._read_page(place):
                return self._done(place, nonce, None)  # the channel can't be read: posting again is all we can do
            answer = self._answer(place, nonce, since)
            if answer is not None:
                return self._done(place, nonce, answer[0])
            retry_in = self._next_read_at.get(_method(place), 0.0) - self.clock()
            raise LookupPending("more history to read", retry_in=max(0.0, retry_in))

    def _done(self, place: Place, nonce: str, ts: str | None) -> str | None:
        wanted = self._wanted.get(place, {})
        wanted.pop(nonce, None)
        if not wanted and place[1] is not None:  # threads are many: keep nothing for one no longer asked about
            self._wanted.pop(place, None)
            self._scans.pop(place, None)
        where = place[0] if place[1] is None else f"{place[0]} thread {place[1]}"
        log.info("unconfirmed post %s in %s: %s", nonce, where, f"found ({ts})" if ts else "not posted")
        return ts

    def _answer(self, place: Place, nonce: str, since: float) -> tuple[str | None] | None:
        scan = self._scans.get(place)
        if scan is None:
            return None
        if nonce in scan.seen:
            return (scan.seen[nonce],)  # found is conclusive, even mid-scan
        if scan.complete and scan.covers(since, skew=self.skew, settle=self.settle):
            return (None,)
        return None

    async def _read_page(self, place: Place) -> bool:
        """Read the next page for ``place`` (starting a new scan if needed); ``False`` if it can't be read."""
        channel, thread_ts = place
        method = _method(place)
        token = await call_token(self.tokens)  # no workspace: DeliveryFailed, before any read is spent
        scan = self._scans.get(place)
        now = self.clock()
        if scan is None or scan.complete:
            wanted = self._wanted.get(place, {})
            times = list(wanted.values())
            scan = _Scan(
                oldest=min(times) - self.skew,
                latest=max(times) + self.settle + self.skew,  # may lie ahead: Slack's clock may too
                started=now,
                seen={n: ts for n, ts in scan.seen.items() if n in wanted} if scan is not None else {},
            )
            self._scans[place] = scan
        self._next_read_at[method] = now + self.interval
        window: dict[str, Any] = {
            "channel": channel,
            "oldest": f"{scan.oldest:.6f}",
            "latest": f"{scan.latest:.6f}",
            "inclusive": True,
            "limit": PAGE_LIMIT,
            "include_all_metadata": True,
            "cursor": scan.cursor,
            "token": token,
        }
        try:
            if thread_ts is None:
                response = await self.client.conversations_history(**window)
            else:
                response = await self.client.conversations_replies(ts=thread_ts, **window)
        except SlackApiError as exc:
            error = error_code(exc.response)
            if exc.response.status_code == 429 or error == "ratelimited":
                self._next_read_at[method] = self.clock() + retry_after(exc.response.headers)
                return True
            if exc.response.status_code >= 500:
                return True
            if self.tokens is not None and error in AUTH_ERRORS:  # the installation is changing: read later
                self.tokens.refused()
                return True
            if error == "thread_not_found":  # its message is gone, and nothing posted in it can be seen
                scan.complete, scan.started = True, math.inf
                return True
            log.warning(
                "can't read %s to check for an unconfirmed post (%s); posting it again, which may double it. "
                "Invite phonebot to the channel and grant channels:history/groups:history",
                channel,
                error,
            )
            self._scans.pop(place, None)
            self._unreadable[channel] = self.clock() + UNREADABLE_RETRY_SECONDS
            return False
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            log.warning("reading %s %s failed (%s); trying again later", channel, method, type(exc).__name__)
            return True
        for message in response.get("messages") or []:
            nonce = _post_nonce(message)
            if nonce is not None:
                scan.seen[nonce] = str(message["ts"])
        cursor = (response.get("response_metadata") or {}).get("next_cursor")
        scan.cursor = str(cursor) if cursor and response.get("has_more") else None
        scan.complete = scan.cursor is None
        return True


def _method(place: Place) -> str:
    return _HISTORY if place[1] is None else _REPLIES


def _post_nonce(message: dict[str, Any]) -> str | None:
    metadata = message.get("metadata")
    if not isinstance(metadata, dict) or metadata.get("event_type") not in _EVENT_TYPES:
        return None
    payload = metadata.get("event_payload")
    nonce = payload.get("post") if isinstance(payload, dict) else None
    return str(nonce) if nonce else None


#: Saves an intent with what it belongs to (``None``: clears it), before the post it announces.
Remember = Callable[[PostIntent | None], Awaitable[None]]


class OncePoster:
    """Posts a message so that it can't be doubled: an intent is saved first, and looked for when in doubt.

    Every caller keeps its intent with the thing the message stands for (a subject's channel, a
    follow-up, a digest), so the intent survives as long as the need to post does.
    """

    def __init__(self, delivery: SlackDelivery, finder: PostFinder) -> None:
        self.delivery = delivery
        self.finder = finder

    async def post(
        self,
        channel: str,
        remember: Remember,
        *,
        event_type: str,
        payload: dict[str, Any],
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
    ) -> str:
        """Post once, with ``payload`` and a fresh post nonce in the metadata; returns the ``ts``.

        ``remember`` saves the intent before the post and clears it when Slack refused; once
        the post succeeded the caller clears it along with saving the ``ts`` (one write).

        Raises:
            PostUncertain: no answer came back; the intent stays, so :meth:`adopt` is asked first next time.
            DeliveryFailed: Slack refused, or could not be reached (the intent is cleared).
        """
        intent = PostIntent(nonce=new_nonce(), since=self.finder.now())
        await remember(intent)
        try:
            return await self.delivery.post(
                channel,
                text=text,
                blocks=blocks,
                thread_ts=thread_ts,
                metadata=post_metadata(event_type, payload, intent.nonce),
            )
        except PostUncertain:
            raise
        except DeliveryFailed:
            await remember(None)  # Slack answered no (or was never reached): nothing to look for
            raise

    async def adopt(self, channel: str, intent: PostIntent, *, thread_ts: str | None = None) -> str | None:
        """The ``ts`` of the post ``intent`` announced if Slack shows it; ``None`` if it never landed.

        Raises:
            LookupPending: can't be told yet; nothing may be posted in its place until it can.
        """
        return await self.finder.find(channel, intent.nonce, intent.since, thread_ts=thread_ts)

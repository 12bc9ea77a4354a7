"""Writing alert messages to Slack without losing any and without breaking Slack's limits.

* Every write waits its turn in the channel (:class:`~bot.alerts.pacing.ChannelPacer`).
* 429: the channel holds off for ``Retry-After`` and the write is tried again; that is
  not counted as a failure (Slack asked us to wait, not to give up).
* 5xx, timeouts and connection errors: retried with exponential backoff, then reported
  as a transient :class:`DeliveryFailed` so the queue entry stays pending and is retried
  later (and dead-lettered after too many attempts).
* A post whose request may have reached Slack without an answer coming back (a timeout, a
  connection lost after sending) is never retried here: Slack may have posted it, and a retry
  would post it twice. It raises :class:`PostUncertain`, and the worker looks for the message
  (:mod:`bot.alerts.recovery`) before it posts again. Edits are idempotent and retried as above.
* Other Slack errors (``channel_not_found``, ``not_in_channel``, ``invalid_blocks``…) cannot be
  cured by retrying: a permanent :class:`DeliveryFailed`, dead-lettered at once.

Which token a call carries: the client's own (``SLACK_BOT_TOKEN``), or with a :class:`TokenSource`
("Add to Slack", :mod:`bot.alerts.slack_token`) the one it answers at that call, passed as the
call's ``token``. A token from a source that Slack refuses (``invalid_auth``, ``token_revoked``…) is
a transient failure, not a permanent one: the installation is being replaced or forgotten, and the
source is asked again.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.alerts.pacing import ChannelPacer
from bot.metrics import SLACK_RATE_LIMITED

log = logging.getLogger(__name__)

#: Slack error codes worth retrying (the platform's own hiccups).
TRANSIENT_ERRORS = frozenset({"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"})
#: Slack refusing the token itself (not what was asked with it).
AUTH_ERRORS = frozenset({"not_authed", "invalid_auth", "account_inactive", "token_revoked", "token_expired"})


class DeliveryFailed(Exception):
    """A Slack write did not succeed; ``permanent`` when retrying cannot help."""

    def __init__(self, reason: str, *, permanent: bool, error: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.error = error  # Slack's error code, when it gave one


class PostUncertain(DeliveryFailed):
    """A post may or may not have landed: look for it before posting again."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, permanent=False)


class TokenSource(Protocol):
    """Gives the alert pipeline's Slack calls their bot token, one call at a time."""

    async def token(self) -> str:
        """The token for the next call; raises a transient :class:`DeliveryFailed` when there is none."""
        ...

    def refused(self) -> None:
        """Slack refused the token last given: look it up afresh next time."""
        ...


async def call_token(tokens: TokenSource | None) -> str | None:
    """A Web API call's ``token``: the source's, or ``None`` for the client's own (slack_sdk drops a ``None``)."""
    return None if tokens is None else await tokens.token()


class SlackDelivery:
    """``chat.postMessage`` / ``chat.update`` with pacing, Retry-After and backoff."""

    def __init__(
        self,
        client: AsyncWebClient,
        pacer: ChannelPacer,
        *,
        retries: int = 3,
        backoff_seconds: float = 0.5,
        max_rate_limit_wait: float = 300.0,
        tokens: TokenSource | None = None,
    ) -> None:
        self.client = client
        #: Where each call's token comes from; ``None``: the client's own.
        self.tokens = tokens
        self.pacer = pacer
        self.retries = retries
        self.backoff_seconds = backoff_seconds
        self.max_rate_limit_wait = max_rate_limit_wait
        #: ``time.monotonic()`` of the last write Slack accepted (0 before the first).
        self.last_success = 0.0

    async def post(
        self,
        channel: str,
        *,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> str:
        """Post a message (or a thread reply); returns its ``ts``.

        Raises:
            PostUncertain: the request may have reached Slack but no answer came back.
            DeliveryFailed: Slack refused, or could not be reached.
        """
        response = await self._write(
            channel,
            lambda token: self.client.chat_postMessage(
                channel=channel,
                text=text,
                blocks=blocks,
                thread_ts=thread_ts,
                metadata=metadata,
                unfurl_links=False,
                token=token,
            ),
            idempotent=False,
        )
        return str(response["ts"])

    async def update(self, channel: str, ts: str, *, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        """Edit a message in place."""
        await self._write(
            channel,
            lambda token: self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks, token=token),
            idempotent=True,
        )

    async def _write(
        self, channel: str, call: Callable[[str | None], Awaitable[AsyncSlackResponse]], *, idempotent: bool
    ) -> AsyncSlackResponse:
        failures = 0
        waited_for_limits = 0.0
        while True:
            token = await call_token(self.tokens)  # asked at every attempt: a reinstall's token counts at once
            await self.pacer.wait_turn(channel)
            try:
                response = await call(token)
                self.last_success = time.monotonic()
                return response
            except SlackApiError as exc:
                status = exc.response.status_code
                error = error_code(exc.response)
                if status == 429 or error == "ratelimited":
                    wait = retry_after(exc.response.headers)
                    SLACK_RATE_LIMITED.inc()
                    waited_for_limits += wait
                    if waited_for_limits > self.max_rate_limit_wait:
                        raise DeliveryFailed(
                            f"Slack kept rate limiting for {waited_for_limits:.0f} s", permanent=False, error=error
                        ) from None
                    log.info("Slack rate limited %s; holding off %.1f s", channel, wait)
                    await self.pacer.hold_off(channel, wait)
                    continue
                if self.tokens is not None and error in AUTH_ERRORS:
                    self.tokens.refused()
                    raise DeliveryFailed(
                        f"Slack refused the installation's token: {error}", permanent=False, error=error
                    ) from None
                if status < 500 and error not in TRANSIENT_ERRORS:
                    raise DeliveryFailed(f"Slack refused: {error or status}", permanent=True, error=error) from None
                reason = f"Slack answered {status} {error or ''}".strip()
            except aiohttp.ClientConnectorError as exc:  # no connection, so nothing was sent
                reason = f"Slack unreachable: {type(exc).__name__}"
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                reason = f"Slack unreachable: {type(exc).__name__}"
                if not idempotent:
                    log.warning("%s; the post may have landed, so it is looked for before posting again", reason)
                    raise PostUncertain(reason) from None
            failures += 1
            if failures > self.retries:
                raise DeliveryFailed(reason, permanent=False)
            delay = self.backoff_seconds * 2 ** (failures - 1) * random.uniform(0.8, 1.2)
            log.warning("%s; retrying in %.1f s", reason, delay)
            await asyncio.sleep(delay)


def error_code(response: AsyncSlackResponse) -> str | None:
    """Slack's ``error`` code from a failed call's answer, if it gave one."""
    data = response.data if isinstance(response.data, dict) else {}
    error = data.get("error")
    return str(error) if error else None


def retry_after(headers: Any) -> float:
    """Seconds from a ``Retry-After`` header (1 s when missing or unreadable)."""
    for name, value in dict(headers or {}).items():
        if str(name).lower() == "retry-after":
            try:
                return max(0.0, float(value))
            except (TypeError, ValueError):
                break
    return 1.0

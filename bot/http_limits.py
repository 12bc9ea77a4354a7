"""Bounds on what one HTTP request may cost phonebot before anything about it is trusted.

:class:`BoundedBodies` is ASGI middleware around the whole app. It refuses a declared
``Content-Length`` over the cap at once and counts the bytes of a streamed body while it is
being read, so no request body larger than the cap is ever held in memory, whoever sent it;
a body that stops arriving for ``body_timeout_seconds`` is answered 408. Both answers close the
connection, so the client cannot keep streaming into a discarded body. A client that hangs up
mid-body is one DEBUG line, not a traceback.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.config import Settings
from bot.metrics import HTTP_REFUSED

log = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 1024 * 1024  # Slack's payloads and every vendor webhook are far smaller


@dataclass(frozen=True)
class HttpLimits:
    """The HTTP server's bounds (``PHONEBOT_HTTP_*`` settings)."""

    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    header_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 30.0
    #: Open connections at most; ``None`` derives it from the process's file-descriptor limit.
    max_connections: int | None = None


def limits_from(settings: Settings) -> HttpLimits:
    """The limits the ``PHONEBOT_HTTP_*`` environment settings ask for."""
    return HttpLimits(
        max_body_bytes=settings.phonebot_http_max_body_bytes,
        header_timeout_seconds=settings.phonebot_http_header_timeout_seconds,
        body_timeout_seconds=settings.phonebot_http_body_timeout_seconds,
        max_connections=settings.phonebot_http_max_connections,
    )


class _BodyTooLarge(Exception):
    pass


class _BodyTimedOut(Exception):
    pass


class BoundedBodies:
    """Caps request bodies while they are read and times out stalled ones (see module docs)."""

    def __init__(self, app: ASGIApp, *, limits: HttpLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is None:
            await self._refuse(send, 400, "malformed Content-Length")
            return
        if declared > self.limits.max_body_bytes:
            await self._refuse(send, 413, "request body too large")
            return
        received = 0
        body_done = False
        started = False

        async def bounded_receive() -> Message:
            nonlocal received, body_done
            if body_done:
                return await receive()  # after the body: only the disconnect is left to wait for
            try:
                message = await asyncio.wait_for(receive(), self.limits.body_timeout_seconds)
            except TimeoutError:
                raise _BodyTimedOut from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limits.max_body_bytes:
                    raise _BodyTooLarge
                body_done = not message.get("more_body", False)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, bounded_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await self._refuse(send, 413, "request body too large")
        except _BodyTimedOut:
            if not started:
                await self._refuse(send, 408, "request body not received in time")
        except ClientDisconnect:
            log.debug("client went away before its request body was read")

    async def _refuse(self, send: Send, status: int, error: str) -> None:
        HTTP_REFUSED.labels(str(status)).inc()
        body = json.dumps({"ok": False, "error": error}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),  # never read the rest of a refused body
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    """The declared body length (0 when absent, as with chunked bodies); ``None`` when malformed."""
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() and len(text) <= 18 else None
    return 0

"""The HTTP side of vendor webhooks: authenticate → validate → deduplicate → queue, then answer fast.

Order matters: nothing is parsed before the request is authenticated (vendor signature,
else the secret URL token), and nothing is queued unless the whole body validated, so a
forged or malformed webhook gets a 4xx and leaves no trace. The vendor's 2xx is sent as
soon as the events are durable in the queue; Slack delivery happens later in the worker.
"""

from __future__ import annotations

import logging

from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from adapters.base import VendorAdapter
from adapters.errors import NotSupported, VendorRejected, WebhookAuthError
from adapters.events import AlertEvent
from bot.alerts.queue import DEDUPE_TTL_SECONDS, AlertQueue
from bot.metrics import ALERT_EVENTS, WEBHOOKS
from bot.webhook_auth import UrlTokens
from bot.webhooks import WebhookRouter

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000
BINDING_TTL_SECONDS = 400 * 24 * 3600  # a label URL stays its campaign's for longer than any campaign runs


class VendorWebhookReceiver:
    """Receives one vendor's webhooks."""

    def __init__(self, adapter: VendorAdapter, queue: AlertQueue, tokens: UrlTokens) -> None:
        self.adapter = adapter
        self.queue = queue
        self.tokens = tokens

    async def __call__(self, request: Request, rest: str) -> Response:
        vendor = self.adapter.name
        if request.method == "GET":  # some vendors probe the URL before using it
            return JSONResponse({"ok": True})
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return self._refuse(413, "body too large")
        headers = {name.lower(): value for name, value in request.headers.items()}
        try:
            path, resource = self._authenticate(body, headers, rest)
        except WebhookAuthError as exc:
            log.warning("%s webhook refused: %s", vendor, exc)
            return self._refuse(401, "not authenticated")
        delivery_id = self.adapter.webhook_delivery_id(headers)
        seen_key = f"{self.queue.keys.prefix}:delivery:{vendor}:{delivery_id}" if delivery_id else None
        try:
            if seen_key and await self.queue.redis.exists(seen_key):
                WEBHOOKS.labels(vendor, "duplicate").inc()
                return JSONResponse({"ok": True, "duplicate": True})
            try:
                events = self.adapter.parse_webhook(body, headers, path=path, resource=resource)
            except NotSupported:
                return self._refuse(404, f"{self.adapter.display_name} webhooks are not supported")
            except VendorRejected as exc:
                return self._refuse(400, exc.message)
            if not await self._bound(resource, events):
                log.warning("%s webhook refused: its URL belongs to another campaign", vendor)
                return self._refuse(400, "this URL was issued for another campaign")
            queued = 0
            for event in events:
                fresh = await self.queue.submit(event)
                queued += fresh
                ALERT_EVENTS.labels(vendor, "queued" if fresh else "duplicate").inc()
            if seen_key:
                await self.queue.redis.set(seen_key, "1", ex=DEDUPE_TTL_SECONDS)
        except RedisError as exc:  # not durable → make the vendor retry later
            log.error("%s webhook not queued, store unavailable: %s", vendor, type(exc).__name__)
            return self._refuse(503, "temporarily unavailable")
        WEBHOOKS.labels(vendor, "accepted").inc()
        return JSONResponse({"ok": True, "events": len(events), "queued": queued})

    async def _bound(self, resource: str | None, events: list[AlertEvent]) -> bool:
        """Bind a label URL to what its first body is about (see ``webhook_binding``); ``False`` on a mismatch."""
        binding = self.adapter.webhook_binding(resource, events)
        if binding is None:
            return True
        key = f"{self.queue.keys.prefix}:binding:{self.adapter.name}:{resource}"
        if await self.queue.redis.set(key, binding, nx=True, ex=BINDING_TTL_SECONDS):
            return True
        return bool(await self.queue.redis.get(key) == binding)

    def _authenticate(self, body: bytes, headers: dict[str, str], rest: str) -> tuple[str, str | None]:
        """(path after the token, resource) once the request proved who sent it."""
        if self.adapter.webhook_auth == "signature":
            self.adapter.verify_webhook(body, headers)
            return rest, None
        token, _, path = rest.partition("/")
        return path, self.tokens.resource_for(self.adapter.name, token)

    def _refuse(self, status: int, error: str) -> Response:
        WEBHOOKS.labels(self.adapter.name, str(status)).inc()
        return JSONResponse({"ok": False, "error": error}, status_code=status)


def mount_receivers(
    router: WebhookRouter, adapters: dict[str, VendorAdapter], queue: AlertQueue, tokens: UrlTokens
) -> None:
    """Register a receiver for every configured vendor (those without webhooks answer 404)."""
    for name, adapter in adapters.items():
        router.register(name, VendorWebhookReceiver(adapter, queue, tokens))

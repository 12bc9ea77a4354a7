"""The one ASGI app ``phonebot serve`` runs.

Routes: ``POST /slack/events`` (commands, interactivity, events — verified by Bolt),
``POST /webhooks/{vendor}/...``, ``GET /voicemails/{vendor}/{token}`` (Listen links),
``GET /healthz`` (process alive), ``GET /readyz``
(store and Slack auth reachable, at least one vendor configured; the embedded store is reported as
``embedded (not durable)``), ``GET /metrics`` (Prometheus).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.http_limits import BoundedBodies, limits_from
from bot.runtime import Runtime
from bot.webhooks import WebhookRouter

log = logging.getLogger(__name__)

READY_CACHE_SECONDS = 30.0


class ReadinessProbe:
    """Checks the store and Slack ``auth.test``; Slack's answer is cached briefly."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._slack_ok_until = 0.0

    async def check(self, request: Request) -> Response:
        checks: dict[str, str] = {}
        store_ok = await self.runtime.store.ping()
        checks["store"] = store_check(self.runtime, reachable=store_ok)
        slack_ok = await self._slack_ok()
        checks["slack"] = "ok" if slack_ok else "auth.test failed"
        vendors_ok, checks["vendors"] = vendors_check(self.runtime)
        ready = store_ok and slack_ok and vendors_ok
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    async def _slack_ok(self) -> bool:
        if time.monotonic() < self._slack_ok_until:
            return True
        try:
            await self.runtime.slack.auth_test()
        except (SlackApiError, OSError, TimeoutError):
            return False
        except Exception:  # aiohttp client errors and the like: not ready, never a 500
            return False
        self._slack_ok_until = time.monotonic() + READY_CACHE_SECONDS
        return True


class SlackEndpoint:
    """``POST /slack/events``: the signature is checked before anything parses the body.

    Bolt parses a request before verifying it, so an unsigned body of invalid JSON (or a
    non-ASCII signature, or a junk timestamp) would reach its parser and end in a 500 with a
    traceback. Here every such request is a 401 without a log line above INFO, and a signed
    body Bolt still cannot read is a 400.
    """

    def __init__(self, runtime: Runtime) -> None:
        secret = runtime.settings.slack_signing_secret
        self._verifier = SignatureVerifier(secret.get_secret_value()) if secret else None
        self._bolt = AsyncSlackRequestHandler(runtime.app)

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        if not self._signed(body, request):
            log.info("refused a Slack request without a valid signature")
            return JSONResponse({"ok": False, "error": "invalid signature"}, status_code=401)
        try:
            return await self._bolt.handle(request)
        except ValueError:  # JSON or form Bolt cannot read, signed though it is
            log.warning("a signed Slack request could not be parsed")
            return JSONResponse({"ok": False, "error": "unreadable request"}, status_code=400)

    def _signed(self, body: bytes, request: Request) -> bool:
        if self._verifier is None:
            return False
        try:
            return self._verifier.is_valid(
                body=body,
                timestamp=request.headers.get("x-slack-request-timestamp"),
                signature=request.headers.get("x-slack-signature"),
            )
        except (ValueError, TypeError):  # junk timestamp, non-UTF-8 body, non-ASCII signature
            return False


def store_check(runtime: Runtime, *, reachable: bool) -> str:
    """``ok``; ``embedded (not durable)`` on the embedded store, which is still ready (the operator chose it
    with ``--embedded-store``, and ``serve`` warned that alerts are lost on restart); else ``unreachable``."""
    if not reachable:
        return "unreachable"
    return "ok" if runtime.store.durable else "embedded (not durable)"


def vendors_check(runtime: Runtime) -> tuple[bool, str]:
    """Ready only with at least one vendor: without one every command and alert would fail."""
    if not runtime.adapters:
        return False, "none configured (add a vendors: section to the config)"
    return True, "ok"


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def metrics(request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def build_asgi_app(runtime: Runtime, *, webhooks: WebhookRouter | None = None, slack_http: bool = True) -> Starlette:
    """The Starlette app; ``slack_http=False`` leaves out ``/slack/events`` (Socket Mode)."""
    webhooks = webhooks or WebhookRouter()
    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", ReadinessProbe(runtime).check, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/webhooks/{vendor}", webhooks.dispatch, methods=["POST", "GET"]),
        Route("/webhooks/{vendor}/{rest:path}", webhooks.dispatch, methods=["POST", "GET"]),
        Route("/voicemails/{vendor}/{token}", runtime.alerts.serve_voicemail, methods=["GET"]),
    ]
    if slack_http:
        routes.append(Route("/slack/events", SlackEndpoint(runtime).handle, methods=["POST"]))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await runtime.alerts.start(webhooks)
        yield
        await runtime.aclose()

    limits = Middleware(BoundedBodies, limits=limits_from(runtime.settings))
    return Starlette(routes=routes, lifespan=lifespan, middleware=[limits])

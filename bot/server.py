"""The one ASGI app ``phonebot serve`` runs.

Routes: ``POST /slack/events`` (commands, interactivity, events — verified by Bolt),
``POST /webhooks/{vendor}/...``, ``GET /voicemails/{vendor}/{token}`` (Listen links),
``GET /healthz`` (process alive), ``GET /readyz``
(store and Slack auth reachable, at least one vendor configured; the embedded store is reported as
``embedded (not durable)``), ``GET /metrics`` (Prometheus).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_sdk.errors import SlackApiError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.runtime import Runtime
from bot.webhooks import WebhookRouter

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
        handler = AsyncSlackRequestHandler(runtime.app)

        async def slack_events(request: Request) -> Response:
            return await handler.handle(request)

        routes.append(Route("/slack/events", slack_events, methods=["POST"]))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await runtime.alerts.start(webhooks)
        yield
        await runtime.aclose()

    return Starlette(routes=routes, lifespan=lifespan)

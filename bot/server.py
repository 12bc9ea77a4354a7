"""The one ASGI app ``phonebot serve`` runs.

Routes: ``POST /slack/events`` (commands, interactivity, events — verified by Bolt),
``POST /webhooks/{vendor}/...``, ``GET /voicemails/{vendor}/{token}`` (Listen links),
``GET /healthz`` (process alive), ``GET /readyz``
(store and Slack auth reachable, alert worker running, no alert waiting too long),
``GET /metrics`` (Prometheus).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_sdk.errors import SlackApiError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.runtime import Runtime
from bot.webhooks import WebhookRouter

log = logging.getLogger(__name__)

READY_CACHE_SECONDS = 30.0

#: One readiness check: ``None`` when fine, else what is wrong (shown in the ``/readyz`` body).
ReadinessCheck = Callable[[], Awaitable[str | None]]


class ReadinessProbe:
    """``GET /readyz``: runs every named check in ``checks``; ready (200) only when all pass, else 503.

    Checks: the store answers, Slack ``auth.test`` passes (cached briefly), the alert worker
    runs, and no alert has waited longer than ``alerts.delivery.ready_max_pending_age_seconds``.
    """

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._slack_ok_until = 0.0
        self.checks: list[tuple[str, ReadinessCheck]] = [
            ("store", self._store),
            ("slack", self._slack),
            ("alert_worker", runtime.alerts.worker_problem),
            ("alert_queue", runtime.alerts.queue_problem),
        ]

    async def check(self, request: Request) -> Response:
        checks: dict[str, str] = {}
        for name, probe in self.checks:
            try:
                problem = await probe()
            except Exception as exc:  # a failing check means "not ready", never a 500
                log.warning("readiness check %s failed: %s", name, type(exc).__name__)
                problem = f"check failed ({type(exc).__name__})"
            checks[name] = problem or "ok"
        ready = all(result == "ok" for result in checks.values())
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    async def _store(self) -> str | None:
        return None if await self.runtime.store.ping() else "unreachable"

    async def _slack(self) -> str | None:
        return None if await self._slack_ok() else "auth.test failed"

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

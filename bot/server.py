"""The one ASGI app ``phonebot serve`` runs.

Routes: ``POST /slack/events`` (commands, interactivity, events — verified by Bolt), with "Add to
Slack" also ``GET /slack/install`` and ``GET /slack/oauth_redirect`` (``bot.installs.oauth``),
``POST /webhooks/{vendor}/...``, ``GET /voicemails/{vendor}/{token}`` (Listen links), with "Add to
Slack" also each workspace's own ``POST /w/{workspace}/webhooks/{vendor}/...`` and
``GET /w/{workspace}/voicemails/{vendor}/{token}`` (``bot.alerts.pipelines``),
``GET /healthz`` (process alive), ``GET /readyz``
(store and Slack auth reachable, at least one vendor configured, alert worker running, no alert
waiting too long; the embedded store is reported as ``embedded (not durable)``), ``GET /metrics``
(Prometheus).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

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
from bot.logs import RequestIds
from bot.runtime import Runtime
from bot.webhooks import WebhookRouter

log = logging.getLogger(__name__)

READY_CACHE_SECONDS = 30.0

#: One readiness check: ``None`` when fine, else what is wrong (shown in the ``/readyz`` body).
ReadinessCheck = Callable[[], Awaitable[str | None]]


class ReadinessProbe:
    """``GET /readyz``: runs every named check in ``checks``; ready (200) only when all pass, else 503.

    Checks: the store answers, Slack ``auth.test`` passes (cached briefly; without ``SLACK_BOT_TOKEN``
    in "Add to Slack" mode, the tokenless ``api.test``), the alert worker
    runs, and no alert has waited longer than ``alerts.delivery.ready_max_pending_age_seconds``.

    ``advisories`` are shown in ``checks`` too but never make it 503. With "Add to Slack",
    ``alert_workspace`` says why alerts can't be posted (no workspace installed yet, several and no
    ``SLACK_TEAM_ID``): taking the process out of service for it would make the install page that
    cures it unreachable, and every installed workspace's commands with it. Alerts that wait because
    of it still make ``alert_queue`` fail once they are older than the limit.
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
        if runtime.commands is not None:
            self.checks += [
                ("command_workers", runtime.commands.workers_problem),
                ("command_queue", runtime.commands.backlog_problem),
            ]
        self.advisories: list[tuple[str, ReadinessCheck]] = []
        # Where admins can set a phone system up in the App Home, none yet must not take phonebot out of
        # service: Slack could no longer reach the very App Home that cures it.
        setup_in_slack = runtime.services.settings is not None
        (self.advisories if setup_in_slack else self.checks).insert(0, ("vendors", self._vendors))
        if runtime.alerts.workspace is not None:
            self.advisories.append(("alert_workspace", runtime.alerts.workspace_problem))
        if runtime.presence_poller is not None:
            self.checks.append(("presence_poller", runtime.presence_poller.problem))
        if runtime.services.status_paced is not None:
            self.checks.append(("slack_status_pacer", runtime.services.status_paced.problem))
        if runtime.pipelines is not None:  # a crashed worker is the process's; one workspace's slow queue is not
            self.checks.append(("workspace_alert_workers", runtime.pipelines.worker_problem))
            self.advisories.append(("workspace_alert_queues", runtime.pipelines.queue_problem))
            self.advisories.append(("workspace_alert_capacity", runtime.pipelines.capacity_problem))

    async def check(self, request: Request) -> Response:
        checks = await self._run(self.checks)
        ready = all(result == "ok" for result in checks.values())
        checks.update(await self._run(self.advisories))
        if checks["store"] == "ok" and not self.runtime.store.durable:
            # Ready all the same: the operator chose it (--embedded-store) and serve warned.
            checks["store"] = "embedded (not durable)"
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    @staticmethod
    async def _run(probes: list[tuple[str, ReadinessCheck]]) -> dict[str, str]:
        results: dict[str, str] = {}
        for name, probe in probes:
            try:
                problem = await probe()
            except Exception as exc:  # a failing check means "not ready", never a 500
                log.warning("readiness check %s failed: %s", name, type(exc).__name__)
                problem = f"check failed ({type(exc).__name__})"
            results[name] = problem or "ok"
        return results

    async def _store(self) -> str | None:
        return None if await self.runtime.store.ping() else "unreachable"

    async def _vendors(self) -> str | None:
        # Without a vendor every command and alert would fail.
        if self.runtime.adapters:
            return None
        if self.runtime.services.settings is not None:
            return "none in the config file: a workspace admin sets one up in phonebot's App Home (Set up)"
        return "none configured (add a vendors: section to the config)"

    async def _slack(self) -> str | None:
        if await self._slack_ok():
            return None
        return "auth.test failed" if self.runtime.slack.token else "api.test failed (Slack unreachable)"

    async def _slack_ok(self) -> bool:
        if time.monotonic() < self._slack_ok_until:
            return True
        try:
            if self.runtime.slack.token:
                await self.runtime.slack.auth_test()
            else:  # "Add to Slack" without SLACK_BOT_TOKEN: tokens are per workspace; is Slack reachable at all?
                await self.runtime.slack.api_test()
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
    if runtime.pipelines is not None:  # "Add to Slack": each workspace's vendors call its own URLs
        routes += [
            Route("/w/{workspace}/webhooks/{vendor}", runtime.pipelines.dispatch, methods=["POST", "GET"]),
            Route("/w/{workspace}/webhooks/{vendor}/{rest:path}", runtime.pipelines.dispatch, methods=["POST", "GET"]),
            Route("/w/{workspace}/voicemails/{vendor}/{token}", runtime.pipelines.serve_voicemail, methods=["GET"]),
        ]
    if slack_http:
        routes.append(Route("/slack/events", SlackEndpoint(runtime).handle, methods=["POST"]))
    for link_flow in runtime.installs.link_flows.values():  # browsers coming back from a vendor's consent page
        routes.extend(link_flow.routes())
    if runtime.services.status_flow is not None:  # browsers coming back from Slack's consent for a user token
        routes.extend(runtime.services.status_flow.routes())
    flow = runtime.app.oauth_flow
    if flow is not None:  # "Add to Slack": browsers, not Slack, call these (the state cookie guards them)
        oauth = AsyncSlackRequestHandler(runtime.app)
        routes.append(Route(flow.install_path, oauth.handle, methods=["GET"]))
        routes.append(Route(flow.redirect_uri_path, oauth.handle, methods=["GET"]))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await runtime.alerts.start(webhooks)
        if runtime.pipelines is not None:
            await runtime.pipelines.start()
        if runtime.follower is not None:
            await runtime.follower.start()
        if runtime.commands is not None:
            await runtime.commands.start()
        if runtime.status_restorer is not None:
            await runtime.status_restorer.start()
        if runtime.home is not None:
            await runtime.home.start()
        if runtime.presence_poller is not None:
            await runtime.presence_poller.start()
        if runtime.services.status_paced is not None:
            await runtime.services.status_paced.start()
        yield
        await runtime.aclose()

    limits = Middleware(BoundedBodies, limits=limits_from(runtime.settings))
    return Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(RequestIds), limits])

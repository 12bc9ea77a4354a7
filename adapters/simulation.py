"""Shared parts of the vendor simulators: a loopback server runner and fault injection.

A simulator is a Starlette app speaking one vendor's API. :class:`SimulatorBase`
adds, for every simulator alike:

* ``POST /_sim/faults`` — inject latency or an error status (401, 429 + Retry-After, 500)
  for the next N requests or until cleared; ``DELETE /_sim/faults`` clears it;
* ``GET /_sim/requests`` — the requests received so far (method, path, query, headers, JSON
  body), so end-to-end and contract tests can assert what an adapter really sent.

:class:`LoopbackServer` runs any ASGI app with uvicorn on ``127.0.0.1`` and a free port
in a background thread; tests, the fake Slack and ``phonebot console --simulate`` use it.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp


@dataclass
class Faults:
    """What a simulator should do wrong. ``count=None`` means until cleared."""

    latency: float = 0.0
    status: int | None = None
    retry_after: float | None = None
    count: int | None = None
    path_prefix: str = ""

    def applies_to(self, path: str) -> bool:
        return path.startswith(self.path_prefix)


@dataclass
class RecordedRequest:
    """One request a simulator received."""

    method: str
    path: str
    raw_path: str
    query: dict[str, list[str]]
    body: Any
    authorization: str | None
    #: Every request header, names lower-cased (a repeated header keeps its last value).
    headers: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "raw_path": self.raw_path,
            "query": self.query,
            "body": self.body,
            "authorization": self.authorization,
            "headers": dict(self.headers),
        }


@dataclass
class SimulatorBase:
    """Fault injection and request recording around a vendor's routes."""

    faults: Faults = field(default_factory=Faults)
    requests: list[RecordedRequest] = field(default_factory=list)

    def routes(self) -> list[BaseRoute]:
        """The vendor's own routes; subclasses override."""
        raise NotImplementedError

    def build_app(self) -> Starlette:
        control = [
            Route("/_sim/faults", self._set_faults, methods=["POST"]),
            Route("/_sim/faults", self._clear_faults, methods=["DELETE"]),
            Route("/_sim/requests", self._list_requests, methods=["GET"]),
        ]
        app = Starlette(routes=control + self.routes())
        app.add_middleware(_FaultMiddleware, simulator=self)
        return app

    def set_faults(self, **kwargs: Any) -> None:
        self.faults = Faults(**kwargs)

    def clear_faults(self) -> None:
        self.faults = Faults()

    async def _set_faults(self, request: Request) -> Response:
        body = await request.json()
        self.set_faults(**body)
        return JSONResponse({"ok": True})

    async def _clear_faults(self, request: Request) -> Response:
        self.clear_faults()
        return JSONResponse({"ok": True})

    async def _list_requests(self, request: Request) -> Response:
        return JSONResponse([r.as_dict() for r in self.requests])


class _FaultMiddleware:
    """Records each vendor request and applies the simulator's current faults."""

    def __init__(self, app: ASGIApp, simulator: SimulatorBase) -> None:
        self.app = app
        self.simulator = simulator

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sim/"):
            await self.app(scope, receive, send)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        request = Request(scope)
        try:
            parsed: Any = json.loads(body) if body else None
        except ValueError:
            parsed = body.decode("utf-8", "replace")
        self.simulator.requests.append(
            RecordedRequest(
                method=scope["method"],
                path=scope["path"],
                raw_path=scope.get("raw_path", scope["path"].encode()).decode("latin-1"),
                query={k: request.query_params.getlist(k) for k in request.query_params},
                body=parsed,
                authorization=request.headers.get("authorization"),
                headers={name.lower(): value for name, value in request.headers.items()},
            )
        )
        faults = self.simulator.faults
        if faults.applies_to(scope["path"]) and (faults.count is None or faults.count > 0):
            if faults.count is not None:
                faults.count -= 1
            if faults.latency:
                await asyncio.sleep(faults.latency)
            if faults.status is not None:
                headers = {}
                if faults.retry_after is not None:
                    headers["Retry-After"] = str(int(faults.retry_after))
                response = JSONResponse(
                    {"status": "failure", "message": f"simulated {faults.status}"},
                    status_code=faults.status,
                    headers=headers,
                )
                await response(scope, receive, send)
                return
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            message: dict[str, Any] = await receive()
            return message

        await self.app(scope, replay, send)


class LoopbackServer:
    """Serve an ASGI app on 127.0.0.1 with a free port from a background thread.

    Usage::

        server = LoopbackServer(app).start()
        httpx.get(server.url + "/healthz")
        server.stop()
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        lifespan: Literal["auto", "on", "off"] = "off",
        keep_alive_seconds: float = 5,
    ) -> None:
        self.app = app
        self.host = host
        # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on such sockets (else ~40 ms per request).
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.port: int = self._sock.getsockname()[1]
        # A request a simulator is told to hang on must not hold up stopping the server for long.
        config = uvicorn.Config(
            app,
            log_level="warning",
            lifespan=lifespan,
            access_log=False,
            timeout_graceful_shutdown=1,
            timeout_keep_alive=int(keep_alive_seconds),
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name=f"loopback:{self.port}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _run(self) -> None:
        self._server.run(sockets=[self._sock])

    def start(self, timeout: float = 10.0) -> LoopbackServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"loopback server on port {self.port} did not start")
            time.sleep(0.01)
        return self

    def request_stop(self) -> None:
        """Ask the server to stop without waiting (stop several at once, then :meth:`stop` each)."""
        self._server.should_exit = True

    def stop(self) -> None:
        self.request_stop()
        self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

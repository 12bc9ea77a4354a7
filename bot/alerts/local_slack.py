"""A stand-in for Slack's Web API on loopback, for the alert pipeline when there is no Slack.

``phonebot console --simulate`` and ``phonebot serve --simulate`` without a Slack token point the
alert pipeline's Slack client here, so everything up to the Slack call is the real pipeline (queue,
worker, pacing, rendering) and only the last hop differs: each ``chat.postMessage`` /
``chat.update`` is handed to ``on_write`` (the console prints it; ``serve`` logs it). It answers
the few methods the pipeline calls the way Slack documents them (``ok``, ``ts``, ``channel``);
anything else gets ``unknown_method``.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.simulation import LoopbackServer

log = logging.getLogger(__name__)

#: Request bodies bigger than this are refused (Slack's own limit for a message is far below it).
MAX_BODY_BYTES = 256 * 1024


@dataclass(frozen=True)
class ChannelWrite:
    """One message the pipeline posted or edited."""

    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    edited: bool = False


class LocalSlack:
    """Serves ``/api/{method}`` on 127.0.0.1; hands every message write to ``on_write``.

    ``on_write`` runs on the server's own thread: it must be quick and thread-safe.
    """

    def __init__(self, on_write: Callable[[ChannelWrite], None]) -> None:
        self.on_write = on_write
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server: LoopbackServer | None = None

    @property
    def api_url(self) -> str:
        """The base URL to give a Slack client (``…/api/``)."""
        assert self._server is not None, "start() first"
        return self._server.url + "/api/"

    def start(self) -> LocalSlack:
        app = Starlette(routes=[Route("/api/{method}", self._api, methods=["GET", "POST"])])
        self._server = LoopbackServer(app).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def _next_ts(self) -> str:
        with self._lock:
            return f"{int(time.time())}.{next(self._ids):06d}"

    async def _api(self, request: Request) -> JSONResponse:
        raw = await request.body()
        if len(raw) > MAX_BODY_BYTES:
            return JSONResponse({"ok": False, "error": "request_too_large"})
        args: dict[str, Any] = dict(request.query_params)
        if raw:
            try:
                parsed = (
                    json.loads(raw) if request.headers.get("content-type", "").startswith("application/json") else None
                )
            except ValueError:
                parsed = None
            args.update(parsed if isinstance(parsed, dict) else dict(parse_qsl(raw.decode("utf-8", "replace"))))
        method = request.path_params["method"]
        if method in ("chat.postMessage", "chat.update"):
            return JSONResponse(self._write(method, args))
        if method in ("conversations.history", "conversations.replies"):
            return JSONResponse({"ok": True, "messages": [], "has_more": False})
        if method == "auth.test":
            return JSONResponse({"ok": True, "team": "phonebot simulation", "user": "phonebot", "team_id": "T0LOCAL"})
        if method == "chat.getPermalink":
            return JSONResponse({"ok": True, "permalink": f"local://{args.get('channel')}/{args.get('message_ts')}"})
        return JSONResponse({"ok": False, "error": "unknown_method"})

    def _write(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        blocks = args.get("blocks") or []
        if isinstance(blocks, str):
            try:
                blocks = json.loads(blocks)
            except ValueError:
                blocks = []
        channel = str(args.get("channel") or "")
        edited = method == "chat.update"
        ts = str(args.get("ts")) if edited else self._next_ts()
        thread = args.get("thread_ts")
        write = ChannelWrite(
            channel=channel,
            ts=ts,
            text=str(args.get("text") or ""),
            blocks=[b for b in blocks if isinstance(b, dict)] if isinstance(blocks, list) else [],
            thread_ts=str(thread) if thread else None,
            edited=edited,
        )
        try:
            self.on_write(write)
        except Exception:  # a broken sink must not look like a Slack failure to the worker
            log.exception("the local alert sink failed on a message for %s", channel)
        return {"ok": True, "channel": channel, "ts": ts, "message": {"ts": ts, "text": write.text}}

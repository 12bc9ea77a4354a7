"""Log setup: text for humans by default, one JSON object per line with ``PHONEBOT_LOG_FORMAT=json``.

What a line is about — the workspace (``team``), the ``vendor``, the alert ``subject`` or idempotency ``key``
and the HTTP ``request_id`` — is bound once where it becomes known (:func:`bind`) and carried by
:mod:`contextvars`, so every record logged below that point (in the same task, or in tasks it starts)
carries it without each call site passing it along. Records are redacted before they are formatted
(:func:`adapters.redaction.install_log_redaction`), JSON lines included.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import secrets
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Literal

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.redaction import install_log_redaction, redact

LogFormat = Literal["text", "json"]
#: The fields :func:`bind` knows; anything else is not a context field.
FIELDS = ("team", "vendor", "subject", "key", "request_id")
#: A bound value longer than this is cut (vendor ids and keys are bounded already; this is the backstop).
MAX_FIELD = 160

_context: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("phonebot_log_context", default=None)


@contextlib.contextmanager
def bind(**fields: str | None) -> Iterator[None]:
    """Add ``fields`` (of :data:`FIELDS`; ``None`` values are skipped) to every record logged inside the block."""
    token = _context.set(_with(fields))
    try:
        yield
    finally:
        _context.reset(token)


def bind_here(**fields: str | None) -> None:
    """Add ``fields`` for the rest of the current task (each asyncio task has its own copy of the context).

    For the first line of a coroutine that runs as a task of its own (one request, one alert subject),
    where a ``with`` block would only re-indent the whole body.
    """
    _context.set(_with(fields))


def _with(fields: dict[str, str | None]) -> dict[str, str]:
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"not a log context field: {sorted(unknown)}")
    current = dict(_context.get() or {})
    current.update({name: str(value)[:MAX_FIELD] for name, value in fields.items() if value is not None})
    return current


def bound() -> dict[str, str]:
    """The context fields bound where the caller runs."""
    return dict(_context.get() or {})


def new_request_id() -> str:
    """A short random id for one HTTP request (not derived from anything the caller sent)."""
    return secrets.token_hex(8)


class ContextFilter(logging.Filter):
    """Copies the bound context fields onto each record (as attributes), for any formatter to use."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in bound().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts``, ``level``, ``logger``, ``message``, the context fields, ``exc``."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info and record.exc_info[0] is not None:
            line["exc"] = record.exc_text or redact(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


def setup_logging(level: str, log_format: LogFormat = "text") -> None:
    """Configure the root logger once for this process (stderr), with redaction and the context fields."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(ContextFilter())
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO), handlers=[handler])
    # httpx logs full URLs at INFO; some vendors accept tokens in query strings.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    install_log_redaction()  # tokens, secret URLs and caller numbers are masked in every record


class RequestIds:
    """ASGI middleware: each HTTP request gets a fresh ``request_id`` in its log context and its
    ``X-Request-Id`` response header, so a line in the log can be matched to the request that caused it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_request_id()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", request_id.encode())]}
            await send(message)

        with bind(request_id=request_id):
            await self.app(scope, receive, send_with_id)

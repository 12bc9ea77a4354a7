"""Masking what must never reach a log line or a user: credentials, secret URLs, caller numbers.

Vendors echo things back (one answers a bad request with the request's own ``Authorization``
header in its error body), libraries log URLs at DEBUG, and exceptions carry both. So:

* :data:`SECRETS` collects every credential phonebot is configured with or sends (tokens,
  API keys, signing and webhook secrets) and :func:`redact` masks each of them wherever it
  appears, plus anything shaped like one (``Bearer …``, Slack ``xox?-`` / ``xapp-`` tokens,
  ``token=…`` / ``api_key: …`` pairs);
* secret URLs — Slack ``response_url`` hooks, phonebot's own webhook and Listen tokens — keep
  their host and route but lose the token;
* E.164 numbers keep their country prefix only (``+4571******``).

:func:`install_log_redaction` puts :func:`redact` in front of every log record the process
creates, whichever handler (stderr, JSON, pytest's capture) shows it.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel, SecretStr

MASK = "***"
_MIN_SECRET_LENGTH = 6

_PATTERNS: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}"), lambda m: f"{m.group(1)} {MASK}"),
    # "Token <credential>" (Relatel's scheme), but not prose such as "the token expired".
    (re.compile(r"\b(Token)\s+(?=[A-Za-z._~+/=-]*\d)[A-Za-z0-9._~+/=-]{8,}"), lambda m: f"{m.group(1)} {MASK}"),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]+"), f"xox?-{MASK}"),
    (re.compile(r"\bxapp-[A-Za-z0-9-]+"), f"xapp-{MASK}"),
    # key=value in query strings and forms, "key": "value" in JSON; not prose such as "TOKEN: missing".
    (re.compile(r"(?i)\b((?:access_|api_|auth_)?(?:token|key|secret|password|apikey)=)[^\s\"'&,;]{4,}"), rf"\1{MASK}"),
    (
        re.compile(
            r"(?i)([\"'](?:access_|api_|auth_)?(?:token|key|secret|password|apikey)[\"']\s*:\s*[\"'])[^\"']{4,}"
        ),
        rf"\1{MASK}",
    ),
    (re.compile(r"https://hooks\.slack\.com/[^\s\"'<>]+"), f"https://hooks.slack.com/{MASK}"),
    (re.compile(r"(/(?:webhooks|voicemails)/[a-z0-9_-]+/)[^\s\"'/<>?]+"), lambda m: f"{m.group(1)}{MASK}"),
    (re.compile(r"(\+\d{2,4})\d{4,13}\b"), lambda m: f"{m.group(1)}{'*' * (len(m.group(0)) - len(m.group(1)))}"),
]


class SecretRegistry:
    """The process's known secret values (thread-safe; values shorter than 6 characters are ignored)."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()
        self._pattern: re.Pattern[str] | None = None

    def add(self, *values: str | SecretStr | None) -> None:
        fresh = {v.get_secret_value() if isinstance(v, SecretStr) else v for v in values if v}
        fresh = {v for v in fresh if isinstance(v, str) and len(v) >= _MIN_SECRET_LENGTH} - self._values
        if not fresh:
            return
        with self._lock:
            self._values |= fresh
            longest_first = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in longest_first))

    def add_from(self, model: BaseModel | Iterable[BaseModel]) -> None:
        """Every :class:`SecretStr` field of ``model`` (and of the models and lists it contains)."""
        models = [model] if isinstance(model, BaseModel) else list(model)
        for item in models:
            for name in type(item).model_fields:
                self._walk(getattr(item, name))

    def _walk(self, value: Any) -> None:
        if isinstance(value, SecretStr):
            self.add(value)
        elif isinstance(value, BaseModel):
            self.add_from(value)
        elif isinstance(value, list | tuple):
            for item in value:
                self._walk(item)
        elif isinstance(value, dict):
            for item in value.values():
                self._walk(item)

    def mask(self, text: str) -> str:
        pattern = self._pattern
        return pattern.sub(MASK, text) if pattern is not None else text


SECRETS = SecretRegistry()


def redact(text: str) -> str:
    """``text`` with every known secret, secret-shaped value, secret URL token and caller number masked."""
    text = SECRETS.mask(text)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def excerpt(text: str, limit: int = 200) -> str:
    """A redacted, single-line, bounded excerpt of vendor text, fit for a log line."""
    return redact(" ".join(text.split()))[:limit]


_installed = False


def install_log_redaction() -> None:
    """Redact every log record this process creates from now on (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    previous = logging.getLogRecordFactory()
    formatter = logging.Formatter()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redact(formatter.formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(factory)

"""HTTP plumbing shared by every adapter: one endpoint table, one error mapping, safe retries.

Every vendor path an adapter uses is an :class:`Endpoint` in that adapter's ``ENDPOINTS``
table, tagged with where the path comes from (``seed``, ``public:source`` or
``inferred``), so a wrong inferred path is a one-line fix.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

import httpx

from adapters.errors import (
    NotFound,
    VendorAuthError,
    VendorError,
    VendorRateLimited,
    VendorRejected,
    VendorTimeout,
    VendorUnavailable,
)
from adapters.redaction import SECRETS, excerpt

log = logging.getLogger(__name__)

Method = Literal["GET", "POST", "PUT", "DELETE"]
Source = Literal["seed", "public", "inferred"]

IDEMPOTENT: frozenset[str] = frozenset({"GET", "PUT", "DELETE"})


@dataclass(frozen=True)
class Endpoint:
    """One vendor operation: method, path template (``{name}`` placeholders) and provenance."""

    method: Method
    path: str
    source: Source
    note: str = ""
    # Never retried even when the method is idempotent (e.g. anything that rings a phone).
    retry: bool = True

    def render(self, params: Mapping[str, str]) -> str:
        """Fill the template; every value is percent-encoded (``+`` becomes ``%2B``)."""
        return self.path.format(**{k: quote(str(v), safe="@") for k, v in params.items()})


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff for idempotent calls only."""

    attempts: int = 3
    base_delay: float = 0.2
    max_delay: float = 2.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_delay * 4)
        return float(min(self.max_delay, self.base_delay * 2**attempt) * (0.5 + random.random() / 2))


DEFAULT_TIMEOUT = httpx.Timeout(8.0, connect=3.0)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds form only)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class VendorHttpClient:
    """An ``httpx.AsyncClient`` bound to one vendor: base URL, auth, endpoint table, error mapping.

    Args:
        vendor: vendor name used in errors and logs.
        base_url: the vendor API root (config ``base_url``).
        endpoints: the adapter's endpoint table.
        default_headers: sent on every request (``Accept`` and the like).
        timeout: per-request timeout.
        retry: retry policy for idempotent calls.
        transport: optional httpx transport (tests).
        reasons: phonebot's wording for the vendor's machine-readable error codes (users never
            see the vendor's own error text).
    """

    def __init__(
        self,
        *,
        vendor: str,
        base_url: str,
        endpoints: Mapping[str, Endpoint],
        default_headers: Mapping[str, str] | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        reasons: Mapping[str, str] | None = None,
    ) -> None:
        self.vendor = vendor
        self.reasons = dict(reasons or {})
        self.endpoints = endpoints
        self.retry = retry or RetryPolicy()
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers=dict(default_headers or {}),
            timeout=timeout,
            transport=transport,
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=10),
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def call(
        self,
        name: str,
        *,
        token: str | None,
        path_params: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        json: Any = None,
        auth_header: str = "Authorization",
        auth_scheme: str = "Bearer",
    ) -> Any:
        """Call endpoint ``name`` and return the decoded JSON body (``None`` when empty).

        Raises a :class:`VendorError` subclass on any failure.
        """
        response = await self._send(
            name,
            token=token,
            path_params=path_params,
            params=params,
            json=json,
            auth_header=auth_header,
            auth_scheme=auth_scheme,
        )
        return _decode(response)

    async def fetch(
        self,
        name: str,
        *,
        token: str | None,
        path_params: Mapping[str, str] | None = None,
        auth_header: str = "Authorization",
        auth_scheme: str = "Bearer",
    ) -> tuple[bytes, str]:
        """Call endpoint ``name`` and return the raw body and its content type (audio, files).

        Raises a :class:`VendorError` subclass on any failure.
        """
        response = await self._send(
            name,
            token=token,
            path_params=path_params,
            params=None,
            json=None,
            auth_header=auth_header,
            auth_scheme=auth_scheme,
        )
        return response.content, response.headers.get("content-type", "application/octet-stream")

    async def _send(
        self,
        name: str,
        *,
        token: str | None,
        path_params: Mapping[str, str] | None,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None,
        json: Any,
        auth_header: str,
        auth_scheme: str,
    ) -> httpx.Response:
        """The successful response of endpoint ``name``, retried where that is safe."""
        endpoint = self.endpoints[name]
        url = endpoint.render(path_params or {})
        headers: dict[str, str] = {}
        if token:
            SECRETS.add(token)  # whatever carries it back (an echoing error body, a log line) masks it
            headers[auth_header] = f"{auth_scheme} {token}" if auth_scheme else token
        retryable = endpoint.retry and endpoint.method in IDEMPOTENT
        attempts = self.retry.attempts if retryable else 1
        last_error: VendorError | None = None
        for attempt in range(attempts):
            try:
                response = await self._client.request(endpoint.method, url, params=params, json=json, headers=headers)
            except httpx.TimeoutException as exc:
                sent = _may_have_happened(endpoint, exc, last_error)
                last_error = VendorTimeout(self.vendor, f"{self.vendor} did not answer in time", outcome_unknown=sent)
                last_error.__cause__ = exc
            except httpx.HTTPError as exc:
                sent = _may_have_happened(endpoint, exc, last_error)
                last_error = VendorUnavailable(self.vendor, f"{self.vendor} could not be reached", outcome_unknown=sent)
                last_error.__cause__ = exc
            else:
                if response.is_success:
                    return response
                last_error = self._error_for(response, name)
                if not isinstance(last_error, VendorUnavailable | VendorRateLimited):
                    raise last_error
            log.info(
                "vendor call failed",
                extra={"vendor": self.vendor, "endpoint": name, "attempt": attempt + 1, "error": str(last_error)},
            )
            if attempt + 1 < attempts:
                retry_after = last_error.retry_after if isinstance(last_error, VendorRateLimited) else None
                await asyncio.sleep(self.retry.delay(attempt, retry_after))
        assert last_error is not None
        raise last_error

    def _error_for(self, response: httpx.Response, name: str) -> VendorError:
        status = response.status_code
        detail = _short_detail(response)
        if status in (401, 403):
            return VendorAuthError(
                self.vendor, f"{self.vendor} refused phonebot's credentials ({status})", status_code=status
            )
        if status == 429:
            return VendorRateLimited(
                self.vendor,
                f"{self.vendor} is rate limiting phonebot",
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        if status == 404:
            return NotFound(self.vendor, f"{self.vendor} has no such item ({name})", status_code=status)
        if status >= 500:
            return VendorUnavailable(self.vendor, f"{self.vendor} had an internal error ({status})", status_code=status)
        # The vendor's own words go to the log (redacted), never to the user: an error body may
        # echo the request, credentials included.
        log.info("%s refused %s (%d): %s", self.vendor, name, status, excerpt(detail) or "no reason given")
        worded = self.reasons.get(_vendor_code(response) or "") or _REASONS.get(status, "")
        rejected = VendorRejected(
            self.vendor,
            f"{self.vendor} refused the request ({status}{': ' + worded if worded else ''})",
            status_code=status,
        )
        rejected.vendor_detail = excerpt(detail)
        return rejected


#: Failures that prove the request never left phonebot: the vendor cannot have acted on it.
_NEVER_SENT = (
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ConnectError,
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
    httpx.ProxyError,
)


def _may_have_happened(endpoint: Endpoint, exc: httpx.HTTPError, earlier: VendorError | None) -> bool:
    """Whether a write that failed without an answer may still have been carried out.

    Reads change nothing. A write that timed out or lost its connection after it was sent
    (read/write timeout, dropped connection) may have rung the phone; so may an earlier
    attempt of a retried idempotent write.
    """
    if earlier is not None and earlier.outcome_unknown:
        return True
    return endpoint.method != "GET" and not isinstance(exc, _NEVER_SENT)


def _decode(response: httpx.Response) -> Any:
    if not response.content:
        return None
    if "json" in response.headers.get("content-type", "") or response.content[:1] in (b"{", b"["):
        try:
            return response.json()
        except ValueError:
            return response.text
    return response.text


_REASONS = {
    400: "it did not accept the values phonebot sent",
    409: "it conflicts with the current state",
    422: "it could not process the values phonebot sent",
}
_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")


def _vendor_code(response: httpx.Response) -> str | None:
    """A machine-readable error code in the body (``field[0].code``, ``code``), if it looks like one."""
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    fields = body.get("field")
    candidates = [fields[0].get("code")] if isinstance(fields, list) and fields and isinstance(fields[0], dict) else []
    candidates.append(body.get("code"))
    return next((c for c in candidates if isinstance(c, str) and _CODE.fullmatch(c)), None)


def _short_detail(response: httpx.Response) -> str:
    """The vendor's reason from an error body, unredacted: pass it through :func:`excerpt` before use."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] if response.text else ""
    if isinstance(body, dict):
        for key in ("message", "error", "description", "detail"):
            if isinstance(body.get(key), str):
                return str(body[key])[:200]
        fields = body.get("field")
        if isinstance(fields, list) and fields and isinstance(fields[0], dict):
            return str(fields[0].get("description") or fields[0].get("code") or "")[:200]
    return ""
